//! Cookies, for the adapters: the one parser, and the one way a request finds the caller's
//! session in a room (server functions, event streams and the page middleware all use it).

use axum::http::{HeaderMap, header::COOKIE};

use super::{db::sessions::SessionRecord, lobby, state::AppState};
use crate::error::AppError;

/// The value of cookie `name` in the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The caller's session in `room`, from its cookie; a sentence saying what to do when there is
/// none.
pub async fn session_from_cookie(
    state: &AppState,
    headers: &HeaderMap,
    room: &str,
) -> Result<SessionRecord, AppError> {
    let secret = cookie(headers, &lobby::cookie_name(room)).ok_or_else(|| {
        AppError::Forbidden(format!(
            "there is no session for room {room} in this browser; open /{room} first"
        ))
    })?;
    lobby::session_by_secret(state, room, &secret)
        .await?
        .ok_or_else(|| {
            AppError::Forbidden(format!(
                "this session is not valid for room {room}; open /{room} again"
            ))
        })
}
