//! Room and meeting-token properties: their values, the patches that change them and their
//! names.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::Permissions;

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
}
