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
    extract::Request,
    http::{Uri, header::CONTENT_TYPE},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use tower::Layer;

/// The `/v1` routes, to be merged into the application router. Every route answers the same
/// with or without a trailing slash (`POST /v1/rooms/`, as Daily's client libraries call it):
/// the path is trimmed once, before the routes are matched.
pub fn router(state: AppState) -> Router<AppState> {
    let api = tower::util::MapRequestLayer::new(without_trailing_slash).layer(routes(state));
    // Nested as a service, so the path is trimmed before the routes see it (a layer on the
    // router would run after matching); the routes below are relative to `/v1`.
    Router::new().nest_service("/v1", api)
}

/// `path/` as `path` (the query kept); `/` and paths without a trailing slash as they are.
fn without_trailing_slash(mut request: Request) -> Request {
    let path = request.uri().path();
    let trimmed = path.trim_end_matches('/');
    if trimmed.len() == path.len() || trimmed.is_empty() {
        return request;
    }
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    // A path that was a valid URI stays one without its trailing slashes.
    if let Ok(path_and_query) = path_and_query.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// The routes under `/v1`, matched on paths without a trailing slash (`/` is `/v1` itself).
fn routes(state: AppState) -> Router {
    let authenticated = Router::new()
        .route("/", get(domain::get))
        .route("/rooms", get(rooms::list).post(rooms::create))
        .route(
            "/rooms/{name}",
            get(rooms::get).post(rooms::update).delete(rooms::delete),
        )
        .route("/rooms/{name}/presence", get(lobby::room_presence))
        .route(
            "/rooms/{name}/waiting",
            get(lobby::waiting).post(lobby::decide),
        )
        .route("/rooms/{name}/eject", axum::routing::post(lobby::eject))
        .route("/presence", get(lobby::presence))
        .route("/meetings", get(meetings::list))
        .route("/meetings/{id}", get(meetings::get))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{uuid}",
            get(webhooks::get)
                .post(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/meeting-tokens",
            axum::routing::post(meeting_tokens::create),
        )
        .route(
            "/meeting-tokens/{token}",
            get(meeting_tokens::validate).delete(meeting_tokens::revoke),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .merge(authenticated)
        .route("/{*rest}", axum::routing::any(not_found))
        // Outside every extractor, so their plain-text refusals (413 from the body limit the
        // whole application has, see `limits`; 405 from the router; 400 from a path that is
        // not UTF-8) are answered in JSON too.
        .layer(middleware::map_response(json_errors))
        .with_state(state)
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
