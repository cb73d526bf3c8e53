//! The REST API's presence, lobby and eject bodies.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::Level;

/// `POST /v1/rooms/{name}/eject`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EjectRequest {
    /// Session ids (the `id` of presence entries).
    #[serde(default)]
    pub ids: Vec<String>,
    /// `user_id`s from meeting tokens.
    #[serde(default)]
    pub user_ids: Vec<String>,
    /// Keep them out until the room is deleted.
    #[serde(default)]
    pub ban: bool,
}

/// The answer to an ejection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Ejected {
    /// The sessions removed.
    #[serde(rename = "ejectedIds")]
    pub ejected_ids: Vec<String>,
}

/// One person in a call, as `GET /v1/presence` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PresenceEntry {
    /// The room's name.
    pub room: String,
    /// The participant's session id.
    pub id: String,
    /// `user_id` from their token.
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
    /// Display name.
    #[serde(rename = "userName")]
    pub user_name: String,
    /// Joined at, RFC 3339.
    #[serde(rename = "joinTime")]
    pub join_time: String,
    /// Seconds in the call so far.
    pub duration: i64,
    /// Camera on (Knock's addition).
    pub video: bool,
    /// Microphone on (Knock's addition).
    pub audio: bool,
}

/// One room's call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RoomPresence {
    /// How many are in the call.
    pub total_count: i64,
    /// Who.
    pub data: Vec<PresenceEntry>,
}

/// Someone waiting in the lobby, as the REST API lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WaitingEntry {
    /// Their session id (as daily-js names a waiting participant; eject takes it too).
    pub id: String,
    /// The name knocked with.
    pub name: String,
    /// The note for the hosts sent with the knock, if any (Knock's addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Always `{level: "full"}`.
    #[serde(rename = "awaitingAccess")]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub awaiting_access: Level,
    /// When they knocked, RFC 3339.
    #[serde(rename = "knockedAt")]
    pub knocked_at: String,
}

/// A room's lobby.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WaitingList {
    /// How many wait.
    pub total_count: i64,
    /// Who, oldest knock first.
    pub data: Vec<WaitingEntry>,
}

/// Who may come into a room, as an admin switches it from the call: the room's privacy and
/// knocking in one choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomAccess {
    /// `Anyone with the link`: a public room.
    Public,
    /// `Knock to join`: private, with knocking.
    Knocking,
    /// `Locked`: private without knocking; only tokens open it.
    Locked,
}

impl RoomAccess {
    /// Who may come into a room with this privacy and knocking.
    pub fn of(privacy: super::Privacy, enable_knocking: bool) -> Self {
        match (privacy, enable_knocking) {
            (super::Privacy::Public, _) => Self::Public,
            (super::Privacy::Private, true) => Self::Knocking,
            (super::Privacy::Private, false) => Self::Locked,
        }
    }

    /// The stored form, as forms send it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Knocking => "knocking",
            Self::Locked => "locked",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Public, Self::Knocking, Self::Locked]
            .into_iter()
            .find(|access| access.as_str() == value)
    }
}
