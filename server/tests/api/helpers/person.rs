//! A person in a room as a browser is: their own cookies (one session per room), the call
//! operations under `/api/<operation>`, and their event stream.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{EVENT_TIMEOUT, EventStream, TestApp, client, send};

impl TestApp {
    /// A new person (their own browser) opening `/<room>`, with `?t=<token>` when given.
    pub async fn person(&self, room: &str, token: Option<&str>) -> Person {
        Person::arrive(&self.base_url, room, token).await
    }
}

/// One person in one room: a browser with its own cookies.
pub struct Person {
    /// Their browser.
    pub client: reqwest::Client,
    /// The server they talk to (changes when a test restarts the server on another port).
    pub base_url: String,
    /// The room.
    pub room: String,
}

impl Person {
    /// Opens `/<room>` (with `?t=<token>` when given) in a new browser, which starts a session.
    pub async fn arrive(base_url: &str, room: &str, token: Option<&str>) -> Self {
        Self::arrive_with(client(), base_url, room, token).await
    }

    /// Like [`Person::arrive`], with a given browser.
    pub async fn arrive_with(
        client: reqwest::Client,
        base_url: &str,
        room: &str,
        token: Option<&str>,
    ) -> Self {
        let url = match token {
            Some(token) => format!("{base_url}/{room}?t={token}"),
            None => format!("{base_url}/{room}"),
        };
        let response = client.get(&url).send().await.expect("open the room");
        let cookie = session_cookie(&response, room);
        assert!(
            cookie,
            "GET /{room} ({}) did not start a session",
            response.status()
        );
        if token.is_some() {
            assert_eq!(response.status(), 303, "a token link redirects");
        }
        Self {
            client,
            base_url: base_url.to_owned(),
            room: room.to_owned(),
        }
    }

    /// The request `POST /api/<operation>` with the room and `fields` form-encoded.
    fn operation(&self, operation: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut form = vec![("room", self.room.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}/api/{operation}", self.base_url))
            .form(&form)
    }

    /// `POST /api/<operation>` with the room and `fields` form-encoded.
    pub async fn call(&self, operation: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        send(self.operation(operation, fields)).await
    }

    /// `POST /api/<operation>` like [`Person::call`], but a request that gets no complete
    /// answer (the server died meanwhile) is `None` instead of a panic.
    pub async fn try_call(
        &self,
        operation: &str,
        fields: &[(&str, &str)],
    ) -> Option<(StatusCode, Value)> {
        let response = self.operation(operation, fields).send().await.ok()?;
        let status = response.status();
        let text = response.text().await.ok()?;
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{operation}: {status}: not JSON ({error}): {text}"));
        Some((status, body))
    }

    /// `preAuth`, which must succeed: the session's `CallState`.
    pub async fn pre_auth(&self) -> Value {
        let (status, state) = self.call("pre_auth", &[]).await;
        assert_eq!(status, 200, "pre_auth: {state}");
        state
    }

    /// The session's phase (`prejoin`, `waiting`, `in_call`, ...).
    pub async fn phase(&self) -> String {
        self.pre_auth().await["phase"]
            .as_str()
            .expect("phase")
            .to_owned()
    }

    /// The session's id (its participant id).
    pub async fn session_id(&self) -> String {
        self.pre_auth().await["session_id"]
            .as_str()
            .expect("session_id")
            .to_owned()
    }

    /// `join(name)`.
    pub async fn join(&self, name: &str) -> (StatusCode, Value) {
        self.call("join", &[("name", name)]).await
    }

    /// `requestAccess(name)`: knock, or rename a knock.
    pub async fn knock(&self, name: &str) -> (StatusCode, Value) {
        self.call("request_access", &[("name", name)]).await
    }

    /// `cancel`.
    pub async fn cancel(&self) -> (StatusCode, Value) {
        self.call("cancel", &[]).await
    }

    /// `leave`.
    pub async fn leave(&self) -> (StatusCode, Value) {
        self.call("leave", &[]).await
    }

    /// `waitingParticipants()`.
    pub async fn waiting(&self) -> (StatusCode, Value) {
        self.call("waiting_participants", &[]).await
    }

    /// `updateWaitingParticipant(id, {grantRequestedAccess: grant})`.
    pub async fn decide(&self, id: &str, grant: bool) -> (StatusCode, Value) {
        let grant = if grant { "true" } else { "false" };
        self.call(
            "update_waiting_participant",
            &[("id", id), ("grant", grant)],
        )
        .await
    }

    /// `updateWaitingParticipants(updates)` (a JSON body).
    pub async fn decide_many(&self, updates: Value) -> (StatusCode, Value) {
        send(
            self.client
                .post(format!("{}/api/update_waiting_participants", self.base_url))
                .json(&json!({"room": self.room, "updates": updates})),
        )
        .await
    }

    /// Opens the session's event stream.
    pub async fn events(&self) -> EventStream {
        self.open_events(None).await
    }

    /// Reopens the session's event stream with `Last-Event-ID: last`.
    pub async fn events_after(&self, last: i64) -> EventStream {
        self.open_events(Some(last)).await
    }

    async fn open_events(&self, last: Option<i64>) -> EventStream {
        let mut request = self
            .client
            .get(format!("{}/api/events/{}", self.base_url, self.room));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        EventStream::open(request, &format!("events of {}", self.room)).await
    }

    /// Opens the event stream and joins as `name` (which must succeed); the stream has seen
    /// the access update to `full`.
    pub async fn enter(&self, name: &str) -> EventStream {
        let mut events = self.events().await;
        let (status, state) = self.join(name).await;
        assert_eq!(status, 200, "join as {name}: {state}");
        assert_eq!(state["phase"], "in_call", "{state}");
        let event = events
            .expect_event("access-state-updated", EVENT_TIMEOUT)
            .await;
        assert_eq!(event.data["access"]["level"], "full", "{event:?}");
        events
    }

    /// Knocks as `name` (which must succeed); returns the `CallState`.
    pub async fn knocked(&self, name: &str) -> Value {
        let (status, state) = self.knock(name).await;
        assert_eq!(status, 200, "knock as {name}: {state}");
        assert_eq!(state["phase"], "waiting", "{state}");
        state
    }
}

/// Whether `response` sets the session cookie of `room`.
pub fn session_cookie(response: &reqwest::Response, room: &str) -> bool {
    let prefix = format!("knock-{room}=");
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.starts_with(&prefix))
}
