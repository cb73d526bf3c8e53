//! Presence and streams: a stream's end starts the grace after which its session leaves the
//! lobby or the call, also when the stream ended with a crash of the server; a stream resumed
//! with `Last-Event-ID` gets exactly what it missed.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    API_KEY, Api, EVENT_TIMEOUT, EventStream, Person, QUIET, Room, Server, knock_of,
};

#[tokio::test]
async fn a_knocker_whose_stream_is_gone_leaves_the_lobby_after_the_grace() {
    let room = Room::knocking_with(|c| c.presence_grace = Duration::from_millis(300)).await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;

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
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mia_events) = room.member_in_call("Mia").await;
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
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, ben_events, id) = room.knocker_seen_by("Ben", &mut ana_events).await;

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
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
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

#[tokio::test]
async fn after_a_crash_whoever_does_not_reconnect_leaves_after_the_grace_and_whoever_does_stays() {
    // The real binary, SIGKILLed with streams open: its presence records outlive it, and the
    // next start must tell which of those sessions came back.
    let grace = Duration::from_secs(1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let start = || {
        Server::start_with(dir.path(), |command| {
            command.env("KNOCK_PRESENCE_GRACE_SECONDS", grace.as_secs().to_string());
        })
    };
    let server = start().await;
    let api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("standup").await;
    let owner = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let member = api
        .token(json!({"room_name": room, "user_name": "Mia"}))
        .await;
    let mut ana = Person::arrive(&server.base_url, &room, Some(&owner)).await;
    let mut ana_events = ana.enter("Ana").await.named("Ana");
    let mut mia = Person::arrive(&server.base_url, &room, Some(&member)).await;
    let _mia_events = mia.enter("Mia").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let mut ben = Person::arrive(&server.base_url, &room, None).await;
    let ben_events = ben.events().await;
    ben.knocked("Ben").await;
    let added = ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let knock = knock_of(&added, "Ben");
    let mia_id = mia.session_id().await;

    let crashed = Instant::now();
    server.crash();
    let server = start().await;
    for person in [&mut ana, &mut mia, &mut ben] {
        person.base_url.clone_from(&server.base_url);
    }
    // Ana and Ben reconnect; Mia does not.
    let mut ana_events = ana.events_after(ana_events.last_id).await.named("Ana");
    let _ben_events = ben.events_after(ben_events.last_id).await;

    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["session_id"], mia_id.as_str());
    assert!(
        crashed.elapsed() >= grace,
        "Mia had the whole grace, counted from the restart"
    );
    ana_events.assert_quiet(grace * 2).await;
    assert_eq!(mia.phase().await, "left");
    assert_eq!(ben.phase().await, "waiting");
    let waiting = api_on(&server).waiting(&room).await;
    assert_eq!(waiting["data"][0]["id"], knock.as_str(), "{waiting}");
}

/// The REST API of `server`.
fn api_on(server: &Server) -> Api {
    Api::new(&server.base_url, API_KEY)
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
