//! Janus as the SFU: a client of its HTTP API (the VideoRoom plugin) that carries the
//! `api_secret` on every request. Rooms are created with a `pin` and a `secret`; each
//! participant gets a Janus session of its own with one VideoRoom handle, which Knock long-polls
//! (which also keeps it alive) and destroys when the participant leaves the call.

use std::{sync::OnceLock, time::Duration};

use serde_json::{Value, json};

use super::error::SfuError;
use crate::ssr::config::JanusServer;

/// The plugin every handle attaches to.
const VIDEOROOM: &str = "janus.plugin.videoroom";
/// How long a request to Janus may take (it answers on loopback or a private network).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long Janus holds a long poll before answering `keepalive` (30 s) and some slack.
const POLL_TIMEOUT: Duration = Duration::from_secs(40);
/// The most events one long poll returns.
const POLL_EVENTS: u32 = 16;

/// Janus's error codes that Knock handles rather than reports.
mod code {
    /// The Janus session does not exist (expired or destroyed).
    pub const NO_SUCH_SESSION: i64 = 458;
    /// The VideoRoom room does not exist.
    pub const NO_SUCH_ROOM: i64 = 426;
    /// The VideoRoom room exists already.
    pub const ROOM_EXISTS: i64 = 427;
    /// A field has the wrong type (a string room id on a Janus without `string_ids`).
    pub const INVALID_ELEMENT: i64 = 430;
}

/// The HTTP client of every request to Janus: timeouts on connecting and on the answer, and no
/// redirects. Each request opens its own connection (Janus's API is on loopback or a private
/// network, where that costs little): a pooled connection lives on the async runtime that opened
/// it and fails once that runtime is gone, and servers started in tests each have their own.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Knock/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}

/// A Janus server's HTTP API.
#[derive(Clone, Debug)]
pub struct Janus {
    server: JanusServer,
}

/// A participant's Janus session and its VideoRoom handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JanusHandle {
    /// The Janus session.
    pub session: i64,
    /// The VideoRoom handle in it.
    pub handle: i64,
}

impl Janus {
    /// The client of `server`.
    pub fn new(server: JanusServer) -> Self {
        Self { server }
    }

    fn transaction() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    /// POSTs `body` (with a transaction and the secret) to `path` under the API; the answer,
    /// unless Janus answered an error.
    async fn post(&self, path: &str, mut body: Value) -> Result<Value, SfuError> {
        body["transaction"] = Value::String(Self::transaction());
        body["apisecret"] = Value::String(self.server.api_secret.expose().to_owned());
        let answer: Value = client()
            .post(format!("{}{path}", self.server.url))
            .timeout(REQUEST_TIMEOUT)
            .json(&body)
            .send()
            .await
            .map_err(SfuError::unreachable)?
            .error_for_status()
            .map_err(SfuError::unreachable)?
            .json()
            .await
            .map_err(SfuError::unreachable)?;
        check(answer)
    }

    /// Creates a Janus session; its id.
    async fn create_session(&self) -> Result<i64, SfuError> {
        let answer = self.post("", json!({"janus": "create"})).await?;
        id_of(&answer)
    }

    /// Attaches a VideoRoom handle to `session`; its id.
    async fn attach(&self, session: i64) -> Result<i64, SfuError> {
        let answer = self
            .post(
                &format!("/{session}"),
                json!({"janus": "attach", "plugin": VIDEOROOM}),
            )
            .await?;
        id_of(&answer)
    }

    /// Destroys `session` (and so its handles, which leave their rooms); done when it is gone
    /// already.
    pub async fn destroy_session(&self, session: i64) -> Result<(), SfuError> {
        match self
            .post(&format!("/{session}"), json!({"janus": "destroy"}))
            .await
        {
            Ok(_) => Ok(()),
            Err(SfuError::Refused { code, .. }) if code == code::NO_SUCH_SESSION => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A synchronous VideoRoom request on `handle`: the plugin's answer, unless it is an error.
    async fn request(&self, handle: JanusHandle, body: Value) -> Result<Value, SfuError> {
        let answer = self
            .post(
                &format!("/{}/{}", handle.session, handle.handle),
                json!({"janus": "message", "body": body}),
            )
            .await?;
        let data = answer
            .pointer("/plugindata/data")
            .cloned()
            .ok_or_else(|| SfuError::Protocol(format!("no plugin data in {answer}")))?;
        check_plugin(data)
    }

    /// An asynchronous VideoRoom request on `handle` (its outcome arrives as an event).
    async fn send(
        &self,
        handle: JanusHandle,
        body: Value,
        jsep: Option<Value>,
    ) -> Result<(), SfuError> {
        let mut message = json!({"janus": "message", "body": body});
        if let Some(jsep) = jsep {
            message["jsep"] = jsep;
        }
        self.post(&format!("/{}/{}", handle.session, handle.handle), message)
            .await
            .map(|_| ())
    }

    /// Runs `work` on a short-lived session and handle of Knock's own (which never joins a
    /// room), destroying the session afterwards.
    async fn with_control<T>(
        &self,
        work: impl AsyncFnOnce(JanusHandle) -> Result<T, SfuError>,
    ) -> Result<T, SfuError> {
        let session = self.create_session().await?;
        let outcome = match self.attach(session).await {
            Ok(handle) => work(JanusHandle { session, handle }).await,
            Err(error) => Err(error),
        };
        if let Err(error) = self.destroy_session(session).await {
            tracing::warn!(%error, session, "destroying a Janus control session");
        }
        outcome
    }

    /// Creates the VideoRoom room `room`, with `pin` and `secret`, for
    /// `publishers` publishers. An id that Janus refuses for its type (strings without
    /// `string_ids`, numbers with it) is answered `InvalidRoomId`; one that exists already is
    /// fine (another server created it).
    pub async fn create_room(
        &self,
        room: &Value,
        pin: &str,
        secret: &str,
        publishers: i64,
    ) -> Result<(), SfuError> {
        let body = json!({
            "request": "create",
            "room": room,
            "pin": pin,
            "secret": secret,
            "publishers": publishers,
            "permanent": false,
            "description": "Knock",
        });
        match self
            .with_control(async |handle| self.request(handle, body).await)
            .await
        {
            Ok(_) => Ok(()),
            Err(SfuError::Refused { code, .. }) if code == code::ROOM_EXISTS => Ok(()),
            Err(SfuError::Refused { code, .. }) if code == code::INVALID_ELEMENT => {
                Err(SfuError::InvalidRoomId)
            }
            Err(error) => Err(error),
        }
    }

    /// Destroys the room `room` with its `secret` (everyone in it is thrown out); done when it
    /// is gone already.
    pub async fn destroy_room(&self, room: &Value, secret: &str) -> Result<(), SfuError> {
        let body = json!({"request": "destroy", "room": room, "secret": secret});
        match self
            .with_control(async |handle| self.request(handle, body).await)
            .await
        {
            Ok(_) => Ok(()),
            Err(SfuError::Refused { code, .. }) if code == code::NO_SUCH_ROOM => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A new Janus session with a VideoRoom handle, for one participant.
    pub async fn open(&self) -> Result<JanusHandle, SfuError> {
        let session = self.create_session().await?;
        match self.attach(session).await {
            Ok(handle) => Ok(JanusHandle { session, handle }),
            Err(error) => {
                let _ = self.destroy_session(session).await;
                Err(error)
            }
        }
    }

    /// Joins `room` as a publisher named `display` (the Knock session id) and offers `offer`
    /// (an SDP); the answer arrives as an event.
    pub async fn publish(
        &self,
        handle: JanusHandle,
        room: &Value,
        pin: &str,
        display: &str,
        offer: &str,
    ) -> Result<(), SfuError> {
        let body = json!({
            "request": "joinandconfigure",
            "ptype": "publisher",
            "room": room,
            "pin": pin,
            "display": display,
        });
        let jsep = json!({"type": "offer", "sdp": offer});
        self.send(handle, body, Some(jsep)).await
    }

    /// Attaches one more VideoRoom handle to `session` (the one that receives the others'
    /// media); its id.
    pub async fn attach_handle(&self, session: i64) -> Result<i64, SfuError> {
        self.attach(session).await
    }

    /// Subscribes `handle` to `feeds` (their ids in `room`): `first`, it joins the room as a
    /// subscriber with them; otherwise it adds them. Janus offers the media as an event.
    pub async fn subscribe(
        &self,
        handle: JanusHandle,
        room: &Value,
        pin: &str,
        feeds: &[Value],
        first: bool,
    ) -> Result<(), SfuError> {
        let streams: Vec<Value> = feeds.iter().map(|feed| json!({"feed": feed})).collect();
        let body = if first {
            json!({
                "request": "join",
                "ptype": "subscriber",
                "room": room,
                "pin": pin,
                "streams": streams,
            })
        } else {
            json!({"request": "subscribe", "streams": streams})
        };
        self.send(handle, body, None).await
    }

    /// Starts what a subscriber receives with the browser's `answer` (an SDP) to Janus's offer.
    pub async fn start(&self, handle: JanusHandle, answer: &str) -> Result<(), SfuError> {
        let jsep = json!({"type": "answer", "sdp": answer});
        self.send(handle, json!({"request": "start"}), Some(jsep))
            .await
    }

    /// Offers `offer` again on a publisher that has joined (a renegotiation).
    pub async fn reconfigure(&self, handle: JanusHandle, offer: &str) -> Result<(), SfuError> {
        let jsep = json!({"type": "offer", "sdp": offer});
        self.send(handle, json!({"request": "configure"}), Some(jsep))
            .await
    }

    /// Passes on a browser's ICE candidate (`RTCIceCandidateInit`).
    pub async fn trickle(&self, handle: JanusHandle, candidate: Value) -> Result<(), SfuError> {
        self.post(
            &format!("/{}/{}", handle.session, handle.handle),
            json!({"janus": "trickle", "candidate": candidate}),
        )
        .await
        .map(|_| ())
    }

    /// The participants of `room` as Janus lists them (their `display` names).
    pub async fn participants(&self, room: &Value) -> Result<Vec<String>, SfuError> {
        let body = json!({"request": "listparticipants", "room": room});
        let data = self
            .with_control(async |handle| self.request(handle, body).await)
            .await?;
        Ok(data["participants"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|p| p["display"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Waits (up to 30 s) for `session`'s next events; an empty list when none came (Janus's
    /// `keepalive` answer). A poll keeps the session alive.
    pub async fn poll(&self, session: i64) -> Result<Vec<Value>, SfuError> {
        let answer: Value = client()
            .get(format!("{}/{session}", self.server.url))
            .query(&[
                ("apisecret", self.server.api_secret.expose()),
                ("maxev", &POLL_EVENTS.to_string()),
            ])
            .timeout(POLL_TIMEOUT)
            .send()
            .await
            .map_err(SfuError::unreachable)?
            .error_for_status()
            .map_err(SfuError::unreachable)?
            .json()
            .await
            .map_err(SfuError::unreachable)?;
        let events = match answer {
            Value::Array(events) => events,
            event => vec![event],
        };
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            let event = check(event)?;
            if event["janus"] != "keepalive" {
                out.push(event);
            }
        }
        Ok(out)
    }
}

/// `answer`, unless it is Janus's error.
fn check(answer: Value) -> Result<Value, SfuError> {
    if answer["janus"] == "error" {
        return Err(SfuError::Refused {
            code: answer
                .pointer("/error/code")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            reason: answer
                .pointer("/error/reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
                .to_owned(),
        });
    }
    Ok(answer)
}

/// The VideoRoom plugin's `data`, unless it is an error.
fn check_plugin(data: Value) -> Result<Value, SfuError> {
    if let Some(code) = data.get("error_code").and_then(Value::as_i64) {
        return Err(SfuError::Refused {
            code,
            reason: data["error"]
                .as_str()
                .unwrap_or("no reason given")
                .to_owned(),
        });
    }
    Ok(data)
}

/// The `data.id` of a `create` or `attach` answer.
fn id_of(answer: &Value) -> Result<i64, SfuError> {
    answer
        .pointer("/data/id")
        .and_then(Value::as_i64)
        .ok_or_else(|| SfuError::Protocol(format!("no id in {answer}")))
}

/// What one of a participant's Janus events means to Knock.
#[derive(Clone, Debug, PartialEq)]
pub enum JanusEvent {
    /// The participant joined the room with this id (its feed).
    Joined(Value),
    /// Janus's answer to the participant's offer.
    Answer(String),
    /// The participant's handle or session is gone (hung up, kicked, destroyed).
    Gone,
    /// The VideoRoom refused what the participant asked (joining a room that is gone, say).
    Refused(String),
    /// Others publishing in the room now: their ids there and display names (Knock session
    /// ids).
    Publishers(Vec<(Value, String)>),
    /// Someone stopped publishing or left the room (their id there).
    Unpublished(Value),
    /// Janus offers a subscriber the media it subscribed to; each active media section (by
    /// mid) with the display name of whose it is.
    Offer {
        /// The offer.
        sdp: String,
        /// (mid, display name) of each active section.
        streams: Vec<(String, String)>,
    },
    /// Anything else (media state, a subscription started).
    Other,
}

/// The publishers a VideoRoom event lists: (id, display).
fn publishers(data: &Value) -> Vec<(Value, String)> {
    data["publishers"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|publisher| !publisher["id"].is_null())
                .map(|publisher| {
                    (
                        publisher["id"].clone(),
                        publisher["display"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The active streams a subscriber's event lists: (mid, whose display name).
fn streams(data: &Value) -> Vec<(String, String)> {
    data["streams"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|stream| stream["active"] != false)
                .filter_map(|stream| {
                    Some((
                        stream["mid"].as_str()?.to_owned(),
                        stream["feed_display"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a Janus event: what it says, in order (a `joined` event may carry the answer too).
pub fn interpret(event: &Value) -> Vec<JanusEvent> {
    match event["janus"].as_str() {
        Some("detached" | "hangup") => return vec![JanusEvent::Gone],
        Some("event") => {}
        _ => return vec![JanusEvent::Other],
    }
    let mut said = Vec::new();
    let gone_feed = |data: &Value, key: &str| {
        data.get(key)
            .filter(|feed| !feed.is_null() && **feed != "ok")
            .cloned()
    };
    match event.pointer("/plugindata/data") {
        Some(data) if data["videoroom"] == "joined" => {
            said.push(JanusEvent::Joined(data["id"].clone()));
            let others = publishers(data);
            if !others.is_empty() {
                said.push(JanusEvent::Publishers(others));
            }
        }
        Some(data) if data["leaving"] == "ok" || data["videoroom"] == "destroyed" => {
            said.push(JanusEvent::Gone);
        }
        Some(data) if data.get("error_code").is_none() && data.get("publishers").is_some() => {
            said.push(JanusEvent::Publishers(publishers(data)));
        }
        Some(data)
            if gone_feed(data, "unpublished").is_some() || gone_feed(data, "leaving").is_some() =>
        {
            for key in ["unpublished", "leaving"] {
                if let Some(feed) = gone_feed(data, key) {
                    said.push(JanusEvent::Unpublished(feed));
                }
            }
        }
        Some(data) if data.get("error_code").is_some() => {
            said.push(JanusEvent::Refused(format!(
                "{}: {}",
                data["error_code"],
                data["error"].as_str().unwrap_or("no reason given")
            )));
        }
        _ => {}
    }
    if let Some(jsep) = event.get("jsep")
        && let Some(sdp) = jsep["sdp"].as_str()
    {
        if jsep["type"] == "answer" {
            said.push(JanusEvent::Answer(sdp.to_owned()));
        } else if jsep["type"] == "offer" {
            let data = event.pointer("/plugindata/data").unwrap_or(&Value::Null);
            said.push(JanusEvent::Offer {
                sdp: sdp.to_owned(),
                streams: streams(data),
            });
        }
    }
    if said.is_empty() {
        said.push(JanusEvent::Other);
    }
    said
}

#[cfg(test)]
mod tests {
    // By its full path: `super` would name the parent module, which imports this one.
    use crate::ssr::sfu::janus::*;

    #[test]
    fn janus_errors_and_plugin_errors_are_refusals() {
        let error = json!({"janus": "error", "error": {"code": 403, "reason": "Unauthorized"}});
        assert!(matches!(
            check(error),
            Err(SfuError::Refused { code: 403, .. })
        ));
        let data = json!({"videoroom": "event", "error_code": 433, "error": "wrong secret"});
        assert!(matches!(
            check_plugin(data),
            Err(SfuError::Refused { code: 433, .. })
        ));
        assert!(check(json!({"janus": "success"})).is_ok());
    }

    #[test]
    fn events_are_read_for_what_knock_needs() {
        let joined = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "joined", "room": "r", "id": "feed-1", "publishers": []}}});
        assert_eq!(interpret(&joined), [JanusEvent::Joined(json!("feed-1"))]);
        let answer = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "event", "configured": "ok"}},
            "jsep": {"type": "answer", "sdp": "v=0"}});
        assert_eq!(interpret(&answer), [JanusEvent::Answer("v=0".into())]);
        let both = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "joined", "id": 7}}, "jsep": {"type": "answer", "sdp": "v=0"}});
        assert_eq!(
            interpret(&both),
            [
                JanusEvent::Joined(json!(7)),
                JanusEvent::Answer("v=0".into())
            ]
        );
        assert_eq!(interpret(&json!({"janus": "detached"})), [JanusEvent::Gone]);
        let refused = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "event", "error_code": 426, "error": "No such room"}}});
        assert_eq!(
            interpret(&refused),
            [JanusEvent::Refused("426: No such room".into())]
        );
        assert_eq!(
            interpret(&json!({"janus": "webrtcup"})),
            [JanusEvent::Other]
        );
    }

    #[test]
    fn publishers_coming_and_going_and_a_subscribers_offer_are_read() {
        let joined = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "joined", "id": 7,
                "publishers": [{"id": 8, "display": "ana", "streams": []}]}}});
        assert_eq!(
            interpret(&joined),
            [
                JanusEvent::Joined(json!(7)),
                JanusEvent::Publishers(vec![(json!(8), "ana".into())])
            ]
        );
        let more = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "event", "room": 1,
                "publishers": [{"id": 9, "display": "leo"}]}}});
        assert_eq!(
            interpret(&more),
            [JanusEvent::Publishers(vec![(json!(9), "leo".into())])]
        );
        for key in ["unpublished", "leaving"] {
            let gone = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
                "data": {"videoroom": "event", "room": 1, key: 9}}});
            assert_eq!(interpret(&gone), [JanusEvent::Unpublished(json!(9))]);
        }
        let attached = json!({"janus": "event", "plugindata": {"plugin": VIDEOROOM,
            "data": {"videoroom": "attached", "room": 1, "streams": [
                {"type": "audio", "active": true, "mid": "0", "feed_id": 8, "feed_display": "ana"},
                {"type": "video", "active": false, "mid": "1", "feed_id": 9, "feed_display": "leo"},
            ]}}, "jsep": {"type": "offer", "sdp": "v=0"}});
        assert_eq!(
            interpret(&attached),
            [JanusEvent::Offer {
                sdp: "v=0".into(),
                streams: vec![("0".into(), "ana".into())]
            }]
        );
    }
}
