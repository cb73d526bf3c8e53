//! `/v1/rooms`: create, list, read, update and delete rooms.

use app::{
    error::{AppError, ErrorBody},
    model::{CreateRoom, Room, RoomDeleted, RoomList, UpdateRoom},
    ssr::{
        rooms::{self, ListQuery},
        state::AppState,
        time::now,
    },
};
use axum::{
    Json,
    extract::{Query, State},
};

use super::{body::JsonBody, room_path::RoomPath};

/// Creates a room.
#[utoipa::path(
    post,
    path = "/v1/rooms",
    operation_id = "createRoom",
    tag = "rooms",
    request_body(content = CreateRoom, description = "All fields optional; an empty body makes a public room with a random name"),
    responses(
        (status = 200, description = "The new room", body = Room),
        (status = 400, description = "Invalid JSON, a bad or taken name, or an invalid property", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CreateRoom>,
) -> Result<Json<Room>, AppError> {
    rooms::create(&state, request, now()).await.map(Json)
}

/// Lists rooms that have not expired, newest first.
#[utoipa::path(
    get,
    path = "/v1/rooms",
    operation_id = "listRooms",
    tag = "rooms",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size, 1 to 100 (default 100)"),
        ("starting_after" = Option<String>, Query, description = "A room id: the rooms after (older than) it"),
        ("ending_before" = Option<String>, Query, description = "A room id: the rooms just before (newer than) it"),
    ),
    responses(
        (status = 200, description = "One page of rooms", body = RoomList),
        (status = 400, description = "A bad limit or unknown cursor", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<RoomList>, AppError> {
    rooms::list(&state, query, now()).await.map(Json)
}

/// Reads one room.
#[utoipa::path(
    get,
    path = "/v1/rooms/{name}",
    operation_id = "getRoom",
    tag = "rooms",
    params(("name" = String, Path, description = "The room's name")),
    responses(
        (status = 200, description = "The room", body = Room),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
) -> Result<Json<Room>, AppError> {
    rooms::get(&state, &name).await.map(Json)
}

/// Changes a room: privacy, and properties merged (`null` resets one to its default).
#[utoipa::path(
    post,
    path = "/v1/rooms/{name}",
    operation_id = "updateRoom",
    tag = "rooms",
    params(("name" = String, Path, description = "The room's name")),
    request_body = UpdateRoom,
    responses(
        (status = 200, description = "The updated room", body = Room),
        (status = 400, description = "Invalid JSON or an invalid property; nothing changed", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
    JsonBody(request): JsonBody<UpdateRoom>,
) -> Result<Json<Room>, AppError> {
    rooms::update(&state, &name, request, now()).await.map(Json)
}

/// Deletes a room.
#[utoipa::path(
    delete,
    path = "/v1/rooms/{name}",
    operation_id = "deleteRoom",
    tag = "rooms",
    params(("name" = String, Path, description = "The room's name")),
    responses(
        (status = 200, description = "Deleted", body = RoomDeleted),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    RoomPath(name): RoomPath,
) -> Result<Json<RoomDeleted>, AppError> {
    rooms::delete(&state, &name).await.map(Json)
}
