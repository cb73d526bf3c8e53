//! Deployment-wide values kept in the database: the generated API key and the domain id.

use super::{Db, Error, Handle};

/// Returns the value stored under `key`, if any.
pub async fn get(db: impl Handle<'_>, key: &str) -> Result<Option<String>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT value FROM settings WHERE key = $1"
    )
    .bind(key)
    .fetch_optional(db)
    .await)
}

/// Stores `value` under `key` unless a value is already there, and returns the stored value.
/// Two processes starting on one fresh database therefore agree on a single value.
pub async fn get_or_insert(db: &Db, key: &str, value: &str) -> Result<String, Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
    )
    .bind(key)
    .bind(value)
    .execute(db)
    .await
    .map(|_| ()))?;
    run!(db, |db| sqlx::query_scalar(
        "SELECT value FROM settings WHERE key = $1"
    )
    .bind(key)
    .fetch_one(db)
    .await)
}
