//! The `dashboard_sessions` table, and the live counts the dashboard shows.

use std::collections::HashMap;

use super::{Db, Error, Handle};

/// Records a sign-in.
pub async fn insert_session(
    db: impl Handle<'_>,
    secret_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO dashboard_sessions (secret_hash, created_at, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(secret_hash)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Whether a sign-in is valid at `now`.
pub async fn session_valid(
    db: impl Handle<'_>,
    secret_hash: &str,
    now: i64,
) -> Result<bool, Error> {
    run!(db, |db| {
        sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM dashboard_sessions WHERE secret_hash = $1 AND expires_at > $2)",
    )
    .bind(secret_hash)
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
