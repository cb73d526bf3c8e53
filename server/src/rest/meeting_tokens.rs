//! `/v1/meeting-tokens`: issue, validate and revoke meeting tokens.

use app::{
    error::{AppError, ErrorBody},
    model::{CreateToken, CreatedToken, TokenProperties, TokenRevoked},
    ssr::{lobby, state::AppState, time::now, tokens},
};
use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde::Deserialize;

use super::body::JsonBody;

/// Issues a meeting token.
#[utoipa::path(
    post,
    path = "/v1/meeting-tokens",
    operation_id = "createMeetingToken",
    tag = "meeting-tokens",
    request_body = CreateToken,
    responses(
        (status = 200, description = "The signed token (HS256 JWT)", body = CreatedToken),
        (status = 400, description = "Invalid JSON or an invalid property", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CreateToken>,
) -> Result<Json<CreatedToken>, AppError> {
    tokens::create(&state, request, now()).await.map(Json)
}

/// Query of the validation route.
#[derive(Deserialize)]
pub struct ValidateQuery {
    #[serde(rename = "ignoreNbf")]
    ignore_nbf: Option<String>,
}

/// Validates a token and returns its properties.
#[utoipa::path(
    get,
    path = "/v1/meeting-tokens/{token}",
    operation_id = "validateMeetingToken",
    tag = "meeting-tokens",
    params(
        ("token" = String, Path, description = "The meeting token"),
        ("ignoreNbf" = Option<bool>, Query, description = "Accept a token whose nbf is still in the future"),
    ),
    responses(
        (status = 200, description = "The token's properties", body = TokenProperties),
        (status = 400, description = "Why the token is not valid: expired, not yet valid, bad signature, revoked, ...", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
    )
)]
pub async fn validate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<ValidateQuery>,
) -> Result<Json<TokenProperties>, AppError> {
    let ignore_nbf = match query.ignore_nbf.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::invalid("ignoreNbf must be true or false")),
    };
    tokens::properties_of(&state, &token, now(), ignore_nbf)
        .await
        .map(Json)
}

/// Revokes a token: it opens nothing any more.
#[utoipa::path(
    delete,
    path = "/v1/meeting-tokens/{token}",
    operation_id = "revokeMeetingToken",
    tag = "meeting-tokens",
    params(("token" = String, Path, description = "The meeting token")),
    responses(
        (status = 200, description = "Revoked (also when it already was)", body = TokenRevoked),
        (status = 400, description = "Not a token of this deployment", body = ErrorBody),
        (status = 401, description = "Wrong API key", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<TokenRevoked>, AppError> {
    lobby::revoke_token(&state, &token).await.map(Json)
}
