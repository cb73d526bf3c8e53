//! The dashboard's sign-in (with the API key) and its overview. Rooms and tokens themselves
//! go through the same services as the REST API.

use super::{
    db::dashboard as repo,
    limits::{self, Limit},
    rooms::{self, ListQuery},
    secrets::{random_secret, sha256_hex},
    state::AppState,
    time::{now, now_millis},
};
use crate::{error::AppError, model::DashboardRoom};

/// The dashboard's cookie (`__Host-` prefixed over https).
pub fn cookie_name(config: &super::config::Config) -> String {
    format!("{}knock-dashboard", config.cookie_prefix())
}
/// How long a sign-in lasts.
pub const SIGN_IN_SECONDS: i64 = 12 * 60 * 60;

/// Checks the API key and starts a dashboard session; returns the cookie secret.
pub async fn sign_in(state: &AppState, key: &str, client: &str) -> Result<String, AppError> {
    if !limits::allow(&state.db, Limit::SignIn { client }, now_millis()).await? {
        return Err(AppError::RateLimited(
            "Too many sign-in attempts; wait a minute and try again.".into(),
        ));
    }
    if !state.api_key.matches(key.trim()) {
        return Err(AppError::Authentication(
            "That API key is not right. It was printed when the server first started.".into(),
        ));
    }
    let secret = random_secret();
    let now = now();
    repo::insert_session(
        &state.db,
        &sha256_hex(&secret),
        &state.key_id,
        now,
        now + SIGN_IN_SECONDS,
    )
    .await?;
    Ok(secret)
}

/// Whether `secret` is a valid sign-in.
pub async fn signed_in(state: &AppState, secret: Option<&str>) -> Result<bool, AppError> {
    match secret {
        Some(secret) => {
            Ok(repo::session_valid(&state.db, &sha256_hex(secret), &state.key_id, now()).await?)
        }
        None => Ok(false),
    }
}

/// Ends a sign-in.
pub async fn sign_out(state: &AppState, secret: &str) -> Result<(), AppError> {
    Ok(repo::delete_session(&state.db, &sha256_hex(secret)).await?)
}

/// The rooms with their live counts, newest first.
pub async fn rooms(state: &AppState) -> Result<Vec<DashboardRoom>, AppError> {
    let list = rooms::list(state, ListQuery::default(), now()).await?;
    let counts = repo::live_counts(&state.db).await?;
    Ok(list
        .data
        .into_iter()
        .map(|room| {
            let (in_call, waiting) = counts.get(&room.name).copied().unwrap_or_default();
            DashboardRoom {
                room,
                in_call,
                waiting,
            }
        })
        .collect())
}
