//! Visits and sessions for room pages. `GET /<room>` without a session opens a visit: a signed
//! cookie and nothing stored (the visitor's session is stored when they join or knock).
//! `GET /<room>?t=<token>` opens a visit with that token and redirects to `/<room>`, so the
//! token leaves the address bar; when the link was followed from another site while this
//! browser already holds a session in the room, it first asks whether to replace that session
//! (answered by `POST /<room>` from this site only).

use app::{
    error::AppError,
    ssr::{
        cookies::{self, cookie, replace_cookie, session_from_cookie},
        db::{rooms as rooms_repo, sessions::SessionRecord},
        domain::names::RoomName,
        lobby,
        state::AppState,
    },
};
use axum::{
    Form,
    extract::{FromRequest, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
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

fn set_cookie(state: &AppState, room: &str, value: &str) -> Option<HeaderValue> {
    let name = lobby::cookie_name(&state.config, room);
    HeaderValue::from_str(&cookies::set_cookie(&state.config, &name, value, None)).ok()
}

/// Back to the page (`/<room>` or `/custom/<room>`), without the token, holding a new visit
/// with it.
fn open_link(state: &AppState, room: &str, page: &str, token: &str, room_exists: bool) -> Response {
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, page.to_owned())]).into_response();
    if room_exists
        && let Some(cookie) = set_cookie(state, room, &lobby::start_visit(state, room, Some(token)))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether the browser says it followed a link from another site (`Sec-Fetch-Site`). A link
/// typed, bookmarked or opened from this site is not asked about, nor is a client that does
/// not say.
fn from_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|site| site == "cross-site" || site == "same-site")
}

/// Whether replacing `session` could lose something: it is stored (it has joined or knocked),
/// or it was opened with a token.
fn worth_keeping(session: &SessionRecord) -> bool {
    session.unsaved.is_none() || session.claims.is_some() || session.refusal.is_some()
}

/// Text for HTML, element content or a quoted attribute.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The question asked before a link from another site replaces this browser's session.
fn ask_before_replacing(state: &AppState, room: &str, page: &str, token: &str) -> Response {
    let options = &state.leptos_options;
    let css = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    let (room, page, token, css) = (escape(room), escape(page), escape(token), escape(&css));
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Open this meeting link? · {room}</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<main class="page confirm-link">
<h1>Open this meeting link?</h1>
<p>This browser already has a session in the room <strong>{room}</strong>. The link you
followed, from another site, would replace it: you would leave the call or the lobby there
and enter as the link says.</p>
<form method="post" action="{page}">
<input type="hidden" name="t" value="{token}">
<button type="submit">Use the new link</button>
</form>
<p><a href="{page}">Keep my current session</a></p>
</main>
</body>
</html>
"#
    );
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response()
}

/// The answer to [`ask_before_replacing`]: `POST /<room>` with the token, from this site only.
async fn confirm_link(state: AppState, room: &str, request: Request) -> Response {
    if let Err(error) =
        crate::security::check_origin(&state.config.public_origin(), request.headers())
    {
        return error.into_response();
    }
    let page = request.uri().path().to_owned();
    let Ok(Form(form)) =
        Form::<std::collections::HashMap<String, String>>::from_request(request, &state).await
    else {
        return AppError::invalid("the form must carry the meeting token as t").into_response();
    };
    let Some(token) = form.get("t").filter(|token| !token.is_empty()) else {
        return AppError::invalid("the form must carry the meeting token as t").into_response();
    };
    match rooms_repo::find_by_name(&state.db, room).await {
        Ok(found) => open_link(&state, room, &page, token, found.is_some()),
        Err(error) => AppError::from(error).into_response(),
    }
}

/// Opens visits on room pages; every other request passes through untouched.
pub async fn sessions(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(room) = room_of(request.uri().path()).map(RoomName::into_string) else {
        return next.run(request).await;
    };
    match *request.method() {
        Method::GET => {}
        Method::POST => return confirm_link(state, &room, request).await,
        _ => return next.run(request).await,
    }
    // Two session cookies for the room: one was planted by another site. Refuse rather than
    // pick one (or open a visit the planted cookie would keep shadowing).
    if let Err(duplicate) = cookie(request.headers(), &lobby::cookie_name(&state.config, &room)) {
        return AppError::from(duplicate).into_response();
    }
    let token = token_of(request.uri().query());
    let room_exists = match rooms_repo::find_by_name(&state.db, &room).await {
        Ok(found) => found.is_some(),
        Err(error) => return AppError::from(error).into_response(),
    };
    let current = if room_exists {
        session_from_cookie(&state, request.headers(), &room)
            .await
            .ok()
    } else {
        None
    };

    if let Some(token) = token {
        let page = request.uri().path().to_owned();
        if from_another_site(request.headers()) && current.as_ref().is_some_and(worth_keeping) {
            return ask_before_replacing(&state, &room, &page, &token);
        }
        return open_link(&state, &room, &page, &token, room_exists);
    }

    if current.is_some() || !room_exists {
        return next.run(request).await;
    }
    let visit = lobby::start_visit(&state, &room, None);
    // The page rendered for this very request must already see the new visit, and only it:
    // a stale cookie (its session ended, or the key changed) is replaced, not shadowed.
    replace_cookie(
        request.headers_mut(),
        &lobby::cookie_name(&state.config, &room),
        &visit,
    );
    let mut response = next.run(request).await;
    if let Some(cookie) = set_cookie(&state, &room, &visit) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_room_paths_open_visits() {
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

#[cfg(test)]
mod page_tests {
    use super::*;

    #[test]
    fn the_question_page_escapes_what_it_shows() {
        assert_eq!(escape(r#"a"b<c>&'d"#), "a&quot;b&lt;c&gt;&amp;&#39;d");
    }

    #[test]
    fn only_links_from_other_sites_are_asked_about() {
        let mut headers = HeaderMap::new();
        assert!(!from_another_site(&headers));
        for (site, asked) in [
            ("cross-site", true),
            ("same-site", true),
            ("same-origin", false),
            ("none", false),
        ] {
            headers.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert_eq!(from_another_site(&headers), asked, "{site}");
        }
    }
}
