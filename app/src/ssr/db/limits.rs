//! The `rate_limits` table: one row per limited key (a client and room, say), holding the key's
//! theoretical arrival time (`tat`, unix milliseconds) of the generic cell rate algorithm.
//!
//! A key with interval `T` and burst `B` may act at `now` when `max(tat, now) + T - B*T <= now`;
//! acting moves its tat to `max(tat, now) + T`. A missing row is a key with `tat <= now`: fully
//! refilled.

use super::{Error, Handle};

/// Counts one action of `key` at `now` (unix milliseconds) when its allowance has room for it:
/// an action every `interval` milliseconds, `burst` of them at once. Returns whether it did.
///
/// One statement, so servers checking the same key at once never both take its last place: a
/// refused check changes nothing.
pub async fn take(
    db: impl Handle<'_>,
    key: &str,
    now: i64,
    interval: i64,
    burst: i64,
) -> Result<bool, Error> {
    let tolerance = interval.saturating_mul(burst);
    // The same statement on both backends, but for the name of the two-argument maximum.
    let taken: Option<i64> = run!(db,
        sqlite: |db| sqlx::query_scalar(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = MAX(rate_limits.tat, $2) + $3
             WHERE MAX(rate_limits.tat, $2) + $3 - $4 <= $2
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(interval)
        .bind(tolerance)
        .fetch_optional(db)
        .await,
        postgres: |db| sqlx::query_scalar(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(rate_limits.tat, $2) + $3
             WHERE GREATEST(rate_limits.tat, $2) + $3 - $4 <= $2
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(interval)
        .bind(tolerance)
        .fetch_optional(db)
        .await
    )?;
    Ok(taken.is_some())
}

/// Deletes up to `limit` keys whose allowance has fully refilled by `now` (unix milliseconds),
/// which is the same as having no row; how many.
pub async fn prune(db: impl Handle<'_>, now: i64, limit: u32) -> Result<u64, Error> {
    // The outer `tat <= $1` is checked again on the row as it is when deleted: a key that
    // acted between the inner select and the delete (PostgreSQL, another server) keeps its row.
    run!(db, |db| sqlx::query(
        "DELETE FROM rate_limits
         WHERE key IN (SELECT key FROM rate_limits WHERE tat <= $1 LIMIT $2) AND tat <= $1",
    )
    .bind(now)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}

/// The stored tat of `key`, if it has a row.
#[cfg(test)]
pub async fn tat(db: impl Handle<'_>, key: &str) -> Result<Option<i64>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT tat FROM rate_limits WHERE key = $1"
    )
    .bind(key)
    .fetch_optional(db)
    .await)
}
