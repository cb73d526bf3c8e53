//! The `sessions` table: participant sessions, the phase each is in, and who is in a call.

use sqlx::FromRow;

use super::{Error, Handle, Tx, decode_json, encode_json};
use crate::{
    model::{CallErrorKind, Phase},
    ssr::domain::{
        claims::{Claims, TokenRejection},
        visits::SESSION_LIFETIME_MS,
    },
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
    /// For a visit that has not joined or knocked: the session to store when it does. `None`
    /// for a stored session.
    pub unsaved: Option<Box<NewSession>>,
}

impl SessionRecord {
    /// A session that is not stored yet (a visit), as it will be stored.
    pub fn unsaved(new: NewSession) -> Self {
        Self {
            id: new.id.clone(),
            room: new.room.clone(),
            claims: new.claims.clone(),
            refusal: new.refusal.clone(),
            token_key: new.token_key.clone(),
            phase: Phase::Prejoin,
            is_admin: new.claims.as_ref().is_some_and(Claims::is_admin),
            is_owner: new.claims.as_ref().is_some_and(Claims::is_owner),
            user_name: new.claims.as_ref().and_then(|claims| claims.u.clone()),
            user_id: new.claims.as_ref().and_then(|claims| claims.ud.clone()),
            joined_at: None,
            video: false,
            audio: false,
            unsaved: Some(Box::new(new)),
        }
    }
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

impl TryFrom<SessionRow> for SessionRecord {
    type Error = Error;

    fn try_from(row: SessionRow) -> Result<Self, Self::Error> {
        let phase = Phase::parse(&row.phase)
            .ok_or_else(|| Error::Decode(format!("unknown phase {}", row.phase).into()))?;
        Ok(Self {
            id: row.id,
            room: row.room,
            claims: decode_json(row.claims)?,
            refusal: decode_json(row.refusal)?,
            token_key: row.token_key,
            phase,
            is_admin: row.is_admin,
            is_owner: row.is_owner,
            user_name: row.user_name,
            user_id: row.user_id,
            joined_at: row.joined_at,
            video: row.video,
            audio: row.audio,
            unsaved: None,
        })
    }
}

const SESSION_COLUMNS: &str = "id, room, claims, refusal, token_key, phase, is_admin, is_owner, \
                               user_name, user_id, joined_at, video, audio";

/// A session to store: a visit that joins or knocks.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    /// Public id.
    pub id: String,
    /// SHA-256 of the cookie value.
    pub secret_hash: String,
    /// Room name.
    pub room: String,
    /// Verified claims.
    pub claims: Option<Claims>,
    /// Revocation key of the token.
    pub token_key: Option<String>,
    /// Why the token was refused.
    pub refusal: Option<TokenRejection>,
    /// The API key it is made under (`secrets::key_id`).
    pub key_id: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it ends unless it is in the lobby or a call then (unix milliseconds).
    pub expires_at: i64,
}

/// Stores a new session in the `prejoin` phase, in the room called `room` now (its id is kept:
/// a new room of the same name is another room).
pub async fn insert(db: impl Handle<'_>, new: &NewSession) -> Result<(), Error> {
    let record = SessionRecord::unsaved(new.clone());
    let claims = encode_json(new.claims.as_ref())?;
    let refusal = encode_json(new.refusal.as_ref())?;
    run!(db, |db| sqlx::query(
        "INSERT INTO sessions (id, secret_hash, room, claims, token_key, refusal, phase, is_admin,
                               is_owner, user_name, user_id, created_at, room_id, key_id,
                               expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'prejoin', $7, $8, $9, $10, $11,
                 (SELECT id FROM rooms WHERE name = $3), $12, $13)",
    )
    .bind(&new.id)
    .bind(&new.secret_hash)
    .bind(&new.room)
    .bind(&claims)
    .bind(&new.token_key)
    .bind(&refusal)
    .bind(record.is_admin)
    .bind(record.is_owner)
    .bind(&record.user_name)
    .bind(&record.user_id)
    .bind(new.created_at)
    .bind(&new.key_id)
    .bind(new.expires_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// What a cookie's hash finds among the stored sessions.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    /// A session that is still good.
    Valid(Box<SessionRecord>),
    /// A session that has ended: its day is over (or its token expired) while it was neither
    /// waiting nor in a call, it was made under another API key, or its room was deleted and
    /// a new room has its name.
    Ended,
    /// No stored session has this hash.
    Missing,
}

#[derive(FromRow)]
struct CheckedRow {
    #[sqlx(flatten)]
    row: SessionRow,
    valid: bool,
}

/// The session whose cookie value hashes to `secret_hash`, in `room`, and whether it is still
/// good at `now` (unix milliseconds) under the key `key_id`. A session in the lobby or a call
/// stays good for its whole day even when its token expires meanwhile (as in Daily, a token's
/// expiry keeps people out, it does not send them away unless `eject_at_token_exp`).
///
/// A session of a room that was deleted is still good while no room has its name (it is told
/// the room is gone), but not once a new room of that name exists: it is not that room's.
pub async fn by_secret(
    db: impl Handle<'_>,
    room: &str,
    secret_hash: &str,
    key_id: &str,
    now: i64,
) -> Result<Stored, Error> {
    let found = run!(db, |db| sqlx::query_as::<_, CheckedRow>(&format!(
        "SELECT {SESSION_COLUMNS},
                ((s.key_id IS NULL OR s.key_id = $3)
                 AND (s.expires_at > $4
                      OR (s.phase IN ('waiting', 'in_call') AND s.created_at > $5))
                 AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.name = s.room
                                 AND (s.room_id IS NULL OR r.id <> s.room_id))) AS valid
         FROM sessions s WHERE s.secret_hash = $1 AND s.room = $2"
    ))
    .bind(secret_hash)
    .bind(room)
    .bind(key_id)
    .bind(now)
    .bind(now - SESSION_LIFETIME_MS)
    .fetch_optional(db)
    .await)?;
    Ok(match found {
        Some(CheckedRow { row, valid: true }) => {
            Stored::Valid(Box::new(SessionRecord::try_from(row)?))
        }
        Some(CheckedRow { valid: false, .. }) => Stored::Ended,
        None => Stored::Missing,
    })
}

/// Sessions waiting or in a call that must end at `now` (unix milliseconds): their day is
/// over, or they were made under an API key other than `key_id`. With their rooms.
pub async fn ended(
    db: impl Handle<'_>,
    key_id: &str,
    now: i64,
) -> Result<Vec<(String, String)>, Error> {
    run!(db, |db| sqlx::query_as(
        "SELECT room, id FROM sessions
         WHERE phase IN ('waiting', 'in_call')
           AND (created_at <= $1 OR (key_id IS NOT NULL AND key_id <> $2))
         ORDER BY room, id",
    )
    .bind(now - SESSION_LIFETIME_MS)
    .bind(key_id)
    .fetch_all(db)
    .await)
}

/// Deletes up to `limit` sessions that ended before `now` (unix milliseconds) and are neither
/// waiting nor in a call, with their knocks; how many sessions. Batched: callers loop until a
/// batch comes back smaller than `limit`.
pub async fn prune(db: &mut Tx, now: i64, limit: u32) -> Result<u64, Error> {
    let ids: Vec<String> = run!(&mut *db, |db| sqlx::query_scalar(
        "SELECT id FROM sessions
         WHERE expires_at < $1 AND phase NOT IN ('waiting', 'in_call')
         ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let list = placeholders(1, ids.len());
    for table_and_column in ["knocks WHERE session_id", "sessions WHERE id"] {
        let sql = format!("DELETE FROM {table_and_column} IN ({list})");
        run!(&mut *db, |db| {
            let mut query = sqlx::query(&sql);
            for id in &ids {
                query = query.bind(id);
            }
            query.execute(db).await.map(|_| ())
        })?;
    }
    Ok(ids.len() as u64)
}

/// The session with this id.
pub async fn find(db: impl Handle<'_>, id: &str) -> Result<Option<SessionRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await)?
    .map(SessionRecord::try_from)
    .transpose()
}

/// Sessions of a room in a phase.
pub async fn in_phase(
    db: impl Handle<'_>,
    room: &str,
    phase: Phase,
) -> Result<Vec<SessionRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE room = $1 AND phase = $2 ORDER BY joined_at, id"
    ))
    .bind(room)
    .bind(phase.as_str())
    .fetch_all(db)
    .await)?
    .into_iter()
    .map(SessionRecord::try_from)
    .collect()
}

/// Every session in a call, in every room.
pub async fn all_in_call(db: impl Handle<'_>) -> Result<Vec<SessionRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE phase = 'in_call' ORDER BY room, joined_at"
    ))
    .fetch_all(db)
    .await)?
    .into_iter()
    .map(SessionRecord::try_from)
    .collect()
}

/// Ids of the sessions in a call, optionally only the admins.
pub async fn in_call_ids(db: &mut Tx, room: &str, admins_only: bool) -> Result<Vec<String>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT id FROM sessions WHERE room = $1 AND phase = 'in_call' AND (is_admin OR NOT $2)",
    )
    .bind(room)
    .bind(admins_only)
    .fetch_all(db)
    .await)
}

/// How many sessions are in the call.
pub async fn count_in_call(db: &mut Tx, room: &str) -> Result<i64, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE room = $1 AND phase = 'in_call'"
    )
    .bind(room)
    .fetch_one(db)
    .await)
}

/// Whether an admin is in the call.
pub async fn admin_present(db: impl Handle<'_>, room: &str) -> Result<bool, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE room = $1 AND phase = 'in_call' AND is_admin)",
    )
    .bind(room)
    .fetch_one(db)
    .await)
}

/// Moves a session to `to` if it is in one of `from`; whether it moved.
pub async fn move_phase(db: &mut Tx, id: &str, from: &[Phase], to: Phase) -> Result<bool, Error> {
    let sql = format!(
        "UPDATE sessions SET phase = $1 WHERE id = $2 AND phase IN ({})",
        placeholders(3, from.len())
    );
    run!(db, |db| {
        let mut query = sqlx::query(&sql).bind(to.as_str()).bind(id);
        for phase in from {
            query = query.bind(phase.as_str());
        }
        query
            .execute(db)
            .await
            .map(|result| result.rows_affected() == 1)
    })
}

/// Puts a session in the call if it is in one of `from`; whether it entered. The phase guard
/// makes entering one conditional write: a session that was moved meanwhile (ejected, say)
/// stays where it is.
pub async fn enter_call(
    db: &mut Tx,
    id: &str,
    from: &[Phase],
    user_name: &str,
    joined_at: i64,
    eject: Option<(i64, CallErrorKind)>,
) -> Result<bool, Error> {
    let sql = format!(
        "UPDATE sessions SET phase = 'in_call', user_name = $1, joined_at = $2, eject_at = $3,
                             eject_type = $4, video = FALSE, audio = FALSE
         WHERE id = $5 AND phase IN ({})",
        placeholders(6, from.len())
    );
    run!(db, |db| {
        let mut query = sqlx::query(&sql)
            .bind(user_name)
            .bind(joined_at)
            .bind(eject.map(|(at, _)| at))
            .bind(eject.map(|(_, kind)| kind.as_str()))
            .bind(id);
        for phase in from {
            query = query.bind(phase.as_str());
        }
        query
            .execute(db)
            .await
            .map(|result| result.rows_affected() == 1)
    })
}

/// Records whether a session in the call sends video and audio; whether it is in the call.
pub async fn set_media(db: &mut Tx, id: &str, video: bool, audio: bool) -> Result<bool, Error> {
    run!(db, |db| sqlx::query(
        "UPDATE sessions SET video = $1, audio = $2 WHERE id = $3 AND phase = 'in_call'"
    )
    .bind(video)
    .bind(audio)
    .bind(id)
    .execute(db)
    .await
    .map(|result| result.rows_affected() == 1))
}

/// Sets the name a session goes by.
pub async fn set_user_name(db: &mut Tx, id: &str, user_name: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE sessions SET user_name = $1 WHERE id = $2"
    )
    .bind(user_name)
    .bind(id)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Sessions in a call that must leave by `now` (unix seconds), with the error type to send.
pub async fn due_for_ejection(
    db: impl Handle<'_>,
    now: i64,
) -> Result<Vec<(String, CallErrorKind)>, Error> {
    let due: Vec<(String, Option<String>)> = run!(db, |db| sqlx::query_as(
        "SELECT id, eject_type FROM sessions
         WHERE phase = 'in_call' AND eject_at IS NOT NULL AND eject_at <= $1",
    )
    .bind(now)
    .fetch_all(db)
    .await)?;
    Ok(due
        .into_iter()
        .map(|(id, kind)| {
            let kind = kind
                .as_deref()
                .and_then(CallErrorKind::parse)
                .unwrap_or(CallErrorKind::Ejected);
            (id, kind)
        })
        .collect())
}

/// Ids of the sessions of `room` opened with a token, at the door, waiting or in a call.
pub async fn present_ids_with_token(
    db: impl Handle<'_>,
    room: &str,
    token_key: &str,
) -> Result<Vec<String>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT id FROM sessions WHERE token_key = $1 AND room = $2
           AND phase IN ('waiting', 'in_call', 'prejoin') ORDER BY id",
    )
    .bind(token_key)
    .bind(room)
    .fetch_all(db)
    .await)
}

/// The rooms with sessions opened with a token, at the door, waiting or in a call.
pub async fn rooms_with_token(db: impl Handle<'_>, token_key: &str) -> Result<Vec<String>, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT DISTINCT room FROM sessions
         WHERE token_key = $1 AND phase IN ('waiting', 'in_call', 'prejoin') ORDER BY room",
    )
    .bind(token_key)
    .fetch_all(db)
    .await)
}

/// Each room and revoked token with sessions still at the door, waiting or in a call.
pub async fn present_with_revoked_token(
    db: impl Handle<'_>,
) -> Result<Vec<(String, String)>, Error> {
    run!(db, |db| sqlx::query_as(
        "SELECT DISTINCT s.room, s.token_key FROM token_revocations r
         JOIN sessions s ON s.token_key = r.token_key
         WHERE s.phase IN ('waiting', 'in_call', 'prejoin') ORDER BY s.room, s.token_key",
    )
    .fetch_all(db)
    .await)
}

/// `count` numbered placeholders from `$first`, comma-separated: the phase list of a guarded
/// update, bound one phase each.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
