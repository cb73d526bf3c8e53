//! Sessions: a visit when a room page is opened, the session its cookie holds (stored once the
//! visitor joins or knocks), what it sees (`preAuth`, the page snapshot, presence), and
//! entering or leaving the call.

use super::access::access_of;
use super::apply::{
    apply, own_subject, participant, participant_of, refusal_detail, refused, session_gone,
};
use crate::ssr::domain::lobby::Command;
use crate::{
    error::AppError,
    model::{
        AccessLevel, AccessState, CallState, Level, Participant, Phase, RoomAccess, RoomSnapshot,
    },
    ssr::{
        db::{
            events,
            knocks::{self, KnockRecord},
            rooms as rooms_repo,
            sessions::{self as repo, NewSession, SessionRecord, Stored},
        },
        domain::{
            access::{Access, Refusal, call_settings},
            claims::revocation_key,
            names::DisplayName,
            visits,
        },
        events::Outbox,
        secrets::sha256_hex,
        state::AppState,
        time::{now, now_millis},
        tokens,
    },
};

/// The cookie that holds a session of `room` (`__Host-` prefixed over https).
pub fn cookie_name(config: &crate::ssr::config::Config, room: &str) -> String {
    format!("{}knock-{room}", config.cookie_prefix())
}

/// Opens a visit to `room`, with the token from `?t=` when there is one: the value of its
/// cookie. Nothing is stored until the visitor joins or knocks (see [`visits`]).
pub fn start_visit(state: &AppState, room: &str, token: Option<&str>) -> String {
    visits::issue(state.api_key.expose(), room, token, now_millis())
}

/// The session a cookie value holds in `room`: a stored one (found by the value's hash) while
/// it is good, or else the visit the value holds, not stored yet. `None` when it holds neither:
/// a session that ended, a forged value, another room's or another key's.
///
/// A visit's token is verified on every request, so what it is told (expired, revoked, not yet
/// valid) is always current; a refused token is remembered with its reason when the visit is
/// stored, and never lets anyone in.
pub async fn session_of_cookie(
    state: &AppState,
    room: &str,
    value: &str,
) -> Result<Option<SessionRecord>, AppError> {
    let at = now_millis();
    let secret_hash = sha256_hex(value);
    match repo::by_secret(&state.db, room, &secret_hash, &state.key_id, at).await? {
        Stored::Valid(session) => return Ok(Some(*session)),
        Stored::Ended => return Ok(None),
        Stored::Missing => {}
    }
    let Some(visit) = visits::open(state.api_key.expose(), room, value, at) else {
        return Ok(None);
    };
    let (claims, refusal) = match &visit.token {
        Some(token) => match tokens::verify(state, token, now(), false).await? {
            Ok(claims) => (Some(claims), None),
            Err(refusal) => (None, Some(refusal)),
        },
        None => (None, None),
    };
    let token_key = claims
        .as_ref()
        .zip(visit.token.as_deref())
        .map(|(claims, token)| revocation_key(token, claims));
    let expires_at = visits::session_expiry(at, claims.as_ref().and_then(|claims| claims.exp));
    Ok(Some(SessionRecord::unsaved(NewSession {
        id: visit.session_id,
        secret_hash,
        room: room.to_owned(),
        claims,
        token_key,
        refusal,
        key_id: state.key_id.clone(),
        created_at: at,
        expires_at,
    })))
}

/// The session's access, or why it has none, as a call error.
pub(super) async fn checked_access(
    state: &AppState,
    session: &SessionRecord,
) -> Result<Access, AppError> {
    access_of(state, session)
        .await?
        .map_err(|refusal| refused(&refusal))
}

/// `preAuth`: where the session stands and what it may do.
pub async fn call_state(state: &AppState, session: &SessionRecord) -> Result<CallState, AppError> {
    // Read first: everything this state reflects is at or before this event, and anything
    // later is replayed to a stream opened after it (duplicates are harmless).
    let last_event_id = events::last_id(&state.db, &session.id).await?;
    let access = access_of(state, session).await?;
    let host_present = repo::admin_present(&state.db, &session.room).await?;
    let (position, message) = match session.phase {
        Phase::Waiting => (
            knocks::position(&state.db, &session.room, &session.id).await?,
            knocks::message_of(&state.db, &session.id).await?,
        ),
        _ => (None, None),
    };
    let (level, admin, owner, refusal) = match &access {
        Ok(access) => (access.level, access.admin, access.owner, None),
        Err(refusal) => (
            AccessLevel::None,
            false,
            false,
            Some(refusal_detail(refusal)),
        ),
    };
    let room = rooms_repo::find_by_name(&state.db, &session.room).await?;
    let room_access = room
        .as_ref()
        .filter(|_| admin)
        .map(|room| RoomAccess::of(room.privacy, room.properties.enable_knocking));
    let settings = room
        .as_ref()
        .map(|room| call_settings(room, session.claims.as_ref()))
        .unwrap_or_default();
    let (level, awaiting) = match session.phase {
        Phase::InCall => (AccessLevel::Full, None),
        Phase::Waiting => (
            AccessLevel::Lobby,
            Some(Level {
                level: AccessLevel::Full,
            }),
        ),
        _ => (level, None),
    };
    Ok(CallState {
        room: session.room.clone(),
        session_id: session.id.clone(),
        access: AccessState {
            access: Level { level },
            awaiting_access: awaiting,
        },
        phase: session.phase,
        admin,
        owner,
        user_name: session.user_name.clone(),
        host_present,
        refusal,
        last_event_id,
        position,
        message,
        settings,
        room_access,
    })
}

/// The session as it is now (a visit that is still not stored: as it was).
pub(super) async fn reload(
    state: &AppState,
    session: &SessionRecord,
) -> Result<SessionRecord, AppError> {
    match repo::find(&state.db, &session.id).await? {
        Some(current) => Ok(current),
        None if session.unsaved.is_some() => Ok(session.clone()),
        None => Err(session_gone()),
    }
}

/// The state after an operation on `session`.
pub(super) async fn state_after(
    state: &AppState,
    session: &SessionRecord,
) -> Result<CallState, AppError> {
    call_state(state, &reload(state, session).await?).await
}

/// `join(name)`: enter the call directly (access `full` only).
pub async fn join(
    state: &AppState,
    session: &SessionRecord,
    name: &DisplayName,
) -> Result<CallState, AppError> {
    let access = checked_access(state, session).await?;
    if session.phase == Phase::InCall {
        return call_state(state, session).await;
    }
    match access.level {
        AccessLevel::Full => {}
        AccessLevel::Lobby => {
            return Err(AppError::Forbidden(
                "this room needs a host to let you in: ask to join instead".into(),
            ));
        }
        AccessLevel::None => {
            return Err(AppError::Forbidden(
                "You don't have permission to join this call.".into(),
            ));
        }
    }
    let mut tx = state.db.write_room(&session.room).await?;
    let mut outbox = Outbox::new(&session.room);
    let (current, mut subject) = own_subject(&mut tx, session).await?;
    subject.participant = participant(&current, name.as_str(), now_millis());
    apply(&mut tx, &mut outbox, &current, &Command::Join, &subject).await?;
    outbox.commit(tx, &state.events).await?;
    // One more in the call: it may move to the SFU.
    crate::ssr::sfu::call_changed(state, &session.room);
    state_after(state, session).await
}

/// Carries out `command` on the caller's own session, as it is, in one transaction, and
/// answers the state after.
pub(super) async fn run_own(
    state: &AppState,
    session: &SessionRecord,
    command: Command,
) -> Result<CallState, AppError> {
    let mut tx = state.db.write_room(&session.room).await?;
    let mut outbox = Outbox::new(&session.room);
    let (current, subject) = own_subject(&mut tx, session).await?;
    apply(&mut tx, &mut outbox, &current, &command, &subject).await?;
    outbox.commit(tx, &state.events).await?;
    // Whoever left the call leaves the SFU too (within the 2 s the lobby promises).
    crate::ssr::sfu::call_changed(state, &session.room);
    state_after(state, session).await
}

/// `leave`: leave the call, or the lobby.
pub async fn leave(state: &AppState, session: &SessionRecord) -> Result<CallState, AppError> {
    run_own(state, session, Command::Leave).await
}

/// A session's stream has been gone for the grace period: it left the call or the lobby.
pub async fn gone(state: &AppState, session_id: &str) -> Result<(), AppError> {
    if let Some(session) = repo::find(&state.db, session_id).await?
        && matches!(session.phase, Phase::InCall | Phase::Waiting)
    {
        leave(state, &session).await?;
    }
    Ok(())
}

/// Everyone in a call, by room (for `GET /v1/presence`).
pub async fn presence(state: &AppState) -> Result<Vec<(String, Participant)>, AppError> {
    Ok(repo::all_in_call(&state.db)
        .await?
        .iter()
        .map(|session| (session.room.clone(), participant_of(session)))
        .collect())
}

/// Everyone in one room's call.
pub async fn room_presence(state: &AppState, room: &str) -> Result<Vec<Participant>, AppError> {
    rooms_repo::find_by_name(&state.db, room)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    Ok(repo::in_phase(&state.db, room, Phase::InCall)
        .await?
        .iter()
        .map(participant_of)
        .collect())
}

/// What a room page shows when it is (re)loaded. A session that was denied, or left, starts
/// over at the prejoin page: coming back is knocking again.
pub async fn snapshot(
    state: &AppState,
    room: &str,
    session: Option<&SessionRecord>,
) -> Result<RoomSnapshot, AppError> {
    let Some(session) = session else {
        // Sessions exist for every existing room a browser opens; without one there is no room.
        let refusal = Refusal::NoRoom;
        return Ok(RoomSnapshot {
            state: CallState {
                room: room.to_owned(),
                session_id: String::new(),
                access: AccessState {
                    access: Level {
                        level: AccessLevel::None,
                    },
                    awaiting_access: None,
                },
                phase: Phase::Prejoin,
                admin: false,
                owner: false,
                user_name: None,
                host_present: false,
                refusal: Some(refusal_detail(&refusal)),
                last_event_id: 0,
                position: None,
                message: None,
                settings: Default::default(),
                room_access: None,
            },
            participants: Vec::new(),
            waiting: Vec::new(),
        });
    };
    let mut call = call_state(state, session).await?;
    if matches!(call.phase, Phase::Denied | Phase::Left) {
        call.phase = Phase::Prejoin;
    }
    let in_call = call.phase == Phase::InCall;
    let participants = if in_call {
        repo::in_phase(&state.db, room, Phase::InCall)
            .await?
            .iter()
            .filter(|other| other.id != session.id)
            .map(participant_of)
            .collect()
    } else {
        Vec::new()
    };
    let waiting = if in_call && call.admin {
        knocks::waiting(&state.db, room)
            .await?
            .iter()
            .map(KnockRecord::participant)
            .collect()
    } else {
        Vec::new()
    };
    Ok(RoomSnapshot {
        state: call,
        participants,
        waiting,
    })
}
