//! Meetings: `GET /v1/meetings` and `GET /v1/meetings/{id}`, as Daily's meeting analytics,
//! with Knock's lobby record of each meeting.

use std::collections::HashMap;

use app::{
    error::{AppError, ErrorBody},
    model::{Meeting, MeetingList},
    ssr::{
        meetings::{self, Filter},
        state::AppState,
        validate,
    },
};
use axum::{
    Json,
    extract::{Path, Query, State},
};

/// The longest meeting id accepted (ours are 36-character UUIDs).
const MAX_MEETING_ID: usize = 64;

fn number(query: &HashMap<String, String>, name: &str) -> Result<Option<i64>, AppError> {
    query
        .get(name)
        .map(|value| {
            value.trim().parse::<i64>().map_err(|_| {
                AppError::invalid(format!("{name} must be a whole number, not {value:?}"))
            })
        })
        .transpose()
}

fn id(query: &HashMap<String, String>, name: &str) -> Result<Option<String>, AppError> {
    query
        .get(name)
        .map(|value| {
            validate::identifier(name, value, MAX_MEETING_ID)?;
            Ok(value.clone())
        })
        .transpose()
}

/// Meetings, newest first.
#[utoipa::path(
    get,
    path = "/v1/meetings",
    operation_id = "listMeetings",
    tag = "meetings",
    params(
        ("room" = Option<String>, Query, description = "Only this room's meetings"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 100 (default 100)"),
        ("starting_after" = Option<String>, Query, description = "The next page: meetings older than this meeting id"),
        ("ending_before" = Option<String>, Query, description = "The previous page: meetings newer than this meeting id"),
        ("timeframe_start" = Option<i64>, Query, description = "Started at or after (unix seconds)"),
        ("timeframe_end" = Option<i64>, Query, description = "Started before (unix seconds)"),
    ),
    responses(
        (status = 200, description = "A page of meetings", body = MeetingList),
        (status = 400, description = "A parameter that is not what it should be", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<MeetingList>, AppError> {
    if let Some(room) = query.get("room") {
        validate::identifier("room", room, MAX_MEETING_ID)?;
    }
    let filter = Filter {
        room: query.get("room").cloned(),
        starting_after: id(&query, "starting_after")?,
        ending_before: id(&query, "ending_before")?,
        timeframe_start: number(&query, "timeframe_start")?,
        timeframe_end: number(&query, "timeframe_end")?,
        limit: number(&query, "limit")?,
    };
    Ok(Json(meetings::list(&state, filter).await?))
}

/// One meeting.
#[utoipa::path(
    get,
    path = "/v1/meetings/{id}",
    operation_id = "getMeeting",
    tag = "meetings",
    params(("id" = String, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "The meeting", body = Meeting),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such meeting", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Meeting>, AppError> {
    validate::identifier("id", &id, MAX_MEETING_ID)
        .map_err(|_| AppError::not_found(format!("meeting {} not found", id.escape_debug())))?;
    Ok(Json(meetings::get(&state, &id).await?))
}
