//! The media operations of a call: WebRTC signaling between participants, camera and
//! microphone state, and the ICE servers. Thin server functions over `ssr::media`, which
//! enforces that only participants in the call take part.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{IceServer, NetworkTopology, Participant, SignalMessage},
};

/// Sends signaling `messages` (in order) to the participant `to`; 403 unless both are in the
/// call. JSON body: `{"room", "to", "messages": [{"description": ...} | {"candidate": ...}]}`.
#[server(endpoint = "signal", input = server_fn::codec::Json)]
pub async fn signal(
    room: String,
    to: String,
    messages: Vec<SignalMessage>,
) -> Result<(), AppError> {
    super::call::with_session(&room, |state, session| async move {
        crate::ssr::media::signal(&state, &session, &to, messages).await
    })
    .await
}

/// Tells the others whether the caller's camera (`video`) and microphone (`audio`) are on.
#[server(endpoint = "update_media")]
pub async fn update_media(room: String, video: bool, audio: bool) -> Result<Participant, AppError> {
    super::call::with_session(&room, |state, session| async move {
        crate::ssr::media::set_media(&state, &session, video, audio).await
    })
    .await
}

/// The STUN/TURN servers to connect with (`KNOCK_ICE_SERVERS`); participants in the call only.
#[server(endpoint = "ice_servers")]
pub async fn ice_servers(room: String) -> Result<Vec<IceServer>, AppError> {
    super::call::with_session(&room, |state, session| async move {
        crate::ssr::media::ice_servers(&state, &session).await
    })
    .await
}

/// daily-js' `getNetworkTopology()`: how the call's media flows now (`peer` or `sfu`), with the
/// version of the last `network-connection` event; `none` for anyone not in the call. A page
/// asks when its event stream (re)connects and when it enters the call.
#[server(endpoint = "network_topology")]
pub async fn get_network_topology(room: String) -> Result<NetworkTopology, AppError> {
    super::call::with_session(&room, |state, session| async move {
        crate::ssr::sfu::network_topology(&state, &session).await
    })
    .await
}
