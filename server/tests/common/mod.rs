//! Starts the real router on port 0 with a fresh SQLite file, one per test; talks to it as the
//! REST API and as people in rooms (sessions, call operations, event streams).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helper"
)]

use std::{
    collections::{BTreeMap, VecDeque},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    pin::Pin,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::ssr::{
    config::{Config, Secret},
    state::AppState,
};
use futures_util::{Stream, StreamExt};
use leptos::config::LeptosOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod room;

#[allow(
    unused_imports,
    reason = "each test binary uses a different part of the helper"
)]
pub use room::{Room, strings};

/// A running Knock server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The API key the server accepts.
    pub api_key: String,
    /// The server's domain id.
    pub domain_id: String,
    /// The SQLite file, inside `dir`.
    pub database: PathBuf,
    /// A client that keeps cookies, as a browser would.
    pub client: reqwest::Client,
    /// Deleted (with the database) when the test ends.
    pub dir: tempfile::TempDir,
}

/// The API key every test server is configured with.
pub const API_KEY: &str = "test-api-key-0123456789";

/// Starts a server with `KNOCK_API_KEY` set.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = dir.path().join("knock.db");
    let mut config = Config::from_lookup(|_| None).expect("default configuration");
    config.api_key = Some(Secret::new(API_KEY));
    config.database_url = format!("sqlite://{}", database.display());
    adjust(&mut config);
    let (base_url, api_key, domain_id) = start(config).await;
    TestApp {
        base_url,
        api_key,
        domain_id,
        database,
        client: client(),
        dir,
    }
}

/// Starts a server for `config` on port 0; returns its base URL, API key and domain id.
pub async fn start(config: Config) -> (String, String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("free port");
    let addr: SocketAddr = listener.local_addr().expect("bound address");
    let config = config.bound_to(addr);
    let options = LeptosOptions::builder()
        .output_name("knock")
        .site_addr(addr)
        .build();
    let startup = AppState::start(config, options)
        .await
        .expect("server starts");
    let api_key = startup.state.api_key.expose().to_owned();
    let domain_id = startup.state.domain_id.clone();
    server::spawn(listener, startup.state);
    (format!("http://{addr}"), api_key, domain_id)
}

/// An HTTP client with a cookie store and no redirects followed, so tests see each hop.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Like [`client`], connecting from `ip` (any of 127/8 is loopback on Linux): the server sees
/// a client of its own, e.g. for the knock limit, which counts per client address.
pub fn client_at(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(ip))
        .build()
        .expect("http client")
}

/// A distinct loopback address for each `n` below 62 500: `127.<block>.<n / 250>.<1 + n % 250>`
/// (a test picks its own `block`).
pub fn loopback(block: u8, n: usize) -> Ipv4Addr {
    let high = u8::try_from(n / 250).expect("fewer than 62 500 addresses");
    let low = u8::try_from(n % 250 + 1).expect("below 251");
    Ipv4Addr::new(127, block, high, low)
}

impl TestApp {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

// ---------------------------------------------------------------------------------------------
// The lobby: REST helpers, people (one browser each) and their server-sent-event streams.
// ---------------------------------------------------------------------------------------------

/// How long a test waits for an event it expects.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a test listens to check that nothing arrives.
pub const QUIET: Duration = Duration::from_millis(400);

/// The REST API of a server, authenticated with its key.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The key sent as `Authorization: Bearer`.
    pub api_key: String,
    client: reqwest::Client,
}

/// Sends `request`; returns the status and the JSON answer (panics on an answer that is not
/// JSON, by content type or body).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert!(
        content_type.starts_with("application/json"),
        "{status}: content type {content_type:?}: {text}"
    );
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{status}: not JSON ({error}): {text}"));
    (status, body)
}

impl Api {
    /// The API of the server at `base_url`.
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            api_key: api_key.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// `method path` with `body` (JSON) when given; the status and the JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.api_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// `GET path`, which must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `POST path` with `body`, which must answer 200.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(Method::POST, path, Some(body.clone())).await;
        assert_eq!(status, 200, "POST {path} {body}: {answer}");
        answer
    }

    /// Creates a room from a `POST /v1/rooms` body.
    pub async fn create_room(&self, body: Value) -> Value {
        self.post("/v1/rooms", body).await
    }

    /// Creates a private room named `name` where tokenless visitors knock.
    pub async fn knocking_room(&self, name: &str) -> String {
        self.create_room(json!({
            "name": name,
            "privacy": "private",
            "properties": {"enable_knocking": true},
        }))
        .await;
        name.to_owned()
    }

    /// Mints a meeting token with `properties`.
    pub async fn token(&self, properties: Value) -> String {
        let body = self
            .post("/v1/meeting-tokens", json!({"properties": properties}))
            .await;
        body["token"]
            .as_str()
            .expect("token is a string")
            .to_owned()
    }

    /// `GET /v1/rooms/{room}/waiting`.
    pub async fn waiting(&self, room: &str) -> Value {
        self.get(&format!("/v1/rooms/{room}/waiting")).await
    }

    /// The names in `GET /v1/rooms/{room}/waiting`, oldest knock first.
    pub async fn waiting_names(&self, room: &str) -> Vec<String> {
        let waiting = self.waiting(room).await;
        waiting["data"]
            .as_array()
            .expect("data is a list")
            .iter()
            .map(|entry| entry["name"].as_str().expect("name").to_owned())
            .collect()
    }
}

impl TestApp {
    /// The REST API of this server.
    pub fn api(&self) -> Api {
        Api::new(&self.base_url, &self.api_key)
    }

    /// A new person (their own browser) opening `/<room>`, with `?t=<token>` when given.
    pub async fn person(&self, room: &str, token: Option<&str>) -> Person {
        Person::arrive(&self.base_url, room, token).await
    }
}

/// One person in one room: a browser with its own cookies.
pub struct Person {
    /// Their browser.
    pub client: reqwest::Client,
    /// The server they talk to (changes when a test restarts the server on another port).
    pub base_url: String,
    /// The room.
    pub room: String,
}

impl Person {
    /// Opens `/<room>` (with `?t=<token>` when given) in a new browser, which starts a session.
    pub async fn arrive(base_url: &str, room: &str, token: Option<&str>) -> Self {
        Self::arrive_with(client(), base_url, room, token).await
    }

    /// Like [`Person::arrive`], with a given browser.
    pub async fn arrive_with(
        client: reqwest::Client,
        base_url: &str,
        room: &str,
        token: Option<&str>,
    ) -> Self {
        let url = match token {
            Some(token) => format!("{base_url}/{room}?t={token}"),
            None => format!("{base_url}/{room}"),
        };
        let response = client.get(&url).send().await.expect("open the room");
        let cookie = session_cookie(&response, room);
        assert!(
            cookie,
            "GET /{room} ({}) did not start a session",
            response.status()
        );
        if token.is_some() {
            assert_eq!(response.status(), 303, "a token link redirects");
        }
        Self {
            client,
            base_url: base_url.to_owned(),
            room: room.to_owned(),
        }
    }

    /// The request `POST /api/<operation>` with the room and `fields` form-encoded.
    fn operation(&self, operation: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut form = vec![("room", self.room.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}/api/{operation}", self.base_url))
            .form(&form)
    }

    /// `POST /api/<operation>` with the room and `fields` form-encoded.
    pub async fn call(&self, operation: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        send(self.operation(operation, fields)).await
    }

    /// `POST /api/<operation>` like [`Person::call`], but a request that gets no complete
    /// answer (the server died meanwhile) is `None` instead of a panic.
    pub async fn try_call(
        &self,
        operation: &str,
        fields: &[(&str, &str)],
    ) -> Option<(StatusCode, Value)> {
        let response = self.operation(operation, fields).send().await.ok()?;
        let status = response.status();
        let text = response.text().await.ok()?;
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{operation}: {status}: not JSON ({error}): {text}"));
        Some((status, body))
    }

    /// `preAuth`, which must succeed: the session's `CallState`.
    pub async fn pre_auth(&self) -> Value {
        let (status, state) = self.call("pre_auth", &[]).await;
        assert_eq!(status, 200, "pre_auth: {state}");
        state
    }

    /// The session's phase (`prejoin`, `waiting`, `in_call`, ...).
    pub async fn phase(&self) -> String {
        self.pre_auth().await["phase"]
            .as_str()
            .expect("phase")
            .to_owned()
    }

    /// The session's id (its participant id).
    pub async fn session_id(&self) -> String {
        self.pre_auth().await["session_id"]
            .as_str()
            .expect("session_id")
            .to_owned()
    }

    /// `join(name)`.
    pub async fn join(&self, name: &str) -> (StatusCode, Value) {
        self.call("join", &[("name", name)]).await
    }

    /// `requestAccess(name)`: knock, or rename a knock.
    pub async fn knock(&self, name: &str) -> (StatusCode, Value) {
        self.call("request_access", &[("name", name)]).await
    }

    /// `cancel`.
    pub async fn cancel(&self) -> (StatusCode, Value) {
        self.call("cancel", &[]).await
    }

    /// `leave`.
    pub async fn leave(&self) -> (StatusCode, Value) {
        self.call("leave", &[]).await
    }

    /// `waitingParticipants()`.
    pub async fn waiting(&self) -> (StatusCode, Value) {
        self.call("waiting_participants", &[]).await
    }

    /// `updateWaitingParticipant(id, {grantRequestedAccess: grant})`.
    pub async fn decide(&self, id: &str, grant: bool) -> (StatusCode, Value) {
        let grant = if grant { "true" } else { "false" };
        self.call(
            "update_waiting_participant",
            &[("id", id), ("grant", grant)],
        )
        .await
    }

    /// `updateWaitingParticipants(updates)` (a JSON body).
    pub async fn decide_many(&self, updates: Value) -> (StatusCode, Value) {
        send(
            self.client
                .post(format!("{}/api/update_waiting_participants", self.base_url))
                .json(&json!({"room": self.room, "updates": updates})),
        )
        .await
    }

    /// Opens the session's event stream.
    pub async fn events(&self) -> EventStream {
        self.open_events(None).await
    }

    /// Reopens the session's event stream with `Last-Event-ID: last`.
    pub async fn events_after(&self, last: i64) -> EventStream {
        self.open_events(Some(last)).await
    }

    async fn open_events(&self, last: Option<i64>) -> EventStream {
        let mut request = self
            .client
            .get(format!("{}/api/events/{}", self.base_url, self.room));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        EventStream::open(request, &format!("events of {}", self.room)).await
    }

    /// Opens the event stream and joins as `name` (which must succeed); the stream has seen
    /// the access update to `full`.
    pub async fn enter(&self, name: &str) -> EventStream {
        let mut events = self.events().await;
        let (status, state) = self.join(name).await;
        assert_eq!(status, 200, "join as {name}: {state}");
        assert_eq!(state["phase"], "in_call", "{state}");
        let event = events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await;
        assert_eq!(event.data["access"]["level"], "full", "{event:?}");
        events
    }

    /// Knocks as `name` (which must succeed); returns the `CallState`.
    pub async fn knocked(&self, name: &str) -> Value {
        let (status, state) = self.knock(name).await;
        assert_eq!(status, 200, "knock as {name}: {state}");
        assert_eq!(state["phase"], "waiting", "{state}");
        state
    }
}

/// Whether `response` sets the session cookie of `room`.
pub fn session_cookie(response: &reqwest::Response, room: &str) -> bool {
    let prefix = format!("knock-{room}=");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.starts_with(&prefix))
}

/// One server-sent event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The SSE `id`.
    pub id: i64,
    /// The SSE `event` name.
    pub name: String,
    /// The `data`, parsed as JSON.
    pub data: Value,
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

/// A session's server-sent-event stream, parsed into [`Event`]s.
pub struct EventStream {
    label: String,
    body: ByteStream,
    buffer: Vec<u8>,
    parsed: VecDeque<Event>,
    ended: bool,
    /// The id of the last event returned.
    pub last_id: i64,
}

impl EventStream {
    /// Sends `request` (a `GET /api/events/...`), which must answer 200 with an event stream.
    pub async fn open(request: reqwest::RequestBuilder, label: &str) -> Self {
        let response = request.send().await.expect("open the event stream");
        let status = response.status();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            panic!("{label}: the stream answered {status}: {body}");
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{label}: content type {content_type}"
        );
        Self::from_body(
            label,
            response
                .bytes_stream()
                .map(|chunk| chunk.map(|bytes| bytes.to_vec())),
        )
    }

    /// Reads events from any body (the reader's own tests feed it chunks).
    pub fn from_body(
        label: &str,
        body: impl Stream<Item = reqwest::Result<Vec<u8>>> + Send + 'static,
    ) -> Self {
        Self {
            label: label.to_owned(),
            body: Box::pin(body),
            buffer: Vec::new(),
            parsed: VecDeque::new(),
            ended: false,
            last_id: 0,
        }
    }

    /// Names this stream in failure messages (e.g. "Ana's stream").
    pub fn named(mut self, label: &str) -> Self {
        label.clone_into(&mut self.label);
        self
    }

    /// The next event within `timeout`, or `None` when none came (or the stream ended).
    pub async fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(event) = self.parsed.pop_front() {
                self.last_id = event.id;
                return Some(event);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_elapsed) => return None,
                Ok(None) | Ok(Some(Err(_))) => self.ended = true,
                Ok(Some(Ok(chunk))) => {
                    self.buffer.extend_from_slice(&chunk);
                    self.parse();
                }
            }
        }
    }

    /// Whether the server closed the stream (seen while waiting for an event).
    pub fn has_ended(&self) -> bool {
        self.ended && self.parsed.is_empty()
    }

    /// Moves every complete block of the buffer into `parsed`.
    fn parse(&mut self) {
        while let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let block = String::from_utf8(block)
                .unwrap_or_else(|error| panic!("{}: not UTF-8: {error}", self.label));
            if let Some(event) = Self::parse_block(&self.label, block.trim_end_matches('\n')) {
                self.parsed.push_back(event);
            }
        }
    }

    /// One SSE block; `None` for a block of comments (keep-alives).
    fn parse_block(label: &str, block: &str) -> Option<Event> {
        let (mut id, mut name, mut data) = (None, None, Vec::new());
        for line in block.lines() {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => {
                    id =
                        Some(value.parse::<i64>().unwrap_or_else(|_| {
                            panic!("{label}: the id {value:?} is not a number")
                        }))
                }
                "event" => name = Some(value.to_owned()),
                "data" => data.push(value.to_owned()),
                other => panic!("{label}: unexpected field {other:?} in {block:?}"),
            }
        }
        if id.is_none() && name.is_none() && data.is_empty() {
            return None;
        }
        let id = id.unwrap_or_else(|| panic!("{label}: an event without id: {block:?}"));
        let name = name.unwrap_or_else(|| panic!("{label}: an event without name: {block:?}"));
        let data: Value = serde_json::from_str(&data.join("\n"))
            .unwrap_or_else(|error| panic!("{label}: data is not JSON ({error}): {block:?}"));
        assert_eq!(
            data["action"], name,
            "{label}: the data's action names the event: {block:?}"
        );
        Some(Event { id, name, data })
    }

    /// The next event, which must be `name` and come within `timeout`.
    pub async fn expect_event(&mut self, name: &str, timeout: Duration) -> Event {
        match self.next_event(timeout).await {
            Some(event) if event.name == name => event,
            Some(other) => panic!(
                "{}: expected `{name}`, got `{}` (id {}): {}",
                self.label, other.name, other.id, other.data
            ),
            None if self.ended => panic!("{}: expected `{name}`, the stream ended", self.label),
            None => panic!(
                "{}: expected `{name}` within {timeout:?}, got nothing",
                self.label
            ),
        }
    }

    /// The next `names.len()` events, which must carry exactly these names in any order;
    /// returned in the order they came.
    pub async fn expect_events_unordered(
        &mut self,
        names: &[&str],
        timeout: Duration,
    ) -> Vec<Event> {
        let mut missing: Vec<&str> = names.to_vec();
        let mut got = Vec::new();
        while !missing.is_empty() {
            let Some(event) = self.next_event(timeout).await else {
                panic!(
                    "{}: still expected {missing:?} within {timeout:?}; got {:?}",
                    self.label,
                    got.iter()
                        .map(|event: &Event| &event.name)
                        .collect::<Vec<_>>()
                );
            };
            let Some(at) = missing.iter().position(|name| *name == event.name) else {
                panic!(
                    "{}: expected one of {missing:?}, got `{}`: {}",
                    self.label, event.name, event.data
                );
            };
            missing.swap_remove(at);
            got.push(event);
        }
        got
    }

    /// The events up to and including the first `name`; the caller checks the ones before it.
    pub async fn events_until(&mut self, name: &str, timeout: Duration) -> Vec<Event> {
        let mut got = Vec::new();
        loop {
            let Some(event) = self.next_event(timeout).await else {
                panic!(
                    "{}: expected `{name}` within {timeout:?}; got only {:?}",
                    self.label,
                    got.iter()
                        .map(|event: &Event| &event.name)
                        .collect::<Vec<_>>()
                );
            };
            let done = event.name == name;
            got.push(event);
            if done {
                return got;
            }
        }
    }

    /// Asserts that no event arrives within `duration`.
    pub async fn assert_quiet(&mut self, duration: Duration) {
        if let Some(event) = self.next_event(duration).await {
            panic!(
                "{}: expected no event, got `{}` (id {}): {}",
                self.label, event.name, event.id, event.data
            );
        }
    }
}

/// A request to `path` on `app` carrying the API key.
pub fn authed(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&app.api_key)
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(seconds).expect("seconds fit")
}

/// Whether `info` names `field` as a word of its own (so "exp" is not found in "expected").
pub fn mentions(info: &str, field: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    info.match_indices(field)
        .any(|(at, _)| !info[..at].ends_with(word) && !info[at + field.len()..].starts_with(word))
}

// ---------------------------------------------------------------------------------------------
// The real binary, for tests that kill it; and the database as rows, for tests that compare it.
// ---------------------------------------------------------------------------------------------

/// A `knock` process; killed (SIGKILL) when dropped, so a failing test never leaves it behind.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>` (a new port at every start).
    pub base_url: String,
}

impl Server {
    /// Starts the binary on a free port with its database in `dir`, and waits until it is healthy.
    pub async fn start(dir: &Path) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_knock"))
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
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start knock");
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

/// Every row of every table, each value as SQLite's `quote()` writes it, rows sorted.
pub type Snapshot = BTreeMap<String, Vec<Vec<String>>>;

/// A read-only connection to a test server's SQLite file, beside the server's own.
pub struct Database {
    connection: sqlx::SqliteConnection,
}

impl Database {
    /// Opens `path` read-only (the server keeps writing it; WAL lets both work).
    pub async fn open_read_only(path: &Path) -> Self {
        use sqlx::{ConnectOptions, sqlite::SqliteConnectOptions};
        let connection = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .connect()
            .await
            .expect("open the database read-only");
        Self { connection }
    }

    /// All rows of all tables, read in one transaction (one consistent state).
    pub async fn snapshot(&mut self) -> Snapshot {
        use sqlx::{Acquire, Row};
        let mut tx = self.connection.begin().await.expect("begin a read");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut *tx)
                .await
                .expect("list tables");
        let mut snapshot = Snapshot::new();
        for table in tables {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                    .bind(&table)
                    .fetch_all(&mut *tx)
                    .await
                    .expect("list columns");
            let quoted: Vec<String> = columns
                .iter()
                .map(|column| format!("quote(\"{}\")", column.replace('"', "\"\"")))
                .collect();
            let query = format!(
                "SELECT {} FROM \"{}\"",
                quoted.join(", "),
                table.replace('"', "\"\"")
            );
            let mut rows: Vec<Vec<String>> = sqlx::query(&query)
                .fetch_all(&mut *tx)
                .await
                .unwrap_or_else(|error| panic!("read {table}: {error}"))
                .iter()
                .map(|row| {
                    (0..columns.len())
                        .map(|at| row.get::<String, _>(at))
                        .collect()
                })
                .collect();
            rows.sort();
            snapshot.insert(table, rows);
        }
        tx.commit().await.expect("end the read");
        snapshot
    }
}

/// What differs between two snapshots, table by table (rows only in `before` with `-`, only in
/// `after` with `+`); empty when they are equal.
pub fn snapshot_diff(before: &Snapshot, after: &Snapshot) -> String {
    let mut diff = String::new();
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for table in tables {
        let (old, new) = (
            before.get(table).cloned().unwrap_or_default(),
            after.get(table).cloned().unwrap_or_default(),
        );
        if old == new {
            continue;
        }
        diff.push_str(&format!("table {table}:\n"));
        for row in old.iter().filter(|row| !new.contains(row)) {
            diff.push_str(&format!("  - {}\n", row.join(" | ")));
        }
        for row in new.iter().filter(|row| !old.contains(row)) {
            diff.push_str(&format!("  + {}\n", row.join(" | ")));
        }
    }
    diff
}

/// Asserts a `{"<Variant>": "<sentence>"}` error answer.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected: u16, variant: &str) {
    assert_eq!(status.as_u16(), expected, "{body}");
    let sentence = body[variant]
        .as_str()
        .unwrap_or_else(|| panic!("expected {{\"{variant}\": ...}}, got {body}"));
    assert!(sentence.len() > 10, "a sentence, not {sentence:?}");
}
