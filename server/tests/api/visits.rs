//! Visits and the life of a session: opening a room page stores nothing until its visitor joins
//! or knocks; a session ends after a day and when the API key changes; what has ended is pruned;
//! a meeting link followed from another site asks before it replaces a session; and the event
//! streams a client may hold open are capped.

use std::time::Duration;

use app::ssr::{
    db::Db,
    limits::{MAX_STREAMS_PER_CLIENT, MAX_STREAMS_PER_SESSION},
    maintenance,
    secrets::key_id,
    time::now_millis,
};
use futures_util::{StreamExt, stream};
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{
    API_KEY, Api, Database, EVENT_TIMEOUT, Person, Room, Server, browser_at, client, snapshot_diff,
    test_database_url, unserved_state,
};

/// Anonymous page loads in [`opening_room_pages_stores_nothing`].
const PAGE_LOADS: usize = 5_000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The value of the session cookie of `room` that `response` sets, if it sets one.
fn cookie_set(response: &reqwest::Response, room: &str) -> Option<String> {
    let prefix = format!("knock-{room}=");
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix(&prefix))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// Waits (up to [`EVENT_TIMEOUT`]) until `query` counts `expected`; `failure` says what did not
/// happen.
async fn eventually(database: &mut Database, query: &str, expected: i64, failure: &str) {
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    while database.count(query).await != expected {
        assert!(tokio::time::Instant::now() < deadline, "{failure}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_room_pages_stores_nothing_until_the_visitor_knocks() {
    let room = Room::knocking().await;
    let token = room
        .app
        .api()
        .token(json!({"room_name": room.name, "user_name": "Link"}))
        .await;
    let mut database = Database::open_read_only(&room.app.database_url).await;
    let before = database.snapshot().await;

    // Crawlers: no cookies kept, every load a new visitor; a tenth follow a token link, a tenth
    // a link with a token that is no token.
    let bot = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let loads = stream::iter(0..PAGE_LOADS)
        .map(|n| {
            let url = match n % 10 {
                0 => room.app.url(&format!("/{}?t={token}", room.name)),
                1 => room.app.url(&format!("/{}?t=not-a-token-{n}", room.name)),
                _ => room.app.url(&format!("/{}", room.name)),
            };
            let (bot, name) = (bot.clone(), room.name.clone());
            async move {
                let started = std::time::Instant::now();
                let response = bot.get(&url).send().await.expect("open the page");
                let status = response.status();
                assert!(
                    status == StatusCode::OK || status == StatusCode::SEE_OTHER,
                    "GET {url}: {status} after {:?}",
                    started.elapsed()
                );
                (status, cookie_set(&response, &name).is_some())
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    for (status, cookie) in &loads {
        assert!(
            *status == StatusCode::OK || *status == StatusCode::SEE_OTHER,
            "{status}"
        );
        assert!(cookie, "every visitor gets a visit cookie");
    }
    let after = database.snapshot().await;
    let diff = snapshot_diff(&before, &after);
    assert!(diff.is_empty(), "page loads changed the database:\n{diff}");

    // A visitor who knocks is stored, once, under the id its page already showed.
    let guest = room.guest().await;
    let shown = guest.session_id().await;
    let state = guest.knocked("Ben").await;
    assert_eq!(state["session_id"], shown.as_str(), "{state}");
    assert_eq!(guest.session_id().await, shown);
    let stored = database.snapshot().await;
    assert_eq!(stored["sessions"].len(), before["sessions"].len() + 1);
    assert_eq!(stored["knocks"].len(), before["knocks"].len() + 1);
}

/// Routers built while [`room_pages_answer_while_other_servers_start`] loads pages.
const OTHER_ROUTERS: usize = 200;

/// Building a server's router lists the app's routes by rendering it once with resource loading
/// switched off, a switch Leptos keeps for the whole process. Several servers share a process
/// (every test here, or an application embedding `server::router`): a page that another server
/// was rendering meanwhile waited for its data until its request timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_pages_answer_while_other_servers_start() {
    let room = Room::knocking().await;
    let url = room.app.url(&format!("/{}", room.name));
    let bot = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let loaders: Vec<_> = (0..8)
        .map(|_| {
            let (bot, url, stopped) = (bot.clone(), url.clone(), stopped.clone());
            tokio::spawn(async move {
                let mut answered = 0;
                while !*stopped.borrow() {
                    let started = std::time::Instant::now();
                    let status = bot.get(&url).send().await.map(|response| response.status());
                    if !matches!(status, Ok(StatusCode::OK)) {
                        return Err(format!(
                            "GET {url}: {status:?} after {:?}",
                            started.elapsed()
                        ));
                    }
                    answered += 1;
                }
                Ok(answered)
            })
        })
        .collect();

    // Another server of this process, built as the binary builds its own, router and all.
    let dir = tempfile::tempdir().expect("temporary directory");
    let other = unserved_state(dir.path()).await;
    for _ in 0..OTHER_ROUTERS {
        drop(server::router(other.clone()));
        tokio::task::yield_now().await;
    }
    stop.send_replace(true);
    let mut answered = 0;
    for loader in loaders {
        answered += loader
            .await
            .expect("a loader")
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
    assert!(answered > 0, "no page loaded meanwhile");
}

#[tokio::test]
async fn a_stream_opened_before_knocking_keeps_the_knocker_present() {
    let room = Room::knocking_with(|config| config.presence_grace = Duration::from_secs(1)).await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let guest = room.guest().await;
    // The page opens its stream at once, long before the visitor knocks (and is stored).
    let mut guest_events = guest.events().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    guest.knocked("Ben").await;
    guest_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    ana_events
        .expect_event("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    // Several graces later, with the stream open all along, Ben still waits.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(guest.phase().await, "waiting");
    assert_eq!(room.app.api().waiting_names(&room.name).await, ["Ben"]);
}

#[tokio::test]
async fn a_session_ends_after_a_day() {
    let room = Room::knocking().await;
    let (ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events) = room.member_in_call("Ben").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;
    let ben_id = ben.session_id().await;

    // Ben's session began a day ago (the test moves its start back rather than wait a day).
    let mut database = Database::open_writable(&room.app.database_url).await;
    database
        .execute(&format!(
            "UPDATE sessions SET created_at = created_at - {DAY_MS}, \
             expires_at = expires_at - {DAY_MS} WHERE id = '{ben_id}'"
        ))
        .await;

    let told = ben_events.expect_event("error", EVENT_TIMEOUT).await;
    assert!(
        told.data.to_string().contains("session has ended"),
        "{told:?}"
    );
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["session_id"], ben_id.as_str());
    // Ben's browser starts over: a new visit, at the door.
    let (status, _) = ben.call("leave", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the old session is gone");
    let page = ben
        .client
        .get(room.app.url(&format!("/{}", room.name)))
        .send()
        .await
        .expect("open the page again");
    assert!(cookie_set(&page, &room.name).is_some(), "a new visit");
    assert_ne!(ben.session_id().await, ben_id);
    assert_eq!(ben.phase().await, "prejoin");
    // Ana's session, started now, goes on.
    assert_eq!(ana.phase().await, "in_call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_sign_ins_end_when_the_api_key_changes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database_url = test_database_url(dir.path()).await;
    let with_database = |command: &mut std::process::Command| {
        command.env("DATABASE_URL", &database_url);
    };
    let mut first = Server::start_with(dir.path(), with_database).await;
    let api = Api::new(&first.base_url, API_KEY);
    api.create_room(json!({"name": "standup", "privacy": "public"}))
        .await;
    let mut ben = Person::arrive(&first.base_url, "standup", None).await;
    let ben_events = ben.enter("Ben").await;
    let old_id = ben.session_id().await;
    let operator = client();
    let signed_in = operator
        .post(format!("{}/api/dashboard_sign_in", first.base_url))
        .form(&[("api_key", API_KEY)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 200);

    // The operator changes the key and restarts the server.
    drop(ben_events);
    assert!(first.terminate(Duration::from_secs(10)).is_some());
    let new_key = "a-new-api-key-0123456789abcdefghijklmnopqrs";
    let second = Server::start_with(dir.path(), |command| {
        with_database(command);
        command.env("KNOCK_API_KEY", new_key);
    })
    .await;

    // Ben, who was in the call, is sent away at once (not after the presence grace)...
    let mut database = Database::open_read_only(&database_url).await;
    let ejected =
        format!("SELECT COUNT(*) FROM sessions WHERE id = '{old_id}' AND phase = 'ejected'");
    eventually(&mut database, &ejected, 1, "Ben was not sent away").await;
    // ...and his browser starts over with a new visit.
    ben.base_url.clone_from(&second.base_url);
    let (status, _) = ben.call("leave", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the old session is no more");
    let page = ben
        .client
        .get(format!("{}/standup", second.base_url))
        .send()
        .await
        .expect("open the page again");
    assert!(cookie_set(&page, "standup").is_some(), "a new visit");
    assert_ne!(ben.session_id().await, old_id);

    // The old sign-in opens no dashboard, and is pruned.
    let rooms = operator
        .post(format!("{}/api/dashboard_rooms", second.base_url))
        .form(&[] as &[(&str, &str)])
        .send()
        .await
        .expect("list rooms");
    assert_eq!(rooms.status(), StatusCode::OK);
    let rooms: serde_json::Value = rooms.json().await.expect("a JSON answer");
    assert!(rooms.is_null(), "not signed in: {rooms}");
    let sign_ins = "SELECT COUNT(*) FROM dashboard_sessions";
    eventually(&mut database, sign_ins, 0, "the old sign-in stays").await;
}

#[tokio::test]
async fn what_has_ended_is_pruned_and_what_goes_on_is_kept() {
    let room = Room::knocking_long_grace().await;
    let api = room.app.api();
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    // Ben knocks and is turned away; Cy knocks and is let in, then leaves; Dee still waits.
    let (ben, _) = room.knocker("Ben").await;
    let (cy, _) = room.knocker("Cy").await;
    let (dee, _) = room.knocker("Dee").await;
    for _ in 0..3 {
        ana_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
    }
    let waiting = api.waiting(&room.name).await;
    let knock_of = |name: &str| {
        waiting["data"]
            .as_array()
            .expect("waiting list")
            .iter()
            .find(|entry| entry["name"] == name)
            .expect("a knock")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (deny, allow) = (knock_of("Ben"), knock_of("Cy"));
    for (id, grant) in [(&deny, false), (&allow, true)] {
        let (status, body) = _ana.decide(id, grant).await;
        assert_eq!(status, 200, "{body}");
    }
    cy.leave().await;
    // A revoked token that expires in a minute, and one that never expires.
    let short = api
        .token(json!({"room_name": room.name, "exp": crate::helpers::now() + 60}))
        .await;
    let forever = api.token(json!({"room_name": room.name})).await;
    for token in [&short, &forever] {
        let (status, body) = api
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/meeting-tokens/{token}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let operator = client();
    operator
        .post(room.app.url("/api/dashboard_sign_in"))
        .form(&[("api_key", API_KEY)])
        .send()
        .await
        .expect("sign in");

    let db = Db::connect(&room.app.database_url)
        .await
        .expect("connect to the test server's database");
    let key = key_id(API_KEY);
    // Now, nothing has ended.
    assert_eq!(
        maintenance::prune_records_once(&db, &key, now_millis())
            .await
            .expect("prune"),
        maintenance::Pruned::default()
    );
    // Two days on: Ben (denied) and Cy (left) are gone with their knocks; Ana in the call and
    // Dee in the lobby stay; the short token's revocation and the sign-in are gone, the
    // forever token's revocation stays.
    let later = now_millis() + 2 * DAY_MS;
    let pruned = maintenance::prune_records_once(&db, &key, later)
        .await
        .expect("prune");
    assert_eq!(
        pruned,
        maintenance::Pruned {
            sessions: 2,
            knocks: 0,
            sign_ins: 1,
            revocations: 1,
            meetings: 0,
        }
    );
    let mut database = Database::open_read_only(&room.app.database_url).await;
    let names = database
        .count("SELECT COUNT(*) FROM sessions WHERE user_name IN ('Ana', 'Dee')")
        .await;
    assert_eq!(names, 2);
    assert_eq!(database.count("SELECT COUNT(*) FROM sessions").await, 2);
    assert_eq!(
        database.count("SELECT COUNT(*) FROM knocks").await,
        1,
        "Dee's knock waits"
    );
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM token_revocations")
            .await,
        1
    );
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM dashboard_sessions")
            .await,
        0
    );
    assert_eq!(dee.phase().await, "waiting");
    assert_eq!(ben.phase().await, "prejoin", "Ben's browser starts over");

    // A knock settled by someone still in the call (Ana let Eve in, who stays) is pruned a day
    // after its decision, while both sessions stay.
    let (eve, _) = room.knocker("Eve").await;
    ana_events
        .events_until("waiting-participant-added", EVENT_TIMEOUT)
        .await;
    let waiting = api.waiting(&room.name).await;
    let eve_knock = waiting["data"]
        .as_array()
        .expect("waiting list")
        .iter()
        .find(|entry| entry["name"] == "Eve")
        .expect("Eve's knock")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, body) = _ana.decide(&eve_knock, true).await;
    assert_eq!(status, 200, "{body}");
    let pruned = maintenance::prune_records_once(&db, &key, now_millis() + 2 * DAY_MS)
        .await
        .expect("prune");
    assert_eq!(pruned.knocks, 1, "{pruned:?}");
    assert_eq!(pruned.sessions, 0, "{pruned:?}");
    assert_eq!(eve.phase().await, "in_call");
}

#[tokio::test]
async fn a_link_from_another_site_asks_before_replacing_a_session() {
    let room = Room::knocking_long_grace().await;
    let ben = room.guest().await;
    ben.knocked("Ben").await;
    let ben_id = ben.session_id().await;
    let owner_token = room
        .app
        .api()
        .token(json!({"room_name": room.name, "is_owner": true, "user_name": "Mallory"}))
        .await;
    let link = room.app.url(&format!("/{}?t={owner_token}", room.name));
    let follow = async |person: &Person, site: &'static str| {
        person
            .client
            .get(&link)
            .header("sec-fetch-site", site)
            .send()
            .await
            .expect("follow the link")
    };

    // The link, followed from a page of another site: a question, and nothing replaced.
    let asked = follow(&ben, "cross-site").await;
    assert_eq!(asked.status(), 200);
    assert!(
        cookie_set(&asked, &room.name).is_none(),
        "nothing replaced yet"
    );
    assert_eq!(
        asked.headers()[header::CACHE_CONTROL],
        "no-store",
        "the page holds a token"
    );
    let html = asked.text().await.expect("the question");
    assert!(html.contains("Open this meeting link?"), "{html}");
    assert!(html.contains("Use the new link") && html.contains("Keep my current session"));
    assert_eq!(ben.session_id().await, ben_id);
    assert_eq!(ben.phase().await, "waiting");

    // Another site cannot answer the question for Ben.
    let forged = browser_at("https://evil.example", &room.app.base_url)
        .post(room.app.url(&format!("/{}", room.name)))
        .form(&[("t", owner_token.as_str())])
        .send()
        .await
        .expect("post the answer");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(cookie_set(&forged, &room.name).is_none());

    // Ben answers on this site's page: the link's session replaces his.
    let answered = ben
        .client
        .post(room.app.url(&format!("/{}", room.name)))
        .header(header::ORIGIN, &room.app.base_url)
        .form(&[("t", owner_token.as_str())])
        .send()
        .await
        .expect("post the answer");
    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        answered.headers()[header::LOCATION],
        format!("/{}", room.name).as_str()
    );
    assert!(cookie_set(&answered, &room.name).is_some());
    let state = ben.pre_auth().await;
    assert_ne!(state["session_id"], ben_id.as_str());
    assert_eq!(state["owner"], true, "{state}");

    // Followed from this site, or typed: replaced at once, as before.
    let mut fresh = room.guest().await;
    fresh.knocked("Cy").await;
    let cy_id = fresh.session_id().await;
    let opened = follow(&fresh, "same-origin").await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert!(cookie_set(&opened, &room.name).is_some());
    assert_ne!(fresh.session_id().await, cy_id);
    // A visitor with nothing to lose is never asked.
    fresh = room.guest().await;
    let opened = follow(&fresh, "cross-site").await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_session_and_per_client() {
    let room = Room::knocking_long_grace().await;
    let one = room.guest().await;
    let mut held = Vec::new();
    for _ in 0..MAX_STREAMS_PER_SESSION {
        held.push(one.events().await);
    }
    let refused = one
        .client
        .get(room.app.url(&format!("/api/events/{}", room.name)))
        .send()
        .await
        .expect("open one more");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);

    // More visitors from the same address, each with streams of its own, up to the client's cap.
    while held.len() < MAX_STREAMS_PER_CLIENT {
        let visitor = room.guest().await;
        for _ in 0..MAX_STREAMS_PER_SESSION.min(MAX_STREAMS_PER_CLIENT - held.len()) {
            held.push(visitor.events().await);
        }
    }
    let another = room.guest().await;
    let refused = another
        .client
        .get(room.app.url(&format!("/api/events/{}", room.name)))
        .send()
        .await
        .expect("open one more");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = refused.json().await.expect("a JSON body");
    assert!(
        body["info"]
            .as_str()
            .is_some_and(|info| info.contains("from your address")),
        "{body}"
    );
    // Closing streams gives places back.
    held.truncate(held.len() - 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _reopened = another.events().await;
}
