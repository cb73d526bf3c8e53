//! Moderation from the call: an admin removes a participant (with or without a ban), sends one
//! back to the lobby, and switches who may come into the room; nobody else may.

use serde_json::Value;

use crate::helpers::{EVENT_TIMEOUT, Person, Room, assert_error, send};

async fn remove(admin: &Person, id: &str, ban: bool) -> (reqwest::StatusCode, Value) {
    let ban = if ban { "true" } else { "false" };
    admin
        .call("remove_participant", &[("id", id), ("ban", ban)])
        .await
}

async fn message(admin: &Person, to: &str, text: &str) -> (reqwest::StatusCode, Value) {
    admin
        .call("message_lobby", &[("to", to), ("text", text)])
        .await
}

async fn set_access(admin: &Person, access: &str) -> (reqwest::StatusCode, Value) {
    admin.call("set_room_access", &[("access", access)]).await
}

#[tokio::test]
async fn an_admin_removes_a_participant_and_a_ban_keeps_them_out() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    ana_events
        .events_until("participant-joined", EVENT_TIMEOUT)
        .await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let mia_id = mia.session_id().await;

    // Leo is no admin: refused, and Mia stays.
    let (status, body) = remove(&leo, &mia_id, true).await;
    assert_error(status, &body, 403, "forbidden-error");
    let (status, body) = remove(&ana, &ana.session_id().await, false).await;
    assert_error(status, &body, 400, "invalid-request-error");
    assert_eq!(room.presence().await["total_count"], 3);

    let (status, body) = remove(&ana, &mia_id, true).await;
    assert_eq!(status, 200, "{body}");
    let told = mia_events.events_until("error", EVENT_TIMEOUT).await;
    let told = told.last().expect("an error");
    assert_eq!(told.data["error"]["type"], "ejected", "{told:?}");
    assert_eq!(told.data["errorMsg"], "You were removed from the call.");
    for events in [&mut ana_events, &mut leo_events] {
        let left = events.events_until("participant-left", EVENT_TIMEOUT).await;
        let left = left.last().expect("left");
        assert_eq!(left.data["participant"]["session_id"], mia_id.as_str());
    }
    assert_eq!(mia.phase().await, "ejected");
    let (status, body) = mia.knock("Mia").await;
    assert_error(status, &body, 403, "forbidden-error");
    // Removed twice: nobody to remove.
    let (status, body) = remove(&ana, &mia_id, false).await;
    assert_error(status, &body, 404, "not-found");
}

#[tokio::test]
async fn an_admin_sends_a_participant_back_to_the_lobby_and_may_let_them_in_again() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    ana_events
        .events_until("participant-joined", EVENT_TIMEOUT)
        .await;
    let leo_id = leo.session_id().await;
    let ana_id = ana.session_id().await;

    let (status, body) = leo.call("send_to_lobby", &[("id", ana_id.as_str())]).await;
    assert_error(status, &body, 403, "forbidden-error");

    let (status, body) = ana.call("send_to_lobby", &[("id", leo_id.as_str())]).await;
    assert_eq!(status, 200, "{body}");
    let waiting = leo_events
        .events_until("access-state-updated", EVENT_TIMEOUT)
        .await;
    let waiting = waiting.last().expect("access");
    assert_eq!(waiting.data["access"]["level"], "lobby", "{waiting:?}");
    assert_eq!(
        waiting.data["awaitingAccess"]["level"], "full",
        "{waiting:?}"
    );
    assert_eq!(leo.phase().await, "waiting");
    assert_eq!(leo.pre_auth().await["position"], 1);
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["session_id"], leo_id.as_str());
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    assert_eq!(added.data["participant"]["id"], leo_id.as_str());
    assert_eq!(added.data["participant"]["name"], "Leo");
    assert_eq!(room.presence().await["total_count"], 1);
    // Out of the call, out of the media: no signaling either way.
    let candidate = serde_json::json!({
        "room": room.name,
        "to": ana_id,
        "messages": [{"candidate": {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}}],
    });
    let (status, body) = send(
        leo.client
            .post(format!("{}/api/signal", leo.base_url))
            .json(&candidate),
    )
    .await;
    assert_error(status, &body, 403, "forbidden-error");

    let (status, body) = ana.decide(&leo_id, true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(leo.phase().await, "in_call");
}

#[tokio::test]
async fn an_admin_switches_who_may_come_in_and_every_admin_is_told() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (_cleo, mut cleo_events) = room.admin_in_call("Cleo").await;
    let (leo, _leo_events) = room.member_in_call("Leo").await;
    ana_events
        .events_until("participant-joined", EVENT_TIMEOUT)
        .await;
    assert_eq!(ana.pre_auth().await["room_access"], "knocking");
    assert!(leo.pre_auth().await.get("room_access").is_none());

    let (status, body) = set_access(&leo, "public").await;
    assert_error(status, &body, 403, "forbidden-error");
    let (status, body) = set_access(&ana, "open-to-all").await;
    assert_error(status, &body, 400, "invalid-request-error");

    // Locked: a new visitor may not even knock; the room says so through REST too.
    let (status, body) = set_access(&ana, "locked").await;
    assert_eq!(status, 200, "{body}");
    let told = cleo_events
        .events_until("room-access-updated", EVENT_TIMEOUT)
        .await;
    let told = told.last().expect("told");
    assert_eq!(told.data["access"], "locked");
    assert_eq!(told.data["by"], "Ana");
    let rest = room.api.get(&format!("/v1/rooms/{}", room.name)).await;
    assert_eq!(rest["privacy"], "private", "{rest}");
    assert!(rest["config"].get("enable_knocking").is_none(), "{rest}");
    let guest = room.guest().await;
    assert_eq!(guest.pre_auth().await["access"]["access"]["level"], "none");

    // Anyone with the link: walks in.
    let (status, _) = set_access(&ana, "public").await;
    assert_eq!(status, 200);
    let guest = room.guest().await;
    assert_eq!(guest.pre_auth().await["access"]["access"]["level"], "full");

    // Knock to join.
    let (status, _) = set_access(&ana, "knocking").await;
    assert_eq!(status, 200);
    let rest = room.api.get(&format!("/v1/rooms/{}", room.name)).await;
    assert_eq!(rest["config"]["enable_knocking"], true, "{rest}");
    let guest = room.guest().await;
    assert_eq!(guest.pre_auth().await["access"]["access"]["level"], "lobby");
}

#[tokio::test]
async fn a_host_messages_one_waiting_guest_or_all_of_them_and_nobody_else_hears_it() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    ana_events
        .events_until("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events, ben_id) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let (cy, mut cy_events, _) = room.knocker_seen_by("Cy", &mut ana_events).await;

    // Only admins may, and only plain text of at most 500 characters.
    let (status, body) = message(&leo, &ben_id, "hi").await;
    assert_error(status, &body, 403, "forbidden-error");
    for bad in ["".to_owned(), "x".repeat(501), "bell\u{7}".to_owned()] {
        let (status, body) = message(&ana, &ben_id, &bad).await;
        assert_error(status, &body, 400, "invalid-request-error");
    }
    let (status, body) = message(&ana, &leo.session_id().await, "not waiting").await;
    assert_error(status, &body, 404, "not-found");

    let (status, body) = message(&ana, &ben_id, "One minute, <b>Ben</b>").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!([ben_id]));
    let got = ben_events
        .events_until("lobby-message", EVENT_TIMEOUT)
        .await;
    let got = got.last().expect("a message");
    assert_eq!(got.data["message"]["text"], "One minute, <b>Ben</b>");
    assert_eq!(got.data["message"]["from"], "Ana");
    // It stays on Ben's waiting page (a reload reads it back).
    assert_eq!(
        ben.pre_auth().await["message"]["text"],
        "One minute, <b>Ben</b>"
    );
    assert!(cy.pre_auth().await.get("message").is_none());

    let (status, body) = message(&ana, "", "Thanks for waiting, everyone").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    for events in [&mut ben_events, &mut cy_events] {
        let got = events.events_until("lobby-message", EVENT_TIMEOUT).await;
        assert_eq!(
            got.last().expect("a message").data["message"]["text"],
            "Thanks for waiting, everyone"
        );
    }
    // Nobody in the call got any of it.
    for events in [&mut ana_events, &mut leo_events] {
        while let Some(event) = events.next_event(crate::helpers::QUIET).await {
            assert_ne!(event.name, "lobby-message", "{event:?}");
        }
    }
}
