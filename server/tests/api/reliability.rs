//! Reliability (issue 7): a crash in the middle of knocks loses no answered knock and leaves
//! none half made; an event stream cut again and again while events pour in misses and repeats
//! nothing; random and malformed REST requests never get a 5xx, and a refused one changes no row
//! of the database. Correctness only: no timing is asserted.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use app::ssr::config::Config;
use futures_util::{StreamExt, future::join_all, stream};
use proptest::{
    prelude::*,
    sample::Index,
    test_runner::{Config as ProptestConfig, TestCaseError, TestRunner},
};
use reqwest::{Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::helpers::{
    API_KEY, Api, Database, EVENT_TIMEOUT, Event, EventStream, Person, QUIET, Server, Snapshot,
    TestApp, client_at, loopback, snapshot_diff, spawn_app_with,
};

/// The participant id and name of a `waiting-participant-*` event.
fn knock_in(event: &Event) -> (String, String) {
    let participant = &event.data["participant"];
    let field = |name: &str| {
        participant[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {event:?}"))
            .to_owned()
    };
    (field("id"), field("name"))
}

/// The names that `events` announce as `waiting-participant-added`, in order.
fn added_names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event.name == "waiting-participant-added")
        .map(|event| knock_in(event).1)
        .collect()
}

/// Every event `events` delivers until it is quiet for [`QUIET`].
async fn all_events(events: &mut EventStream) -> Vec<Event> {
    let mut all = Vec::new();
    while let Some(event) = events.next_event(QUIET).await {
        all.push(event);
    }
    all
}

/// The sorted list of `items`, failing when one appears twice.
#[track_caller]
fn distinct(items: Vec<String>, what: &str) -> BTreeSet<String> {
    let count = items.len();
    let set: BTreeSet<String> = items.iter().cloned().collect();
    assert_eq!(set.len(), count, "{what} holds duplicates: {items:?}");
    set
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL while knocks are in flight.
// ---------------------------------------------------------------------------------------------

/// Guests knocking at once, each from its own loopback address (the knock limit is per client).
const CRASH_GUESTS: usize = 64;
/// The server is killed as soon as this many knocks have been answered.
const ANSWERS_BEFORE_KILL: usize = 8;

fn guest_name(n: usize) -> String {
    format!("Guest {n}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_the_middle_of_knocks_keeps_every_answered_knock_and_none_half_made() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let mut api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("crash").await;
    let owner = |name: &str| json!({"room_name": room, "is_owner": true, "user_name": name});
    let ana_token = api.token(owner("Ana")).await;
    let bea_token = api.token(owner("Bea")).await;
    // A `knocking` token's link starts a session without rendering the page: quicker.
    let knocking = api
        .token(json!({"room_name": room, "knocking": true}))
        .await;

    let mut ana = Person::arrive(&server.base_url, &room, Some(&ana_token)).await;
    let mut ana_events = ana.events().await.named("Ana");
    let (status, state) = ana.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    let mut guests: Vec<Person> = stream::iter(0..CRASH_GUESTS)
        .map(|n| {
            let client = client_at(loopback(10, n));
            Person::arrive_with(client, &server.base_url, &room, Some(&knocking))
        })
        .buffered(8)
        .collect()
        .await;

    // The guests knock one millisecond apart, so that when the kill comes (as soon as the
    // first answers are in) knocks are in every stage: answered, in flight, not yet sent.
    let server = std::sync::Mutex::new(Some(server));
    let answered = AtomicUsize::new(0);
    let answers = join_all(guests.iter().enumerate().map(|(n, guest)| {
        let (answered, server) = (&answered, &server);
        async move {
            let delay = u64::try_from(n).expect("small");
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let name = guest_name(n);
            let answer = guest.try_call("request_access", &[("name", &name)]).await;
            if answer.is_some()
                && answered.fetch_add(1, Ordering::SeqCst) + 1 == ANSWERS_BEFORE_KILL
            {
                let server = server.lock().expect("server").take().expect("killed once");
                server.crash();
            }
            answer
        }
    }))
    .await;
    assert!(
        server.lock().expect("server").is_none(),
        "the server was killed"
    );

    let mut acknowledged = BTreeSet::new();
    for (n, answer) in answers.iter().enumerate() {
        if let Some((status, state)) = answer {
            assert_eq!(*status, 200, "{}: {state}", guest_name(n));
            assert_eq!(state["phase"], "waiting", "{}: {state}", guest_name(n));
            acknowledged.insert(guest_name(n));
        }
    }
    assert!(
        acknowledged.len() >= ANSWERS_BEFORE_KILL,
        "only {} knocks were answered before the kill",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() < CRASH_GUESTS,
        "every knock was answered before the kill: none was in flight, the test proved nothing"
    );
    // What Ana's stream delivered before it ended with the process.
    let mut ana_seen = Vec::new();
    while let Some(event) = ana_events.next_event(EVENT_TIMEOUT).await {
        ana_seen.push(event);
    }
    assert!(ana_events.has_ended(), "Ana's stream ends with the process");

    let server = Server::start(dir.path()).await;
    api.base_url.clone_from(&server.base_url);
    ana.base_url.clone_from(&server.base_url);
    for guest in &mut guests {
        guest.base_url.clone_from(&server.base_url);
    }

    // The lobby after the restart: every answered knock, no knock twice, nobody unknown.
    let lobby = api.waiting(&room).await;
    let entries = lobby["data"].as_array().expect("data is a list");
    assert_eq!(lobby["total_count"], entries.len(), "{lobby}");
    let field = |entry: &Value, name: &str| entry[name].as_str().expect(name).to_owned();
    let waiting = distinct(
        entries.iter().map(|entry| field(entry, "name")).collect(),
        "the lobby's names",
    );
    let waiting_ids = distinct(
        entries.iter().map(|entry| field(entry, "id")).collect(),
        "the lobby's ids",
    );
    let missing: Vec<_> = acknowledged.difference(&waiting).collect();
    assert!(
        missing.is_empty(),
        "answered knocks lost by the crash: {missing:?}"
    );
    eprintln!(
        "{} of {CRASH_GUESTS} knocks answered before the kill; {} waiting after the restart",
        acknowledged.len(),
        waiting.len()
    );
    let attempted: BTreeSet<String> = (0..CRASH_GUESTS).map(guest_name).collect();
    assert!(waiting.is_subset(&attempted), "{waiting:?}");

    // Each guest's own view agrees: waiting with the event that says so, or never knocked
    // (state and event commit together). Their streams stay open: they are present.
    let guest_streams: Vec<EventStream> = join_all(guests.iter().enumerate().map(|(n, guest)| {
        let knocked = waiting.contains(&guest_name(n));
        async move {
            let mut events = guest.events().await.named(&guest_name(n));
            let phase = guest.phase().await;
            if knocked {
                assert_eq!(phase, "waiting", "{}", guest_name(n));
                let access = events
                    .expect_event("access-state-updated", EVENT_TIMEOUT)
                    .await;
                assert_eq!(access.data["access"]["level"], "lobby", "{access:?}");
                assert_eq!(access.data["awaitingAccess"]["level"], "full", "{access:?}");
            } else {
                assert_eq!(phase, "prejoin", "{}: no knock, no phase", guest_name(n));
            }
            events.assert_quiet(QUIET).await;
            events
        }
    }))
    .await;

    // Ana resumes after the last event she saw and gets each remaining knock once; her whole
    // log is her own entry, then exactly the knocks that are waiting, once each.
    let mut resumed = ana.events_after(ana_events.last_id).await.named("Ana");
    ana_seen.extend(all_events(&mut resumed).await);
    let mut log = ana.events().await.named("Ana's log");
    let logged = all_events(&mut log).await;
    let names = |events: &[Event]| {
        events
            .iter()
            .map(|event| {
                let who = event.data["participant"]["name"].as_str().unwrap_or("Ana");
                format!("{} {} {who}", event.id, event.name)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&ana_seen),
        names(&logged),
        "live + resumed (left) = the log (right)"
    );
    assert_eq!(ana_seen, logged, "live + resumed = the log");
    assert_eq!(logged[0].name, "access-state-updated", "{logged:?}");
    assert_eq!(
        distinct(added_names(&logged), "Ana's log of knocks"),
        waiting,
        "knocks in Ana's log (left) and in the lobby (right)"
    );
    assert_eq!(logged.len(), 1 + waiting.len(), "{:?}", names(&logged));

    // Bea joins after the restart and is told about every waiting knock, once.
    let bea = Person::arrive(&server.base_url, &room, Some(&bea_token)).await;
    let mut bea_events = bea.events().await.named("Bea");
    let (status, state) = bea.join("Bea").await;
    assert_eq!(status, 200, "{state}");
    let mut expected = vec!["access-state-updated"];
    expected.extend(std::iter::repeat_n(
        "waiting-participant-added",
        waiting.len(),
    ));
    let got = bea_events
        .expect_events_unordered(&expected, EVENT_TIMEOUT)
        .await;
    bea_events.assert_quiet(QUIET).await;
    assert_eq!(distinct(added_names(&got), "Bea's knocks"), waiting);
    resumed
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;

    // And she can let them all in.
    let (status, answer) = bea
        .decide_many(json!({"*": {"grantRequestedAccess": true}}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let admitted = distinct(
        answer["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|id| id.as_str().expect("id").to_owned())
            .collect(),
        "the admitted ids",
    );
    assert_eq!(admitted, waiting_ids, "{answer}");
    assert_eq!(answer["alreadyHandled"], json!([]), "{answer}");
    join_all(
        guests
            .iter()
            .zip(guest_streams)
            .enumerate()
            .map(|(n, (guest, mut events))| {
                let knocked = waiting.contains(&guest_name(n));
                async move {
                    if knocked {
                        let access = events
                            .expect_event("access-state-updated", EVENT_TIMEOUT)
                            .await;
                        assert_eq!(access.data["access"]["level"], "full", "{access:?}");
                        assert_eq!(guest.phase().await, "in_call", "{}", guest_name(n));
                    } else {
                        events.assert_quiet(QUIET).await;
                    }
                }
            }),
    )
    .await;
    assert_eq!(api.waiting(&room).await["total_count"], 0);
    let presence = api.get(&format!("/v1/rooms/{room}/presence")).await;
    assert_eq!(presence["total_count"], waiting.len() + 2, "{presence}");
}

// ---------------------------------------------------------------------------------------------
// 2. A stream cut again and again while events keep coming.
// ---------------------------------------------------------------------------------------------

/// Guests producing events at once.
const PRODUCERS: usize = 40;
/// Rounds of bursts: every guest knocks, then every guest renames, then every guest cancels.
/// Two knocks each stay within the knock limit of ten per client.
const ROUNDS: usize = 2;
/// How many events the admin's stream reads before each cut, in turn.
const CUTS: [usize; 6] = [1, 3, 2, 5, 4, 7];

/// Every guest does `step` at once (each starting a millisecond after the previous one).
async fn burst<'a, F, Fut>(guests: &'a [Person], step: F)
where
    F: Fn(usize, &'a Person) -> Fut,
    Fut: Future<Output = ()>,
{
    join_all(guests.iter().enumerate().map(|(n, guest)| {
        let delay = Duration::from_millis(u64::try_from(n).expect("small"));
        let step = step(n, guest);
        async move {
            tokio::time::sleep(delay).await;
            step.await;
        }
    }))
    .await;
}

/// Bursts of knocks, renames and cancels; how many of each were made.
async fn produce(guests: &[Person]) -> [usize; 3] {
    for round in 0..ROUNDS {
        burst(guests, |n, guest| async move {
            guest.knocked(&format!("G{n} r{round}")).await;
        })
        .await;
        burst(guests, |n, guest| async move {
            guest.knocked(&format!("G{n} r{round} renamed")).await;
        })
        .await;
        burst(guests, |_, guest| async move {
            let (status, state) = guest.cancel().await;
            assert_eq!(status, 200, "{state}");
        })
        .await;
    }
    [guests.len() * ROUNDS; 3]
}

/// Reads up to `limit` events into `received`; whether the last one is the closing knock
/// (`waiting-participant-added` for `END`), which stops the reading.
async fn read_until_end(stream: &mut EventStream, received: &mut Vec<Event>, limit: usize) -> bool {
    for _ in 0..limit {
        let event = stream.next_event(EVENT_TIMEOUT).await.unwrap_or_else(|| {
            panic!(
                "after {} events, nothing came within {EVENT_TIMEOUT:?}",
                received.len()
            )
        });
        let end =
            event.name == "waiting-participant-added" && event.data["participant"]["name"] == "END";
        received.push(event);
        if end {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_again_and_again_while_events_pour_in_misses_and_repeats_nothing() {
    // The real binary, so that its requests run on threads of their own, as in production.
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("replay").await;
    let ana_token = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let knocking = api
        .token(json!({"room_name": room, "knocking": true}))
        .await;
    let ana = Person::arrive(&server.base_url, &room, Some(&ana_token)).await;
    let mut current = ana.events().await.named("Ana");
    let (status, state) = ana.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    let mut guests = Vec::new();
    for n in 0..=PRODUCERS {
        let client = client_at(loopback(11, n));
        guests.push(Person::arrive_with(client, &server.base_url, &room, Some(&knocking)).await);
    }
    let last_guest = guests.pop().expect("the guest who knocks last");

    // The producers run on their own task; when they are done, one last knock closes the run.
    let producing = Arc::new(AtomicBool::new(true));
    let producers = tokio::spawn({
        let producing = Arc::clone(&producing);
        async move {
            let made = produce(&guests).await;
            producing.store(false, Ordering::SeqCst);
            last_guest.knocked("END").await;
            made
        }
    });

    // Ana's stream: read a few events, drop the connection, (sometimes wait while more events
    // are written), reconnect with `Last-Event-ID` of the last one; until the closing knock.
    let mut received: Vec<Event> = Vec::new();
    let (mut cuts, mut cuts_while_producing) = (0, 0);
    for size in CUTS.iter().cycle() {
        if read_until_end(&mut current, &mut received, *size).await {
            break;
        }
        let last = received.last().expect("an event").id;
        drop(current);
        cuts += 1;
        if producing.load(Ordering::SeqCst) {
            cuts_while_producing += 1;
        }
        if cuts % 2 == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        current = ana.events_after(last).await.named("Ana");
    }
    current.assert_quiet(QUIET).await;
    let [knocks, renames, cancels] = producers.await.expect("the producers");
    assert!(
        cuts_while_producing >= 3,
        "only {cuts_while_producing} of {cuts} cuts came while events were being written"
    );

    // A stream opened now, from the start of the log, is the reference.
    let mut fresh = ana.events().await.named("Ana from the start");
    let mut reference = Vec::new();
    assert!(
        read_until_end(&mut fresh, &mut reference, usize::MAX).await,
        "the log has the closing knock"
    );
    fresh.assert_quiet(QUIET).await;
    if let Some(at) =
        (0..received.len().max(reference.len())).find(|&at| received.get(at) != reference.get(at))
    {
        panic!(
            "the cut streams and the log differ at event {at} (after {cuts} cuts):\n  \
             cut streams: {:?}\n  log: {:?}",
            received.get(at),
            reference.get(at)
        );
    }
    assert!(
        reference.windows(2).all(|pair| pair[0].id < pair[1].id),
        "ids increase"
    );

    // And the log holds exactly what was done: Ana's entry and one event per operation.
    let count = |name: &str| reference.iter().filter(|event| event.name == name).count();
    assert_eq!(count("access-state-updated"), 1);
    assert_eq!(count("waiting-participant-added"), knocks + 1);
    assert_eq!(count("waiting-participant-updated"), renames);
    assert_eq!(count("waiting-participant-removed"), cancels);
    assert_eq!(reference.len(), 1 + knocks + renames + cancels + 1);
}

// ---------------------------------------------------------------------------------------------
// 3. Random and malformed REST requests.
// ---------------------------------------------------------------------------------------------

/// A server whose sessions never time out during a test (nobody leaves unless they say so).
async fn patient_server() -> TestApp {
    spawn_app_with(|config: &mut Config| config.presence_grace = Duration::from_secs(3600)).await
}

/// Requests per run (override with `PROPTEST_CASES`).
const FUZZ_CASES: u32 = 400;

/// Stand-ins in generated requests for ids that only exist at run time.
const KNOCK_0: &str = "@KNOCK0@";
const KNOCK_1: &str = "@KNOCK1@";
const SESSION_0: &str = "@SESSION0@";
const USER_0: &str = "@USER0@";
const TOKEN: &str = "@TOKEN@";

/// How the request authenticates.
#[derive(Clone, Debug)]
enum Auth {
    Key,
    Missing,
    Wrong,
}

/// A request body as sent.
#[derive(Clone, Debug)]
enum Body {
    None,
    Json(Value),
    /// Text that is meant to be (or almost be) JSON: truncated, odd literals, padding.
    Text(String),
    Bytes(Vec<u8>),
}

/// One generated request.
#[derive(Clone, Debug)]
struct Call {
    method: Method,
    path: String,
    content_type: Option<String>,
    auth: Auth,
    body: Body,
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Strings that tend to break things.
fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,12}",
        2 => "[a-z0-9_-]{1,12}",
        1 => Just(String::new()),
        1 => Just("   ".to_owned()),
        1 => Just("x".repeat(129)),
        1 => Just("é".repeat(65)),
        1 => Just("Ben\u{0}\n\u{1b}[31m".to_owned()),
        1 => Just("<script>alert(1)</script>".to_owned()),
        1 => prop::sample::select(vec!["public", "private", "en", "participants", "*", "true"])
            .prop_map(str::to_owned),
        1 => prop::sample::select(vec![KNOCK_0, SESSION_0, USER_0, TOKEN]).prop_map(str::to_owned),
    ]
}

/// Numbers at and past the edges, and plausible ones. No time in the next few minutes: a room
/// or token expiring during the run would change rows by itself (the ejector) between two
/// snapshots.
fn odd_number() -> impl Strategy<Value = Value> {
    let now = crate::helpers::now();
    prop_oneof![
        2 => (-3i64..300).prop_map(Value::from),
        1 => Just(json!(now - 60)),
        1 => Just(json!(now + 3 * 86_400)),
        1 => prop::sample::select(vec![
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1.5),
            json!(-0.0),
            json!(f64::MAX),
            json!(1e-300),
        ]),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        odd_number(),
        odd_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(any_key(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Object keys: the API's own field names, or anything.
fn any_key() -> impl Strategy<Value = String> {
    let mut known: Vec<&str> = vec![
        "name",
        "privacy",
        "properties",
        "ids",
        "user_ids",
        "ban",
        "grantRequestedAccess",
        "canAdmin",
        "*",
        KNOCK_0,
    ];
    known.extend(app::model::ROOM_PROPERTY_NAMES);
    known.extend(app::model::TOKEN_PROPERTY_NAMES);
    prop_oneof![
        3 => prop::sample::select(known).prop_map(str::to_owned),
        1 => ".{0,10}",
    ]
}

/// A plausible value for a known field, or (one time in four) anything at all.
fn field(plausible: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![3 => plausible, 1 => any_json()].boxed()
}

/// An object of some of `fields`, plus (sometimes) a field nobody knows.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let chosen = fields
        .into_iter()
        .map(|(name, value)| prop::option::of(value.prop_map(move |value| (name, value))))
        .collect::<Vec<_>>();
    (
        chosen,
        prop::option::weighted(0.15, (any_key(), any_json())),
    )
        .prop_map(move |(chosen, extra)| {
            let mut map = Map::new();
            for (name, value) in chosen.into_iter().flatten() {
                map.insert(name.to_owned(), value);
            }
            if let Some((name, value)) = extra {
                map.insert(name, value);
            }
            Value::Object(map)
        })
        .boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    field(any::<bool>().prop_map(Value::from))
}

fn room_name_value() -> BoxedStrategy<Value> {
    field(
        prop_oneof![
            "fz-[a-z0-9]{1,10}",
            Just("spare".to_owned()),
            Just("lobby".to_owned()),
            odd_string(),
        ]
        .prop_map(Value::from),
    )
}

fn room_properties() -> BoxedStrategy<Value> {
    let lang = || field(prop::sample::select(vec!["en", "fr", ""]).prop_map(Value::from));
    object(vec![
        ("enable_knocking", boolean()),
        ("nbf", field(odd_number())),
        ("exp", field(odd_number())),
        ("max_participants", field(odd_number())),
        ("eject_at_room_exp", boolean()),
        ("enable_prejoin_ui", boolean()),
        ("lang", lang()),
    ])
}

fn privacy() -> BoxedStrategy<Value> {
    field(prop::sample::select(vec!["public", "private", "secret"]).prop_map(Value::from))
}

fn token_properties() -> BoxedStrategy<Value> {
    let can_admin = field(prop_oneof![
        any::<bool>().prop_map(Value::from),
        Just(json!(["participants"])),
        Just(json!(["everything"])),
    ]);
    object(vec![
        ("room_name", room_name_value()),
        ("is_owner", boolean()),
        ("user_name", field(odd_string().prop_map(Value::from))),
        ("user_id", field(odd_string().prop_map(Value::from))),
        ("exp", field(odd_number())),
        ("nbf", field(odd_number())),
        ("eject_at_token_exp", boolean()),
        ("eject_after_elapsed", field(odd_number())),
        ("knocking", boolean()),
        ("permissions", field(object(vec![("canAdmin", can_admin)]))),
        ("lang", field(Just(json!("en")))),
        ("enable_prejoin_ui", boolean()),
    ])
}

fn id_list(ids: Vec<&'static str>) -> BoxedStrategy<Value> {
    field(
        prop::collection::vec(
            prop_oneof![
                3 => prop::sample::select(ids).prop_map(str::to_owned),
                1 => odd_string(),
            ],
            0..3,
        )
        .prop_map(|ids| json!(ids)),
    )
}

fn eject_body() -> BoxedStrategy<Value> {
    object(vec![
        ("ids", id_list(vec![SESSION_0, KNOCK_0, "nobody"])),
        ("user_ids", id_list(vec![USER_0, "nobody"])),
        ("ban", boolean()),
    ])
}

fn waiting_body() -> BoxedStrategy<Value> {
    let target = prop_oneof![
        3 => prop::sample::select(vec![KNOCK_0, KNOCK_1, "*", "nobody"]).prop_map(str::to_owned),
        1 => odd_string(),
    ];
    let decision = field(object(vec![("grantRequestedAccess", boolean())]));
    field(
        prop::collection::btree_map(target, decision, 0..3)
            .prop_map(|map| Value::Object(map.into_iter().collect())),
    )
}

/// A body for a route whose well-formed body looks like `shape`: mostly that shape (with wrong
/// types and unknown fields mixed in), else anything, truncated JSON, odd literals, random bytes,
/// nothing, or more than 64 KiB.
fn body(shape: BoxedStrategy<Value>) -> impl Strategy<Value = Body> {
    let literals = vec![
        "1e400",
        "-1e400",
        "123456789012345678901234567890",
        "18446744073709551616",
        "-9223372036854775809",
        "0.0000000000000000000000001",
        "\"\\ud800\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ];
    let truncated = (shape.clone(), any::<Index>()).prop_map(|(value, at)| {
        let text = value.to_string();
        let cut = at.index(text.len().max(1));
        let cut = (0..=cut)
            .rev()
            .find(|&at| text.is_char_boundary(at))
            .unwrap_or(0);
        Body::Text(text[..cut].to_owned())
    });
    let odd_literal = (
        prop::sample::select(vec!["max_participants", "exp", "nbf", "is_owner", "ban"]),
        prop::sample::select(literals),
        any::<bool>(),
    )
        .prop_map(|(name, literal, nested)| {
            Body::Text(if nested {
                format!("{{\"properties\": {{\"{name}\": {literal}}}}}")
            } else {
                format!("{{\"{name}\": {literal}}}")
            })
        });
    prop_oneof![
        12 => shape.prop_map(Body::Json),
        2 => any_json().prop_map(Body::Json),
        2 => truncated,
        2 => odd_literal,
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
        1 => Just(Body::None),
        1 => Just(Body::Text(format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024)))),
    ]
}

/// A room name for a path: the fixtures, valid names, names the API refuses, and anything
/// percent-encoded. `lobby` only where `with_lobby` (see [`Fuzz`]).
fn room_in_path(with_lobby: bool) -> BoxedStrategy<String> {
    let fixtures = if with_lobby {
        vec!["lobby", "lobby", "spare", "nope"]
    } else {
        vec!["spare", "spare", "nope"]
    };
    prop_oneof![
        4 => prop::sample::select(fixtures).prop_map(str::to_owned),
        2 => "[A-Za-z0-9_-]{1,20}".prop_filter("not the lobby", |name| name != "lobby"),
        2 => prop::sample::select(vec![
            "dashboard", "v1", "api", "healthz", "pkg", "", "%20", "%00", "%FF", "%C3%28", "%zz",
            "..", ".", "%2F", "a%2Fb", "%2e%2e", "~", "a b", "\u{e9}\u{1F600}",
        ])
        .prop_map(str::to_owned),
        1 => Just("a".repeat(129)),
        1 => ".{0,16}".prop_map(|name| percent_encode(&name)),
    ]
    .boxed()
}

fn token_in_path() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(TOKEN.to_owned()),
        2 => "[A-Za-z0-9._-]{0,40}",
        // `alg: none`, and a token signed with another key.
        1 => Just("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyIjoic3BhcmUifQ.".to_owned()),
        1 => Just(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyIjoic3BhcmUifQ.\
             Yv0G5Lb1hQbNuhnhxRQbxNSAl3U1tOyeA8y9f0Sk8Vc"
                .to_owned()
        ),
        1 => ".{0,16}".prop_map(|token| percent_encode(&token)),
    ]
    .boxed()
}

/// Every mutating route of `server/src/rest.rs` (and, less often, the reading ones, which must
/// change nothing whatever they answer).
fn call() -> impl Strategy<Value = Call> {
    let room_body = || {
        object(vec![
            ("name", room_name_value()),
            ("privacy", privacy()),
            ("properties", field(room_properties())),
        ])
    };
    let update_body = object(vec![
        ("privacy", privacy()),
        ("properties", field(room_properties())),
    ]);
    let token_body = object(vec![("properties", field(token_properties()))]);
    let target = prop_oneof![
        3 => body(room_body()).prop_map(|body| (Method::POST, "/v1/rooms".to_owned(), body)),
        3 => (room_in_path(false), body(update_body))
            .prop_map(|(room, body)| (Method::POST, format!("/v1/rooms/{room}"), body)),
        2 => (room_in_path(false), body(room_body()))
            .prop_map(|(room, body)| (Method::DELETE, format!("/v1/rooms/{room}"), body)),
        3 => body(token_body)
            .prop_map(|body| (Method::POST, "/v1/meeting-tokens".to_owned(), body)),
        2 => (token_in_path(), body(any_json().boxed()))
            .prop_map(|(token, body)| (Method::DELETE, format!("/v1/meeting-tokens/{token}"), body)),
        3 => (room_in_path(true), body(waiting_body()))
            .prop_map(|(room, body)| (Method::POST, format!("/v1/rooms/{room}/waiting"), body)),
        3 => (room_in_path(true), body(eject_body()))
            .prop_map(|(room, body)| (Method::POST, format!("/v1/rooms/{room}/eject"), body)),
        1 => ("[a-z_]{0,14}", ".{0,12}").prop_map(|(key, value)| {
            let query = format!("{key}={}", percent_encode(&value));
            (Method::GET, format!("/v1/rooms?{query}"), Body::None)
        }),
        1 => (token_in_path(), any::<bool>()).prop_map(|(token, ignore)| {
            (Method::GET, format!("/v1/meeting-tokens/{token}?ignoreNbf={ignore}"), Body::None)
        }),
        1 => (room_in_path(true), prop::sample::select(vec!["", "/presence", "/waiting"]))
            .prop_map(|(room, tail)| (Method::GET, format!("/v1/rooms/{room}{tail}"), Body::None)),
    ];
    let content_type = prop_oneof![
        8 => Just(Some("application/json".to_owned())),
        1 => Just(None),
        1 => prop::sample::select(vec![
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=utf-16",
            "multipart/form-data; boundary=x",
        ])
        .prop_map(|value| Some(value.to_owned())),
        1 => "[ -~]{0,20}".prop_map(Some),
    ];
    let auth = prop_oneof![18 => Just(Auth::Key), 1 => Just(Auth::Missing), 1 => Just(Auth::Wrong)];
    (target, content_type, auth).prop_map(|((method, path, body), content_type, auth)| Call {
        method,
        path,
        content_type,
        auth,
        body,
    })
}

/// The error types of the API and their statuses (PRODUCT.md §2).
fn error_status(error: &str) -> Option<&'static [u16]> {
    let statuses: &'static [u16] = match error {
        "authorization-header-error" | "json-parsing-error" => &[400],
        "authentication-error" => &[401],
        "invalid-request-error" => &[400, 405, 413],
        "forbidden-error" => &[403],
        "not-found" => &[404],
        "rate-limit-error" => &[429],
        _ => return None,
    };
    Some(statuses)
}

/// The server under fuzzing, with something in it for every route to change: a room `lobby`
/// with knocks waiting and people in the call, a room `spare`, and a token no one uses.
///
/// Requests that succeed may delete, decide or eject; [`Fuzz::replenish`] puts things back
/// afterwards. `POST` and `DELETE /v1/rooms/lobby` are never generated, so the lobby keeps its
/// privacy, its knocking and its people for the routes that act on them.
struct Fuzz {
    app: TestApp,
    api: Api,
    database: Database,
    client: reqwest::Client,
    knocking: String,
    token: String,
    /// People made so far (each from its own loopback address).
    people: usize,
    /// How many answers of each status, and of each error type.
    answers: BTreeMap<String, usize>,
}

impl Fuzz {
    async fn start() -> Self {
        let app = patient_server().await;
        let api = app.api();
        api.knocking_room("lobby").await;
        let knocking = api
            .token(json!({"room_name": "lobby", "knocking": true}))
            .await;
        let token = api.token(json!({"room_name": "spare"})).await;
        let database = Database::open_read_only(&app.database_url).await;
        let mut fuzz = Self {
            app,
            api,
            database,
            client: reqwest::Client::new(),
            knocking,
            token,
            people: 0,
            answers: BTreeMap::new(),
        };
        fuzz.replenish().await;
        fuzz
    }

    fn next_client(&mut self) -> reqwest::Client {
        self.people += 1;
        client_at(loopback(12, self.people))
    }

    /// Puts back what successful requests took away: the room `spare`, the unused token, three
    /// knocks in the lobby and two people in its call.
    async fn replenish(&mut self) {
        let (status, _) = self.api.call(Method::GET, "/v1/rooms/spare", None).await;
        if status == 404 {
            self.api.create_room(json!({"name": "spare"})).await;
        }
        let (status, _) = self
            .api
            .call(
                Method::GET,
                &format!("/v1/meeting-tokens/{}", self.token),
                None,
            )
            .await;
        if status != 200 {
            self.token = self.api.token(json!({"room_name": "spare"})).await;
        }
        while self.api.waiting("lobby").await["total_count"]
            .as_u64()
            .expect("total_count")
            < 3
        {
            let client = self.next_client();
            let guest =
                Person::arrive_with(client, &self.app.base_url, "lobby", Some(&self.knocking))
                    .await;
            guest.knocked(&format!("Guest {}", self.people)).await;
        }
        while self.presence().await.len() < 2 {
            let user_id = format!("member-{}", self.people + 1);
            let token = self
                .api
                .token(json!({"room_name": "lobby", "user_name": "Mia", "user_id": user_id}))
                .await;
            let client = self.next_client();
            let member =
                Person::arrive_with(client, &self.app.base_url, "lobby", Some(&token)).await;
            let (status, state) = member.join("Mia").await;
            assert_eq!(status, 200, "{state}");
        }
    }

    async fn presence(&self) -> Vec<Value> {
        let presence = self.api.get("/v1/rooms/lobby/presence").await;
        presence["data"].as_array().expect("data").clone()
    }

    /// The run-time values of the stand-ins.
    async fn stand_ins(&self) -> Vec<(&'static str, String)> {
        let waiting = self.api.waiting("lobby").await;
        let presence = self.presence().await;
        let text = |value: &Value| value.as_str().unwrap_or("nobody").to_owned();
        vec![
            (KNOCK_0, text(&waiting["data"][0]["id"])),
            (KNOCK_1, text(&waiting["data"][1]["id"])),
            (SESSION_0, text(&presence[0]["id"])),
            (USER_0, text(&presence[0]["userId"])),
            (TOKEN, self.token.clone()),
        ]
    }

    async fn check(&mut self, call: Call) -> Result<(), TestCaseError> {
        let stand_ins = self.stand_ins().await;
        let fill = |text: &str| {
            stand_ins
                .iter()
                .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
        };
        let path = fill(&call.path);
        let mut request = self
            .client
            .request(call.method.clone(), self.app.url(&path));
        request = match call.auth {
            Auth::Key => request.bearer_auth(API_KEY),
            Auth::Wrong => request.bearer_auth("not-the-key"),
            Auth::Missing => request,
        };
        if let Some(content_type) = &call.content_type {
            request = request.header(header::CONTENT_TYPE, content_type.as_str());
        }
        request = match &call.body {
            Body::None => request,
            Body::Json(value) => request.body(fill(&value.to_string())),
            Body::Text(text) => request.body(fill(text)),
            Body::Bytes(bytes) => request.body(bytes.clone()),
        };

        let before = self.database.snapshot().await;
        let response = request.send().await.expect("an answer");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .unwrap_or_default();
        let text = response.text().await.expect("the body");
        let after = self.database.snapshot().await;

        let what = format!("{} {path} answered {status}: {text}", call.method);
        prop_assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{what}"
        );
        prop_assert!(
            content_type.starts_with("application/json"),
            "{what} (content type {content_type:?})"
        );
        let answer: Value = serde_json::from_str(&text)
            .map_err(|error| TestCaseError::fail(format!("{what}: not JSON: {error}")))?;
        let kind = answer["error"].as_str().unwrap_or("ok");
        *self
            .answers
            .entry(format!("{} {kind}", status.as_u16()))
            .or_default() += 1;
        if status.is_client_error() {
            let error = answer["error"].as_str().unwrap_or_default();
            let statuses = error_status(error);
            prop_assert!(
                statuses.is_some_and(|statuses| statuses.contains(&status.as_u16())),
                "{what}: `error` is not a documented type for this status"
            );
            let info = answer["info"].as_str().unwrap_or_default();
            prop_assert!(!info.trim().is_empty(), "{what}: no `info`");
        }
        // Nothing else is excluded from the comparison: with the presence grace at an hour, no
        // expiry within minutes (see `odd_number`) and no event older than a day, no background
        // task writes during a run, so any difference was made by the request. The one write a
        // refusal makes is its count against the wrong-API-key limit (`rate_limits`).
        if status.is_client_error() || call.method == Method::GET {
            let (mut before, mut after) = (before, after);
            before.remove("rate_limits");
            after.remove("rate_limits");
            let diff = snapshot_diff(&before, &after);
            prop_assert!(diff.is_empty(), "{what}\nchanged the database:\n{diff}");
        }
        if status.is_success() {
            self.replenish().await;
        }
        Ok(())
    }
}

#[test]
fn random_and_malformed_rest_requests_get_no_5xx_and_a_refused_one_changes_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let fuzz = RefCell::new(runtime.block_on(Fuzz::start()));
    let initial: Snapshot = runtime.block_on(fuzz.borrow_mut().database.snapshot());
    assert!(
        initial["knocks"].len() >= 3 && initial["sessions"].len() >= 5,
        "the fixtures are in the snapshot: {initial:?}"
    );
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(FUZZ_CASES);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        // The server's state moves on between cases, so a saved failure would not replay.
        failure_persistence: None,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    });
    let outcome = runner.run(&call(), |call| {
        runtime.block_on(fuzz.borrow_mut().check(call))
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
    // The run reached both sides: requests that changed things, and refusals of every kind.
    let answers = &fuzz.borrow().answers;
    eprintln!("answers: {answers:?}");
    let count = |prefix: &str| {
        answers
            .iter()
            .filter(|(kind, _)| kind.starts_with(prefix))
            .map(|(_, count)| count)
            .sum::<usize>()
    };
    assert!(count("200") >= 20, "{answers:?}");
    for kind in [
        "400 json-parsing-error",
        "400 invalid-request-error",
        "404 not-found",
    ] {
        assert!(count(kind) >= 5, "{kind}: {answers:?}");
    }
}
