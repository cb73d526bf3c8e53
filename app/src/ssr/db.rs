//! The repositories: every SQL statement and every database detail (connection options,
//! migrations, how a write transaction is opened) lives under this module, one file per table
//! group. Services hold a [`Db`] and open a [`Tx`]; they never see a connection or a pool.
//!
//! One binary serves both backends, chosen by the `DATABASE_URL` scheme: SQLite (the default)
//! and PostgreSQL (several servers on one database). A repository function is written once; the
//! [`run!`] macro type-checks its body against each backend's own sqlx driver, so values bind
//! and decode with each database's native types.

/// Runs a repository statement on a [`Handle`]: `$body` is compiled once per backend (and per
/// pool or transaction) with `$db` bound to that backend's sqlx executor, so binds and decodes
/// use each driver's native types. The second form gives each backend its own statement, for
/// the few places where their SQL differs.
macro_rules! run {
    ($handle:expr, |$db:ident| $body:expr) => {
        run!($handle, sqlite: |$db| $body, postgres: |$db| $body)
    };
    ($handle:expr, sqlite: |$s:ident| $sqlite:expr, postgres: |$p:ident| $postgres:expr) => {
        match $crate::ssr::db::Handle::conn($handle) {
            $crate::ssr::db::Conn::SqlitePool($s) => $sqlite,
            $crate::ssr::db::Conn::Sqlite($s) => $sqlite,
            $crate::ssr::db::Conn::PostgresPool($p) => $postgres,
            $crate::ssr::db::Conn::Postgres($p) => $postgres,
        }
    };
}

pub mod bans;
pub mod dashboard;
pub mod doorbell;
pub mod events;
pub mod knocks;
pub mod limits;
pub mod meetings;
pub mod presence;
pub mod rooms;
pub mod sessions;
pub mod settings;
pub mod sfu;
pub mod tokens;
pub mod webhooks;

use std::{fmt, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A database error, as repository functions return it.
pub type Error = sqlx::Error;

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A local SQLite file (or memory): one server.
    Sqlite,
    /// A PostgreSQL server, which several Knock servers may share.
    Postgres,
}

/// The database: a pool of connections, and on SQLite the queue of this server's writers
/// ([`Db::turn`]). Cheap to clone.
#[derive(Clone)]
pub struct Db(Pool, Option<Arc<Semaphore>>);

/// The queue of write transactions: one turn, given in the order they were asked for.
///
/// On SQLite a write transaction that finds the write lock taken is left to SQLite's busy
/// handler, which sleeps and retries (after 1, 2, 5, ... up to 100 ms), so whoever tries just as
/// the lock is freed gets it, whatever their wait: with 16 people toggling their camera at once,
/// one toggle waited over a second (figure g) while most took 10 ms. Waiting for the turn here
/// instead, each writer gets the lock in turn: every write transaction ([`Db::write`]), the
/// token writer's batches and the checkpoint's step that holds writers back ([`Db::turn`]).
/// A writer outside the queue would meet a lock that is taken again as soon as it is freed,
/// and wait for a gap; only single statements on the pool (a sign-in's count, a revocation)
/// still do. PostgreSQL queues writers per room itself ([`Db::write_room`]); there the turn is
/// not taken.
fn write_queue() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(1))
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How often the server checkpoints SQLite's write-ahead log ([`Db::checkpoint`]).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Frames (pages) in SQLite's log from which a checkpoint holds writers back to copy what was
/// written while it ran ([`Db::checkpoint`]): SQLite's own checkpoint threshold (about 4 MB).
pub const WAL_LIMIT: i64 = 1000;

/// How long the step of [`Db::checkpoint`] that holds writers back waits for the write lock and
/// for readers before it gives up until the next checkpoint.
pub const CHECKPOINT_WAIT: Duration = Duration::from_millis(200);

/// How long a statement waits for a lock another connection holds (SQLite's busy timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a [`Db::checkpoint`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// Frames in the log as the checkpoint found it (a passive one: when it began).
    pub frames: i64,
    /// How many of them are in the database file.
    pub copied: i64,
    /// Whether it went on to hold writers back (`RESTART`).
    pub held_writers: bool,
    /// Whether a lock it needed stayed taken: what it could not copy waits for the next one.
    pub busy: bool,
}

/// An open write transaction. Dropping it without [`Tx::commit`] rolls it back.
pub struct Tx {
    open: Open,
    /// The room whose write lock it holds ([`Db::write_room`]).
    room: Option<String>,
    /// Its turn in the write queue (SQLite), given back when it ends, however it ends.
    _turn: Option<Turn>,
}

/// A turn to write on SQLite ([`write_queue`]), held until dropped.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
}

enum Open {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Advisory-lock namespace (the first key of PostgreSQL's two-key advisory locks) of the
/// per-room write lock; the second key is the hash of the room's name.
const ROOM_LOCK_SPACE: i32 = 0x6b6e_0001;

/// One batch of a pruning job: how many rows it deleted ([`Db::prune_in_batches`]).
pub type PruneBatch<'t> = std::pin::Pin<Box<dyn Future<Output = Result<u64, Error>> + Send + 't>>;

/// Rows deleted per pruning transaction: each batch holds SQLite's write lock for a short while
/// only (a few tens of milliseconds for a room's usual audience).
pub const PRUNE_BATCH: u32 = 500;

/// The pause between pruning batches. Write transactions take turns in order ([`write_queue`]),
/// so every knock, join and decision waiting when a batch commits goes before the next one; the
/// pause leaves room for the single statements outside that queue too, which SQLite's busy
/// handler retries at least every 100 ms.
const PRUNE_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

impl Db {
    /// Opens the database at `url` and applies the migrations: `postgres://` (or
    /// `postgresql://`) selects PostgreSQL, anything else is a SQLite URL, whose file is created
    /// if missing and opened in WAL mode.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url).await
        } else {
            Self::connect_sqlite(url).await
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str(url)?;
        create_owner_only(url, &options)?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL keeps every commit durable across a process crash (only an OS
            // crash can lose the last transactions), at a fraction of FULL's fsyncs.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // No connection copies the log into the database file when it commits (SQLite's
            // default at 1,000 frames): the copy and its fsyncs would run on the committing
            // connection before its commit returns, and the token writer's commits are the ones
            // minting waits for. A task of the server checkpoints instead ([`Db::checkpoint`],
            // every [`CHECKPOINT_EVERY`]).
            .pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A local file does not drop connections the way a network server can: checking
            // each one with a ping before use cost a round trip to its worker thread per query.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self(Pool::Sqlite(pool), Some(write_queue())))
    }

    async fn connect_postgres(url: &str) -> Result<Self, Error> {
        let options = PgConnectOptions::from_str(url)?.application_name("knock");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // sqlx holds an advisory lock while it migrates, so servers starting together on one
        // database apply each migration once.
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self(Pool::Postgres(pool), None))
    }

    /// The database this is.
    pub fn backend(&self) -> Backend {
        match &self.0 {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (`LISTEN`); `None` on SQLite.
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.0 {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// Opens a write transaction that changes no room's lobby (pruning, say).
    ///
    /// On SQLite it waits for its turn in this server's write queue ([`write_queue`]), then
    /// takes the database's write lock at once (`BEGIN IMMEDIATE`), so the reads inside it and
    /// the writes that depend on them are one atomic step.
    pub async fn write(&self) -> Result<Tx, Error> {
        let turn = self.turn().await?;
        let open = match &self.0 {
            Pool::Sqlite(pool) => Open::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => Open::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            open,
            room: None,
            _turn: turn,
        })
    }

    /// Waits for this server's turn to write on SQLite ([`write_queue`]), for a write that is
    /// not a [`Db::write`] transaction; `None` on PostgreSQL. The turn is waited for as long as
    /// SQLite's busy handler would have waited for the lock: a writer stuck behind a
    /// transaction that never ends fails as it did then, rather than waiting for good.
    pub async fn turn(&self) -> Result<Option<Turn>, Error> {
        let Some(queue) = &self.1 else {
            return Ok(None);
        };
        let permit = tokio::time::timeout(BUSY_TIMEOUT, Arc::clone(queue).acquire_owned())
            .await
            .map_err(|_waited| Error::PoolTimedOut)?
            // The queue is never closed.
            .map_err(|_closed| Error::PoolClosed)?;
        Ok(Some(Turn { _permit: permit }))
    }

    /// Opens a write transaction on `room`: the reads inside it (counting a call, finding a
    /// waiting knock) and the writes that depend on them are one atomic step, and the room's
    /// events get ids in the order their transactions commit.
    ///
    /// SQLite has one writer at a time (`BEGIN IMMEDIATE`). PostgreSQL takes the room's
    /// advisory lock, held until commit or rollback, so writers to one room queue up on every
    /// server while different rooms write in parallel.
    pub async fn write_room(&self, room: &str) -> Result<Tx, Error> {
        let mut tx = self.write().await?;
        tx.room = Some(room.to_owned());
        if let Open::Postgres(open) = &mut tx.open {
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(ROOM_LOCK_SPACE)
                .bind(room)
                .execute(&mut **open)
                .await?;
        }
        Ok(tx)
    }

    /// Runs a pruning statement batch by batch ([`PRUNE_BATCH`] rows each), each batch in its
    /// own short write transaction with a pause between batches, until one comes back smaller;
    /// how many rows in all. Every pruning job uses it, so none holds the write lock (SQLite) or
    /// a room's rows (PostgreSQL) for long.
    pub async fn prune_in_batches(
        &self,
        batch: impl for<'t> Fn(&'t mut Tx, u32) -> PruneBatch<'t>,
    ) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let mut tx = self.write().await?;
            let deleted = batch(&mut tx, PRUNE_BATCH).await?;
            tx.commit().await?;
            total += deleted;
            if deleted < u64::from(PRUNE_BATCH) {
                return Ok(total);
            }
            tokio::time::sleep(PRUNE_PAUSE).await;
        }
    }

    /// Takes a connection out of the pool for a task that writes often, until the [`Held`] is
    /// dropped: no pool round trip per statement, and on SQLite a page cache that stays warm
    /// (a connection forgets its cached pages whenever another one has written).
    pub async fn hold(&self) -> Result<Held, Error> {
        Ok(Held(match &self.0 {
            Pool::Sqlite(pool) => HeldConn::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => HeldConn::Postgres(pool.acquire().await?),
        }))
    }

    /// Copies SQLite's write-ahead log into the database file, without holding up writers
    /// (`PASSIVE`). A checkpoint copies only the frames in the log when it began, and the log
    /// starts over only at a write that finds every frame copied: under steady writes a passive
    /// checkpoint never catches up, and the log would grow however often it ran. So when the
    /// log has [`WAL_LIMIT`] frames or more and `hold_writers` allows, it then copies what was
    /// written meanwhile holding writers back (`RESTART`, waiting at most [`CHECKPOINT_WAIT`]
    /// for the write lock and for readers), after which the next write starts the log over.
    /// `None` when there is no log: PostgreSQL, or SQLite in memory.
    pub async fn checkpoint(&self, hold_writers: bool) -> Result<Option<WalCheckpoint>, Error> {
        let Pool::Sqlite(pool) = &self.0 else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?;
        let (busy, frames, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut *conn)
                .await?;
        if busy == 0 && frames < 0 {
            return Ok(None);
        }
        let passive = WalCheckpoint {
            frames,
            copied,
            held_writers: false,
            busy: busy != 0,
        };
        if passive.busy || frames < WAL_LIMIT || !hold_writers {
            return Ok(Some(passive));
        }
        // The blocking step takes its turn among the writers, then waits briefly: a reader that
        // stays (an operator's open `sqlite3` transaction, say) would otherwise hold every
        // writer up for the whole busy timeout.
        let Ok(_turn) = self.turn().await else {
            return Ok(Some(WalCheckpoint {
                busy: true,
                ..passive
            }));
        };
        set_busy_timeout(&mut conn, CHECKPOINT_WAIT).await?;
        let restarted: Result<(i64, i64, i64), Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
                .fetch_one(&mut *conn)
                .await;
        if set_busy_timeout(&mut conn, BUSY_TIMEOUT).await.is_err() {
            // Never back in the pool with the short wait.
            drop(conn.detach());
        }
        let (busy, frames, copied) = restarted?;
        Ok(Some(WalCheckpoint {
            frames,
            copied,
            held_writers: true,
            busy: busy != 0,
        }))
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), Error> {
        run!(self, |db| sqlx::query("SELECT 1")
            .execute(db)
            .await
            .map(|_| ()))
    }

    /// Closes every connection (waiting for those in use to be returned).
    pub async fn close(&self) {
        match &self.0 {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Sets how long `conn`'s statements wait for a lock another connection holds.
async fn set_busy_timeout(conn: &mut SqliteConnection, wait: Duration) -> Result<(), Error> {
    sqlx::query(&format!("PRAGMA busy_timeout = {}", wait.as_millis()))
        .execute(conn)
        .await
        .map(|_| ())
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
    /// The room whose write lock this transaction holds, if it was opened on one.
    pub fn room(&self) -> Option<&str> {
        self.room.as_deref()
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        match self.open {
            Open::Sqlite(tx) => tx.commit().await,
            Open::Postgres(tx) => tx.commit().await,
        }
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

/// What a statement runs on: a pool or an open transaction, of one backend. Only [`run!`]
/// looks inside.
#[doc(hidden)]
pub enum Conn<'c> {
    /// The SQLite pool.
    SqlitePool(&'c SqlitePool),
    /// A SQLite transaction's connection.
    Sqlite(&'c mut SqliteConnection),
    /// The PostgreSQL pool.
    PostgresPool(&'c PgPool),
    /// A PostgreSQL transaction's connection.
    Postgres(&'c mut PgConnection),
}

/// A repository function's database handle: the pool (`&db`) or an open transaction
/// (`&mut tx`).
pub trait Handle<'c> {
    /// Where the statement runs.
    #[doc(hidden)]
    fn conn(self) -> Conn<'c>;
}

impl<'c> Handle<'c> for &'c Db {
    fn conn(self) -> Conn<'c> {
        match &self.0 {
            Pool::Sqlite(pool) => Conn::SqlitePool(pool),
            Pool::Postgres(pool) => Conn::PostgresPool(pool),
        }
    }
}

impl<'c> Handle<'c> for &'c mut Tx {
    fn conn(self) -> Conn<'c> {
        match &mut self.open {
            Open::Sqlite(tx) => Conn::Sqlite(tx),
            Open::Postgres(tx) => Conn::Postgres(tx),
        }
    }
}

/// A connection held out of the pool ([`Db::hold`]); back in the pool when dropped. Statements
/// run on it with `&mut held` as their handle, each committed on its own.
pub struct Held(HeldConn);

enum HeldConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl<'c> Handle<'c> for &'c mut Held {
    fn conn(self) -> Conn<'c> {
        match &mut self.0 {
            HeldConn::Sqlite(conn) => Conn::Sqlite(conn),
            HeldConn::Postgres(conn) => Conn::Postgres(conn),
        }
    }
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held").finish_non_exhaustive()
    }
}

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

/// A new SQLite database in a directory of its own, removed with the directory: for tests.
#[cfg(test)]
pub(crate) async fn sqlite_for_test() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("knock.db").display());
    (dir, Db::connect(&url).await.expect("open the database"))
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        time::Duration,
    };

    // By its full path: the layers' test reads `super` in this file as the module above `db`.
    use crate::ssr::db::sqlite_for_test as sqlite;

    /// Writers that ask while the lock is held get it in the order they asked, each once the one
    /// before has ended; SQLite's busy handler alone wakes them in no particular order (the
    /// last to ask retries soonest).
    #[tokio::test]
    async fn write_transactions_take_turns_in_the_order_they_asked() {
        let (_dir, db) = sqlite().await;
        let first = db.write().await.expect("the first write");
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for writer in 0..6 {
            let (db, order) = (db.clone(), Arc::clone(&order));
            writers.push(tokio::spawn(async move {
                let tx = db.write().await.expect("a write in turn");
                order.lock().expect("order").push(writer);
                tx.commit().await.expect("commit");
            }));
            // Each asks well after the one before.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            order.lock().expect("order").is_empty(),
            "nobody writes before the first ends"
        );
        first.commit().await.expect("commit the first");
        for writer in writers {
            writer.await.expect("the writer ends");
        }
        assert_eq!(*order.lock().expect("order"), [0, 1, 2, 3, 4, 5]);
    }

    /// A transaction dropped without a commit (an error on the way, a request that went away)
    /// gives its turn back, and the next writer goes on.
    #[tokio::test]
    async fn a_dropped_write_transaction_gives_its_turn_back() {
        let (_dir, db) = sqlite().await;
        let first = db.write().await.expect("the first write");
        let next = tokio::spawn({
            let db = db.clone();
            async move {
                let tx = db.write().await.expect("the next write");
                tx.commit().await.expect("commit")
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!next.is_finished(), "the next writer waits for the first");
        drop(first);
        tokio::time::timeout(Duration::from_secs(2), next)
            .await
            .expect("the next writer goes on within 2 s")
            .expect("the next writer ends");
    }
}
