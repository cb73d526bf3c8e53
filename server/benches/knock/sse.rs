//! Server-sent events as the bench reads them: each open stream is drained by its own task,
//! which stamps the moment a chunk arrived and passes on the events a figure waits for.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Instant,
};

use serde_json::Value;
use tokio::{sync::mpsc, task::JoinHandle};

/// One event, as a figure sees it.
#[derive(Debug)]
pub struct Delivery {
    /// Which stream (the index given to [`spawn_reader`]).
    pub stream: usize,
    /// The SSE `id`.
    pub id: i64,
    /// The SSE `event` name.
    pub name: String,
    /// `participant.name` (knocks) or `participant.user_name` (people in the call).
    pub who: Option<String>,
    /// When the chunk carrying it arrived.
    pub at: Instant,
}

/// What all readers of a phase saw.
#[derive(Default)]
pub struct Counters {
    /// Streams that ended or failed while they should have stayed open.
    pub ended: AtomicUsize,
    /// Events read.
    pub events: AtomicU64,
}

impl Counters {
    /// Streams that ended so far.
    pub fn ended(&self) -> usize {
        self.ended.load(Ordering::Relaxed)
    }
}

/// Splits a byte stream into SSE blocks (separated by a blank line).
#[derive(Default)]
pub struct Parser {
    buffer: Vec<u8>,
}

/// One parsed block.
#[derive(Debug, PartialEq)]
pub struct Block {
    /// `id:` (0 when absent).
    pub id: i64,
    /// `event:`.
    pub name: String,
    /// `data:` lines joined by newlines.
    pub data: String,
}

impl Parser {
    /// Adds `chunk` and returns the events it completed (comments, the keep-alives, are skipped).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Block> {
        self.buffer.extend_from_slice(chunk);
        let mut blocks = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
            let raw: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&raw);
            let (mut id, mut name, mut data) = (0, None, Vec::new());
            for line in text.lines() {
                let line = line.trim_end_matches('\r');
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => id = value.parse().unwrap_or(0),
                    "event" => name = Some(value.to_owned()),
                    "data" => data.push(value),
                    _ => {}
                }
            }
            if let Some(name) = name {
                blocks.push(Block {
                    id,
                    name,
                    data: data.join("\n"),
                });
            }
        }
        blocks
    }
}

/// The person an event is about.
fn who(data: &str) -> Option<String> {
    let value: Value = serde_json::from_str(data).ok()?;
    let participant = value.get("participant")?;
    participant
        .get("name")
        .or_else(|| participant.get("user_name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Drains `response` (an open event stream) in the background. Events go to `sink` when given
/// (only those named in `wanted`, or all when it is empty); the stream's end is counted.
pub fn spawn_reader(
    mut response: reqwest::Response,
    stream: usize,
    sink: Option<(mpsc::UnboundedSender<Delivery>, &'static [&'static str])>,
    counters: Arc<Counters>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut parser = Parser::default();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = Instant::now();
            for block in parser.feed(&chunk) {
                counters.events.fetch_add(1, Ordering::Relaxed);
                let Some((sink, wanted)) = &sink else {
                    continue;
                };
                if !wanted.is_empty() && !wanted.contains(&block.name.as_str()) {
                    continue;
                }
                let delivery = Delivery {
                    stream,
                    id: block.id,
                    who: who(&block.data),
                    name: block.name,
                    at,
                };
                if sink.send(delivery).is_err() {
                    return;
                }
            }
        }
        counters.ended.fetch_add(1, Ordering::Relaxed);
    })
}
