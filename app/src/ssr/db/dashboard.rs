//! The `dashboard_sessions` table, and the live counts the dashboard shows.

use std::collections::HashMap;

use super::{Db, Error, Handle};

/// Records a sign-in, made under the API key `key_id`.
pub async fn insert_session(
    db: impl Handle<'_>,
    secret_hash: &str,
    key_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO dashboard_sessions (secret_hash, key_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(secret_hash)
    .bind(key_id)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Whether a sign-in is valid at `now`: not expired, and made under the API key `key_id` (a
/// new key signs every operator out).
pub async fn session_valid(
    db: impl Handle<'_>,
    secret_hash: &str,
    key_id: &str,
    now: i64,
) -> Result<bool, Error> {
    run!(db, |db| {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM dashboard_sessions
                            WHERE secret_hash = $1 AND key_id = $2 AND expires_at > $3)",
        )
        .bind(secret_hash)
        .bind(key_id)
        .bind(now)
        .fetch_one(db)
        .await
    })
}

/// Ends a sign-in.
pub async fn delete_session(db: impl Handle<'_>, secret_hash: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM dashboard_sessions WHERE secret_hash = $1"
    )
    .bind(secret_hash)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Deletes up to `limit` sign-ins that expired before `now` (unix seconds) or were made under
/// another API key than `key_id`; how many. Batched: callers loop until a batch comes back
/// smaller.
pub async fn prune_sessions(
    db: impl Handle<'_>,
    key_id: &str,
    now: i64,
    limit: u32,
) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM dashboard_sessions WHERE secret_hash IN
         (SELECT secret_hash FROM dashboard_sessions
          WHERE expires_at < $1 OR key_id IS NULL OR key_id <> $2 LIMIT $3)",
    )
    .bind(now)
    .bind(key_id)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}

/// Per room: (people in the call, knocks waiting).
pub async fn live_counts(db: &Db) -> Result<HashMap<String, (i64, i64)>, Error> {
    let in_call: Vec<(String, i64)> = run!(db, |db| sqlx::query_as(
        "SELECT room, COUNT(*) FROM sessions WHERE phase = 'in_call' GROUP BY room"
    )
    .fetch_all(db)
    .await)?;
    let waiting: Vec<(String, i64)> = run!(db, |db| sqlx::query_as(
        "SELECT room, COUNT(*) FROM knocks WHERE status = 'waiting' GROUP BY room"
    )
    .fetch_all(db)
    .await)?;
    let mut counts: HashMap<String, (i64, i64)> = HashMap::new();
    for (room, count) in in_call {
        counts.entry(room).or_default().0 = count;
    }
    for (room, count) in waiting {
        counts.entry(room).or_default().1 = count;
    }
    Ok(counts)
}
