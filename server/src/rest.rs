//! The Daily-compatible REST API under `/v1`: authentication, body limits and one module per
//! resource. Handlers parse, call one service in `app::ssr`, and map the result.

mod auth;
mod body;
mod domain;
mod lobby;
mod meeting_tokens;
mod meetings;
pub mod openapi;
mod room_path;
mod rooms;
mod webhooks;

use crate::limits::payload_too_large;
use app::{error::AppError, ssr::state::AppState};
use axum::{
    Router,
    http::header::CONTENT_TYPE,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};

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
        .route("/v1/meetings", get(meetings::list))
        .route("/v1/meetings/{id}", get(meetings::get))
        .route("/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/v1/webhooks/{uuid}",
            get(webhooks::get)
                .post(webhooks::update)
                .delete(webhooks::delete),
        )
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
        // Outside every extractor, so their plain-text refusals (413 from the body limit the
        // whole application has, see `limits`; 405 from the router; 400 from a path that is
        // not UTF-8) are answered in JSON too.
        .layer(middleware::map_response(json_errors))
}

async fn not_found() -> AppError {
    AppError::not_found("there is no such API route; see /v1/openapi.json")
}

/// Re-answers a plain-text error from axum or tower-http as `{"error", "info"}`.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let error = match status.as_u16() {
        413 => payload_too_large(),
        405 => AppError::MethodNotAllowed(
            "this API route does not take that HTTP method; see /v1/openapi.json".into(),
        ),
        404 => AppError::not_found("there is no such API route; see /v1/openapi.json"),
        400..=499 if !text.is_empty() => AppError::invalid(text),
        400..=499 => AppError::invalid("the request is malformed"),
        _ => AppError::internal("an API layer failed", text),
    };
    let mut answer = error.into_response();
    if answer.status() != status
        && let Ok(original) = axum::http::StatusCode::from_u16(status.as_u16())
    {
        *answer.status_mut() = original;
    }
    answer
}
