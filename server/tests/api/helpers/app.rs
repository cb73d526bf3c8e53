//! Starts the real router on port 0 with a fresh database, one per test (zero2prod's
//! `spawn_app`), and makes the HTTP clients that talk to it.
//!
//! The database is a SQLite file in a temporary directory, or, when `KNOCK_TEST_POSTGRES`
//! names a PostgreSQL server (`make test` starts one), a new database created on it for the
//! test: the same tests then run against PostgreSQL.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
};

use app::ssr::{
    config::{Config, Secret},
    state::AppState,
};
use leptos::config::LeptosOptions;

/// A running Knock server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The API key the server accepts.
    pub api_key: String,
    /// The server's domain id.
    pub domain_id: String,
    /// The server's `DATABASE_URL`.
    pub database_url: String,
    /// The SQLite file, inside `dir` (absent when the test runs on PostgreSQL).
    pub database: PathBuf,
    /// A client that keeps cookies, as a browser would.
    pub client: reqwest::Client,
    /// Holds the database; deleted with it when the test ends.
    _dir: tempfile::TempDir,
}

/// The API key every test server is configured with.
pub const API_KEY: &str = "test-api-key-0123456789abcdefghijklmnopqrstuv";

/// Starts a server with `KNOCK_API_KEY` set.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let url = match postgres_server() {
        Some(server) => Some(new_postgres_database(&server).await),
        None => None,
    };
    spawn_on(url, adjust).await
}

/// Starts a server on a SQLite file whichever backend the suite runs on, for the tests of
/// what only SQLite has (the file, its mode, WAL).
pub async fn spawn_sqlite_app() -> TestApp {
    spawn_on(None, |_| {}).await
}

async fn spawn_on(postgres: Option<String>, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = dir.path().join("knock.db");
    let mut config =
        test_config(postgres.unwrap_or_else(|| format!("sqlite://{}", database.display())));
    adjust(&mut config);
    let database_url = config.database_url.clone();
    let (base_url, api_key, domain_id) = start(config).await;
    TestApp {
        base_url,
        api_key,
        domain_id,
        database_url,
        database,
        client: client(),
        _dir: dir,
    }
}

/// The configuration every test server starts from: the defaults, [`API_KEY`] and the
/// database at `database_url`.
fn test_config(database_url: String) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("default configuration");
    config.api_key = Some(Secret::new(API_KEY));
    config.database_url = database_url;
    config
}

/// The state of one more server that is built but never served (its database in `dir`), for
/// the tests of what building a server does to the others in the process.
pub async fn unserved_state(dir: &std::path::Path) -> AppState {
    let config = test_config(test_database_url(dir).await);
    let options = LeptosOptions::builder().output_name("knock").build();
    AppState::start(config, options)
        .await
        .expect("the state starts")
        .state
}

/// The PostgreSQL server the suite runs against (`KNOCK_TEST_POSTGRES`), if any.
fn postgres_server() -> Option<String> {
    std::env::var("KNOCK_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A new database on the suite's PostgreSQL server, for the tests that need PostgreSQL (several
/// servers on one database). They are `#[ignore]`d, so a plain `cargo test` skips them, and
/// `make test` runs them with a server started.
pub async fn postgres_database() -> String {
    let server = postgres_server()
        .expect("KNOCK_TEST_POSTGRES names a PostgreSQL server (scripts/with-postgres.sh)");
    new_postgres_database(&server).await
}

/// A new database for a test that starts servers of its own: on the suite's PostgreSQL server
/// when there is one, else a SQLite file in `dir`.
pub async fn test_database_url(dir: &std::path::Path) -> String {
    match postgres_server() {
        Some(server) => new_postgres_database(&server).await,
        None => format!("sqlite://{}", dir.join("knock.db").display()),
    }
}

/// Creates an empty database on the PostgreSQL server at `server` (a URL) and returns its
/// URL. The server is a throwaway one, so the database is left for it to take away.
async fn new_postgres_database(server: &str) -> String {
    use sqlx::{ConnectOptions, Connection, postgres::PgConnectOptions};
    let name = format!("knock_{}", uuid::Uuid::new_v4().simple());
    let options: PgConnectOptions = server.parse().expect("a PostgreSQL URL");
    let mut admin = options.connect().await.expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.expect("disconnect");
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
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
    let presence = std::sync::Arc::clone(&startup.state.presence);
    server::spawn(listener, startup.state);
    // Serving starts once the server has its seat: a test looking at the database from here on
    // sees no start-up write still to come.
    presence.settled().await;
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

/// A client that behaves like a browser showing a page of `origin`: every request carries
/// `Origin: <origin>` and the `Sec-Fetch-Site` a browser would send to `server` (no cookies
/// kept, no redirects followed).
pub fn browser_at(origin: &str, server: &str) -> reqwest::Client {
    let site = if origin == server {
        "same-origin"
    } else {
        "cross-site"
    };
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        origin.parse().expect("an origin header"),
    );
    headers.insert("sec-fetch-site", site.parse().expect("a fetch-site header"));
    reqwest::Client::builder()
        .default_headers(headers)
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
