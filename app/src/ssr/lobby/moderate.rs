//! Moderation from the call, for admins in it: removing a participant (optionally banning
//! them), sending one back to the lobby, switching who may come into the room, and messages
//! to the lobby. Each is one transaction on the room, checked on the server whatever the page
//! shows.

use super::{
    apply::{apply, subject_of},
    decide::{Actor, authorize_admin},
    eject,
};
use crate::{
    error::AppError,
    model::{
        AccessLevel, CallEvent, HostMessage, Level, Phase, Privacy, RoomAccess, WaitingParticipant,
    },
    ssr::{
        db::{
            knocks, rooms as rooms_repo,
            sessions::{self as sessions_repo, SessionRecord},
        },
        domain::{lobby::Command, names},
        events::Outbox,
        limits::{self, Limit},
        state::AppState,
        time::now_millis,
    },
};

/// The admin `admin` acts on someone else in the call of `room`: their session, as it is.
async fn other_in_call(
    state: &AppState,
    admin: &SessionRecord,
    room: &str,
    target: &str,
) -> Result<String, AppError> {
    let by = authorize_admin(state, &Actor::Session(Box::new(admin.clone())), room)
        .await?
        .unwrap_or_else(|| "A host".into());
    if target == admin.id {
        return Err(AppError::invalid(
            "you cannot do this to yourself; use Leave to leave the call",
        ));
    }
    match sessions_repo::find(&state.db, target).await? {
        Some(other) if other.room == room && other.phase == Phase::InCall => Ok(by),
        _ => Err(AppError::not_found(
            "this participant is not in the call (any more)",
        )),
    }
}

/// `Remove <name>`: ejects a participant from the call, and with `ban` keeps them out of the
/// room while it exists.
pub async fn remove(
    state: &AppState,
    admin: &SessionRecord,
    target: &str,
    ban: bool,
) -> Result<(), AppError> {
    let room = admin.room.clone();
    other_in_call(state, admin, &room, target).await?;
    let removed = eject::eject(state, &room, &[target.to_owned()], &[], ban).await?;
    if removed.is_empty() {
        return Err(AppError::not_found(
            "this participant is not in the call (any more)",
        ));
    }
    Ok(())
}

/// `Send <name> to the lobby`: they leave the call (the others' media to them stops with the
/// `participant-left` everyone gets) and wait again like any knocker, under the name they had.
pub async fn send_to_lobby(
    state: &AppState,
    admin: &SessionRecord,
    target: &str,
) -> Result<(), AppError> {
    let room = admin.room.clone();
    other_in_call(state, admin, &room, target).await?;
    let mut tx = state.db.write_room(&room).await?;
    let mut outbox = Outbox::new(&room);
    let Some(current) = sessions_repo::find(&mut tx, target).await? else {
        return Err(AppError::not_found(
            "this participant is not in the call (any more)",
        ));
    };
    let mut subject = subject_of(&mut tx, &current).await?;
    subject.knock = Some(WaitingParticipant {
        id: current.id.clone(),
        name: subject.participant.user_name.clone(),
        note: None,
        awaiting_access: Level {
            level: AccessLevel::Full,
        },
    });
    if !apply(
        &mut tx,
        &mut outbox,
        &current,
        &Command::SendToLobby,
        &subject,
    )
    .await?
    {
        return Err(AppError::not_found(
            "this participant is not in the call (any more)",
        ));
    }
    outbox.commit(tx, &state.events).await?;
    // Whoever left the call leaves the SFU too (within the 2 s the lobby promises).
    crate::ssr::sfu::call_changed(state, &room);
    Ok(())
}

/// The `Room access` group: switches the room between `Anyone with the link`, `Knock to join`
/// and `Locked` (the same change `POST /v1/rooms/{name}` makes with `privacy` and
/// `enable_knocking`), at once for new arrivals; every admin in the call is told.
pub async fn set_room_access(
    state: &AppState,
    admin: &SessionRecord,
    access: RoomAccess,
) -> Result<RoomAccess, AppError> {
    let room = admin.room.clone();
    let by = authorize_admin(state, &Actor::Session(Box::new(admin.clone())), &room)
        .await?
        .unwrap_or_else(|| "A host".into());
    let mut tx = state.db.write_room(&room).await?;
    let current = rooms_repo::find_by_name(&mut tx, &room)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    let mut properties = current.properties.clone();
    let privacy = match access {
        RoomAccess::Public => Privacy::Public,
        RoomAccess::Knocking => {
            properties.enable_knocking = true;
            Privacy::Private
        }
        RoomAccess::Locked => {
            properties.enable_knocking = false;
            Privacy::Private
        }
    };
    rooms_repo::update(&mut tx, &room, privacy, &properties)
        .await?
        .ok_or_else(|| AppError::not_found(format!("room {room} not found")))?;
    let mut outbox = Outbox::new(&room);
    let admins = sessions_repo::in_call_ids(&mut tx, &room, true).await?;
    let event = CallEvent::RoomAccessUpdated { access, by };
    outbox.record(&mut tx, &event, admins, now_millis()).await?;
    outbox.commit(tx, &state.events).await?;
    state.room_changed(&room).await;
    Ok(access)
}

/// `Message <name>` / `Message everyone waiting`: a host's message to one waiting guest
/// (`to`, their id) or to everyone waiting. Only they receive it (and it stays on their waiting
/// page); nobody in the call does. Returns who it reached.
pub async fn message_lobby(
    state: &AppState,
    admin: &SessionRecord,
    to: Option<&str>,
    text: &str,
) -> Result<Vec<String>, AppError> {
    let room = admin.room.clone();
    let from = authorize_admin(state, &Actor::Session(Box::new(admin.clone())), &room)
        .await?
        .unwrap_or_else(|| "A host".into());
    let text = names::message_text("text", text)?;
    if let Some(id) = to {
        crate::ssr::validate::identifier("to", id, 64)?;
    }
    let mut tx = state.db.write_room(&room).await?;
    if !limits::allow(&mut tx, Limit::Message { session: &admin.id }, now_millis()).await? {
        return Err(AppError::RateLimited(
            "You have sent many messages in a row; wait a few seconds and try again.".into(),
        ));
    }
    let targets: Vec<String> = match to {
        Some(id) => vec![id.to_owned()],
        None => knocks::waiting(&mut tx, &room)
            .await?
            .into_iter()
            .map(|knock| knock.session_id)
            .collect(),
    };
    let message = HostMessage { text, from };
    let reached = knocks::set_message(&mut tx, &room, &targets, &message).await?;
    if to.is_some() && reached.is_empty() {
        return Err(AppError::not_found("this person is not waiting (any more)"));
    }
    let mut outbox = Outbox::new(&room);
    let event = CallEvent::LobbyMessage { message };
    outbox
        .record(&mut tx, &event, reached.clone(), now_millis())
        .await?;
    outbox.commit(tx, &state.events).await?;
    Ok(reached)
}
