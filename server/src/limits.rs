//! What one request may cost the server: time to be answered and size of its body. (The time a
//! client may take to send its headers is set on the connection, in [`crate::serve`].) Every
//! refusal is answered as `{"error", "info"}`.

use std::time::Duration;

use app::error::{AppError, ErrorBody};
use axum::{
    Json, Router,
    body::Body,
    extract::Request,
    http::{Method, StatusCode, header::CONTENT_TYPE},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer};

/// The largest request body read, by the REST API and by server functions alike (64 KiB:
/// the largest legitimate one, a WebRTC offer, is a few KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// The refusal of a body over [`MAX_BODY`].
pub fn payload_too_large() -> AppError {
    AppError::PayloadTooLarge(format!(
        "the request body is larger than {} KiB",
        MAX_BODY / 1024
    ))
}

/// `router` with a body limit of [`MAX_BODY`] and a request timeout of `timeout`, its server
/// functions' bodies read within both. Routes added to the result afterwards (the event
/// streams, which last as long as the visitor stays) get neither.
pub fn with_limits<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    timeout: Duration,
) -> Router<S> {
    // The layer added last runs first: the limit wraps the body, then the timeout starts,
    // then a server function's body is read (inside the timeout, so a body that never ends is
    // cut off too).
    with_request_limits(
        router.layer(axum::middleware::from_fn(read_server_fn_body)),
        timeout,
    )
}

/// `router` with a body limit of [`MAX_BODY`] and a request timeout of `timeout`, for routes
/// that read their bodies themselves (the REST API).
pub fn with_request_limits<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    timeout: Duration,
) -> Router<S> {
    router
        // 408 marks a timeout: no handler answers it, so `json_refusals` knows it for one.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::map_response(move |response: Response| {
            json_refusals(response, timeout)
        }))
}

/// Reads a server function's body before the function runs. The limit layer refuses a body
/// announced too large at once; one sent without a length (chunked) fails only while it is
/// read, and Leptos would report that as a malformed request (400): read here, it is a 413.
async fn read_server_fn_body(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") || request.method() == Method::GET {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // Over the limit (or the client went away mid-body, and sees no answer anyway).
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    }
}

/// Re-answers the plain refusals of the timeout (408, empty) and the body limit (413, text)
/// in JSON. The REST API already answers its own 413 in JSON and passes through untouched.
async fn json_refusals(response: Response, timeout: Duration) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    match response.status() {
        _ if is_json => response,
        StatusCode::REQUEST_TIMEOUT => (
            StatusCode::REQUEST_TIMEOUT,
            Json(ErrorBody {
                error: AppError::Server.kind().to_owned(),
                info: format!(
                    "the request took longer than {} s and was stopped; please try again",
                    timeout.as_secs_f32()
                ),
            }),
        )
            .into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => payload_too_large().into_response(),
        _ => response,
    }
}
