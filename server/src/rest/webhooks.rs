//! `/v1/webhooks`: create (after a test POST the URL must answer 200), list, read, update
//! (re-activating a failed one) and delete webhooks, as Daily's.

use app::{
    error::{AppError, ErrorBody},
    model::{CreateWebhook, UpdateWebhook, Webhook},
    ssr::{state::AppState, validate, webhooks},
};
use axum::{
    Json,
    extract::{Path, State},
};

use super::body::{JsonBody, RequestBody};

impl RequestBody for CreateWebhook {
    const PROPERTIES: &'static [&'static str] = &[];
}

impl RequestBody for UpdateWebhook {
    const PROPERTIES: &'static [&'static str] = &[];
}

/// The longest webhook id accepted (ours are 36-character UUIDs).
const MAX_UUID: usize = 64;

/// A webhook id from the path; one that could never be ours is simply not found.
fn uuid(uuid: &str) -> Result<&str, AppError> {
    validate::identifier("uuid", uuid, MAX_UUID)
        .map(|()| uuid)
        .map_err(|_| AppError::not_found(format!("webhook {} not found", uuid.escape_debug())))
}

/// Creates a webhook: Knock first POSTs `{"test":"test"}` to the URL and saves the webhook only
/// if it answers 200.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    operation_id = "createWebhook",
    tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 200, description = "The new webhook, `ACTIVE`", body = Webhook),
        (status = 400, description = "A bad field, or the URL did not answer the test POST with 200", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CreateWebhook>,
) -> Result<Json<Webhook>, AppError> {
    webhooks::create(&state, request).await.map(Json)
}

/// Lists the webhooks, oldest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "listWebhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "Every webhook", body = Vec<Webhook>),
        (status = 401, description = "Wrong API key", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Webhook>>, AppError> {
    webhooks::list(&state).await.map(Json)
}

/// Reads one webhook.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{uuid}",
    operation_id = "getWebhook",
    tag = "webhooks",
    params(("uuid" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, AppError> {
    webhooks::get(&state, uuid(&id)?).await.map(Json)
}

/// Changes a webhook. A new URL, or `state: "ACTIVE"` on a `FAILED` webhook, first needs the
/// test POST answered 200; re-activating sends what waited meanwhile, in order.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{uuid}",
    operation_id = "updateWebhook",
    tag = "webhooks",
    params(("uuid" = String, Path, description = "The webhook's id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The webhook as it is now", body = Webhook),
        (status = 400, description = "A bad field, or the URL did not answer the test POST with 200; nothing changed", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<UpdateWebhook>,
) -> Result<Json<Webhook>, AppError> {
    webhooks::update(&state, uuid(&id)?, request)
        .await
        .map(Json)
}

/// Deletes a webhook; what it was still owed is not sent.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{uuid}",
    operation_id = "deleteWebhook",
    tag = "webhooks",
    params(("uuid" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The deleted webhook, as it was", body = Webhook),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, AppError> {
    webhooks::delete(&state, uuid(&id)?).await.map(Json)
}
