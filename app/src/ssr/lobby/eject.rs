//! Removing people: ejection by the API (optionally with a ban), and everyone a deleted room,
//! a revoked token or an expiry sends away.

use super::apply::{apply, subject_of};
use crate::ssr::domain::lobby::Command;
use crate::{
    error::AppError,
    model::{CallErrorKind, Phase, TokenRevoked},
    ssr::{
        db::{Tx, bans, rooms as rooms_repo, sessions as repo, tokens as tokens_repo},
        events::Outbox,
        state::AppState,
        time::{now, now_millis},
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
    let ejected = eject_in(&mut tx, &mut outbox, room, ids, kind, msg).await?;
    outbox.commit(tx, &state.events).await?;
    // Whoever left the call leaves the SFU too (within the 2 s the lobby promises).
    crate::ssr::sfu::call_changed(state, room);
    Ok(ejected)
}

/// Ejects sessions of `room` inside `tx`, a transaction on that room: each as it is there, with
/// its events recorded in `outbox`. Returns the ids removed.
async fn eject_in(
    tx: &mut Tx,
    outbox: &mut Outbox,
    room: &str,
    ids: &[String],
    kind: CallErrorKind,
    msg: &str,
) -> Result<Vec<String>, AppError> {
    let mut ejected = Vec::new();
    let command = Command::Eject {
        kind,
        msg: msg.to_owned(),
    };
    for id in ids {
        let Some(session) = repo::find(&mut *tx, id).await? else {
            continue;
        };
        if session.room != room {
            continue;
        }
        let subject = subject_of(tx, &session).await?;
        if apply(tx, outbox, &session, &command, &subject).await? {
            ejected.push(id.clone());
        }
    }
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
    // The bans and the ejections they go with are one transaction, on the people as they are
    // under the room's lock.
    let mut tx = state.db.write_room(room).await?;
    rooms_repo::find_by_name(&mut tx, room)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    let mut targets = Vec::new();
    for phase in [Phase::InCall, Phase::Waiting] {
        for session in repo::in_phase(&mut tx, room, phase).await? {
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
        for id in ids {
            bans::ban(&mut tx, room, "session", id).await?;
        }
        for user in user_ids {
            bans::ban(&mut tx, room, "user", user).await?;
        }
    }
    let mut outbox = Outbox::new(room);
    let ejected = eject_in(
        &mut tx,
        &mut outbox,
        room,
        &targets,
        CallErrorKind::Ejected,
        "You were removed from the call.",
    )
    .await?;
    outbox.commit(tx, &state.events).await?;
    // Whoever left the call leaves the SFU too (within the 2 s the lobby promises).
    crate::ssr::sfu::call_changed(state, room);
    Ok(ejected)
}

/// Inside the transaction that deletes `room`: ejects everyone from it and forgets its bans,
/// so the room never goes without its people (or they without it).
pub async fn room_deleted(tx: &mut Tx, outbox: &mut Outbox, room: &str) -> Result<(), AppError> {
    let mut ids = Vec::new();
    for phase in [Phase::InCall, Phase::Waiting, Phase::Prejoin] {
        ids.extend(
            repo::in_phase(&mut *tx, room, phase)
                .await?
                .into_iter()
                .map(|s| s.id),
        );
    }
    eject_in(
        tx,
        outbox,
        room,
        &ids,
        CallErrorKind::NoRoom,
        "This room has been deleted.",
    )
    .await?;
    bans::clear(tx, room).await?;
    Ok(())
}

/// The sentence a session is told when its day is over or the API key changed.
const SESSION_ENDED: &str = "Your session has ended; open the meeting link again to come back.";

/// The sentence a session of a revoked token is told.
const REVOKED: &str = "Your meeting token has been revoked.";

/// Revokes a meeting token (`DELETE /v1/meeting-tokens/{token}`, the dashboard) and ejects
/// whoever is at the door, in the lobby or in a call with it.
///
/// The revocation is recorded in the same transaction as the ejections from the first room
/// (the token's own room, when it names one): all or nothing. A token without a room may have
/// sessions in several rooms; each further room's ejections are a transaction of their own,
/// under that room's lock, taken after the revocation committed. Every join and knock checks
/// the revocation again under its room's lock, so none can slip in after its room's turn; and
/// should this server stop between two rooms, the maintenance round ejects what is left
/// ([`eject_expired`]), so no session of a revoked token stays in a call.
pub async fn revoke_token(state: &AppState, token: &str) -> Result<TokenRevoked, AppError> {
    let tokens::Revocation {
        key,
        room: own_room,
        exp,
    } = tokens::revocation(state, token)?;
    let first = match own_room {
        Some(room) => Some(room),
        None => repo::rooms_with_token(&state.db, &key)
            .await?
            .into_iter()
            .next(),
    };
    let mut tx = match &first {
        Some(room) => state.db.write_room(room).await?,
        None => state.db.write().await?,
    };
    tokens_repo::revoke(&mut tx, &key, now_millis(), exp).await?;
    match &first {
        Some(room) => {
            let mut outbox = Outbox::new(room);
            eject_token_in(&mut tx, &mut outbox, room, &key).await?;
            outbox.commit(tx, &state.events).await?;
            crate::ssr::sfu::call_changed(state, room);
        }
        None => tx.commit().await?,
    }
    // Read after the revocation committed: any session opened with the token earlier is seen.
    for room in repo::rooms_with_token(&state.db, &key).await? {
        if first.as_deref() == Some(room.as_str()) {
            continue;
        }
        token_revoked(state, &room, &key).await?;
    }
    Ok(TokenRevoked { revoked: true })
}

/// Ejects the sessions of `room` that hold the revoked token `token_key`, in one transaction
/// on the room.
async fn token_revoked(state: &AppState, room: &str, token_key: &str) -> Result<(), AppError> {
    let mut tx = state.db.write_room(room).await?;
    let mut outbox = Outbox::new(room);
    eject_token_in(&mut tx, &mut outbox, room, token_key).await?;
    outbox.commit(tx, &state.events).await?;
    crate::ssr::sfu::call_changed(state, room);
    Ok(())
}

/// Inside a transaction on `room`: ejects its sessions that hold the token `token_key`, as they
/// are under the room's lock.
async fn eject_token_in(
    tx: &mut Tx,
    outbox: &mut Outbox,
    room: &str,
    token_key: &str,
) -> Result<(), AppError> {
    let ids = repo::present_ids_with_token(&mut *tx, room, token_key).await?;
    eject_in(tx, outbox, room, &ids, CallErrorKind::Ejected, REVOKED).await?;
    Ok(())
}

/// Ejects the participants whose room or token expired, or whose time is up, those whose
/// session ended (its day is over, or it was made under another API key), and whoever still
/// holds a revoked token (what a server that stopped in the middle of a revocation left).
pub async fn eject_expired(state: &AppState) -> Result<(), AppError> {
    for (room, key) in repo::present_with_revoked_token(&state.db).await? {
        token_revoked(state, &room, &key).await?;
    }
    let mut ended: Vec<(String, Vec<String>)> = Vec::new();
    for (room, id) in repo::ended(&state.db, &state.key_id, now_millis()).await? {
        match ended.last_mut() {
            Some((last, ids)) if *last == room => ids.push(id),
            _ => ended.push((room, vec![id])),
        }
    }
    for (room, ids) in ended {
        eject_sessions(state, &room, &ids, CallErrorKind::Ejected, SESSION_ENDED).await?;
    }
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
