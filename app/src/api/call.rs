//! The call operations, named after daily-js: thin server functions over the lobby service.
//! Each finds the caller's session from its cookie for the room and calls one service
//! function; every rule is enforced there.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    model::{CallState, Decisions, RoomSnapshot, WaitingParticipant},
};

/// One entry of `updateWaitingParticipants`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingUpdate {
    /// Let in (`true`) or turn away.
    #[serde(rename = "grantRequestedAccess")]
    pub grant_requested_access: bool,
    /// Turned away, also keep them from knocking again in this room (Knock's addition).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub block: bool,
}

#[cfg(feature = "ssr")]
mod server {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;

    use crate::{
        error::AppError,
        ssr::{cookies::session_from_cookie, db::sessions::SessionRecord, state::AppState},
    };

    /// Runs `operation` with the state and the caller's session in `room`. (An error's HTTP
    /// status is set from the `AppError` by the server's `server_fn_error_status` layer.)
    pub async fn with_session<T, F>(
        room: &str,
        operation: impl FnOnce(AppState, SessionRecord) -> F,
    ) -> Result<T, AppError>
    where
        F: Future<Output = Result<T, AppError>>,
    {
        let state = leptos::prelude::expect_context::<AppState>();
        let session = session(&state, room).await?;
        operation(state, session).await
    }

    /// The caller's session in `room`, from its cookie.
    pub async fn session(state: &AppState, room: &str) -> Result<SessionRecord, AppError> {
        let headers: axum::http::HeaderMap = leptos_axum::extract()
            .await
            .map_err(|error| AppError::internal("reading request headers", error))?;
        session_from_cookie(state, &headers, room).await
    }

    /// The client, as rate limits count it: its address (through `KNOCK_TRUSTED_PROXIES`), an
    /// IPv6 one by its /64 ([`crate::ssr::client`]).
    pub async fn client() -> String {
        let state = leptos::prelude::expect_context::<AppState>();
        let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
            .await
            .ok()
            .map(|ConnectInfo(addr)| addr);
        let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        crate::ssr::client::of(peer, &headers, &state.config.trusted_proxies)
    }
}

#[cfg(feature = "ssr")]
pub use server::{client as client_address, with_session};

/// What the room page renders first: the caller's state, the call and (for admins) the lobby.
#[server(endpoint = "load_room")]
pub async fn load_room(room: String) -> Result<RoomSnapshot, AppError> {
    let state = expect_context::<crate::ssr::state::AppState>();
    let session = server::session(&state, &room).await.ok();
    crate::ssr::lobby::snapshot(&state, &room, session.as_ref()).await
}

/// Admits or denies everyone waiting (the `Allow all` / `Deny all` buttons, as a plain form).
#[server(endpoint = "decide_all")]
pub async fn decide_all(room: String, grant: bool) -> Result<Decisions, AppError> {
    let updates = HashMap::from([(
        "*".to_owned(),
        WaitingUpdate {
            grant_requested_access: grant,
            block: false,
        },
    )]);
    decide(room, updates).await
}

/// `preAuth`: the caller's access and phase in `room`.
#[server(endpoint = "pre_auth")]
pub async fn pre_auth(room: String) -> Result<CallState, AppError> {
    server::with_session(&room, |state, session| async move {
        crate::ssr::lobby::call_state(&state, &session).await
    })
    .await
}

/// `join(name)`: enter the call (access `full`).
#[server(endpoint = "join")]
pub async fn join(room: String, name: String) -> Result<CallState, AppError> {
    server::with_session(&room, |state, session| async move {
        let name = crate::ssr::domain::names::DisplayName::parse("name", &name)?;
        crate::ssr::lobby::join(&state, &session, &name).await
    })
    .await
}

/// `requestAccess(name)`: knock; again with a new name renames the knock.
#[server(endpoint = "request_access")]
pub async fn request_access(
    room: String,
    name: String,
    note: Option<String>,
) -> Result<CallState, AppError> {
    let client = server::client().await;
    server::with_session(&room, |state, session| async move {
        use crate::ssr::domain::names::{DisplayName, KnockNote};
        let name = DisplayName::parse("name", &name)?;
        let note = match note.as_deref() {
            Some(note) => KnockNote::parse("note", note)?,
            None => None,
        };
        crate::ssr::lobby::request_access(&state, &session, &name, note.as_ref(), &client).await
    })
    .await
}

/// `cancel`: withdraw a knock.
#[server(endpoint = "cancel")]
pub async fn cancel(room: String) -> Result<CallState, AppError> {
    server::with_session(&room, |state, session| async move {
        crate::ssr::lobby::cancel(&state, &session).await
    })
    .await
}

/// `leave`: leave the call or the lobby.
#[server(endpoint = "leave")]
pub async fn leave(room: String) -> Result<CallState, AppError> {
    server::with_session(&room, |state, session| async move {
        crate::ssr::lobby::leave(&state, &session).await
    })
    .await
}

/// `waitingParticipants()`: the lobby (admins in the call only).
#[server(endpoint = "waiting_participants")]
pub async fn waiting_participants(room: String) -> Result<Vec<WaitingParticipant>, AppError> {
    server::with_session(&room, |state, session| async move {
        let room = session.room.clone();
        let actor = crate::ssr::lobby::Actor::Session(Box::new(session));
        let waiting = crate::ssr::lobby::waiting_participants(&state, &actor, &room).await?;
        Ok(waiting
            .into_iter()
            .map(|(participant, _)| participant)
            .collect())
    })
    .await
}

/// `updateWaitingParticipant(id, {grantRequestedAccess})`.
#[server(endpoint = "update_waiting_participant")]
pub async fn update_waiting_participant(
    room: String,
    id: String,
    grant: bool,
    block: Option<bool>,
) -> Result<Decisions, AppError> {
    let updates = HashMap::from([(
        id,
        WaitingUpdate {
            grant_requested_access: grant,
            block: block.unwrap_or(false),
        },
    )]);
    decide(room, updates).await
}

/// `updateWaitingParticipants({id | "*": {grantRequestedAccess}})`: explicit ids win over `*`.
#[server(endpoint = "update_waiting_participants", input = server_fn::codec::Json)]
pub async fn update_waiting_participants(
    room: String,
    updates: HashMap<String, WaitingUpdate>,
) -> Result<Decisions, AppError> {
    decide(room, updates).await
}

#[cfg(feature = "ssr")]
async fn decide(
    room: String,
    updates: HashMap<String, WaitingUpdate>,
) -> Result<Decisions, AppError> {
    server::with_session(&room, |state, session| async move {
        let decisions = updates
            .into_iter()
            .map(|(target, update)| crate::ssr::lobby::Decision {
                target,
                grant: update.grant_requested_access,
                block: update.block,
            })
            .collect();
        let room = session.room.clone();
        let actor = crate::ssr::lobby::Actor::Session(Box::new(session));
        crate::ssr::lobby::decide(&state, &actor, &room, decisions).await
    })
    .await
}

/// `Remove <name>` (admins in the call): ejects a participant, with `ban` for good while the
/// room exists.
#[server(endpoint = "remove_participant")]
pub async fn remove_participant(
    room: String,
    id: String,
    ban: Option<bool>,
) -> Result<(), AppError> {
    server::with_session(&room, |state, session| async move {
        crate::ssr::lobby::remove(&state, &session, &id, ban.unwrap_or(false)).await
    })
    .await
}

/// `Send <name> to the lobby` (admins in the call): they wait again like a knocker.
#[server(endpoint = "send_to_lobby")]
pub async fn send_to_lobby(room: String, id: String) -> Result<(), AppError> {
    server::with_session(&room, |state, session| async move {
        crate::ssr::lobby::send_to_lobby(&state, &session, &id).await
    })
    .await
}

/// The `Room access` group (admins in the call): `public`, `knocking` or `locked`.
#[server(endpoint = "set_room_access")]
pub async fn set_room_access(
    room: String,
    access: String,
) -> Result<crate::model::RoomAccess, AppError> {
    server::with_session(&room, |state, session| async move {
        let access = crate::model::RoomAccess::parse(&access).ok_or_else(|| {
            AppError::invalid("access must be one of public, knocking and locked")
        })?;
        crate::ssr::lobby::set_room_access(&state, &session, access).await
    })
    .await
}

/// `Message <name>` (with `to`, their id) or `Message everyone waiting` (admins in the call);
/// the ids it reached.
#[server(endpoint = "message_lobby")]
pub async fn message_lobby(
    room: String,
    to: Option<String>,
    text: String,
) -> Result<Vec<String>, AppError> {
    server::with_session(&room, |state, session| async move {
        let to = to.filter(|to| !to.is_empty());
        crate::ssr::lobby::message_lobby(&state, &session, to.as_deref(), &text).await
    })
    .await
}
