//! The `events` and `event_recipients` tables: the log that streams replay from.

use sqlx::FromRow;

use super::{Error, Handle, Tx};

/// Appends an event for `recipients`; returns its id.
pub async fn insert(
    db: &mut Tx,
    room: &str,
    name: &str,
    payload: &str,
    recipients: &[String],
    now: i64,
) -> Result<i64, Error> {
    let id: i64 = run!(&mut *db, |db| {
        sqlx::query_scalar(
        "INSERT INTO events (room, name, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(room)
    .bind(name)
    .bind(payload)
    .bind(now)
    .fetch_one(db)
    .await
    })?;
    // One statement for every recipient: an event to a full room's 200 admins was 200 round
    // trips inside the writing transaction.
    let recipients =
        serde_json::to_string(recipients).map_err(|error| Error::Encode(Box::new(error)))?;
    run!(
        &mut *db,
        sqlite: |db| sqlx::query(
            "INSERT INTO event_recipients (session_id, event_id) SELECT value, $1 FROM json_each($2)",
        )
        .bind(id)
        .bind(&recipients)
        .execute(db)
        .await
        .map(|_| ()),
        postgres: |db| sqlx::query(
            "INSERT INTO event_recipients (session_id, event_id)
             SELECT value, $1 FROM json_array_elements_text($2::json)",
        )
        .bind(id)
        .bind(&recipients)
        .execute(db)
        .await
        .map(|_| ())
    )?;
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

/// How much of a session's log one read returns: at most `rows` events, and no more events once
/// their payloads reach `bytes` (the event that crosses it is included, so a page is never
/// empty while events remain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// The most events in a page.
    pub rows: u32,
    /// The payload bytes after which a page ends.
    pub bytes: u32,
}

impl Page {
    /// Whether `events`, read with this page, are the end of the log: when a page is full (by
    /// rows or bytes) there may be more after it.
    pub fn is_last(self, events: &[EventRow]) -> bool {
        let bytes: usize = events.iter().map(|event| event.payload.len()).sum();
        events.len() < self.rows as usize && bytes < self.bytes as usize
    }
}

/// One page of the events for a session after `after`, oldest first (see [`Page`]): replay
/// reads a session's log a page at a time, never all of it at once.
pub async fn since(
    db: impl Handle<'_>,
    session_id: &str,
    after: i64,
    page: Page,
) -> Result<Vec<EventRow>, Error> {
    // The running total counts each event's payload with those before it; an event is in the
    // page while the events before it stay under the byte limit.
    run!(db, |db| sqlx::query_as(
        "SELECT id, name, payload FROM (
             SELECT e.id, e.name, e.payload,
                    SUM(LENGTH(e.payload)) OVER (ORDER BY e.id) - LENGTH(e.payload) AS before
             FROM event_recipients r JOIN events e ON e.id = r.event_id
             WHERE r.session_id = $1 AND r.event_id > $2 ORDER BY e.id LIMIT $3
         ) page WHERE before < $4 ORDER BY id",
    )
    .bind(session_id)
    .bind(after)
    .bind(i64::from(page.rows))
    .bind(i64::from(page.bytes))
    .fetch_all(db)
    .await)
}

/// The id of the last event written for a session (0 when none).
pub async fn last_id(db: impl Handle<'_>, session_id: &str) -> Result<i64, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT COALESCE(MAX(event_id), 0) FROM event_recipients WHERE session_id = $1",
    )
    .bind(session_id)
    .fetch_one(db)
    .await)
}

/// Deletes up to `limit` of the oldest events older than `before` (unix milliseconds), with
/// their recipients; how many. A bounded batch keeps the write lock short: callers loop until
/// a batch comes back smaller than `limit`.
pub async fn prune(db: impl Handle<'_>, before: i64, limit: u32) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM events WHERE id IN
         (SELECT id FROM events WHERE created_at < $1 ORDER BY id LIMIT $2)",
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}

/// The name of signaling events, which are useful for minutes only.
pub const SIGNAL: &str = "signal";

/// Deletes up to `limit` of the oldest signaling events older than `before` (unix
/// milliseconds), with their recipients; how many. Batched as [`prune`].
pub async fn prune_signals(db: impl Handle<'_>, before: i64, limit: u32) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM events WHERE id IN
         (SELECT id FROM events WHERE name = $1 AND created_at < $2 ORDER BY id LIMIT $3)",
    )
    .bind(SIGNAL)
    .bind(before)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}

/// An event as a server reads it from the log to deliver it: with its recipients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomEvent {
    /// Increasing id: the SSE `id`.
    pub id: i64,
    /// The daily-js event name.
    pub name: String,
    /// The JSON payload.
    pub payload: String,
    /// The sessions it is for.
    pub recipients: Vec<String>,
}

/// A room's events after `after`, oldest first, each with its recipients.
pub async fn in_room_since(
    db: impl Handle<'_>,
    room: &str,
    after: i64,
) -> Result<Vec<RoomEvent>, Error> {
    let rows: Vec<(i64, String, String, String)> = run!(db, |db| sqlx::query_as(
        "SELECT e.id, e.name, e.payload, r.session_id
         FROM events e JOIN event_recipients r ON r.event_id = e.id
         WHERE e.room = $1 AND e.id > $2 ORDER BY e.id",
    )
    .bind(room)
    .bind(after)
    .fetch_all(db)
    .await)?;
    let mut events: Vec<RoomEvent> = Vec::new();
    for (id, name, payload, recipient) in rows {
        match events.last_mut() {
            Some(event) if event.id == id => event.recipients.push(recipient),
            _ => events.push(RoomEvent {
                id,
                name,
                payload,
                recipients: vec![recipient],
            }),
        }
    }
    Ok(events)
}

/// The highest event id of `room` (0 when it has none).
pub async fn last_in_room(db: impl Handle<'_>, room: &str) -> Result<i64, Error> {
    run!(db, |db| sqlx::query_scalar(
        "SELECT COALESCE(MAX(id), 0) FROM events WHERE room = $1"
    )
    .bind(room)
    .fetch_one(db)
    .await)
}

/// Each room with events after `after`, and its highest event id.
pub async fn rooms_since(db: impl Handle<'_>, after: i64) -> Result<Vec<(String, i64)>, Error> {
    run!(db, |db| sqlx::query_as(
        "SELECT room, MAX(id) FROM events WHERE id > $1 GROUP BY room"
    )
    .bind(after)
    .fetch_all(db)
    .await)
}
