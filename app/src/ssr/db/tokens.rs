//! The `meeting_tokens` and `token_revocations` tables.

use super::{Error, Handle};

/// Records a token this server issued.
pub async fn insert(
    db: impl Handle<'_>,
    jti: &str,
    properties_json: &str,
    created_at: i64,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO meeting_tokens (jti, properties, created_at) VALUES ($1, $2, $3)"
    )
    .bind(jti)
    .bind(properties_json)
    .bind(created_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Marks a token revoked (idempotent).
pub async fn revoke(db: impl Handle<'_>, token_key: &str, revoked_at: i64) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO token_revocations (token_key, revoked_at) VALUES ($1, $2)
         ON CONFLICT (token_key) DO NOTHING",
    )
    .bind(token_key)
    .bind(revoked_at)
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
