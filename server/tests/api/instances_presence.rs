//! Presence across two servers on one PostgreSQL database: a session is present while a stream
//! of it is open on either server. A stream that moves from a stopping server to the other
//! keeps its session; sessions whose server died depart once, after the grace, unless their
//! streams came back elsewhere. (Needs PostgreSQL: `make test` runs these.)

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Api, EVENT_TIMEOUT, Event, EventStream, Pair, Person};

/// The presence grace both servers run with.
const GRACE: Duration = Duration::from_secs(2);

/// How long after a server's end every departure must have happened: the grace, the leader's
/// takeover (a second at most) and its next round, with room to spare.
const SETTLED: Duration = Duration::from_secs(7);

/// Two servers whose sessions depart after [`GRACE`].
async fn pair() -> Pair {
    Pair::start_with(|command| {
        command.env("KNOCK_PRESENCE_GRACE_SECONDS", GRACE.as_secs().to_string());
    })
    .await
}

/// The events `stream` receives until `deadline`, each with when it came.
async fn events_until(stream: &mut EventStream, deadline: Instant) -> Vec<(Instant, Event)> {
    let mut got = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return got;
        }
        match stream.next_event(left).await {
            Some(event) => got.push((Instant::now(), event)),
            None if stream.has_ended() => panic!("the stream ended: {got:?}"),
            None => return got,
        }
    }
}

/// When each `participant-left` for `session_id` came.
fn left(events: &[(Instant, Event)], session_id: &str) -> Vec<Instant> {
    events
        .iter()
        .filter(|(_, event)| {
            event.name == "participant-left"
                && event.data["participant"]["session_id"] == session_id
        })
        .map(|(at, _)| *at)
        .collect()
}

/// When each `waiting-participant-removed` for knock `id` came.
fn removed(events: &[(Instant, Event)], id: &str) -> Vec<Instant> {
    events
        .iter()
        .filter(|(_, event)| {
            event.name == "waiting-participant-removed" && event.data["participant"]["id"] == id
        })
        .map(|(at, _)| *at)
        .collect()
}

/// The id of the knock named `name` in `room`'s lobby, through `api`.
async fn knock_named(api: &Api, room: &str, name: &str) -> String {
    let waiting = api.waiting(room).await;
    waiting["data"]
        .as_array()
        .expect("the lobby")
        .iter()
        .find(|knock| knock["name"] == name)
        .and_then(|knock| knock["id"].as_str())
        .unwrap_or_else(|| panic!("{name} is not waiting: {waiting}"))
        .to_owned()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn streams_that_move_to_the_other_server_after_a_sigterm_keep_their_sessions() {
    let mut pair = pair().await;
    let api_b = pair.api(true);
    let room = api_b.knocking_room("standup").await;
    // Ana, the owner, is on B throughout: she hears every departure B writes.
    let ana = pair
        .with_token(&room, true, json!({"is_owner": true, "user_name": "Ana"}))
        .await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    // Mia in the call, Ben and Zoe knocking: their streams are on A.
    let mut mia = pair
        .with_token(&room, false, json!({"user_name": "Mia"}))
        .await;
    let mut mia_events = mia.enter("Mia").await.named("Mia on A");
    let mut ben = Person::arrive(pair.url(false), &room, None).await;
    let mut ben_events = ben.events().await.named("Ben on A");
    ben.knocked("Ben").await;
    let mut zoe = Person::arrive(pair.url(false), &room, None).await;
    let mut zoe_events = zoe.events().await.named("Zoe on A");
    zoe.knocked("Zoe").await;
    let mia_id = mia.session_id().await;
    let ben_knock = knock_named(&api_b, &room, "Ben").await;
    let zoe_knock = knock_named(&api_b, &room, "Zoe").await;

    let stopping = Instant::now();
    let status = pair
        .a
        .terminate(Duration::from_secs(10))
        .expect("A exits within 10 s of SIGTERM");
    assert!(status.success(), "a clean exit: {status}");
    for stream in [&mut mia_events, &mut ben_events, &mut zoe_events] {
        while stream.next_event(EVENT_TIMEOUT).await.is_some() {}
        assert!(stream.has_ended(), "A ended its streams");
    }

    // Mia's and Ben's browsers reconnect their streams, to B; Zoe's never comes back.
    for person in [&mut mia, &mut ben, &mut zoe] {
        person.base_url.clone_from(&pair.b.base_url);
    }
    let mia_events = mia.events_after(mia_events.last_id).await.named("Mia on B");
    let _ben_events = ben.events_after(ben_events.last_id).await.named("Ben on B");

    let seen = events_until(&mut ana_events, stopping + SETTLED).await;
    assert!(
        left(&seen, &mia_id).is_empty(),
        "Mia stays in the call: {seen:?}"
    );
    assert!(
        removed(&seen, &ben_knock).is_empty(),
        "Ben keeps his knock: {seen:?}"
    );
    let zoe_gone = removed(&seen, &zoe_knock);
    assert_eq!(zoe_gone.len(), 1, "Zoe leaves the lobby once: {seen:?}");
    assert!(
        zoe_gone[0] >= stopping + GRACE,
        "Zoe had the whole grace: she left {:?} after A began to stop",
        zoe_gone[0] - stopping
    );
    assert_eq!(mia.phase().await, "in_call");
    assert_eq!(ben.phase().await, "waiting");
    assert_eq!(zoe.phase().await.as_str(), "left");
    let presence = api_b.get(&format!("/v1/rooms/{room}/presence")).await;
    assert_eq!(presence["total_count"], 2, "Ana and Mia: {presence}");

    // B now holds Mia's presence: when her stream there ends, she leaves after the grace.
    drop(mia_events);
    let dropped = Instant::now();
    let gone = ana_events.expect_event("participant-left", SETTLED).await;
    assert_eq!(gone.data["participant"]["session_id"], mia_id.as_str());
    assert!(
        dropped.elapsed() >= GRACE,
        "Mia had the whole grace: she left {:?} after her stream ended",
        dropped.elapsed()
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn sessions_whose_server_was_killed_depart_once_after_the_grace_unless_they_reconnect() {
    let pair = pair().await;
    let api_b = pair.api(true);
    let b_url = pair.b.base_url.clone();
    let room = api_b.knocking_room("standup").await;
    // Ana, the owner, is on B throughout: she hears every departure B writes.
    let ana = pair
        .with_token(&room, true, json!({"is_owner": true, "user_name": "Ana"}))
        .await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    // Mia and Cleo in the call, Ben knocking: their streams are on A.
    let mut mia = pair
        .with_token(&room, false, json!({"user_name": "Mia"}))
        .await;
    let _mia_events = mia.enter("Mia").await;
    let mut cleo = pair
        .with_token(&room, false, json!({"user_name": "Cleo"}))
        .await;
    let mut cleo_events = cleo.enter("Cleo").await.named("Cleo on A");
    let mut ben = Person::arrive(pair.url(false), &room, None).await;
    let _ben_events = ben.events().await;
    ben.knocked("Ben").await;
    let mia_id = mia.session_id().await;
    let cleo_id = cleo.session_id().await;
    let ben_knock = knock_named(&api_b, &room, "Ben").await;

    // Destructured to kill A alone; B keeps serving.
    let Pair { a, b: _b, .. } = pair;
    let crashed = Instant::now();
    a.crash();
    while cleo_events.next_event(EVENT_TIMEOUT).await.is_some() {}
    assert!(cleo_events.has_ended(), "Cleo's stream died with A");
    // Cleo's browser reconnects to B within the grace; Mia's and Ben's never come back.
    cleo.base_url.clone_from(&b_url);
    let _cleo_events = cleo
        .events_after(cleo_events.last_id)
        .await
        .named("Cleo on B");
    assert!(crashed.elapsed() < GRACE, "Cleo came back within the grace");

    let seen = events_until(&mut ana_events, crashed + SETTLED).await;
    let mia_gone = left(&seen, &mia_id);
    let ben_gone = removed(&seen, &ben_knock);
    assert_eq!(mia_gone.len(), 1, "Mia leaves the call once: {seen:?}");
    assert_eq!(ben_gone.len(), 1, "Ben leaves the lobby once: {seen:?}");
    for (who, at) in [("Mia", mia_gone[0]), ("Ben", ben_gone[0])] {
        assert!(
            at >= crashed + GRACE,
            "{who} had the whole grace: gone {:?} after the crash",
            at - crashed
        );
    }
    assert!(left(&seen, &cleo_id).is_empty(), "Cleo stays: {seen:?}");
    mia.base_url.clone_from(&b_url);
    ben.base_url.clone_from(&b_url);
    assert_eq!(mia.phase().await, "left");
    assert_eq!(ben.phase().await, "left");
    assert_eq!(cleo.phase().await, "in_call");
    assert_eq!(api_b.waiting(&room).await["total_count"], 0);
    let presence = api_b.get(&format!("/v1/rooms/{room}/presence")).await;
    assert_eq!(presence["total_count"], 2, "Ana and Cleo: {presence}");
}
