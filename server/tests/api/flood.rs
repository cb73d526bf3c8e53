//! Signaling floods and their bounds: a session's signaling budget (429 beyond it, while the
//! others in the call signal on), signaling kept in the log for minutes only, replay read in
//! pages, and at most ten open streams per session.

use app::ssr::{
    db::{Db, events},
    maintenance,
    time::now_millis,
};
use serde_json::{Value, json};

use crate::helpers::{EVENT_TIMEOUT, EventStream, Person, QUIET, Room, assert_error, send};

/// `POST /api/signal` from `from` to the session `to` with `messages`.
async fn signal(from: &Person, to: &str, messages: &[Value]) -> (reqwest::StatusCode, Value) {
    send(
        from.client
            .post(format!("{}/api/signal", from.base_url))
            .json(&json!({"room": from.room, "to": to, "messages": messages})),
    )
    .await
}

/// An offer whose SDP is `bytes` long.
fn offer(bytes: usize) -> Value {
    json!({"description": {"type": "offer", "sdp": "v".repeat(bytes)}})
}

/// A small ICE candidate.
fn candidate(port: u16) -> Value {
    json!({"candidate": {
        "candidate": format!("candidate:1 1 udp 1677729535 192.0.2.7 {port} typ host"),
        "sdpMid": "0", "sdpMLineIndex": 0}})
}

/// Every event until the stream has been quiet for [`QUIET`].
async fn drain(events: &mut EventStream) -> Vec<crate::helpers::Event> {
    let mut got = Vec::new();
    while let Some(event) = events.next_event(QUIET).await {
        got.push(event);
    }
    got
}

/// The ids of the `signal` events in `person`'s whole log, replayed from a new stream.
async fn signals_in_log(person: &Person) -> Vec<i64> {
    let mut events = person.events_after(0).await;
    drain(&mut events)
        .await
        .into_iter()
        .filter(|event| event.name == "signal")
        .map(|event| event.id)
        .collect()
}

#[tokio::test]
async fn a_signaling_flood_is_refused_with_429_while_the_others_in_the_call_signal_on() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    let (mia, mut mia_events) = room.member_in_call("Mia").await;
    drain(&mut ana_events).await;
    drain(&mut ben_events).await;
    drain(&mut mia_events).await;
    let (ana_id, ben_id) = (ana.session_id().await, ben.session_id().await);

    // Ana sends 30 KiB offers to Ben as fast as she can, up to 8 MiB.
    let flood = vec![offer(30 * 1024)];
    let mut sent = 0usize;
    let mut accepted = 0usize;
    let refusal = loop {
        let (status, body) = signal(&ana, &ben_id, &flood).await;
        if status == 429 {
            break body;
        }
        assert_eq!(status, 200, "Ana's signal {accepted}: {body}");
        accepted += 1;
        sent += 30 * 1024;
        assert!(
            sent <= 8 * 1024 * 1024,
            "8 MiB of signaling from one session in a burst, none refused"
        );
    };
    println!(
        "the flood was refused after {accepted} requests, {} KiB",
        sent / 1024
    );
    assert_error(
        reqwest::StatusCode::TOO_MANY_REQUESTS,
        &refusal,
        429,
        "rate-limit-error",
    );
    assert!(
        sent <= 1024 * 1024,
        "refused within 1 MiB, not after {} KiB",
        sent / 1024
    );
    // Flooding on gains nothing: over the next two seconds, Ana gets through no more than
    // what refills meanwhile (about 51 KiB a second).
    let started = std::time::Instant::now();
    let mut later = 0usize;
    while started.elapsed() < std::time::Duration::from_secs(2) {
        let (status, body) = signal(&ana, &ben_id, &flood).await;
        match status.as_u16() {
            200 => later += 1,
            429 => {}
            _ => panic!("Ana's flood: {status} {body}"),
        }
    }
    assert!(later <= 5, "{later} more 30 KiB signals in 2 s");
    accepted += later;

    // The others in the call signal on: Mia to Ben, Ben to Ana, Mia to Ana.
    for (from, from_name, to, to_name) in [
        (&mia, "Mia", &ben_id, "Ben"),
        (&ben, "Ben", &ana_id, "Ana"),
        (&mia, "Mia", &ana_id, "Ana"),
    ] {
        let to_events = if to_name == "Ben" {
            &mut ben_events
        } else {
            &mut ana_events
        };
        drain(to_events).await;
        let messages = vec![offer(3000), candidate(5000)];
        let (status, body) = signal(from, to, &messages).await;
        assert_eq!(
            status, 200,
            "{from_name}'s signal to {to_name} after Ana's flood: {body}"
        );
        let event = to_events.expect_event("signal", EVENT_TIMEOUT).await;
        assert_eq!(
            event.data["messages"],
            json!(messages),
            "{from_name}'s signal"
        );
    }
    // A refused request stores nothing: Ben's log holds Ana's accepted ones and Mia's.
    assert_eq!(signals_in_log(&ben).await.len(), accepted + 1, "Ben's log");
}

#[tokio::test]
async fn signaling_is_pruned_after_minutes_and_other_events_after_a_day() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    drain(&mut ana_events).await;
    drain(&mut ben_events).await;
    let ben_id = ben.session_id().await;
    for port in 0..3 {
        let (status, body) = signal(&ana, &ben_id, &[candidate(port)]).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut before = ben.events_after(0).await;
    let log = drain(&mut before).await;
    assert_eq!(log.iter().filter(|event| event.name == "signal").count(), 3);
    let others = log.iter().filter(|event| event.name != "signal").count();
    assert!(others > 0, "Ben's log has his joining too: {log:?}");

    let db = Db::connect(&room.app.database_url).await.expect("connect");
    let minute = 60 * 1000;
    assert_eq!(
        maintenance::prune_signals_once(&db, now_millis() + 4 * minute)
            .await
            .expect("prune"),
        0,
        "four minutes on, signaling is still useful"
    );
    assert_eq!(signals_in_log(&ben).await.len(), 3);
    assert_eq!(
        maintenance::prune_signals_once(&db, now_millis() + 6 * minute)
            .await
            .expect("prune"),
        3,
        "six minutes on, signaling is gone"
    );
    let mut after = ben.events_after(0).await;
    let log = drain(&mut after).await;
    assert!(
        log.iter().all(|event| event.name != "signal"),
        "no signaling left: {log:?}"
    );
    assert_eq!(log.len(), others, "the other events stay for a day");
}

#[tokio::test]
async fn a_replay_from_the_start_reads_the_log_in_pages_and_misses_nothing() {
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.admitted(&ana, "Ben").await;
    drain(&mut ana_events).await;
    drain(&mut ben_events).await;
    let ben_id = ben.session_id().await;

    // 1,500 events of 3 KiB for Ben: three pages by number, five by bytes.
    let db = Db::connect(&room.app.database_url).await.expect("connect");
    let payload =
        json!({"action": "signal", "from": "x", "messages": [offer(3 * 1024)]}).to_string();
    let mut tx = db.write_room(&room.name).await.expect("write");
    let mut written = Vec::new();
    for _ in 0..1_500 {
        let id = events::insert(
            &mut tx,
            &room.name,
            "signal",
            &payload,
            std::slice::from_ref(&ben_id),
            now_millis(),
        )
        .await
        .expect("insert");
        written.push(id);
    }
    tx.commit().await.expect("commit");

    let page = events::since(&db, &ben_id, 0, server::events::REPLAY_PAGE)
        .await
        .expect("a page");
    assert!(
        page.len() < 500 && page.iter().map(|row| row.payload.len()).sum::<usize>() < 1_100_000,
        "one page is at most 1 MiB and one event: {} events",
        page.len()
    );

    let replayed = signals_in_log(&ben).await;
    assert_eq!(replayed, written, "every event, once, in order");
}

#[tokio::test]
async fn a_session_may_have_ten_streams_open_and_the_eleventh_is_refused_with_429() {
    let room = Room::knocking_long_grace().await;
    let (ana, _ana_events) = room.owner_in_call("Ana").await;
    let mut streams = Vec::new();
    // Ana's first stream is open already.
    for _ in 1..10 {
        streams.push(ana.events().await);
    }
    let url = format!("{}/api/events/{}", ana.base_url, ana.room);
    let response = ana.client.get(&url).send().await.expect("request");
    let status = response.status();
    assert_eq!(status, 429, "the eleventh stream of a session");
    let body: Value = response.json().await.expect("a JSON answer");
    assert_error(status, &body, 429, "rate-limit-error");

    // Another session is not concerned.
    let (_mia, _mia_events) = room.member_in_call("Mia").await;

    // Once one closes, another may open.
    streams.pop();
    let deadline = std::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let response = ana.client.get(&url).send().await.expect("request");
        if response.status() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a closed stream frees its place: {}",
            response.status()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Reads from `socket` until `done` says the bytes read so far are enough, or `limit` passes;
/// what was read.
async fn read_until(
    socket: &mut tokio::net::TcpStream,
    limit: std::time::Duration,
    done: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + limit;
    let mut read = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    while !done(&read) {
        match tokio::time::timeout_at(deadline, socket.read(&mut buffer)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(count)) => read.extend_from_slice(&buffer[..count]),
            Ok(Err(error)) => panic!("reading the stream: {error}"),
        }
    }
    read
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_stops_reading_is_ended_and_its_client_replays_everything() {
    use tokio::io::AsyncWriteExt;
    let room = Room::knocking_long_grace().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let mut senders = vec![ana];
    let mut streams = Vec::new();
    for n in 0..11 {
        let (sender, events) = room.member_in_call(&format!("Sender {n}")).await;
        senders.push(sender);
        streams.push(events);
    }
    let (leo, _leo_events) = room.member_in_call("Leo").await;
    let (ben, secret) = room
        .with_token_keeping_secret(&room.name, json!({"user_name": "Ben"}))
        .await;
    let (status, state) = ben.join("Ben").await;
    assert_eq!(status, 200, "Ben joins: {state}");
    drain(&mut ana_events).await;
    let ben_id = ben.session_id().await;

    // Ben's stream, over a socket with a small receive buffer that is never read.
    let address: std::net::SocketAddr = room
        .app
        .base_url
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stream = socket.connect(address).await.expect("connect");
    let request = format!(
        "GET /api/events/{room} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\
         Cookie: knock-{room}={secret}\r\n\r\n",
        room = room.name
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let head = read_until(&mut stream, EVENT_TIMEOUT, |read| {
        read.windows(4).any(|end| end == b"\r\n\r\n")
    })
    .await;
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    // Signaling for Ben until the budgets run out: 6 MB, more than the socket holds.
    let mut sent = Vec::new();
    for sender in &senders {
        loop {
            let messages = vec![offer(30 * 1024)];
            let (status, body) = signal(sender, &ben_id, &messages).await;
            if status == 429 {
                break;
            }
            assert_eq!(status, 200, "{body}");
            sent.push(());
        }
    }
    // Then the room goes on without Ben: 700 camera switches of Leo's.
    for n in 0..700 {
        let video = if n % 2 == 0 { "true" } else { "false" };
        let (status, body) = leo
            .call("update_media", &[("video", video), ("audio", "false")])
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // Two checks of the watchdog, and a little more.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;

    // Ben reads again: what was on its way, then the end of the stream (the last chunk).
    let rest = read_until(&mut stream, std::time::Duration::from_secs(20), |read| {
        read.ends_with(b"\r\n0\r\n\r\n")
    })
    .await;
    assert!(
        rest.ends_with(b"\r\n0\r\n\r\n"),
        "the stream was not ended: {} bytes read, ending {:?}",
        rest.len(),
        String::from_utf8_lossy(&rest[rest.len().saturating_sub(200)..])
    );
    let delivered = String::from_utf8_lossy(&rest)
        .matches("event: signal")
        .count();
    println!(
        "{} signals for Ben, {delivered} delivered before the stream ended",
        sent.len()
    );
    assert!(
        delivered < sent.len(),
        "the stream ended before the flood was through"
    );

    // Reconnecting from the last event it got, Ben's browser replays the rest.
    let replayed = signals_in_log(&ben).await;
    assert_eq!(replayed.len(), sent.len(), "every signal is in Ben's log");
}
