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

/// How a session is kept out of its room, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ban {
    /// Ejected with a ban (the session or its user id).
    Ejected,
    /// Denied and blocked from knocking again.
    Blocked,
}

/// Whether a session (or its user id) is banned from a room, and how.
pub async fn ban_of(db: impl Handle<'_>, session: &SessionRecord) -> Result<Option<Ban>, Error> {
    let kinds: Vec<String> = run!(db, |db| {
        sqlx::query_scalar(
        "SELECT kind FROM bans WHERE room = $1
             AND ((kind IN ('session', 'blocked') AND value = $2) OR (kind = 'user' AND value = $3))",
    )
    .bind(&session.room)
    .bind(&session.id)
    .bind(session.user_id.as_deref().unwrap_or(""))
    .fetch_all(db)
    .await
    })?;
    Ok(if kinds.iter().any(|kind| kind != "blocked") {
        Some(Ban::Ejected)
    } else if kinds.is_empty() {
        None
    } else {
        Some(Ban::Blocked)
    })
}

/// Whether knocks from `client` (its limit key) are blocked in `room`.
pub async fn client_blocked(db: &mut Tx, room: &str, client: &str) -> Result<bool, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bans WHERE room = $1 AND kind = 'client' AND value = $2)",
    )
    .bind(room)
    .bind(client)
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
