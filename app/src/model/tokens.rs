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
        assert!(serde_json::from_str::<Permissions>(r#"{"canAdmin": ["streaming"]}"#).is_err());
    }
}
