//! The media service, end to end over HTTP and server-sent events: WebRTC signaling
//! (`/api/signal`) relayed only between two sessions in the same call, in order and to the
//! addressee alone; camera and microphone state (`/api/update_media`) told to the others and
//! shown in `load_room` and REST presence; the ICE servers (`/api/ice_servers`) handed to
//! participants in the call only, with TURN credentials of each participant's own when
//! `KNOCK_TURN_URLS` is set. Everyone outside the call (knocking, denied, gone, at the
//! door, or in another room) is refused with 403 and changes nothing.

use app::ssr::config::{IceServers, Secret, TURN_CREDENTIAL_LIFETIME, TurnServer};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    EVENT_TIMEOUT, Event, EventStream, Person, QUIET, Room, Snapshot, assert_error, send,
    snapshot_diff,
};

// ---------------------------------------------------------------------------------------------
// Requests and messages.
// ---------------------------------------------------------------------------------------------

/// `POST /api/signal` from `from` with the JSON `body` as it is.
async fn signal_body(from: &Person, body: &Value) -> (StatusCode, Value) {
    send(
        from.client
            .post(format!("{}/api/signal", from.base_url))
            .json(body),
    )
    .await
}

/// `POST /api/signal` from `from` to the session `to` with `messages`, in `from`'s room.
async fn signal(from: &Person, to: &str, messages: &[Value]) -> (StatusCode, Value) {
    signal_body(
        from,
        &json!({"room": from.room, "to": to, "messages": messages}),
    )
    .await
}

/// `POST /api/signal` with a raw JSON body (any bytes): the status and the body's text (an
/// answer to a body that never parsed need not be labelled JSON).
async fn signal_raw(from: &Person, body: &str) -> (StatusCode, String) {
    let response = from
        .client
        .post(format!("{}/api/signal", from.base_url))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

/// A browser that sends the secret of a session of `own_room` as the cookie of `room`'s room.
fn forged_session(room: &Room, own_room: &str, secret: &str) -> Person {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("knock-{}={secret}", room.name)
            .parse()
            .expect("a header value"),
    );
    assert_ne!(own_room, room.name);
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Person {
        client,
        base_url: room.app.base_url.clone(),
        room: room.name.clone(),
    }
}

/// `update_media` with the camera and microphone state.
async fn update_media(person: &Person, video: bool, audio: bool) -> (StatusCode, Value) {
    let (video, audio) = (video.to_string(), audio.to_string());
    person
        .call("update_media", &[("video", &video), ("audio", &audio)])
        .await
}

/// `update_media`, which must succeed; the answer.
async fn update_media_ok(person: &Person, video: bool, audio: bool) -> Value {
    let (status, answer) = update_media(person, video, audio).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// `ice_servers`.
async fn ice_servers(person: &Person) -> (StatusCode, Value) {
    person.call("ice_servers", &[]).await
}

/// `load_room`, which must succeed.
async fn load_room(person: &Person) -> Value {
    let (status, snapshot) = person.call("load_room", &[]).await;
    assert_eq!(status, 200, "load_room: {snapshot}");
    snapshot
}

/// A session description message.
fn description(kind: &str, sdp: &str) -> Value {
    json!({"description": {"type": kind, "sdp": sdp}})
}

/// An ICE candidate message.
fn candidate(line: &str, mid: &str, index: u16) -> Value {
    json!({"candidate": {"candidate": line, "sdpMid": mid, "sdpMLineIndex": index}})
}

/// A realistic offer or answer: several CRLF-separated lines.
fn sdp(session: u64) -> String {
    format!(
        "v=0\r\no=- {session} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
         a=ice-ufrag:Kn0c\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\na=rtpmap:111 opus/48000/2\r\n\
         m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n"
    )
}

/// A host candidate line on `port`.
fn host_candidate(port: u16) -> String {
    format!("candidate:842163049 1 udp 1677729535 192.0.2.7 {port} typ host generation 0")
}

/// A valid one-message signal (an offer).
fn an_offer() -> Vec<Value> {
    vec![description("offer", &sdp(1))]
}

// ---------------------------------------------------------------------------------------------
// Streams and the database.
// ---------------------------------------------------------------------------------------------

/// Every event that arrives until the stream has been quiet for [`QUIET`].
async fn drain(events: &mut EventStream) -> Vec<Event> {
    let mut got = Vec::new();
    while let Some(event) = events.next_event(QUIET).await {
        got.push(event);
    }
    got
}

/// The session's whole log, read from a fresh stream opened with `Last-Event-ID: 0`.
async fn whole_log(person: &Person) -> Vec<Event> {
    let mut events = person.events_after(0).await;
    drain(&mut events).await
}

/// The `signal` events in the session's whole log.
async fn signals_in_log(person: &Person) -> Vec<Event> {
    whole_log(person)
        .await
        .into_iter()
        .filter(|event| event.name == "signal")
        .collect()
}

/// Asserts that no stream of `streams` receives anything within [`QUIET`] (all listened to at
/// once).
async fn assert_all_quiet(streams: &mut [&mut EventStream]) {
    futures_util::future::join_all(streams.iter_mut().map(|events| events.assert_quiet(QUIET)))
        .await;
}

/// Drains every stream of `streams`, one after the other (see [`drain`]).
async fn drain_all(streams: &mut [&mut EventStream]) {
    for events in streams {
        drain(events).await;
    }
}

/// Asserts a 403 `{"Forbidden": "<sentence>"}` answer; returns its body.
#[track_caller]
fn assert_forbidden((status, body): (StatusCode, Value)) -> Value {
    assert_error(status, &body, 403, "forbidden-error");
    body
}

/// Like [`assert_forbidden`], naming `what` was refused when the status is not 403.
#[track_caller]
fn assert_forbidden_for((status, body): (StatusCode, Value), what: &str) -> Value {
    assert_eq!(status, 403, "{what}: {body}");
    assert_forbidden((status, body))
}

/// Asserts that `event` is a `signal` from `from` carrying exactly `messages`.
#[track_caller]
fn assert_signal(event: &Event, from: &str, messages: &[Value]) {
    assert_eq!(event.name, "signal", "{event:?}");
    assert_eq!(
        event.data,
        json!({"action": "signal", "from": from, "messages": messages}),
        "the signal carries the sender and the messages unchanged"
    );
}

/// The next `name` event (a participant joined or updated) on `events`, after checking that
/// it shows these camera and microphone states.
async fn expect_media(events: &mut EventStream, name: &str, video: bool, audio: bool) -> Event {
    let event = events.expect_event(name, EVENT_TIMEOUT).await;
    assert_eq!(event.data["participant"]["video"], video, "{event:?}");
    assert_eq!(event.data["participant"]["audio"], audio, "{event:?}");
    event
}

/// Asserts that the session's whole log holds none of the `participant-updated` events
/// (nobody hears about their own camera and microphone).
async fn assert_no_updates_in_log(person: &Person, who: &str) {
    let own = whole_log(person).await;
    assert!(
        own.iter().all(|event| event.name != "participant-updated"),
        "{who}'s log: {own:?}"
    );
}

/// Asserts that the database did not change between `before` and `after`.
#[track_caller]
fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    let diff = snapshot_diff(before, after);
    assert!(diff.is_empty(), "{what} changed the database:\n{diff}");
}

/// The entry of `session_id` in a list of participants (`load_room`) or presence entries.
fn entry_of<'a>(list: &'a Value, key: &str, session_id: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|entry| entry[key] == session_id)
        .unwrap_or_else(|| panic!("{session_id} is not in {list}"))
}

/// Asserts that both REST presence listings (`/v1/rooms/{room}/presence` and `/v1/presence`)
/// show `session_id` with these camera and microphone states.
async fn assert_presence_media(room: &Room, session_id: &str, video: bool, audio: bool) {
    let expected = (json!(video), json!(audio));
    let presence = room.presence().await;
    let entry = entry_of(&presence["data"], "id", session_id);
    assert_eq!(
        (entry["video"].clone(), entry["audio"].clone()),
        expected,
        "{session_id} in the room's presence: {presence}"
    );
    let all = room.api.get("/v1/presence").await;
    let entry = entry_of(&all[&room.name], "id", session_id);
    assert_eq!(
        (entry["video"].clone(), entry["audio"].clone()),
        expected,
        "{session_id} in the presence of all rooms: {all}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Signaling between participants.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn participants_in_the_call_signal_each_other_in_order_and_only_the_addressee_hears() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    // Someone at the door of the same room, and a participant of another room's call.
    let (kim, mut kim_events) = room.knocker_in_lobby("Kim").await;
    room.api.knocking_room("retro").await;
    let (oto, _) = room
        .with_token_in("retro", json!({"is_owner": true, "user_name": "Oto"}))
        .await;
    let mut oto_events = oto.enter("Oto").await.named("Oto");
    drain_all(&mut [
        &mut ana_events,
        &mut ben_events,
        &mut mia_events,
        &mut kim_events,
        &mut oto_events,
    ])
    .await;
    let (ana_id, ben_id) = (ana.session_id().await, ben.session_id().await);

    // The owner offers to the admitted guest: three calls in a row, several messages in each
    // (including the empty end-of-candidates candidate browsers send).
    let calls: Vec<Vec<Value>> = vec![
        vec![description("offer", &sdp(11))],
        vec![
            candidate(&host_candidate(50_000), "0", 0),
            candidate(&host_candidate(50_001), "1", 1),
            candidate(
                "candidate:1 1 udp 2122260223 198.51.100.3 61000 typ srflx raddr 0.0.0.0 rport 0",
                "0",
                0,
            ),
        ],
        vec![
            candidate("", "0", 0),
            candidate(&host_candidate(50_002), "1", 1),
        ],
    ];
    for messages in &calls {
        let (status, body) = signal(&ana, &ben_id, messages).await;
        assert_eq!(status, 200, "Ana → Ben: {body}");
    }
    let mut received = Vec::new();
    for messages in &calls {
        let event = ben_events.expect_event("signal", EVENT_TIMEOUT).await;
        assert_signal(&event, &ana_id, messages);
        received.push(event);
    }
    assert!(
        received.windows(2).all(|pair| pair[0].id < pair[1].id),
        "in the order sent: {received:?}"
    );

    // The guest answers, description first, then its candidates.
    let reply = vec![
        description("answer", &sdp(12)),
        candidate(&host_candidate(40_000), "0", 0),
        candidate(&host_candidate(40_001), "1", 1),
    ];
    let (status, body) = signal(&ben, &ana_id, &reply).await;
    assert_eq!(status, 200, "Ben → Ana: {body}");
    let event = ana_events.expect_event("signal", EVENT_TIMEOUT).await;
    assert_signal(&event, &ben_id, &reply);

    // Nobody else heard anything: not the senders, not the third participant, not the knocker,
    // not the other room.
    assert_all_quiet(&mut [
        &mut ana_events,
        &mut ben_events,
        &mut mia_events,
        &mut kim_events,
        &mut oto_events,
    ])
    .await;
    // Replay agrees with live delivery: Ben's log holds the three signals, Mia's none.
    let replayed = signals_in_log(&ben).await;
    assert_eq!(replayed, received, "Ben's replayed log");
    assert_eq!(signals_in_log(&mia).await, [], "Mia's log");
    assert_eq!(signals_in_log(&kim).await, [], "Kim's log");
    assert_eq!(signals_in_log(&oto).await, [], "Oto's log");
    let ana_signals = signals_in_log(&ana).await;
    assert_eq!(ana_signals.len(), 1, "Ana's log: {ana_signals:?}");
    assert_signal(&ana_signals[0], &ben_id, &reply);
}

#[tokio::test]
async fn a_signal_between_two_participants_is_not_seen_by_a_third() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    drain_all(&mut [&mut ana_events, &mut mia_events, &mut ben_events]).await;
    let (ana_id, mia_id, ben_id) = (
        ana.session_id().await,
        mia.session_id().await,
        ben.session_id().await,
    );

    // Every ordered pair signals once; each receiver gets exactly what was meant for it.
    let people = [
        (&ana, &ana_id, "Ana"),
        (&mia, &mia_id, "Mia"),
        (&ben, &ben_id, "Ben"),
    ];
    for (from, from_id, from_name) in people {
        for (_, to_id, to_name) in people {
            if from_id == to_id {
                continue;
            }
            let messages = vec![candidate(
                &format!("candidate:{from_name}-to-{to_name} 1 udp 1 192.0.2.1 9 typ host"),
                "0",
                0,
            )];
            let (status, body) = signal(from, to_id, &messages).await;
            assert_eq!(status, 200, "{from_name} → {to_name}: {body}");
            let streams: [(&str, &mut EventStream); 3] = [
                ("Ana", &mut ana_events),
                ("Mia", &mut mia_events),
                ("Ben", &mut ben_events),
            ];
            for (name, events) in streams {
                if name == to_name {
                    let event = events.expect_event("signal", EVENT_TIMEOUT).await;
                    assert_signal(&event, from_id, &messages);
                }
                events.assert_quiet(QUIET).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Only the call takes part.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn nobody_outside_the_call_may_signal_update_media_or_get_ice_servers() {
    let room = Room::knocking_long_grace_with(|config| {
        config.ice_servers =
            IceServers::parse(r#"[{"urls": "stun:stun.example.com:3478"}]"#).expect("valid");
    })
    .await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    let (ben, mut ben_events) = room.knocker_in_lobby("Ben").await;
    let (dan, mut dan_events) = room.denied(&ana, "Dan").await;
    let (lea, mut lea_events) = room.gone(&ana, "Lea").await;
    let pat = room.guest().await;
    let mut pat_events = pat.events().await.named("Pat");
    assert_eq!(pat.phase().await, "prejoin");
    room.api.knocking_room("retro").await;
    let (oto, oto_secret) = room
        .with_token_keeping_secret("retro", json!({"is_owner": true, "user_name": "Oto"}))
        .await;
    let mut oto_events = oto.enter("Oto").await.named("Oto");
    // Oto's browser, speaking about `standup`, where it has no session.
    let oto_in_standup = Person {
        client: oto.client.clone(),
        base_url: oto.base_url.clone(),
        room: room.name.clone(),
    };
    // Oto's secret for `retro`, presented as a `standup` session.
    let forged = forged_session(&room, "retro", &oto_secret);
    drain_all(&mut [
        &mut ana_events,
        &mut mia_events,
        &mut ben_events,
        &mut dan_events,
        &mut lea_events,
        &mut pat_events,
        &mut oto_events,
    ])
    .await;
    let (ana_id, mia_id) = (ana.session_id().await, mia.session_id().await);
    let before = room.snapshot().await;

    let outsiders = [
        ("Ben, knocking", &ben),
        ("Dan, denied", &dan),
        ("Lea, who left", &lea),
        ("Pat, at the door", &pat),
        ("Oto's browser, without a session here", &oto_in_standup),
        ("Oto's session of retro, as a standup cookie", &forged),
    ];
    // Oto is in a call, but in retro's: his signals, in retro's name, reach nobody here.
    for to in [&ana_id, &mia_id] {
        assert_forbidden_for(
            signal(&oto, to, &an_offer()).await,
            "Oto, from retro's call, signals",
        );
    }
    for (who, person) in outsiders {
        for to in [&ana_id, &mia_id] {
            assert_forbidden_for(
                signal(person, to, &an_offer()).await,
                &format!("{who} signals"),
            );
        }
        for (video, audio) in [(true, true), (true, false), (false, true), (false, false)] {
            assert_forbidden_for(
                update_media(person, video, audio).await,
                &format!("{who} updates media"),
            );
        }
        let body = assert_forbidden_for(
            ice_servers(person).await,
            &format!("{who} asks for ICE servers"),
        );
        assert!(!body.to_string().contains("stun:"), "{who}: {body}");
    }

    assert_unchanged(&before, &room.snapshot().await, "a refused media call");
    assert_all_quiet(&mut [
        &mut ana_events,
        &mut mia_events,
        &mut ben_events,
        &mut dan_events,
        &mut lea_events,
        &mut pat_events,
        &mut oto_events,
    ])
    .await;
    for (who, person) in [("Ana", &ana), ("Mia", &mia)] {
        let log = whole_log(person).await;
        assert!(
            log.iter()
                .all(|event| event.name != "signal" && event.name != "participant-updated"),
            "{who}'s log: {log:?}"
        );
    }
    // The refused callers are still where they were.
    assert_eq!(ben.phase().await, "waiting");
    assert_eq!(dan.phase().await, "denied");
    assert_eq!(lea.phase().await, "left");
    assert_eq!(pat.phase().await, "prejoin");
    let presence = room.presence().await;
    assert_eq!(presence["total_count"], 2, "{presence}");
    for id in [&ana_id, &mia_id] {
        assert_presence_media(&room, id, false, false).await;
    }
}

#[tokio::test]
async fn a_participant_may_not_signal_anyone_outside_the_call() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    let (ben, mut ben_events) = room.knocker_in_lobby("Ben").await;
    let (dan, mut dan_events) = room.denied(&ana, "Dan").await;
    let (lea, mut lea_events) = room.gone(&ana, "Lea").await;
    let pat = room.guest().await;
    let mut pat_events = pat.events().await.named("Pat");
    room.api.knocking_room("retro").await;
    let (oto, _) = room
        .with_token_in("retro", json!({"is_owner": true, "user_name": "Oto"}))
        .await;
    let mut oto_events = oto.enter("Oto").await.named("Oto");
    drain_all(&mut [
        &mut ana_events,
        &mut mia_events,
        &mut ben_events,
        &mut dan_events,
        &mut lea_events,
        &mut pat_events,
        &mut oto_events,
    ])
    .await;
    let ana_id = ana.session_id().await;
    let targets = [
        ("Ben, knocking", &ben),
        ("Dan, denied", &dan),
        ("Lea, who left", &lea),
        ("Pat, at the door", &pat),
        ("Oto, in another room's call", &oto),
    ];
    let mut target_ids = Vec::new();
    for (who, person) in targets {
        target_ids.push((who, person.session_id().await));
    }
    let before = room.snapshot().await;

    for (who, id) in &target_ids {
        for from in [&ana, &mia] {
            assert_forbidden_for(signal(from, id, &an_offer()).await, &format!("to {who}"));
        }
    }
    // Nor themselves, nor a session that does not exist.
    for to in [ana_id.as_str(), "no-such-session", ""] {
        assert_forbidden_for(signal(&ana, to, &an_offer()).await, &format!("to {to:?}"));
    }
    // From the other room towards this one, in either room's name.
    assert_forbidden(signal(&oto, &ana_id, &an_offer()).await);

    assert_unchanged(&before, &room.snapshot().await, "a refused signal");
    assert_all_quiet(&mut [
        &mut ana_events,
        &mut mia_events,
        &mut ben_events,
        &mut dan_events,
        &mut lea_events,
        &mut pat_events,
        &mut oto_events,
    ])
    .await;
    for (who, person) in targets {
        assert_eq!(signals_in_log(person).await, [], "{who}'s log");
    }
    assert_eq!(signals_in_log(&ana).await, [], "Ana's log");
}

#[tokio::test]
async fn signaling_follows_a_guest_into_the_call_and_stops_when_they_leave() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.knocker_in_lobby("Ben").await;
    drain(&mut ana_events).await;
    let (ana_id, ben_id) = (ana.session_id().await, ben.session_id().await);

    // Knocking: neither way.
    assert_forbidden(signal(&ana, &ben_id, &an_offer()).await);
    assert_forbidden(signal(&ben, &ana_id, &an_offer()).await);
    assert_all_quiet(&mut [&mut ana_events, &mut ben_events]).await;

    // Let in: both ways.
    room.let_in(&ana, "Ben").await;
    drain_all(&mut [&mut ana_events, &mut ben_events]).await;
    assert_eq!(ben.phase().await, "in_call");
    let offer = vec![description("offer", &sdp(21))];
    let (status, body) = signal(&ana, &ben_id, &offer).await;
    assert_eq!(status, 200, "Ana → Ben in the call: {body}");
    let got = ben_events.expect_event("signal", EVENT_TIMEOUT).await;
    assert_signal(&got, &ana_id, &offer);
    let answer = vec![description("answer", &sdp(22))];
    let (status, body) = signal(&ben, &ana_id, &answer).await;
    assert_eq!(status, 200, "Ben → Ana in the call: {body}");
    let back = ana_events.expect_event("signal", EVENT_TIMEOUT).await;
    assert_signal(&back, &ben_id, &answer);

    // Gone: neither way again, and nothing else for Ben.
    let (status, state) = ben.leave().await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(ben.phase().await, "left");
    drain_all(&mut [&mut ana_events, &mut ben_events]).await;
    let before = room.snapshot().await;
    assert_forbidden(signal(&ana, &ben_id, &an_offer()).await);
    assert_forbidden(signal(&ben, &ana_id, &an_offer()).await);
    assert_forbidden(update_media(&ben, true, true).await);
    assert_forbidden(ice_servers(&ben).await);
    assert_unchanged(
        &before,
        &room.snapshot().await,
        "signaling a guest who left",
    );
    assert_all_quiet(&mut [&mut ana_events, &mut ben_events]).await;

    // Ben's whole log holds the one signal sent while he was in the call, Ana's the one reply.
    assert_eq!(signals_in_log(&ben).await, [got]);
    assert_eq!(signals_in_log(&ana).await, [back]);
}

// ---------------------------------------------------------------------------------------------
// 3. Validation.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_or_oversized_signaling_is_refused_with_400_and_delivers_nothing() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    drain_all(&mut [&mut ana_events, &mut ben_events]).await;
    let ben_id = ben.session_id().await;
    let before = room.snapshot().await;

    let small = candidate(&host_candidate(1), "0", 0);
    let refused: Vec<(&str, Vec<Value>)> = vec![
        ("no messages", vec![]),
        ("65 messages", vec![small.clone(); 65]),
        (
            "an sdp over 32 KiB",
            vec![description("offer", &"v".repeat(32 * 1024 + 1))],
        ),
        (
            "an answer over 32 KiB after a good candidate",
            vec![small.clone(), description("answer", &"a".repeat(40 * 1024))],
        ),
        (
            "a candidate over 1 KiB",
            vec![candidate(&"c".repeat(1024 + 1), "0", 0)],
        ),
        (
            "a rollback",
            vec![json!({"description": {"type": "rollback", "sdp": ""}})],
        ),
        (
            "a pranswer",
            vec![json!({"description": {"type": "pranswer", "sdp": "v=0"}})],
        ),
        ("an unknown kind of message", vec![json!({"bye": {}})]),
        (
            "a message of two kinds",
            vec![json!({
                "description": {"type": "offer", "sdp": "v=0"},
                "candidate": {"candidate": "c", "sdpMid": "0", "sdpMLineIndex": 0},
            })],
        ),
        (
            "a description without sdp",
            vec![json!({"description": {"type": "offer"}})],
        ),
        (
            "a candidate that is a number",
            vec![json!({"candidate": 7})],
        ),
        ("a bare string", vec![json!("offer")]),
    ];
    // Every case is tried before failing, so a failure lists all the wrong answers.
    let mut wrong = Vec::new();
    for (what, messages) in &refused {
        let body = json!({"room": room.name, "to": ben_id, "messages": messages});
        let (status, text) = signal_raw(&ana, &body.to_string()).await;
        let invalid_request = serde_json::from_str::<Value>(&text).is_ok_and(|answer| {
            answer["error"] == "invalid-request-error" && answer["info"].is_string()
        });
        if status != 400 || !invalid_request {
            wrong.push(format!("{what}: {status} {text}"));
        }
    }
    for (what, body) in [
        ("garbage", "{not json".to_owned()),
        ("an empty body", String::new()),
        ("a list", "[]".to_owned()),
        (
            "messages that are not a list",
            json!({"room": room.name, "to": ben_id, "messages": {"description": {}}}).to_string(),
        ),
        (
            "no messages field",
            json!({"room": room.name, "to": ben_id}).to_string(),
        ),
    ] {
        let (status, text) = signal_raw(&ana, &body).await;
        if status != 400 {
            wrong.push(format!("{what}: {status} {text}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 400 with {{\"error\": \"invalid-request-error\", ...}} for:\n{}",
        wrong.join("\n")
    );

    assert_unchanged(&before, &room.snapshot().await, "a refused signal");
    assert_all_quiet(&mut [&mut ana_events, &mut ben_events]).await;
    assert_eq!(signals_in_log(&ben).await, [], "Ben's log");

    // The limits are inclusive: 64 messages, a 32 KiB sdp and a 1 KiB candidate go through.
    let at_the_limits: Vec<Vec<Value>> = vec![
        vec![small.clone(); 64],
        vec![description("offer", &"v".repeat(32 * 1024))],
        vec![candidate(&"c".repeat(1024), "0", 0)],
    ];
    for messages in &at_the_limits {
        let (status, body) = signal(&ana, &ben_id, messages).await;
        assert_eq!(
            status,
            200,
            "{} messages at the limit: {body}",
            messages.len()
        );
        let event = ben_events.expect_event("signal", EVENT_TIMEOUT).await;
        assert_signal(&event, &ana.session_id().await, messages);
    }
    ben_events.assert_quiet(QUIET).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Camera and microphone.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn media_state_goes_to_the_others_and_shows_in_load_room_and_presence() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    expect_media(&mut ana_events, "participant-joined", false, false).await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    let ben_joined = expect_media(&mut mia_events, "participant-joined", false, false).await;
    assert_eq!(ben_joined.data["participant"]["user_name"], "Ben");
    drain_all(&mut [&mut ana_events, &mut mia_events, &mut ben_events]).await;
    let (ana_id, mia_id, ben_id) = (
        ana.session_id().await,
        mia.session_id().await,
        ben.session_id().await,
    );
    let joined_at = ben_joined.data["participant"]["joined_at"].clone();
    assert!(joined_at.is_i64(), "{ben_joined:?}");

    for (video, audio) in [(true, false), (false, true), (true, true), (false, false)] {
        let answer = update_media_ok(&ben, video, audio).await;
        let expected = json!({
            "session_id": ben_id,
            "user_name": "Ben",
            "owner": false,
            "joined_at": joined_at,
            "video": video,
            "audio": audio,
        });
        // `user_id` may be absent or null for a tokenless guest; everything else is exact.
        let without_user_id = |participant: &Value| {
            let mut participant = participant.clone();
            if let Some(object) = participant.as_object_mut()
                && object.get("user_id").is_some_and(Value::is_null)
            {
                object.remove("user_id");
            }
            participant
        };
        assert_eq!(without_user_id(&answer), expected, "the answer");
        for events in [&mut ana_events, &mut mia_events] {
            let updated = events
                .expect_event("participant-updated", EVENT_TIMEOUT)
                .await;
            assert_eq!(
                without_user_id(&updated.data["participant"]),
                expected,
                "{updated:?}"
            );
        }
        assert_all_quiet(&mut [&mut ana_events, &mut mia_events, &mut ben_events]).await;

        for (who, person) in [("Ana", &ana), ("Mia", &mia)] {
            let snapshot = load_room(person).await;
            let seen = entry_of(&snapshot["participants"], "session_id", &ben_id);
            assert_eq!(
                (&seen["video"], &seen["audio"]),
                (&json!(video), &json!(audio)),
                "{who}'s load_room: {snapshot}"
            );
        }
        let snapshot = load_room(&ana).await;
        let mia_seen = entry_of(&snapshot["participants"], "session_id", &mia_id);
        assert_eq!(
            (&mia_seen["video"], &mia_seen["audio"]),
            (&json!(false), &json!(false)),
            "Ana's load_room: {snapshot}"
        );
        assert_presence_media(&room, &ben_id, video, audio).await;
        // Only Ben's own state changed.
        for id in [&ana_id, &mia_id] {
            assert_presence_media(&room, id, false, false).await;
        }
    }
    // Replay agrees: Ben's own log holds none of his updates, Mia's all four.
    assert_no_updates_in_log(&ben, "Ben").await;
    let mia_log = whole_log(&mia).await;
    let updates: Vec<(Value, Value)> = mia_log
        .iter()
        .filter(|event| event.name == "participant-updated")
        .map(|event| {
            let participant = &event.data["participant"];
            (participant["video"].clone(), participant["audio"].clone())
        })
        .collect();
    assert_eq!(
        updates,
        [(true, false), (false, true), (true, true), (false, false)]
            .map(|(video, audio)| (json!(video), json!(audio))),
        "Mia's log"
    );
}

#[tokio::test]
async fn rejoining_turns_camera_and_microphone_off_again() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    drain(&mut ana_events).await;
    let mia_id = mia.session_id().await;

    update_media_ok(&mia, true, true).await;
    expect_media(&mut ana_events, "participant-updated", true, true).await;
    assert_presence_media(&room, &mia_id, true, true).await;

    let (status, state) = mia.leave().await;
    assert_eq!(status, 200, "{state}");
    ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    drop(mia_events);
    mia_events = mia.enter("Mia").await.named("Mia");
    let joined = expect_media(&mut ana_events, "participant-joined", false, false).await;
    assert_eq!(joined.data["participant"]["session_id"], mia_id.as_str());
    let snapshot = load_room(&ana).await;
    let seen = entry_of(&snapshot["participants"], "session_id", &mia_id);
    assert_eq!(seen["video"], false, "{snapshot}");
    assert_eq!(seen["audio"], false, "{snapshot}");
    assert_presence_media(&room, &mia_id, false, false).await;

    // And the camera can be turned on again after the rejoin.
    update_media_ok(&mia, true, false).await;
    expect_media(&mut ana_events, "participant-updated", true, false).await;
    // Mia never hears about her own updates.
    assert_no_updates_in_log(&mia, "Mia").await;
    drain(&mut mia_events).await;
}

// ---------------------------------------------------------------------------------------------
// 5. ICE servers.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn ice_servers_go_to_participants_in_the_call_exactly_as_configured() {
    let configured = r#"[
        {"urls": "stun:stun.example.com:3478"},
        {"urls": ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"],
         "username": "knock-user", "credential": "hunter2-secret"}
    ]"#;
    let room = Room::knocking_long_grace_with(|config| {
        config.ice_servers = IceServers::parse(configured).expect("valid");
    })
    .await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.knocker_in_lobby("Ben").await;
    drain(&mut ana_events).await;

    let expected = json!([
        {"urls": ["stun:stun.example.com:3478"]},
        {"urls": ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"],
         "username": "knock-user", "credential": "hunter2-secret"},
    ]);
    let (status, servers) = ice_servers(&ana).await;
    assert_eq!(status, 200, "{servers}");
    assert_eq!(servers, expected);

    // Knocking: refused, and no credential in the refusal.
    let body = assert_forbidden(ice_servers(&ben).await);
    assert!(!body.to_string().contains("hunter2"), "{body}");
    assert!(!body.to_string().contains("turn:"), "{body}");

    // Once let in, the guest gets the same list.
    room.let_in(&ana, "Ben").await;
    ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    let (status, servers) = ice_servers(&ben).await;
    assert_eq!(status, 200, "{servers}");
    assert_eq!(servers, expected);
    assert_all_quiet(&mut [&mut ben_events]).await;

    // Without KNOCK_ICE_SERVERS the list is empty.
    let bare = Room::knocking_long_grace().await;
    let kim = bare.owner("Kim").await;
    let _kim_events = kim.enter("Kim").await;
    let (status, servers) = ice_servers(&kim).await;
    assert_eq!(status, 200, "{servers}");
    assert_eq!(servers, json!([]));
}

/// The shared secret of the TURN server in the TURN tests.
const TURN_SECRET: &str = "coturn-static-auth-secret-for-tests";

/// base64(HMAC-SHA1(`secret`, `username`)): what coturn's `use-auth-secret` expects as the
/// password of `username`.
fn turn_credential(secret: &str, username: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Unix seconds now.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Checks the TURN entry handed to the participant `session` (fetched between the unix seconds
/// `before` and `after`): the configured URLs, the username `<expiry>:<session>` with the
/// expiry a credential lifetime later, and the credential only the secret's holder can make.
/// Returns the username.
#[track_caller]
fn assert_turn_entry(entry: &Value, session: &str, before: u64, after: u64) -> String {
    assert_eq!(
        entry["urls"],
        json!([
            "turn:turn.example.com:3478?transport=udp",
            "turns:turn.example.com:5349"
        ]),
        "{entry}"
    );
    let username = entry["username"].as_str().expect("a username").to_owned();
    let (expiry, who) = username.split_once(':').expect("<expiry>:<session id>");
    assert_eq!(
        who, session,
        "the username names the participant: {username}"
    );
    let expiry: u64 = expiry.parse().expect("unix seconds");
    let lifetime = TURN_CREDENTIAL_LIFETIME.as_secs();
    assert!(
        (before + lifetime..=after + lifetime).contains(&expiry),
        "expiry {expiry} is a credential lifetime ({lifetime} s) after {before}..={after}"
    );
    assert_eq!(
        entry["credential"].as_str(),
        Some(turn_credential(TURN_SECRET, &username).as_str()),
        "{entry}"
    );
    username
}

#[tokio::test]
async fn each_participant_in_the_call_gets_turn_credentials_of_their_own_and_the_lobby_none() {
    let room = Room::knocking_long_grace_with(|config| {
        config.ice_servers =
            IceServers::parse(r#"[{"urls": "stun:stun.example.com:3478"}]"#).expect("valid");
        config.turn = Some(
            TurnServer::parse(
                "turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349",
                Secret::new(TURN_SECRET),
            )
            .expect("valid"),
        );
    })
    .await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.member_in_call("Ben").await;
    let (kim, mut kim_events) = room.knocker_in_lobby("Kim").await;
    let door = room.guest().await;
    assert_eq!(door.phase().await, "prejoin");
    drain_all(&mut [&mut ana_events, &mut ben_events]).await;

    let before = unix_now();
    let (status, ana_servers) = ice_servers(&ana).await;
    assert_eq!(status, 200, "{ana_servers}");
    let (status, ben_servers) = ice_servers(&ben).await;
    assert_eq!(status, 200, "{ben_servers}");
    let after = unix_now();

    // KNOCK_ICE_SERVERS first, then the TURN server.
    for servers in [&ana_servers, &ben_servers] {
        let servers = servers.as_array().expect("a list");
        assert_eq!(servers.len(), 2, "{servers:?}");
        assert_eq!(servers[0], json!({"urls": ["stun:stun.example.com:3478"]}));
    }
    let ana_user = assert_turn_entry(&ana_servers[1], &ana.session_id().await, before, after);
    let ben_user = assert_turn_entry(&ben_servers[1], &ben.session_id().await, before, after);
    assert_ne!(
        ana_user, ben_user,
        "each participant has credentials of their own"
    );

    // The lobby and the door: refused, and nothing of the TURN server in the refusal.
    for (person, who) in [(&kim, "a waiting guest"), (&door, "a guest at the door")] {
        let body = assert_forbidden_for(ice_servers(person).await, who);
        let text = body.to_string();
        assert!(
            !text.contains("turn:") && !text.contains("turns:"),
            "{who}: {text}"
        );
    }

    // Let in, the guest gets credentials in their own name too.
    room.let_in(&ana, "Kim").await;
    kim_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    let before = unix_now();
    let (status, kim_servers) = ice_servers(&kim).await;
    let after = unix_now();
    assert_eq!(status, 200, "{kim_servers}");
    let kim_user = assert_turn_entry(&kim_servers[1], &kim.session_id().await, before, after);
    assert_ne!(kim_user, ana_user);
    assert_ne!(kim_user, ben_user);
}
