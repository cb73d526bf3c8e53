//! Bearer API-key authentication for every `/v1` route but the OpenAPI document, and the limit
//! on wrong keys per client.

use std::net::SocketAddr;

use app::{
    error::AppError,
    ssr::{
        client,
        limits::{self, Limit},
        state::AppState,
        time::now_millis,
    },
};
use axum::{
    extract::{ConnectInfo, Request, State},
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
        // The client is worked out before waiting on the database: a request is not `Sync`.
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        let client = client::of(peer, request.headers(), &state.config.trusted_proxies);
        return Err(wrong_key(&state, &client).await);
    }
    Ok(next.run(request).await)
}

/// The answer to a wrong key from `client`: 401, or 429 once the client has sent too many
/// wrong keys. Only failures are counted, so a right key costs nothing and is never refused,
/// even from an address (a shared proxy, a NAT) that others send wrong keys from.
async fn wrong_key(state: &AppState, client: &str) -> AppError {
    match limits::allow(&state.db, Limit::WrongApiKey { client }, now_millis()).await {
        Ok(true) => AppError::Authentication("the API key is not valid".into()),
        Ok(false) => AppError::RateLimited(format!(
            "too many requests with a wrong API key from this address; wait {} seconds and \
             try again with the right key",
            limits::WRONG_API_KEY_REFILL_SECONDS
        )),
        Err(error) => {
            // The key is wrong either way; an uncounted failure is no reason to answer 500.
            tracing::error!(%error, "counting a wrong API key");
            AppError::Authentication("the API key is not valid".into())
        }
    }
}
