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

use crate::helpers::{API_KEY, Api, Server, browser_at, spawn_app, spawn_sqlite_app};

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
    let app = spawn_sqlite_app().await;
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

/// The `Set-Cookie` values of `response` whose cookie is named `name`.
fn set_cookies<'a>(response: &'a reqwest::Response, name: &str) -> Vec<&'a str> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| value.starts_with(&prefix))
        .collect()
}

/// The value a `Set-Cookie` gives its cookie.
fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().expect("a pair");
    pair.split_once('=').expect("name=value").1
}

#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused_and_signs_nobody_in() {
    let app = spawn_app().await;
    let sign_in = |client: &reqwest::Client| {
        client
            .post(app.url("/api/dashboard_sign_in"))
            .form(&[("api_key", API_KEY)])
    };

    // A page of another site posting the right key (say, after tricking an owner into pasting
    // it), and the same without Origin but with the browser's Sec-Fetch-Site.
    let evil = browser_at("https://evil.example", &app.base_url);
    let no_origin = reqwest::Client::new();
    for request in [
        sign_in(&evil),
        sign_in(&no_origin).header("sec-fetch-site", "cross-site"),
        sign_in(&no_origin).header("sec-fetch-site", "same-site"),
        sign_in(&no_origin).header("origin", "null"),
    ] {
        let response = request.send().await.expect("sign in");
        assert_eq!(response.status(), 403);
        assert!(set_cookies(&response, "knock-dashboard").is_empty());
        let body: serde_json::Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"], "forbidden-error", "{body}");
        assert!(
            body["info"]
                .as_str()
                .is_some_and(|info| info.contains(&app.base_url)),
            "the sentence names the accepted origin: {body}"
        );
    }

    // The site's own pages, a browser without Origin on a same-origin request, and clients
    // that are no browser at all.
    let own = browser_at(&app.base_url, &app.base_url);
    for request in [
        sign_in(&own),
        sign_in(&no_origin).header("sec-fetch-site", "same-origin"),
        sign_in(&no_origin),
    ] {
        let response = request.send().await.expect("sign in");
        assert_eq!(response.status(), 200);
        assert_eq!(set_cookies(&response, "knock-dashboard").len(), 1);
    }
}

#[tokio::test]
async fn a_knock_sent_from_another_site_is_refused_and_nobody_waits() {
    let room = crate::helpers::Room::knocking().await;
    let guest = room.guest().await;
    let (status, body) = crate::helpers::send(
        guest
            .client
            .post(room.app.url("/api/request_access"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&[("room", room.name.as_str()), ("name", "Mallory")]),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden-error");
    assert_eq!(
        room.api.waiting_names(&room.name).await,
        Vec::<String>::new()
    );
    assert_eq!(guest.phase().await, "prejoin");
}

#[tokio::test]
async fn every_answer_forbids_framing_sniffing_and_referrers_to_other_sites() {
    let app = spawn_app().await;
    app.api()
        .create_room(json!({"name": "standup", "privacy": "public"}))
        .await;
    for path in ["/", "/standup", "/dashboard", "/v1/rooms", "/no/such/page"] {
        let response = crate::helpers::client()
            .get(app.url(path))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("request");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}: {:?}",
            response.headers()
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    }
}

#[tokio::test]
async fn over_https_cookies_carry_the_host_prefix_and_secure() {
    let app = crate::helpers::spawn_app_with(|config| {
        *config = config.clone().with_public_url("https://knock.example.com");
    })
    .await;
    app.api()
        .create_room(json!({"name": "standup", "privacy": "public"}))
        .await;
    // Plain http reaches the test server; what matters is what it tells the browser.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");

    let page = browser
        .get(app.url("/standup"))
        .send()
        .await
        .expect("open the room");
    assert!(set_cookies(&page, "knock-standup").is_empty());
    let session = set_cookies(&page, "__Host-knock-standup");
    assert_eq!(session.len(), 1, "{:?}", page.headers());
    assert!(session[0].contains("; Secure") && session[0].contains("Path=/"));
    assert!(!session[0].to_ascii_lowercase().contains("domain="));
    let pre_auth = |cookie: String| {
        crate::helpers::send(
            browser
                .post(app.url("/api/pre_auth"))
                .header("cookie", cookie)
                .form(&[("room", "standup")]),
        )
    };
    let secret = cookie_value(session[0]).to_owned();
    let (status, body) = pre_auth(format!("__Host-knock-standup={secret}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = pre_auth(format!("knock-standup={secret}")).await;
    assert_eq!(
        status, 403,
        "the unprefixed cookie is not the session: {body}"
    );

    let signed_in = browser
        .post(app.url("/api/dashboard_sign_in"))
        .form(&[("api_key", API_KEY)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 200);
    let dashboard = set_cookies(&signed_in, "__Host-knock-dashboard");
    assert_eq!(dashboard.len(), 1, "{:?}", signed_in.headers());
    assert!(dashboard[0].contains("; Secure") && dashboard[0].contains("Path=/"));
    let rooms = browser
        .post(app.url("/api/dashboard_rooms"))
        .header(
            "cookie",
            format!("__Host-knock-dashboard={}", cookie_value(dashboard[0])),
        )
        .send()
        .await
        .expect("dashboard rooms")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert!(
        rooms.is_array(),
        "signed in with the prefixed cookie: {rooms}"
    );

    let signed_out = browser
        .post(app.url("/api/dashboard_sign_out"))
        .send()
        .await
        .expect("sign out");
    let cleared = set_cookies(&signed_out, "__Host-knock-dashboard");
    assert_eq!(cleared.len(), 1);
    assert!(cleared[0].contains("Max-Age=0") && cleared[0].contains("; Secure"));
}

#[tokio::test]
async fn a_browser_carrying_two_session_cookies_for_a_room_is_refused() {
    let app = spawn_app().await;
    app.api()
        .create_room(json!({"name": "standup", "privacy": "public"}))
        .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let page = browser
        .get(app.url("/standup"))
        .send()
        .await
        .expect("open the room");
    let secret = cookie_value(set_cookies(&page, "knock-standup")[0]).to_owned();
    // Ours, and one another site planted (e.g. with Domain= from a sibling subdomain).
    let both = format!("knock-standup={secret}; knock-standup=planted");

    let (status, body) = crate::helpers::send(
        browser
            .post(app.url("/api/pre_auth"))
            .header("cookie", &both)
            .form(&[("room", "standup")]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid-request-error");
    assert!(
        body["info"]
            .as_str()
            .is_some_and(|info| info.contains("two cookies named knock-standup")),
        "{body}"
    );
    for path in ["/standup", "/api/events/standup"] {
        let (status, body) =
            crate::helpers::send(browser.get(app.url(path)).header("cookie", &both)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"], "invalid-request-error", "{path}");
    }
    // Our cookie alone still works.
    let (status, body) = crate::helpers::send(
        browser
            .post(app.url("/api/pre_auth"))
            .header("cookie", format!("knock-standup={secret}"))
            .form(&[("room", "standup")]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_stale_session_cookie_gets_a_new_session_and_the_room_on_the_first_load() {
    let app = spawn_app().await;
    app.api()
        .create_room(json!({"name": "standup", "privacy": "public"}))
        .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    // A cookie from before the database was reset, or whose session was pruned; beside it
    // another of this site's cookies, which must survive.
    let page = browser
        .get(app.url("/standup"))
        .header(
            "cookie",
            "knock-other=1; knock-standup=stale-secret-from-before",
        )
        .send()
        .await
        .expect("open the room");
    assert_eq!(page.status(), 200);
    let fresh = set_cookies(&page, "knock-standup");
    assert_eq!(fresh.len(), 1, "a new session starts: {:?}", page.headers());
    let secret = cookie_value(fresh[0]).to_owned();
    let html = page.text().await.expect("the page");
    assert!(
        !html.contains("This room does not exist"),
        "the room is shown at once"
    );
    assert!(html.contains("Ready to join?"), "{html}");

    let (status, state) = crate::helpers::send(
        browser
            .post(app.url("/api/pre_auth"))
            .header("cookie", format!("knock-standup={secret}"))
            .form(&[("room", "standup")]),
    )
    .await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["phase"], "prejoin", "{state}");
}

/// Connects to `app` over plain TCP, writes `sent`, and reads until the server answers and
/// closes or `patience` passes; what came back, and whether the connection was closed.
async fn raw_exchange(
    app: &crate::helpers::TestApp,
    sent: &str,
    patience: Duration,
) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(sent.as_bytes()).await.expect("write");
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_still_open) => return (String::from_utf8_lossy(&received).into(), false),
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&received).into(), true),
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.header_read_timeout = Duration::from_millis(500);
    })
    .await;
    let started = std::time::Instant::now();
    let (_, closed) = raw_exchange(
        &app,
        "GET /healthz HTTP/1.1\r\nHost: knock\r\nX-Slow: ",
        Duration::from_secs(5),
    )
    .await;
    assert!(closed, "the connection is still open after 5 s");
    assert!(started.elapsed() >= Duration::from_millis(400));
    // A client that sends its headers in time is served.
    let (answer, _) = raw_exchange(
        &app,
        "GET /healthz HTTP/1.1\r\nHost: knock\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_answered_408_and_event_streams_are_not_cut() {
    let room = crate::helpers::Room::knocking_with(|config| {
        config.request_timeout = Duration::from_secs(2);
    })
    .await;
    // Headers in time, then a body that never completes.
    let started = std::time::Instant::now();
    let (answer, _) = raw_exchange(
        &room.app,
        &format!(
            "POST /v1/rooms HTTP/1.1\r\nHost: knock\r\nAuthorization: Bearer {API_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"name\": "
        ),
        Duration::from_secs(8),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(
        answer.contains("\"error\":\"server-error\"") && answer.contains("longer than 2 s"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));

    // The same for a server function, whose body is read before the function runs.
    let started = std::time::Instant::now();
    let (answer, _) = raw_exchange(
        &room.app,
        "POST /api/dashboard_sign_in HTTP/1.1\r\nHost: knock\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\napi_key=",
        Duration::from_secs(8),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("longer than 2 s"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(6));

    // An event stream outlives the timeout and still delivers.
    let guest = room.guest().await;
    let mut events = guest.events().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    guest.knocked("Ben").await;
    let event = events
        .expect_event("access-state-updated", crate::helpers::EVENT_TIMEOUT)
        .await;
    assert_eq!(event.data["access"]["level"], "lobby", "{event:?}");
}

#[tokio::test]
async fn a_server_function_body_over_64_kib_is_refused_with_413() {
    let app = spawn_app().await;
    let huge = "k".repeat(65 * 1024);
    let sign_in = || {
        crate::helpers::client()
            .post(app.url("/api/dashboard_sign_in"))
            .form(&[("api_key", huge.as_str())])
    };
    let (status, body) = crate::helpers::send(sign_in()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "invalid-request-error");
    assert!(
        body["info"]
            .as_str()
            .is_some_and(|info| info.contains("64 KiB")),
        "{body}"
    );
    // The same without a Content-Length (chunked): cut off while it is read.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = format!("api_key={huge}")
        .into_bytes()
        .chunks(8192)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let (status, body) = crate::helpers::send(
        crate::helpers::client()
            .post(app.url("/api/dashboard_sign_in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            ))),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    // Below the limit, the request is read and judged (a wrong key).
    let (status, _) = crate::helpers::send(
        crate::helpers::client()
            .post(app.url("/api/dashboard_sign_in"))
            .form(&[("api_key", "k".repeat(60 * 1024))]),
    )
    .await;
    assert_eq!(status, 401);
}
