//! Room and meeting-token properties, one table each. A row defines a property once: its name,
//! type, default, check, OpenAPI details and whether Knock acts on it or only stores and echoes
//! it; the structs, the name lists, `config()`, merging a patch and the checks follow from it
//! (see [`table`]).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::Permissions;

mod table;

use table::{default_value, property_lists, room_properties, stored_type, token_properties};

/// The largest `max_participants`, and its default.
pub const MAX_PARTICIPANTS: i64 = 200;

/// Whether Knock acts on a property or only accepts, stores and echoes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Knock's behaviour depends on it.
    Acts,
    /// Accepted, stored and echoed; nothing else.
    Stored,
}

/// One row of a property table, as documentation and tests read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyInfo {
    /// The property's name on the wire.
    pub name: &'static str,
    /// Whether Knock acts on it.
    pub effect: Effect,
    /// What it means, as the API reference says.
    pub doc: &'static str,
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
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only reached when the key is present; absent keys take `Default` (Absent).
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Self::Null, Self::Value))
    }
}

room_properties! {
    /// Let tokenless visitors of a private room knock (default false).
    enable_knocking: bool = false, Acts;
    /// Not before this unix time.
    nbf: i64, Acts, check = unix_time;
    /// Expires at this unix time; must be in the future.
    exp: i64, Acts, check = future_exp;
    /// 1 to 200 (default 200).
    max_participants: i64 = MAX_PARTICIPANTS, Acts, check = max_participants,
        schema(minimum = 1, maximum = 200);
    /// Eject everyone at `exp` (default false).
    eject_at_room_exp: bool = false, Acts;
    /// Show the prejoin page (default true).
    enable_prejoin_ui: bool = true, Stored;
    /// Page language: `en`.
    lang: String = "en".to_owned(), Stored, check = lang, schema(example = "en");
}

token_properties! {
    /// The room this token opens; every room when absent.
    room_name: String, Acts, check = room_name;
    /// An owner: joins private rooms directly and decides on knocks.
    is_owner: bool, Acts;
    /// The holder's display name (1–64 characters).
    user_name: String, Acts, check = display_name;
    /// The holder's id in your system (at most 36 characters).
    user_id: String, Acts, check = user_id;
    /// Expires at this unix time; must be in the future.
    exp: i64, Acts, check = future_exp;
    /// Not valid before this unix time.
    nbf: i64, Acts, check = unix_time;
    /// Eject the holder from the call when the token expires.
    eject_at_token_exp: bool, Acts;
    /// Eject the holder this many seconds after joining.
    eject_after_elapsed: i64, Acts, check = positive_seconds;
    /// The holder must knock even though they have a token.
    knocking: bool, Acts;
    /// What a non-owner may administer.
    permissions: Permissions, Acts;
    /// Page language: `en`.
    lang: String, Stored, check = lang;
    /// Show the prejoin page.
    enable_prejoin_ui: bool, Stored;
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

    use serde_json::json;

    /// A value other than the default for every room property; a new row needs one here.
    /// (Merging does not check values: `lang` may be any string at this level.)
    fn room_samples() -> Map<String, Value> {
        let Value::Object(samples) = json!({
            "enable_knocking": true, "nbf": 100, "exp": 4_102_444_800_i64,
            "max_participants": 12, "eject_at_room_exp": true, "enable_prejoin_ui": false,
            "lang": "fr",
        }) else {
            unreachable!("an object literal")
        };
        samples
    }

    /// A value for every token property; a new row needs one here.
    fn token_samples() -> Value {
        json!({
            "room_name": "standup", "is_owner": true, "user_name": "Ana", "user_id": "u-1",
            "exp": 4_102_444_800_i64, "nbf": 100, "eject_at_token_exp": true,
            "eject_after_elapsed": 60, "knocking": true, "permissions": {"canAdmin": true},
            "lang": "en", "enable_prejoin_ui": false,
        })
    }

    fn sorted<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<String> {
        let mut names: Vec<String> = names
            .into_iter()
            .map(|name| name.as_ref().to_owned())
            .collect();
        names.sort_unstable();
        names
    }

    fn names(infos: &[PropertyInfo]) -> Vec<&'static str> {
        infos.iter().map(|info| info.name).collect()
    }

    #[test]
    fn every_room_property_round_trips_through_patch_merge_and_config() {
        let samples = room_samples();
        assert_eq!(
            sorted(samples.keys()),
            sorted(ROOM_PROPERTY_NAMES),
            "one sample per row"
        );
        assert_eq!(names(ROOM_PROPERTIES), ROOM_PROPERTY_NAMES);

        for (name, value) in samples {
            let body = json!({ name.clone(): value });
            let patch: RoomPropertiesPatch =
                serde_json::from_value(body.clone()).expect("a valid patch");
            assert_eq!(serde_json::to_value(&patch).expect("json"), body, "{name}");
            let mut properties = RoomProperties::default();
            properties.merge(patch);
            assert_eq!(Value::Object(properties.config()), body, "{name}");
            let stored = serde_json::to_string(&properties).expect("json");
            let read: RoomProperties = serde_json::from_str(&stored).expect("stored form");
            assert_eq!(read, properties, "{name}");
        }
    }

    #[test]
    fn null_resets_each_room_property_and_absent_keeps_it() {
        let samples = room_samples();
        let mut all = RoomProperties::default();
        all.merge(serde_json::from_value(Value::Object(samples.clone())).expect("valid"));
        assert_eq!(
            all.config(),
            samples,
            "every sample differs from its default"
        );

        let mut kept = all.clone();
        kept.merge(RoomPropertiesPatch::default());
        assert_eq!(kept, all, "an empty patch changes nothing");

        for name in ROOM_PROPERTY_NAMES {
            let mut properties = all.clone();
            properties.merge(serde_json::from_value(json!({ *name: null })).expect("valid"));
            let mut expected = samples.clone();
            expected.remove(*name);
            assert_eq!(properties.config(), expected, "{name}");
        }
    }

    #[test]
    fn every_token_property_round_trips() {
        let samples = token_samples();
        let properties: TokenProperties =
            serde_json::from_value(samples.clone()).expect("valid properties");
        let json = serde_json::to_value(&properties).expect("json");
        assert_eq!(json, samples);
        let keys = json
            .as_object()
            .map(|object| object.keys())
            .into_iter()
            .flatten();
        assert_eq!(
            sorted(keys),
            sorted(TOKEN_PROPERTY_NAMES),
            "one sample per row"
        );
        assert_eq!(names(TOKEN_PROPERTIES), TOKEN_PROPERTY_NAMES);
        assert_eq!(
            serde_json::to_value(TokenProperties::default()).expect("json"),
            json!({}),
            "absent properties are not written"
        );
    }

    #[test]
    fn an_unknown_property_is_refused_by_name() {
        let error = serde_json::from_value::<RoomPropertiesPatch>(json!({"enable_chat": true}))
            .expect_err("unknown");
        assert!(error.to_string().contains("enable_chat"), "{error}");
        let error = serde_json::from_value::<TokenProperties>(json!({"start_video_off": true}))
            .expect_err("unknown");
        assert!(error.to_string().contains("start_video_off"), "{error}");
    }

    #[test]
    fn the_tables_say_which_properties_knock_acts_on() {
        let stored = |infos: &[PropertyInfo]| {
            infos
                .iter()
                .filter(|info| info.effect == Effect::Stored)
                .map(|info| info.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(stored(ROOM_PROPERTIES), ["enable_prejoin_ui", "lang"]);
        assert_eq!(stored(TOKEN_PROPERTIES), ["lang", "enable_prejoin_ui"]);
        for info in ROOM_PROPERTIES.iter().chain(TOKEN_PROPERTIES) {
            assert!(
                !info.doc.is_empty() && !info.doc.starts_with(' '),
                "{info:?}"
            );
        }
        assert_eq!(
            ROOM_PROPERTIES[3].doc, "1 to 200 (default 200).",
            "the doc comment of the row"
        );
    }

    /// Asserts a check refused the property `name` with a 400 whose sentence starts with its path.
    #[cfg(feature = "ssr")]
    fn refused_naming<T: std::fmt::Debug>(name: &str, result: Result<T, crate::error::AppError>) {
        let error = result.expect_err(name);
        assert_eq!(error.status(), 400);
        let path = format!("properties.{name} ");
        assert!(error.to_string().starts_with(&path), "{error}");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn checks_refuse_a_bad_value_with_a_400_naming_the_property() {
        let now = 1_000;
        let room_bad = [
            ("nbf", json!(-1)),
            ("exp", json!(1_000)),
            ("max_participants", json!(0)),
            ("max_participants", json!(201)),
            ("lang", json!("fr")),
        ];
        for (name, value) in room_bad {
            let patch: RoomPropertiesPatch =
                serde_json::from_value(json!({ name: value })).expect("well formed");
            refused_naming(name, patch.checked(now));
        }
        let token_bad = [
            ("room_name", json!("a b")),
            ("user_name", json!("  ")),
            ("user_id", json!("x".repeat(37))),
            ("exp", json!(999)),
            ("nbf", json!(-5)),
            ("eject_after_elapsed", json!(0)),
            ("lang", json!("de")),
        ];
        for (name, value) in token_bad {
            let properties: TokenProperties =
                serde_json::from_value(json!({ name: value })).expect("well formed");
            refused_naming(name, properties.checked(now));
        }

        let unknown = crate::ssr::input::from_value::<super::super::CreateRoom>(
            json!({"properties": {"enable_chat": true}}),
        )
        .expect_err("unknown");
        assert_eq!(unknown.status(), 400);
        assert!(unknown.to_string().contains("enable_chat"), "{unknown}");

        let trimmed: TokenProperties =
            serde_json::from_value(json!({"user_name": "  Ana "})).expect("valid");
        let checked = trimmed.checked(now).expect("valid");
        assert_eq!(checked.user_name.as_deref(), Some("Ana"), "stored trimmed");
    }
}
