//! Removing people: ejection by the API (optionally with a ban), and everyone a deleted room,
//! a revoked token or an expiry sends away.

use super::apply::{apply, subject_of};
use crate::ssr::domain::lobby::Command;
use crate::{
    error::AppError,
    model::{CallErrorKind, Phase, TokenRevoked},
    ssr::{
        db::{bans, rooms as rooms_repo, sessions as repo},
        events::Outbox,
        state::AppState,
        time::now,
        tokens,
        validate::{self, MAX_USER_ID},
    },
};

/// The longest participant id an ejection may name (ours are 36-character UUIDs).
const MAX_PARTICIPANT_ID: usize = 64;

/// Removes sessions from a room (the call and the lobby) with an `error` event of `kind`.
/// Returns the ids removed.
pub async fn eject_sessions(
    state: &AppState,
    room: &str,
    ids: &[String],
    kind: CallErrorKind,
    msg: &str,
) -> Result<Vec<String>, AppError> {
    let mut tx = state.db.write_room(room).await?;
    let mut outbox = Outbox::new(room);
    let mut ejected = Vec::new();
    let command = Command::Eject {
        kind,
        msg: msg.to_owned(),
    };
    for id in ids {
        let Some(session) = repo::find(&mut tx, id).await? else {
            continue;
        };
        if session.room != room {
            continue;
        }
        let subject = subject_of(&mut tx, &session).await?;
        if apply(&mut tx, &mut outbox, &session, &command, &subject).await? {
            ejected.push(id.clone());
        }
    }
    outbox.commit(tx, &state.events).await?;
    Ok(ejected)
}

/// `POST /v1/rooms/{name}/eject`: ejects in-call participants by session id or user id, and
/// with `ban` keeps them out while the room exists.
pub async fn eject(
    state: &AppState,
    room: &str,
    ids: &[String],
    user_ids: &[String],
    ban: bool,
) -> Result<Vec<String>, AppError> {
    for (n, id) in ids.iter().enumerate() {
        validate::identifier(&format!("ids[{n}]"), id, MAX_PARTICIPANT_ID)?;
    }
    for (n, id) in user_ids.iter().enumerate() {
        validate::identifier(&format!("user_ids[{n}]"), id, MAX_USER_ID)?;
    }
    rooms_repo::find_by_name(&state.db, room)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    let mut targets = Vec::new();
    for phase in [Phase::InCall, Phase::Waiting] {
        for session in repo::in_phase(&state.db, room, phase).await? {
            let by_user = session
                .user_id
                .as_ref()
                .is_some_and(|user| user_ids.contains(user));
            if ids.contains(&session.id) || by_user {
                targets.push(session.id);
            }
        }
    }
    if ban {
        let mut tx = state.db.write_room(room).await?;
        for id in ids {
            bans::ban(&mut tx, room, "session", id).await?;
        }
        for user in user_ids {
            bans::ban(&mut tx, room, "user", user).await?;
        }
        tx.commit().await?;
    }
    eject_sessions(
        state,
        room,
        &targets,
        CallErrorKind::Ejected,
        "You were removed from the call.",
    )
    .await
}

/// Ejects everyone from a deleted room and forgets its bans.
pub async fn room_deleted(state: &AppState, room: &str) -> Result<(), AppError> {
    let mut ids = Vec::new();
    for phase in [Phase::InCall, Phase::Waiting, Phase::Prejoin] {
        ids.extend(
            repo::in_phase(&state.db, room, phase)
                .await?
                .into_iter()
                .map(|s| s.id),
        );
    }
    eject_sessions(
        state,
        room,
        &ids,
        CallErrorKind::NoRoom,
        "This room has been deleted.",
    )
    .await?;
    let mut tx = state.db.write_room(room).await?;
    bans::clear(&mut tx, room).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes a meeting token (`DELETE /v1/meeting-tokens/{token}`, the dashboard) and ejects
/// whoever is in a call or the lobby with it.
pub async fn revoke_token(state: &AppState, token: &str) -> Result<TokenRevoked, AppError> {
    let key = tokens::revoke(state, token).await?;
    token_revoked(state, &key).await?;
    Ok(TokenRevoked { revoked: true })
}

/// Ejects the sessions that used a revoked token.
pub async fn token_revoked(state: &AppState, token_key: &str) -> Result<(), AppError> {
    for id in repo::present_ids_with_token(&state.db, token_key).await? {
        if let Some(session) = repo::find(&state.db, &id).await? {
            eject_sessions(
                state,
                &session.room,
                &[id],
                CallErrorKind::Ejected,
                "Your meeting token has been revoked.",
            )
            .await?;
        }
    }
    Ok(())
}

/// Ejects the participants whose room or token expired, or whose time is up.
pub async fn eject_expired(state: &AppState) -> Result<(), AppError> {
    for (id, kind) in repo::due_for_ejection(&state.db, now()).await? {
        if let Some(session) = repo::find(&state.db, &id).await? {
            let msg = match kind {
                CallErrorKind::ExpRoom => "This room has expired.",
                CallErrorKind::ExpToken => "Your meeting token has expired.",
                _ => "Your time in this call is up.",
            };
            eject_sessions(state, &session.room, &[id], kind, msg).await?;
        }
    }
    Ok(())
}
