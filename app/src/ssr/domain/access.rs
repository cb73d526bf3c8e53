//! Who gets in (PRODUCT.md §3): one pure function from the room, the verified token (or the
//! reason it was refused) and the clock to an access level or a refusal.

use super::claims::{Claims, TokenRejection};
use super::rooms::RoomRecord;
use crate::model::{AccessLevel, CallErrorKind, CallSettings, Privacy};

/// What a visitor may do in a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// `full`: join; `lobby`: knock; `none`: neither.
    pub level: AccessLevel,
    /// May decide on knocks (owner, or `canAdmin` with `participants`).
    pub admin: bool,
    /// Holds an owner token.
    pub owner: bool,
}

/// Why a visitor is turned away. Each maps to a daily-js error type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The room does not exist (or was deleted).
    #[error("This room does not exist.")]
    NoRoom,
    /// Before the room's `nbf`.
    #[error("This room is not open yet.")]
    RoomNotYetOpen,
    /// After the room's `exp`.
    #[error("This room is no longer available.")]
    RoomExpired,
    /// The token was refused (bad signature, expired, revoked, ...).
    #[error("{0}")]
    Token(TokenRejection),
    /// A token for another room.
    #[error("the meeting token is for another room")]
    TokenForAnotherRoom,
    /// `max_participants` are already in the call.
    #[error("This call is full.")]
    MeetingFull,
    /// Ejected with a ban while the room exists.
    #[error("You were removed from this call.")]
    Ejected,
    /// Denied and blocked from knocking again while the room exists.
    #[error("You can't ask to join this call again.")]
    Blocked,
}

impl Refusal {
    /// The daily-js `error` event type for this refusal.
    pub fn error_type(&self) -> CallErrorKind {
        match self {
            Self::NoRoom => CallErrorKind::NoRoom,
            Self::RoomNotYetOpen => CallErrorKind::NbfRoom,
            Self::RoomExpired => CallErrorKind::ExpRoom,
            Self::Token(TokenRejection::Expired) => CallErrorKind::ExpToken,
            Self::Token(TokenRejection::NotYetValid) => CallErrorKind::NbfToken,
            Self::Token(_) | Self::TokenForAnotherRoom | Self::Blocked => CallErrorKind::NotAllowed,
            Self::MeetingFull => CallErrorKind::MeetingFull,
            Self::Ejected => CallErrorKind::Ejected,
        }
    }
}

/// The access of a visitor holding `token` (already verified: `Ok(claims)`, or the reason it
/// was refused; `None` without a token) to `room` at unix time `now`.
///
/// Room-level refusals come first: an expired room is expired for owners too. A bad token is
/// refused with its reason, never downgraded to tokenless access.
pub fn access(
    room: Option<&RoomRecord>,
    token: Option<Result<&Claims, &TokenRejection>>,
    now: i64,
) -> Result<Access, Refusal> {
    let room = room.ok_or(Refusal::NoRoom)?;
    if room.properties.nbf.is_some_and(|nbf| now < nbf) {
        return Err(Refusal::RoomNotYetOpen);
    }
    if room.properties.exp.is_some_and(|exp| now >= exp) {
        return Err(Refusal::RoomExpired);
    }
    let claims = match token {
        None => None,
        Some(Err(rejection)) => return Err(Refusal::Token(rejection.clone())),
        Some(Ok(claims)) => Some(claims),
    };
    if let Some(claims) = claims {
        if claims.r.as_deref().is_some_and(|r| r != room.name) {
            return Err(Refusal::TokenForAnotherRoom);
        }
        if claims.exp.is_some_and(|exp| now >= exp) {
            return Err(Refusal::Token(TokenRejection::Expired));
        }
        if claims.nbf.is_some_and(|nbf| now < nbf) {
            return Err(Refusal::Token(TokenRejection::NotYetValid));
        }
    }
    let admin = claims.is_some_and(Claims::is_admin);
    let owner = claims.is_some_and(Claims::is_owner);
    // As in Daily, a token's `knocking` applies only in a room with knocking.
    let must_knock =
        room.properties.enable_knocking && claims.is_some_and(|claims| claims.k == Some(true));
    let level = match (room.privacy, claims) {
        (Privacy::Public, _) => AccessLevel::Full,
        (Privacy::Private, Some(_)) if must_knock => AccessLevel::Lobby,
        (Privacy::Private, Some(_)) => AccessLevel::Full,
        (Privacy::Private, None) if room.properties.enable_knocking => AccessLevel::Lobby,
        (Privacy::Private, None) => AccessLevel::None,
    };
    Ok(Access {
        level,
        admin,
        owner,
    })
}

/// Whether one more person may enter a call that already has `in_call` participants.
pub fn has_room_for_one_more(room: &RoomRecord, in_call: i64) -> Result<(), Refusal> {
    if in_call >= room.properties.max_participants {
        return Err(Refusal::MeetingFull);
    }
    Ok(())
}

/// When a session entering the call at `now` must be ejected, and with which error type: the
/// earliest of the room's expiry (with `eject_at_room_exp`), the token's (with
/// `eject_at_token_exp`) and `eject_after_elapsed` (the token's, or else the room's: as in
/// Daily, the token's value wins).
pub fn ejection_deadline(
    room: &RoomRecord,
    claims: Option<&Claims>,
    now: i64,
) -> Option<(i64, CallErrorKind)> {
    let mut deadlines = Vec::new();
    if room.properties.eject_at_room_exp
        && let Some(exp) = room.properties.exp
    {
        deadlines.push((exp, CallErrorKind::ExpRoom));
    }
    if let Some(claims) = claims
        && claims.ejt == Some(true)
        && let Some(exp) = claims.exp
    {
        deadlines.push((exp, CallErrorKind::ExpToken));
    }
    let after = claims
        .and_then(|claims| claims.eje)
        .or(room.properties.eject_after_elapsed);
    if let Some(after) = after {
        deadlines.push((now.saturating_add(after), CallErrorKind::Ejected));
    }
    deadlines.into_iter().min_by_key(|(at, _)| *at)
}

/// How the call page starts for a visitor of `room` holding `claims`: the room's display
/// properties, each overridden by the token's where Daily's tokens have the same property.
pub fn call_settings(room: &RoomRecord, claims: Option<&Claims>) -> CallSettings {
    let room = &room.properties;
    let token = |pick: fn(&Claims) -> Option<bool>| claims.and_then(pick);
    CallSettings {
        prejoin_ui: token(|c| c.epu).unwrap_or(room.enable_prejoin_ui),
        start_video_off: token(|c| c.vo).or(room.start_video_off).unwrap_or(false),
        start_audio_off: token(|c| c.ao).or(room.start_audio_off).unwrap_or(false),
        people_ui: room.enable_people_ui.unwrap_or(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CanAdmin, Permissions, RoomProperties};

    const NOW: i64 = 1_000;

    fn room(privacy: Privacy, change: fn(&mut RoomProperties)) -> RoomRecord {
        let mut properties = RoomProperties::default();
        change(&mut properties);
        RoomRecord {
            seq: 1,
            id: "id".into(),
            name: "standup".into(),
            privacy,
            properties,
            created_at: 0,
        }
    }

    fn claims(change: fn(&mut Claims)) -> Claims {
        let mut claims = Claims::default();
        change(&mut claims);
        claims
    }

    fn full(admin: bool, owner: bool) -> Result<Access, Refusal> {
        Ok(Access {
            level: AccessLevel::Full,
            admin,
            owner,
        })
    }

    fn level(level: AccessLevel) -> Result<Access, Refusal> {
        Ok(Access {
            level,
            admin: false,
            owner: false,
        })
    }

    #[test]
    fn every_row_of_the_access_table() {
        let public = room(Privacy::Public, |_| {});
        let private = room(Privacy::Private, |_| {});
        let knocking = room(Privacy::Private, |p| p.enable_knocking = true);
        let member = claims(|c| c.r = Some("standup".into()));
        let domain_wide = claims(|_| {});
        let owner = claims(|c| {
            c.r = Some("standup".into());
            c.o = Some(true);
        });
        let can_admin = claims(|c| {
            c.p = Some(Permissions {
                can_admin: Some(CanAdmin::All(true)),
                ..Permissions::default()
            });
        });
        let must_knock = claims(|c| c.k = Some(true));
        let other_room = claims(|c| c.r = Some("other".into()));
        let expired = claims(|c| c.exp = Some(NOW));
        let early = claims(|c| c.nbf = Some(NOW + 1));
        let revoked = TokenRejection::Revoked;
        let bad_signature = TokenRejection::Signature;
        let not_open = room(Privacy::Public, |p| p.nbf = Some(NOW + 10));
        let ended = room(Privacy::Private, |p| p.exp = Some(NOW));

        type Row<'a> = (
            &'a str,
            Option<&'a RoomRecord>,
            Option<Result<&'a Claims, &'a TokenRejection>>,
            Result<Access, Refusal>,
        );
        let rows: Vec<Row> = vec![
            (
                "public, no token",
                Some(&public),
                None,
                level(AccessLevel::Full),
            ),
            (
                "public, member token",
                Some(&public),
                Some(Ok(&member)),
                level(AccessLevel::Full),
            ),
            (
                "public, owner",
                Some(&public),
                Some(Ok(&owner)),
                full(true, true),
            ),
            (
                "private, room token",
                Some(&private),
                Some(Ok(&member)),
                level(AccessLevel::Full),
            ),
            (
                "private, domain-wide token",
                Some(&private),
                Some(Ok(&domain_wide)),
                level(AccessLevel::Full),
            ),
            (
                "private, owner",
                Some(&private),
                Some(Ok(&owner)),
                full(true, true),
            ),
            (
                "private, canAdmin non-owner",
                Some(&private),
                Some(Ok(&can_admin)),
                full(true, false),
            ),
            (
                "private + knocking, knocking token",
                Some(&knocking),
                Some(Ok(&must_knock)),
                level(AccessLevel::Lobby),
            ),
            (
                "private without knocking, knocking token (ignored, as in Daily)",
                Some(&private),
                Some(Ok(&must_knock)),
                level(AccessLevel::Full),
            ),
            (
                "public, knocking token",
                Some(&public),
                Some(Ok(&must_knock)),
                level(AccessLevel::Full),
            ),
            (
                "private + knocking, no token",
                Some(&knocking),
                None,
                level(AccessLevel::Lobby),
            ),
            (
                "private, knocking off, no token",
                Some(&private),
                None,
                level(AccessLevel::None),
            ),
            (
                "token for another room",
                Some(&private),
                Some(Ok(&other_room)),
                Err(Refusal::TokenForAnotherRoom),
            ),
            (
                "expired token",
                Some(&knocking),
                Some(Ok(&expired)),
                Err(Refusal::Token(TokenRejection::Expired)),
            ),
            (
                "token not yet valid",
                Some(&public),
                Some(Ok(&early)),
                Err(Refusal::Token(TokenRejection::NotYetValid)),
            ),
            (
                "revoked token",
                Some(&knocking),
                Some(Err(&revoked)),
                Err(Refusal::Token(TokenRejection::Revoked)),
            ),
            (
                "bad signature, never downgraded",
                Some(&knocking),
                Some(Err(&bad_signature)),
                Err(Refusal::Token(TokenRejection::Signature)),
            ),
            (
                "room not open yet",
                Some(&not_open),
                Some(Ok(&owner)),
                Err(Refusal::RoomNotYetOpen),
            ),
            (
                "room expired",
                Some(&ended),
                Some(Ok(&owner)),
                Err(Refusal::RoomExpired),
            ),
            ("no such room", None, None, Err(Refusal::NoRoom)),
        ];
        for (case, room, token, expected) in rows {
            assert_eq!(access(room, token, NOW), expected, "{case}");
        }
    }

    #[test]
    fn a_full_room_refuses_the_next_person() {
        let small = room(Privacy::Public, |p| p.max_participants = 2);
        assert_eq!(has_room_for_one_more(&small, 1), Ok(()));
        assert_eq!(has_room_for_one_more(&small, 2), Err(Refusal::MeetingFull));
    }

    #[test]
    fn refusals_map_to_daily_error_types() {
        assert_eq!(Refusal::NoRoom.error_type().as_str(), "no-room");
        assert_eq!(Refusal::RoomExpired.error_type().as_str(), "exp-room");
        assert_eq!(Refusal::RoomNotYetOpen.error_type().as_str(), "nbf-room");
        assert_eq!(
            Refusal::Token(TokenRejection::Expired)
                .error_type()
                .as_str(),
            "exp-token"
        );
        assert_eq!(
            Refusal::Token(TokenRejection::NotYetValid)
                .error_type()
                .as_str(),
            "nbf-token"
        );
        assert_eq!(Refusal::MeetingFull.error_type().as_str(), "meeting-full");
    }

    #[test]
    fn the_earliest_ejection_deadline_applies() {
        let plain = room(Privacy::Public, |_| {});
        assert_eq!(ejection_deadline(&plain, None, NOW), None);
        let expiring = room(Privacy::Public, |p| {
            p.exp = Some(NOW + 500);
            p.eject_at_room_exp = true;
        });
        assert_eq!(
            ejection_deadline(&expiring, None, NOW),
            Some((NOW + 500, CallErrorKind::ExpRoom))
        );
        let not_ejecting = room(Privacy::Public, |p| p.exp = Some(NOW + 500));
        assert_eq!(ejection_deadline(&not_ejecting, None, NOW), None);
        let token = claims(|c| {
            c.exp = Some(NOW + 300);
            c.ejt = Some(true);
        });
        assert_eq!(
            ejection_deadline(&expiring, Some(&token), NOW),
            Some((NOW + 300, CallErrorKind::ExpToken))
        );
        let elapsed = claims(|c| {
            c.exp = Some(NOW + 300);
            c.ejt = Some(true);
            c.eje = Some(60);
        });
        assert_eq!(
            ejection_deadline(&expiring, Some(&elapsed), NOW),
            Some((NOW + 60, CallErrorKind::Ejected))
        );
    }

    #[test]
    fn the_rooms_eject_after_elapsed_applies_unless_the_token_sets_its_own() {
        let timed = room(Privacy::Public, |p| p.eject_after_elapsed = Some(120));
        assert_eq!(
            ejection_deadline(&timed, None, NOW),
            Some((NOW + 120, CallErrorKind::Ejected))
        );
        let plain_token = claims(|c| c.r = Some("standup".into()));
        assert_eq!(
            ejection_deadline(&timed, Some(&plain_token), NOW),
            Some((NOW + 120, CallErrorKind::Ejected))
        );
        let longer = claims(|c| c.eje = Some(600));
        assert_eq!(
            ejection_deadline(&timed, Some(&longer), NOW),
            Some((NOW + 600, CallErrorKind::Ejected)),
            "the token's value wins, even when it is longer"
        );
    }

    #[test]
    fn call_settings_take_the_rooms_values_and_the_tokens_where_daily_has_them() {
        let plain = room(Privacy::Public, |_| {});
        assert_eq!(call_settings(&plain, None), CallSettings::default());
        let quiet = room(Privacy::Public, |p| {
            p.enable_prejoin_ui = false;
            p.start_video_off = Some(true);
            p.start_audio_off = Some(true);
            p.enable_people_ui = Some(false);
        });
        let expected = CallSettings {
            prejoin_ui: false,
            start_video_off: true,
            start_audio_off: true,
            people_ui: false,
        };
        assert_eq!(call_settings(&quiet, None), expected);
        let silent_token = claims(|_| {});
        assert_eq!(call_settings(&quiet, Some(&silent_token)), expected);
        let overriding = claims(|c| {
            c.epu = Some(true);
            c.vo = Some(false);
            c.ao = Some(false);
        });
        assert_eq!(
            call_settings(&quiet, Some(&overriding)),
            CallSettings {
                people_ui: false,
                ..CallSettings::default()
            },
            "the token wins; enable_people_ui is the room's alone"
        );
        let camera_off = claims(|c| c.vo = Some(true));
        assert!(call_settings(&plain, Some(&camera_off)).start_video_off);
    }
}
