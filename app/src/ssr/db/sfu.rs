//! The `sfu_rooms` and `sfu_participants` tables: which SFU room a Knock room is bound to (with
//! the pin and secret only Knock knows), each participant's SFU session and handles, and the
//! `call_topologies` each call was last told. In the database, so any server can relay a
//! participant's signaling or remove them.

use sqlx::FromRow;

use super::{Db, Error, Handle};

/// A Knock room's room on the SFU.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SfuRoomRecord {
    /// The Knock room's name.
    pub room: String,
    /// The SFU's id of the room, as JSON (a string or a number).
    pub sfu_room: String,
    /// The pin every participant's join must give.
    pub pin: String,
    /// The secret that edits, kicks from and destroys the room.
    pub secret: String,
    /// How many may publish at once (the Knock room's `max_participants`).
    pub max_publishers: i64,
    /// Whether the SFU room has been created.
    pub created: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A participant's place on the SFU.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SfuParticipantRecord {
    /// The Knock session in the call.
    pub session_id: String,
    /// The Knock room.
    pub room: String,
    /// Its SFU session.
    pub sfu_session: i64,
    /// Its publishing handle in that session.
    pub sfu_handle: i64,
    /// Whether it joined the SFU room as a publisher.
    pub published: bool,
    /// Its id among the SFU room's participants (JSON), once known.
    pub feed: Option<String>,
    /// The session's `joined_at` when it got this place: the stay in the call it belongs to.
    pub joined_at: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The handle in its SFU session that receives the others' media, once attached.
    pub sfu_subscriber: Option<i64>,
    /// The browser connection that published on this place (from its offer's tag), if known.
    pub connection: Option<String>,
}

const ROOM_COLUMNS: &str = "room, sfu_room, pin, secret, max_publishers, created, created_at";
const PARTICIPANT_COLUMNS: &str = "session_id, room, sfu_session, sfu_handle, published, feed, \
     joined_at, created_at, sfu_subscriber, connection";

/// `room`'s binding, if it has one.
pub async fn room(db: impl Handle<'_>, room: &str) -> Result<Option<SfuRoomRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SfuRoomRecord>(&format!(
        "SELECT {ROOM_COLUMNS} FROM sfu_rooms WHERE room = $1"
    ))
    .bind(room)
    .fetch_optional(db)
    .await)
}

/// Stores `binding` unless its room has one already; the room's binding either way (the first
/// one stored wins, so servers binding a room at once agree on it).
pub async fn bind_room(db: &Db, binding: &SfuRoomRecord) -> Result<SfuRoomRecord, Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO sfu_rooms (room, sfu_room, pin, secret, max_publishers, created, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (room) DO NOTHING"
    )
    .bind(&binding.room)
    .bind(&binding.sfu_room)
    .bind(&binding.pin)
    .bind(&binding.secret)
    .bind(binding.max_publishers)
    .bind(binding.created)
    .bind(binding.created_at)
    .execute(db)
    .await
    .map(|_| ()))?;
    room(db, &binding.room)
        .await?
        .ok_or_else(|| Error::RowNotFound)
}

/// Records that the SFU room of `room`'s binding `sfu_room` exists.
pub async fn room_created(db: impl Handle<'_>, room: &str, sfu_room: &str) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE sfu_rooms SET created = $3 WHERE room = $1 AND sfu_room = $2"
    )
    .bind(room)
    .bind(sfu_room)
    .bind(true)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Forgets `room`'s binding `sfu_room` (and not a newer one); whether it was there.
pub async fn unbind_room(db: impl Handle<'_>, room: &str, sfu_room: &str) -> Result<bool, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM sfu_rooms WHERE room = $1 AND sfu_room = $2"
    )
    .bind(room)
    .bind(sfu_room)
    .execute(db)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// The bindings of rooms that nobody is in the call of (deleted, expired, or empty): their SFU
/// rooms are destroyed.
pub async fn idle_rooms(db: impl Handle<'_>) -> Result<Vec<SfuRoomRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SfuRoomRecord>(&format!(
        "SELECT {ROOM_COLUMNS} FROM sfu_rooms r WHERE NOT EXISTS \
         (SELECT 1 FROM sessions s WHERE s.room = r.room AND s.phase = 'in_call') \
         ORDER BY room"
    ))
    .fetch_all(db)
    .await)
}

/// The participant of session `session_id` on the SFU, if it has joined it.
pub async fn participant(
    db: impl Handle<'_>,
    session_id: &str,
) -> Result<Option<SfuParticipantRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SfuParticipantRecord>(
        &format!("SELECT {PARTICIPANT_COLUMNS} FROM sfu_participants WHERE session_id = $1")
    )
    .bind(session_id)
    .fetch_optional(db)
    .await)
}

/// Records a participant on the SFU; `false` when its session has one already (another server
/// joined it meanwhile).
pub async fn add_participant(
    db: impl Handle<'_>,
    participant: &SfuParticipantRecord,
) -> Result<bool, Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO sfu_participants \
         (session_id, room, sfu_session, sfu_handle, published, feed, joined_at, created_at, \
          sfu_subscriber, connection) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING"
    )
    .bind(&participant.session_id)
    .bind(&participant.room)
    .bind(participant.sfu_session)
    .bind(participant.sfu_handle)
    .bind(participant.published)
    .bind(&participant.feed)
    .bind(participant.joined_at)
    .bind(participant.created_at)
    .bind(participant.sfu_subscriber)
    .bind(&participant.connection)
    .execute(db)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// Marks the participant on SFU session `sfu_session` as joined as a publisher, by the browser
/// connection `connection`; `false` when it had already (its first offer is relayed once).
pub async fn mark_published(
    db: impl Handle<'_>,
    session_id: &str,
    sfu_session: i64,
    connection: Option<&str>,
) -> Result<bool, Error> {
    run!(db, |db| sqlx::query(
        "UPDATE sfu_participants SET published = $3, connection = $5 \
         WHERE session_id = $1 AND sfu_session = $2 AND published = $4"
    )
    .bind(session_id)
    .bind(sfu_session)
    .bind(true)
    .bind(false)
    .bind(connection)
    .execute(db)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// Records the handle that receives the others' media for the participant on SFU session
/// `sfu_session`.
pub async fn set_subscriber(
    db: impl Handle<'_>,
    session_id: &str,
    sfu_session: i64,
    subscriber: i64,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE sfu_participants SET sfu_subscriber = $3 WHERE session_id = $1 AND sfu_session = $2"
    )
    .bind(session_id)
    .bind(sfu_session)
    .bind(subscriber)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Records the participant's id in the SFU room (JSON).
pub async fn set_feed(
    db: impl Handle<'_>,
    session_id: &str,
    sfu_session: i64,
    feed: &str,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "UPDATE sfu_participants SET feed = $3 WHERE session_id = $1 AND sfu_session = $2"
    )
    .bind(session_id)
    .bind(sfu_session)
    .bind(feed)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Forgets the participant on SFU session `sfu_session` (and not a newer one of the same Knock
/// session); whether it was there.
pub async fn remove_participant(
    db: impl Handle<'_>,
    session_id: &str,
    sfu_session: i64,
) -> Result<bool, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM sfu_participants WHERE session_id = $1 AND sfu_session = $2"
    )
    .bind(session_id)
    .bind(sfu_session)
    .execute(db)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// The participants on the SFU whose session is no longer in the call of their room (left,
/// removed, sent to the lobby, ejected, or gone with its room) in the stay their place belongs
/// to, or whose call was last told it is a mesh again (browsers publish to the SFU only after
/// being told `sfu`), in `room` or in every room.
pub async fn stale_participants(
    db: impl Handle<'_>,
    room: Option<&str>,
) -> Result<Vec<SfuParticipantRecord>, Error> {
    run!(db, |db| {
        sqlx::query_as::<_, SfuParticipantRecord>(
        &format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM sfu_participants p \
         WHERE ($1 IS NULL OR p.room = $1) AND (NOT EXISTS \
         (SELECT 1 FROM sessions s WHERE s.id = p.session_id AND s.room = p.room \
          AND s.phase = 'in_call' AND s.joined_at = p.joined_at) \
         OR EXISTS (SELECT 1 FROM call_topologies t WHERE t.room = p.room AND t.topology = 'peer')) \
         ORDER BY created_at"
        )
    )
    .bind(room)
    .fetch_all(db)
    .await
    })
}

/// Every participant on the SFU (for keeping their SFU sessions alive).
pub async fn all_participants(db: impl Handle<'_>) -> Result<Vec<SfuParticipantRecord>, Error> {
    run!(db, |db| sqlx::query_as::<_, SfuParticipantRecord>(
        &format!("SELECT {PARTICIPANT_COLUMNS} FROM sfu_participants ORDER BY created_at")
    )
    .fetch_all(db)
    .await)
}

/// The topology `room`'s call was last told (`peer` or `sfu`) and its version, if it was told
/// one.
pub async fn told_topology(
    db: impl Handle<'_>,
    room: &str,
) -> Result<Option<(String, i64)>, Error> {
    run!(db, |db| sqlx::query_as::<_, (String, i64)>(
        "SELECT topology, version FROM call_topologies WHERE room = $1"
    )
    .bind(room)
    .fetch_optional(db)
    .await)
}

/// Records that `room`'s call is told `topology` now, as its `version`.
pub async fn tell_topology(
    db: impl Handle<'_>,
    room: &str,
    topology: &str,
    version: i64,
) -> Result<(), Error> {
    run!(db, |db| sqlx::query(
        "INSERT INTO call_topologies (room, topology, version) VALUES ($1, $2, $3) \
         ON CONFLICT (room) DO UPDATE SET topology = $2, version = $3"
    )
    .bind(room)
    .bind(topology)
    .bind(version)
    .execute(db)
    .await
    .map(|_| ()))
}
