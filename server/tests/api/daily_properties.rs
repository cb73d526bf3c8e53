//! Daily scripts unchanged: every room and token property Daily documents is accepted with
//! Daily's types (a float `exp` included), stored and echoed; unknown names are refused by
//! name; every `/v1` route answers with or without a trailing slash; and the properties Knock
//! acts on beyond access (`eject_after_elapsed` on the room, `knocking` on the token) do what
//! Daily's do.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{EVENT_TIMEOUT, QUIET, TestApp, assert_error, mentions, now, spawn_app};

/// The body Pipecat's `DailyRESTHelper.create_room` sends with its default properties: five
/// properties always present, and `exp` as `time.time() + 300`, a float.
fn pipecat_room(name: &str, exp: f64) -> Value {
    json!({
        "name": name,
        "properties": {
            "exp": exp,
            "enable_chat": false,
            "enable_prejoin_ui": false,
            "enable_emoji_reactions": false,
            "eject_at_room_exp": true,
            "start_video_off": false,
        },
    })
}

/// The claims of a JWT, read without checking it.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn a_pipecat_style_room_with_a_float_exp_is_created_and_echoed() {
    let app = spawn_app().await;
    let api = app.api();
    #[expect(clippy::cast_precision_loss, reason = "a unix time fits in f64")]
    let exp = now() as f64 + 300.625;
    let room = api.create_room(pipecat_room("pipecat-bot", exp)).await;
    let config = &room["config"];
    #[expect(clippy::cast_possible_truncation, reason = "what the server does")]
    let whole = exp.trunc() as i64;
    assert_eq!(
        *config,
        json!({
            "exp": whole, "enable_chat": false, "enable_prejoin_ui": false,
            "enable_emoji_reactions": false, "eject_at_room_exp": true, "start_video_off": false,
        }),
        "every property set is echoed, exp in whole seconds"
    );
    let fetched = api.get("/v1/rooms/pipecat-bot").await;
    assert_eq!(fetched["config"], *config, "stored as echoed");

    // More of Daily's properties, with Daily's types, merged into the room.
    let updated = api
        .post(
            "/v1/rooms/pipecat-bot",
            json!({"properties": {
                "lang": "pt-BR", "geo": "eu-central-1", "enable_recording": "cloud",
                "sfu_switchover": 0.5, "sip": {"display_name": "phone", "num_endpoints": 1},
                "streaming_endpoints": [{"name": "yt", "type": "rtmp"}],
                "permissions": {"canSend": ["audio"], "hasPresence": true},
                "enable_chat": null,
            }}),
        )
        .await;
    let config = &updated["config"];
    assert_eq!(config["lang"], "pt-BR", "{config}");
    assert_eq!(config["geo"], "eu-central-1", "{config}");
    assert_eq!(config["enable_recording"], "cloud", "{config}");
    assert_eq!(config["sfu_switchover"], 0.5, "{config}");
    assert_eq!(config["sip"]["num_endpoints"], 1, "{config}");
    assert_eq!(config["streaming_endpoints"][0]["name"], "yt", "{config}");
    assert_eq!(
        config["permissions"]["canSend"],
        json!(["audio"]),
        "{config}"
    );
    assert_eq!(config["enable_emoji_reactions"], false, "kept: {config}");
    assert!(config.get("enable_chat").is_none(), "null unsets: {config}");
    assert_eq!(api.get("/v1/rooms/pipecat-bot").await["config"], *config);
}

#[tokio::test]
async fn a_token_with_daily_display_properties_is_echoed_on_validation() {
    let app = spawn_app().await;
    let api = app.api();
    api.create_room(json!({"name": "bot-room"})).await;
    #[expect(clippy::cast_precision_loss, reason = "a unix time fits in f64")]
    let exp = now() as f64 + 600.9;
    let properties = json!({
        "room_name": "bot-room", "user_name": "Bot", "exp": exp,
        "start_video_off": true, "close_tab_on_exit": true,
        "redirect_on_meeting_exit": "https://example.com/after-the-call",
        "lang": "de", "enable_recording": "local",
        "start_cloud_recording_opts": {"layout": {"preset": "single-participant"}},
    });
    let token = api.token(properties).await;
    let claims = payload(&token);
    assert_eq!(claims["vo"], true, "Daily's abbreviation: {claims}");
    assert_eq!(claims["ctoe"], true, "{claims}");
    assert_eq!(
        claims["rome"], "https://example.com/after-the-call",
        "{claims}"
    );
    assert_eq!(claims["uil"], "de", "{claims}");

    let validated = api.get(&format!("/v1/meeting-tokens/{token}")).await;
    #[expect(clippy::cast_possible_truncation, reason = "what the server does")]
    let whole = exp.trunc() as i64;
    assert_eq!(
        validated,
        json!({
            "room_name": "bot-room", "user_name": "Bot", "exp": whole,
            "start_video_off": true, "close_tab_on_exit": true,
            "redirect_on_meeting_exit": "https://example.com/after-the-call",
            "lang": "de", "enable_recording": "local",
            "start_cloud_recording_opts": {"layout": {"preset": "single-participant"}},
        })
    );
}

#[tokio::test]
async fn a_self_signed_token_with_daily_abbreviations_is_read_by_them() {
    let app = spawn_app().await;
    let claims = json!({
        "r": "any", "d": app.domain_id, "iat": now(), "exp": now() + 60,
        "vo": true, "ao": true, "ctoe": true, "uil": "fr", "ss": false,
    });
    let token = jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(app.api_key.as_bytes()),
    )
    .expect("signs");
    let validated = app.api().get(&format!("/v1/meeting-tokens/{token}")).await;
    assert_eq!(validated["start_video_off"], true, "{validated}");
    assert_eq!(validated["start_audio_off"], true, "{validated}");
    assert_eq!(validated["close_tab_on_exit"], true, "{validated}");
    assert_eq!(validated["lang"], "fr", "{validated}");
    assert_eq!(validated["enable_screenshare"], false, "{validated}");
}

#[tokio::test]
async fn names_daily_does_not_know_are_refused_naming_them() {
    let app = spawn_app().await;
    let api = app.api();
    let (status, body) = api
        .call(
            Method::POST,
            "/v1/rooms",
            Some(
                json!({"name": "typo", "properties": {"enable_chat": true, "enable_chatt": true}}),
            ),
        )
        .await;
    assert_error(status, &body, 400, "invalid-request-error");
    let info = body["info"].as_str().unwrap_or_default();
    assert!(mentions(info, "enable_chatt"), "{info}");
    let (status, _) = api.call(Method::GET, "/v1/rooms/typo", None).await;
    assert_eq!(status, 404, "nothing created");

    let (status, body) = api
        .call(
            Method::POST,
            "/v1/meeting-tokens",
            Some(json!({"properties": {"start_video_off": true, "start_vido_off": true}})),
        )
        .await;
    assert_error(status, &body, 400, "invalid-request-error");
    let info = body["info"].as_str().unwrap_or_default();
    assert!(mentions(info, "start_vido_off"), "{info}");
}

/// `method path` on `app` with the key; the status and the answer.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, answer) = app.api().call(method, path, body).await;
    (status.as_u16(), answer)
}

#[tokio::test]
async fn every_route_answers_the_same_with_a_trailing_slash() {
    let app = spawn_app().await;
    let (status, room) = call(
        &app,
        Method::POST,
        "/v1/rooms/",
        Some(json!({"name": "slashed"})),
    )
    .await;
    assert_eq!((status, &room["name"]), (200, &json!("slashed")), "{room}");
    let (status, list) = call(&app, Method::GET, "/v1/rooms/?limit=1", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["name"], "slashed", "{list}");
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "query kept");
    for (method, path, body) in [
        (Method::GET, "/v1/", None),
        (Method::GET, "/v1/rooms/slashed/", None),
        (
            Method::POST,
            "/v1/rooms/slashed/",
            Some(json!({"properties": {"enable_chat": true}})),
        ),
        (Method::GET, "/v1/presence/", None),
        (Method::GET, "/v1/rooms/slashed/presence/", None),
        (Method::GET, "/v1/rooms/slashed/waiting/", None),
        (
            Method::POST,
            "/v1/rooms/slashed/waiting/",
            Some(json!({"*": {"grantRequestedAccess": false}})),
        ),
        (
            Method::POST,
            "/v1/rooms/slashed/eject/",
            Some(json!({"ids": []})),
        ),
    ] {
        let bare = path.trim_end_matches('/').replace("/?", "?");
        let (with_slash, answer) = call(&app, method.clone(), path, body.clone()).await;
        let (without, expected) = call(&app, method.clone(), &bare, body).await;
        assert_eq!(with_slash, 200, "{method} {path}: {answer}");
        assert_eq!((with_slash, answer), (without, expected), "{method} {path}");
    }

    let (status, token) = call(
        &app,
        Method::POST,
        "/v1/meeting-tokens/",
        Some(json!({"properties": {"room_name": "slashed"}})),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().expect("a token").to_owned();
    let (status, validated) = call(
        &app,
        Method::GET,
        &format!("/v1/meeting-tokens/{token}/"),
        None,
    )
    .await;
    assert_eq!(
        (status, &validated["room_name"]),
        (200, &json!("slashed")),
        "{validated}"
    );
    let (status, revoked) = call(
        &app,
        Method::DELETE,
        &format!("/v1/meeting-tokens/{token}/"),
        None,
    )
    .await;
    assert_eq!((status, revoked), (200, json!({"revoked": true})));

    // The key is still required, unknown routes still 404, and the room can be deleted so.
    let answer = reqwest::Client::new()
        .get(app.url("/v1/rooms/"))
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 400, "no Authorization header");
    let (status, body) = call(&app, Method::GET, "/v1/nothing-here/", None).await;
    assert_error(
        reqwest::StatusCode::from_u16(status).expect("a status"),
        &body,
        404,
        "not-found",
    );
    let (status, deleted) = call(&app, Method::DELETE, "/v1/rooms/slashed/", None).await;
    assert_eq!(
        (status, deleted),
        (200, json!({"deleted": true, "name": "slashed"}))
    );
}

#[tokio::test]
async fn the_rooms_eject_after_elapsed_ejects_each_participant() {
    let app = spawn_app().await;
    app.api()
        .create_room(json!({"name": "timed", "properties": {"eject_after_elapsed": 2}}))
        .await;
    let guest = app.person("timed", None).await;
    let mut events = guest.enter("Ben").await.named("Ben");
    events.assert_quiet(QUIET).await;
    let error = events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "ejected", "{error:?}");
    assert_eq!(guest.phase().await, "ejected");
}

#[tokio::test]
async fn a_tokens_eject_after_elapsed_wins_over_the_rooms() {
    let app = spawn_app().await;
    let api = app.api();
    api.create_room(json!({"name": "timed", "properties": {"eject_after_elapsed": 1}}))
        .await;
    let token = api
        .token(json!({"room_name": "timed", "eject_after_elapsed": 3600}))
        .await;
    let holder = app.person("timed", Some(&token)).await;
    let mut events = holder.enter("Mia").await.named("Mia");
    events.assert_quiet(std::time::Duration::from_secs(3)).await;
    assert_eq!(holder.phase().await, "in_call");
}

#[tokio::test]
async fn a_tokens_knocking_applies_only_in_a_room_with_knocking() {
    let app = spawn_app().await;
    let api = app.api();
    api.create_room(json!({"name": "closed", "privacy": "private"}))
        .await;
    let knocking_room = api.knocking_room("lobby").await;
    for (room, level) in [("closed", "full"), (knocking_room.as_str(), "lobby")] {
        let token = api
            .token(json!({"room_name": room, "knocking": true}))
            .await;
        let visitor = app.person(room, Some(&token)).await;
        let state = visitor.pre_auth().await;
        assert_eq!(state["access"]["access"]["level"], level, "{room}: {state}");
    }
    let token = api
        .token(json!({"room_name": "closed", "knocking": true}))
        .await;
    let visitor = app.person("closed", Some(&token)).await;
    let (status, state) = visitor.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["phase"], "in_call", "{state}");
}

#[tokio::test]
async fn the_page_gets_the_display_properties_of_the_room_and_the_token() {
    let app = crate::helpers::spawn_app().await;
    let api = app.api();
    api.create_room(json!({
        "name": "show",
        "privacy": "public",
        "properties": {"enable_prejoin_ui": false, "start_video_off": true, "enable_people_ui": false},
    }))
    .await;
    let guest = app.person("show", None).await;
    let settings = &guest.pre_auth().await["settings"];
    assert_eq!(
        settings,
        &json!({"prejoin_ui": false, "start_video_off": true, "start_audio_off": false, "people_ui": false})
    );
    // The token's values win where Daily's tokens have the property.
    let token = api
        .token(json!({"room_name": "show", "start_audio_off": true, "start_video_off": false, "enable_prejoin_ui": true}))
        .await;
    let holder = app.person("show", Some(&token)).await;
    let state = holder.pre_auth().await;
    assert_eq!(
        state["settings"],
        json!({"prejoin_ui": true, "start_video_off": false, "start_audio_off": true, "people_ui": false}),
        "{state}"
    );
    let (status, snapshot) = holder.call("load_room", &[]).await;
    assert_eq!(status, 200, "{snapshot}");
    assert_eq!(snapshot["state"]["settings"], state["settings"]);
}
