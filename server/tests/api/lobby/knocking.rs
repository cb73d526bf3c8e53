//! Knocking at the door: who hears a knock, a knock before any host, cancelling and renaming,
//! knocking token holders, rooms without knocking, and the session cookie a visit starts.

use serde_json::json;

use super::{assert_outcome, find};
use crate::helpers::{EVENT_TIMEOUT, QUIET, Room, assert_error, knock_of, spawn_app_with, strings};

#[tokio::test]
async fn only_admins_in_the_call_hear_about_knocks() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    let joined = ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    assert_eq!(joined.data["participant"]["user_name"], "Mia");
    assert_eq!(joined.data["participant"]["owner"], false);
    assert_eq!(mia.pre_auth().await["admin"], false);

    let (ben, _ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;

    ben.knocked("Benjamin").await;
    let renamed = ana_events
        .expect_event("waiting-participant-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&renamed, "Benjamin"), id);

    let (status, state) = ben.cancel().await;
    assert_eq!(status, 200, "{state}");
    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&removed, "Benjamin"), id);

    mia_events.assert_quiet(QUIET).await;
    ana_events.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn a_knock_before_any_host_waits_and_the_owner_sees_it_on_joining() {
    let room = Room::knocking().await;
    let ben = room.guest().await;
    let state = ben.pre_auth().await;
    assert_eq!(state["phase"], "prejoin", "{state}");
    assert_eq!(state["access"]["access"]["level"], "lobby", "{state}");
    assert_eq!(state["host_present"], false, "{state}");
    assert_eq!(state["admin"], false, "{state}");

    let mut ben_events = ben.events().await.named("Ben");
    let state = ben.knocked("Ben").await;
    assert_eq!(state["host_present"], false, "{state}");
    ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    let waiting = room.waiting_ids().await;
    assert_eq!(waiting.len(), 1);

    let ana = room.owner("Ana").await;
    let mut ana_events = ana.events().await.named("Ana");
    let (status, state) = ana.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["admin"], true, "{state}");
    let events = ana_events
        .expect_events_unordered(
            &["waiting-participant-added", "access-state-updated"],
            EVENT_TIMEOUT,
        )
        .await;
    let added = find(&events, "waiting-participant-added");
    assert_eq!(knock_of(added, "Ben"), waiting[0]);
    ana_events.assert_quiet(QUIET).await;

    let state = ben.pre_auth().await;
    assert_eq!(state["host_present"], true, "{state}");
    assert_eq!(state["phase"], "waiting", "{state}");
    let (status, list) = ana.waiting().await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(strings(&list, "id"), waiting);
    assert_eq!(strings(&list, "name"), ["Ben"]);
    assert_eq!(list[0]["awaitingAccess"]["level"], "full", "{list}");
}

#[tokio::test]
async fn cancelling_withdraws_the_knock_and_knocking_again_with_a_new_name_renames_it() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events, first) = room.knocker_seen_by("Ben", &mut ana_events).await;

    let (status, state) = ben.cancel().await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["phase"], "prejoin", "{state}");
    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&removed, "Ben"), first);
    assert!(
        removed.data["resolution"].is_null(),
        "nobody decided: {removed:?}"
    );
    let access = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(access.data["access"]["level"], "lobby", "{access:?}");
    assert!(access.data["awaitingAccess"].is_null(), "{access:?}");
    assert!(room.waiting_ids().await.is_empty());

    ben.knocked("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let second = knock_of(&added, "Ben");
    let state = ben.knocked("Benjamin").await;
    assert_eq!(state["user_name"], "Benjamin", "{state}");
    let renamed = ana_events
        .expect_event("waiting-participant-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&renamed, "Benjamin"), second);
    ana_events.assert_quiet(QUIET).await;

    let waiting = room.waiting().await;
    assert_eq!(waiting["total_count"], 1, "{waiting}");
    assert_eq!(strings(&waiting["data"], "name"), ["Benjamin"]);
    assert_eq!(strings(&waiting["data"], "id"), [second]);
}

#[tokio::test]
async fn a_knocking_token_holder_must_knock() {
    let room = Room::knocking().await;
    let (kim, _) = room
        .with_token(json!({"user_name": "Kim", "knocking": true}))
        .await;
    let state = kim.pre_auth().await;
    assert_eq!(state["access"]["access"]["level"], "lobby", "{state}");
    assert!(state["refusal"].is_null(), "{state}");
    let (status, body) = kim.join("Kim").await;
    assert_error(status, &body, 403, "forbidden-error");
    assert_eq!(kim.phase().await, "prejoin");

    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let mut kim_events = kim.events().await.named("Kim");
    kim.knocked("Kim").await;
    let id = knock_of(
        &ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await,
        "Kim",
    );
    kim_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    let (status, answer) = ana.decide(&id, true).await;
    assert_eq!(status, 200, "{answer}");
    assert_outcome(
        &kim_events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await,
        true,
    );
    assert_eq!(kim.phase().await, "in_call");
}

#[tokio::test]
async fn a_private_room_without_knocking_refuses_tokenless_visitors() {
    let app = spawn_app_with(|_| {}).await;
    let api = app.api();
    api.create_room(json!({"name": "board", "privacy": "private"}))
        .await;
    let guest = app.person("board", None).await;
    let state = guest.pre_auth().await;
    assert_eq!(state["access"]["access"]["level"], "none", "{state}");
    assert_eq!(state["phase"], "prejoin", "{state}");

    let (status, body) = guest.knock("Ben").await;
    assert_error(status, &body, 403, "forbidden-error");
    let (status, body) = guest.join("Ben").await;
    assert_error(status, &body, 403, "forbidden-error");
    assert_eq!(guest.phase().await, "prejoin");
    assert_eq!(
        api.waiting("board").await,
        json!({"total_count": 0, "data": []})
    );
}

#[tokio::test]
async fn session_cookies_are_http_only_lax_and_secure_only_behind_https() {
    for (public_url, secure) in [(None, false), (Some("https://knock.example.com"), true)] {
        let app = spawn_app_with(|config| {
            if let Some(url) = public_url {
                *config = config.clone().with_public_url(url);
            }
        })
        .await;
        let api = app.api();
        let room = api.knocking_room("standup").await;
        let token = api
            .token(json!({"room_name": room, "is_owner": true}))
            .await;
        let response = app
            .client
            .get(app.url(&format!("/{room}?t={token}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], format!("/{room}").as_str());
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        // Over https the name takes the `__Host-` prefix (hardening.rs tests it in full).
        let prefix = if secure { "__Host-" } else { "" };
        assert!(
            cookie.starts_with(&format!("{prefix}knock-{room}=")),
            "{cookie}"
        );
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert_eq!(
            cookie.contains("Secure"),
            secure,
            "{public_url:?}: {cookie}"
        );
    }
}
