//! Meeting-token permissions and the bodies that create and revoke tokens.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::TokenProperties;

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

/// An area a `canAdmin` list may grant (Daily's three; Knock acts on `participants`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AdminArea {
    /// Admit, deny and eject participants.
    Participants,
    /// Start and stop live streams (stored).
    Streaming,
    /// Start and stop transcription (stored).
    Transcription,
}

/// What a participant may send: `true`/`false`, or a list of kinds (stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(untagged)]
pub enum CanSend {
    /// Everything, or nothing.
    All(bool),
    /// These kinds of media.
    Some(Vec<MediaKind>),
}

/// A kind of media a `canSend` list names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum MediaKind {
    /// Camera.
    Video,
    /// Microphone.
    Audio,
    /// Screen share video.
    ScreenVideo,
    /// Screen share audio.
    ScreenAudio,
    /// Custom video tracks.
    CustomVideo,
    /// Custom audio tracks.
    CustomAudio,
}

/// Daily's participant permissions, on a token or as a room's default. Knock acts on
/// `canAdmin`; the others are stored and echoed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Whether the participant appears to others (stored).
    #[serde(
        rename = "hasPresence",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub has_presence: Option<bool>,
    /// What the participant may send (stored).
    #[serde(rename = "canSend", default, skip_serializing_if = "Option::is_none")]
    pub can_send: Option<CanSend>,
    /// What the participant may receive, as Daily's object (stored).
    #[serde(
        rename = "canReceive",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_receive: Option<super::JsonObject>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!admit(r#"{"canAdmin": ["streaming", "transcription"]}"#));
        assert!(serde_json::from_str::<Permissions>(r#"{"canAdmin": ["everything"]}"#).is_err());
        assert!(serde_json::from_str::<Permissions>(r#"{"canAdmn": true}"#).is_err());
        let all: Permissions = serde_json::from_str(
            r#"{"hasPresence": true, "canSend": ["video", "screenAudio"], "canReceive": {"base": false}}"#,
        )
        .expect("Daily's permission fields");
        assert_eq!(
            all.can_send,
            Some(CanSend::Some(vec![
                MediaKind::Video,
                MediaKind::ScreenAudio
            ]))
        );
    }
}
