//! Webhooks: a receiver inside the test (a small axum server on port 0) gets the call's and the
//! lobby's events signed, in order per room, with Daily's payloads; a failing receiver gets
//! the retries (then `FAILED`, or the delivery given up), a re-activated one the backlog in
//! order; and a crash of the real binary in the middle of deliveries loses none.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    API_KEY, Api, Database, EVENT_TIMEOUT, Person, Room, Server, assert_error, client, send,
};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    raw: String,
    body: Value,
    signature: String,
    timestamp: String,
    authorization: Option<String>,
}

#[derive(Clone, Default)]
struct Behaviour {
    /// The status answered; 0: never answer.
    status: Arc<AtomicU16>,
    /// Answer 500 to events of this type (whatever `status` says).
    failing_type: Arc<Mutex<Option<String>>>,
    /// Wait this long (milliseconds) before answering.
    delay: Arc<AtomicU64>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A webhook receiver on port 0.
struct Receiver {
    url: String,
    behaviour: Behaviour,
}

async fn receive(
    State(behaviour): State<Behaviour>,
    headers: HeaderMap,
    raw: String,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let kind = body["type"].as_str().map(str::to_owned);
    behaviour.received.lock().expect("lock").push(Received {
        raw,
        body,
        signature: header("x-webhook-signature").unwrap_or_default(),
        timestamp: header("x-webhook-timestamp").unwrap_or_default(),
        authorization: header("authorization"),
    });
    let status = behaviour.status.load(Ordering::SeqCst);
    if status == 0 {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_millis(
        behaviour.delay.load(Ordering::SeqCst),
    ))
    .await;
    let failing = behaviour.failing_type.lock().expect("lock").clone();
    if failing.is_some() && failing == kind {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl Receiver {
    async fn start() -> Self {
        let behaviour = Behaviour::default();
        behaviour.status.store(200, Ordering::SeqCst);
        let router = Router::new()
            .route("/hooks", post(receive))
            .with_state(behaviour.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("free port");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url: format!("http://{addr}/hooks"),
            behaviour,
        }
    }

    fn answer(&self, status: u16) {
        self.behaviour.status.store(status, Ordering::SeqCst);
    }

    fn all(&self) -> Vec<Received> {
        self.behaviour.received.lock().expect("lock").clone()
    }

    /// The events received (not the test POSTs), in arrival order.
    fn events(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|received| received.body.get("type").is_some())
            .collect()
    }

    /// Waits until `done` holds for the events received; they, then.
    async fn until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "{what} within 20 s; got {:#?}",
                types(&events)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn types(events: &[Received]) -> Vec<String> {
    events
        .iter()
        .map(|event| event.body["type"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// The first arrival of each event id, in arrival order (duplicates are allowed).
fn distinct(events: &[Received]) -> Vec<Received> {
    let mut seen = std::collections::HashSet::new();
    events
        .iter()
        .filter(|event| seen.insert(event.body["id"].as_str().unwrap_or_default().to_owned()))
        .cloned()
        .collect()
}

/// Checks `received`'s signature the way a receiver would: HMAC-SHA256 (here computed by
/// jsonwebtoken's HS256, not Knock's code) over `<timestamp>.<raw body>` with the decoded
/// secret, in base64.
fn assert_signed(received: &Received, hmac: &str) {
    let key = STANDARD.decode(hmac).expect("hmac is base64");
    let message = format!("{}.{}", received.timestamp, received.raw);
    let signed = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(&key),
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("sign");
    let expected = STANDARD.encode(URL_SAFE_NO_PAD.decode(signed).expect("base64url"));
    assert_eq!(
        received.signature, expected,
        "signature of {}",
        received.raw
    );
    let timestamp: i64 = received.timestamp.parse().expect("unix seconds");
    let now = crate::helpers::now();
    assert!(
        (now - timestamp).abs() < 60,
        "timestamp {timestamp} vs {now}"
    );
}

async fn create_webhook(api: &Api, body: Value) -> Value {
    let (status, hook) = api.call(Method::POST, "/v1/webhooks", Some(body)).await;
    assert_eq!(status, 200, "{hook}");
    hook
}

fn short_retries(config: &mut app::ssr::config::Config) {
    config.webhook_retry_base = Duration::from_millis(100);
}

#[tokio::test]
async fn a_call_and_its_lobby_reach_the_receiver_signed_in_order_with_dailys_payloads() {
    let room = Room::knocking_long_grace_with(short_retries).await;
    let receiver = Receiver::start().await;
    let hook = create_webhook(
        &room.api,
        json!({"url": receiver.url, "basicAuth": "a25vY2s6aG9va3M="}),
    )
    .await;
    assert_eq!(hook["state"], "ACTIVE", "{hook}");
    assert_eq!(hook["retryType"], "circuit-breaker");
    assert_eq!(hook["eventTypes"], json!([]));
    assert_eq!(hook["failedCount"], 0);
    assert_eq!(hook["domainId"], room.app.domain_id.as_str());
    assert_eq!(hook["lastMomentPushed"], Value::Null);
    let hmac = hook["hmac"].as_str().expect("a generated hmac").to_owned();
    // The test POST came first, signed like everything after it.
    let test = &receiver.all()[0];
    assert_eq!(test.body, json!({"test": "test"}));
    assert_signed(test, &hmac);
    assert_eq!(
        test.authorization.as_deref(),
        Some("Basic a25vY2s6aG9va3M=")
    );

    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let ana_id = ana.session_id().await;
    let (ben, _ben_events, ben_id) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let (status, body) = ana.decide(&ben_id, true).await;
    assert_eq!(status, 200, "{body}");
    ana_events
        .events_until("participant-joined", EVENT_TIMEOUT)
        .await;
    let (status, body) = ben.leave().await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ana.leave().await;
    assert_eq!(status, 200, "{body}");

    let events = receiver
        .until("the meeting's eight events", |events| {
            distinct(events).len() >= 8
        })
        .await;
    let events = distinct(&events);
    assert_eq!(
        types(&events),
        [
            "meeting.started",
            "participant.joined",
            "waiting-participant.joined",
            "waiting-participant.left",
            "participant.joined",
            "participant.left",
            "participant.left",
            "meeting.ended",
        ]
    );
    for event in &events {
        assert_signed(event, &hmac);
        assert_eq!(
            event.authorization.as_deref(),
            Some("Basic a25vY2s6aG9va3M=")
        );
        assert_eq!(event.body["version"], "1.0.0");
        assert!(event.body["event_ts"].is_number(), "{}", event.raw);
        assert_eq!(
            event.body["payload"]["room"],
            room.name.as_str(),
            "{}",
            event.raw
        );
    }
    let payload = |n: usize| &events[n].body["payload"];
    let meeting_id = payload(0)["meeting_id"].as_str().expect("meeting id");
    assert!(payload(0)["start_ts"].is_number());
    assert_eq!(payload(1)["session_id"], ana_id.as_str());
    assert_eq!(payload(1)["user_name"], "Ana");
    assert_eq!(payload(1)["owner"], true);
    assert!(payload(1)["joined_at"].is_number());
    assert_eq!(payload(2)["session_id"], ben_id.as_str());
    assert_eq!(payload(2)["user_name"], "Ben");
    assert_eq!(payload(2)["owner"], false);
    assert_eq!(payload(3)["session_id"], ben_id.as_str());
    assert_eq!(payload(3)["outcome"], "allowed");
    assert_eq!(payload(3)["decided_by"], "Ana");
    assert_eq!(payload(4)["session_id"], ben_id.as_str());
    assert_eq!(payload(5)["session_id"], ben_id.as_str());
    assert!(
        payload(5)["duration"]
            .as_f64()
            .is_some_and(|seconds| seconds >= 0.0)
    );
    assert_eq!(payload(6)["session_id"], ana_id.as_str());
    assert_eq!(payload(7)["meeting_id"], meeting_id);
    assert!(payload(7)["end_ts"].as_f64() >= payload(7)["start_ts"].as_f64());
    // The meeting's id is the one `GET /v1/meetings` lists.
    let meetings = room.api.get("/v1/meetings").await;
    assert_eq!(meetings["data"][0]["id"], meeting_id);

    let uuid = hook["uuid"].as_str().expect("uuid");
    let hook = room.api.get(&format!("/v1/webhooks/{uuid}")).await;
    assert!(hook["lastMomentPushed"].is_string(), "{hook}");
}

#[tokio::test]
async fn a_webhook_gets_only_the_event_types_it_asked_for() {
    let room = Room::knocking_long_grace_with(short_retries).await;
    let lobby = Receiver::start().await;
    let everything = Receiver::start().await;
    create_webhook(
        &room.api,
        json!({"url": lobby.url, "eventTypes": ["waiting-participant.joined", "waiting-participant.left"]}),
    )
    .await;
    create_webhook(
        &room.api,
        json!({"url": everything.url, "retryType": "exponential"}),
    )
    .await;

    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, _ben_events, _) = room.knocker_seen_by("Ben", &mut ana_events).await;
    let (status, body) = ben.cancel().await;
    assert_eq!(status, 200, "{body}");

    let got = lobby
        .until("the knock and its end", |events| {
            distinct(events).len() >= 2
        })
        .await;
    assert_eq!(
        types(&distinct(&got)),
        ["waiting-participant.joined", "waiting-participant.left"]
    );
    assert_eq!(distinct(&got)[1].body["payload"]["outcome"], "withdrawn");
    assert_eq!(distinct(&got)[1].body["payload"]["decided_by"], Value::Null);
    let all = everything
        .until("all four events", |events| distinct(events).len() >= 4)
        .await;
    assert_eq!(
        types(&distinct(&all)),
        [
            "meeting.started",
            "participant.joined",
            "waiting-participant.joined",
            "waiting-participant.left"
        ]
    );
    // The same event has the same id for every webhook.
    assert_eq!(distinct(&got)[0].body["id"], distinct(&all)[2].body["id"]);
}

#[tokio::test]
async fn a_receiver_answering_500_gets_the_retries_then_fails_and_after_reactivation_the_backlog_in_order()
 {
    let room = Room::knocking_long_grace_with(short_retries).await;
    let receiver = Receiver::start().await;
    let hook = create_webhook(&room.api, json!({"url": receiver.url})).await;
    let uuid = hook["uuid"].as_str().expect("uuid").to_owned();
    receiver.answer(500);

    let (_ana, _ana_events) = room.owner_in_call("Ana").await;
    // The first event is tried three times (the same id each time) and nothing after it goes.
    let tried = receiver
        .until("three attempts", |events| events.len() >= 3)
        .await;
    assert_eq!(types(&tried[..3]), ["meeting.started"; 3]);
    assert_eq!(distinct(&tried).len(), 1, "one event, retried");
    let hook = failed(&room.api, &uuid).await;
    assert_eq!(hook["failedCount"], 3, "{hook}");
    // A failed webhook gets nothing more.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver.events().len(),
        3,
        "{:?}",
        types(&receiver.events())
    );

    // Re-activating needs the test POST answered 200.
    let (status, body) = room
        .api
        .call(
            Method::POST,
            &format!("/v1/webhooks/{uuid}"),
            Some(json!({"state": "ACTIVE"})),
        )
        .await;
    assert_error(status, &body, 400, "invalid-request-error");
    assert!(
        body["info"]
            .as_str()
            .is_some_and(|info| info.contains("500")),
        "{body}"
    );
    receiver.answer(200);
    let active = room
        .api
        .post(&format!("/v1/webhooks/{uuid}"), json!({"state": "ACTIVE"}))
        .await;
    assert_eq!(active["state"], "ACTIVE", "{active}");
    assert_eq!(active["failedCount"], 0, "{active}");

    let events = receiver
        .until("the backlog", |events| distinct(events).len() >= 2)
        .await;
    let events = distinct(&events);
    assert_eq!(types(&events), ["meeting.started", "participant.joined"]);
    let hook = room.api.get(&format!("/v1/webhooks/{uuid}")).await;
    assert_eq!(hook["failedCount"], 0, "{hook}");
}

#[tokio::test]
async fn an_exponential_webhook_tries_a_delivery_five_times_then_the_next_one_goes() {
    let room = Room::knocking_long_grace_with(short_retries).await;
    let receiver = Receiver::start().await;
    let hook = create_webhook(
        &room.api,
        json!({"url": receiver.url, "retryType": "exponential"}),
    )
    .await;
    *receiver.behaviour.failing_type.lock().expect("lock") = Some("meeting.started".into());

    let (_ana, _ana_events) = room.owner_in_call("Ana").await;
    let events = receiver
        .until("five tries, then the next event", |events| {
            types(events).contains(&"participant.joined".to_owned())
        })
        .await;
    assert_eq!(
        types(&events),
        [
            "meeting.started",
            "meeting.started",
            "meeting.started",
            "meeting.started",
            "meeting.started",
            "participant.joined"
        ]
    );
    let uuid = hook["uuid"].as_str().expect("uuid");
    let hook = room.api.get(&format!("/v1/webhooks/{uuid}")).await;
    assert_eq!(
        hook["state"], "ACTIVE",
        "exponential never fails the webhook: {hook}"
    );
}

/// Waits until webhook `uuid` is `FAILED`; it, then.
async fn failed(api: &Api, uuid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hook = api.get(&format!("/v1/webhooks/{uuid}")).await;
        if hook["state"] == "FAILED" {
            return hook;
        }
        assert!(Instant::now() < deadline, "FAILED after 3 failures: {hook}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn deliveries_done_with_are_pruned_after_a_day_and_pending_ones_stay() {
    use app::ssr::{db::Db, maintenance::prune_webhook_deliveries_once, time::now_millis};
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let room = Room::knocking_long_grace_with(short_retries).await;
    let answering = Receiver::start().await;
    let failing = Receiver::start().await;
    create_webhook(&room.api, json!({"url": answering.url})).await;
    let hook = create_webhook(&room.api, json!({"url": failing.url})).await;
    failing.answer(500);
    let (_ana, _ana_events) = room.owner_in_call("Ana").await;
    answering
        .until("both events", |events| distinct(events).len() >= 2)
        .await;
    failed(&room.api, hook["uuid"].as_str().expect("uuid")).await;

    let db = Db::connect(&room.app.database_url)
        .await
        .expect("connect to the test server's database");
    let now = now_millis();
    assert_eq!(
        prune_webhook_deliveries_once(&db, now)
            .await
            .expect("prune"),
        0
    );
    // A day on, the two delivered are gone; the failed webhook's two still wait for it.
    let pruned = prune_webhook_deliveries_once(&db, now + 2 * DAY_MS)
        .await
        .expect("prune");
    assert_eq!(pruned, 2);
    let mut database = Database::open_read_only(&room.app.database_url).await;
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
            .await,
        2
    );
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM webhook_deliveries")
            .await,
        2
    );
}

#[tokio::test]
async fn the_dashboard_shows_each_webhooks_last_deliveries_and_reactivates_a_failed_one() {
    let room = Room::knocking_long_grace_with(short_retries).await;
    let receiver = Receiver::start().await;
    let hook = create_webhook(&room.api, json!({"url": receiver.url})).await;
    let uuid = hook["uuid"].as_str().expect("uuid").to_owned();
    let browser = client();
    let (status, body) = send(browser.post(room.app.url("/api/dashboard_webhooks"))).await;
    assert_ne!(status, 200, "{body}");
    assert_eq!(
        body["error"], "authentication-error",
        "not signed in: {body}"
    );
    let signed_in = browser
        .post(room.app.url("/api/dashboard_sign_in"))
        .form(&[("api_key", API_KEY)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 200);

    receiver.answer(500);
    let (_ana, _ana_events) = room.owner_in_call("Ana").await;
    failed(&room.api, &uuid).await;
    let (status, listed) = send(browser.post(room.app.url("/api/dashboard_webhooks"))).await;
    assert_eq!(status, 200, "{listed}");
    let shown = &listed[0];
    assert_eq!(shown["webhook"]["uuid"], uuid.as_str(), "{listed}");
    assert_eq!(shown["webhook"]["state"], "FAILED");
    let deliveries = &shown["deliveries"];
    assert_eq!(
        deliveries[0]["eventType"], "participant.joined",
        "{deliveries}"
    );
    assert_eq!(deliveries[0]["status"], "pending");
    assert_eq!(deliveries[0]["attempts"], 0);
    assert_eq!(deliveries[1]["eventType"], "meeting.started");
    assert_eq!(deliveries[1]["attempts"], 3);
    assert_eq!(deliveries[1]["lastStatus"], 500);

    receiver.answer(200);
    let (status, reactivated) = send(
        browser
            .post(room.app.url("/api/dashboard_reactivate_webhook"))
            .form(&[("uuid", uuid.as_str())]),
    )
    .await;
    assert_eq!(status, 200, "{reactivated}");
    assert_eq!(reactivated["webhook"]["state"], "ACTIVE");
    let events = receiver
        .until("the backlog", |events| distinct(events).len() >= 2)
        .await;
    assert_eq!(
        types(&distinct(&events)),
        ["meeting.started", "participant.joined"]
    );
}

#[tokio::test]
async fn webhooks_are_listed_changed_and_deleted_and_bad_input_names_the_field() {
    let room = Room::knocking().await;
    let api = &room.api;
    let receiver = Receiver::start().await;

    for (body, field) in [
        (json!({}), "url"),
        (json!({"url": "ftp://example.com/hooks"}), "url"),
        (
            json!({"url": receiver.url, "eventTypes": ["recording.started"]}),
            "eventTypes",
        ),
        (
            json!({"url": receiver.url, "retryType": "linear"}),
            "retryType",
        ),
        (json!({"url": receiver.url, "hmac": "not base64!"}), "hmac"),
        (json!({"url": receiver.url, "colour": "red"}), "colour"),
    ] {
        let (status, answer) = api
            .call(Method::POST, "/v1/webhooks", Some(body.clone()))
            .await;
        assert_error(status, &answer, 400, "invalid-request-error");
        assert!(
            answer["info"]
                .as_str()
                .is_some_and(|info| info.contains(field)),
            "{body} → {answer}"
        );
    }
    // A URL that does not answer 200 to the test POST is refused with a sentence.
    receiver.answer(404);
    let (status, answer) = api
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(json!({"url": receiver.url})),
        )
        .await;
    assert_error(status, &answer, 400, "invalid-request-error");
    assert!(
        answer["info"]
            .as_str()
            .is_some_and(|info| info.contains("404")),
        "{answer}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let closed = format!("http://127.0.0.1:{port}/hooks");
    let (status, answer) = api
        .call(Method::POST, "/v1/webhooks", Some(json!({"url": closed})))
        .await;
    assert_error(status, &answer, 400, "invalid-request-error");
    assert_eq!(
        api.get("/v1/webhooks").await,
        json!([]),
        "nothing was saved"
    );

    receiver.answer(200);
    let hmac = STANDARD.encode(b"a secret of our own");
    let hook = create_webhook(
        api,
        json!({"url": receiver.url, "hmac": hmac, "eventTypes": ["meeting.started"]}),
    )
    .await;
    assert_eq!(hook["hmac"], hmac.as_str());
    let uuid = hook["uuid"].as_str().expect("uuid").to_owned();
    assert_eq!(api.get("/v1/webhooks").await, json!([hook]));
    assert_eq!(api.get(&format!("/v1/webhooks/{uuid}")).await, hook);

    let changed = api
        .post(
            &format!("/v1/webhooks/{uuid}"),
            json!({"eventTypes": [], "retryType": "exponential", "basicAuth": "dXNlcjpwdw=="}),
        )
        .await;
    assert_eq!(changed["eventTypes"], json!([]), "{changed}");
    assert_eq!(changed["retryType"], "exponential");
    assert_eq!(changed["basicAuth"], "dXNlcjpwdw==");
    let (status, answer) = api
        .call(
            Method::POST,
            &format!("/v1/webhooks/{uuid}"),
            Some(json!({"state": "FAILED"})),
        )
        .await;
    assert_error(status, &answer, 400, "invalid-request-error");
    assert!(
        answer["info"]
            .as_str()
            .is_some_and(|info| info.contains("state")),
        "{answer}"
    );

    for method in [Method::GET, Method::POST, Method::DELETE] {
        let body = (method == Method::POST).then(|| json!({}));
        let (status, answer) = api
            .call(method.clone(), "/v1/webhooks/no-such-webhook", body)
            .await;
        assert_error(status, &answer, 404, "not-found");
    }
    let deleted = api
        .call(Method::DELETE, &format!("/v1/webhooks/{uuid}"), None)
        .await;
    assert_eq!(deleted.0, 200, "{}", deleted.1);
    assert_eq!(deleted.1["uuid"], uuid.as_str());
    assert_eq!(api.get("/v1/webhooks").await, json!([]));

    // The OpenAPI document covers the routes.
    let document = api.get("/v1/openapi.json").await;
    for (path, methods) in [
        ("/v1/webhooks", &["get", "post"][..]),
        ("/v1/webhooks/{uuid}", &["get", "post", "delete"][..]),
    ] {
        for method in methods {
            assert!(
                document["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
    }
}

#[tokio::test]
async fn a_crash_in_the_middle_of_deliveries_loses_no_event() {
    let receiver = Receiver::start().await;
    // Slow enough that the crash comes while deliveries are in flight and queued.
    receiver.behaviour.delay.store(150, Ordering::SeqCst);
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let mut api = Api::new(&server.base_url, API_KEY);
    create_webhook(&api, json!({"url": receiver.url})).await;
    let room = api.knocking_room("standup").await;
    let token = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let ana = Person::arrive(&server.base_url, &room, Some(&token)).await;
    // Each stay is a meeting of four events.
    const STAYS: usize = 6;
    for _ in 0..STAYS {
        let (status, body) = ana.join("Ana").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = ana.leave().await;
        assert_eq!(status, 200, "{body}");
    }
    receiver
        .until("the first deliveries", |events| !events.is_empty())
        .await;
    server.crash();
    let before = distinct(&receiver.events()).len();
    assert!(
        before < 4 * STAYS,
        "the crash came before everything was sent"
    );

    let server = Server::start(dir.path()).await;
    api.base_url.clone_from(&server.base_url);
    let events = receiver
        .until("every event after the restart", |events| {
            distinct(events).len() >= 4 * STAYS
        })
        .await;
    let events = distinct(&events);
    assert_eq!(events.len(), 4 * STAYS);
    for (n, stay) in events.chunks(4).enumerate() {
        assert_eq!(
            types(stay),
            [
                "meeting.started",
                "participant.joined",
                "participant.left",
                "meeting.ended"
            ],
            "stay {n}"
        );
    }
    drop(server);
}
