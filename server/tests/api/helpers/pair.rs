//! Two real `knock` binaries, A and B, on one PostgreSQL database: the multi-instance tests.

use std::process::Command;

use serde_json::{Value, json};

use super::{API_KEY, Api, Person, Server, postgres_database};

/// Two servers, A and B, on one new PostgreSQL database.
pub struct Pair {
    /// The database's URL.
    pub database_url: String,
    /// Server A.
    pub a: Server,
    /// Server B.
    pub b: Server,
    _dir: tempfile::TempDir,
}

impl Pair {
    /// Starts A and B on a new database of the suite's PostgreSQL server.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A pool on the servers' database, to look at it beside them.
    pub fn database(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect_lazy(&self.database_url).expect("a PostgreSQL URL")
    }

    /// Like [`Pair::start`], after letting the test adjust both servers' commands (their
    /// environment, say).
    pub async fn start_with(adjust: impl Fn(&mut Command)) -> Self {
        let database = postgres_database().await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let on_database = |command: &mut Command| {
            command.env("DATABASE_URL", &database);
            adjust(command);
        };
        let a = Server::start_with(dir.path(), on_database).await;
        let b = Server::start_with(dir.path(), on_database).await;
        Self {
            database_url: database,
            a,
            b,
            _dir: dir,
        }
    }

    /// The REST API through A (`false`) or B (`true`).
    pub fn api(&self, on_b: bool) -> Api {
        Api::new(self.url(on_b), API_KEY)
    }

    /// The base URL of A (`false`) or B (`true`).
    pub fn url(&self, on_b: bool) -> &str {
        if on_b {
            &self.b.base_url
        } else {
            &self.a.base_url
        }
    }

    /// Someone opening `room`'s link with a token of `properties` on A or B.
    pub async fn with_token(&self, room: &str, on_b: bool, mut properties: Value) -> Person {
        properties["room_name"] = json!(room);
        let token = self.api(on_b).token(properties).await;
        Person::arrive(self.url(on_b), room, Some(&token)).await
    }
}
