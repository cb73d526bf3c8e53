//! Meetings: `GET /v1/meetings` follows the call (a meeting starts with the first one in and
//! ends with the last one out), lists who was in it and Knock's lobby record (who knocked, how
//! it ended, who decided), newest first, a page at a time.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{EVENT_TIMEOUT, Room, assert_error};

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|entry| entry[field].as_str().expect("a string").to_owned())
        .collect()
}

#[tokio::test]
async fn a_meeting_records_who_was_in_the_call_and_how_each_knock_ended() {
    let room = Room::knocking_long_grace().await;
    let api = room.app.api();
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let ana_id = ana.session_id().await;
    let (ben, _ben_events, ben_knock) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let (_cy, _cy_events, cy_knock) = room.knocker_seen_by("Cy", &mut ana_events).await;
    let (dee, _dee_events, _) = room.knocker_seen_by("Dee", &mut ana_events).await;
    let (_eve, _eve_events, eve_knock) = room.knocker_seen_by("Eve", &mut ana_events).await;

    let (status, body) = ana.decide(&ben_knock, true).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ana.decide(&cy_knock, false).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = dee.cancel().await;
    assert_eq!(status, 200, "{body}");
    let decided = api
        .post(
            &format!("/v1/rooms/{}/waiting", room.name),
            json!({eve_knock.clone(): {"grantRequestedAccess": false}}),
        )
        .await;
    assert_eq!(decided["ids"], json!([eve_knock]), "{decided}");
    ana_events
        .events_until("participant-joined", EVENT_TIMEOUT)
        .await;

    // While it goes on.
    let listed = api.get("/v1/meetings").await;
    assert_eq!(listed["total_count"], 1, "{listed}");
    let meeting = &listed["data"][0];
    assert_eq!(meeting["room"], room.name.as_str());
    assert_eq!(meeting["ongoing"], true);
    assert_eq!(meeting["max_participants"], 2);
    assert_eq!(names(&meeting["participants"], "user_name"), ["Ana", "Ben"]);
    assert_eq!(
        meeting["participants"][0]["participant_id"],
        ana_id.as_str()
    );
    let knocks = &meeting["knocks"];
    assert_eq!(
        names(knocks, "user_name"),
        ["Ben", "Cy", "Dee", "Eve"],
        "{knocks}"
    );
    assert_eq!(
        names(knocks, "outcome"),
        ["allowed", "denied", "withdrawn", "denied"]
    );
    assert_eq!(knocks[0]["participant_id"], ben_knock.as_str());
    assert_eq!(knocks[0]["decided_by"], "Ana");
    assert_eq!(knocks[1]["decided_by"], "Ana");
    assert_eq!(knocks[2]["decided_by"], Value::Null);
    assert_eq!(knocks[3]["decided_by"], "the API");

    // The last one out ends it.
    let (status, body) = ben.leave().await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ana.leave().await;
    assert_eq!(status, 200, "{body}");
    let id = meeting["id"].as_str().expect("meeting id").to_owned();
    let ended = api.get(&format!("/v1/meetings/{id}")).await;
    assert_eq!(ended["ongoing"], false, "{ended}");
    assert!(
        ended["duration"]
            .as_i64()
            .is_some_and(|seconds| seconds >= 0)
    );
    assert!(
        ended["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .all(|entry| entry["duration"].as_i64().is_some()),
        "{ended}"
    );

    // Coming back starts the next meeting, listed first.
    let (status, body) = ana.join("Ana").await;
    assert_eq!(status, 200, "{body}");
    let listed = api.get("/v1/meetings").await;
    assert_eq!(listed["total_count"], 2, "{listed}");
    assert_eq!(listed["data"][0]["ongoing"], true);
    assert_eq!(listed["data"][1]["id"], id.as_str());
    assert_eq!(
        names(&listed["data"][0]["participants"], "user_name"),
        ["Ana"]
    );
    assert_eq!(listed["data"][0]["knocks"], json!([]));

    // A page at a time, and by room.
    let first = api.get("/v1/meetings?limit=1").await;
    assert_eq!(first["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["total_count"], 2);
    let newest = first["data"][0]["id"].as_str().expect("id").to_owned();
    let next = api
        .get(&format!("/v1/meetings?limit=1&starting_after={newest}"))
        .await;
    assert_eq!(next["data"][0]["id"], id.as_str());
    let back = api.get(&format!("/v1/meetings?ending_before={id}")).await;
    assert_eq!(back["data"][0]["id"], newest.as_str());
    let elsewhere = api.get("/v1/meetings?room=another-room").await;
    assert_eq!(elsewhere["total_count"], 0);
    assert_eq!(elsewhere["data"], json!([]));
}

#[tokio::test]
async fn bad_meeting_queries_get_a_sentence() {
    let room = Room::knocking().await;
    let api = room.app.api();
    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "timeframe_start=yesterday",
    ] {
        let (status, body) = api
            .call(Method::GET, &format!("/v1/meetings?{query}"), None)
            .await;
        assert_error(status, &body, 400, "invalid-request-error");
    }
    let (status, body) = api
        .call(Method::GET, "/v1/meetings/no-such-meeting", None)
        .await;
    assert_error(status, &body, 404, "not-found");
}
