//! Cookies, for the adapters: the one parser, and the one way a request finds the caller's
//! session in a room (server functions, event streams and the page middleware all use it).

use axum::http::{HeaderMap, HeaderValue, header::COOKIE};

use super::{
    config::Config, db::sessions::SessionRecord, domain::names::RoomName, lobby, state::AppState,
};
use crate::error::AppError;

/// A request carried two cookies of one name. Browsers send both when another site (a sibling
/// subdomain, or a page on plain http) planted one beside ours, and which comes first is not
/// ours to choose: such a request is refused rather than guessed at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "this browser sent two cookies named {0}, one of them set by another site; clear this \
     site's cookies and try again"
)]
pub struct DuplicateCookie(pub String);

impl From<DuplicateCookie> for AppError {
    fn from(duplicate: DuplicateCookie) -> Self {
        AppError::InvalidRequest(duplicate.to_string())
    }
}

/// Every `name=value` pair of the request's `Cookie` headers.
fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

/// The value of cookie `name` in the request headers: `None` when absent, an error when the
/// request carries it twice.
pub fn cookie(headers: &HeaderMap, name: &str) -> Result<Option<String>, DuplicateCookie> {
    let mut values = pairs(headers).filter(|(key, _)| *key == name);
    let first = values.next().map(|(_, value)| value.to_owned());
    if values.next().is_some() {
        return Err(DuplicateCookie(name.to_owned()));
    }
    Ok(first)
}

/// Sets cookie `name` to `value` in the request headers, replacing any value it had, so that
/// whatever reads the request next sees `value` only.
pub fn replace_cookie(headers: &mut HeaderMap, name: &str, value: &str) {
    let mut kept: Vec<String> = pairs(headers)
        .filter(|(key, _)| *key != name)
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    kept.push(format!("{name}={value}"));
    if let Ok(header) = HeaderValue::from_str(&kept.join("; ")) {
        headers.insert(COOKIE, header);
    }
}

/// The `Set-Cookie` value of one of Knock's cookies: HttpOnly, SameSite=Lax, on every path,
/// `Secure` over https (which a `__Host-` name requires, for setting and clearing alike), and
/// lasting `max_age` seconds when given (0 clears it).
pub fn set_cookie(config: &Config, name: &str, value: &str, max_age: Option<i64>) -> String {
    let max_age = max_age
        .map(|seconds| format!("; Max-Age={seconds}"))
        .unwrap_or_default();
    let secure = if config.is_https() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure}")
}

/// The caller's session in `room`, from its cookie; a sentence saying what to do when there is
/// none (403), or when the browser sent two session cookies for the room (400).
pub async fn session_from_cookie(
    state: &AppState,
    headers: &HeaderMap,
    room: &str,
) -> Result<SessionRecord, AppError> {
    // No room has a name that breaks the rule: no session either (and the database is spared
    // what it could not hold, such as a NUL).
    if RoomName::parse("room", room).is_err() {
        return Err(AppError::Forbidden(format!(
            "there is no room called {} here",
            room.escape_debug()
        )));
    }
    let secret = cookie(headers, &lobby::cookie_name(&state.config, room))?.ok_or_else(|| {
        AppError::Forbidden(format!(
            "there is no session for room {room} in this browser; open /{room} first"
        ))
    })?;
    lobby::session_of_cookie(state, room, &secret)
        .await?
        .ok_or_else(|| {
            AppError::Forbidden(format!(
                "this session is not valid for room {room} (any more); open /{room} again"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_str(value).expect("header"));
        }
        headers
    }

    #[test]
    fn a_cookie_is_found_in_any_cookie_header() {
        let headers = headers(&["a=1; knock-standup=s3cret", "b=2"]);
        assert_eq!(cookie(&headers, "knock-standup"), Ok(Some("s3cret".into())));
        assert_eq!(cookie(&headers, "b"), Ok(Some("2".into())));
        assert_eq!(cookie(&headers, "knock-other"), Ok(None));
    }

    #[test]
    fn a_cookie_sent_twice_is_refused() {
        for sent in [
            headers(&["knock-standup=ours; knock-standup=planted"]),
            headers(&["knock-standup=ours", "knock-standup=planted"]),
        ] {
            assert_eq!(
                cookie(&sent, "knock-standup"),
                Err(DuplicateCookie("knock-standup".into()))
            );
        }
    }

    #[test]
    fn replacing_a_cookie_leaves_only_the_new_value_and_keeps_the_others() {
        let mut sent = headers(&["a=1; knock-standup=stale", "knock-standup=older; b=2"]);
        replace_cookie(&mut sent, "knock-standup", "fresh");
        assert_eq!(cookie(&sent, "knock-standup"), Ok(Some("fresh".into())));
        assert_eq!(cookie(&sent, "a"), Ok(Some("1".into())));
        assert_eq!(cookie(&sent, "b"), Ok(Some("2".into())));
        let mut empty = HeaderMap::new();
        replace_cookie(&mut empty, "knock-standup", "fresh");
        assert_eq!(cookie(&empty, "knock-standup"), Ok(Some("fresh".into())));
    }
}
