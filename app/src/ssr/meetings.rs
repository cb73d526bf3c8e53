//! Meetings (`GET /v1/meetings`, `GET /v1/meetings/{id}`): the record the lobby keeps of every
//! meeting (see `db::meetings`), as Daily's meeting analytics show it.

use super::{
    db::meetings::{self as repo, KnockOutcome, MeetingQuery, MeetingRecord, ParticipantRecord},
    state::AppState,
    time::now_millis,
};
use crate::{
    error::AppError,
    model::{Meeting, MeetingKnock, MeetingList, MeetingParticipant},
};

/// The most meetings one page lists, and how many it lists unless asked for fewer.
pub const MAX_PAGE: i64 = 100;

/// How long an ended meeting's record is kept.
pub const RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 60 * 60);

/// What a listing asks for, as the caller gave it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this room's meetings.
    pub room: Option<String>,
    /// The next page: meetings older than this one.
    pub starting_after: Option<String>,
    /// The previous page: meetings newer than this one.
    pub ending_before: Option<String>,
    /// Started at or after (unix seconds).
    pub timeframe_start: Option<i64>,
    /// Started before (unix seconds).
    pub timeframe_end: Option<i64>,
    /// Page size, 1 to [`MAX_PAGE`].
    pub limit: Option<i64>,
}

fn seconds(millis: i64) -> i64 {
    millis.div_euclid(1000)
}

fn participant(record: ParticipantRecord, now: i64) -> MeetingParticipant {
    MeetingParticipant {
        duration: seconds(record.leave_time.unwrap_or(now) - record.join_time).max(0),
        participant_id: record.participant_id,
        user_id: record.user_id,
        user_name: record.user_name,
        join_time: seconds(record.join_time),
    }
}

fn knock(record: KnockOutcome) -> MeetingKnock {
    MeetingKnock {
        participant_id: record.participant_id,
        user_name: record.user_name,
        knocked_at: seconds(record.knocked_at),
        outcome: record.outcome,
        decided_by: record.decided_by,
        decided_at: seconds(record.decided_at),
    }
}

fn meeting(record: MeetingRecord, now: i64) -> Meeting {
    Meeting {
        duration: seconds(record.end_time.unwrap_or(now) - record.start_time).max(0),
        ongoing: record.end_time.is_none(),
        id: record.id,
        room: record.room,
        start_time: seconds(record.start_time),
        max_participants: record.max_participants,
        participants: record
            .participants
            .into_iter()
            .map(|entry| participant(entry, now))
            .collect(),
        knocks: record.knocks.into_iter().map(knock).collect(),
    }
}

/// `GET /v1/meetings`: newest first, a page at a time.
pub async fn list(state: &AppState, filter: Filter) -> Result<MeetingList, AppError> {
    let limit = filter.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let query = MeetingQuery {
        room: filter.room,
        starting_after: filter.starting_after,
        ending_before: filter.ending_before,
        since: filter.timeframe_start.map(|at| at.saturating_mul(1000)),
        until: filter.timeframe_end.map(|at| at.saturating_mul(1000)),
        limit,
    };
    let (total_count, records) = repo::list(&state.db, &query).await?;
    let now = now_millis();
    Ok(MeetingList {
        total_count,
        data: records
            .into_iter()
            .map(|record| meeting(record, now))
            .collect(),
    })
}

/// `GET /v1/meetings/{id}`.
pub async fn get(state: &AppState, id: &str) -> Result<Meeting, AppError> {
    let record = repo::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("meeting {id} not found")))?;
    Ok(meeting(record, now_millis()))
}
