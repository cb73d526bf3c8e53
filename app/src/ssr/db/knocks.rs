//! The `knocks` table: who knocked on which room, and how each knock was settled.

use sqlx::FromRow;

use super::{Error, Handle, Tx};
use crate::model::{AccessLevel, HostMessage, Level, WaitingParticipant};

/// A knock as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct KnockRecord {
    /// The knock's id.
    pub id: String,
    /// The knocker's session.
    pub session_id: String,
    /// The name knocked with.
    pub name: String,
    /// The note for the hosts, if any.
    pub note: Option<String>,
    /// The client (its limit key) it came from, once recorded.
    pub client: Option<String>,
    /// Unix milliseconds.
    pub knocked_at: i64,
}

impl KnockRecord {
    /// The knock as admins see it: under the knocker's session id, as daily-js names a waiting
    /// participant (the same id the call's events, presence and eject use).
    pub fn participant(&self) -> WaitingParticipant {
        WaitingParticipant {
            id: self.session_id.clone(),
            name: self.name.clone(),
            note: self.note.clone(),
            awaiting_access: Level {
                level: AccessLevel::Full,
            },
        }
    }
}

/// Records a knock.
pub async fn insert(db: &mut Tx, knock: &KnockRecord, room: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO knocks (id, session_id, room, name, note, status, knocked_at)
         VALUES ($1, $2, $3, $4, $5, 'waiting', $6)",
    )
    .bind(&knock.id)
    .bind(&knock.session_id)
    .bind(room)
    .bind(&knock.name)
    .bind(&knock.note)
    .bind(knock.knocked_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// The waiting knock of a session.
pub async fn waiting_of(db: &mut Tx, session_id: &str) -> Result<Option<KnockRecord>, Error> {
    run!(db, |db| {
        sqlx::query_as(
        "SELECT id, session_id, name, note, client, knocked_at FROM knocks WHERE session_id = $1 AND status = 'waiting'",
    )
    .bind(session_id)
    .fetch_optional(db)
    .await
    })
}

/// Changes the name and note of the waiting knock of session `session_id`.
pub async fn rename(
    db: &mut Tx,
    session_id: &str,
    name: &str,
    note: Option<&str>,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE knocks SET name = $1, note = $2 WHERE session_id = $3 AND status = 'waiting'"
    )
    .bind(name)
    .bind(note)
    .bind(session_id)
    .execute(db)
    .await
    .map(|_| ()))
}

/// The room's lobby, oldest knock first.
pub async fn waiting(db: impl Handle<'_>, room: &str) -> Result<Vec<KnockRecord>, Error> {
    run!(db, |db| sqlx::query_as(
        "SELECT id, session_id, name, note, client, knocked_at FROM knocks
         WHERE room = $1 AND status = 'waiting' ORDER BY knocked_at, id",
    )
    .bind(room)
    .fetch_all(db)
    .await)
}

/// How many knocks wait in a room.
pub async fn count_waiting(db: &mut Tx, room: &str) -> Result<i64, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM knocks WHERE room = $1 AND status = 'waiting'"
    )
    .bind(room)
    .fetch_one(db)
    .await)
}

/// Records which client (its limit key) the waiting knock of session `session_id` came from.
pub async fn set_client(db: &mut Tx, session_id: &str, client: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE knocks SET client = $1 WHERE session_id = $2 AND status = 'waiting'"
    )
    .bind(client)
    .bind(session_id)
    .execute(db)
    .await
    .map(|_| ()))
}

/// How many knocks from `client` (its limit key) wait in a room.
pub async fn count_waiting_from(db: &mut Tx, room: &str, client: &str) -> Result<i64, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM knocks WHERE room = $1 AND client = $2 AND status = 'waiting'"
    )
    .bind(room)
    .bind(client)
    .fetch_one(db)
    .await)
}

/// Settles the waiting knock of session `session_id` in `room`: the one conditional write that
/// makes a decision exactly-once. Returns the knock when this call settled it, `None` when none
/// was waiting.
pub async fn settle(
    db: &mut Tx,
    room: &str,
    session_id: &str,
    status: &str,
    decided_by: Option<&str>,
    now: i64,
) -> Result<Option<KnockRecord>, Error> {
    run!(db, |db| sqlx::query_as(
        "UPDATE knocks SET status = $1, decided_at = $2, decided_by = $3
         WHERE session_id = $4 AND room = $5 AND status = 'waiting'
         RETURNING id, session_id, name, note, client, knocked_at",
    )
    .bind(status)
    .bind(now)
    .bind(decided_by)
    .bind(session_id)
    .bind(room)
    .fetch_optional(db)
    .await)
}

/// Deletes up to `limit` knocks settled (admitted, denied, cancelled) before `before` (unix
/// milliseconds); how many. Batched: callers loop until a batch comes back smaller.
pub async fn prune_settled(db: &mut Tx, before: i64, limit: u32) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM knocks WHERE id IN
         (SELECT id FROM knocks WHERE status <> 'waiting' AND decided_at < $1
          ORDER BY decided_at LIMIT $2)",
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}

/// The place in line of session `session_id`'s waiting knock in `room` (1 = next: the oldest
/// knock), or `None` when it has none.
pub async fn position(
    db: impl Handle<'_>,
    room: &str,
    session_id: &str,
) -> Result<Option<i64>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM knocks o
                 WHERE o.room = k.room AND o.status = 'waiting'
                   AND (o.knocked_at < k.knocked_at
                        OR (o.knocked_at = k.knocked_at AND o.id < k.id))) + 1
         FROM knocks k WHERE k.room = $1 AND k.session_id = $2 AND k.status = 'waiting'"
    )
    .bind(room)
    .bind(session_id)
    .fetch_optional(db)
    .await)
}

/// Keeps `message` (from `from`) as the last message to the waiting knock of each session in
/// `session_ids` of `room`; the sessions that were waiting.
pub async fn set_message(
    db: &mut Tx,
    room: &str,
    session_ids: &[String],
    message: &HostMessage,
) -> Result<Vec<String>, Error> {
    let mut waiting = Vec::new();
    for session_id in session_ids {
        let updated = run!(&mut *db, |db| sqlx::query(
            "UPDATE knocks SET message = $1, message_from = $2
             WHERE room = $3 AND session_id = $4 AND status = 'waiting'"
        )
        .bind(&message.text)
        .bind(&message.from)
        .bind(room)
        .bind(session_id)
        .execute(db)
        .await
        .map(|result| result.rows_affected() == 1))?;
        if updated {
            waiting.push(session_id.clone());
        }
    }
    Ok(waiting)
}

/// The last message a host sent to the waiting knock of `session_id`, if any.
pub async fn message_of(
    db: impl Handle<'_>,
    session_id: &str,
) -> Result<Option<HostMessage>, Error> {
    let found: Option<(Option<String>, Option<String>)> = run!(db, |db| sqlx::query_as(
        "SELECT message, message_from FROM knocks WHERE session_id = $1 AND status = 'waiting'"
    )
    .bind(session_id)
    .fetch_optional(db)
    .await)?;
    Ok(match found {
        Some((Some(text), Some(from))) => Some(HostMessage { text, from }),
        _ => None,
    })
}
