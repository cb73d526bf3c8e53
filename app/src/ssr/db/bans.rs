//! The `bans` table: who may not come back to a room while it exists.

use super::{Error, Handle, Tx, sessions::SessionRecord};

/// Bans a session id or a user id from a room.
pub async fn ban(db: &mut Tx, room: &str, kind: &str, value: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO bans (room, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    )
    .bind(room)
    .bind(kind)
    .bind(value)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Whether a session (or its user id) is banned from a room.
pub async fn is_banned(db: impl Handle<'_>, session: &SessionRecord) -> Result<bool, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bans WHERE room = $1
             AND ((kind = 'session' AND value = $2) OR (kind = 'user' AND value = $3)))",
    )
    .bind(&session.room)
    .bind(&session.id)
    .bind(session.user_id.as_deref().unwrap_or(""))
    .fetch_one(db)
    .await)
}

/// Forgets a deleted room's bans.
pub async fn clear(db: &mut Tx, room: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query("DELETE FROM bans WHERE room = $1")
        .bind(room)
        .execute(db)
        .await
        .map(|_| ()))
}
