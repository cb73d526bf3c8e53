//! `GET /api/events/{room}`: the session's server-sent-event stream. It subscribes to live
//! events first, then replays the log after `Last-Event-ID`, and drops duplicates by id, so a
//! new stream and a resumed one are the same code. While it is open the session is present.

use std::{collections::VecDeque, convert::Infallible, sync::Arc, time::Duration};

use app::{
    error::AppError,
    ssr::{
        cookies::session_from_cookie,
        db::events::{self as repo, EventRow},
        events::StoredEvent,
        presence::PresenceGuard,
        state::AppState,
    },
};
use axum::{
    extract::{Path, Query, State},
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// How often a comment keeps idle connections (and proxies) alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// `?lastEventId=` for clients that cannot set the header.
#[derive(Deserialize)]
pub struct StreamQuery {
    #[serde(rename = "lastEventId")]
    last_event_id: Option<i64>,
}

/// Opens the caller's event stream for `room`.
pub async fn stream(
    State(state): State<AppState>,
    Path(room): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let session = session_from_cookie(&state, &headers, &room).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
        .or(query.last_event_id)
        .unwrap_or(0);

    // Subscribe before reading the log: an event committed in between is in one or the other
    // (or both, and the id check drops the copy).
    let live = state.events.subscribe(&room).await?;
    let backlog = repo::since(&state.db, &session.id, after).await?;
    let presence = state.presence.connect(&session.id);
    let shutdown = state.shutdown.subscribe();
    let cursor = Cursor {
        shutdown,
        state,
        session_id: session.id,
        live,
        pending: backlog.into(),
        last: after,
        _presence: presence,
    };
    Ok(Sse::new(futures_util::stream::unfold(cursor, Cursor::next))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

struct Cursor {
    shutdown: tokio::sync::watch::Receiver<bool>,
    state: AppState,
    session_id: String,
    live: Receiver<Arc<StoredEvent>>,
    pending: VecDeque<EventRow>,
    last: i64,
    _presence: PresenceGuard,
}

impl Cursor {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                if row.id > self.last {
                    self.last = row.id;
                    let event = sse(row.id, &row.name, &row.payload);
                    return Some((Ok(event), self));
                }
                continue;
            }
            let received = tokio::select! {
                // The server is shutting down: end the stream (the client reconnects later).
                _ = self.shutdown.wait_for(|stopping| *stopping) => return None,
                received = self.live.recv() => received,
            };
            match received {
                Ok(event) => {
                    if event.id > self.last && event.recipients.contains(&self.session_id) {
                        self.last = event.id;
                        let sse = sse(event.id, &event.name, &event.payload);
                        return Some((Ok(sse), self));
                    }
                }
                // Fell behind the channel: the log has everything, read it from there.
                Err(RecvError::Lagged(_)) => {
                    match repo::since(&self.state.db, &self.session_id, self.last).await {
                        Ok(rows) => self.pending.extend(rows),
                        Err(error) => {
                            tracing::error!(%error, "replaying events after lag");
                            return None;
                        }
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn sse(id: i64, name: &str, payload: &str) -> Event {
    Event::default()
        .id(id.to_string())
        .event(name)
        .data(payload)
}
