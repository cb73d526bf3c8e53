//! The event hub: events are written to the log (with their recipients) inside the
//! transaction that changes the state, and published here only after it commits.
//!
//! The hub is behind [`EventBus`] so the in-process broadcast can be replaced (e.g. by Postgres
//! LISTEN/NOTIFY across several servers) without touching the services.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use tokio::sync::broadcast;

use super::db::{self, Tx};
use crate::{error::AppError, model::CallEvent};

/// An event as it was committed: what streams deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Increasing id: the SSE `id`.
    pub id: i64,
    /// The daily-js event name.
    pub name: &'static str,
    /// The JSON payload.
    pub payload: String,
    /// The sessions it is for.
    pub recipients: HashSet<String>,
}

/// Delivers committed events to the streams of a room.
pub trait EventBus: Send + Sync + 'static {
    /// Sends committed events to the room's live streams.
    fn publish(&self, room: &str, events: Vec<Arc<StoredEvent>>);
    /// Receives the room's events from now on.
    fn subscribe(&self, room: &str) -> broadcast::Receiver<Arc<StoredEvent>>;
}

/// The in-process hub: one broadcast channel per room with live streams.
#[derive(Default)]
pub struct LocalHub {
    rooms: Mutex<HashMap<String, broadcast::Sender<Arc<StoredEvent>>>>,
}

/// How many events a slow stream may fall behind before it re-reads the log.
const CHANNEL_CAPACITY: usize = 1024;

impl EventBus for LocalHub {
    fn publish(&self, room: &str, events: Vec<Arc<StoredEvent>>) {
        let mut rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(sender) = rooms.get(room) {
            if sender.receiver_count() == 0 {
                rooms.remove(room);
                return;
            }
            for event in events {
                // No receiver is fine: everything is in the log for replay.
                let _ = sender.send(event);
            }
        }
    }

    fn subscribe(&self, room: &str) -> broadcast::Receiver<Arc<StoredEvent>> {
        let mut rooms = self
            .rooms
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        rooms
            .entry(room.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }
}

/// The hub the services publish through: a bus, and the order commits are published in.
pub struct EventHub {
    bus: Box<dyn EventBus>,
    /// Held from a transaction's commit until its events are published, so events reach the
    /// streams in the order they were committed (their ids' order).
    commit_order: tokio::sync::Mutex<()>,
}

impl EventHub {
    /// A hub delivering through `bus`.
    pub fn new(bus: impl EventBus) -> Self {
        Self {
            bus: Box::new(bus),
            commit_order: tokio::sync::Mutex::new(()),
        }
    }

    /// Receives the room's events from now on.
    pub fn subscribe(&self, room: &str) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.bus.subscribe(room)
    }
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub").finish_non_exhaustive()
    }
}

/// Events written in a transaction, published once it has committed.
#[derive(Default)]
pub struct Outbox {
    room: String,
    events: Vec<Arc<StoredEvent>>,
}

impl Outbox {
    /// An empty outbox for `room`.
    pub fn new(room: &str) -> Self {
        Self {
            room: room.to_owned(),
            events: Vec::new(),
        }
    }

    /// Logs `event` for `recipients` inside the caller's transaction.
    pub async fn record(
        &mut self,
        db: &mut Tx,
        event: &CallEvent,
        recipients: Vec<String>,
        now: i64,
    ) -> Result<(), AppError> {
        if recipients.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_string(event)
            .map_err(|error| AppError::internal("encoding an event", error))?;
        let id =
            db::events::insert(db, &self.room, event.name(), &payload, &recipients, now).await?;
        self.events.push(Arc::new(StoredEvent {
            id,
            name: event.name(),
            payload,
            recipients: recipients.into_iter().collect(),
        }));
        Ok(())
    }

    /// Commits `tx`, then publishes the recorded events. Publishing in commit order matters:
    /// a stream remembers the last id it delivered and skips anything older, so an event
    /// published after a newer one would be lost to live streams.
    pub async fn commit(self, tx: Tx, hub: &EventHub) -> Result<(), AppError> {
        let _order = hub.commit_order.lock().await;
        tx.commit().await?;
        if !self.events.is_empty() {
            hub.bus.publish(&self.room, self.events);
        }
        Ok(())
    }
}
