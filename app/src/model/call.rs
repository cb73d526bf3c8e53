//! The call protocol: access levels, a session's state and phase, and the events on its
//! stream, named and shaped as in daily-js.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::SignalMessage;

/// A visitor's access to a room, as daily-js names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    /// May join.
    Full,
    /// Must knock.
    Lobby,
    /// May neither join nor knock.
    None,
}

impl crate::json::FromJson for AccessLevel {
    fn from_json<J: crate::json::Json>(json: &J) -> Option<Self> {
        match json.string()?.as_str() {
            "full" => Some(Self::Full),
            "lobby" => Some(Self::Lobby),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// `{level}`, the shape daily-js wraps access levels in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// The level.
    pub level: AccessLevel,
}

/// The local participant's access: `accessState()` in daily-js.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessState {
    /// What the participant has now.
    pub access: Level,
    /// What the participant asked for and waits to get, while knocking.
    #[serde(
        rename = "awaitingAccess",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub awaiting_access: Option<Level>,
}

/// Someone in the lobby, as admins see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingParticipant {
    /// Their session id (as in daily-js), used to decide on the knock.
    pub id: String,
    /// The name they knocked with (render it as text).
    pub name: String,
    /// A note for the hosts, sent with the knock (Knock's addition; render it as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Always `{level: "full"}`.
    #[serde(rename = "awaitingAccess")]
    pub awaiting_access: Level,
}

/// Someone in the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// The participant's session id.
    pub session_id: String,
    /// Their display name.
    pub user_name: String,
    /// `user_id` from their token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Holds an owner token.
    pub owner: bool,
    /// Joined at, unix milliseconds.
    pub joined_at: i64,
    /// Sending video (camera on), as their browser last said.
    #[serde(default)]
    pub video: bool,
    /// Sending audio (microphone on), as their browser last said.
    #[serde(default)]
    pub audio: bool,
}

/// How a knock was settled, told to the other admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Let in (`true`) or turned away.
    pub granted: bool,
    /// The admin who decided, or `null` when the knocker cancelled or left.
    pub by: Option<String>,
}

/// Why a session may not enter, or had to leave: the daily-js `error` event types. Stored and
/// matched as this enum; on the wire and in the database, as daily-js spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallErrorKind {
    /// `not-allowed`: the knock was denied, or the token does not open this room.
    NotAllowed,
    /// `ejected`: removed by an admin or the API, or the stay's time is up.
    Ejected,
    /// `exp-room`: the room expired.
    ExpRoom,
    /// `exp-token`: the meeting token expired.
    ExpToken,
    /// `nbf-room`: the room is not open yet.
    NbfRoom,
    /// `nbf-token`: the meeting token is not valid yet.
    NbfToken,
    /// `no-room`: the room does not exist (or was deleted).
    NoRoom,
    /// `meeting-full`: `max_participants` are in the call.
    MeetingFull,
}

impl CallErrorKind {
    /// Every kind.
    pub const ALL: [Self; 8] = [
        Self::NotAllowed,
        Self::Ejected,
        Self::ExpRoom,
        Self::ExpToken,
        Self::NbfRoom,
        Self::NbfToken,
        Self::NoRoom,
        Self::MeetingFull,
    ];

    /// The daily-js spelling, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAllowed => "not-allowed",
            Self::Ejected => "ejected",
            Self::ExpRoom => "exp-room",
            Self::ExpToken => "exp-token",
            Self::NbfRoom => "nbf-room",
            Self::NbfToken => "nbf-token",
            Self::NoRoom => "no-room",
            Self::MeetingFull => "meeting-full",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The body of an `error` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallErrorDetail {
    /// Why.
    #[serde(rename = "type")]
    pub kind: CallErrorKind,
    /// A sentence.
    pub msg: String,
}

/// A message from a host to someone waiting in the lobby (render it as text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMessage {
    /// What the host said.
    pub text: String,
    /// The host's name.
    pub from: String,
}

/// An event on a session's stream, named and shaped as in daily-js. The SSE event name is the
/// `action`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum CallEvent {
    /// The local participant's access changed.
    AccessStateUpdated {
        /// Access now.
        access: Level,
        /// Access being waited for.
        #[serde(
            rename = "awaitingAccess",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        awaiting_access: Option<Level>,
    },
    /// Someone knocked (admins only).
    WaitingParticipantAdded {
        /// Who.
        participant: WaitingParticipant,
    },
    /// A knocker changed their name (admins only).
    WaitingParticipantUpdated {
        /// Who, with the new name.
        participant: WaitingParticipant,
    },
    /// A knock ended (admins only): decided, cancelled, or the knocker left.
    WaitingParticipantRemoved {
        /// Who.
        participant: WaitingParticipant,
        /// How it ended, when an admin decided (Knock's addition to daily-js).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution: Option<Resolution>,
    },
    /// Someone entered the call.
    ParticipantJoined {
        /// Who.
        participant: Participant,
    },
    /// Someone left the call.
    ParticipantLeft {
        /// Who.
        participant: Participant,
    },
    /// Someone in the call turned their camera or microphone on or off.
    ParticipantUpdated {
        /// Who, as they are now.
        participant: Participant,
    },
    /// WebRTC signaling from another participant in the call (Knock's addition to daily-js):
    /// session descriptions and ICE candidates, in the order they were sent.
    Signal {
        /// The sender's session id.
        from: String,
        /// What they sent.
        messages: Vec<SignalMessage>,
    },
    /// An admin switched who may come into the room (admins in the call only; Knock's
    /// addition).
    RoomAccessUpdated {
        /// Who may come in now.
        access: super::RoomAccess,
        /// The admin who switched it.
        by: String,
    },
    /// A host sent the local participant a message while they wait (waiting guests only;
    /// Knock's addition).
    LobbyMessage {
        /// What the host said.
        message: HostMessage,
    },
    /// The local participant's place in line changed while waiting (1 = next); Knock's
    /// addition to daily-js.
    LobbyPosition {
        /// The place in line now.
        position: i64,
    },
    /// The call's media moved between browser-to-browser connections and the SFU, as
    /// daily-js' `network-connection` (participants in the call only; also answered by
    /// `network_topology`, daily-js' `getNetworkTopology()`, when a page (re)connects).
    NetworkConnection {
        /// How the media flows now: `peer-to-peer` or `sfu`.
        #[serde(rename = "type")]
        kind: ConnectionType,
        /// Always `connected` (daily-js also says `interrupted`, which Knock does not).
        event: String,
        /// Grows with each change of the call's topology (Knock's addition): a client keeps
        /// the newest of this and `network_topology`'s answer.
        version: i64,
    },
    /// Something ended the local participant's stay.
    Error {
        /// A sentence, e.g. `Join request rejected`.
        #[serde(rename = "errorMsg")]
        error_msg: String,
        /// Type and sentence.
        error: CallErrorDetail,
    },
}

impl CallEvent {
    /// The daily-js event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AccessStateUpdated { .. } => "access-state-updated",
            Self::WaitingParticipantAdded { .. } => "waiting-participant-added",
            Self::WaitingParticipantUpdated { .. } => "waiting-participant-updated",
            Self::WaitingParticipantRemoved { .. } => "waiting-participant-removed",
            Self::ParticipantJoined { .. } => "participant-joined",
            Self::ParticipantLeft { .. } => "participant-left",
            Self::ParticipantUpdated { .. } => "participant-updated",
            Self::Signal { .. } => "signal",
            Self::LobbyPosition { .. } => "lobby-position",
            Self::LobbyMessage { .. } => "lobby-message",
            Self::RoomAccessUpdated { .. } => "room-access-updated",
            Self::NetworkConnection { .. } => "network-connection",
            Self::Error { .. } => "error",
        }
    }

    /// An `error` event.
    pub fn error(kind: CallErrorKind, msg: &str) -> Self {
        Self::Error {
            error_msg: msg.to_owned(),
            error: CallErrorDetail {
                kind,
                msg: msg.to_owned(),
            },
        }
    }
}
/// How a call's media flows, in a `network-connection` event (daily-js' `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionType {
    /// Browser to browser (the mesh).
    PeerToPeer,
    /// Through the SFU.
    Sfu,
}

/// How a call's media flows, as daily-js' `getNetworkTopology()` answers it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// Not known, or not in the call.
    #[default]
    None,
    /// Browser to browser (the mesh).
    Peer,
    /// Through the SFU.
    Sfu,
}

impl From<ConnectionType> for Topology {
    fn from(kind: ConnectionType) -> Self {
        match kind {
            ConnectionType::PeerToPeer => Self::Peer,
            ConnectionType::Sfu => Self::Sfu,
        }
    }
}

/// `network_topology`'s answer: daily-js' `getNetworkTopology()`, and the version of the
/// call's topology it read (see [`CallEvent::NetworkConnection`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkTopology {
    /// `peer`, `sfu`, or `none` (not in the call).
    pub topology: Topology,
    /// The topology's version (0 before the call was ever told one).
    pub version: i64,
}

/// What `preAuth` and `join` answer: the session's state in the room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallState {
    /// The room's name.
    pub room: String,
    /// This session's participant id.
    pub session_id: String,
    /// Access now and awaited.
    pub access: AccessState,
    /// Where the session is: `prejoin`, `waiting`, `in_call`, `denied`, `left`, `ejected`.
    pub phase: Phase,
    /// May decide on knocks.
    pub admin: bool,
    /// Holds an owner token.
    pub owner: bool,
    /// The name the session joined or knocked with, or its token's `user_name`.
    pub user_name: Option<String>,
    /// Whether an admin is in the call (tells a knocker someone can answer).
    pub host_present: bool,
    /// Why the session cannot enter, when it cannot: (daily-js error type, sentence).
    pub refusal: Option<CallErrorDetail>,
    /// The id of the last event written for this session: this state includes everything up
    /// to it, so a stream opened with this `Last-Event-ID` continues exactly from here.
    #[serde(default)]
    pub last_event_id: i64,
    /// While waiting: the place in line, 1 = next (by knock time). Knock's addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// While waiting: the last message a host sent them (Knock's addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<HostMessage>,
    /// How the call page starts and what it shows (the room's and the token's display
    /// properties: prejoin page, camera and microphone at start, participant list).
    #[serde(default)]
    pub settings: super::CallSettings,
    /// For admins: who may come into the room now (Knock's addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_access: Option<super::RoomAccess>,
}

/// Where a session stands in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Has not joined or knocked.
    Prejoin,
    /// Knocked; waiting for an admin.
    Waiting,
    /// In the call.
    InCall,
    /// An admin denied the knock.
    Denied,
    /// Left the call.
    Left,
    /// Removed by an admin or the API, or the room went away.
    Ejected,
}

impl Phase {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prejoin => "prejoin",
            Self::Waiting => "waiting",
            Self::InCall => "in_call",
            Self::Denied => "denied",
            Self::Left => "left",
            Self::Ejected => "ejected",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Prejoin,
            Self::Waiting,
            Self::InCall,
            Self::Denied,
            Self::Left,
            Self::Ejected,
        ]
        .into_iter()
        .find(|phase| phase.as_str() == text)
    }
}

/// The answer to deciding on several knocks at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Decisions {
    /// Knocks this call decided.
    pub ids: Vec<String>,
    /// Knocks that had already been decided (or cancelled) by the time this call came.
    #[serde(rename = "alreadyHandled", default)]
    pub already_handled: Vec<String>,
}

/// Everything a room page needs to render on the server: the session's state, and for those in
/// the call, who else is there and (for admins) who is waiting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    /// The session's state.
    pub state: CallState,
    /// The others in the call (empty unless in the call).
    pub participants: Vec<Participant>,
    /// The lobby (empty unless an admin in the call).
    pub waiting: Vec<WaitingParticipant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_are_spelled_as_daily_js_on_the_wire_and_in_storage() {
        for kind in CallErrorKind::ALL {
            let json = serde_json::to_value(kind).expect("encodes");
            assert_eq!(json, kind.as_str());
            assert_eq!(CallErrorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            CallErrorKind::parse("exp-room"),
            Some(CallErrorKind::ExpRoom)
        );
        assert_eq!(CallErrorKind::parse("expired"), None);
    }

    #[test]
    fn events_carry_their_daily_js_name_as_action() {
        let event = CallEvent::error(CallErrorKind::NotAllowed, "Join request rejected");
        let json = serde_json::to_value(&event).expect("serializable");
        assert_eq!(json["action"], event.name());
        assert_eq!(json["errorMsg"], "Join request rejected");
        assert_eq!(json["error"]["type"], "not-allowed");
        let added = CallEvent::WaitingParticipantAdded {
            participant: WaitingParticipant {
                id: "k".into(),
                name: "Ben".into(),
                note: None,
                awaiting_access: Level {
                    level: AccessLevel::Full,
                },
            },
        };
        let json = serde_json::to_value(&added).expect("serializable");
        assert_eq!(json["action"], "waiting-participant-added");
        assert_eq!(json["participant"]["awaitingAccess"]["level"], "full");
        let back: CallEvent = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, added);
    }
}
