//! The SFU behind the lobby, against a real Janus (`scripts/with-janus.sh` starts one and names
//! it in `KNOCK_JANUS_URL` and `KNOCK_JANUS_API_SECRET`; `make test` runs these tests under it):
//! a participant's offer to the peer `sfu` binds the room to a Janus room with a pin, a secret
//! and the room's size, joins it as a publisher and brings Janus's answer back on the
//! participant's own stream; whoever leaves the call (leaving, `Remove`, `Send to the lobby`,
//! ejection, a revoked token) leaves the Janus room and loses their Janus session within 2 s, and
//! a deleted or emptied room's Janus room is destroyed. Janus refuses requests without its API
//! secret, and nobody outside the call reaches it through Knock.

use std::time::{Duration, Instant};

use app::ssr::config::{Config, JanusServer, Secret};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Database, EVENT_TIMEOUT, EventStream, Person, QUIET, Room, TestApp, assert_error, send,
};

/// How soon the lobby promises that someone out of the call is out of the SFU.
const WITHIN: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------------------
// Janus, as the tests talk to it directly.
// ---------------------------------------------------------------------------------------------

/// The test's own client of the Janus that `scripts/with-janus.sh` started.
struct Janus {
    url: String,
    secret: String,
    http: reqwest::Client,
}

impl Janus {
    fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| panic!("{name} names the test Janus (scripts/with-janus.sh)"))
        };
        Self {
            url: var("KNOCK_JANUS_URL"),
            secret: var("KNOCK_JANUS_API_SECRET"),
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `body` to `path` as it is (no secret added); Janus's answer.
    async fn raw(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("Janus answers")
            .json()
            .await
            .expect("Janus answers JSON")
    }

    /// POSTs `body` to `path` with a transaction and the API secret.
    async fn post(&self, path: &str, mut body: Value) -> Value {
        body["transaction"] = json!(uuid::Uuid::new_v4().to_string());
        body["apisecret"] = json!(self.secret);
        self.raw(path, body).await
    }

    /// A new session with a VideoRoom handle: `/<session>/<handle>`.
    async fn handle(&self) -> String {
        let session = self.post("", json!({"janus": "create"})).await;
        let session = session["data"]["id"].as_i64().expect("a session id");
        let handle = self
            .post(
                &format!("/{session}"),
                json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
            )
            .await;
        let handle = handle["data"]["id"].as_i64().expect("a handle id");
        format!("/{session}/{handle}")
    }

    /// A synchronous VideoRoom request on a fresh handle: the plugin's data.
    async fn videoroom(&self, body: Value) -> Value {
        let handle = self.handle().await;
        let answer = self
            .post(&handle, json!({"janus": "message", "body": body}))
            .await;
        let session = handle.rsplit_once('/').expect("a handle path").0;
        self.post(session, json!({"janus": "destroy"})).await;
        answer["plugindata"]["data"].clone()
    }

    /// The room `room` as Janus lists it, if it exists.
    async fn room(&self, room: &Value) -> Option<Value> {
        let list = self.videoroom(json!({"request": "list"})).await;
        list["list"]
            .as_array()
            .expect("a room list")
            .iter()
            .find(|listed| listed["room"] == *room)
            .cloned()
    }

    /// Who is in `room` (their names there: Knock session ids); `None` when it does not exist.
    async fn participants(&self, room: &Value) -> Option<Vec<String>> {
        let data = self
            .videoroom(json!({"request": "listparticipants", "room": room}))
            .await;
        let list = data["participants"].as_array()?;
        let mut names: Vec<String> = list
            .iter()
            .map(|p| p["display"].as_str().expect("a display name").to_owned())
            .collect();
        names.sort();
        Some(names)
    }

    /// Whether the Janus session `session` exists (a keepalive is answered, not refused).
    async fn session_exists(&self, session: i64) -> bool {
        let answer = self
            .post(&format!("/{session}"), json!({"janus": "keepalive"}))
            .await;
        match answer["janus"].as_str() {
            Some("ack") => true,
            Some("error") => {
                assert_eq!(answer["error"]["code"], 458, "no such session: {answer}");
                false
            }
            _ => panic!("a keepalive's answer: {answer}"),
        }
    }
}

/// Points a test server at the test Janus (and shows the server's warnings, should it fail).
fn with_janus(config: &mut Config) {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_test_writer()
        .try_init();
    let janus = Janus::from_env();
    config.janus = Some(JanusServer::parse(&janus.url, Secret::new(janus.secret)).expect("valid"));
}

// ---------------------------------------------------------------------------------------------
// What Knock stored.
// ---------------------------------------------------------------------------------------------

/// A room's binding as stored: the Janus room id, pin, secret and publishers.
#[derive(Debug)]
struct Binding {
    sfu_room: Value,
    pin: String,
    secret: String,
    max_publishers: i64,
}

/// The strings one row of `query` holds (every column a string or a number, as text).
async fn row(app: &TestApp, query: &str) -> Option<Vec<String>> {
    match Database::open_read_only(&app.database_url).await {
        Database::Sqlite(mut connection) => sqlx::query(query)
            .fetch_optional(&mut connection)
            .await
            .expect(query)
            .map(strings),
        Database::Postgres(mut connection) => sqlx::query(query)
            .fetch_optional(&mut connection)
            .await
            .expect(query)
            .map(strings),
    }
}

/// Every column of `row` as text: a string as it is, a number written out.
fn strings<R: sqlx::Row>(row: R) -> Vec<String>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            row.try_get::<String, _>(i)
                .unwrap_or_else(|_| row.get::<i64, _>(i).to_string())
        })
        .collect()
}

async fn stored_binding(app: &TestApp, room: &str) -> Option<Binding> {
    let row = row(
        app,
        &format!(
            "SELECT sfu_room, pin, secret, max_publishers FROM sfu_rooms WHERE room = '{room}'"
        ),
    )
    .await?;
    Some(Binding {
        sfu_room: serde_json::from_str(&row[0]).expect("a JSON room id"),
        pin: row[1].clone(),
        secret: row[2].clone(),
        max_publishers: row[3].parse().expect("a number"),
    })
}

/// The Janus session of a participant, as stored.
async fn janus_session(app: &TestApp, session_id: &str) -> Option<i64> {
    let row = row(
        app,
        &format!("SELECT sfu_session FROM sfu_participants WHERE session_id = '{session_id}'"),
    )
    .await?;
    Some(row[0].parse().expect("a number"))
}

// ---------------------------------------------------------------------------------------------
// Signaling through Knock.
// ---------------------------------------------------------------------------------------------

/// A WebRTC offer shaped like a browser's (audio and video to send, DTLS fingerprint, ICE
/// credentials), which Janus accepts and answers; its ICE never connects, which these tests
/// do not need.
fn offer_sdp() -> String {
    let fingerprint = vec!["5A"; 32].join(":");
    let mut lines = vec![
        "v=0".to_owned(),
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1".into(),
        "s=-".into(),
        "t=0 0".into(),
        "a=group:BUNDLE 0 1".into(),
        "a=msid-semantic: WMS knock".into(),
    ];
    for (mid, kind, payload, codec, ssrc) in [
        (0, "audio", 111, "opus/48000/2", 1001),
        (1, "video", 96, "VP8/90000", 2001),
    ] {
        lines.extend([
            format!("m={kind} 9 UDP/TLS/RTP/SAVPF {payload}"),
            "c=IN IP4 0.0.0.0".into(),
            "a=rtcp:9 IN IP4 0.0.0.0".into(),
            "a=ice-ufrag:kn0c".into(),
            "a=ice-pwd:knockknockknockknock123".into(),
            "a=ice-options:trickle".into(),
            format!("a=fingerprint:sha-256 {fingerprint}"),
            "a=setup:actpass".into(),
            format!("a=mid:{mid}"),
            "a=sendonly".into(),
            format!("a=msid:knock {kind}0"),
            "a=rtcp-mux".into(),
            format!("a=rtpmap:{payload} {codec}"),
            format!("a=ssrc:{ssrc} cname:knock"),
        ]);
    }
    lines.join("\r\n") + "\r\n"
}

/// `POST /api/signal` from `from` to the SFU with `messages`.
async fn signal_sfu(from: &Person, messages: Value) -> (StatusCode, Value) {
    send(
        from.client
            .post(format!("{}/api/signal", from.base_url))
            .json(&json!({"room": from.room, "to": "sfu", "messages": messages})),
    )
    .await
}

/// `person` offers to publish through the SFU; Janus's answer, as it arrives on their stream.
async fn publish(person: &Person, events: &mut EventStream) -> String {
    let offer = json!([{"description": {"type": "offer", "sdp": offer_sdp()}}]);
    let (status, body) = signal_sfu(person, offer).await;
    assert_eq!(status, 200, "the offer is relayed: {body}");
    let candidate = json!([{"candidate": {
        "candidate": "candidate:1 1 udp 2122260223 192.0.2.9 50000 typ host",
        "sdpMid": "0", "sdpMLineIndex": 0}}]);
    let (status, body) = signal_sfu(person, candidate).await;
    assert_eq!(status, 200, "a candidate is relayed: {body}");
    let signal = events
        .events_until("signal", EVENT_TIMEOUT)
        .await
        .pop()
        .expect("a signal");
    assert_eq!(signal.data["from"], "sfu", "{:?}", signal.data);
    let messages = signal.data["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["description"]["type"], "answer");
    messages[0]["description"]["sdp"]
        .as_str()
        .expect("an SDP")
        .to_owned()
}

/// Waits up to [`WITHIN`] for `check` to hold; how long it took, or a panic saying `what`.
async fn within_two_seconds<F: Future<Output = bool>>(
    what: &str,
    check: impl Fn() -> F,
) -> Duration {
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < WITHIN,
            "{what}: still not so after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A room with Janus whose calls are on the SFU from the first person, the owner Ana publishing
/// through it, and the stored binding.
async fn ana_on_the_sfu() -> (Room, Person, EventStream, Binding) {
    let room = room_switching_over_at(with_janus, 0.5).await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    publish(&ana, &mut ana_events).await;
    let binding = stored_binding(&room.app, &room.name)
        .await
        .expect("a binding");
    (room, ana, ana_events, binding)
}

/// `person` (in the call) publishing too; their session id and Janus session.
async fn also_publishing(room: &Room, person: &Person, events: &mut EventStream) -> (String, i64) {
    publish(person, events).await;
    let id = person.session_id().await;
    let session = janus_session(&room.app, &id)
        .await
        .expect("a Janus session");
    (id, session)
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn janus_refuses_a_request_without_its_api_secret() {
    let janus = Janus::from_env();
    for body in [
        json!({"janus": "create", "transaction": "t"}),
        json!({"janus": "create", "transaction": "t", "apisecret": "not-the-secret"}),
    ] {
        let answer = janus.raw("", body.clone()).await;
        assert_eq!(answer["janus"], "error", "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], 403, "{body} -> {answer}");
    }
    let answer = janus.post("", json!({"janus": "create"})).await;
    assert_eq!(answer["janus"], "success", "with the secret: {answer}");
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn an_offer_through_knock_joins_a_janus_room_with_a_pin_a_secret_and_the_rooms_size() {
    let room = Room::knocking_with(with_janus).await;
    room.api
        .post(
            &format!("/v1/rooms/{}", room.name),
            json!({"properties": {"max_participants": 7}}),
        )
        .await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    assert!(
        stored_binding(&room.app, &room.name).await.is_none(),
        "a mesh until the SFU is used"
    );

    let answer = publish(&ana, &mut ana_events).await;
    assert!(
        answer.contains("a=recvonly"),
        "Janus receives what Ana sends: {answer}"
    );
    assert!(
        answer.contains("typ host"),
        "with Janus's own candidates: {answer}"
    );

    let binding = stored_binding(&room.app, &room.name)
        .await
        .expect("a binding");
    assert_eq!(binding.max_publishers, 7, "publishers = max_participants");
    let listed = Janus::from_env()
        .room(&binding.sfu_room)
        .await
        .expect("the room exists on Janus");
    assert_eq!(listed["max_publishers"], 7, "{listed}");
    assert_eq!(listed["pin_required"], true, "{listed}");
    let ana_id = ana.session_id().await;
    let janus = Janus::from_env();
    assert_eq!(
        janus.participants(&binding.sfu_room).await,
        Some(vec![ana_id.clone()]),
        "exactly the people in the call, no participant of Knock's own"
    );

    // Even holding Janus's API secret, nobody joins without the pin or edits without the secret.
    let handle = janus.handle().await;
    janus
        .post(
            &handle,
            json!({"janus": "message", "body": {"request": "join", "ptype": "publisher",
                "room": binding.sfu_room, "pin": "not-the-pin"}}),
        )
        .await;
    let session = handle[1..].split_once('/').expect("a handle path").0;
    let events: Value = janus
        .http
        .get(format!("{}/{session}", janus.url))
        .query(&[("apisecret", janus.secret.as_str()), ("maxev", "5")])
        .send()
        .await
        .expect("a long poll")
        .json()
        .await
        .expect("JSON");
    assert!(
        events.to_string().contains("\"error_code\":433"),
        "a wrong pin is refused: {events}"
    );
    let refused = janus
        .videoroom(json!({"request": "destroy", "room": binding.sfu_room, "secret": "wrong"}))
        .await;
    assert_eq!(
        refused["error_code"], 433,
        "a wrong secret is refused: {refused}"
    );
    assert!(janus.room(&binding.sfu_room).await.is_some(), "still there");

    // The browser never sees the pin or the secret.
    let (status, page) = ana.call("load_room", &[]).await;
    assert_eq!(status, 200);
    let seen = format!("{page} {answer}");
    assert!(!seen.contains(&binding.pin) && !seen.contains(&binding.secret));
    assert_ne!(binding.pin, binding.secret);
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn nobody_outside_the_call_reaches_janus_through_knock() {
    let room = Room::knocking_with(with_janus).await;
    let (_ana, _ana_events) = room.owner_in_call("Ana").await;
    let (ben, _ben_events) = room.knocker("Ben").await;
    let offer = json!([{"description": {"type": "offer", "sdp": offer_sdp()}}]);
    let (status, body) = signal_sfu(&ben, offer.clone()).await;
    assert_error(status, &body, 403, "forbidden-error");
    let guest = room.guest().await;
    let (status, body) = signal_sfu(&guest, offer).await;
    assert_error(status, &body, 403, "forbidden-error");
    assert!(
        stored_binding(&room.app, &room.name).await.is_none(),
        "no Janus room"
    );
    let ben_id = ben.session_id().await;
    assert!(
        janus_session(&room.app, &ben_id).await.is_none(),
        "no Janus session"
    );
}

#[tokio::test]
async fn without_janus_the_sfu_is_refused_and_the_call_stays_a_mesh() {
    let room = Room::knocking().await;
    let (ana, _ana_events) = room.owner_in_call("Ana").await;
    let offer = json!([{"description": {"type": "offer", "sdp": offer_sdp()}}]);
    let (status, body) = signal_sfu(&ana, offer).await;
    assert_error(status, &body, 403, "forbidden-error");
    assert!(body.to_string().contains("mesh"), "{body}");
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn a_removed_participant_leaves_the_janus_room_within_two_seconds() {
    let (room, ana, _ana_events, binding) = ana_on_the_sfu().await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    let (leo_id, leo_janus) = also_publishing(&room, &leo, &mut leo_events).await;
    let janus = Janus::from_env();
    let ana_id = ana.session_id().await;
    let mut both = vec![ana_id.clone(), leo_id.clone()];
    both.sort();
    assert_eq!(janus.participants(&binding.sfu_room).await, Some(both));

    let (status, body) = ana
        .call(
            "remove_participant",
            &[("id", leo_id.as_str()), ("ban", "false")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let took = within_two_seconds("Leo is out of the Janus room", || async {
        janus.participants(&binding.sfu_room).await == Some(vec![ana_id.clone()])
    })
    .await;
    within_two_seconds("Leo's Janus session is destroyed", || async {
        !janus.session_exists(leo_janus).await
    })
    .await;
    eprintln!("removed from Janus after {took:?}");
    assert!(janus_session(&room.app, &leo_id).await.is_none());
    let offer = json!([{"description": {"type": "offer", "sdp": offer_sdp()}}]);
    let (status, body) = signal_sfu(&leo, offer).await;
    assert_error(status, &body, 403, "forbidden-error");
}

/// The ways out of a call that must take someone out of the SFU too: leaving, an admin's `Send
/// to the lobby`, `POST /v1/rooms/:name/eject`, and the meeting token deleted.
#[derive(Clone, Copy, Debug)]
enum Exit {
    Leaving,
    SentToTheLobby,
    Ejected,
    Revoked,
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn leaving_sent_to_the_lobby_ejected_or_revoked_all_leave_janus_within_two_seconds() {
    let (room, ana, _ana_events, binding) = ana_on_the_sfu().await;
    let janus = Janus::from_env();
    let ana_id = ana.session_id().await;
    let (tia, token) = room.with_token(json!({"user_name": "Tia"})).await;
    let mut tia_events = tia.enter("Tia").await;
    let mut cases = Vec::new();
    for (exit, name) in [
        (Exit::Leaving, "Leo"),
        (Exit::SentToTheLobby, "Mia"),
        (Exit::Ejected, "Ned"),
    ] {
        let (person, mut events) = room.member_in_call(name).await;
        let (id, janus_session) = also_publishing(&room, &person, &mut events).await;
        cases.push((exit, person, id, janus_session, events));
    }
    let (tia_id, tia_janus) = also_publishing(&room, &tia, &mut tia_events).await;
    cases.push((Exit::Revoked, tia, tia_id, tia_janus, tia_events));
    assert_eq!(
        janus.participants(&binding.sfu_room).await.map(|p| p.len()),
        Some(5)
    );

    for (exit, person, id, session, _events) in &cases {
        let (status, body) = match exit {
            Exit::Leaving => person.leave().await,
            Exit::SentToTheLobby => ana.call("send_to_lobby", &[("id", id.as_str())]).await,
            Exit::Ejected => {
                room.api
                    .call(
                        Method::POST,
                        &format!("/v1/rooms/{}/eject", room.name),
                        Some(json!({"ids": [id]})),
                    )
                    .await
            }
            Exit::Revoked => {
                room.api
                    .call(Method::DELETE, &format!("/v1/meeting-tokens/{token}"), None)
                    .await
            }
        };
        assert_eq!(status, 200, "{exit:?}: {body}");
        within_two_seconds(&format!("{exit:?}: {id} is out of Janus"), || async {
            let listed = janus
                .participants(&binding.sfu_room)
                .await
                .unwrap_or_default();
            !listed.contains(id) && !janus.session_exists(*session).await
        })
        .await;
    }

    assert_eq!(
        janus.participants(&binding.sfu_room).await,
        Some(vec![ana_id])
    );
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn a_deleted_room_and_an_emptied_call_lose_their_janus_room_within_two_seconds() {
    let (room, ana, _ana_events, binding) = ana_on_the_sfu().await;
    let janus = Janus::from_env();
    let ana_janus = janus_session(&room.app, &ana.session_id().await)
        .await
        .expect("a Janus session");
    let (status, body) = room
        .api
        .call(Method::DELETE, &format!("/v1/rooms/{}", room.name), None)
        .await;
    assert_eq!(status, 200, "{body}");
    within_two_seconds("the deleted room's Janus room is destroyed", || async {
        janus.participants(&binding.sfu_room).await.is_none()
            && !janus.session_exists(ana_janus).await
    })
    .await;
    assert!(stored_binding(&room.app, &room.name).await.is_none());

    // A call that empties loses its Janus room; the next one gets a new one.
    let (room, ana, mut ana_events, first) = ana_on_the_sfu().await;
    let (status, body) = ana.leave().await;
    assert_eq!(status, 200, "{body}");
    within_two_seconds("the emptied call's Janus room is destroyed", || async {
        janus.participants(&first.sfu_room).await.is_none()
    })
    .await;
    let (status, body) = ana.join("Ana").await;
    assert_eq!(status, 200, "{body}");
    publish(&ana, &mut ana_events).await;
    let second = stored_binding(&room.app, &room.name)
        .await
        .expect("a new binding");
    assert_ne!(second.sfu_room, first.sfu_room);
    assert_ne!(second.pin, first.pin);
    assert_eq!(
        janus.participants(&second.sfu_room).await,
        Some(vec![ana.session_id().await])
    );
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn coming_back_at_once_gets_a_new_janus_session_and_the_old_one_is_destroyed() {
    let (room, _ana, _ana_events, binding) = ana_on_the_sfu().await;
    let janus = Janus::from_env();
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    let (leo_id, first) = also_publishing(&room, &leo, &mut leo_events).await;
    let (status, body) = leo.leave().await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = leo.join("Leo").await;
    assert_eq!(status, 200, "{body}");
    publish(&leo, &mut leo_events).await;
    let second = janus_session(&room.app, &leo_id)
        .await
        .expect("a Janus session");
    assert_ne!(second, first, "a new stay, a new Janus session");
    within_two_seconds("the first stay's Janus session is destroyed", || async {
        !janus.session_exists(first).await
    })
    .await;
    assert!(janus.session_exists(second).await);
    let listed = janus
        .participants(&binding.sfu_room)
        .await
        .expect("the room");
    assert_eq!(
        listed.iter().filter(|name| **name == leo_id).count(),
        1,
        "Leo is in the Janus room once: {listed:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The topology: who is told the call moved to the SFU or back.
// ---------------------------------------------------------------------------------------------

/// The next `network-connection` event on `events`: its `type` and `version`.
async fn told(events: &mut EventStream) -> (String, i64) {
    let event = events
        .events_until("network-connection", EVENT_TIMEOUT)
        .await
        .pop()
        .expect("a network-connection event");
    assert_eq!(event.data["event"], "connected", "{}", event.data);
    (
        event.data["type"].as_str().expect("a type").to_owned(),
        event.data["version"].as_i64().expect("a version"),
    )
}

/// No `network-connection` event among what `events` receives within [`QUIET`].
async fn told_nothing(events: &mut EventStream) {
    while let Some(event) = events.next_event(QUIET).await {
        assert_ne!(event.name, "network-connection", "{}", event.data);
    }
}

/// `getNetworkTopology()` as `person` asks it: `(topology, version)`.
async fn topology_of(person: &Person) -> (String, i64) {
    let (status, body) = person.call("network_topology", &[]).await;
    assert_eq!(status, 200, "{body}");
    (
        body["topology"].as_str().expect("a topology").to_owned(),
        body["version"].as_i64().expect("a version"),
    )
}

/// A room with `sfu_switchover` set to `switchover`.
async fn room_switching_over_at(adjust: impl FnOnce(&mut Config), switchover: f64) -> Room {
    let room = Room::knocking_with(adjust).await;
    room.api
        .post(
            &format!("/v1/rooms/{}", room.name),
            json!({"properties": {"sfu_switchover": switchover}}),
        )
        .await;
    room
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn the_third_one_in_moves_the_call_to_the_sfu_for_everyone_and_leaving_moves_it_back() {
    let room = room_switching_over_at(with_janus, 2.0).await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    let (ben, mut ben_events) = room.knocker("Ben").await;
    assert_eq!(topology_of(&ana).await, ("peer".into(), 0), "two: a mesh");
    told_nothing(&mut ana_events).await;

    let (cy, mut cy_events) = room.member_in_call("Cy").await;
    for events in [&mut ana_events, &mut leo_events, &mut cy_events] {
        assert_eq!(told(events).await, ("sfu".into(), 1), "three: the SFU");
    }
    assert_eq!(topology_of(&cy).await, ("sfu".into(), 1));
    assert_eq!(topology_of(&leo).await, ("sfu".into(), 1));

    let (status, body) = cy.leave().await;
    assert_eq!(status, 200, "{body}");
    for events in [&mut ana_events, &mut leo_events] {
        assert_eq!(told(events).await, ("peer-to-peer".into(), 2), "two again");
    }
    assert_eq!(topology_of(&ana).await, ("peer".into(), 2));
    told_nothing(&mut cy_events).await;

    // The lobby never hears how the call's media flows.
    told_nothing(&mut ben_events).await;
    assert_eq!(topology_of(&ben).await, ("none".into(), 0));
    assert_eq!(topology_of(&cy).await, ("none".into(), 0), "left: none");
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn a_new_sfu_switchover_moves_a_call_under_way_at_once() {
    let room = room_switching_over_at(with_janus, 4.0).await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (_leo, mut leo_events) = room.member_in_call("Leo").await;
    assert_eq!(
        topology_of(&ana).await,
        ("peer".into(), 0),
        "two of four: a mesh"
    );

    room.api
        .post(
            &format!("/v1/rooms/{}", room.name),
            json!({"properties": {"sfu_switchover": 1}}),
        )
        .await;
    for events in [&mut ana_events, &mut leo_events] {
        assert_eq!(told(events).await, ("sfu".into(), 1), "two of one: the SFU");
    }

    room.api
        .post(
            &format!("/v1/rooms/{}", room.name),
            json!({"properties": {"sfu_switchover": null}}),
        )
        .await;
    for events in [&mut ana_events, &mut leo_events] {
        assert_eq!(
            told(events).await,
            ("peer-to-peer".into(), 2),
            "the default: a mesh"
        );
    }
}

#[tokio::test]
async fn without_janus_every_call_is_a_mesh_whatever_its_sfu_switchover() {
    let room = room_switching_over_at(|_| {}, 0.5).await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    let (_cy, mut cy_events) = room.member_in_call("Cy").await;
    for events in [&mut ana_events, &mut leo_events, &mut cy_events] {
        told_nothing(events).await;
    }
    assert_eq!(topology_of(&ana).await, ("peer".into(), 0));
    assert_eq!(topology_of(&leo).await, ("peer".into(), 0));
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn with_a_switchover_below_one_the_first_one_in_is_on_the_sfu() {
    let room = room_switching_over_at(with_janus, 0.5).await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    assert_eq!(told(&mut ana_events).await, ("sfu".into(), 1));
    assert_eq!(topology_of(&ana).await, ("sfu".into(), 1));
}

#[tokio::test]
#[ignore = "needs Janus: make test runs it"]
async fn a_call_back_to_a_mesh_leaves_janus_within_two_seconds() {
    let room = room_switching_over_at(with_janus, 2.0).await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (leo, mut leo_events) = room.member_in_call("Leo").await;
    let (cy, mut cy_events) = room.member_in_call("Cy").await;
    for events in [&mut ana_events, &mut leo_events, &mut cy_events] {
        assert_eq!(told(events).await, ("sfu".into(), 1), "three: the SFU");
    }
    let (_, ana_janus) = also_publishing(&room, &ana, &mut ana_events).await;
    let (_, leo_janus) = also_publishing(&room, &leo, &mut leo_events).await;
    let binding = stored_binding(&room.app, &room.name)
        .await
        .expect("a binding");
    let janus = Janus::from_env();
    assert_eq!(
        janus.participants(&binding.sfu_room).await.map(|p| p.len()),
        Some(2)
    );

    let (status, body) = cy.leave().await;
    assert_eq!(status, 200, "{body}");
    for events in [&mut ana_events, &mut leo_events] {
        assert_eq!(told(events).await, ("peer-to-peer".into(), 2), "two again");
    }
    let took = within_two_seconds("the mesh's people are out of Janus", || async {
        !janus.session_exists(ana_janus).await && !janus.session_exists(leo_janus).await
    })
    .await;
    eprintln!("out of Janus after {took:?}");
    assert!(
        janus_session(&room.app, &ana.session_id().await)
            .await
            .is_none()
    );
    assert!(
        janus_session(&room.app, &leo.session_id().await)
            .await
            .is_none()
    );
}
