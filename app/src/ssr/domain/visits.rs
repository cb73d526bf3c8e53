//! A visit: a room page opened by someone who has not joined or knocked yet. It is held in the
//! visitor's cookie, signed with the API key, and in no database row: a crawler opening a room
//! page a thousand times stores nothing. The visit becomes a stored session when its visitor
//! joins or knocks; the cookie stays the same, and the session is found by its hash from then
//! on.
//!
//! The cookie's value is `v1.<nonce>.<issued>.<mac>`, followed by `.<token>` when the page was
//! opened with `?t=<token>`: the nonce is 16 random bytes (hex), `issued` the unix
//! milliseconds it was made at, and the mac an HMAC-SHA256 under the API key of the room, the
//! nonce, the time and the token. A cookie made under another key, for another room, more than
//! [`VISIT_LIFETIME`] ago, or changed in any way is no visit.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a visit cookie is good for, and the longest a session lives.
pub const VISIT_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest a session lives, in milliseconds.
pub const SESSION_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

const VERSION: &str = "v1";

/// A visit, as its cookie says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    /// The session id the visit will have once stored (derived from the nonce, so it is the
    /// same on every server and every request).
    pub session_id: String,
    /// The meeting token it was opened with.
    pub token: Option<String>,
}

fn mac(key: &str, room: &str, nonce: &str, issued: i64, token: Option<&str>) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    for part in [
        "knock visit",
        VERSION,
        room,
        nonce,
        &issued.to_string(),
        token.unwrap_or(""),
    ] {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The public session id of the visit with this nonce: a UUID made from its hash, which says
/// nothing about the nonce.
fn session_id(nonce: &str) -> String {
    let digest = Sha256::digest(format!("knock session id\0{nonce}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A new visit's cookie value, for `room` at `now` (unix milliseconds), with the token from
/// `?t=` when there was one.
pub fn issue(key: &str, room: &str, token: Option<&str>, now: i64) -> String {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let nonce = hex(&nonce);
    let mac = mac(key, room, &nonce, now, token);
    match token {
        Some(token) => format!("{VERSION}.{nonce}.{now}.{mac}.{token}"),
        None => format!("{VERSION}.{nonce}.{now}.{mac}"),
    }
}

/// The visit a cookie value holds, if it is one this deployment made for `room`, under `key`,
/// and still good at `now` (unix milliseconds).
pub fn open(key: &str, room: &str, value: &str, now: i64) -> Option<Visit> {
    let mut parts = value.splitn(5, '.');
    let (version, nonce, issued, given) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let token = parts.next();
    if version != VERSION
        || nonce.len() != 32
        || !nonce.bytes().all(|byte| byte.is_ascii_hexdigit())
        || token.is_some_and(str::is_empty)
    {
        return None;
    }
    let issued: i64 = issued.parse().ok()?;
    let lifetime = i64::try_from(VISIT_LIFETIME.as_millis()).unwrap_or(i64::MAX);
    if issued > now.saturating_add(60_000) || now.saturating_sub(issued) > lifetime {
        return None;
    }
    let expected = mac(key, room, nonce, issued, token);
    // Compared in time that does not depend on where they differ.
    use subtle::ConstantTimeEq;
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return None;
    }
    Some(Visit {
        session_id: session_id(nonce),
        token: token.map(str::to_owned),
    })
}

/// When a session stored at `now` (unix milliseconds) ends: a day later, or when its token
/// expires (`token_exp`, unix seconds) if that is sooner.
pub fn session_expiry(now: i64, token_exp: Option<i64>) -> i64 {
    let day = now.saturating_add(SESSION_LIFETIME_MS);
    match token_exp {
        Some(exp) => day.min(exp.saturating_mul(1000)),
        None => day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "an-api-key-of-at-least-thirty-two-characters";
    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_visit_opens_with_the_key_and_room_it_was_made_for() {
        let value = issue(KEY, "standup", None, NOW);
        let visit = open(KEY, "standup", &value, NOW + 1000).expect("a visit");
        assert_eq!(visit.token, None);
        assert_eq!(visit.session_id.len(), 36);
        // The same cookie is the same visit, on every request.
        assert_eq!(open(KEY, "standup", &value, NOW + 5000), Some(visit));
        assert_eq!(
            open(
                "another-key-of-at-least-thirty-two-chars",
                "standup",
                &value,
                NOW
            ),
            None
        );
        assert_eq!(open(KEY, "other", &value, NOW), None);
    }

    #[test]
    fn a_visit_carries_its_token_and_any_change_breaks_it() {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJyIjoic3RhbmR1cCJ9.c2ln";
        let value = issue(KEY, "standup", Some(token), NOW);
        let visit = open(KEY, "standup", &value, NOW).expect("a visit");
        assert_eq!(visit.token.as_deref(), Some(token));
        let swapped = value.replace(token, "eyJhbGciOiJIUzI1NiJ9.eyJyIjoib3RoZXIifQ.c2ln");
        assert_eq!(open(KEY, "standup", &swapped, NOW), None);
        let dropped = value.rsplitn(4, '.').last().expect("prefix").to_owned();
        assert_eq!(open(KEY, "standup", &dropped, NOW), None);
        let mut forged = value.clone().into_bytes();
        forged[3] = if forged[3] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            open(
                KEY,
                "standup",
                &String::from_utf8(forged).expect("ascii"),
                NOW
            ),
            None
        );
        for junk in ["", "v1", "v1....", "a-secret-from-before", "v2.x.1.y"] {
            assert_eq!(open(KEY, "standup", junk, NOW), None, "{junk}");
        }
    }

    #[test]
    fn a_visit_lasts_a_day() {
        let value = issue(KEY, "standup", None, NOW);
        let day = SESSION_LIFETIME_MS;
        assert!(open(KEY, "standup", &value, NOW + day).is_some());
        assert_eq!(open(KEY, "standup", &value, NOW + day + 1), None);
        // Made "in the future" beyond clock skew: forged or broken clocks.
        let ahead = issue(KEY, "standup", None, NOW + 120_000);
        assert_eq!(open(KEY, "standup", &ahead, NOW), None);
    }

    #[test]
    fn two_visits_are_two_sessions() {
        let a = open(KEY, "standup", &issue(KEY, "standup", None, NOW), NOW).expect("a");
        let b = open(KEY, "standup", &issue(KEY, "standup", None, NOW), NOW).expect("b");
        assert_ne!(a.session_id, b.session_id);
    }

    #[test]
    fn a_session_ends_after_a_day_or_with_its_token() {
        assert_eq!(session_expiry(NOW, None), NOW + SESSION_LIFETIME_MS);
        assert_eq!(session_expiry(NOW, Some(NOW / 1000 + 60)), NOW + 60_000);
        assert_eq!(
            session_expiry(NOW, Some(NOW / 1000 + 3 * 86_400)),
            NOW + SESSION_LIFETIME_MS
        );
    }
}
