//! Talking to Knock as its users do: the REST API with the key, and people in rooms (one
//! browser, so one cookie jar and one source address, each) using the call protocol.

use std::{net::IpAddr, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};

/// The bench's error: a sentence saying what failed.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// The bench's result.
pub type Result<T> = std::result::Result<T, Error>;

/// An error from a sentence.
pub fn fail<T>(sentence: impl Into<String>) -> Result<T> {
    Err(sentence.into().into())
}

/// The loopback address `127.<a>.<b>.<c>`: every simulated client has its own, as the knock
/// limit counts per client address.
pub fn loopback(a: u8, b: u8, c: u8) -> IpAddr {
    IpAddr::from([127, a, b, c])
}

/// The `n`-th address of the block `127.<a>.*.*` (never `.0` or `.255` in the last byte).
pub fn nth_address(a: u8, n: usize) -> IpAddr {
    let b = u8::try_from(n / 250).unwrap_or(u8::MAX);
    let c = u8::try_from(n % 250 + 1).unwrap_or(1);
    loopback(a, b, c)
}

/// A browser at `address`: its own cookies, redirects not followed.
pub fn browser(address: IpAddr) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address)
        .connect_timeout(Duration::from_secs(10))
        .build()?)
}

/// The REST API of the server under test.
#[derive(Clone)]
pub struct Api {
    base_url: String,
    key: String,
    client: reqwest::Client,
}

impl Api {
    /// The API at `base_url`, with `key`.
    pub fn new(base_url: &str, key: &str) -> Result<Self> {
        Ok(Self {
            base_url: base_url.to_owned(),
            key: key.to_owned(),
            client: reqwest::Client::builder().build()?,
        })
    }

    /// `method path` with a JSON body, which must answer 200: its JSON.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if status != StatusCode::OK {
            return fail(format!("{method} {path} answered {status}: {text}"));
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// A private room `name` where tokenless visitors knock.
    pub async fn knocking_room(&self, name: &str) -> Result<()> {
        let body = json!({
            "name": name,
            "privacy": "private",
            "properties": {"enable_knocking": true},
        });
        self.call(reqwest::Method::POST, "/v1/rooms", Some(body))
            .await
            .map(drop)
    }

    /// An owner token for `room`, for `user_name`.
    pub async fn owner_token(&self, room: &str, user_name: &str) -> Result<String> {
        let body = json!({"properties": {
            "room_name": room, "is_owner": true, "user_name": user_name,
        }});
        let answer = self
            .call(reqwest::Method::POST, "/v1/meeting-tokens", Some(body))
            .await?;
        match answer["token"].as_str() {
            Some(token) => Ok(token.to_owned()),
            None => fail(format!("no token in {answer}")),
        }
    }

    /// A webhook to `url`, subscribed to every event: its uuid.
    pub async fn create_webhook(&self, url: &str) -> Result<String> {
        let hook = self
            .call(
                reqwest::Method::POST,
                "/v1/webhooks",
                Some(json!({"url": url})),
            )
            .await?;
        match hook["uuid"].as_str() {
            Some(uuid) => Ok(uuid.to_owned()),
            None => fail(format!("no uuid in {hook}")),
        }
    }

    /// Deletes webhook `uuid` (what it was still owed with it).
    pub async fn delete_webhook(&self, uuid: &str) -> Result<()> {
        self.call(
            reqwest::Method::DELETE,
            &format!("/v1/webhooks/{uuid}"),
            None,
        )
        .await
        .map(drop)
    }

    /// `GET path`: its JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Deletes `room` (everyone in it and in its lobby is ejected).
    pub async fn delete_room(&self, room: &str) -> Result<()> {
        self.call(reqwest::Method::DELETE, &format!("/v1/rooms/{room}"), None)
            .await
            .map(drop)
    }

    /// How many knocks wait in `room`.
    pub async fn waiting_count(&self, room: &str) -> Result<i64> {
        let waiting = self.get(&format!("/v1/rooms/{room}/waiting")).await?;
        waiting["total_count"]
            .as_i64()
            .ok_or_else(|| format!("no total_count in {waiting}").into())
    }
}

/// One person in one room: a browser with a session.
pub struct Person {
    /// Their browser.
    pub client: reqwest::Client,
    base_url: String,
    /// The room.
    pub room: String,
}

/// An operation's answer: the status and the body.
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body, as text.
    pub body: String,
}

impl Person {
    /// Opens `/<room>` (with `?t=<token>` when given) from a new browser at `address`, which
    /// starts a session.
    pub async fn arrive(
        base_url: &str,
        address: IpAddr,
        room: &str,
        token: Option<&str>,
    ) -> Result<Self> {
        let client = browser(address)?;
        let url = match token {
            Some(token) => format!("{base_url}/{room}?t={token}"),
            None => format!("{base_url}/{room}"),
        };
        let response = client.get(&url).send().await?;
        let status = response.status();
        let prefix = format!("knock-{room}=");
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.starts_with(&prefix));
        // Read the page to its end, as a browser would, so the connection can be reused.
        response.bytes().await?;
        let expected = if token.is_some() {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::OK
        };
        if !cookie || status != expected {
            return fail(format!(
                "GET /{room} from {address} answered {status} (cookie set: {cookie})"
            ));
        }
        Ok(Self {
            client,
            base_url: base_url.to_owned(),
            room: room.to_owned(),
        })
    }

    /// The same browser (so the same session) talking to the server at `base_url`: another
    /// server on the same database.
    pub fn on(&self, base_url: &str) -> Self {
        Self {
            client: self.client.clone(),
            base_url: base_url.to_owned(),
            room: self.room.clone(),
        }
    }

    /// `POST /api/<operation>` with the room and `fields`, form-encoded.
    pub async fn call(&self, operation: &str, fields: &[(&str, &str)]) -> Result<Answer> {
        let mut form = vec![("room", self.room.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .client
            .post(format!("{}/api/{operation}", self.base_url))
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        Ok(Answer { status, body })
    }

    /// The call operation `operation`, which must answer 200.
    pub async fn must(&self, operation: &str, fields: &[(&str, &str)]) -> Result<()> {
        let answer = self.call(operation, fields).await?;
        if answer.status != StatusCode::OK {
            return fail(format!(
                "{operation} in {} answered {}: {}",
                self.room, answer.status, answer.body
            ));
        }
        Ok(())
    }

    /// `requestAccess(name)`: knock.
    pub async fn knock(&self, name: &str) -> Result<Answer> {
        self.call("request_access", &[("name", name)]).await
    }

    /// Opens the session's event stream (not yet read).
    pub async fn stream(&self) -> Result<reqwest::Response> {
        let response = self
            .client
            .get(format!("{}/api/events/{}", self.base_url, self.room))
            .send()
            .await?;
        let status = response.status();
        let event_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if status != StatusCode::OK || !event_stream {
            let body = response.text().await.unwrap_or_default();
            return fail(format!(
                "the event stream of {} answered {status}: {body}",
                self.room
            ));
        }
        Ok(response)
    }

    /// `GET /<room>` again, with the session: the page's status and its length.
    pub async fn page(&self) -> Result<(StatusCode, String)> {
        let response = self.page_request().send().await?;
        let status = response.status();
        Ok((status, response.text().await?))
    }

    /// `GET /<room>`, to send.
    fn page_request(&self) -> reqwest::RequestBuilder {
        self.client.get(format!("{}/{}", self.base_url, self.room))
    }

    /// `GET /<room>` as a browser asks for it (`Accept-Encoding: br, gzip`): the status, the
    /// `Content-Encoding` and the bytes of the compressed body.
    pub async fn page_compressed(&self) -> Result<(StatusCode, String, usize)> {
        let response = self
            .page_request()
            .header(reqwest::header::ACCEPT_ENCODING, "br, gzip")
            .send()
            .await?;
        let status = response.status();
        let encoding = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((status, encoding, response.bytes().await?.len()))
    }
}
