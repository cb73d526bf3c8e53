//! Room and meeting-token properties, one table each: every property Daily documents, with
//! Daily's types. A row defines a property once: its name, type, default, check, OpenAPI details
//! and whether Knock acts on it or only stores and echoes it; the structs, the name lists,
//! `config()`, merging a patch, the token's claims and the checks follow from it (see [`table`];
//! the value types and how a value is read, whole numbers with a fraction included, are in
//! [`wire`]).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::Permissions;

mod table;
pub mod wire;

use table::{default_value, property_lists, room_properties, stored_type, token_properties};
use wire::FromWire;
pub use wire::{Fraction, JsonObject, Lang, Recording};

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

/// How the call page starts and what it shows, from the room's display properties and the
/// token's (which win where Daily's tokens have the same property).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSettings {
    /// Show the prejoin page (`enable_prejoin_ui`); false: full access enters at once.
    pub prejoin_ui: bool,
    /// Join with the camera off (`start_video_off`).
    pub start_video_off: bool,
    /// Join with the microphone off (`start_audio_off`).
    pub start_audio_off: bool,
    /// Show the participant list (`enable_people_ui`).
    pub people_ui: bool,
}

impl Default for CallSettings {
    /// Daily's defaults: the prejoin page and the participant list shown, camera and
    /// microphone on.
    fn default() -> Self {
        Self {
            prejoin_ui: true,
            start_video_off: false,
            start_audio_off: false,
            people_ui: true,
        }
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
}

impl<'de, T: FromWire> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only reached when the key is present; absent keys take `Default` (Absent).
        Ok(wire::option(deserializer)?.map_or(Self::Null, Self::Value))
    }
}

// Sources: Daily's REST API reference (docs.daily.co/reference/rest-api/rooms and
// .../meeting-tokens, "config" and "create-meeting-token") and its generated client
// (daily-co/daily-ruby docs/RoomProperties.md, docs/Properties.md) for names and types; the
// token claims are Daily's abbreviations ("Self-signing tokens", token property abbreviations).
// A property without a default here is absent until set, and echoed in `config` once set.
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
    /// Eject each participant this many seconds after they join (a token's
    /// `eject_after_elapsed` wins).
    eject_after_elapsed: i64, Acts, check = positive_seconds;
    /// Show the prejoin page (default true); false: full access enters at once.
    enable_prejoin_ui: bool = true, Acts;
    /// Join with the camera off (a token's `start_video_off` wins).
    start_video_off: bool, Acts;
    /// Join with the microphone off (a token's `start_audio_off` wins).
    start_audio_off: bool, Acts;
    /// Show the participant list (false hides it).
    enable_people_ui: bool, Acts;
    /// Page language, one of Daily's (default `en`; Knock's pages are in English).
    lang: Lang = Lang::En, Stored, schema(example = "en");
    /// Participant count after which a call moves from the mesh to the SFU (with Janus
    /// configured; default 4; a change applies at once to a call under way).
    sfu_switchover: Fraction, Acts;
    /// Picture-in-picture controls.
    enable_pip_ui: bool, Stored;
    /// Emoji reactions.
    enable_emoji_reactions: bool, Stored;
    /// Hand raising.
    enable_hand_raising: bool, Stored;
    /// A closed-captions button.
    enable_live_captions_ui: bool, Stored;
    /// The network panel.
    enable_network_ui: bool, Stored;
    /// Noise cancellation controls.
    enable_noise_cancellation_ui: bool, Stored;
    /// Breakout rooms.
    enable_breakout_rooms: bool, Stored;
    /// Screen sharing.
    enable_screenshare: bool, Stored;
    /// Background blur controls.
    enable_video_processing_ui: bool, Stored;
    /// Text chat.
    enable_chat: bool, Stored;
    /// Chat with reactions, an emoji picker and GIFs.
    enable_advanced_chat: bool, Stored;
    /// Newcomers receive the chat history.
    enable_shared_chat_history: bool, Stored;
    /// Only owners send camera, microphone and screen.
    owner_only_broadcast: bool, Stored;
    /// Recording mode: `cloud`, `local` or `raw-tracks`.
    enable_recording: Recording, Stored;
    /// Non-owners join hidden.
    enable_hidden_participants: bool, Stored;
    /// Several media servers for one call.
    enable_mesh_sfu: bool, Stored;
    /// Adaptive bitrate for 1:1 calls.
    enable_adaptive_simulcast: bool, Stored;
    /// Adaptive bitrate for group calls.
    enable_multiparty_adaptive_simulcast: bool, Stored;
    /// One participant per `user_id`.
    enforce_unique_user_ids: bool, Stored;
    /// Optimisations for very large calls.
    experimental_optimize_large_calls: bool, Stored;
    /// A URL told when someone joins.
    meeting_join_hook: String, Stored;
    /// The region of the call's server.
    geo: String, Stored;
    /// The region live streams start from.
    rtmp_geo: String, Stored;
    /// No fallback from `rtmp_geo`.
    disable_rtmp_geo_fallback: bool, Stored;
    /// Where cloud recordings are kept (an object).
    recordings_bucket: JsonObject, Stored;
    /// The name template of recordings.
    recordings_template: String, Stored;
    /// Fewer log messages.
    enable_terse_logging: bool, Stored;
    /// Options for automatic transcription (an object).
    auto_transcription_settings: JsonObject, Stored;
    /// Keep transcriptions.
    enable_transcription_storage: bool, Stored;
    /// Where transcriptions are kept (an object).
    transcription_bucket: JsonObject, Stored;
    /// Predefined live-streaming endpoints (objects).
    streaming_endpoints: Vec<JsonObject>, Stored;
    /// Default permissions of participants.
    permissions: Permissions, Stored;
    /// Dial-out from the call.
    enable_dialout: bool, Stored;
    /// Dial-out settings (an object).
    dialout_config: JsonObject, Stored;
    /// SIP dial-in settings (an object).
    sip: JsonObject, Stored;
    /// The SIP endpoints of the room (an object).
    sip_uri: JsonObject, Stored;
    /// Phone dial-in without a PIN (objects).
    pinless_dialin: Vec<JsonObject>, Stored;
    /// Phone dial-in with a PIN (objects).
    pin_dialin: Vec<JsonObject>, Stored;
}

token_properties! {
    /// The room this token opens; every room when absent.
    room_name: String, Acts, claim = r, check = room_name;
    /// An owner: joins private rooms directly and decides on knocks.
    is_owner: bool, Acts, claim = o;
    /// The holder's display name (1–64 characters).
    user_name: String, Acts, claim = u, check = display_name;
    /// The holder's id in your system (at most 36 characters).
    user_id: String, Acts, claim = ud, check = user_id;
    /// Expires at this unix time; must be in the future.
    exp: i64, Acts, claim = exp, check = future_exp;
    /// Not valid before this unix time.
    nbf: i64, Acts, claim = nbf, check = unix_time;
    /// Eject the holder from the call when the token expires.
    eject_at_token_exp: bool, Acts, claim = ejt;
    /// Eject the holder this many seconds after joining (wins over the room's).
    eject_after_elapsed: i64, Acts, claim = eje, check = positive_seconds;
    /// The holder must knock even though they have a token (in rooms with knocking).
    knocking: bool, Acts, claim = k;
    /// What a non-owner may administer.
    permissions: Permissions, Acts, claim = p;
    /// Show the prejoin page (wins over the room's).
    enable_prejoin_ui: bool, Acts, claim = epu;
    /// Join with the camera off (wins over the room's).
    start_video_off: bool, Acts, claim = vo;
    /// Join with the microphone off (wins over the room's).
    start_audio_off: bool, Acts, claim = ao;
    /// Page language, one of Daily's.
    lang: Lang, Stored, claim = uil;
    /// Close the browser tab on leaving.
    close_tab_on_exit: bool, Stored, claim = ctoe;
    /// A URL to load on leaving.
    redirect_on_meeting_exit: String, Stored, claim = rome;
    /// Intercom alert on joining.
    intercom_join_alert: bool, Stored, claim = ij;
    /// Start a cloud recording on joining.
    start_cloud_recording: bool, Stored, claim = sr;
    /// Options of that recording (an object).
    start_cloud_recording_opts: JsonObject, Stored, claim = sro;
    /// Start transcription when an owner joins.
    auto_start_transcription: bool, Stored, claim = ast;
    /// Recording mode: `cloud`, `local` or `raw-tracks`.
    enable_recording: Recording, Stored, claim = er;
    /// Screen sharing.
    enable_screenshare: bool, Stored, claim = ss;
    /// A URL told when the holder joins.
    meeting_join_hook: String, Stored, claim = mjh;
    /// The recording button.
    enable_recording_ui: bool, Stored, claim = erui;
    /// A closed-captions button.
    enable_live_captions_ui: bool, Stored, claim = enable_live_captions_ui;
    /// Fewer log messages.
    enable_terse_logging: bool, Stored, claim = enable_terse_logging;
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
    fn room_samples() -> Map<String, Value> {
        let Value::Object(samples) = json!({
            "enable_knocking": true, "nbf": 100, "exp": 4_102_444_800_i64,
            "max_participants": 12, "eject_at_room_exp": true, "eject_after_elapsed": 3600,
            "enable_prejoin_ui": false, "start_video_off": true, "start_audio_off": false,
            "enable_people_ui": false, "lang": "fr", "sfu_switchover": 0.5,
            "enable_pip_ui": true, "enable_emoji_reactions": false, "enable_hand_raising": true,
            "enable_live_captions_ui": true, "enable_network_ui": false,
            "enable_noise_cancellation_ui": true, "enable_breakout_rooms": true,
            "enable_screenshare": false, "enable_video_processing_ui": false,
            "enable_chat": true, "enable_advanced_chat": true,
            "enable_shared_chat_history": false, "owner_only_broadcast": true,
            "enable_recording": "cloud", "enable_hidden_participants": true,
            "enable_mesh_sfu": true, "enable_adaptive_simulcast": false,
            "enable_multiparty_adaptive_simulcast": true, "enforce_unique_user_ids": true,
            "experimental_optimize_large_calls": true,
            "meeting_join_hook": "https://example.com/joined", "geo": "eu-central-1",
            "rtmp_geo": "us-west-2", "disable_rtmp_geo_fallback": true,
            "recordings_bucket": {"bucket_name": "b", "bucket_region": "eu-west-2"},
            "recordings_template": "{room_name}/{epoch_time}.mp4",
            "enable_terse_logging": true, "auto_transcription_settings": {"language": "de"},
            "enable_transcription_storage": true, "transcription_bucket": {"bucket_name": "t"},
            "streaming_endpoints": [{"name": "yt", "type": "rtmp"}],
            "permissions": {"hasPresence": false, "canSend": ["audio"], "canAdmin": false},
            "enable_dialout": true, "dialout_config": {"allow_room_start": true},
            "sip": {"display_name": "phone", "sip_mode": "dial-in", "num_endpoints": 1},
            "sip_uri": {"endpoint": "sip:1@example.com"},
            "pinless_dialin": [{"phone_number": "+15550100"}],
            "pin_dialin": [{"phone_number": "+15550101"}],
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
            "enable_prejoin_ui": false, "start_video_off": true, "start_audio_off": true,
            "lang": "de", "close_tab_on_exit": true,
            "redirect_on_meeting_exit": "https://example.com/bye", "intercom_join_alert": false,
            "start_cloud_recording": true, "start_cloud_recording_opts": {"layout": {}},
            "auto_start_transcription": true, "enable_recording": "local",
            "enable_screenshare": false, "meeting_join_hook": "https://example.com/hook",
            "enable_recording_ui": false, "enable_live_captions_ui": true,
            "enable_terse_logging": true,
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
    fn numbers_with_a_fraction_are_whole_seconds_where_daily_takes_integers() {
        let patch: RoomPropertiesPatch =
            serde_json::from_value(json!({"exp": 1_767_225_600.5, "max_participants": 12.0}))
                .expect("fractions are accepted");
        assert_eq!(patch.exp, Patch::Value(1_767_225_600));
        assert_eq!(patch.max_participants, Patch::Value(12));
        let token: TokenProperties =
            serde_json::from_value(json!({"exp": 1_767_225_600.9, "eject_after_elapsed": 30.5}))
                .expect("fractions are accepted");
        assert_eq!(token.exp, Some(1_767_225_600));
        assert_eq!(token.eject_after_elapsed, Some(30));
    }

    #[test]
    fn an_unknown_property_is_refused_by_name() {
        let error = serde_json::from_value::<RoomPropertiesPatch>(json!({"enable_chatt": true}))
            .expect_err("unknown");
        assert!(error.to_string().contains("enable_chatt"), "{error}");
        let error = serde_json::from_value::<TokenProperties>(json!({"start_video_of": true}))
            .expect_err("unknown");
        assert!(error.to_string().contains("start_video_of"), "{error}");
        let error = serde_json::from_value::<RoomPropertiesPatch>(json!({"lang": "xx"}))
            .expect_err("not a Daily language");
        assert!(error.to_string().contains("xx"), "{error}");
        let error = serde_json::from_value::<RoomPropertiesPatch>(json!({"sip": [1]}))
            .expect_err("an object is expected");
        assert!(error.to_string().contains("map"), "{error}");
    }

    #[test]
    fn the_tables_say_which_properties_knock_acts_on() {
        let acting = |infos: &[PropertyInfo]| {
            infos
                .iter()
                .filter(|info| info.effect == Effect::Acts)
                .map(|info| info.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            acting(ROOM_PROPERTIES),
            [
                "enable_knocking",
                "nbf",
                "exp",
                "max_participants",
                "eject_at_room_exp",
                "eject_after_elapsed",
                "enable_prejoin_ui",
                "start_video_off",
                "start_audio_off",
                "enable_people_ui",
                "sfu_switchover",
            ]
        );
        assert_eq!(
            acting(TOKEN_PROPERTIES),
            [
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
                "enable_prejoin_ui",
                "start_video_off",
                "start_audio_off",
            ]
        );
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

    /// The README's property tables, as the tables in this file give them.
    fn readme_tables() -> String {
        let table = |what: &str, infos: &[PropertyInfo]| {
            let mut text = format!("| {what} property | Knock | what it is |\n|---|---|---|\n");
            for info in infos {
                let effect = match info.effect {
                    Effect::Acts => "acts",
                    Effect::Stored => "stored",
                };
                text.push_str(&format!("| `{}` | {effect} | {} |\n", info.name, info.doc));
            }
            text
        };
        format!(
            "{}\n{}",
            table("room", ROOM_PROPERTIES),
            table("token", TOKEN_PROPERTIES)
        )
    }

    #[test]
    fn the_readme_lists_every_property_as_the_tables_do() {
        const BEGIN: &str =
            "<!-- property tables: generated from app/src/model/properties.rs -->\n";
        const END: &str = "<!-- end of the property tables -->";
        let readme = include_str!("../../../README.md");
        let section = readme
            .split_once(BEGIN)
            .and_then(|(_, rest)| rest.split_once(END))
            .map(|(section, _)| section);
        let expected = readme_tables();
        assert_eq!(
            section,
            Some(expected.as_str()),
            "paste this between the README's markers:\n{expected}"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn token_claims_carry_every_property_under_its_short_name() {
        let properties: TokenProperties =
            serde_json::from_value(token_samples()).expect("valid properties");
        let claims = TokenClaims::carrying(&properties);
        assert_eq!(claims.properties(), properties);
        let json = serde_json::to_value(&claims).expect("json");
        assert_eq!(json["vo"], true, "Daily's abbreviation of start_video_off");
        assert_eq!(json["ctoe"], true);
        assert_eq!(json["rome"], "https://example.com/bye");
        assert_eq!(json["uil"], "de");
        assert!(json.get("start_video_off").is_none(), "{json}");
        let self_signed: TokenClaims =
            serde_json::from_value(json!({"r": "standup", "exp": 4_102_444_800.7, "vo": true}))
                .expect("a self-signed payload");
        assert_eq!(self_signed.exp, Some(4_102_444_800));
        assert_eq!(self_signed.properties().start_video_off, Some(true));
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
            ("eject_after_elapsed", json!(0)),
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
        ];
        for (name, value) in token_bad {
            let properties: TokenProperties =
                serde_json::from_value(json!({ name: value })).expect("well formed");
            refused_naming(name, properties.checked(now));
        }

        let unknown = crate::ssr::input::from_value::<super::super::CreateRoom>(
            json!({"properties": {"enable_chat": true, "enable_chatt": true}}),
        )
        .expect_err("unknown");
        assert_eq!(unknown.status(), 400);
        assert!(unknown.to_string().contains("enable_chatt"), "{unknown}");

        let trimmed: TokenProperties =
            serde_json::from_value(json!({"user_name": "  Ana "})).expect("valid");
        let checked = trimmed.checked(now).expect("valid");
        assert_eq!(checked.user_name.as_deref(), Some("Ana"), "stored trimmed");
    }
}
