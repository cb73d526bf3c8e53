//! The real `knock` binary as a child process, for the tests that kill it (SIGKILL, SIGTERM)
//! and start it again on the same database.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::API_KEY;

/// A `knock` process; killed (SIGKILL) when dropped, so a failing test never leaves it behind.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>` (a new port at every start).
    pub base_url: String,
}

impl Server {
    /// Starts the binary on a free port with its database in `dir`, and waits until it is healthy.
    pub async fn start(dir: &Path) -> Self {
        Self::start_with(dir, |_| {}).await
    }

    /// Like [`Server::start`], after letting the test adjust the command (its environment, where
    /// its output goes).
    pub async fn start_with(dir: &Path, adjust: impl FnOnce(&mut Command)) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_knock"));
        command
            // No stray `.env` from the working directory.
            .current_dir(dir)
            .env("KNOCK_API_KEY", API_KEY)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("knock.db").display()),
            )
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "knock")
            .env("RUST_LOG", "warn")
            .env_remove("KNOCK_PUBLIC_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        adjust(&mut command);
        let child = command.spawn().expect("start knock");
        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("knock exited before it was healthy: {status}");
            }
            let health = client
                .get(format!("{}/healthz", self.base_url))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if health.is_ok_and(|response| response.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "knock was not healthy within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then waits (up to `limit`) for the process to exit; whether it did, and how.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("send SIGTERM");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    pub fn crash(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already dead after `crash`; then both calls fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
