//! Several Knock servers on one PostgreSQL database (PRODUCT.md §6): two real `knock` binaries
//! on two ports share a database, and people and REST clients talk to either. These tests need
//! PostgreSQL, so they are `#[ignore]`d in the plain run and `make test` runs them with a
//! throwaway cluster (`scripts/with-postgres.sh`).

use futures_util::future::join_all;
use serde_json::json;

use std::time::Duration;

use crate::helpers::{
    EVENT_TIMEOUT, Event, EventStream, Pair, Person, Server, postgres_database, the_one_decision,
};

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn fifty_decisions_on_one_knock_through_both_servers_and_rest_make_exactly_one() {
    let pair = Pair::start().await;
    let room = pair.api(false).knocking_room("standup").await;
    let ana = pair
        .with_token(&room, false, json!({"is_owner": true, "user_name": "Ana"}))
        .await;
    let cleo = pair
        .with_token(
            &room,
            true,
            json!({"user_name": "Cleo", "permissions": {"canAdmin": ["participants"]}}),
        )
        .await;
    let _ana_events = ana.enter("Ana").await;
    let _cleo_events = cleo.enter("Cleo").await;
    let ben = Person::arrive(pair.url(false), &room, None).await;
    let _ben_events = ben.events().await;
    ben.knocked("Ben").await;
    let waiting = pair.api(true).waiting(&room).await;
    let id = waiting["data"][0]["id"]
        .as_str()
        .expect("Ben's knock, seen through B")
        .to_owned();

    let decisions = (0..50).map(|i| {
        let grant = i % 2 == 0;
        let (ana, cleo, pair, id, room) = (&ana, &cleo, &pair, &id, &room);
        async move {
            let (status, answer) = match i % 3 {
                0 => ana.decide(id, grant).await,
                1 => cleo.decide(id, grant).await,
                _ => {
                    let body = json!({ id.as_str(): {"grantRequestedAccess": grant} });
                    let answer = pair
                        .api(i % 2 == 1)
                        .post(&format!("/v1/rooms/{room}/waiting"), body)
                        .await;
                    (reqwest::StatusCode::OK, answer)
                }
            };
            assert_eq!(status, 200, "decision {i}: {answer}");
            (grant, answer)
        }
    });
    let answers = join_all(decisions).await;
    let expected = if the_one_decision(&answers, &id) {
        "in_call"
    } else {
        "denied"
    };
    assert_eq!(ben.phase().await, expected);
    assert_eq!(pair.api(false).waiting(&room).await["data"], json!([]));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn five_simultaneous_joins_across_both_servers_leave_exactly_two_in_a_room_for_two() {
    let pair = Pair::start().await;
    pair.api(false)
        .create_room(json!({"name": "pair", "properties": {"max_participants": 2}}))
        .await;
    let people = join_all((0..5).map(|n| Person::arrive(pair.url(n % 2 == 1), "pair", None))).await;
    let answers = join_all(
        people
            .iter()
            .enumerate()
            .map(|(n, person)| async move { person.join(&format!("Person {n}")).await }),
    )
    .await;
    let joined = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(joined, 2, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 403, "{answer}");
        assert!(
            answer.to_string().contains("This call is full."),
            "{answer}"
        );
    }
    let presence = pair.api(true).get("/v1/rooms/pair/presence").await;
    assert_eq!(presence["total_count"], 2, "{presence}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn a_knock_on_one_server_alerts_an_owner_on_the_other_and_the_answer_comes_back() {
    let pair = Pair::start().await;
    let room = pair.api(false).knocking_room("standup").await;
    let ana = pair
        .with_token(&room, true, json!({"is_owner": true, "user_name": "Ana"}))
        .await;
    let mut ana_events = ana.enter("Ana").await.named("Ana on B");
    let ben = Person::arrive(pair.url(false), &room, None).await;
    let mut ben_events = ben.events().await.named("Ben on A");
    ben.knocked("Ben").await;

    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    assert_eq!(added.data["participant"]["name"], "Ben", "{added:?}");
    let id = added.data["participant"]["id"]
        .as_str()
        .expect("the knock's id")
        .to_owned();
    let (status, answer) = ana.decide(&id, true).await;
    assert_eq!(status, 200, "{answer}");
    // Ben's stream showed him the lobby when he knocked; then the answer from B.
    let lobby = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(lobby.data["access"]["level"], "lobby", "{lobby:?}");
    let access = ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    assert_eq!(access.data["access"]["level"], "full", "{access:?}");
    let joined = ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    assert_eq!(joined.data["participant"]["user_name"], "Ben", "{joined:?}");
}

/// Media updates each of Ana (on A) and Bob (on B) sends, interleaved: 1,000 events in all.
const UPDATES_EACH: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn a_thousand_events_from_both_servers_reach_every_stream_in_order_once_each() {
    let pair = Pair::start().await;
    let room = pair.api(false).knocking_room("standup").await;
    let mut people = Vec::new();
    let mut streams = Vec::new();
    for (name, on_b) in [
        ("Ana", false),
        ("Bob", true),
        ("Cleo", false),
        ("Dan", true),
    ] {
        let person = pair
            .with_token(&room, on_b, json!({"is_owner": true, "user_name": name}))
            .await;
        let events = person.enter(name).await.named(name);
        people.push(person);
        streams.push(events);
    }
    // Everyone has seen everyone join: from here on, the log is what the senders make.
    let database = pair.database();
    let mut starts = Vec::new();
    for (person, events) in people.iter().zip(streams.iter_mut()) {
        let id = person.session_id().await;
        let start = events_for(&database, &id)
            .await
            .last()
            .copied()
            .unwrap_or(0);
        drain_until(events, start).await;
        starts.push((id, start));
    }

    let senders = people.iter().take(2).map(|person| async move {
        for n in 0..UPDATES_EACH {
            let video = if n % 2 == 0 { "true" } else { "false" };
            let (status, answer) = person
                .call("update_media", &[("video", video), ("audio", "false")])
                .await;
            assert_eq!(status, 200, "{answer}");
        }
    });
    // Media updates go to the others in the call: the senders hear each other's 500, the two
    // others all 1,000.
    let expected = [
        UPDATES_EACH,
        UPDATES_EACH,
        2 * UPDATES_EACH,
        2 * UPDATES_EACH,
    ];
    let readers = streams
        .iter_mut()
        .zip(expected)
        .map(|(events, expected)| async move {
            let mut ids = Vec::new();
            while ids.len() < expected {
                match events.next_event(Duration::from_secs(10)).await {
                    Some(Event { id, name, .. }) if name == "participant-updated" => ids.push(id),
                    Some(other) => panic!("unexpected {other:?}"),
                    None => break,
                }
            }
            ids
        });
    let (_, received) = tokio::join!(
        futures_util::future::join_all(senders),
        futures_util::future::join_all(readers)
    );

    for (((id, start), ids), expected) in starts.iter().zip(received).zip(expected) {
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "{id}: ids strictly increasing"
        );
        let logged: Vec<i64> = events_for(&database, id)
            .await
            .into_iter()
            .filter(|event| event > start)
            .collect();
        assert_eq!(logged.len(), expected, "{id}: the log has them all");
        assert_eq!(ids, logged, "{id}: every event, once, in order");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn a_listener_cut_off_by_the_database_misses_no_event() {
    let pair = Pair::start().await;
    let room = pair.api(false).knocking_room("standup").await;
    let ana = pair
        .with_token(&room, false, json!({"is_owner": true, "user_name": "Ana"}))
        .await;
    let mut ana_events = ana.enter("Ana").await.named("Ana on A");
    let database = pair.database();
    let listener = format!("knock-listener-{}", pair.a.pid());
    let cut: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1) AS cut",
    )
    .bind(&listener)
    .fetch_one(&database)
    .await
    .expect("cut A's listener off");
    assert_eq!(cut, 1, "A has one listener");

    // Knocks on B while A listens anew: each must reach Ana on A.
    let mut names = Vec::new();
    for n in 0..5 {
        let guest = Person::arrive(pair.url(true), &room, None).await;
        let _stream = guest.events().await;
        let name = format!("Guest {n}");
        guest.knocked(&name).await;
        names.push(name);
    }
    let mut seen = Vec::new();
    while seen.len() < names.len() {
        let event = ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        seen.push(
            event.data["participant"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(seen, names);
    let listening: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1")
            .bind(&listener)
            .fetch_one(&database)
            .await
            .expect("A's listeners");
    assert_eq!(listening, 1, "A listens again");
}

/// The ids of the events logged for a session, in order.
async fn events_for(database: &sqlx::PgPool, session: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT event_id FROM event_recipients WHERE session_id = $1 ORDER BY event_id",
    )
    .bind(session)
    .fetch_all(database)
    .await
    .expect("the session's events")
}

/// Reads `events` until the event with id `last` has been read.
async fn drain_until(events: &mut EventStream, last: i64) {
    while events.last_id < last {
        events
            .next_event(EVENT_TIMEOUT)
            .await
            .expect("the events logged so far");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn two_servers_starting_together_on_an_empty_database_migrate_it_once() {
    let database = postgres_database().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let on_database = |command: &mut std::process::Command| {
        command.env("DATABASE_URL", &database);
    };
    let (a, b) = tokio::join!(
        Server::start_with(dir.path(), on_database),
        Server::start_with(dir.path(), on_database)
    );
    let pool = sqlx::PgPool::connect_lazy(&database).expect("a PostgreSQL URL");
    let (migrations, applied): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(&pool)
    .await
    .expect("the migrations table");
    assert_eq!(migrations, applied, "each migration recorded once");
    assert!(applied >= 1, "the schema is there");
    // Both serve the same rooms.
    let api_a = crate::helpers::Api::new(&a.base_url, crate::helpers::API_KEY);
    api_a.knocking_room("together").await;
    let api_b = crate::helpers::Api::new(&b.base_url, crate::helpers::API_KEY);
    assert_eq!(api_b.get("/v1/rooms/together").await["name"], "together");
}
