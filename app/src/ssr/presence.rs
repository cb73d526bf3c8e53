//! Presence: a session is present while one of its event streams is open. When its last stream
//! ends a timer starts; if no stream comes back within the grace period the session has left
//! (the call, or the lobby). A returning stream cancels the timer. No polling.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use super::{lobby, state::AppState};

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
}

impl Presence {
    /// Presence with this grace period.
    pub fn new(grace: Duration) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            grace,
        }
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
    pub fn connect(state: &AppState, session_id: &str) -> PresenceGuard {
        let mut entries = state.presence.entries();
        let entry = entries.entry(session_id.to_owned()).or_default();
        entry.streams += 1;
        entry.generation += 1;
        PresenceGuard {
            state: state.clone(),
            session_id: session_id.to_owned(),
        }
    }

    /// Starts the grace timer of sessions that should have a stream but have none (after a
    /// restart, or when a session entered the lobby without ever opening one).
    pub fn expect(state: &AppState, session_ids: Vec<String>) {
        for id in session_ids {
            let generation = {
                let mut entries = state.presence.entries();
                let entry = entries.entry(id.clone()).or_default();
                if entry.streams > 0 {
                    continue;
                }
                entry.generation
            };
            schedule_departure(state.clone(), id, generation);
        }
    }
}

fn schedule_departure(state: AppState, session_id: String, generation: u64) {
    tokio::spawn(async move {
        tokio::time::sleep(state.presence.grace).await;
        let gone = {
            let mut entries = state.presence.entries();
            let gone = entries
                .get(&session_id)
                .is_some_and(|entry| entry.streams == 0 && entry.generation == generation);
            if gone {
                entries.remove(&session_id);
            }
            gone
        };
        if gone && let Err(error) = lobby::gone(&state, &session_id).await {
            tracing::warn!(%error, session_id, "could not end a departed session");
        }
    });
}

/// Held by an open event stream.
pub struct PresenceGuard {
    state: AppState,
    session_id: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let generation = {
            let mut entries = self.state.presence.entries();
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
            schedule_departure(self.state.clone(), self.session_id.clone(), generation);
        }
    }
}
