//! The `meetings`, `meeting_participants` and `meeting_knocks` tables: every meeting of a room
//! (from the first participant entering its empty call to the last one leaving), who was in it,
//! and who knocked meanwhile with how it ended. Written inside the lobby's transactions, under
//! the room's lock, so a meeting's record follows the call exactly.

use sqlx::FromRow;

use super::{Error, Handle, Tx};

/// A meeting as stored, with its people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingRecord {
    /// The meeting's id.
    pub id: String,
    /// The room's name.
    pub room: String,
    /// Unix milliseconds.
    pub start_time: i64,
    /// Unix milliseconds; `None` while it goes on.
    pub end_time: Option<i64>,
    /// The most people in the call at once.
    pub max_participants: i64,
    /// Everyone who was in the call, in the order they entered (once per entry).
    pub participants: Vec<ParticipantRecord>,
    /// Everyone who knocked while it went on, in the order their knocks were settled.
    pub knocks: Vec<KnockOutcome>,
}

#[derive(FromRow)]
struct MeetingRow {
    id: String,
    room: String,
    start_time: i64,
    end_time: Option<i64>,
    max_participants: i64,
}

/// One stay of a participant in a meeting's call.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ParticipantRecord {
    /// Their session id.
    pub participant_id: String,
    /// `user_id` from their token.
    pub user_id: Option<String>,
    /// The name they went by.
    pub user_name: String,
    /// Unix milliseconds.
    pub join_time: i64,
    /// Unix milliseconds; `None` while they are in the call.
    pub leave_time: Option<i64>,
}

/// A knock settled while a meeting went on.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct KnockOutcome {
    /// The knocker's session id.
    pub participant_id: String,
    /// The name they knocked with.
    pub user_name: String,
    /// Unix milliseconds.
    pub knocked_at: i64,
    /// `allowed`, `denied` or `withdrawn`.
    pub outcome: String,
    /// Who decided (a name, or "the API"); `None` when the knocker withdrew.
    pub decided_by: Option<String>,
    /// Unix milliseconds.
    pub decided_at: i64,
}

/// The id of `room`'s meeting that goes on, if one does.
async fn ongoing(tx: &mut Tx, room: &str) -> Result<Option<String>, Error> {
    run!(tx, |db| sqlx::query_scalar(
        "SELECT id FROM meetings WHERE room = $1 AND end_time IS NULL"
    )
    .bind(room)
    .fetch_optional(db)
    .await)
}

/// Someone entered `room`'s call at `at`: into the meeting that goes on, or a new one when the
/// call was empty. Returns the id of the meeting it started, if it started one.
pub async fn joined(
    tx: &mut Tx,
    room: &str,
    participant: &ParticipantRecord,
    at: i64,
) -> Result<Option<String>, Error> {
    let (meeting, started) = match ongoing(tx, room).await? {
        Some(id) => (id, false),
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            run!(&mut *tx, |db| sqlx::query(
                "INSERT INTO meetings (id, room, start_time) VALUES ($1, $2, $3)"
            )
            .bind(&id)
            .bind(room)
            .bind(at)
            .execute(db)
            .await
            .map(|_| ()))?;
            (id, true)
        }
    };
    run!(&mut *tx, |db| {
        sqlx::query(
        "INSERT INTO meeting_participants (meeting_id, participant_id, user_id, user_name, join_time)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
    )
    .bind(&meeting)
    .bind(&participant.participant_id)
    .bind(&participant.user_id)
    .bind(&participant.user_name)
    .bind(at)
    .execute(db)
    .await
    .map(|_| ())
    })?;
    run!(&mut *tx, |db| sqlx::query(
        "UPDATE meetings SET max_participants = CASE WHEN here > max_participants THEN here
                                                     ELSE max_participants END
         FROM (SELECT COUNT(*) AS here FROM meeting_participants
               WHERE meeting_id = $1 AND leave_time IS NULL) AS present
         WHERE id = $1"
    )
    .bind(&meeting)
    .execute(db)
    .await
    .map(|_| ()))?;
    Ok(started.then_some(meeting))
}

/// Session `participant_id` left `room`'s call at `at`. Returns the id of the meeting that
/// ended with it, when they were the last one.
pub async fn left(
    tx: &mut Tx,
    room: &str,
    participant_id: &str,
    at: i64,
) -> Result<Option<String>, Error> {
    let Some(meeting) = ongoing(tx, room).await? else {
        return Ok(None);
    };
    run!(&mut *tx, |db| sqlx::query(
        "UPDATE meeting_participants SET leave_time = $1
         WHERE meeting_id = $2 AND participant_id = $3 AND leave_time IS NULL"
    )
    .bind(at)
    .bind(&meeting)
    .bind(participant_id)
    .execute(db)
    .await
    .map(|_| ()))?;
    let ended = run!(&mut *tx, |db| sqlx::query(
        "UPDATE meetings SET end_time = $1
         WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM meeting_participants
                                       WHERE meeting_id = $2 AND leave_time IS NULL)"
    )
    .bind(at)
    .bind(&meeting)
    .execute(db)
    .await
    .map(|result| result.rows_affected() == 1))?;
    Ok(ended.then_some(meeting))
}

/// A knock on `room` was settled: recorded with the meeting that goes on, if one does (a knock
/// withdrawn while nobody was in the call belongs to no meeting).
pub async fn knock_settled(tx: &mut Tx, room: &str, knock: &KnockOutcome) -> Result<(), Error> {
    run!(tx, |db| sqlx::query(
        "INSERT INTO meeting_knocks (meeting_id, participant_id, user_name, knocked_at, outcome,
                                     decided_by, decided_at)
         SELECT id, $2, $3, $4, $5, $6, $7 FROM meetings WHERE room = $1 AND end_time IS NULL
         ON CONFLICT DO NOTHING"
    )
    .bind(room)
    .bind(&knock.participant_id)
    .bind(&knock.user_name)
    .bind(knock.knocked_at)
    .bind(&knock.outcome)
    .bind(&knock.decided_by)
    .bind(knock.decided_at)
    .execute(db)
    .await
    .map(|_| ()))
}

/// Which meetings a listing asks for, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeetingQuery {
    /// Only this room's.
    pub room: Option<String>,
    /// Only those older than this meeting (the next page).
    pub starting_after: Option<String>,
    /// Only those newer than this meeting (the previous page).
    pub ending_before: Option<String>,
    /// Only those that started at or after this time (unix milliseconds).
    pub since: Option<i64>,
    /// Only those that started before this time (unix milliseconds).
    pub until: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// The meetings `query` asks for (newest first), with how many match it without its paging.
pub async fn list(
    db: impl Handle<'_> + Copy,
    query: &MeetingQuery,
) -> Result<(i64, Vec<MeetingRecord>), Error> {
    const FILTER: &str = "($1 IS NULL OR room = $1)
        AND ($2 IS NULL OR start_time >= $2) AND ($3 IS NULL OR start_time < $3)";
    let total: i64 = run!(db, |db| sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM meetings WHERE {FILTER}"
    ))
    .bind(&query.room)
    .bind(query.since)
    .bind(query.until)
    .fetch_one(db)
    .await)?;
    // Paging before `ending_before` walks forward from it, then the page is turned around.
    let backwards = query.ending_before.is_some() && query.starting_after.is_none();
    let order = if backwards { "ASC" } else { "DESC" };
    let rows: Vec<MeetingRow> = run!(db, |db| sqlx::query_as(&format!(
        "SELECT id, room, start_time, end_time, max_participants FROM meetings
         WHERE {FILTER}
           AND ($4 IS NULL OR seq < (SELECT seq FROM meetings WHERE id = $4))
           AND ($5 IS NULL OR seq > (SELECT seq FROM meetings WHERE id = $5))
         ORDER BY seq {order} LIMIT $6"
    ))
    .bind(&query.room)
    .bind(query.since)
    .bind(query.until)
    .bind(&query.starting_after)
    .bind(&query.ending_before)
    .bind(query.limit)
    .fetch_all(db)
    .await)?;
    let mut meetings = Vec::with_capacity(rows.len());
    for row in rows {
        meetings.push(with_people(db, row).await?);
    }
    if backwards {
        meetings.reverse();
    }
    Ok((total, meetings))
}

/// The meeting with this id.
pub async fn find(db: impl Handle<'_> + Copy, id: &str) -> Result<Option<MeetingRecord>, Error> {
    let row: Option<MeetingRow> = run!(db, |db| sqlx::query_as(
        "SELECT id, room, start_time, end_time, max_participants FROM meetings WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(db)
    .await)?;
    match row {
        Some(row) => Ok(Some(with_people(db, row).await?)),
        None => Ok(None),
    }
}

async fn with_people(db: impl Handle<'_> + Copy, row: MeetingRow) -> Result<MeetingRecord, Error> {
    let participants: Vec<ParticipantRecord> = run!(db, |db| sqlx::query_as(
        "SELECT participant_id, user_id, user_name, join_time, leave_time
         FROM meeting_participants WHERE meeting_id = $1 ORDER BY join_time, participant_id"
    )
    .bind(&row.id)
    .fetch_all(db)
    .await)?;
    let knocks: Vec<KnockOutcome> = run!(db, |db| sqlx::query_as(
        "SELECT participant_id, user_name, knocked_at, outcome, decided_by, decided_at
         FROM meeting_knocks WHERE meeting_id = $1 ORDER BY decided_at, participant_id"
    )
    .bind(&row.id)
    .fetch_all(db)
    .await)?;
    Ok(MeetingRecord {
        id: row.id,
        room: row.room,
        start_time: row.start_time,
        end_time: row.end_time,
        max_participants: row.max_participants,
        participants,
        knocks,
    })
}

/// Deletes up to `limit` meetings that ended before `before` (unix milliseconds), with their
/// people; how many. Batched: callers loop until a batch comes back smaller.
pub async fn prune(db: &mut Tx, before: i64, limit: u32) -> Result<u64, Error> {
    run!(db, |db| sqlx::query(
        "DELETE FROM meetings WHERE id IN
         (SELECT id FROM meetings WHERE end_time < $1 ORDER BY end_time LIMIT $2)",
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(db)
    .await
    .map(|result| result.rows_affected()))
}
