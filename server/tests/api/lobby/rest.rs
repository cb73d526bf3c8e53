//! The lobby over the REST API: listing and deciding knocks, and who is in each call.

use reqwest::Method;
use serde_json::json;

use super::{assert_decided, assert_outcome, removal_after_decision, sorted_ids};
use crate::helpers::{EVENT_TIMEOUT, QUIET, Room, strings};

#[tokio::test]
async fn the_rest_api_lists_and_decides_the_lobby() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events, ben_knock) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let (cleo, mut cleo_events, cleo_knock) = room.knocker_seen_by("Cleo", &mut ana_events).await;
    let (dan, mut dan_events, dan_knock) = room.knocker_seen_by("Dan", &mut ana_events).await;

    let waiting = room.waiting().await;
    assert_eq!(waiting["total_count"], 3, "{waiting}");
    assert_eq!(strings(&waiting["data"], "name"), ["Ben", "Cleo", "Dan"]);
    assert_eq!(
        strings(&waiting["data"], "id"),
        [ben_knock.clone(), cleo_knock.clone(), dan_knock.clone()]
    );
    for entry in waiting["data"].as_array().expect("list") {
        assert_eq!(entry["awaitingAccess"], json!({"level": "full"}), "{entry}");
        let at = entry["knockedAt"].as_str().expect("knockedAt");
        assert!(at.len() >= 20 && at.contains('T'), "RFC 3339: {at}");
    }

    let (status, answer) = room
        .rest_decide(json!({ ben_knock.as_str(): {"grantRequestedAccess": true} }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[&ben_knock], &[]);
    assert_outcome(
        &ben_events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await,
        true,
    );
    let removed = removal_after_decision(&mut ana_events, true).await;
    assert_eq!(removed.data["resolution"]["granted"], true, "{removed:?}");
    // Those behind Ben move up.
    for (events, place) in [(&mut cleo_events, 1), (&mut dan_events, 2)] {
        let moved = events.expect_event("lobby-position", EVENT_TIMEOUT).await;
        assert_eq!(moved.data["position"], place, "{moved:?}");
    }

    // Explicit ids win over "*".
    let (status, answer) = room
        .rest_decide(json!({
            "*": {"grantRequestedAccess": false},
            cleo_knock.as_str(): {"grantRequestedAccess": true},
        }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[&cleo_knock, &dan_knock], &[]);
    assert_outcome(
        &cleo_events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await,
        true,
    );
    assert_outcome(
        &dan_events.expect_event("error", EVENT_TIMEOUT).await,
        false,
    );
    ana_events
        .expect_events_unordered(
            &[
                "participant-joined",
                "waiting-participant-removed",
                "waiting-participant-removed",
            ],
            EVENT_TIMEOUT,
        )
        .await;
    assert_eq!(ben.phase().await, "in_call");
    assert_eq!(cleo.phase().await, "in_call");
    assert_eq!(dan.phase().await, "denied");

    // Deciding again changes nothing.
    let (status, answer) = room
        .rest_decide(json!({ ben_knock.as_str(): {"grantRequestedAccess": false} }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[], &[&ben_knock]);
    assert_eq!(ben.phase().await, "in_call");
    let waiting = room.waiting().await;
    assert_eq!(waiting, json!({"total_count": 0, "data": []}));
    ana_events.assert_quiet(QUIET).await;

    // Bad requests.
    let (status, body) = room
        .api
        .call(Method::GET, "/v1/rooms/nope/waiting", None)
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = room
        .api
        .call(
            Method::POST,
            "/v1/rooms/nope/waiting",
            Some(json!({"*": {"grantRequestedAccess": true}})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = room
        .rest_decide(json!({"*": {"grantRequestedAccess": "yes"}}))
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn the_rest_api_lists_who_is_in_each_call() {
    let room = Room::knocking().await;
    let (ana, _) = room
        .with_token(json!({"is_owner": true, "user_name": "Ana", "user_id": "u-ana"}))
        .await;
    let _ana_events = ana.enter("Ana").await;
    let (mia, _mia_events) = room.member_in_call("Mia").await;
    let (_ben, _ben_events) = room.knocker("Ben").await;
    room.api.knocking_room("empty").await;
    let (ana_id, mia_id) = (ana.session_id().await, mia.session_id().await);

    let all = room.api.get("/v1/presence").await;
    let rooms: Vec<&String> = all.as_object().expect("an object").keys().collect();
    assert_eq!(rooms, ["standup"], "only rooms with a call: {all}");
    let entries = all["standup"].as_array().expect("a list");
    assert_eq!(entries.len(), 2, "the knocker is not in the call: {all}");
    let ana_entry = entries
        .iter()
        .find(|entry| entry["id"] == ana_id.as_str())
        .expect("Ana is listed");
    assert_eq!(ana_entry["room"], "standup");
    assert_eq!(ana_entry["userName"], "Ana");
    assert_eq!(ana_entry["userId"], "u-ana");
    assert!(
        ana_entry["joinTime"]
            .as_str()
            .is_some_and(|t| t.contains('T'))
    );
    assert!(ana_entry["duration"].as_i64().is_some_and(|d| d >= 0));
    let mia_entry = entries
        .iter()
        .find(|entry| entry["id"] == mia_id.as_str())
        .expect("Mia is listed");
    assert_eq!(mia_entry["userName"], "Mia");
    assert!(mia_entry["userId"].is_null());

    let one = room.presence().await;
    assert_eq!(one["total_count"], 2, "{one}");
    let mut ids = strings(&one["data"], "id");
    ids.sort();
    assert_eq!(ids, sorted_ids(&[&ana_id, &mia_id]));
    let (status, body) = room
        .api
        .call(Method::GET, "/v1/rooms/nope/presence", None)
        .await;
    assert_eq!(status, 404, "{body}");
}
