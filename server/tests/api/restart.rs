//! A crash loses nothing: the real `knock` binary is SIGKILLed and started again on the same
//! database, and the lobby, the call and the event streams carry on where they were.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{API_KEY, Api, EVENT_TIMEOUT, Person, QUIET, Server};

#[tokio::test]
async fn a_knock_survives_a_crash_and_the_owner_can_still_allow_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let mut api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("standup").await;
    let owner_token = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let admin_token = api
        .token(json!({
            "room_name": room,
            "user_name": "Cleo",
            "permissions": {"canAdmin": ["participants"]},
        }))
        .await;

    let mut ana = Person::arrive(&server.base_url, &room, Some(&owner_token)).await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let mut ben = Person::arrive(&server.base_url, &room, None).await;
    let mut ben_events = ben.events().await.named("Ben");
    ben.knocked("Ben").await;
    ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let knock = added.data["participant"]["id"]
        .as_str()
        .expect("knock id")
        .to_owned();

    server.crash();
    assert!(
        ben_events.next_event(EVENT_TIMEOUT).await.is_none() && ben_events.has_ended(),
        "the stream ends with the process"
    );

    let server = Server::start(dir.path()).await;
    api.base_url.clone_from(&server.base_url);
    ana.base_url.clone_from(&server.base_url);
    ben.base_url.clone_from(&server.base_url);

    let waiting = api.waiting(&room).await;
    assert_eq!(waiting["total_count"], 1, "{waiting}");
    assert_eq!(waiting["data"][0]["id"], knock.as_str(), "{waiting}");
    assert_eq!(waiting["data"][0]["name"], "Ben", "{waiting}");

    // Both browsers reconnect their streams where they were.
    let mut ben_events = ben.events_after(ben_events.last_id).await.named("Ben");
    let state = ben.pre_auth().await;
    assert_eq!(state["phase"], "waiting", "{state}");
    assert_eq!(state["host_present"], true, "{state}");
    let mut ana_events = ana.events_after(ana_events.last_id).await.named("Ana");
    assert_eq!(ana.phase().await, "in_call");
    ben_events.assert_quiet(QUIET).await;
    ana_events.assert_quiet(QUIET).await;

    // An admin who joins now sees the knock, as before the crash.
    let cleo = Person::arrive(&server.base_url, &room, Some(&admin_token)).await;
    let mut cleo_events = cleo.events().await.named("Cleo");
    let (status, state) = cleo.join("Cleo").await;
    assert_eq!(status, 200, "{state}");
    let got = cleo_events
        .expect_events_unordered(
            &["waiting-participant-added", "access-state-updated"],
            EVENT_TIMEOUT,
        )
        .await;
    assert!(
        got.iter()
            .any(|event| event.data["participant"]["id"] == knock.as_str()),
        "{got:?}"
    );
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;

    let (status, answer) = ana.decide(&knock, true).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ids"], json!([knock]), "{answer}");
    let access = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(access.data["access"]["level"], "full", "{access:?}");
    let got = ana_events
        .expect_events_unordered(
            &["participant-joined", "waiting-participant-removed"],
            EVENT_TIMEOUT,
        )
        .await;
    assert!(
        got.iter()
            .any(|event| event.data["resolution"] == json!({"granted": true, "by": "Ana"})),
        "{got:?}"
    );
    assert_eq!(ben.phase().await, "in_call");
    let presence = api.get(&format!("/v1/rooms/{room}/presence")).await;
    assert_eq!(presence["total_count"], 3, "{presence}");
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_even_with_open_event_streams() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut server = Server::start(dir.path()).await;
    let api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("standup").await;
    let owner_token = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let ana = Person::arrive(&server.base_url, &room, Some(&owner_token)).await;
    let mut events = ana.enter("Ana").await.named("Ana");

    let status = server.terminate(Duration::from_secs(10));
    let status = status.expect("knock exits within 10 s of SIGTERM although a stream is open");
    assert!(status.success(), "a clean exit: {status}");
    assert!(
        events.next_event(EVENT_TIMEOUT).await.is_none() && events.has_ended(),
        "the stream was closed by the server"
    );
}
