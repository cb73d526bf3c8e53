//! Deciding a knock through the call protocol: allow and deny, who is told, exactly one
//! decision however many race for it, and nobody but an admin in the call may decide.

use futures_util::future::join_all;
use serde_json::json;

use super::{assert_decided, assert_outcome, find, removal_after_decision};
use crate::helpers::{EVENT_TIMEOUT, QUIET, Room, assert_error, knock_of, the_one_decision};

#[tokio::test]
async fn allowing_a_knock_lets_the_guest_in_and_tells_everyone_who_decided() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (cleo, mut cleo_events) = room.admin_in_call("Cleo").await;
    assert_eq!(cleo.pre_auth().await["admin"], true);
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (_mia, mut mia_events) = room.member_in_call("Mia").await;
    for events in [&mut ana_events, &mut cleo_events] {
        let joined = events
            .expect_event("participant-joined", EVENT_TIMEOUT)
            .await;
        assert_eq!(joined.data["participant"]["user_name"], "Mia");
    }

    let (ben, mut ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let ben_id = ben.session_id().await;
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
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events, first) = room.knocker_seen_by("Ben", &mut ana_events).await;

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
    assert_error(status, &body, 403, "forbidden-error");

    ben.knocked("Ben").await;
    let access = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(access.data["access"]["level"], "lobby", "{access:?}");
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    // The same person, so the same id (their session id, as in daily-js), waiting again.
    let second = knock_of(&added, "Ben");
    assert_eq!(second, first);
    assert_eq!(room.waiting_ids().await, [second]);
    ben_events.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn two_admins_deciding_the_same_knock_at_once_make_one_decision() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (cleo, mut cleo_events) = room.admin_in_call("Cleo").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;
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
        let removed = removal_after_decision(events, granted).await;
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
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (cleo, _cleo_events) = room.admin_in_call("Cleo").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;

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
    let granted = the_one_decision(&answers, &id);

    let outcome = ben_events
        .next_event(EVENT_TIMEOUT)
        .await
        .expect("an outcome");
    assert_outcome(&outcome, granted);
    ben_events.assert_quiet(QUIET).await;
    let removed = removal_after_decision(&mut ana_events, granted).await;
    assert_eq!(removed.data["resolution"]["granted"], granted);
    ana_events.assert_quiet(QUIET).await;
    let expected = if granted { "in_call" } else { "denied" };
    assert_eq!(ben.phase().await, expected);
    assert!(room.waiting_ids().await.is_empty());
}

#[tokio::test]
async fn non_admins_may_neither_list_nor_decide_and_nothing_changes() {
    let room = Room::knocking().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let (ben, mut ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;
    // An owner who has not joined is not an admin *in the call* yet.
    let kim = room.owner("Kim").await;

    for (who, person) in [
        ("a member", &mia),
        ("the knocker", &ben),
        ("an owner outside", &kim),
    ] {
        let (status, body) = person.waiting().await;
        assert_error(status, &body, 403, "forbidden-error");
        for grant in [true, false] {
            let (status, body) = person.decide(&id, grant).await;
            assert_eq!(status, 403, "{who}: {body}");
            assert_error(status, &body, 403, "forbidden-error");
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
async fn star_with_explicit_ids_through_the_call_protocol() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events, ben_knock) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let (cleo, mut cleo_events, cleo_knock) = room.knocker_seen_by("Cleo", &mut ana_events).await;
    let (dan, mut dan_events, dan_knock) = room.knocker_seen_by("Dan", &mut ana_events).await;

    let (status, answer) = ana
        .decide_many(json!({
            "*": {"grantRequestedAccess": false},
            ben_knock.as_str(): {"grantRequestedAccess": true},
        }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_decided(&answer, &[&ben_knock, &cleo_knock, &dan_knock], &[]);

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
        let granted = event.data["participant"]["id"] == ben_knock.as_str();
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
