//! `GET /api/events/{room}`: the session's server-sent-event stream. It subscribes to live
//! events first, then replays the log after `Last-Event-ID`, and drops duplicates by id, so a
//! new stream and a resumed one are the same code. While it is open the session is present.
//!
//! Bounds: a session has at most `MAX_STREAMS_PER_SESSION` streams open on a server, and a
//! client at most `MAX_STREAMS_PER_CLIENT` (`ssr::limits`; the next is refused with 429); replay reads the log a page ([`REPLAY_PAGE`]) at a time, so a stream
//! never holds more than a page of it; and a stream that stops reading is ended by the hub's
//! watchdog (`ssr::events`), after which its client reconnects and replays.

use std::{collections::VecDeque, convert::Infallible, net::SocketAddr, time::Duration};

use app::{
    error::AppError,
    ssr::{
        client,
        cookies::session_from_cookie,
        db::{
            Db,
            events::{self as repo, EventRow, Page},
        },
        events::{Missed, Subscription},
        limits::StreamSlot,
        presence::PresenceGuard,
        state::AppState,
    },
};
use axum::{
    extract::{ConnectInfo, Path, Query, State},
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::Stream;
use serde::Deserialize;

/// How often a comment keeps idle connections (and proxies) alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How much of the log a stream reads at once when it replays: 500 events, or fewer once they
/// reach 1 MiB.
pub const REPLAY_PAGE: Page = Page {
    rows: 500,
    bytes: 1024 * 1024,
};

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
    extensions: axum::http::Extensions,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let session = session_from_cookie(&state, &headers, &room).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
        .or(query.last_event_id)
        .unwrap_or(0);
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let client = client::of(peer, &headers, &state.config.trusted_proxies);
    let slot = state.streams.take(&session.id, &client)?;

    // Subscribe before reading the log: an event committed in between is in one or the other
    // (or both, and the id check drops the copy).
    let live = state.events.subscribe(&room).await?;
    let presence = state.presence.connect(&session.id);
    let shutdown = state.shutdown.subscribe();
    let cursor = Cursor {
        shutdown,
        db: state.db.clone(),
        session_id: session.id,
        live,
        pending: VecDeque::new(),
        replaying: true,
        last: after,
        _presence: presence,
        _slot: slot,
    };
    Ok(Sse::new(futures_util::stream::unfold(cursor, Cursor::next))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// A stream's state between events. It is held for as long as the stream is open, so it keeps
/// only what it needs: the database (not the whole state, whose clone copies the
/// configuration), and a replay page only while one is being delivered.
struct Cursor {
    shutdown: tokio::sync::watch::Receiver<bool>,
    db: Db,
    session_id: String,
    live: Subscription,
    /// The page of the log being delivered.
    pending: VecDeque<EventRow>,
    /// Whether the log may hold events after `last` that `pending` does not: true at the start
    /// and after falling behind the live channel, until a page comes back short.
    replaying: bool,
    last: i64,
    _presence: PresenceGuard,
    _slot: StreamSlot,
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
            if self.pending.capacity() > 0 {
                // A delivered page's memory goes back now, not when the stream ends.
                self.pending = VecDeque::new();
            }
            if self.replaying {
                // Boxed: the read's future is large and only needed now, while the future
                // awaiting live events lives as long as the stream.
                let page = Box::pin(repo::since(
                    &self.db,
                    &self.session_id,
                    self.last,
                    REPLAY_PAGE,
                ));
                match page.await {
                    Ok(rows) => {
                        self.replaying = !REPLAY_PAGE.is_last(&rows);
                        self.pending = rows.into();
                        continue;
                    }
                    Err(error) => {
                        tracing::error!(%error, "replaying events");
                        return None;
                    }
                }
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
                Err(Missed::Lagged) => self.replaying = true,
                // Stopped reading for too long (or the hub is gone): the client reconnects and
                // replays from its last event.
                Err(Missed::Ended) => {
                    if self.live.was_ended() {
                        tracing::debug!(session = %self.session_id, "ended a stream that stopped reading");
                    }
                    return None;
                }
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
