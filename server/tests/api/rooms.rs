//! `/v1/rooms`: creating, listing and paging, reading, updating and deleting rooms, and how each
//! refuses bad input without changing anything.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, authed, mentions, now, send, spawn_app};

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    send(authed(app, Method::POST, path).json(&body)).await
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    send(authed(app, Method::GET, path)).await
}

/// Creates a room from `body`, which must succeed.
async fn create(app: &TestApp, body: Value) -> Value {
    let (status, room) = post(app, "/v1/rooms", body.clone()).await;
    assert_eq!(status, 200, "creating {body}: {room}");
    room
}

/// Lists rooms with `query`, which must succeed.
async fn list(app: &TestApp, query: &[(&str, &str)]) -> Value {
    let (status, page) = send(authed(app, Method::GET, "/v1/rooms").query(query)).await;
    assert_eq!(status, 200, "{page}");
    page
}

/// The names of a listing's rooms, in order.
fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|room| room["name"].as_str().expect("name").to_owned())
        .collect()
}

fn id(room: &Value) -> &str {
    room["id"].as_str().expect("room id is a string")
}

/// Asserts a 400 `invalid-request-error` whose `info` names every one of `fields`.
#[track_caller]
fn assert_invalid(answer: &(StatusCode, Value), fields: &[&str]) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["error"], "invalid-request-error", "{body}");
    let info = body["info"].as_str().expect("info is a string");
    for field in fields {
        assert!(mentions(info, field), "info {info:?} should name {field:?}");
    }
}

/// Whether `text` looks like `2026-11-05T10:20:30Z` or `2026-11-05T10:20:30.123Z`.
fn is_rfc3339_utc(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && bytes.get(10) == Some(&b'T')
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
        && bytes.get(16) == Some(&b':')
        && digits(17..19)
        && text.ends_with('Z')
        && (text.len() == 20
            || (bytes.get(19) == Some(&b'.') && digits(20..text.len() - 1) && text.len() > 21))
}

#[tokio::test]
async fn creating_a_named_room_returns_the_full_room_object() {
    let app = spawn_app().await;
    let room = create(&app, json!({"name": "my-room", "privacy": "private"})).await;

    assert!(!id(&room).is_empty(), "{room}");
    assert_eq!(room["name"], "my-room");
    assert_eq!(room["api_created"], true);
    assert_eq!(room["privacy"], "private");
    assert_eq!(room["url"], format!("{}/my-room", app.base_url));
    let created_at = room["created_at"].as_str().expect("created_at is a string");
    assert!(is_rfc3339_utc(created_at), "{created_at}");
    assert_eq!(room["config"], json!({}));

    let (status, fetched) = get(&app, "/v1/rooms/my-room").await;
    assert_eq!(status, 200);
    assert_eq!(fetched, room, "GET answers the room as created");
}

#[tokio::test]
async fn rooms_created_without_a_name_get_a_random_one_and_are_public() {
    let app = spawn_app().await;
    // `curl -XPOST` (no body), Daily's documented `curl -H "Content-Type: application/json" -XPOST`
    // (empty JSON body), and `{}`.
    let answers = [
        send(authed(&app, Method::POST, "/v1/rooms")).await,
        send(
            authed(&app, Method::POST, "/v1/rooms")
                .header(reqwest::header::CONTENT_TYPE, "application/json"),
        )
        .await,
        post(&app, "/v1/rooms", json!({})).await,
    ];
    let mut seen = Vec::new();
    for (status, room) in answers {
        assert_eq!(status, 200, "{room}");
        let name = room["name"].as_str().expect("name").to_owned();
        assert_eq!(name.len(), 20, "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        assert_eq!(room["privacy"], "public");
        assert_eq!(room["config"], json!({}));
        assert_eq!(room["url"], format!("{}/{name}", app.base_url));
        assert!(!seen.contains(&name), "random names differ: {name}");
        seen.push(name);
    }
    assert_eq!(list(&app, &[]).await["total_count"], 3);
}

#[tokio::test]
async fn config_holds_only_properties_that_differ_from_their_defaults() {
    let app = spawn_app().await;
    let room = create(
        &app,
        json!({"name": "knock-knock", "privacy": "private",
               "properties": {"enable_knocking": true, "enable_prejoin_ui": true,
                              "max_participants": 200}}),
    )
    .await;
    assert_eq!(room["config"], json!({"enable_knocking": true}));
}

#[tokio::test]
async fn every_room_property_is_accepted_and_reported_in_config() {
    let app = spawn_app().await;
    let (nbf, exp) = (now() - 60, now() + 3600);
    let room = create(
        &app,
        json!({"name": "all-props", "privacy": "private", "properties": {
            "enable_knocking": true, "nbf": nbf, "exp": exp, "max_participants": 1,
            "eject_at_room_exp": true, "enable_prejoin_ui": false, "lang": "en"}}),
    )
    .await;
    let config = &room["config"];
    assert_eq!(config["enable_knocking"], true, "{config}");
    assert_eq!(config["nbf"], nbf, "{config}");
    assert_eq!(config["exp"], exp, "{config}");
    assert_eq!(config["max_participants"], 1, "{config}");
    assert_eq!(config["eject_at_room_exp"], true, "{config}");
    assert_eq!(config["enable_prejoin_ui"], false, "{config}");
    let (_, fetched) = get(&app, "/v1/rooms/all-props").await;
    assert_eq!(fetched["config"], *config);
}

#[tokio::test]
async fn room_names_outside_the_allowed_alphabet_or_length_are_refused() {
    let app = spawn_app().await;
    for name in [
        "a".repeat(129),
        "two words".into(),
        "a/b".into(),
        "é".into(),
    ] {
        let answer = post(&app, "/v1/rooms", json!({"name": name})).await;
        assert_invalid(&answer, &["name"]);
    }
    assert_eq!(list(&app, &[]).await["total_count"], 0, "nothing created");

    let longest = "Z9_-".repeat(32);
    let room = create(&app, json!({"name": longest})).await;
    assert_eq!(room["name"], longest.as_str(), "128 characters are allowed");
}

#[tokio::test]
async fn a_taken_name_is_refused_with_daily_sentence() {
    let app = spawn_app().await;
    let first = create(&app, json!({"name": "taken", "privacy": "private"})).await;
    let (status, body) = post(&app, "/v1/rooms", json!({"name": "taken"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid-request-error");
    assert_eq!(body["info"], "a room named taken already exists");

    let (_, still) = get(&app, "/v1/rooms/taken").await;
    assert_eq!(still, first, "the first room is untouched");
    assert_eq!(list(&app, &[]).await["total_count"], 1);
}

#[tokio::test]
async fn names_of_the_apps_own_paths_are_reserved() {
    let app = spawn_app().await;
    for name in ["dashboard", "api", "v1", "pkg", "healthz"] {
        let (status, body) = post(&app, "/v1/rooms", json!({"name": name})).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["error"], "invalid-request-error", "{name}: {body}");
    }
    assert_eq!(list(&app, &[]).await["total_count"], 0, "nothing created");
}

#[tokio::test]
async fn privacy_must_be_public_or_private() {
    let app = spawn_app().await;
    for privacy in [json!("secret"), json!("PRIVATE"), json!(1), json!(true)] {
        let answer = post(&app, "/v1/rooms", json!({"name": "p", "privacy": privacy})).await;
        assert_invalid(&answer, &["privacy"]);
    }
    assert_eq!(list(&app, &[]).await["total_count"], 0, "nothing created");
}

#[tokio::test]
async fn bad_room_properties_are_refused_naming_the_property() {
    let app = spawn_app().await;
    let past = now() - 3600;
    let cases = [
        (json!({"bogus": 1}), "bogus"),
        (json!({"max_participants": 0}), "max_participants"),
        (json!({"max_participants": 201}), "max_participants"),
        (json!({"max_participants": "ten"}), "max_participants"),
        (json!({"max_participants": 201.5}), "max_participants"),
        (json!({"exp": past}), "exp"),
        (json!({"exp": "tomorrow"}), "exp"),
        (json!({"nbf": "soon"}), "nbf"),
        (json!({"enable_knocking": "yes"}), "enable_knocking"),
        (json!({"eject_at_room_exp": 1}), "eject_at_room_exp"),
        (json!({"enable_prejoin_ui": "no"}), "enable_prejoin_ui"),
        (json!({"lang": "xx"}), "lang"),
        (json!({"sip": ["not", "an", "object"]}), "sip"),
        (json!({"enable_recording": "tape"}), "enable_recording"),
    ];
    for (properties, field) in cases {
        let answer = post(
            &app,
            "/v1/rooms",
            json!({"name": "bad", "privacy": "private", "properties": properties}),
        )
        .await;
        assert_invalid(&answer, &[field]);
    }
    assert_eq!(list(&app, &[]).await["total_count"], 0, "nothing created");
    let (status, _) = get(&app, "/v1/rooms/bad").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_room_property_at_the_top_level_is_refused_with_a_hint() {
    let app = spawn_app().await;
    // The mistake the seed article's author "has forgotten too many times to count".
    let answer = post(
        &app,
        "/v1/rooms",
        json!({"name": "x", "privacy": "private", "enable_knocking": true}),
    )
    .await;
    assert_invalid(&answer, &["enable_knocking", "properties"]);

    let answer = post(&app, "/v1/rooms", json!({"nam": "x"})).await;
    assert_invalid(&answer, &["nam"]);

    let (status, _) = get(&app, "/v1/rooms/x").await;
    assert_eq!(status, 404, "nothing created");
}

#[tokio::test]
async fn rooms_are_listed_newest_first_with_a_total_count() {
    let app = spawn_app().await;
    for name in ["first", "second", "third"] {
        create(&app, json!({"name": name})).await;
    }
    let page = list(&app, &[]).await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(names(&page), ["third", "second", "first"]);
    let listed = &page["data"][0];
    let (_, fetched) = get(&app, "/v1/rooms/third").await;
    assert_eq!(*listed, fetched, "listed rooms are full room objects");
}

#[tokio::test]
async fn the_list_shows_100_rooms_by_default_and_at_most() {
    let app = spawn_app().await;
    for n in 0..101 {
        create(&app, json!({"name": format!("room-{n}")})).await;
    }
    for query in [&[][..], &[("limit", "100")][..]] {
        let page = list(&app, query).await;
        assert_eq!(page["total_count"], 101);
        let names = names(&page);
        assert_eq!(names.len(), 100, "{query:?}");
        assert_eq!(names[0], "room-100");
        assert_eq!(names[99], "room-1");
    }
}

#[tokio::test]
async fn cursors_page_through_rooms_in_both_directions() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        let room = create(&app, json!({"name": format!("r{n}")})).await;
        ids.push(id(&room).to_owned());
    }
    let id_of = |n: usize| ids[n - 1].as_str();
    // Newest first: r5 r4 r3 r2 r1.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 8] = [
        (&[("limit", "2")], &["r5", "r4"]),
        (
            &[("limit", "2"), ("starting_after", id_of(4))],
            &["r3", "r2"],
        ),
        (&[("starting_after", id_of(2))], &["r1"]),
        (&[("starting_after", id_of(1))], &[]),
        (
            &[("limit", "2"), ("ending_before", id_of(2))],
            &["r4", "r3"],
        ),
        (&[("ending_before", id_of(2))], &["r5", "r4", "r3"]),
        (&[("limit", "1"), ("ending_before", id_of(1))], &["r2"]),
        (&[("ending_before", id_of(5))], &[]),
    ];
    for (query, expected) in cases {
        let page = list(&app, query).await;
        assert_eq!(names(&page), expected, "{query:?}");
        assert_eq!(page["total_count"], 5, "{query:?}: counts every room");
    }
}

#[tokio::test]
async fn bad_limits_and_unknown_cursors_are_refused() {
    let app = spawn_app().await;
    create(&app, json!({"name": "only"})).await;
    for limit in ["0", "101", "abc", "-1"] {
        let answer = send(authed(&app, Method::GET, "/v1/rooms").query(&[("limit", limit)])).await;
        assert_invalid(&answer, &["limit"]);
    }
    for cursor in ["starting_after", "ending_before"] {
        let (status, body) =
            send(authed(&app, Method::GET, "/v1/rooms").query(&[(cursor, "no-such-room-id")]))
                .await;
        assert_eq!(status, 400, "{cursor}: {body}");
        assert_eq!(body["error"], "invalid-request-error", "{cursor}: {body}");
    }
}

#[tokio::test]
async fn rooms_past_their_exp_are_not_listed() {
    let app = spawn_app().await;
    create(
        &app,
        json!({"name": "short-lived", "properties": {"exp": now() + 2}}),
    )
    .await;
    create(&app, json!({"name": "lasting"})).await;
    let page = list(&app, &[]).await;
    assert_eq!(names(&page), ["lasting", "short-lived"]);

    tokio::time::sleep(Duration::from_secs(3)).await;
    let page = list(&app, &[]).await;
    assert_eq!(names(&page), ["lasting"]);
    assert_eq!(page["total_count"], 1);
}

#[tokio::test]
async fn reading_or_updating_an_unknown_room_is_404_naming_it() {
    let app = spawn_app().await;
    let (status, body) = get(&app, "/v1/rooms/nowhere").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "not-found", "info": "room nowhere not found"})
    );
    let (status, body) = post(&app, "/v1/rooms/nowhere", json!({"privacy": "private"})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "not-found", "info": "room nowhere not found"})
    );
    assert_eq!(
        list(&app, &[]).await["total_count"],
        0,
        "updating created nothing"
    );
}

#[tokio::test]
async fn updating_a_room_merges_properties_and_changes_privacy() {
    let app = spawn_app().await;
    let created = create(
        &app,
        json!({"name": "meet", "privacy": "private", "properties": {"enable_knocking": true}}),
    )
    .await;
    let (status, updated) = post(
        &app,
        "/v1/rooms/meet",
        json!({"privacy": "public", "properties": {"max_participants": 10}}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["privacy"], "public");
    assert_eq!(
        updated["config"],
        json!({"enable_knocking": true, "max_participants": 10})
    );
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_eq!(updated["url"], created["url"]);

    let (_, fetched) = get(&app, "/v1/rooms/meet").await;
    assert_eq!(fetched, updated, "the change is stored");
}

#[tokio::test]
async fn a_property_set_to_null_returns_to_its_default() {
    let app = spawn_app().await;
    create(
        &app,
        json!({"name": "meet", "privacy": "private",
               "properties": {"enable_knocking": true, "max_participants": 10}}),
    )
    .await;
    let (status, updated) = post(
        &app,
        "/v1/rooms/meet",
        json!({"properties": {"enable_knocking": null}}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["config"], json!({"max_participants": 10}));
    assert_eq!(updated["privacy"], "private", "privacy was not given");

    let (_, fetched) = get(&app, "/v1/rooms/meet").await;
    assert_eq!(fetched["config"], json!({"max_participants": 10}));
}

#[tokio::test]
async fn invalid_updates_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let before = create(
        &app,
        json!({"name": "steady", "privacy": "private", "properties": {"enable_knocking": true}}),
    )
    .await;
    let cases = [
        (json!({"privacy": "secret"}), "privacy"),
        (
            json!({"privacy": "public", "properties": {"max_participants": 0}}),
            "max_participants",
        ),
        (json!({"properties": {"bogus": true}}), "bogus"),
        (json!({"properties": {"exp": now() - 3600}}), "exp"),
        (
            json!({"properties": {"enable_knocking": "no"}}),
            "enable_knocking",
        ),
        (json!({"enable_knocking": false}), "enable_knocking"),
    ];
    for (body, field) in cases {
        let answer = post(&app, "/v1/rooms/steady", body).await;
        assert_invalid(&answer, &[field]);
    }
    let (_, after) = get(&app, "/v1/rooms/steady").await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn deleting_a_room_removes_it_once() {
    let app = spawn_app().await;
    create(&app, json!({"name": "doomed"})).await;
    create(&app, json!({"name": "kept"})).await;

    let (status, body) = send(authed(&app, Method::DELETE, "/v1/rooms/doomed")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"deleted": true, "name": "doomed"}));

    let (status, _) = get(&app, "/v1/rooms/doomed").await;
    assert_eq!(status, 404);
    assert_eq!(names(&list(&app, &[]).await), ["kept"]);

    let (status, body) = send(authed(&app, Method::DELETE, "/v1/rooms/doomed")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "not-found", "info": "room doomed not found"})
    );
}

#[tokio::test]
async fn a_path_name_no_room_could_have_is_not_found_on_every_route() {
    let app = spawn_app().await;
    let api = app.api();
    for path in [
        "/v1/rooms/%00",
        "/v1/rooms/a%00b/presence",
        "/v1/rooms/a%20b/waiting",
    ] {
        let (status, body) = api.call(Method::GET, path, None).await;
        assert_error(status, &body, 404, "not-found");
    }
    let (status, body) = api
        .call(
            Method::POST,
            "/v1/rooms/%00/eject",
            Some(json!({"ids": []})),
        )
        .await;
    assert_error(status, &body, 404, "not-found");
    let (status, body) = api.call(Method::DELETE, "/v1/rooms/%00", None).await;
    assert_error(status, &body, 404, "not-found");
    // A browser call naming such a room has no session there.
    let (status, body) = send(
        app.client
            .post(app.url("/api/request_access"))
            .form(&[("room", "a\u{0}b"), ("name", "Ben")]),
    )
    .await;
    assert_error(status, &body, 403, "forbidden-error");
}
