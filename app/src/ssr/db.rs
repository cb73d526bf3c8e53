//! The SQLite database: connecting, migrating, and one repository module per table group.

pub mod dashboard;
pub mod lobby;
pub mod rooms;
pub mod settings;
pub mod tokens;

use std::{str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// Opens (creating if missing) the database at `url` in WAL mode and applies the migrations.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL keeps every commit durable across a process crash (only an OS
        // crash can lose the last transactions), at a fraction of FULL's fsyncs.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        // A local file does not drop connections the way a network server can: checking each
        // one with a ping before use cost a round trip to its worker thread per query.
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    sqlx::migrate!("../migrations").run(&pool).await?;
    Ok(pool)
}

/// A database error, as repository functions return it.
pub type Error = sqlx::Error;

/// Checks that the database answers.
pub async fn ping(db: &SqlitePool) -> Result<(), Error> {
    sqlx::query("SELECT 1").execute(db).await.map(|_| ())
}
