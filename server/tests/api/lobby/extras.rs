//! The lobby beyond Daily: a note with the knock, the place in line (live, and right under
//! concurrent decisions), and "Deny and block".

use futures_util::future::join_all;
use serde_json::Value;

use crate::helpers::{
    EVENT_TIMEOUT, EventStream, Person, QUIET, Room, assert_error, client_at, knock_of, loopback,
};

/// Knocks as `name` with `note`.
async fn knock_with_note(person: &Person, name: &str, note: &str) -> (reqwest::StatusCode, Value) {
    person
        .call("request_access", &[("name", name), ("note", note)])
        .await
}

/// The place in line `events` is told next.
async fn next_position(events: &mut EventStream) -> i64 {
    let event = events.expect_event("lobby-position", EVENT_TIMEOUT).await;
    event.data["position"].as_i64().expect("a position")
}

#[tokio::test]
async fn a_note_goes_with_the_knock_to_the_hosts_and_the_rest_api() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let ben = room.guest().await;
    let _ben_events = ben.events().await;

    // Too long, or not plain text: refused, and nobody waits.
    for bad in ["x".repeat(201), "two\nlines".to_owned()] {
        let (status, body) = knock_with_note(&ben, "Ben", &bad).await;
        assert_error(status, &body, 400, "invalid-request-error");
        assert!(
            body["info"]
                .as_str()
                .is_some_and(|info| info.contains("note")),
            "{body}"
        );
    }
    assert!(room.waiting_ids().await.is_empty());

    let (status, state) = knock_with_note(&ben, "Ben", "  From the design team <b>hi</b> ").await;
    assert_eq!(status, 200, "{state}");
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    assert_eq!(
        added.data["participant"]["note"],
        "From the design team <b>hi</b>"
    );
    let waiting = room.waiting().await;
    assert_eq!(
        waiting["data"][0]["note"], "From the design team <b>hi</b>",
        "{waiting}"
    );

    // Knocking again changes the note with the name.
    let (status, _) = knock_with_note(&ben, "Ben B.", "Running late").await;
    assert_eq!(status, 200);
    let updated = ana_events
        .expect_event("waiting-participant-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(updated.data["participant"]["name"], "Ben B.");
    assert_eq!(updated.data["participant"]["note"], "Running late");
}

#[tokio::test]
async fn everyone_waiting_knows_their_place_in_line_live() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let mut line = Vec::new();
    for name in ["Ben", "Cy", "Dee"] {
        let (person, events, id) = room.knocker_seen_by(name, &mut ana_events).await;
        line.push((person, events, id));
    }
    for (n, (person, _, _)) in line.iter().enumerate() {
        assert_eq!(person.pre_auth().await["position"], n as i64 + 1);
    }

    // Ben is let in: Cy is next, Dee second; nobody is told anything about the others.
    let (status, body) = ana.decide(&line[0].2, true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(next_position(&mut line[1].1).await, 1);
    assert_eq!(next_position(&mut line[2].1).await, 2);
    // Cy withdraws: Dee is next.
    let (status, _) = line[1].0.cancel().await;
    assert_eq!(status, 200);
    assert_eq!(next_position(&mut line[2].1).await, 1);
    assert_eq!(line[2].0.pre_auth().await["position"], 1);
    // A newcomer queues behind Dee, and Dee's place does not change.
    let (eve, _eve_events) = room.knocker("Eve").await;
    ana_events
        .events_until("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    assert_eq!(eve.pre_auth().await["position"], 2);
    line[2].1.assert_quiet(QUIET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_in_line_stay_right_under_concurrent_decisions() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (cleo, mut cleo_events) = room.admin_in_call("Cleo").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let mut line = Vec::new();
    for n in 0..6 {
        let guest = Person::arrive_with(
            client_at(loopback(61, n)),
            &room.app.base_url,
            &room.name,
            None,
        )
        .await;
        let events = guest.events().await;
        guest.knocked(&format!("Guest {n}")).await;
        let added = ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        cleo_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        line.push((guest, events, knock_of(&added, &format!("Guest {n}"))));
    }
    // Two admins decide on four knocks at once, two each, interleaved.
    let decisions = [
        (&ana, 0, true),
        (&cleo, 2, false),
        (&ana, 3, true),
        (&cleo, 5, false),
    ];
    let answers = join_all(
        decisions
            .iter()
            .map(|(admin, n, grant)| admin.decide(&line[*n].2, *grant)),
    )
    .await;
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
    }
    // Guests 1 and 4 remain, in knock order; the last place each was told is right.
    for (expected, n) in [(1, 1), (2, 4)] {
        let (guest, events, _) = &mut line[n];
        assert_eq!(guest.pre_auth().await["position"], expected);
        let mut last = None;
        while let Some(event) = events.next_event(QUIET).await {
            if event.name == "lobby-position" {
                last = event.data["position"].as_i64();
            }
        }
        assert_eq!(last, Some(expected), "guest {n}");
    }
}

#[tokio::test]
async fn deny_and_block_keeps_the_knocker_and_their_address_out() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let ben = Person::arrive_with(
        client_at(loopback(62, 0)),
        &room.app.base_url,
        &room.name,
        None,
    )
    .await;
    let mut ben_events = ben.events().await;
    ben.knocked("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let id = knock_of(&added, "Ben");

    // A participant who is no admin may not.
    let (leo, _leo_events) = room.member_in_call("Leo").await;
    let (status, body) = leo
        .call(
            "update_waiting_participant",
            &[("id", id.as_str()), ("grant", "false"), ("block", "true")],
        )
        .await;
    assert_error(status, &body, 403, "forbidden-error");
    assert_eq!(room.waiting_ids().await, std::slice::from_ref(&id));

    let (status, body) = ana
        .call(
            "update_waiting_participant",
            &[("id", id.as_str()), ("grant", "false"), ("block", "true")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let told = ben_events
        .events_until("error", EVENT_TIMEOUT)
        .await
        .pop()
        .expect("the error event");
    assert_eq!(told.data["errorMsg"], "Join request rejected");
    assert_eq!(told.data["error"]["type"], "not-allowed");
    assert_eq!(
        told.data["error"]["msg"],
        "You can't ask to join this call again."
    );

    // Not again from this browser...
    let (status, body) = ben.knock("Ben").await;
    assert_error(status, &body, 403, "forbidden-error");
    assert_eq!(body["info"], "You can't ask to join this call again.");
    let state = ben.pre_auth().await;
    assert_eq!(
        state["refusal"]["msg"], "You can't ask to join this call again.",
        "{state}"
    );
    // ...nor from a new one at the same address.
    let again = Person::arrive_with(
        client_at(loopback(62, 0)),
        &room.app.base_url,
        &room.name,
        None,
    )
    .await;
    let (status, body) = again.knock("Ben again").await;
    assert_error(status, &body, 403, "forbidden-error");
    assert!(room.waiting_ids().await.is_empty());
    // Someone else may still knock.
    let other = Person::arrive_with(
        client_at(loopback(62, 1)),
        &room.app.base_url,
        &room.name,
        None,
    )
    .await;
    other.knocked("Cy").await;
}

#[tokio::test]
async fn a_decision_on_an_id_that_is_no_id_is_refused_and_changes_nothing() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (_ben, _ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;
    for bad in ["with\u{0}nul".to_owned(), "x".repeat(65), String::new()] {
        let (status, body) = room
            .rest_decide(serde_json::json!({ bad: {"grantRequestedAccess": true} }))
            .await;
        assert_error(status, &body, 400, "invalid-request-error");
    }
    assert_eq!(room.waiting_ids().await, [id]);
}
