//! Presence, the lobby and ejection: `/v1/presence`, `/v1/rooms/{name}/presence`,
//! `/v1/rooms/{name}/waiting` and `/v1/rooms/{name}/eject`.

use std::collections::{BTreeMap, HashMap};

use app::{
    error::{AppError, ErrorBody},
    model::{
        Decisions, EjectRequest, Ejected, Participant, PresenceEntry, RoomPresence, WaitingEntry,
        WaitingList,
    },
    ssr::{
        input::from_value,
        lobby::{self, Actor, Decision},
        state::AppState,
        time::{now_millis, rfc3339_millis},
    },
};
use axum::{Json, body::Bytes, extract::State};
use serde::Deserialize;

use super::{body::JsonBody, room_path::RoomPath};

fn entry(room: &str, participant: Participant, now: i64) -> PresenceEntry {
    PresenceEntry {
        room: room.to_owned(),
        id: participant.session_id,
        user_id: participant.user_id,
        user_name: participant.user_name,
        join_time: rfc3339_millis(participant.joined_at),
        duration: (now - participant.joined_at).max(0) / 1000,
        video: participant.video,
        audio: participant.audio,
    }
}

/// Everyone in a call, by room.
#[utoipa::path(
    get,
    path = "/v1/presence",
    operation_id = "getPresence",
    tag = "presence",
    responses(
        (status = 200, description = "Room name → participants in its call", body = BTreeMap<String, Vec<PresenceEntry>>),
        (status = 401, description = "Wrong API key", body = ErrorBody),
    )
)]
pub async fn presence(
    State(state): State<AppState>,
) -> Result<Json<BTreeMap<String, Vec<PresenceEntry>>>, AppError> {
    let now = now_millis();
    let mut rooms: BTreeMap<String, Vec<PresenceEntry>> = BTreeMap::new();
    for (room, participant) in lobby::presence(&state).await? {
        let entry = entry(&room, participant, now);
        rooms.entry(room).or_default().push(entry);
    }
    Ok(Json(rooms))
}

/// Everyone in one room's call.
#[utoipa::path(
    get,
    path = "/v1/rooms/{name}/presence",
    operation_id = "getRoomPresence",
    tag = "presence",
    params(("name" = String, Path, description = "The room's name")),
    responses(
        (status = 200, description = "The room's call", body = RoomPresence),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    )
)]
pub async fn room_presence(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
) -> Result<Json<RoomPresence>, AppError> {
    let now = now_millis();
    let data: Vec<PresenceEntry> = lobby::room_presence(&state, &name)
        .await?
        .into_iter()
        .map(|participant| entry(&name, participant, now))
        .collect();
    Ok(Json(RoomPresence {
        total_count: i64::try_from(data.len()).unwrap_or(i64::MAX),
        data,
    }))
}

/// The lobby of a room.
#[utoipa::path(
    get,
    path = "/v1/rooms/{name}/waiting",
    operation_id = "listWaiting",
    tag = "lobby",
    params(("name" = String, Path, description = "The room's name")),
    responses(
        (status = 200, description = "Who is waiting, oldest knock first", body = WaitingList),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    )
)]
pub async fn waiting(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
) -> Result<Json<WaitingList>, AppError> {
    let data: Vec<WaitingEntry> = lobby::waiting_participants(&state, &Actor::Api, &name)
        .await?
        .into_iter()
        .map(|(participant, knocked_at)| WaitingEntry {
            id: participant.id,
            name: participant.name,
            note: participant.note,
            awaiting_access: participant.awaiting_access,
            knocked_at: rfc3339_millis(knocked_at),
        })
        .collect();
    Ok(Json(WaitingList {
        total_count: i64::try_from(data.len()).unwrap_or(i64::MAX),
        data,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitingUpdate {
    #[serde(rename = "grantRequestedAccess")]
    grant_requested_access: bool,
}

/// Admits or denies knocks: `{"<id>" | "*": {"grantRequestedAccess": bool}}`.
#[utoipa::path(
    post,
    path = "/v1/rooms/{name}/waiting",
    operation_id = "decideWaiting",
    tag = "lobby",
    params(("name" = String, Path, description = "The room's name")),
    request_body(content = Object, description = "Knock id or \"*\" → {\"grantRequestedAccess\": bool}; explicit ids win over \"*\""),
    responses(
        (status = 200, description = "Decided ids, and those already handled", body = Decisions),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
    body: Bytes,
) -> Result<Json<Decisions>, AppError> {
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|error| {
        AppError::JsonParsing(format!("the request body is not valid JSON: {error}"))
    })?;
    let updates: HashMap<String, WaitingUpdate> = from_value(value)?;
    if updates.is_empty() {
        return Err(AppError::invalid(
            "name at least one waiting participant's id (or \"*\") to decide on",
        ));
    }
    let decisions = updates
        .into_iter()
        .map(|(target, update)| Decision {
            target,
            grant: update.grant_requested_access,
            // Blocking through the API is `eject` with `ban`.
            block: false,
        })
        .collect();
    lobby::decide(&state, &Actor::Api, &name, decisions)
        .await
        .map(Json)
}

/// Ejects participants (and, with `ban`, keeps them out while the room exists).
#[utoipa::path(
    post,
    path = "/v1/rooms/{name}/eject",
    operation_id = "ejectParticipants",
    tag = "lobby",
    params(("name" = String, Path, description = "The room's name")),
    request_body = EjectRequest,
    responses(
        (status = 200, description = "Who was ejected", body = Ejected),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    )
)]
pub async fn eject(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
    JsonBody(request): JsonBody<EjectRequest>,
) -> Result<Json<Ejected>, AppError> {
    let ejected_ids =
        lobby::eject(&state, &name, &request.ids, &request.user_ids, request.ban).await?;
    Ok(Json(Ejected { ejected_ids }))
}
