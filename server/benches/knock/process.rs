//! The release `knock` binary as a child process: a free port, a temporary SQLite file (or a
//! given database), a known API key; stopped by its PID when the bench ends, also when it
//! fails or panics.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::client::{Result, fail};

/// The API key the server under test is started with.
pub const API_KEY: &str = "bench-api-key-0123456789abcdefghijklmnopqrstuv";

/// A running `knock`.
pub struct Knock {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Its process id.
    pub pid: u32,
    log: PathBuf,
    // Deleted (with the log, and the SQLite database if it is one) after the process is stopped.
    _dir: tempfile::TempDir,
}

/// A port nobody listens on right now (the binary cannot be started on port 0 and asked).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Knock {
    /// Starts `binary` serving `site` on a new SQLite file and waits until `/healthz` answers.
    pub async fn start(binary: &Path, site: &Path) -> Result<Self> {
        Self::start_on(binary, site, None).await
    }

    /// Starts `binary` serving `site` on `database_url` (`DATABASE_URL`), or on a new SQLite
    /// file when `None`, and waits until `/healthz` answers.
    pub async fn start_on(binary: &Path, site: &Path, database_url: Option<&str>) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("knock-bench").tempdir()?;
        let port = free_port()?;
        let log = dir.path().join("server.log");
        let database_url = match database_url {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}", dir.path().join("knock.db").display()),
        };
        let child = Command::new(binary)
            // No stray `.env` from the working directory.
            .current_dir(dir.path())
            .env("KNOCK_API_KEY", API_KEY)
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", site)
            .env("LEPTOS_OUTPUT_NAME", "knock")
            .env("RUST_LOG", "warn")
            .env_remove("KNOCK_PUBLIC_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let pid = child.id();
        let mut knock = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            pid,
            log,
            _dir: dir,
        };
        knock.wait_until_healthy().await?;
        Ok(knock)
    }

    async fn wait_until_healthy(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.check_alive()?;
            let health = client
                .get(format!("{}/healthz", self.base_url))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if health.is_ok_and(|response| response.status() == 200) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return fail(format!(
                    "knock was not healthy within 30 s; {}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An error when the process has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            Some(status) => fail(format!("knock exited ({status}); {}", self.log_tail())),
            None => Ok(()),
        }
    }

    /// The end of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        format!("its log ends with:\n{tail}")
    }

    /// Resident memory of the process now, in KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmRSS in /proc/<pid>/status".into())
    }

    /// The median of five `VmRSS` readings 200 ms apart, in MB (10^6 bytes).
    pub async fn settled_rss_mb(&self) -> Result<f64> {
        let mut readings = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            readings.push(self.rss_kib()? as f64 * 1024.0 / 1e6);
        }
        Ok(crate::stats::median(&mut readings))
    }

    /// SIGTERM by PID, then SIGKILL if it has not exited within 5 s.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Knock {
    fn drop(&mut self) {
        self.stop();
    }
}
