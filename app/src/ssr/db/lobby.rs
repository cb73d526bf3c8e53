//! The `sessions`, `knocks`, `bans`, `events` and `event_recipients` tables.

use sqlx::{FromRow, SqliteConnection, SqlitePool};

use crate::{
    model::{Phase, WaitingParticipant},
    ssr::tokens::{Claims, TokenRejection},
};

/// A participant session in one room.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    /// Public participant id.
    pub id: String,
    /// The room's name.
    pub room: String,
    /// The verified token's claims.
    pub claims: Option<Claims>,
    /// Why the token was refused.
    pub refusal: Option<TokenRejection>,
    /// Revocation key of the token the session was opened with.
    pub token_key: Option<String>,
    /// Where the session stands.
    pub phase: Phase,
    /// May decide on knocks.
    pub is_admin: bool,
    /// Holds an owner token.
    pub is_owner: bool,
    /// The name given at join or knock (or the token's).
    pub user_name: Option<String>,
    /// `user_id` from the token.
    pub user_id: Option<String>,
    /// Joined the call at, unix milliseconds.
    pub joined_at: Option<i64>,
    /// Camera on, as the browser last said.
    pub video: bool,
    /// Microphone on, as the browser last said.
    pub audio: bool,
}

#[derive(FromRow)]
struct SessionRow {
    id: String,
    room: String,
    claims: Option<String>,
    refusal: Option<String>,
    token_key: Option<String>,
    phase: String,
    is_admin: bool,
    is_owner: bool,
    user_name: Option<String>,
    user_id: Option<String>,
    joined_at: Option<i64>,
    video: bool,
    audio: bool,
}

fn decode<T: serde::de::DeserializeOwned>(json: Option<String>) -> Result<Option<T>, sqlx::Error> {
    json.map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

fn encode<T: serde::Serialize>(value: Option<&T>) -> Result<Option<String>, sqlx::Error> {
    value
        .map(serde_json::to_string)
        .transpose()
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = sqlx::Error;

    fn try_from(row: SessionRow) -> Result<Self, Self::Error> {
        let phase = Phase::parse(&row.phase)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown phase {}", row.phase).into()))?;
        Ok(Self {
            id: row.id,
            room: row.room,
            claims: decode(row.claims)?,
            refusal: decode(row.refusal)?,
            token_key: row.token_key,
            phase,
            is_admin: row.is_admin,
            is_owner: row.is_owner,
            user_name: row.user_name,
            user_id: row.user_id,
            joined_at: row.joined_at,
            video: row.video,
            audio: row.audio,
        })
    }
}

const SESSION_COLUMNS: &str = "id, room, claims, refusal, token_key, phase, is_admin, is_owner, \
                               user_name, user_id, joined_at, video, audio";

/// A new session's fields.
pub struct NewSession<'a> {
    /// Public id.
    pub id: &'a str,
    /// SHA-256 of the cookie secret.
    pub secret_hash: &'a str,
    /// Room name.
    pub room: &'a str,
    /// Verified claims.
    pub claims: Option<&'a Claims>,
    /// Revocation key of the token.
    pub token_key: Option<&'a str>,
    /// Why the token was refused.
    pub refusal: Option<&'a TokenRejection>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Stores a new session in the `prejoin` phase.
pub async fn insert_session(db: &SqlitePool, new: NewSession<'_>) -> Result<(), sqlx::Error> {
    let is_admin = new.claims.is_some_and(Claims::is_admin);
    let is_owner = new.claims.is_some_and(Claims::is_owner);
    sqlx::query(
        "INSERT INTO sessions (id, secret_hash, room, claims, token_key, refusal, phase, is_admin,
                               is_owner, user_name, user_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'prejoin', ?, ?, ?, ?, ?)",
    )
    .bind(new.id)
    .bind(new.secret_hash)
    .bind(new.room)
    .bind(encode(new.claims)?)
    .bind(new.token_key)
    .bind(encode(new.refusal)?)
    .bind(is_admin)
    .bind(is_owner)
    .bind(new.claims.and_then(|claims| claims.u.clone()))
    .bind(new.claims.and_then(|claims| claims.ud.clone()))
    .bind(new.created_at)
    .execute(db)
    .await
    .map(|_| ())
}

/// The session whose cookie secret hashes to `secret_hash`, in `room`.
pub async fn session_by_secret(
    db: &SqlitePool,
    room: &str,
    secret_hash: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE secret_hash = ? AND room = ?"
    ))
    .bind(secret_hash)
    .bind(room)
    .fetch_optional(db)
    .await?
    .map(SessionRecord::try_from)
    .transpose()
}

/// The session with this id.
pub async fn session(
    db: impl sqlx::SqliteExecutor<'_>,
    id: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .map(SessionRecord::try_from)
    .transpose()
}

/// Sessions of a room in a phase.
pub async fn sessions_in(
    db: impl sqlx::SqliteExecutor<'_>,
    room: &str,
    phase: Phase,
) -> Result<Vec<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE room = ? AND phase = ? ORDER BY joined_at, id"
    ))
    .bind(room)
    .bind(phase.as_str())
    .fetch_all(db)
    .await?
    .into_iter()
    .map(SessionRecord::try_from)
    .collect()
}

/// Every session in a call, in every room.
pub async fn all_in_call(db: &SqlitePool) -> Result<Vec<SessionRecord>, sqlx::Error> {
    sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE phase = 'in_call' ORDER BY room, joined_at"
    ))
    .fetch_all(db)
    .await?
    .into_iter()
    .map(SessionRecord::try_from)
    .collect()
}

/// Ids of the sessions waiting or in a call (to resume presence timers after a restart).
pub async fn present_session_ids(db: &SqlitePool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM sessions WHERE phase IN ('waiting', 'in_call')")
        .fetch_all(db)
        .await
}

/// Ids of the sessions in a call, optionally only the admins.
pub async fn in_call_ids(
    db: &mut SqliteConnection,
    room: &str,
    admins_only: bool,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM sessions WHERE room = ? AND phase = 'in_call' AND (is_admin = 1 OR ? = 0)",
    )
    .bind(room)
    .bind(admins_only)
    .fetch_all(db)
    .await
}

/// How many sessions are in the call.
pub async fn count_in_call(db: &mut SqliteConnection, room: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE room = ? AND phase = 'in_call'")
        .bind(room)
        .fetch_one(db)
        .await
}

/// Whether an admin is in the call.
pub async fn admin_present(db: &SqlitePool, room: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE room = ? AND phase = 'in_call' AND is_admin = 1)",
    )
    .bind(room)
    .fetch_one(db)
    .await
}

/// Moves a session to `to` if it is in one of `from`; whether it moved.
pub async fn move_session(
    db: &mut SqliteConnection,
    id: &str,
    from: &[Phase],
    to: Phase,
) -> Result<bool, sqlx::Error> {
    let from: Vec<&str> = from.iter().map(|phase| phase.as_str()).collect();
    let result = sqlx::query(
        "UPDATE sessions SET phase = ? WHERE id = ? AND phase IN (SELECT value FROM json_each(?))",
    )
    .bind(to.as_str())
    .bind(id)
    .bind(serde_json::Value::from(from).to_string())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts a session in the call.
pub async fn enter_call(
    db: &mut SqliteConnection,
    id: &str,
    user_name: &str,
    joined_at: i64,
    eject: Option<(i64, &str)>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET phase = 'in_call', user_name = ?, joined_at = ?, eject_at = ?,
                             eject_type = ?, video = 0, audio = 0
         WHERE id = ?",
    )
    .bind(user_name)
    .bind(joined_at)
    .bind(eject.map(|(at, _)| at))
    .bind(eject.map(|(_, kind)| kind))
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Records whether a session in the call sends video and audio; whether it is in the call.
pub async fn set_media(
    db: &mut SqliteConnection,
    id: &str,
    video: bool,
    audio: bool,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE sessions SET video = ?, audio = ? WHERE id = ? AND phase = 'in_call'")
            .bind(video)
            .bind(audio)
            .bind(id)
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets the name a session goes by.
pub async fn set_user_name(
    db: &mut SqliteConnection,
    id: &str,
    user_name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET user_name = ? WHERE id = ?")
        .bind(user_name)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Sessions in a call that must leave by `now` (unix seconds), with the error type to send.
pub async fn due_for_ejection(
    db: &SqlitePool,
    now: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, COALESCE(eject_type, 'ejected') FROM sessions
         WHERE phase = 'in_call' AND eject_at IS NOT NULL AND eject_at <= ?",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// Ids of the sessions opened with a token, waiting or in a call.
pub async fn present_ids_with_token(
    db: &SqlitePool,
    token_key: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM sessions WHERE token_key = ? AND phase IN ('waiting', 'in_call', 'prejoin')",
    )
    .bind(token_key)
    .fetch_all(db)
    .await
}

/// A knock as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct KnockRecord {
    /// The knock's id.
    pub id: String,
    /// The knocker's session.
    pub session_id: String,
    /// The name knocked with.
    pub name: String,
    /// Unix milliseconds.
    pub knocked_at: i64,
}

impl KnockRecord {
    /// The knock as admins see it.
    pub fn participant(&self) -> WaitingParticipant {
        WaitingParticipant {
            id: self.id.clone(),
            name: self.name.clone(),
            awaiting_access: crate::model::Level {
                level: crate::model::AccessLevel::Full,
            },
        }
    }
}

/// Records a knock.
pub async fn insert_knock(
    db: &mut SqliteConnection,
    knock: &KnockRecord,
    room: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO knocks (id, session_id, room, name, status, knocked_at)
         VALUES (?, ?, ?, ?, 'waiting', ?)",
    )
    .bind(&knock.id)
    .bind(&knock.session_id)
    .bind(room)
    .bind(&knock.name)
    .bind(knock.knocked_at)
    .execute(db)
    .await
    .map(|_| ())
}

/// The waiting knock of a session.
pub async fn waiting_knock_of(
    db: &mut SqliteConnection,
    session_id: &str,
) -> Result<Option<KnockRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, session_id, name, knocked_at FROM knocks WHERE session_id = ? AND status = 'waiting'",
    )
    .bind(session_id)
    .fetch_optional(db)
    .await
}

/// Renames a waiting knock.
pub async fn rename_knock(
    db: &mut SqliteConnection,
    id: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE knocks SET name = ? WHERE id = ? AND status = 'waiting'")
        .bind(name)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// The room's lobby, oldest knock first.
pub async fn waiting_knocks(
    db: impl sqlx::SqliteExecutor<'_>,
    room: &str,
) -> Result<Vec<KnockRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, session_id, name, knocked_at FROM knocks
         WHERE room = ? AND status = 'waiting' ORDER BY knocked_at, id",
    )
    .bind(room)
    .fetch_all(db)
    .await
}

/// How many knocks wait in a room.
pub async fn count_waiting(db: &mut SqliteConnection, room: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM knocks WHERE room = ? AND status = 'waiting'")
        .bind(room)
        .fetch_one(db)
        .await
}

/// Settles a waiting knock: the one conditional write that makes a decision exactly-once.
/// Returns the knock when this call settled it, `None` when it was no longer waiting.
pub async fn settle_knock(
    db: &mut SqliteConnection,
    room: &str,
    id: &str,
    status: &str,
    decided_by: Option<&str>,
    now: i64,
) -> Result<Option<KnockRecord>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE knocks SET status = ?, decided_at = ?, decided_by = ?
         WHERE id = ? AND room = ? AND status = 'waiting'
         RETURNING id, session_id, name, knocked_at",
    )
    .bind(status)
    .bind(now)
    .bind(decided_by)
    .bind(id)
    .bind(room)
    .fetch_optional(db)
    .await
}

/// Bans a session id or a user id from a room.
pub async fn ban(
    db: &mut SqliteConnection,
    room: &str,
    kind: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO bans (room, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        .bind(room)
        .bind(kind)
        .bind(value)
        .execute(db)
        .await
        .map(|_| ())
}

/// Whether a session (or its user id) is banned from a room.
pub async fn is_banned(db: &SqlitePool, session: &SessionRecord) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bans WHERE room = ?
             AND ((kind = 'session' AND value = ?) OR (kind = 'user' AND value = ?)))",
    )
    .bind(&session.room)
    .bind(&session.id)
    .bind(session.user_id.as_deref().unwrap_or(""))
    .fetch_one(db)
    .await
}

/// Forgets a deleted room's bans.
pub async fn clear_bans(db: &mut SqliteConnection, room: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM bans WHERE room = ?")
        .bind(room)
        .execute(db)
        .await
        .map(|_| ())
}

/// Appends an event for `recipients`; returns its id.
pub async fn insert_event(
    db: &mut SqliteConnection,
    room: &str,
    name: &str,
    payload: &str,
    recipients: &[String],
    now: i64,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (room, name, payload, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(room)
    .bind(name)
    .bind(payload)
    .bind(now)
    .fetch_one(&mut *db)
    .await?;
    // One statement for every recipient: an event to a full room's 200 admins was 200 round
    // trips inside the writing transaction.
    let recipients =
        serde_json::to_string(recipients).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    sqlx::query(
        "INSERT INTO event_recipients (session_id, event_id) SELECT value, ? FROM json_each(?)",
    )
    .bind(id)
    .bind(recipients)
    .execute(&mut *db)
    .await?;
    Ok(id)
}

/// A logged event.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct EventRow {
    /// Increasing id: the SSE `id`.
    pub id: i64,
    /// The daily-js event name.
    pub name: String,
    /// The JSON payload.
    pub payload: String,
}

/// The events for a session after `after`, oldest first.
pub async fn events_since(
    db: &SqlitePool,
    session_id: &str,
    after: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id, e.name, e.payload FROM event_recipients r JOIN events e ON e.id = r.event_id
         WHERE r.session_id = ? AND r.event_id > ? ORDER BY e.id",
    )
    .bind(session_id)
    .bind(after)
    .fetch_all(db)
    .await
}

/// The id of the last event written for a session (0 when none).
pub async fn last_event_id(db: &SqlitePool, session_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(event_id), 0) FROM event_recipients WHERE session_id = ?",
    )
    .bind(session_id)
    .fetch_one(db)
    .await
}

/// Deletes events older than `before` (unix milliseconds); how many.
pub async fn prune_events(db: &SqlitePool, before: i64) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM events WHERE created_at < ?")
        .bind(before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
