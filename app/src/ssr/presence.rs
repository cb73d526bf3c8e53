//! Presence: a session is present while one of its event streams is open. When its last stream
//! ends a timer starts; if no stream comes back within the grace period the session has
//! *departed*, and its id is sent to whoever handles departures (the lobby, through the
//! maintenance tasks). A returning stream cancels the timer. No polling.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::mpsc;

#[derive(Default)]
struct Entry {
    streams: usize,
    /// Bumped on every connect, so a timer knows whether the session came back meanwhile.
    generation: u64,
}

/// Open streams per session.
pub struct Presence {
    sessions: Mutex<HashMap<String, Entry>>,
    grace: Duration,
    departed: mpsc::UnboundedSender<String>,
    departures: Mutex<Option<Departures>>,
}

/// The ids of sessions whose grace period ran out, in the order it did.
pub type Departures = mpsc::UnboundedReceiver<String>;

impl Presence {
    /// Presence with this grace period.
    pub fn new(grace: Duration) -> Arc<Self> {
        let (departed, departures) = mpsc::unbounded_channel();
        Arc::new(Self {
            sessions: Mutex::new(HashMap::new()),
            grace,
            departed,
            departures: Mutex::new(Some(departures)),
        })
    }

    /// The departures, for the one task that handles them (`None` once taken).
    pub fn take_departures(&self) -> Option<Departures> {
        self.departures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.sessions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Whether a session has an open stream.
    pub fn is_connected(&self, session_id: &str) -> bool {
        self.entries()
            .get(session_id)
            .is_some_and(|entry| entry.streams > 0)
    }

    /// Records an open stream; presence lasts until the guard is dropped.
    pub fn connect(self: &Arc<Self>, session_id: &str) -> PresenceGuard {
        let mut entries = self.entries();
        let entry = entries.entry(session_id.to_owned()).or_default();
        entry.streams += 1;
        entry.generation += 1;
        PresenceGuard {
            presence: Arc::clone(self),
            session_id: session_id.to_owned(),
        }
    }

    /// Starts the grace timer of sessions that should have a stream but have none (after a
    /// restart, or when a session entered the lobby without ever opening one).
    pub fn expect(self: &Arc<Self>, session_ids: Vec<String>) {
        for id in session_ids {
            let generation = {
                let mut entries = self.entries();
                let entry = entries.entry(id.clone()).or_default();
                if entry.streams > 0 {
                    continue;
                }
                entry.generation
            };
            self.schedule_departure(id, generation);
        }
    }

    fn schedule_departure(self: &Arc<Self>, session_id: String, generation: u64) {
        let presence = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(presence.grace).await;
            let gone = {
                let mut entries = presence.entries();
                let gone = entries
                    .get(&session_id)
                    .is_some_and(|entry| entry.streams == 0 && entry.generation == generation);
                if gone {
                    entries.remove(&session_id);
                }
                gone
            };
            // Nobody listening means the server is shutting down: the session resumes its
            // timer at the next start.
            if gone {
                let _ = presence.departed.send(session_id);
            }
        });
    }
}

/// Held by an open event stream.
pub struct PresenceGuard {
    presence: Arc<Presence>,
    session_id: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let generation = {
            let mut entries = self.presence.entries();
            let Some(entry) = entries.get_mut(&self.session_id) else {
                return;
            };
            entry.streams = entry.streams.saturating_sub(1);
            if entry.streams > 0 {
                return;
            }
            entry.generation
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            self.presence
                .schedule_departure(self.session_id.clone(), generation);
        }
    }
}
