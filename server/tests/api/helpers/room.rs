//! One private room, `standup`, where tokenless visitors knock: the fixture of the lobby and
//! media tests, with the people a test meets there (owners, admins, members, guests at the
//! door, knockers, and guests let in, turned away or gone).

use std::time::Duration;

use app::ssr::config::Config;
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Api, Database, EVENT_TIMEOUT, Event, EventStream, Person, Snapshot, TestApp, client,
    spawn_app_with, strings,
};

/// A test server with one private room where tokenless visitors knock.
pub struct Room {
    pub app: TestApp,
    pub api: Api,
    pub name: String,
}

impl Room {
    /// A fresh server (default configuration) and the room `standup`.
    pub async fn knocking() -> Self {
        Self::knocking_with(|_| {}).await
    }

    /// A fresh server with an adjusted configuration and the room `standup`.
    pub async fn knocking_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let app = spawn_app_with(adjust).await;
        let api = app.api();
        let name = api.knocking_room("standup").await;
        Self { app, api, name }
    }

    /// Like [`Room::knocking`], but the presence grace is an hour, so no background task writes
    /// the database while a test compares it.
    pub async fn knocking_long_grace() -> Self {
        Self::knocking_long_grace_with(|_| {}).await
    }

    /// Like [`Room::knocking_with`], but the presence grace is an hour (before `adjust`), so no
    /// background task writes the database while a test compares it.
    pub async fn knocking_long_grace_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::knocking_with(|config| {
            config.presence_grace = Duration::from_secs(3600);
            adjust(config);
        })
        .await
    }

    /// Someone opening the room's link with a token of `properties` (plus the room's name).
    pub async fn with_token(&self, properties: Value) -> (Person, String) {
        self.with_token_in(&self.name, properties).await
    }

    /// Someone opening `room`'s link with a token of `properties` (plus the room's name); the
    /// person and the token.
    pub async fn with_token_in(&self, room: &str, mut properties: Value) -> (Person, String) {
        properties["room_name"] = json!(room);
        let token = self.api.token(properties).await;
        (self.app.person(room, Some(&token)).await, token)
    }

    /// Like [`Room::with_token_in`], returning the session's secret (its cookie value) instead
    /// of the token.
    pub async fn with_token_keeping_secret(
        &self,
        room: &str,
        mut properties: Value,
    ) -> (Person, String) {
        properties["room_name"] = json!(room);
        let token = self.api.token(properties).await;
        let client = client();
        let response = client
            .get(self.app.url(&format!("/{room}?t={token}")))
            .send()
            .await
            .expect("open the room");
        assert_eq!(response.status(), 303, "a token link redirects");
        let prefix = format!("knock-{room}=");
        let secret = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix(&prefix))
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("GET /{room} did not start a session"))
            .to_owned();
        let person = Person {
            client,
            base_url: self.app.base_url.clone(),
            room: room.to_owned(),
        };
        (person, secret)
    }

    /// An owner (`is_owner`) named `name`, not yet in the call.
    pub async fn owner(&self, name: &str) -> Person {
        self.with_token(json!({"is_owner": true, "user_name": name}))
            .await
            .0
    }

    /// A non-owner admin (`canAdmin: ["participants"]`) named `name`, not yet in the call.
    pub async fn admin(&self, name: &str) -> Person {
        self.with_token(json!({
            "user_name": name,
            "permissions": {"canAdmin": ["participants"]},
        }))
        .await
        .0
    }

    /// A member (a plain token: joins directly, administers nothing), not yet in the call.
    pub async fn member(&self, name: &str) -> Person {
        self.with_token(json!({"user_name": name})).await.0
    }

    /// An owner named `name` who has entered the call, and their stream (labelled `name`).
    pub async fn owner_in_call(&self, name: &str) -> (Person, EventStream) {
        Self::entered(self.owner(name).await, name).await
    }

    /// A non-owner admin named `name` who has entered the call, and their stream (labelled
    /// `name`).
    pub async fn admin_in_call(&self, name: &str) -> (Person, EventStream) {
        Self::entered(self.admin(name).await, name).await
    }

    /// A member named `name` who has entered the call, and their stream (labelled `name`).
    pub async fn member_in_call(&self, name: &str) -> (Person, EventStream) {
        Self::entered(self.member(name).await, name).await
    }

    /// `person` after entering the call as `name`, and their stream (labelled `name`).
    async fn entered(person: Person, name: &str) -> (Person, EventStream) {
        let events = person.enter(name).await.named(name);
        (person, events)
    }

    /// A tokenless visitor at the door (phase `prejoin`).
    pub async fn guest(&self) -> Person {
        self.app.person(&self.name, None).await
    }

    /// A tokenless visitor who has opened their stream and knocked as `name`; the knock's
    /// answer and the stream have shown access `lobby`, awaiting `full`.
    pub async fn knocker(&self, name: &str) -> (Person, EventStream) {
        self.knock_as(name, true).await
    }

    /// A tokenless visitor who has opened their stream and knocked as `name`; the stream has
    /// seen the access update to `lobby` (nothing else is checked).
    pub async fn knocker_in_lobby(&self, name: &str) -> (Person, EventStream) {
        self.knock_as(name, false).await
    }

    /// A guest who knocks as `name`; checks the access `lobby` on the stream and, when
    /// `awaiting_full`, also the knock's answer and the awaited level `full`.
    async fn knock_as(&self, name: &str, awaiting_full: bool) -> (Person, EventStream) {
        let guest = self.guest().await;
        let mut events = guest.events().await.named(name);
        let state = guest.knocked(name).await;
        if awaiting_full {
            assert_eq!(state["access"]["access"]["level"], "lobby", "{state}");
            assert_eq!(
                state["access"]["awaitingAccess"]["level"], "full",
                "{state}"
            );
        }
        let access = events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await;
        assert_eq!(access.data["access"]["level"], "lobby", "{access:?}");
        if awaiting_full {
            assert_eq!(access.data["awaitingAccess"]["level"], "full", "{access:?}");
        }
        (guest, events)
    }

    /// A knocker (see [`Room::knocker`]) whose knock `admin_events`, the stream of an admin in
    /// the call, has shown; the guest, their stream and the knock's id.
    pub async fn knocker_seen_by(
        &self,
        name: &str,
        admin_events: &mut EventStream,
    ) -> (Person, EventStream, String) {
        let (guest, events) = self.knocker(name).await;
        let added = admin_events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        (guest, events, knock_of(&added, name))
    }

    /// `admin` (an admin in the call) lets in the waiting knock of `name`.
    pub async fn let_in(&self, admin: &Person, name: &str) {
        self.decide_knock_of(admin, name, true).await;
    }

    /// `admin` decides the waiting knock of `name`, which must succeed.
    async fn decide_knock_of(&self, admin: &Person, name: &str, grant: bool) {
        let id = self.knock_id(name).await;
        let (status, answer) = admin.decide(&id, grant).await;
        assert_eq!(status, 200, "decide {name} (grant: {grant}): {answer}");
    }

    /// The id of the waiting knock of `name` (REST lobby).
    pub async fn knock_id(&self, name: &str) -> String {
        let waiting = self.waiting().await;
        waiting["data"]
            .as_array()
            .expect("a list")
            .iter()
            .find(|knock| knock["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not waiting: {waiting}"))["id"]
            .as_str()
            .expect("knock id")
            .to_owned()
    }

    /// A guest who knocked as `name` (see [`Room::knocker_in_lobby`]) and whom `admin` (an
    /// admin in the call) let in.
    pub async fn admitted(&self, admin: &Person, name: &str) -> (Person, EventStream) {
        let (guest, mut events) = self.knocker_in_lobby(name).await;
        self.decide_knock_of(admin, name, true).await;
        let access = events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await;
        assert_eq!(access.data["access"]["level"], "full", "{access:?}");
        assert_eq!(guest.phase().await, "in_call");
        (guest, events)
    }

    /// A guest who knocked as `name` (see [`Room::knocker_in_lobby`]) and whom `admin` turned
    /// away.
    pub async fn denied(&self, admin: &Person, name: &str) -> (Person, EventStream) {
        let (guest, mut events) = self.knocker_in_lobby(name).await;
        self.decide_knock_of(admin, name, false).await;
        let error = events.expect_event("error", EVENT_TIMEOUT).await;
        assert_eq!(error.data["error"]["type"], "not-allowed", "{error:?}");
        assert_eq!(guest.phase().await, "denied");
        (guest, events)
    }

    /// A guest who was let in as `name` and then left the call.
    pub async fn gone(&self, admin: &Person, name: &str) -> (Person, EventStream) {
        let (guest, events) = self.admitted(admin, name).await;
        let (status, state) = guest.leave().await;
        assert_eq!(status, 200, "{name} leaves: {state}");
        assert_eq!(guest.phase().await, "left");
        (guest, events)
    }

    /// `GET /v1/rooms/{room}/waiting`.
    pub async fn waiting(&self) -> Value {
        self.api.waiting(&self.name).await
    }

    /// The ids in the REST lobby, oldest knock first.
    pub async fn waiting_ids(&self) -> Vec<String> {
        strings(&self.waiting().await["data"], "id")
    }

    /// `GET /v1/rooms/{room}/presence`.
    pub async fn presence(&self) -> Value {
        self.api
            .get(&format!("/v1/rooms/{}/presence", self.name))
            .await
    }

    /// `POST /v1/rooms/{room}/waiting` with `body`; status and answer.
    pub async fn rest_decide(&self, body: Value) -> (reqwest::StatusCode, Value) {
        self.api
            .call(
                Method::POST,
                &format!("/v1/rooms/{}/waiting", self.name),
                Some(body),
            )
            .await
    }

    /// Every row of the database now.
    pub async fn snapshot(&self) -> Snapshot {
        Database::open_read_only(&self.app.database_url)
            .await
            .snapshot()
            .await
    }
}

/// The knock id in a `waiting-participant-*` event, after checking the event's shape.
pub fn knock_of(event: &Event, name: &str) -> String {
    let participant = &event.data["participant"];
    assert_eq!(participant["name"], name, "{event:?}");
    assert_eq!(participant["awaitingAccess"]["level"], "full", "{event:?}");
    let id = participant["id"].as_str().expect("knock id").to_owned();
    assert!(!id.is_empty(), "{event:?}");
    id
}
