//! The `rate_limits` table: one row per limited key (a client and room, say), holding the key's
//! theoretical arrival time (`tat`, unix milliseconds) of the generic cell rate algorithm.
//!
//! A key with interval `T` and burst `B` may act at `now` when `max(tat, now) + T - B*T <= now`;
//! acting moves its tat to `max(tat, now) + T`. A missing row is a key with `tat <= now`: fully
//! refilled.

use super::{Error, Handle};

/// Counts one action of `key` at `now` (unix milliseconds) when its allowance has room for it:
/// an action every `interval` milliseconds, `burst` of them at once. Returns whether it did.
pub async fn take(
    db: impl Handle<'_>,
    key: &str,
    now: i64,
    interval: i64,
    burst: i64,
) -> Result<bool, Error> {
    spend(db, key, now, interval, interval.saturating_mul(burst)).await
}

/// Spends `cost` of the allowance stored under `key` at `now` (unix milliseconds), when there
/// is that much left; returns whether it did. Each unit of cost moves the key's `tat` on by a
/// millisecond, and a spend is allowed while `tat` stays within `window` milliseconds of now:
/// `window` worth of cost may be spent at once, refilling at one per millisecond ([`take`] is
/// the case of a fixed cost per action; the signaling budget spends its bytes).
///
/// One statement, so servers spending from the same key at once never both take its last
/// place: a refused spend changes nothing.
pub async fn spend(
    db: impl Handle<'_>,
    key: &str,
    now: i64,
    cost: i64,
    window: i64,
) -> Result<bool, Error> {
    if cost > window {
        // More than a whole allowance: never allowed (and a new key would otherwise take it).
        return Ok(false);
    }
    // The same statement on both backends, but for the name of the two-argument maximum.
    let spent: Option<i64> = run!(db,
        sqlite: |db| sqlx::query_scalar(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = MAX(rate_limits.tat, $2) + $3
             WHERE MAX(rate_limits.tat, $2) + $3 - $4 <= $2
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(cost)
        .bind(window)
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
        .bind(cost)
        .bind(window)
        .fetch_optional(db)
        .await
    )?;
    Ok(spent.is_some())
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
