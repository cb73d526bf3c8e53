//! No ghosts: a room's deletion and a token's revocation take their ejections with them (all or
//! nothing), a join or a knock racing them never lands in the call or the lobby afterwards,
//! joining withdraws one's own knock, a departure that fails is tried again, and a session of a
//! deleted room stays with that room.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sqlx::{ConnectOptions, Connection};

use crate::helpers::{Database, EVENT_TIMEOUT, QUIET, Room, knock_of, spawn_app};

/// A failure injected into the database: a trigger that makes every move of a session to
/// `phase` fail, as a real write error would (the statement, and its transaction, fail).
struct Fault {
    url: String,
    phase: &'static str,
}

impl Fault {
    /// From now on, moving a session to `phase` fails.
    async fn install(url: &str, phase: &'static str) -> Self {
        let name = format!("fail_to_{phase}");
        let statements = if url.starts_with("postgres") {
            vec![
                format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
                ),
                format!(
                    "CREATE TRIGGER {name} BEFORE UPDATE OF phase ON sessions FOR EACH ROW
                     WHEN (NEW.phase = '{phase}') EXECUTE FUNCTION {name}()"
                ),
            ]
        } else {
            vec![format!(
                "CREATE TRIGGER {name} BEFORE UPDATE OF phase ON sessions
                 WHEN NEW.phase = '{phase}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )]
        };
        execute(url, &statements).await;
        Self {
            url: url.to_owned(),
            phase,
        }
    }

    /// Writes work again.
    async fn remove(self) {
        let name = format!("fail_to_{}", self.phase);
        let statement = if self.url.starts_with("postgres") {
            format!("DROP TRIGGER {name} ON sessions")
        } else {
            format!("DROP TRIGGER {name}")
        };
        execute(&self.url, &[statement]).await;
    }
}

/// Runs `statements` on the database at `url`, on a connection of its own.
async fn execute(url: &str, statements: &[String]) {
    if url.starts_with("postgres") {
        let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a PostgreSQL URL");
        let mut connection = options.connect().await.expect("open the database");
        for statement in statements {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap_or_else(|error| panic!("{statement}: {error}"));
        }
        connection.close().await.expect("close");
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("a SQLite URL");
        let mut connection = options
            .busy_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("open the database");
        for statement in statements {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap_or_else(|error| panic!("{statement}: {error}"));
        }
        connection.close().await.expect("close");
    }
}

#[tokio::test]
async fn a_join_racing_the_revocation_of_its_token_never_stays_in_the_call() {
    let room = Room::knocking().await;
    for round in 0..50 {
        let name = format!("Mia {round}");
        let (mia, token) = room.with_token(json!({"user_name": name})).await;
        let mut events = mia.events().await.named(&name);
        let path = format!("/v1/meeting-tokens/{token}");
        let ((status, answer), (revoked, body)) =
            tokio::join!(mia.join(&name), room.api.call(Method::DELETE, &path, None));
        assert_eq!(revoked, 200, "round {round}: {body}");
        let phase = mia.phase().await;
        assert_ne!(
            phase, "in_call",
            "round {round}: joined ({status}: {answer})"
        );
        if status == 200 {
            // It was in the call for a moment: the ejection reached its stream.
            let got = events.events_until("error", EVENT_TIMEOUT).await;
            let error = got.last().expect("an error");
            assert_eq!(
                error.data["error"]["type"], "ejected",
                "round {round}: {got:?}"
            );
        } else {
            assert_eq!(status, 403, "round {round}: {answer}");
        }
    }
    assert_eq!(room.presence().await["total_count"], 0);
}

#[tokio::test]
async fn a_knock_racing_the_deletion_of_its_room_leaves_no_waiting_knock() {
    let app = spawn_app().await;
    let api = app.api();
    for round in 0..30 {
        let name = api.knocking_room(&format!("race{round}")).await;
        let mut guests = Vec::new();
        for _ in 0..4 {
            let guest = app.person(&name, None).await;
            let events = guest.events().await;
            guests.push((guest, events));
        }
        let path = format!("/v1/rooms/{name}");
        let knocks =
            futures_util::future::join_all(guests.iter().map(|(guest, _)| guest.knock("Ben")));
        let (answers, (deleted, body)) =
            tokio::join!(knocks, api.call(Method::DELETE, &path, None));
        assert_eq!(deleted, 200, "round {round}: {body}");
        let waiting = Database::open_read_only(&app.database_url)
            .await
            .count(&format!(
                "SELECT COUNT(*) FROM knocks WHERE room = '{name}' AND status = 'waiting'"
            ))
            .await;
        assert_eq!(waiting, 0, "round {round}: knocked ({answers:?})");
        for (guest, _) in &guests {
            assert_ne!(guest.phase().await, "waiting", "round {round}");
        }
    }
}

#[tokio::test]
async fn joining_withdraws_the_sessions_own_waiting_knock() {
    let room = Room::knocking_long_grace().await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (ben, mut ben_events, knock) = room.knocker_seen_by("Ben", &mut ana_events).await;

    // The room opens to everyone while Ben waits: he may walk in.
    room.api
        .post("/v1/rooms/standup", json!({"privacy": "public"}))
        .await;
    let (status, state) = ben.join("Ben").await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["phase"], "in_call", "{state}");
    let got = ana_events
        .expect_events_unordered(
            &["waiting-participant-removed", "participant-joined"],
            EVENT_TIMEOUT,
        )
        .await;
    let removed = got
        .iter()
        .find(|event| event.name == "waiting-participant-removed")
        .expect("the removal");
    assert_eq!(knock_of(removed, "Ben"), knock);
    assert!(room.waiting_ids().await.is_empty());
    ben_events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    ana_events.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn deleting_a_room_is_all_or_nothing() {
    let room = Room::knocking_long_grace().await;
    let (mia, _mia_events) = room.member_in_call("Mia").await;

    // Ejecting fails: then the room must not be gone with Mia still in its call.
    let fault = Fault::install(&room.app.database_url, "ejected").await;
    let (status, body) = room
        .api
        .call(Method::DELETE, "/v1/rooms/standup", None)
        .await;
    fault.remove().await;
    assert_ne!(status, 200, "{body}");
    let (found, room_body) = room.api.call(Method::GET, "/v1/rooms/standup", None).await;
    assert_eq!(found, 200, "the room is still there: {room_body}");
    assert_eq!(mia.phase().await, "in_call");
    assert_eq!(room.presence().await["total_count"], 1);
}

#[tokio::test]
async fn revoking_a_token_is_all_or_nothing() {
    let room = Room::knocking_long_grace().await;
    let (mia, token) = room.with_token(json!({"user_name": "Mia"})).await;
    let _mia_events = mia.enter("Mia").await;

    let fault = Fault::install(&room.app.database_url, "ejected").await;
    let path = format!("/v1/meeting-tokens/{token}");
    let (status, body) = room.api.call(Method::DELETE, &path, None).await;
    fault.remove().await;
    assert_ne!(status, 200, "{body}");
    // Not revoked, and still in the call: never a revoked token's session in a call.
    let (valid, properties) = room.api.call(Method::GET, &path, None).await;
    assert_eq!(valid, 200, "the token was not revoked: {properties}");
    assert_eq!(mia.phase().await, "in_call");
}

#[tokio::test]
async fn a_session_left_in_a_call_with_a_revoked_token_is_ejected() {
    // What a crash between a revocation and the ejections in another room would leave: the
    // revocation recorded, its holder still in the call. The maintenance round ejects it.
    let room = Room::knocking().await;
    let (mia, _) = room.with_token(json!({"user_name": "Mia"})).await;
    let mut mia_events = mia.enter("Mia").await.named("Mia");
    let id = mia.session_id().await;
    execute(
        &room.app.database_url,
        &[format!(
            "INSERT INTO token_revocations (token_key, revoked_at)
             SELECT token_key, 0 FROM sessions WHERE id = '{id}'"
        )],
    )
    .await;
    let error = mia_events.expect_event("error", EVENT_TIMEOUT).await;
    assert_eq!(error.data["error"]["type"], "ejected", "{error:?}");
    assert_eq!(mia.phase().await, "ejected");
}

#[tokio::test]
async fn a_departure_that_fails_is_tried_again_until_it_succeeds() {
    let grace = Duration::from_millis(300);
    let room = Room::knocking_with(|c| c.presence_grace = grace).await;
    let (_ana, mut ana_events) = room.owner_in_call("Ana").await;
    let (mia, mia_events) = room.member_in_call("Mia").await;
    ana_events
        .expect_event("participant-joined", EVENT_TIMEOUT)
        .await;

    let fault = Fault::install(&room.app.database_url, "left").await;
    drop(mia_events);
    // The grace passes several times over: every attempt to let Mia go fails.
    ana_events.assert_quiet(grace * 5).await;
    assert_eq!(mia.phase().await, "in_call");

    fault.remove().await;
    let left = ana_events
        .expect_event("participant-left", EVENT_TIMEOUT)
        .await;
    assert_eq!(left.data["participant"]["user_name"], "Mia");
    assert_eq!(mia.phase().await, "left");
    assert_eq!(room.presence().await["total_count"], 1);
}

#[tokio::test]
async fn a_session_of_a_deleted_room_does_not_follow_its_visitor_into_a_new_room_of_that_name() {
    let app = spawn_app().await;
    let api = app.api();
    api.create_room(json!({"name": "standup", "privacy": "public"}))
        .await;
    let ben = app.person("standup", None).await;
    let (status, state) = ben.join("Ben").await;
    assert_eq!(status, 200, "{state}");
    let old = state["session_id"].as_str().expect("session id").to_owned();
    let (status, body) = api.call(Method::DELETE, "/v1/rooms/standup", None).await;
    assert_eq!(status, 200, "{body}");
    api.create_room(json!({"name": "standup", "privacy": "public"}))
        .await;

    // Ben comes back to the new room with the old room's cookie.
    let page = ben
        .client
        .get(app.url("/standup"))
        .send()
        .await
        .expect("open the room");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("the page");
    assert!(!html.contains("removed"), "a fresh start, not a removal");
    let state = ben.pre_auth().await;
    assert_eq!(state["phase"], "prejoin", "{state}");
    assert!(state["refusal"].is_null(), "{state}");
    assert_ne!(state["session_id"], old.as_str(), "{state}");
    let (status, state) = ben.join("Ben").await;
    assert_eq!(status, 200, "{state}");
}
