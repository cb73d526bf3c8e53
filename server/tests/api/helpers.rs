//! What the tests stand on: a real server per test (`app`), its REST API (`api`), people with
//! their own browsers (`person`) and event streams (`stream`), the real binary as a process
//! (`process`), the database as rows (`db`), and the knocking room most lobby tests start from
//! (`room`).

mod api;
mod app;
mod db;
mod pair;
mod person;
mod process;
mod room;
mod stream;

pub use api::{Api, assert_error, authed, mentions, now, send, strings, the_one_decision};
pub use app::{
    API_KEY, TestApp, browser_at, client, client_at, loopback, postgres_database, spawn_app,
    spawn_app_with, spawn_sqlite_app, test_database_url, unserved_state,
};
pub use db::{Database, Snapshot, snapshot_diff};
pub use pair::Pair;
pub use person::Person;
pub use process::Server;
pub use room::{Room, knock_of};
pub use stream::{EVENT_TIMEOUT, Event, EventStream, QUIET};
