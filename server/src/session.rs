//! Participant sessions for room pages: `GET /<room>?t=<token>` verifies the token, starts a
//! session (HttpOnly, SameSite=Lax cookie) and redirects to `/<room>` so the token leaves the
//! address bar; `GET /<room>` without a session starts a tokenless one.

use app::ssr::{
    cookies::{self, cookie, replace_cookie, session_from_cookie},
    db::rooms as rooms_repo,
    domain::names::RoomName,
    lobby,
    state::AppState,
};
use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The room a page path names, if it is `/<room>` or `/custom/<room>` (the custom-UI example).
fn room_of(path: &str) -> Option<RoomName> {
    let name = path
        .strip_prefix("/custom/")
        .or_else(|| path.strip_prefix('/'))?;
    RoomName::parse("room", name).ok()
}

fn token_of(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == "t" && !value.is_empty()).then(|| value.to_owned())
    })
}

fn set_cookie(state: &AppState, room: &str, secret: &str) -> Option<HeaderValue> {
    let name = lobby::cookie_name(&state.config, room);
    HeaderValue::from_str(&cookies::set_cookie(&state.config, &name, secret, None)).ok()
}

/// Starts sessions on room pages; every other request passes through untouched.
pub async fn sessions(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let Some(room) = room_of(request.uri().path()).map(RoomName::into_string) else {
        return next.run(request).await;
    };
    // Two session cookies for the room: one was planted by another site. Refuse rather than
    // pick one (or start a session the planted cookie would keep shadowing).
    if let Err(duplicate) = cookie(request.headers(), &lobby::cookie_name(&state.config, &room)) {
        return app::error::AppError::from(duplicate).into_response();
    }
    let token = token_of(request.uri().query());
    let room_exists = match rooms_repo::find_by_name(&state.db, &room).await {
        Ok(found) => found.is_some(),
        Err(error) => return app::error::AppError::from(error).into_response(),
    };

    if let Some(token) = token {
        // Back to the same page (`/<room>` or `/custom/<room>`), without the token.
        let page = request.uri().path().to_owned();
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, page)]).into_response();
        if room_exists {
            match lobby::start_session(&state, &room, Some(&token)).await {
                Ok(started) => {
                    if let Some(cookie) = set_cookie(&state, &room, &started.secret) {
                        response.headers_mut().insert(header::SET_COOKIE, cookie);
                    }
                }
                Err(error) => return error.into_response(),
            }
        }
        return response;
    }

    let has_session = session_from_cookie(&state, request.headers(), &room)
        .await
        .is_ok();
    if has_session || !room_exists {
        return next.run(request).await;
    }
    let started = match lobby::start_session(&state, &room, None).await {
        Ok(started) => started,
        Err(error) => return error.into_response(),
    };
    // The page rendered for this very request must already see the new session, and only it:
    // a stale cookie (its session pruned, or the database reset) is replaced, not shadowed.
    replace_cookie(
        request.headers_mut(),
        &lobby::cookie_name(&state.config, &room),
        &started.secret,
    );
    let mut response = next.run(request).await;
    if let Some(cookie) = set_cookie(&state, &room, &started.secret) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_room_paths_start_sessions() {
        assert_eq!(
            room_of("/standup").map(RoomName::into_string),
            Some("standup".to_owned())
        );
        assert_eq!(room_of("/"), None);
        assert_eq!(room_of("/v1"), None);
        assert_eq!(room_of("/dashboard"), None);
        assert_eq!(room_of("/a/b"), None);
        assert_eq!(room_of("/favicon.ico"), None);
        assert_eq!(
            room_of("/custom/standup").map(RoomName::into_string),
            Some("standup".to_owned())
        );
        assert_eq!(room_of("/custom/a/b"), None);
    }

    #[test]
    fn the_token_is_read_from_t() {
        assert_eq!(token_of(Some("t=abc")), Some("abc".into()));
        assert_eq!(token_of(Some("x=1&t=abc")), Some("abc".into()));
        assert_eq!(token_of(Some("t=")), None);
        assert_eq!(token_of(None), None);
    }
}
