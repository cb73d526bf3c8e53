//! The Daily-compatible REST API under `/v1`: authentication, body limits and one module per
//! resource. Handlers parse, call one service in `app::ssr`, and map the result.

mod auth;
mod body;
mod domain;
mod lobby;
mod meeting_tokens;
pub mod openapi;
mod rooms;

use app::{error::AppError, ssr::state::AppState};
use axum::{
    Router,
    http::header::CONTENT_TYPE,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::limit::RequestBodyLimitLayer;

/// The largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// The `/v1` routes, to be merged into the application router.
pub fn router(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/v1", get(domain::get))
        .route("/v1/", get(domain::get))
        .route("/v1/rooms", get(rooms::list).post(rooms::create))
        .route(
            "/v1/rooms/{name}",
            get(rooms::get).post(rooms::update).delete(rooms::delete),
        )
        .route("/v1/rooms/{name}/presence", get(lobby::room_presence))
        .route(
            "/v1/rooms/{name}/waiting",
            get(lobby::waiting).post(lobby::decide),
        )
        .route("/v1/rooms/{name}/eject", axum::routing::post(lobby::eject))
        .route("/v1/presence", get(lobby::presence))
        .route(
            "/v1/meeting-tokens",
            axum::routing::post(meeting_tokens::create),
        )
        .route(
            "/v1/meeting-tokens/{token}",
            get(meeting_tokens::validate).delete(meeting_tokens::revoke),
        )
        .route_layer(middleware::from_fn_with_state(state, auth::require_api_key));
    Router::new()
        .route("/v1/openapi.json", get(openapi::document))
        .merge(authenticated)
        .route("/v1/{*rest}", axum::routing::any(not_found))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        // Outside the limit layer, so its plain-text 413 is seen here and answered in JSON.
        .layer(middleware::map_response(json_payload_too_large))
}

async fn not_found() -> AppError {
    AppError::not_found("there is no such API route; see /v1/openapi.json")
}

async fn json_payload_too_large(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return payload_too_large().into_response();
    }
    response
}

fn payload_too_large() -> AppError {
    AppError::PayloadTooLarge(format!(
        "the request body is larger than {} KiB",
        MAX_BODY / 1024
    ))
}
