//! Sessions: starting one when a room page is opened, finding it again from its cookie, what it
//! sees (`preAuth`, the page snapshot, presence), and entering or leaving the call.

use super::access::access_of;
use super::apply::{
    apply, own_subject, participant, participant_of, refusal_detail, refused, session_gone,
};
use crate::ssr::domain::lobby::Command;
use crate::{
    error::AppError,
    model::{AccessLevel, AccessState, CallState, Level, Participant, Phase, RoomSnapshot},
    ssr::{
        db::{
            events,
            knocks::{self, KnockRecord},
            rooms as rooms_repo,
            sessions::{self as repo, NewSession, SessionRecord},
        },
        domain::{
            access::{Access, Refusal},
            claims::revocation_key,
            names::DisplayName,
        },
        events::Outbox,
        secrets::{random_secret, sha256_hex},
        state::AppState,
        time::{now, now_millis},
        tokens,
    },
};

/// A new session's cookie secret and public id.
#[derive(Debug)]
pub struct StartedSession {
    /// The secret to put in the cookie.
    pub secret: String,
    /// The public participant id.
    pub id: String,
}

/// The cookie that holds a session of `room` (`__Host-` prefixed over https).
pub fn cookie_name(config: &crate::ssr::config::Config, room: &str) -> String {
    format!("{}knock-{room}", config.cookie_prefix())
}

/// Starts a session in `room`, with the token from `?t=` when there is one. A refused token is
/// remembered with its reason: the visitor is told why, never let in without it.
pub async fn start_session(
    state: &AppState,
    room: &str,
    token: Option<&str>,
) -> Result<StartedSession, AppError> {
    let secret = random_secret();
    let id = uuid::Uuid::new_v4().to_string();
    let verified = match token {
        Some(token) => Some((token, tokens::verify(state, token, now(), false).await?)),
        None => None,
    };
    let claims = verified
        .as_ref()
        .and_then(|(_, result)| result.as_ref().ok());
    let refusal = verified
        .as_ref()
        .and_then(|(_, result)| result.as_ref().err());
    let token_key = match &verified {
        Some((token, Ok(claims))) => Some(revocation_key(token, claims)),
        _ => None,
    };
    repo::insert(
        &state.db,
        NewSession {
            id: &id,
            secret_hash: &sha256_hex(&secret),
            room,
            claims,
            token_key: token_key.as_deref(),
            refusal,
            created_at: now_millis(),
        },
    )
    .await?;
    Ok(StartedSession { secret, id })
}

/// The session of `room` that holds `secret`, if any.
pub async fn session_by_secret(
    state: &AppState,
    room: &str,
    secret: &str,
) -> Result<Option<SessionRecord>, AppError> {
    Ok(repo::by_secret(&state.db, room, &sha256_hex(secret)).await?)
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
    let (level, admin, owner, refusal) = match &access {
        Ok(access) => (access.level, access.admin, access.owner, None),
        Err(refusal) => (
            AccessLevel::None,
            false,
            false,
            Some(refusal_detail(refusal)),
        ),
    };
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
    })
}

/// The session as it is now.
pub(super) async fn reload(state: &AppState, id: &str) -> Result<SessionRecord, AppError> {
    repo::find(&state.db, id).await?.ok_or_else(session_gone)
}

/// The state after an operation on `session`.
pub(super) async fn state_after(
    state: &AppState,
    session: &SessionRecord,
) -> Result<CallState, AppError> {
    call_state(state, &reload(state, &session.id).await?).await
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
    // Present from now on only while a stream is open: one that never opens leaves after the grace.
    state.presence.expect(vec![session.id.clone()]);
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
