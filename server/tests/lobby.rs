//! The lobby, end to end over HTTP and server-sent events: knocking, deciding, cancelling,
//! presence, replay, limits, the REST lobby and eject, and who hears about what.

mod common;

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Duration,
};

use common::{
    EVENT_TIMEOUT, Event, EventStream, Person, QUIET, Room, assert_error, spawn_app,
    spawn_app_with, strings,
};
use futures_util::{StreamExt, future::join_all};
use reqwest::Method;
use serde_json::{Value, json};

/// The JSON list `list` of strings, sorted.
fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect();
    items.sort();
    items
}

fn sorted_ids(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

/// The knock id in a `waiting-participant-*` event, after checking the event's shape.
fn knock_of(event: &Event, name: &str) -> String {
    let participant = &event.data["participant"];
    assert_eq!(participant["name"], name, "{event:?}");
    assert_eq!(participant["awaitingAccess"]["level"], "full", "{event:?}");
    let id = participant["id"].as_str().expect("knock id").to_owned();
    assert!(!id.is_empty(), "{event:?}");
    id
}

/// The one event named `name` among `events`.
fn find<'a>(events: &'a [Event], name: &str) -> &'a Event {
    let mut found = events.iter().filter(|event| event.name == name);
    let event = found
        .next()
        .unwrap_or_else(|| panic!("no {name} in {events:?}"));
    assert!(found.next().is_none(), "two {name} in {events:?}");
    event
}

/// Checks a decision answer: exactly `ids` decided and `handled` already handled.
fn assert_decided(answer: &Value, ids: &[&str], handled: &[&str]) {
    assert_eq!(sorted(&answer["ids"]), sorted_ids(ids), "{answer}");
    assert_eq!(
        sorted(&answer["alreadyHandled"]),
        sorted_ids(handled),
        "{answer}"
    );
}

#[tokio::test]
async fn the_test_event_reader_skips_comments_and_joins_split_chunks() {
    let chunks = [
        ": keep-alive\n\n",
        "id: 5\nevent: error\nda",
        "ta: {\"action\":\"error\",\"errorMsg\":\"caf\u{e9}",
        "\"}\n\n:\n\nid: 7\nevent: access-state-updated\n",
        "data: {\"action\":\"access-state-updated\"}\n\n",
    ];
    // Split the accented character across two chunks too.
    let mut bytes: Vec<Vec<u8>> = chunks
        .iter()
        .map(|chunk| chunk.as_bytes().to_vec())
        .collect();
    let at = bytes[2].len() - 1;
    let tail = bytes[2].split_off(at);
    bytes[3].splice(0..0, tail);
    let body = futures_util::stream::iter(bytes.into_iter().map(Ok));
    let mut events = EventStream::from_body("fake", body);
    let error = events.expect_event("error", QUIET).await;
    assert_eq!(
        (error.id, error.data["errorMsg"].as_str()),
        (5, Some("café"))
    );
    let access = events.expect_event("access-state-updated", QUIET).await;
    assert_eq!(access.id, 7);
    assert_eq!(events.last_id, 7);
    assert!(events.next_event(QUIET).await.is_none());
    assert!(events.has_ended());
}

#[tokio::test]
async fn only_admins_in_the_call_hear_about_knocks() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let mia = room.member("Mia").await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    let joined = ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    assert_eq!(joined.data["participant"]["user_name"], "Mia");
    assert_eq!(joined.data["participant"]["owner"], false);
    assert_eq!(mia.pre_auth().await["admin"], false);

    let (ben, _ben_events) = room.knocker("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let id = knock_of(&added, "Ben");

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
async fn allowing_a_knock_lets_the_guest_in_and_tells_everyone_who_decided() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let cleo = room.admin("Cleo").await;
    let mut cleo_events = cleo.enter("Cleo").await.named("Cleo");
    assert_eq!(cleo.pre_auth().await["admin"], true);
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let mia = room.member("Mia").await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    for events in [&mut ana_events, &mut cleo_events] {
        let joined = events
            .expect_event("participant-joined", EVENT_TIMEOUT)
            .await;
        assert_eq!(joined.data["participant"]["user_name"], "Mia");
    }

    let (ben, mut ben_events) = room.knocker("Ben").await;
    let ben_id = ben.session_id().await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let id = knock_of(&added, "Ben");
    let seen_by_cleo = cleo_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&seen_by_cleo, "Ben"), id);

    let (status, answer) = ana.decide(&id, true).await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[&id], &[]);

    let access = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(access.data["access"]["level"], "full", "{access:?}");
    assert!(access.data["awaitingAccess"].is_null(), "{access:?}");
    let joined = mia_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    assert_eq!(joined.data["participant"]["user_name"], "Ben");
    assert_eq!(joined.data["participant"]["session_id"], ben_id.as_str());
    assert_eq!(joined.data["participant"]["owner"], false);
    for events in [&mut ana_events, &mut cleo_events] {
        let got = events
            .expect_events_unordered(
                &["participant-joined", "waiting-participant-removed"],
                EVENT_TIMEOUT,
            )
            .await;
        assert_eq!(
            find(&got, "participant-joined").data["participant"]["user_name"],
            "Ben"
        );
        let removed = find(&got, "waiting-participant-removed");
        assert_eq!(knock_of(removed, "Ben"), id);
        assert_eq!(
            removed.data["resolution"],
            json!({"granted": true, "by": "Ana"}),
            "{removed:?}"
        );
    }
    for events in [
        &mut ana_events,
        &mut cleo_events,
        &mut mia_events,
        &mut ben_events,
    ] {
        events.assert_quiet(QUIET).await;
    }

    assert_eq!(ben.phase().await, "in_call");
    assert!(room.waiting_ids().await.is_empty());
    assert_eq!(room.presence().await["total_count"], 4);
}

#[tokio::test]
async fn a_denied_guest_is_told_and_may_knock_again() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let first = knock_of(&added, "Ben");

    let (status, answer) = ana.decide(&first, false).await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[&first], &[]);
    let error = ben_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["errorMsg"], "Join request rejected", "{error:?}");
    assert_eq!(error.data["error"]["type"], "not-allowed", "{error:?}");
    assert!(error.data["error"]["msg"].is_string(), "{error:?}");
    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&removed, "Ben"), first);
    assert_eq!(
        removed.data["resolution"],
        json!({"granted": false, "by": "Ana"})
    );
    assert_eq!(ben.phase().await, "denied");
    assert!(room.waiting_ids().await.is_empty());
    assert_eq!(room.presence().await["total_count"], 1);
    let (status, body) = ben.join("Ben").await;
    assert_error(status, &body, 403, "Forbidden");

    ben.knocked("Ben").await;
    let access = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(access.data["access"]["level"], "lobby", "{access:?}");
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let second = knock_of(&added, "Ben");
    assert_ne!(second, first, "a new knock, not the decided one");
    assert_eq!(room.waiting_ids().await, [second]);
    ben_events.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn cancelling_withdraws_the_knock_and_knocking_again_with_a_new_name_renames_it() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let first = knock_of(&added, "Ben");

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
async fn a_knocker_whose_stream_is_gone_leaves_the_lobby_after_the_grace() {
    let room = Room::knocking_with(|c| c.presence_grace = Duration::from_millis(300)).await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (ben, ben_events) = room.knocker("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let id = knock_of(&added, "Ben");

    drop(ben_events);
    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&removed, "Ben"), id);
    assert!(removed.data["resolution"].is_null(), "{removed:?}");
    assert!(room.waiting_ids().await.is_empty());
    assert_eq!(ben.phase().await, "left");
    ana_events.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn a_participant_whose_stream_is_gone_leaves_the_call_after_the_grace() {
    let room = Room::knocking_with(|c| c.presence_grace = Duration::from_millis(300)).await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let mia = room.member("Mia").await;
    let mia_events = mia.enter("Mia").await;
    let mia_id = mia.session_id().await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;

    drop(mia_events);
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["user_name"], "Mia");
    assert_eq!(left.data["participant"]["session_id"], mia_id.as_str());
    assert_eq!(mia.phase().await, "left");
    assert_eq!(room.presence().await["total_count"], 1);
    ana_events.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn a_knocker_who_reconnects_within_the_grace_keeps_the_knock() {
    let grace = Duration::from_millis(500);
    let room = Room::knocking_with(|c| c.presence_grace = grace).await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (ben, ben_events) = room.knocker("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let id = knock_of(&added, "Ben");

    let last = ben_events.last_id;
    drop(ben_events);
    let mut ben_events = ben.events_after(last).await.named("Ben");
    ana_events.assert_quiet(grace * 3).await;
    assert_eq!(room.waiting_ids().await, std::slice::from_ref(&id));
    assert_eq!(ben.phase().await, "waiting");
    ben_events.assert_quiet(QUIET).await;

    // The timer still works after the reconnection.
    drop(ben_events);
    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&removed, "Ben"), id);
}

#[tokio::test]
async fn a_knocker_who_never_opens_a_stream_leaves_the_lobby_after_the_grace() {
    // The knock came through the HTTP protocol alone (a script, or a browser that closed before
    // its stream opened): nobody is there to be let in, so it must not wait forever.
    let room = Room::knocking_with(|c| c.presence_grace = Duration::from_millis(300)).await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let ben = room.guest().await;
    ben.knocked("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let id = knock_of(&added, "Ben");

    let removed = ana_events
        .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
        .await;
    assert_eq!(knock_of(&removed, "Ben"), id);
    assert!(room.waiting_ids().await.is_empty());
}

/// The outcome event a guest must get for `granted`, checked.
fn assert_outcome(event: &Event, granted: bool) {
    if granted {
        assert_eq!(event.name, "access-state-updated", "{event:?}");
        assert_eq!(event.data["access"]["level"], "full", "{event:?}");
    } else {
        assert_eq!(event.name, "error", "{event:?}");
        assert_eq!(event.data["error"]["type"], "not-allowed", "{event:?}");
    }
}

#[tokio::test]
async fn two_admins_deciding_the_same_knock_at_once_make_one_decision() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let cleo = room.admin("Cleo").await;
    let mut cleo_events = cleo.enter("Cleo").await.named("Cleo");
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let id = knock_of(
        &ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await,
        "Ben",
    );
    cleo_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;

    let ((ana_status, ana_answer), (cleo_status, cleo_answer)) =
        tokio::join!(ana.decide(&id, true), cleo.decide(&id, false));
    assert_eq!(ana_status, 200, "{ana_answer}");
    assert_eq!(cleo_status, 200, "{cleo_answer}");
    let ana_won = ana_answer["ids"] == json!([id]);
    let cleo_won = cleo_answer["ids"] == json!([id]);
    assert!(
        ana_won != cleo_won,
        "exactly one decides: {ana_answer} {cleo_answer}"
    );
    let (winner, loser) = if ana_won {
        (&ana_answer, &cleo_answer)
    } else {
        (&cleo_answer, &ana_answer)
    };
    assert_decided(winner, &[&id], &[]);
    assert_decided(loser, &[], &[&id]);

    let (granted, by) = if ana_won {
        (true, "Ana")
    } else {
        (false, "Cleo")
    };
    let outcome = ben_events
        .next_event(EVENT_TIMEOUT)
        .await
        .expect("an outcome");
    assert_outcome(&outcome, granted);
    ben_events.assert_quiet(QUIET).await;
    for events in [&mut ana_events, &mut cleo_events] {
        let got = if granted {
            events
                .expect_events_unordered(
                    &["participant-joined", "waiting-participant-removed"],
                    EVENT_TIMEOUT,
                )
                .await
        } else {
            vec![
                events
                    .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
                    .await,
            ]
        };
        let removed = find(&got, "waiting-participant-removed");
        assert_eq!(
            removed.data["resolution"],
            json!({"granted": granted, "by": by})
        );
        events.assert_quiet(QUIET).await;
    }
    let expected = if granted { "in_call" } else { "denied" };
    assert_eq!(ben.phase().await, expected);
}

#[tokio::test]
async fn fifty_parallel_decisions_on_one_knock_make_exactly_one() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let cleo = room.admin("Cleo").await;
    let _cleo_events = cleo.enter("Cleo").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let id = knock_of(
        &ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await,
        "Ben",
    );

    let decisions = (0..50).map(|i| {
        let grant = i % 2 == 0;
        let (ana, cleo, room, id) = (&ana, &cleo, &room, &id);
        async move {
            let (status, answer) = match i % 3 {
                0 => ana.decide(id, grant).await,
                1 => cleo.decide(id, grant).await,
                _ => {
                    room.rest_decide(json!({ id.as_str(): {"grantRequestedAccess": grant} }))
                        .await
                }
            };
            assert_eq!(status, 200, "decision {i}: {answer}");
            (grant, answer)
        }
    });
    let answers = join_all(decisions).await;
    let winners: Vec<bool> = answers
        .iter()
        .filter(|(_, answer)| answer["ids"] == json!([id]))
        .map(|(grant, _)| *grant)
        .collect();
    let handled = answers
        .iter()
        .filter(|(_, answer)| answer["alreadyHandled"] == json!([id]))
        .count();
    assert_eq!(winners.len(), 1, "exactly one decision: {answers:?}");
    assert_eq!(handled, 49, "{answers:?}");
    let granted = winners[0];

    let outcome = ben_events
        .next_event(EVENT_TIMEOUT)
        .await
        .expect("an outcome");
    assert_outcome(&outcome, granted);
    ben_events.assert_quiet(QUIET).await;
    let got = if granted {
        ana_events
            .expect_events_unordered(
                &["participant-joined", "waiting-participant-removed"],
                EVENT_TIMEOUT,
            )
            .await
    } else {
        vec![
            ana_events
                .expect_event("waiting-participant-removed", EVENT_TIMEOUT)
                .await,
        ]
    };
    let removed = find(&got, "waiting-participant-removed");
    assert_eq!(removed.data["resolution"]["granted"], granted);
    ana_events.assert_quiet(QUIET).await;
    let expected = if granted { "in_call" } else { "denied" };
    assert_eq!(ben.phase().await, expected);
    assert!(room.waiting_ids().await.is_empty());
}

#[tokio::test]
async fn non_admins_may_neither_list_nor_decide_and_nothing_changes() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let mia = room.member("Mia").await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let id = knock_of(
        &ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await,
        "Ben",
    );
    // An owner who has not joined is not an admin *in the call* yet.
    let kim = room.owner("Kim").await;

    for (who, person) in [
        ("a member", &mia),
        ("the knocker", &ben),
        ("an owner outside", &kim),
    ] {
        let (status, body) = person.waiting().await;
        assert_error(status, &body, 403, "Forbidden");
        for grant in [true, false] {
            let (status, body) = person.decide(&id, grant).await;
            assert_eq!(status, 403, "{who}: {body}");
            assert_error(status, &body, 403, "Forbidden");
        }
        let (status, body) = person
            .decide_many(json!({"*": {"grantRequestedAccess": true}}))
            .await;
        assert_eq!(status, 403, "{who}: {body}");
        let (status, body) = person
            .decide_many(json!({ id.as_str(): {"grantRequestedAccess": true} }))
            .await;
        assert_eq!(status, 403, "{who}: {body}");
    }

    assert_eq!(room.waiting_ids().await, [id]);
    assert_eq!(ben.phase().await, "waiting");
    assert_eq!(room.presence().await["total_count"], 2);
    for events in [&mut ana_events, &mut mia_events, &mut ben_events] {
        events.assert_quiet(QUIET).await;
    }
}

#[tokio::test]
async fn a_stream_resumed_with_last_event_id_gets_exactly_the_missed_events() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.events().await.named("Ana");
    let (status, state) = ana.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    let mut seen = vec![
        ana_events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await,
    ];
    let (ben, _ben_events) = room.knocker("Ben").await;
    seen.push(
        ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await,
    );
    let cut = ana_events.last_id;
    assert_eq!(cut, seen[1].id);
    drop(ana_events);

    // While Ana's stream is gone.
    let (cleo, _cleo_events) = room.knocker("Cleo").await;
    ben.knocked("Benjamin").await;
    let (status, body) = cleo.cancel().await;
    assert_eq!(status, 200, "{body}");
    let mia = room.member("Mia").await;
    let (status, body) = mia.join("Mia").await;
    assert_eq!(status, 200, "{body}");

    let mut resumed = ana.events_after(cut).await.named("Ana resumed");
    let missed = [
        ("waiting-participant-added", "Cleo"),
        ("waiting-participant-updated", "Benjamin"),
        ("waiting-participant-removed", "Cleo"),
    ];
    for (name, who) in missed {
        let event = resumed.expect_event(name, EVENT_TIMEOUT).await;
        knock_of(&event, who);
        seen.push(event);
    }
    let joined = resumed
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    assert_eq!(joined.data["participant"]["user_name"], "Mia");
    seen.push(joined);
    resumed.assert_quiet(QUIET).await;
    assert!(
        seen.windows(2).all(|pair| pair[0].id < pair[1].id),
        "ids increase: {seen:?}"
    );

    // Live events keep coming on the resumed stream, once each.
    let (_dan, _dan_events) = room.knocker("Dan").await;
    let live = resumed
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    knock_of(&live, "Dan");
    seen.push(live);
    resumed.assert_quiet(QUIET).await;

    // From 0, everything this session was sent, in order.
    let mut replay = ana.events_after(0).await.named("Ana from 0");
    for expected in &seen {
        let event = replay.expect_event(&expected.name, EVENT_TIMEOUT).await;
        assert_eq!(&event, expected);
    }
    replay.assert_quiet(QUIET).await;

    // `?lastEventId=` does what the header does.
    let request = ana.client.get(format!(
        "{}/api/events/{}?lastEventId={cut}",
        room.app.base_url, room.name
    ));
    let mut by_query = EventStream::open(request, "Ana by query").await;
    for expected in &seen[2..] {
        let event = by_query.expect_event(&expected.name, EVENT_TIMEOUT).await;
        assert_eq!(&event, expected);
    }
    by_query.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn knocking_too_often_is_refused_with_429_but_renaming_is_free() {
    let room = Room::knocking().await;
    let ben = room.guest().await;
    ben.knocked("Ben").await;
    for i in 0..15 {
        ben.knocked(&format!("Ben {i}")).await;
    }
    let (status, body) = ben.cancel().await;
    assert_eq!(status, 200, "{body}");
    // Nine more knocks make the burst of ten.
    for _ in 0..9 {
        ben.knocked("Ben").await;
        let (status, body) = ben.cancel().await;
        assert_eq!(status, 200, "{body}");
    }

    let (status, body) = ben.knock("Ben").await;
    assert_error(status, &body, 429, "RateLimited");
    assert_eq!(ben.phase().await, "prejoin");
    assert!(room.waiting_ids().await.is_empty());

    // The limit is per room.
    let other = room.api.knocking_room("retro").await;
    let elsewhere = room.app.person(&other, None).await;
    elsewhere.knocked("Ben").await;
}

#[tokio::test]
async fn bad_names_are_refused_with_400_and_change_nothing() {
    let room = Room::knocking().await;
    let ben = room.guest().await;
    let too_long = "x".repeat(65);
    let too_long_accented = "é".repeat(65);
    let bad = [
        "",
        "   ",
        too_long.as_str(),
        too_long_accented.as_str(),
        "Ben\u{0}",
        "Ben\nBen",
        "\u{7}\u{7}",
        "Ben\u{1b}[31m",
    ];
    for name in bad {
        let (status, body) = ben.knock(name).await;
        assert_eq!(status, 400, "knock as {name:?}: {body}");
        assert_error(status, &body, 400, "InvalidRequest");
    }
    assert_eq!(ben.phase().await, "prejoin");
    assert!(room.waiting_ids().await.is_empty());

    let ana = room.owner("Ana").await;
    for name in bad {
        let (status, body) = ana.join(name).await;
        assert_eq!(status, 400, "join as {name:?}: {body}");
    }
    assert_eq!(ana.phase().await, "prejoin");
    assert_eq!(room.presence().await["total_count"], 0);

    // The limits are inclusive, counted in characters.
    ben.knocked(&"é".repeat(64)).await;
    assert_eq!(room.api.waiting_names(&room.name).await, ["é".repeat(64)]);
}

#[tokio::test]
async fn the_lobby_holds_at_most_500() {
    let room = Room::knocking().await;
    // One `knocking` token for everyone: its link starts a session without rendering a page.
    let token = room
        .api
        .token(json!({"room_name": room.name, "knocking": true}))
        .await;
    let knock_from = |n: usize| {
        let (base_url, name, token) = (room.app.base_url.clone(), room.name.clone(), token.clone());
        async move {
            // Each loopback address is its own client for the knock limit (ten per room).
            let octet = u8::try_from(n / 10 + 1).expect("small");
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 1, octet)))
                .build()
                .expect("client");
            let guest = Person::arrive_with(client, &base_url, &name, Some(&token)).await;
            guest.knock(&format!("Guest {n}")).await
        }
    };
    let answers: Vec<_> = futures_util::stream::iter((0..500).map(knock_from))
        .buffer_unordered(16)
        .collect()
        .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(room.waiting().await["total_count"], 500);

    let (status, body) = knock_from(1000).await;
    assert_error(status, &body, 429, "RateLimited");
    assert_eq!(room.waiting().await["total_count"], 500);
}

#[tokio::test]
async fn the_rest_api_lists_and_decides_the_lobby() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let (cleo, mut cleo_events) = room.knocker("Cleo").await;
    let (dan, mut dan_events) = room.knocker("Dan").await;
    let mut ids = Vec::new();
    for name in ["Ben", "Cleo", "Dan"] {
        let added = ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        ids.push(knock_of(&added, name));
    }
    let (ben_knock, cleo_knock, dan_knock) = (&ids[0], &ids[1], &ids[2]);

    let waiting = room.waiting().await;
    assert_eq!(waiting["total_count"], 3, "{waiting}");
    assert_eq!(strings(&waiting["data"], "name"), ["Ben", "Cleo", "Dan"]);
    assert_eq!(strings(&waiting["data"], "id"), ids);
    for entry in waiting["data"].as_array().expect("list") {
        assert_eq!(entry["awaitingAccess"], json!({"level": "full"}), "{entry}");
        let at = entry["knockedAt"].as_str().expect("knockedAt");
        assert!(at.len() >= 20 && at.contains('T'), "RFC 3339: {at}");
    }

    let (status, answer) = room
        .rest_decide(json!({ ben_knock.as_str(): {"grantRequestedAccess": true} }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[ben_knock], &[]);
    assert_outcome(
        &ben_events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await,
        true,
    );
    let got = ana_events
        .expect_events_unordered(
            &["participant-joined", "waiting-participant-removed"],
            EVENT_TIMEOUT,
        )
        .await;
    assert_eq!(
        find(&got, "waiting-participant-removed").data["resolution"]["granted"],
        true
    );

    // Explicit ids win over "*".
    let (status, answer) = room
        .rest_decide(json!({
            "*": {"grantRequestedAccess": false},
            cleo_knock.as_str(): {"grantRequestedAccess": true},
        }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[cleo_knock, dan_knock], &[]);
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
    assert_decided(&answer, &[], &[ben_knock]);
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
    let mia = room.member("Mia").await;
    let _mia_events = mia.enter("Mia").await;
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

#[tokio::test]
async fn ejecting_by_id_or_user_id_with_ban_keeps_them_out() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (mia, mia_token) = room
        .with_token(json!({"user_name": "Mia", "user_id": "u-mia"}))
        .await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    let leo = room.member("Leo").await;
    let mut leo_events = leo.enter("Leo").await.named("Leo");
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
    assert_error(status, &body, 403, "Forbidden");

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
    assert_error(status, &body, 403, "Forbidden");
    let state = mia.pre_auth().await;
    assert_eq!(state["refusal"]["type"], "ejected", "{state}");
    // The ban follows the user id into a new session.
    let again = room.app.person(&room.name, Some(&mia_token)).await;
    let (status, body) = again.join("Mia").await;
    assert_error(status, &body, 403, "Forbidden");

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
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
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
    assert_error(status, &body, 403, "Forbidden");
    // So is the ejected session that still holds it.
    let (status, body) = mia.join("Mia").await;
    assert_error(status, &body, 403, "Forbidden");
    assert_eq!(room.presence().await["total_count"], 1);
}

#[tokio::test]
async fn deleting_the_room_ejects_everyone_with_no_room() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let mia = room.member("Mia").await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events) = room.knocker("Ben").await;
    ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;

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
async fn star_with_explicit_ids_through_the_call_protocol() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let (ben, mut ben_events) = room.knocker("Ben").await;
    let (cleo, mut cleo_events) = room.knocker("Cleo").await;
    let (dan, mut dan_events) = room.knocker("Dan").await;
    let mut ids = Vec::new();
    for name in ["Ben", "Cleo", "Dan"] {
        let added = ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        ids.push(knock_of(&added, name));
    }

    let (status, answer) = ana
        .decide_many(json!({
            "*": {"grantRequestedAccess": false},
            ids[0].as_str(): {"grantRequestedAccess": true},
        }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[&ids[0], &ids[1], &ids[2]], &[]);

    assert_outcome(
        &ben_events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await,
        true,
    );
    for events in [&mut cleo_events, &mut dan_events] {
        let error = events.expect_event("error", EVENT_TIMEOUT).await;
        assert_eq!(error.data["errorMsg"], "Join request rejected");
        assert_outcome(&error, false);
    }
    let got = ana_events
        .expect_events_unordered(
            &[
                "participant-joined",
                "waiting-participant-removed",
                "waiting-participant-removed",
                "waiting-participant-removed",
            ],
            EVENT_TIMEOUT,
        )
        .await;
    for event in got
        .iter()
        .filter(|e| e.name == "waiting-participant-removed")
    {
        let granted = event.data["participant"]["id"] == ids[0].as_str();
        assert_eq!(
            event.data["resolution"],
            json!({"granted": granted, "by": "Ana"}),
            "{event:?}"
        );
    }
    assert_eq!(ben.phase().await, "in_call");
    assert_eq!(cleo.phase().await, "denied");
    assert_eq!(dan.phase().await, "denied");
    assert!(room.waiting_ids().await.is_empty());
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
    assert_error(status, &body, 403, "Forbidden");
    assert_eq!(kim.phase().await, "prejoin");

    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
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
    assert_error(status, &body, 403, "Forbidden");
    let (status, body) = guest.join("Ben").await;
    assert_error(status, &body, 403, "Forbidden");
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
        assert!(cookie.starts_with(&format!("knock-{room}=")), "{cookie}");
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

#[tokio::test]
async fn an_expiring_token_ejects_its_holder_with_exp_token() {
    let room = Room::knocking().await;
    let ana = room.owner("Ana").await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let exp = common::now() + 2;
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
    let exp = common::now() + 2;
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
