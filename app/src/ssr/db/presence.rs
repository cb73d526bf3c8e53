//! The presence tables: `instances` (the running servers), `presence_leases` (which server holds
//! an open event stream of which session) and `presence_absences` (since when a session has had
//! none); and how a server proves it is alive and who leads the maintenance work.
//!
//! On PostgreSQL a server is alive while it holds the advisory lock on its own id, on a
//! connection of its own (its [`Seat`]): when the process dies, so does the connection, and
//! PostgreSQL releases the lock at once. The maintenance leader is whoever holds the leader
//! lock on such a connection. On SQLite there is one server: it is alive, and it leads.

use sqlx::{ConnectOptions, Connection, PgConnection, postgres::PgConnectOptions};

use super::{Db, Error, Tx};

/// Advisory-lock namespace (the first key of a two-key lock) of the server locks: key 0 is the
/// maintenance leader's, key `n` is held by the server whose `instances.id` is `n`.
const SERVER_LOCK_SPACE: i32 = 0x6b6e_0002;

/// The second key of the leader lock (`instances.id` starts at 1).
const LEADER_KEY: i32 = 0;

/// A running server's place in the database: its `instances` row and, on PostgreSQL, the
/// connection that holds its lock (and the leader lock, once it has it). Dropping it without
/// [`Seat::leave`] is a crash: the row stays until the leader finds it dead.
pub struct Seat {
    id: i64,
    lock: Option<PgConnection>,
    leading: bool,
}

impl Seat {
    /// Registers this server, at `now` (unix milliseconds).
    pub async fn take(db: &Db, now: i64) -> Result<Self, Error> {
        let Some(pool) = db.postgres() else {
            let id = run!(db, |db| sqlx::query_scalar(
                "INSERT INTO instances (started_at) VALUES ($1) RETURNING id"
            )
            .bind(now)
            .fetch_one(db)
            .await)?;
            return Ok(Self {
                id,
                lock: None,
                leading: true,
            });
        };
        let options: PgConnectOptions = (*pool.connect_options()).clone();
        let mut lock = options.connect().await?;
        // PostgreSQL notices a vanished host (not just a dead process) only when it probes the
        // connection: these probes make it drop the locks of an unreachable server within
        // about 10 s (5 s idle, then 3 unanswered probes 2 s apart).
        sqlx::query(
            "SELECT set_config('tcp_keepalives_idle', '5', false),
                    set_config('tcp_keepalives_interval', '2', false),
                    set_config('tcp_keepalives_count', '3', false)",
        )
        .execute(&mut lock)
        .await?;
        // The row becomes visible with its lock already held: a row without a held lock is
        // always a dead server's.
        let mut tx = lock.begin().await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO instances (started_at) VALUES ($1) RETURNING id")
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
        // A session-level lock: it outlives the transaction, until the connection closes.
        sqlx::query("SELECT pg_advisory_lock($1, $2::int4)")
            .bind(SERVER_LOCK_SPACE)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Self {
            id,
            lock: Some(lock),
            leading: false,
        })
    }

    /// This server's `instances.id`.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Checks that the seat still stands and, on PostgreSQL, tries for the leader lock if this
    /// server does not hold it yet; whether it leads. An error means the seat is lost (its
    /// connection failed, or its row was removed): take a new one.
    pub async fn keep(&mut self, db: &Db) -> Result<bool, Error> {
        let standing = match &mut self.lock {
            None => run!(db, |db| sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM instances WHERE id = $1)"
            )
            .bind(self.id)
            .fetch_one(db)
            .await)?,
            // On the seat's own connection: as long as it answers, its locks are held.
            Some(lock) => {
                let (standing, leading): (bool, bool) = sqlx::query_as(
                    "SELECT EXISTS (SELECT 1 FROM instances WHERE id = $1),
                            CASE WHEN $2 THEN TRUE ELSE pg_try_advisory_lock($3, $4) END",
                )
                .bind(self.id)
                .bind(self.leading)
                .bind(SERVER_LOCK_SPACE)
                .bind(LEADER_KEY)
                .fetch_one(&mut *lock)
                .await?;
                self.leading = leading;
                standing
            }
        };
        if !standing {
            return Err(Error::RowNotFound);
        }
        Ok(self.leading)
    }

    /// Stops this server cleanly at `now`: its sessions are absent from now on, its row and
    /// leases are removed, and its locks are released (leadership passes to another server).
    pub async fn leave(self, db: &Db, now: i64) -> Result<(), Error> {
        let removed = async {
            let mut tx = db.write().await?;
            remove_instance(&mut tx, self.id, now).await?;
            tx.commit().await
        }
        .await;
        if let Some(lock) = self.lock {
            lock.close().await?;
        }
        removed
    }
}

/// Records whether server `instance` holds an open event stream of `session_id`, at `now`
/// (unix milliseconds). While it does, the server has a lease and the session no absence mark.
/// When it stops, the lease goes and the session is marked absent from `now`, whatever other
/// servers hold: a mark beside a lease means nothing, and always writing it keeps two servers
/// that let go at once from both leaving the mark to the other.
pub async fn record(
    tx: &mut Tx,
    instance: i64,
    session_id: &str,
    open: bool,
    now: i64,
) -> Result<(), Error> {
    if open {
        run!(&mut *tx, |db| sqlx::query(
            "INSERT INTO presence_leases (session_id, instance_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING"
        )
        .bind(session_id)
        .bind(instance)
        .execute(db)
        .await
        .map(|_| ()))?;
        run!(&mut *tx, |db| sqlx::query(
            "DELETE FROM presence_absences WHERE session_id = $1"
        )
        .bind(session_id)
        .execute(db)
        .await
        .map(|_| ()))?;
    } else {
        run!(&mut *tx, |db| sqlx::query(
            "DELETE FROM presence_leases WHERE session_id = $1 AND instance_id = $2"
        )
        .bind(session_id)
        .bind(instance)
        .execute(db)
        .await
        .map(|_| ()))?;
        run!(&mut *tx, |db| sqlx::query(
            "INSERT INTO presence_absences (session_id, since)
             SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)
             ON CONFLICT (session_id) DO UPDATE SET since = excluded.since"
        )
        .bind(session_id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// The servers that are gone without having left, seen by server `own`. On PostgreSQL: those
/// whose lock nobody holds. On SQLite, where one server runs, every server but `own`.
pub async fn dead_instances(db: &Db, own: i64) -> Result<Vec<i64>, Error> {
    run!(db,
        sqlite: |db| sqlx::query_scalar("SELECT id FROM instances WHERE id <> $1 ORDER BY id")
            .bind(own)
            .fetch_all(db)
            .await,
        postgres: |db| sqlx::query_scalar(
            "SELECT i.id FROM instances i
             WHERE NOT EXISTS (
                 SELECT 1 FROM pg_locks l
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND l.classid::bigint = $1 AND l.objid::bigint = i.id
             )
             ORDER BY i.id"
        )
        .bind(i64::from(SERVER_LOCK_SPACE))
        .fetch_all(db)
        .await
    )
}

/// Removes server `instance` and its leases at `now`: every stored session it held a stream of
/// is marked absent from `now` (a session that also has a stream elsewhere stays present; a
/// visit not stored yet has nothing to be absent from).
pub async fn remove_instance(tx: &mut Tx, instance: i64, now: i64) -> Result<(), Error> {
    // Ordered by session, like every other writer of marks, so two of them never deadlock.
    run!(&mut *tx, |db| sqlx::query(
        "INSERT INTO presence_absences (session_id, since)
         SELECT l.session_id, $2 FROM presence_leases l
         JOIN sessions s ON s.id = l.session_id
         WHERE l.instance_id = $1 ORDER BY l.session_id
         ON CONFLICT (session_id) DO UPDATE SET since = excluded.since"
    )
    .bind(instance)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ()))?;
    // The leases go with the row.
    run!(&mut *tx, |db| sqlx::query(
        "DELETE FROM instances WHERE id = $1"
    )
    .bind(instance)
    .execute(db)
    .await
    .map(|_| ()))
}

/// The sessions waiting or in a call that have had no open stream anywhere since `cutoff`
/// (unix milliseconds): no lease, and neither a stream that ended, a knock nor a join after
/// `cutoff`. (A session that knocked or joined without ever opening a stream is absent from
/// that moment on.)
pub async fn absent_since(db: &Db, cutoff: i64) -> Result<Vec<String>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT s.id FROM sessions s
         WHERE s.phase IN ('waiting', 'in_call')
           AND COALESCE(s.joined_at, 0) <= $1
           AND NOT EXISTS (SELECT 1 FROM presence_leases l WHERE l.session_id = s.id)
           AND NOT EXISTS (
               SELECT 1 FROM presence_absences a WHERE a.session_id = s.id AND a.since > $1
           )
           AND NOT EXISTS (
               SELECT 1 FROM knocks k
               WHERE k.session_id = s.id AND k.status = 'waiting' AND k.knocked_at > $1
           )
         ORDER BY s.id"
    )
    .bind(cutoff)
    .fetch_all(db)
    .await)
}
