//! Hardening: secrets stay out of logs and files stay private, browsers' requests from other
//! sites are refused, cookies cannot be tossed in, slow clients and large bodies are cut off,
//! and a stale session cookie never hides a room.

use std::{
    fs::File,
    os::unix::fs::PermissionsExt,
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;

use crate::helpers::{API_KEY, Api, Server, spawn_app};

/// Runs the `knock` binary with `vars` in an empty directory until it exits by itself; its exit
/// status and what it wrote to stderr.
fn run_knock(vars: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_knock"));
    command
        .current_dir(dir.path())
        .env_remove("KNOCK_API_KEY")
        .env_remove("DATABASE_URL")
        .env_remove("KNOCK_PUBLIC_URL")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "knock")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("run knock");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_api_key_under_32_characters_stops_the_server_with_the_reason() {
    let (status, stderr) = run_knock(&[("KNOCK_API_KEY", "short-but-secret")]);
    assert!(!status.success(), "knock must not start: {stderr}");
    assert!(stderr.contains("KNOCK_API_KEY"), "{stderr}");
    assert!(
        stderr.contains("16 characters") && stderr.contains("at least 32"),
        "{stderr}"
    );
    assert!(!stderr.contains("short-but-secret"), "{stderr}");
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_is_reported_without_its_password() {
    let (status, stderr) = run_knock(&[
        ("KNOCK_API_KEY", API_KEY),
        (
            "DATABASE_URL",
            "postgres://knock:hunter2-password@127.0.0.1:1/knock",
        ),
    ]);
    assert!(!status.success(), "knock must not start: {stderr}");
    assert!(
        stderr.contains("postgres://knock:***@127.0.0.1:1/knock"),
        "the database is named: {stderr}"
    );
    assert!(!stderr.contains("hunter2-password"), "{stderr}");
}

#[tokio::test]
async fn the_database_file_is_readable_by_its_owner_only() {
    let app = spawn_app().await;
    let mode = std::fs::metadata(&app.database)
        .expect("the database file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    // SQLite gives its write-ahead log the database's mode.
    let wal = app.database.with_extension("db-wal");
    let mode = std::fs::metadata(&wal)
        .expect("the write-ahead log")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[tokio::test]
async fn no_log_line_at_any_level_holds_a_meeting_token_or_the_api_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("knock.log");
    let mut server = Server::start_with(dir.path(), |command| {
        let file = File::create(&log).expect("log file");
        let errors = file.try_clone().expect("log file");
        command.env("RUST_LOG", "trace").stdout(file).stderr(errors);
    })
    .await;
    let api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("standup").await;
    let token = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let browser = crate::helpers::client();
    let opened = browser
        .get(format!("{}/{room}?t={token}", server.base_url))
        .send()
        .await
        .expect("open the room with the token");
    assert_eq!(opened.status(), 303);
    api.get(&format!("/v1/meeting-tokens/{token}")).await;
    let (status, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/meeting-tokens/{token}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = Api::new(&server.base_url, "a-wrong-key-0123456789abcdefghijklmn")
        .call(reqwest::Method::GET, "/v1/rooms", None)
        .await;
    assert_eq!(status, 401);
    server
        .terminate(Duration::from_secs(10))
        .expect("knock stops on SIGTERM");

    let logged = std::fs::read_to_string(&log).expect("the log");
    assert!(
        logged.contains("/v1/meeting-tokens/[redacted]") && logged.contains("t=[redacted]"),
        "the requests are logged, without their tokens:\n{logged}"
    );
    assert!(!logged.contains(&token), "a meeting token was logged");
    // A JWT's signature alone is as good as a leak of the whole token.
    let signature = token.rsplit('.').next().expect("a JWT");
    assert!(
        !logged.contains(signature),
        "a token's signature was logged"
    );
    assert!(!logged.contains(API_KEY), "the API key was logged");
}
