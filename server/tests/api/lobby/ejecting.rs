//! Ejection: by id or user id with a ban, by revoking a token, by deleting the room, and when
//! a token or a room expires.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{EVENT_TIMEOUT, QUIET, Room, assert_error, now, spawn_app};

#[tokio::test]
async fn ejecting_by_id_or_user_id_with_ban_keeps_them_out() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mia_token) = room
        .with_token(json!({"user_name": "Mia", "user_id": "u-mia"}))
        .await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    mia_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let eject = |body: Value| {
        let api = room.api.clone();
        async move { api.post("/v1/rooms/standup/eject", body).await }
    };

    let leo_id = leo.session_id().await;
    let answer = eject(json!({"ids": [leo_id], "ban": true})).await;
    assert_eq!(answer, json!({"ejectedIds": [leo_id]}));
    let error = leo_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "ejected", "{error:?}");
    for events in [&mut ana_events, &mut mia_events] {
        let left = events.expect_event("participant-left", EVENT_TIMEOUT).await;
        assert_eq!(left.data["participant"]["session_id"], leo_id.as_str());
    }
    assert_eq!(leo.phase().await, "ejected");
    let (status, body) = leo.join("Leo").await;
    assert_error(status, &body, 403, "forbidden-error");

    let mia_id = mia.session_id().await;
    let answer = eject(json!({"user_ids": ["u-mia"], "ban": true})).await;
    assert_eq!(answer, json!({"ejectedIds": [mia_id]}));
    let error = mia_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "ejected", "{error:?}");
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["user_name"], "Mia");
    let (status, body) = mia.join("Mia").await;
    assert_error(status, &body, 403, "forbidden-error");
    let state = mia.pre_auth().await;
    assert_eq!(state["refusal"]["type"], "ejected", "{state}");
    // The ban follows the user id into a new session.
    let again = room.app.person(&room.name, Some(&mia_token)).await;
    let (status, body) = again.join("Mia").await;
    assert_error(status, &body, 403, "forbidden-error");

    assert_eq!(room.presence().await["total_count"], 1);
    ana_events.assert_quiet(QUIET).await;
    let (status, body) = room
        .api
        .call(
            Method::POST,
            "/v1/rooms/nope/eject",
            Some(json!({"ids": [leo_id]})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn revoking_a_token_ejects_its_holder_and_keeps_them_out() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mia_token) = room.with_token(json!({"user_name": "Mia"})).await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;

    let (status, body) = room
        .api
        .call(
            Method::DELETE,
            &format!("/v1/meeting-tokens/{mia_token}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let error = mia_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "ejected", "{error:?}");
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["user_name"], "Mia");
    assert_eq!(room.presence().await["total_count"], 1);
    assert_eq!(mia.phase().await, "ejected");

    // A new visit with the revoked token is refused.
    let again = room.app.person(&room.name, Some(&mia_token)).await;
    assert!(again.pre_auth().await["refusal"].is_object());
    let (status, body) = again.join("Mia").await;
    assert_error(status, &body, 403, "forbidden-error");
    // So is the ejected session that still holds it.
    let (status, body) = mia.join("Mia").await;
    assert_error(status, &body, 403, "forbidden-error");
    assert_eq!(room.presence().await["total_count"], 1);
}

#[tokio::test]
async fn deleting_the_room_ejects_everyone_with_no_room() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events, _) = room.knocker_seen_by("Ben", &mut ana_events).await;

    let (status, body) = room
        .api
        .call(Method::DELETE, "/v1/rooms/standup", None)
        .await;
    assert_eq!(status, 200, "{body}");
    for events in [&mut ana_events, &mut mia_events, &mut ben_events] {
        let got = events.events_until("error", EVENT_TIMEOUT).await;
        let (error, before) = got.split_last().expect("an error");
        assert_eq!(error.data["error"]["type"], "no-room", "{error:?}");
        for event in before {
            assert!(
                ["participant-left", "waiting-participant-removed"].contains(&event.name.as_str()),
                "only departures before the error: {got:?}"
            );
        }
        events.assert_quiet(QUIET).await;
    }
    for person in [&ana, &mia, &ben] {
        let state = person.pre_auth().await;
        assert_eq!(state["phase"], "ejected", "{state}");
        assert_eq!(state["refusal"]["type"], "no-room", "{state}");
    }
    let all = room.api.get("/v1/presence").await;
    assert_eq!(all, json!({}));
}

#[tokio::test]
async fn an_expiring_token_ejects_its_holder_with_exp_token() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let exp = now() + 2;
    let (mia, _) = room
        .with_token(json!({"user_name": "Mia", "exp": exp, "eject_at_token_exp": true}))
        .await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let error = mia_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "exp-token", "{error:?}");
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["user_name"], "Mia");
}

#[tokio::test]
async fn an_expiring_room_ejects_everyone_with_exp_room() {
    let app = spawn_app().await;
    let api = app.api();
    let exp = now() + 2;
    let (status, body) = api
        .call(
            Method::POST,
            "/v1/rooms",
            Some(json!({"name": "brief", "properties": {"exp": exp, "eject_at_room_exp": true}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let guest = app.person("brief", None).await;
    let mut events = guest.enter("Ben").await.named("Ben");
    let error = events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "exp-room", "{error:?}");
}

#[tokio::test]
async fn ids_with_control_characters_are_refused_and_ban_nobody() {
    let room = Room::knocking_long_grace().await;
    let before = room.snapshot().await;
    for body in [
        json!({"ids": ["\u{0}"], "ban": true}),
        json!({"user_ids": ["ana\u{7}"], "ban": true}),
        json!({"ids": ["x".repeat(65)]}),
    ] {
        let (status, answer) = room
            .api
            .call(
                Method::POST,
                &format!("/v1/rooms/{}/eject", room.name),
                Some(body.clone()),
            )
            .await;
        assert_error(status, &answer, 400, "invalid-request-error");
        assert!(
            answer["info"]
                .as_str()
                .unwrap_or_default()
                .contains("ids[0]"),
            "{answer}"
        );
    }
    let diff = crate::helpers::snapshot_diff(&before, &room.snapshot().await);
    assert!(diff.is_empty(), "nothing changed:\n{diff}");
}

#[tokio::test]
async fn a_waiting_participant_is_known_by_their_session_id_everywhere_and_eject_empties_the_lobby()
{
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;

    // The id in the owner's alert is Ben's session id, as daily-js has it; so is the REST lobby's.
    assert_eq!(id, ben.session_id().await);
    let waiting = room.api.waiting("standup").await;
    assert_eq!(waiting["data"][0]["id"], id.as_str(), "{waiting}");
    let (status, lobby) = ana.waiting().await;
    assert_eq!(status, 200, "{lobby}");
    assert!(lobby.to_string().contains(&id), "{lobby}");

    // The same id ejects him from the lobby.
    let answer = room
        .api
        .post("/v1/rooms/standup/eject", json!({"ids": [id]}))
        .await;
    assert_eq!(answer, json!({"ejectedIds": [id]}));
    let error = ben_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "ejected", "{error:?}");
    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(
        removed.data["participant"]["id"],
        id.as_str(),
        "{removed:?}"
    );
    assert_eq!(room.api.waiting("standup").await["total_count"], 0);
    assert_eq!(ben.phase().await, "ejected");
}
