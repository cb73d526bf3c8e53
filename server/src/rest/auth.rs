//! Bearer API-key authentication for every `/v1` route but the OpenAPI document.

use app::{error::AppError, ssr::state::AppState};
use axum::{
    extract::{Request, State},
    http::header::AUTHORIZATION,
    middleware::Next,
    response::Response,
};

/// Lets the request through only with `Authorization: Bearer <KNOCK_API_KEY>`.
pub async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let header = request.headers().get(AUTHORIZATION).ok_or_else(|| {
        AppError::AuthorizationHeader(
            "the Authorization header is missing; send Authorization: Bearer <API key>".into(),
        )
    })?;
    let malformed = || {
        AppError::AuthorizationHeader(
            "the Authorization header must be Bearer followed by the API key".into(),
        )
    };
    let value = header.to_str().map_err(|_| malformed())?;
    let (scheme, key) = value.split_once(' ').ok_or_else(malformed)?;
    let key = key.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || key.is_empty() {
        return Err(malformed());
    }
    if !state.api_key.matches(key) {
        return Err(AppError::Authentication("the API key is not valid".into()));
    }
    Ok(next.run(request).await)
}
