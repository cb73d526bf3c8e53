//! Wire types shared by the server, the REST API and the browser: rooms, their properties,
//! meeting-token properties and the request bodies that create or change them.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Who may enter a room without a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// Anyone with the link.
    #[default]
    Public,
    /// Token holders, and knockers an admin lets in when knocking is enabled.
    Private,
}

impl Privacy {
    /// `public` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// The largest `max_participants`, and its default.
pub const MAX_PARTICIPANTS: i64 = 200;

/// A room's properties with every value in effect (defaults filled in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomProperties {
    /// Tokenless visitors of a private room may knock.
    pub enable_knocking: bool,
    /// Nobody joins before this unix time.
    pub nbf: Option<i64>,
    /// Nobody joins after this unix time; the room is no longer listed.
    pub exp: Option<i64>,
    /// At most this many people in the call.
    pub max_participants: i64,
    /// Eject everyone when `exp` passes.
    pub eject_at_room_exp: bool,
    /// Show the prejoin page before joining.
    pub enable_prejoin_ui: bool,
    /// The language of the pages.
    pub lang: String,
}

impl Default for RoomProperties {
    fn default() -> Self {
        Self {
            enable_knocking: false,
            nbf: None,
            exp: None,
            max_participants: MAX_PARTICIPANTS,
            eject_at_room_exp: false,
            enable_prejoin_ui: true,
            lang: "en".to_owned(),
        }
    }
}

impl RoomProperties {
    /// The properties that differ from their defaults: a room's `config`.
    pub fn config(&self) -> Map<String, Value> {
        let defaults = Self::default();
        let mut config = Map::new();
        let mut put = |key: &str, differs: bool, value: Value| {
            if differs {
                config.insert(key.to_owned(), value);
            }
        };
        put(
            "enable_knocking",
            self.enable_knocking != defaults.enable_knocking,
            self.enable_knocking.into(),
        );
        put("nbf", self.nbf.is_some(), self.nbf.into());
        put("exp", self.exp.is_some(), self.exp.into());
        put(
            "max_participants",
            self.max_participants != defaults.max_participants,
            self.max_participants.into(),
        );
        put(
            "eject_at_room_exp",
            self.eject_at_room_exp != defaults.eject_at_room_exp,
            self.eject_at_room_exp.into(),
        );
        put(
            "enable_prejoin_ui",
            self.enable_prejoin_ui != defaults.enable_prejoin_ui,
            self.enable_prejoin_ui.into(),
        );
        put("lang", self.lang != defaults.lang, self.lang.clone().into());
        config
    }
}

/// A room as the REST API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Room {
    /// A UUID; the cursor of room listings.
    pub id: String,
    /// The room's name, the last segment of its URL.
    pub name: String,
    /// Always true: rooms are made through the API or the dashboard.
    pub api_created: bool,
    /// `public` or `private`.
    pub privacy: Privacy,
    /// `KNOCK_PUBLIC_URL/<name>`.
    pub url: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The properties that differ from their defaults.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub config: Map<String, Value>,
}

/// One page of rooms, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RoomList {
    /// How many rooms are listed in all (not only on this page).
    pub total_count: i64,
    /// This page.
    pub data: Vec<Room>,
}

/// The answer to a room deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RoomDeleted {
    /// Always true.
    pub deleted: bool,
    /// The deleted room's name.
    pub name: String,
}

/// A property in an update: left alone, reset to its default (`null`), or set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Patch<T> {
    /// Not in the request: keep the current value.
    #[default]
    Absent,
    /// `null`: back to the default.
    Null,
    /// A new value.
    Value(T),
}

impl<T> Patch<T> {
    /// Whether the request left this property alone.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// Transforms a set value, keeping `Absent` and `Null`.
    pub fn map_value<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(value) => Patch::Value(f(value)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only reached when the key is present; absent keys take `Default` (Absent).
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Self::Null, Self::Value))
    }
}

/// Room properties in a create or update request. Unknown properties are refused by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoomPropertiesPatch {
    /// Let tokenless visitors of a private room knock (default false).
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>))]
    pub enable_knocking: Patch<bool>,
    /// Not before this unix time.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub nbf: Patch<i64>,
    /// Expires at this unix time; must be in the future.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub exp: Patch<i64>,
    /// 1 to 200 (default 200).
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>, minimum = 1, maximum = 200))]
    pub max_participants: Patch<i64>,
    /// Eject everyone at `exp` (default false).
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>))]
    pub eject_at_room_exp: Patch<bool>,
    /// Show the prejoin page (default true).
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>))]
    pub enable_prejoin_ui: Patch<bool>,
    /// Page language: `en`.
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, example = "en"))]
    pub lang: Patch<String>,
}

/// `POST /v1/rooms`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// `[A-Za-z0-9_-]{1,128}`, not one of Knock's own paths; 20 random alphanumerics when
    /// omitted.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = "^[A-Za-z0-9_-]{1,128}$", example = "standup")
    )]
    pub name: Option<String>,
    /// Default `public`.
    #[serde(default)]
    pub privacy: Option<Privacy>,
    /// Room properties.
    #[serde(default)]
    pub properties: RoomPropertiesPatch,
}

/// `POST /v1/rooms/{name}`: properties merge; `null` resets one to its default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateRoom {
    /// New privacy.
    #[serde(default)]
    pub privacy: Option<Privacy>,
    /// Properties to change.
    #[serde(default)]
    pub properties: RoomPropertiesPatch,
}

/// The names of all room properties, to recognise one sent at the top level by mistake.
pub const ROOM_PROPERTY_NAMES: &[&str] = &[
    "enable_knocking",
    "nbf",
    "exp",
    "max_participants",
    "eject_at_room_exp",
    "enable_prejoin_ui",
    "lang",
];

/// The names of all meeting-token properties.
pub const TOKEN_PROPERTY_NAMES: &[&str] = &[
    "room_name",
    "is_owner",
    "user_name",
    "user_id",
    "exp",
    "nbf",
    "eject_at_token_exp",
    "eject_after_elapsed",
    "knocking",
    "permissions",
    "lang",
    "enable_prejoin_ui",
];

/// What a non-owner token may administer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(untagged)]
pub enum CanAdmin {
    /// `true`: everything (today: the lobby); `false`: nothing.
    All(bool),
    /// A list of areas; `participants` lets the holder admit and deny knockers.
    Some(Vec<AdminArea>),
}

/// An area a `canAdmin` list may grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AdminArea {
    /// Admit, deny and eject participants.
    Participants,
}

/// A token's permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Lets a non-owner decide on knocks.
    #[serde(rename = "canAdmin", default, skip_serializing_if = "Option::is_none")]
    pub can_admin: Option<CanAdmin>,
}

impl Permissions {
    /// Whether these permissions let the holder decide on knocks.
    pub fn can_admit(&self) -> bool {
        match &self.can_admin {
            Some(CanAdmin::All(all)) => *all,
            Some(CanAdmin::Some(areas)) => areas.contains(&AdminArea::Participants),
            None => false,
        }
    }
}

/// A meeting token's properties, with Daily's long names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenProperties {
    /// The room this token opens; every room when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
    /// An owner: joins private rooms directly and decides on knocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_owner: Option<bool>,
    /// The holder's display name (1–64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The holder's id in your system (at most 36 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Expires at this unix time; must be in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Not valid before this unix time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Eject the holder from the call when the token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eject_at_token_exp: Option<bool>,
    /// Eject the holder this many seconds after joining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eject_after_elapsed: Option<i64>,
    /// The holder must knock even though they have a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knocking: Option<bool>,
    /// What a non-owner may administer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// Page language: `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Show the prejoin page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_prejoin_ui: Option<bool>,
}

/// `POST /v1/meeting-tokens`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// The token's properties; an empty token opens every room as a non-owner.
    #[serde(default)]
    pub properties: TokenProperties,
}

/// The answer to a token creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CreatedToken {
    /// The signed JWT.
    pub token: String,
}

/// The answer to a token revocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct TokenRevoked {
    /// Always true.
    pub revoked: bool,
}

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
    /// The knock's id, used to decide on it.
    pub id: String,
    /// The name they knocked with (render it as text).
    pub name: String,
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

/// The body of an `error` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallErrorDetail {
    /// `not-allowed`, `ejected`, `exp-room`, `exp-token`, `nbf-room`, `nbf-token`, `no-room`,
    /// `meeting-full`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A sentence.
    pub msg: String,
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
            Self::Error { .. } => "error",
        }
    }

    /// An `error` event.
    pub fn error(kind: &str, msg: &str) -> Self {
        Self::Error {
            error_msg: msg.to_owned(),
            error: CallErrorDetail {
                kind: kind.to_owned(),
                msg: msg.to_owned(),
            },
        }
    }
}

/// The most signaling messages one `signal` call may carry.
pub const MAX_SIGNAL_MESSAGES: usize = 64;

/// One WebRTC signaling message, shaped like the browser's own objects: `{"description":
/// {"type", "sdp"}}` or `{"candidate": {"candidate", "sdpMid", "sdpMLineIndex"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SignalMessage {
    /// An offer or an answer.
    Description(SessionDescription),
    /// An ICE candidate.
    Candidate(IceCandidate),
}

/// An `RTCSessionDescriptionInit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// `offer` or `answer`.
    #[serde(rename = "type")]
    pub kind: SdpKind,
    /// The SDP text.
    pub sdp: String,
}

/// The kinds of session description that travel between peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpKind {
    /// Proposes a session.
    Offer,
    /// Accepts one.
    Answer,
}

/// An `RTCIceCandidateInit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The candidate line.
    pub candidate: String,
    /// The media stream it belongs to.
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    /// The index of that media section.
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_m_line_index: Option<u16>,
}

/// A STUN or TURN server for the browsers, in the `RTCIceServer` shape (`KNOCK_ICE_SERVERS`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` / `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
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

/// A room as the dashboard lists it: the room and its live counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardRoom {
    /// The room.
    pub room: Room,
    /// People in the call now.
    pub in_call: i64,
    /// Knocks waiting now.
    pub waiting: i64,
}

/// A token minted in the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedToken {
    /// The token.
    pub token: String,
    /// `<public url>/<room>?t=<token>`.
    pub link: String,
    /// What it grants.
    pub properties: TokenProperties,
}

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
    /// The knock's id.
    pub id: String,
    /// The name knocked with.
    pub name: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_properties_have_an_empty_config() {
        assert!(RoomProperties::default().config().is_empty());
    }

    #[test]
    fn config_lists_only_what_differs_from_the_defaults() {
        let properties = RoomProperties {
            enable_knocking: true,
            max_participants: 12,
            enable_prejoin_ui: true,
            ..RoomProperties::default()
        };
        let config = Value::Object(properties.config());
        assert_eq!(
            config,
            serde_json::json!({"enable_knocking": true, "max_participants": 12})
        );
    }

    #[test]
    fn a_patch_tells_absent_null_and_value_apart() {
        let patch: RoomPropertiesPatch =
            serde_json::from_str(r#"{"enable_knocking": null, "max_participants": 5}"#)
                .expect("valid patch");
        assert_eq!(patch.enable_knocking, Patch::Null);
        assert_eq!(patch.max_participants, Patch::Value(5));
        assert_eq!(patch.exp, Patch::Absent);
    }

    #[test]
    fn events_carry_their_daily_js_name_as_action() {
        let event = CallEvent::error("not-allowed", "Join request rejected");
        let json = serde_json::to_value(&event).expect("serializable");
        assert_eq!(json["action"], event.name());
        assert_eq!(json["errorMsg"], "Join request rejected");
        assert_eq!(json["error"]["type"], "not-allowed");
        let added = CallEvent::WaitingParticipantAdded {
            participant: WaitingParticipant {
                id: "k".into(),
                name: "Ben".into(),
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

    #[test]
    fn can_admin_accepts_a_bool_or_the_participants_area() {
        let admit = |json: &str| {
            serde_json::from_str::<Permissions>(json)
                .expect("valid permissions")
                .can_admit()
        };
        assert!(admit(r#"{"canAdmin": true}"#));
        assert!(admit(r#"{"canAdmin": ["participants"]}"#));
        assert!(!admit(r#"{"canAdmin": false}"#));
        assert!(!admit(r#"{"canAdmin": []}"#));
        assert!(!admit(r#"{}"#));
        assert!(serde_json::from_str::<Permissions>(r#"{"canAdmin": ["streaming"]}"#).is_err());
    }
}
