//! The `meeting_tokens` and `token_revocations` tables.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{Db, Error, Handle, Held};
use crate::error::AppError;

/// The record of an issued token.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// The token's id (`jti`).
    pub jti: String,
    /// Its properties, as JSON.
    pub properties_json: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Records tokens this server issued, in one statement.
pub async fn insert_many(db: impl Handle<'_>, records: &[&TokenRecord]) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..records.len())
        .map(|row| format!("(${}, ${}, ${})", 3 * row + 1, 3 * row + 2, 3 * row + 3))
        .collect();
    let sql = format!(
        "INSERT INTO meeting_tokens (jti, properties, created_at) VALUES {}",
        values.join(", ")
    );
    run!(db, |db| {
        let mut query = sqlx::query(&sql);
        for record in records {
            query = query
                .bind(record.jti.as_str())
                .bind(record.properties_json.as_str())
                .bind(record.created_at);
        }
        query.execute(db).await.map(|_| ())
    })
}

/// Marks a token revoked (idempotent), until the token's own expiry `expires_at` (unix seconds;
/// `None`: it never expires, and neither does its revocation).
pub async fn revoke(
    db: impl Handle<'_>,
    token_key: &str,
    revoked_at: i64,
    expires_at: Option<i64>,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO token_revocations (token_key, revoked_at, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (token_key) DO NOTHING",
    )
    .bind(token_key)
    .bind(revoked_at)
    .bind(expires_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Whether a token has been revoked.
pub async fn is_revoked(db: impl Handle<'_>, token_key: &str) -> Result<bool, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM token_revocations WHERE token_key = $1)"
    )
    .bind(token_key)
    .fetch_one(db)
    .await)
}

/// Deletes up to `limit` revocations of tokens that expired before `before` (unix seconds): an
/// expired token opens nothing, revoked or not. How many; callers loop until a batch comes back
/// smaller.
pub async fn prune_revocations(db: impl Handle<'_>, before: i64, limit: u32) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM token_revocations WHERE token_key IN
         (SELECT token_key FROM token_revocations WHERE expires_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}

/// Records written in one statement at most.
const MAX_BATCH: usize = 64;

/// How long the writer keeps its connection with nothing to write; then it gives it back.
const HOLD_IDLE: Duration = Duration::from_secs(1);

/// A token record waiting to be written, and who waits for its commit.
struct Pending {
    record: TokenRecord,
    committed: oneshot::Sender<Result<(), String>>,
}

/// The writer of issued tokens' records: one task, which writes every record queued while the
/// previous write was under way in one multi-row `INSERT` (one statement and one commit for
/// many tokens), on a connection it holds while records keep coming ([`Db::hold`]), each in its
/// turn among the server's writers ([`Db::turn`]).
#[derive(Clone, Debug)]
pub struct TokenRecords {
    queue: mpsc::UnboundedSender<Pending>,
}

impl TokenRecords {
    /// Starts the writer on `db` (it ends when every handle is dropped).
    pub fn start(db: Db) -> Self {
        let (queue, pending) = mpsc::unbounded_channel();
        tokio::spawn(write_records(db, pending));
        Self { queue }
    }

    /// Records the token `jti` with its properties (JSON), issued at `created_at` (unix
    /// milliseconds); returns once the record is committed.
    pub async fn record(
        &self,
        jti: String,
        properties_json: String,
        created_at: i64,
    ) -> Result<(), AppError> {
        let (committed, answer) = oneshot::channel();
        let pending = Pending {
            record: TokenRecord {
                jti,
                properties_json,
                created_at,
            },
            committed,
        };
        if self.queue.send(pending).is_err() {
            return Err(AppError::internal(
                "recording a token",
                "the token writer has stopped",
            ));
        }
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(AppError::internal("recording a token", error)),
            Err(_) => Err(AppError::internal(
                "recording a token",
                "the token writer has stopped",
            )),
        }
    }
}

async fn write_records(db: Db, mut queue: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut held: Option<Held> = None;
    loop {
        let received = if held.is_some() {
            match tokio::time::timeout(HOLD_IDLE, queue.recv_many(&mut batch, MAX_BATCH)).await {
                Ok(received) => received,
                Err(_idle) => {
                    held = None;
                    continue;
                }
            }
        } else {
            queue.recv_many(&mut batch, MAX_BATCH).await
        };
        if received == 0 {
            return;
        }
        let records: Vec<&TokenRecord> = batch.iter().map(|pending| &pending.record).collect();
        let written = write_batch(&db, &mut held, &records)
            .await
            .map_err(|error| error.to_string());
        for pending in batch.drain(..) {
            // The requester may have gone; the record is written either way.
            let _ = pending.committed.send(written.clone());
        }
    }
}

/// Writes `records` in its turn, on the held connection, taking one first if none is held;
/// after a failure the connection is given back (it may be broken) and the next batch takes
/// another.
async fn write_batch(
    db: &Db,
    held: &mut Option<Held>,
    records: &[&TokenRecord],
) -> Result<(), Error> {
    // In turn with the write transactions (`Db::turn`), whose lock is otherwise taken again as
    // soon as it is freed; given back once the batch is written.
    let turn = db.turn().await?;
    let mut conn = match held.take() {
        Some(conn) => conn,
        None => db.hold().await?,
    };
    let written = insert_many(&mut conn, records).await;
    drop(turn);
    if written.is_ok() {
        *held = Some(conn);
    }
    written
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::ssr::db::{Open, sqlite_for_test as sqlite};

    /// The token writer takes its turn too: a record asked for before five write transactions
    /// is committed before the first of them begins. (Outside the queue it waited in SQLite's
    /// busy handler for a moment when the lock was free, which the queued writers, handing it
    /// on at once, hardly ever left.)
    #[tokio::test]
    async fn the_token_writer_takes_its_turn_among_the_write_transactions() {
        let (_dir, db) = sqlite().await;
        let records = TokenRecords::start(db.clone());
        let first = db.write().await.expect("the first write");
        let token = tokio::spawn(async move {
            records
                .record("0190d3f0a2b34c5d8e9f0a1b2c3d4e5f".into(), "{}".into(), 1)
                .await
                .expect("the token is recorded")
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for _ in 0..5 {
            let (db, seen) = (db.clone(), Arc::clone(&seen));
            writers.push(tokio::spawn(async move {
                let mut tx = db.write().await.expect("a write in turn");
                let Open::Sqlite(open) = &mut tx.open else {
                    unreachable!("a SQLite database")
                };
                let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM meeting_tokens")
                    .fetch_one(&mut **open)
                    .await
                    .expect("count the tokens");
                seen.lock().expect("seen").push(tokens);
                tx.commit().await.expect("commit");
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.commit().await.expect("commit the first");
        token.await.expect("the token's request ends");
        for writer in writers {
            writer.await.expect("the writer ends");
        }
        assert_eq!(*seen.lock().expect("seen"), [1, 1, 1, 1, 1]);
    }
}
