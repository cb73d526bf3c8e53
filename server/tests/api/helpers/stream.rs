//! A session's server-sent-event stream as the browser's `EventSource` reads it: blocks split
//! into events, keep-alive comments skipped, each event's data parsed as JSON.

use std::{collections::VecDeque, pin::Pin, time::Duration};

use futures_util::{Stream, StreamExt};
use serde_json::Value;

/// How long a test waits for an event it expects.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a test listens to check that nothing arrives.
pub const QUIET: Duration = Duration::from_millis(400);

/// One server-sent event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The SSE `id`.
    pub id: i64,
    /// The SSE `event` name.
    pub name: String,
    /// The `data`, parsed as JSON.
    pub data: Value,
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

/// A session's server-sent-event stream, parsed into [`Event`]s.
pub struct EventStream {
    label: String,
    body: ByteStream,
    buffer: Vec<u8>,
    parsed: VecDeque<Event>,
    ended: bool,
    /// The id of the last event returned.
    pub last_id: i64,
}

impl EventStream {
    /// Sends `request` (a `GET /api/events/...`), which must answer 200 with an event stream.
    pub async fn open(request: reqwest::RequestBuilder, label: &str) -> Self {
        let response = request.send().await.expect("open the event stream");
        let status = response.status();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            panic!("{label}: the stream answered {status}: {body}");
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{label}: content type {content_type}"
        );
        Self::from_body(
            label,
            response
                .bytes_stream()
                .map(|chunk| chunk.map(|bytes| bytes.to_vec())),
        )
    }

    /// Reads events from any body (the reader's own tests feed it chunks).
    pub fn from_body(
        label: &str,
        body: impl Stream<Item = reqwest::Result<Vec<u8>>> + Send + 'static,
    ) -> Self {
        Self {
            label: label.to_owned(),
            body: Box::pin(body),
            buffer: Vec::new(),
            parsed: VecDeque::new(),
            ended: false,
            last_id: 0,
        }
    }

    /// Names this stream in failure messages (e.g. "Ana's stream").
    pub fn named(mut self, label: &str) -> Self {
        label.clone_into(&mut self.label);
        self
    }

    /// The next event within `timeout`, or `None` when none came (or the stream ended).
    pub async fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(event) = self.parsed.pop_front() {
                self.last_id = event.id;
                return Some(event);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_elapsed) => return None,
                Ok(None) | Ok(Some(Err(_))) => self.ended = true,
                Ok(Some(Ok(chunk))) => {
                    self.buffer.extend_from_slice(&chunk);
                    self.parse();
                }
            }
        }
    }

    /// Whether the server closed the stream (seen while waiting for an event).
    pub fn has_ended(&self) -> bool {
        self.ended && self.parsed.is_empty()
    }

    /// Moves every complete block of the buffer into `parsed`.
    fn parse(&mut self) {
        while let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let block = String::from_utf8(block)
                .unwrap_or_else(|error| panic!("{}: not UTF-8: {error}", self.label));
            if let Some(event) = Self::parse_block(&self.label, block.trim_end_matches('\n')) {
                self.parsed.push_back(event);
            }
        }
    }

    /// One SSE block; `None` for a block of comments (keep-alives).
    fn parse_block(label: &str, block: &str) -> Option<Event> {
        let (mut id, mut name, mut data) = (None, None, Vec::new());
        for line in block.lines() {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => {
                    id =
                        Some(value.parse::<i64>().unwrap_or_else(|_| {
                            panic!("{label}: the id {value:?} is not a number")
                        }))
                }
                "event" => name = Some(value.to_owned()),
                "data" => data.push(value.to_owned()),
                other => panic!("{label}: unexpected field {other:?} in {block:?}"),
            }
        }
        if id.is_none() && name.is_none() && data.is_empty() {
            return None;
        }
        let id = id.unwrap_or_else(|| panic!("{label}: an event without id: {block:?}"));
        let name = name.unwrap_or_else(|| panic!("{label}: an event without name: {block:?}"));
        let data: Value = serde_json::from_str(&data.join("\n"))
            .unwrap_or_else(|error| panic!("{label}: data is not JSON ({error}): {block:?}"));
        assert_eq!(
            data["action"], name,
            "{label}: the data's action names the event: {block:?}"
        );
        Some(Event { id, name, data })
    }

    /// The next event, which must be `name` and come within `timeout`.
    pub async fn expect_event(&mut self, name: &str, timeout: Duration) -> Event {
        match self.next_event(timeout).await {
            Some(event) if event.name == name => event,
            Some(other) => panic!(
                "{}: expected `{name}`, got `{}` (id {}): {}",
                self.label, other.name, other.id, other.data
            ),
            None if self.ended => panic!("{}: expected `{name}`, the stream ended", self.label),
            None => panic!(
                "{}: expected `{name}` within {timeout:?}, got nothing",
                self.label
            ),
        }
    }

    /// The next `names.len()` events, which must carry exactly these names in any order;
    /// returned in the order they came.
    pub async fn expect_events_unordered(
        &mut self,
        names: &[&str],
        timeout: Duration,
    ) -> Vec<Event> {
        let mut missing: Vec<&str> = names.to_vec();
        let mut got = Vec::new();
        while !missing.is_empty() {
            let Some(event) = self.next_event(timeout).await else {
                panic!(
                    "{}: still expected {missing:?} within {timeout:?}; got {:?}",
                    self.label,
                    got.iter()
                        .map(|event: &Event| &event.name)
                        .collect::<Vec<_>>()
                );
            };
            let Some(at) = missing.iter().position(|name| *name == event.name) else {
                panic!(
                    "{}: expected one of {missing:?}, got `{}`: {}",
                    self.label, event.name, event.data
                );
            };
            missing.swap_remove(at);
            got.push(event);
        }
        got
    }

    /// The events up to and including the first `name`; the caller checks the ones before it.
    pub async fn events_until(&mut self, name: &str, timeout: Duration) -> Vec<Event> {
        let mut got = Vec::new();
        loop {
            let Some(event) = self.next_event(timeout).await else {
                panic!(
                    "{}: expected `{name}` within {timeout:?}; got only {:?}",
                    self.label,
                    got.iter()
                        .map(|event: &Event| &event.name)
                        .collect::<Vec<_>>()
                );
            };
            let done = event.name == name;
            got.push(event);
            if done {
                return got;
            }
        }
    }

    /// Asserts that no event arrives within `duration`.
    pub async fn assert_quiet(&mut self, duration: Duration) {
        if let Some(event) = self.next_event(duration).await {
            panic!(
                "{}: expected no event, got `{}` (id {}): {}",
                self.label, event.name, event.id, event.data
            );
        }
    }
}

#[tokio::test]
async fn the_test_event_reader_skips_comments_and_joins_split_chunks() {
    let chunks = [
        ": keep-alive\n\n",
        "id: 5\nevent: error\nda",
        "ta: {\"action\":\"error\",\"errorMsg\":\"caf\u{e9}",
        "\"}\n\n:\n\nid: 7\nevent: access-state-updated\n",
        "data: {\"action\":\"access-state-updated\"}\n\n",
    ];
    // Split the accented character across two chunks too.
    let mut bytes: Vec<Vec<u8>> = chunks
        .iter()
        .map(|chunk| chunk.as_bytes().to_vec())
        .collect();
    let at = bytes[2].len() - 1;
    let tail = bytes[2].split_off(at);
    bytes[3].splice(0..0, tail);
    let body = futures_util::stream::iter(bytes.into_iter().map(Ok));
    let mut events = EventStream::from_body("fake", body);
    let error = events.expect_event("error", QUIET).await;
    assert_eq!(
        (error.id, error.data["errorMsg"].as_str()),
        (5, Some("café"))
    );
    let access = events.expect_event("access-state-updated", QUIET).await;
    assert_eq!(access.id, 7);
    assert_eq!(events.last_id, 7);
    assert!(events.next_event(QUIET).await.is_none());
    assert!(events.has_ended());
}
