//! The REST API as a test calls it: requests carrying the API key, JSON answers, and the checks
//! every REST test makes on them (error sentences, field names, lists).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestApp;

/// The REST API of a server, authenticated with its key.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The key sent as `Authorization: Bearer`.
    pub api_key: String,
    client: reqwest::Client,
}

/// Sends `request`; returns the status and the JSON answer (panics on an answer that is not
/// JSON, by content type or body).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert!(
        content_type.starts_with("application/json"),
        "{status}: content type {content_type:?}: {text}"
    );
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{status}: not JSON ({error}): {text}"));
    (status, body)
}

impl Api {
    /// The API of the server at `base_url`.
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            api_key: api_key.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// `method path` with `body` (JSON) when given; the status and the JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.api_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// `GET path`, which must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `POST path` with `body`, which must answer 200.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(Method::POST, path, Some(body.clone())).await;
        assert_eq!(status, 200, "POST {path} {body}: {answer}");
        answer
    }

    /// Creates a room from a `POST /v1/rooms` body.
    pub async fn create_room(&self, body: Value) -> Value {
        self.post("/v1/rooms", body).await
    }

    /// Creates a private room named `name` where tokenless visitors knock.
    pub async fn knocking_room(&self, name: &str) -> String {
        self.create_room(json!({
            "name": name,
            "privacy": "private",
            "properties": {"enable_knocking": true},
        }))
        .await;
        name.to_owned()
    }

    /// Mints a meeting token with `properties`.
    pub async fn token(&self, properties: Value) -> String {
        let body = self
            .post("/v1/meeting-tokens", json!({"properties": properties}))
            .await;
        body["token"]
            .as_str()
            .expect("token is a string")
            .to_owned()
    }

    /// `GET /v1/rooms/{room}/waiting`.
    pub async fn waiting(&self, room: &str) -> Value {
        self.get(&format!("/v1/rooms/{room}/waiting")).await
    }

    /// The names in `GET /v1/rooms/{room}/waiting`, oldest knock first.
    pub async fn waiting_names(&self, room: &str) -> Vec<String> {
        let waiting = self.waiting(room).await;
        waiting["data"]
            .as_array()
            .expect("data is a list")
            .iter()
            .map(|entry| entry["name"].as_str().expect("name").to_owned())
            .collect()
    }
}

impl TestApp {
    /// The REST API of this server.
    pub fn api(&self) -> Api {
        Api::new(&self.base_url, &self.api_key)
    }
}

/// A request to `path` on `app` carrying the API key.
pub fn authed(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&app.api_key)
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(seconds).expect("seconds fit")
}

/// Whether `info` names `field` as a word of its own (so "exp" is not found in "expected").
pub fn mentions(info: &str, field: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    info.match_indices(field)
        .any(|(at, _)| !info[..at].ends_with(word) && !info[at + field.len()..].starts_with(word))
}

/// Asserts an error answer: its status and `{"error": "<type>", "info": "<sentence>"}`.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected: u16, kind: &str) {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(body["error"], kind, "{body}");
    let sentence = body["info"]
        .as_str()
        .unwrap_or_else(|| panic!("expected {{\"error\", \"info\"}}, got {body}"));
    assert!(sentence.len() > 10, "a sentence, not {sentence:?}");
}

/// `field` of every object in the JSON list `list`.
pub fn strings(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field} in {item}"))
                .to_owned()
        })
        .collect()
}

/// Of concurrent decisions `(grant, answer)` on the knock `id`, the one that decided it (its
/// answer lists `id` in `ids`); every other answer must list it in `alreadyHandled`. Returns
/// whether the winner granted.
pub fn the_one_decision(answers: &[(bool, Value)], id: &str) -> bool {
    let winners: Vec<bool> = answers
        .iter()
        .filter(|(_, answer)| answer["ids"] == json!([id]))
        .map(|(grant, _)| *grant)
        .collect();
    let handled = answers
        .iter()
        .filter(|(_, answer)| answer["alreadyHandled"] == json!([id]))
        .count();
    assert_eq!(winners.len(), 1, "exactly one decision: {answers:?}");
    assert_eq!(handled, answers.len() - 1, "{answers:?}");
    winners[0]
}
