//! Knocking: `requestAccess(name)` (a new knock, or a new name for the one waiting) and
//! `cancel`.

use super::{
    apply::{apply, own_subject},
    sessions::{call_state, checked_access, run_own, state_after},
};
use crate::ssr::domain::lobby::Command;
use crate::{
    error::AppError,
    model::{AccessLevel, CallState, Level, Phase, WaitingParticipant},
    ssr::{
        db::{bans, knocks, sessions::SessionRecord},
        domain::{
            access::Refusal,
            names::{DisplayName, KnockNote},
        },
        events::Outbox,
        limits::{self, Limit},
        state::AppState,
        time::now_millis,
    },
};

/// The most knocks that may wait in one room.
pub const MAX_WAITING: i64 = 500;

/// `requestAccess(name, note)`: knock, or change the name (and note) of a knock already
/// waiting.
pub async fn request_access(
    state: &AppState,
    session: &SessionRecord,
    name: &DisplayName,
    note: Option<&KnockNote>,
    client: &str,
) -> Result<CallState, AppError> {
    let access = checked_access(state, session).await?;
    match (access.level, session.phase) {
        (_, Phase::InCall) => return call_state(state, session).await,
        (AccessLevel::Lobby, _) => {}
        (AccessLevel::Full, _) => {
            return Err(AppError::invalid(
                "you may join this room directly; there is no need to knock",
            ));
        }
        (AccessLevel::None, _) => {
            return Err(AppError::Forbidden(
                "You don't have permission to join this call.".into(),
            ));
        }
    }
    let mut tx = state.db.write_room(&session.room).await?;
    let mut outbox = Outbox::new(&session.room);
    let (current, mut subject) = own_subject(&mut tx, session).await?;
    let renaming = subject.knock.is_some();
    let knock = match subject.knock.take() {
        // Renaming the knock that waits.
        Some(knock) => {
            let limit = Limit::Rename {
                client,
                room: &session.room,
            };
            if !limits::allow(&mut tx, limit, now_millis()).await? {
                return Err(AppError::RateLimited(
                    "You have changed your name too often; wait a few seconds and try again."
                        .into(),
                ));
            }
            WaitingParticipant {
                name: name.to_string(),
                note: note.map(|note| note.as_str().to_owned()),
                ..knock
            }
        }
        None => {
            if bans::client_blocked(&mut tx, &session.room, client).await? {
                return Err(AppError::Forbidden(Refusal::Blocked.to_string()));
            }
            // Inside the room's transaction: the knock is counted if and only if it commits.
            let limit = Limit::Knock {
                client,
                room: &session.room,
            };
            if !limits::allow(&mut tx, limit, now_millis()).await? {
                return Err(AppError::RateLimited(
                    "You have knocked too often on this room; wait a minute and try again.".into(),
                ));
            }
            if knocks::count_waiting_from(&mut tx, &session.room, client).await?
                >= limits::WAITING_KNOCKS_PER_CLIENT
            {
                return Err(AppError::RateLimited(format!(
                    "{} people from your address are already waiting to \
                     join this room; try again once one of them has been let in or turned away.",
                    limits::WAITING_KNOCKS_PER_CLIENT
                )));
            }
            if knocks::count_waiting(&mut tx, &session.room).await? >= MAX_WAITING {
                return Err(AppError::RateLimited(format!(
                    "The lobby of this room is full ({MAX_WAITING} people are waiting); try again later."
                )));
            }
            WaitingParticipant {
                id: session.id.clone(),
                name: name.to_string(),
                note: note.map(|note| note.as_str().to_owned()),
                awaiting_access: Level {
                    level: AccessLevel::Full,
                },
            }
        }
    };
    subject.knock = Some(knock);
    apply(&mut tx, &mut outbox, &current, &Command::Knock, &subject).await?;
    if !renaming {
        // Whose knock it is, for the cap on a client's waiting knocks above.
        knocks::set_client(&mut tx, &session.id, client).await?;
    }
    outbox.commit(tx, &state.events).await?;
    state_after(state, session).await
}

/// `cancel`: withdraw a knock.
pub async fn cancel(state: &AppState, session: &SessionRecord) -> Result<CallState, AppError> {
    run_own(state, session, Command::Cancel).await
}
