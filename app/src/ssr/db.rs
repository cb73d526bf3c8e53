//! The repositories: every SQL statement and every SQLite detail (connection options,
//! migrations, how a write transaction is opened) lives under this module, one file per table
//! group. Services hold a [`Db`] and open a [`Tx`]; they never see a connection or a pool.

pub mod bans;
pub mod dashboard;
pub mod events;
pub mod knocks;
pub mod rooms;
pub mod sessions;
pub mod settings;
pub mod tokens;

use std::{fmt, str::FromStr, time::Duration};

use futures_core::{future::BoxFuture, stream::BoxStream};
use sqlx::{
    Either, Execute, Executor, Sqlite, SqliteConnection, SqlitePool, Transaction,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteRow,
        SqliteStatement, SqliteSynchronous, SqliteTypeInfo,
    },
};

/// A database error, as repository functions return it.
pub type Error = sqlx::Error;

/// The database: a pool of connections. Cheap to clone.
#[derive(Clone)]
pub struct Db(SqlitePool);

/// An open write transaction. Dropping it without [`Tx::commit`] rolls it back.
pub struct Tx(Transaction<'static, Sqlite>);

impl Db {
    /// Opens (creating if missing) the database at `url` in WAL mode and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str(url)?;
        create_owner_only(url, &options)?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL keeps every commit durable across a process crash (only an OS
            // crash can lose the last transactions), at a fraction of FULL's fsyncs.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A local file does not drop connections the way a network server can: checking
            // each one with a ping before use cost a round trip to its worker thread per query.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations").run(&pool).await?;
        Ok(Self(pool))
    }

    /// Opens a write transaction. It takes SQLite's write lock at once (`BEGIN IMMEDIATE`), so
    /// the reads inside it (counting a call, finding a waiting knock) and the writes that
    /// depend on them are one atomic step: writers in one room never interleave.
    pub async fn write(&self) -> Result<Tx, Error> {
        Ok(Tx(self.0.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.0).await.map(|_| ())
    }
}

/// Creates the database file, when it does not exist yet, readable and writable by its owner
/// only (0600): it holds the sessions and, unless `KNOCK_API_KEY` is set, the API key. SQLite
/// gives the `-wal` and `-shm` files the same mode. An existing file keeps the mode its operator
/// chose; an in-memory database has no file.
fn create_owner_only(url: &str, options: &SqliteConnectOptions) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let in_memory = url.contains(":memory:")
        || url
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "mode=memory"));
    let path = options.get_filename();
    if in_memory || path.as_os_str().is_empty() || path.exists() {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        // Another process created it in between: it is theirs to keep.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(Error::Io(error)),
    }
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        self.0.commit().await
    }

    fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl fmt::Debug for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

// A repository function takes `impl Executor` and runs on either the pool (`&db`) or an open
// transaction (`&mut tx`); both hand every call to sqlx's own executor for what they hold.
macro_rules! delegate_executor {
    ($lifetime:lifetime, $handle:ty, $this:ident => $inner:expr) => {
        impl<$lifetime> Executor<$lifetime> for $handle {
            type Database = Sqlite;

            fn fetch_many<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, Error>>
            where
                $lifetime: 'e,
                E: 'q + Execute<'q, Sqlite>,
            {
                let $this = self;
                $inner.fetch_many(query)
            }

            fn fetch_optional<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> BoxFuture<'e, Result<Option<SqliteRow>, Error>>
            where
                $lifetime: 'e,
                E: 'q + Execute<'q, Sqlite>,
            {
                let $this = self;
                $inner.fetch_optional(query)
            }

            fn prepare_with<'e, 'q: 'e>(
                self,
                sql: &'q str,
                parameters: &'e [SqliteTypeInfo],
            ) -> BoxFuture<'e, Result<SqliteStatement<'q>, Error>>
            where
                $lifetime: 'e,
            {
                let $this = self;
                $inner.prepare_with(sql, parameters)
            }

            fn describe<'e, 'q: 'e>(
                self,
                sql: &'q str,
            ) -> BoxFuture<'e, Result<sqlx::Describe<Sqlite>, Error>>
            where
                $lifetime: 'e,
            {
                let $this = self;
                $inner.describe(sql)
            }
        }
    };
}

delegate_executor!('c, &'c Db, db => &db.0);
delegate_executor!('c, &'c mut Tx, tx => tx.connection());

/// A repository function's database handle: the pool (`&db`) or an open transaction
/// (`&mut tx`).
pub trait Handle<'c>: Executor<'c, Database = Sqlite> {}

impl<'c, T: Executor<'c, Database = Sqlite>> Handle<'c> for T {}

/// Decodes a JSON column.
fn decode_json<T: serde::de::DeserializeOwned>(json: Option<String>) -> Result<Option<T>, Error> {
    json.map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|error| Error::Decode(Box::new(error)))
}

/// Encodes a value for a JSON column.
fn encode_json<T: serde::Serialize>(value: Option<&T>) -> Result<Option<String>, Error> {
    value
        .map(serde_json::to_string)
        .transpose()
        .map_err(|error| Error::Encode(Box::new(error)))
}
