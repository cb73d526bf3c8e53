//! The event hub: events are written to the log (with their recipients) inside the
//! transaction that changes the state, and reach the streams only after it commits.
//!
//! One server (SQLite): the hub hands committed events straight to the room's streams, in
//! commit order. Several servers (PostgreSQL): the log is the only source. After a commit the
//! server rings a doorbell (`NOTIFY` with the room and the highest id); every server hears it,
//! reads the room's new events from the log and hands them to its streams. A room's events get
//! ids in commit order (each write holds the room's lock until it commits), so reading "after
//! the last id delivered" never skips one, and a ring lost to a reconnect is made up for by
//! reading every followed room again (and by a poll every [`POLL_EVERY`]).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{broadcast, mpsc};

use super::db::{
    self, Db, Tx,
    doorbell::{self, Doorbell, Ring},
};
use crate::{error::AppError, model::CallEvent};

/// An event as it was committed: what streams deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Increasing id: the SSE `id`.
    pub id: i64,
    /// The daily-js event name.
    pub name: String,
    /// The JSON payload.
    pub payload: String,
    /// The sessions it is for.
    pub recipients: HashSet<String>,
}

/// How many events a slow stream may fall behind before it re-reads the log.
const CHANNEL_CAPACITY: usize = 1024;

/// How often a server sharing the database reads the log of every room it follows even
/// without a ring (a server that crashed between its commit and its ring rang nobody).
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Delivers committed events to the open streams of each room.
pub struct EventHub {
    delivery: Delivery,
}

enum Delivery {
    /// One server: committed events go straight to the streams.
    Local(LocalHub),
    /// Several servers: the log, read when the doorbell rings.
    Shared(Arc<SharedHub>),
}

impl EventHub {
    /// The hub for `db`: local on SQLite; on PostgreSQL, one that listens to the doorbell (a
    /// background task, started here).
    pub async fn for_db(db: &Db) -> Result<Self, db::Error> {
        let delivery = match db.postgres() {
            None => Delivery::Local(LocalHub::default()),
            Some(pool) => {
                let doorbell = Doorbell::listen(pool).await?;
                Delivery::Shared(SharedHub::start(db.clone(), pool.clone(), doorbell))
            }
        };
        Ok(Self { delivery })
    }

    /// Receives the room's events committed from now on (and perhaps a few before: streams
    /// drop what they have already delivered, by id).
    pub async fn subscribe(
        &self,
        room: &str,
    ) -> Result<broadcast::Receiver<Arc<StoredEvent>>, AppError> {
        match &self.delivery {
            Delivery::Local(hub) => Ok(hub.subscribe(room)),
            Delivery::Shared(hub) => Ok(hub.subscribe(room).await?),
        }
    }
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub").finish_non_exhaustive()
    }
}

/// Events written in a transaction, delivered once it has committed.
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

    /// Logs `event` for `recipients` inside the caller's transaction, which must hold the
    /// room's write lock ([`Db::write_room`]): that is what keeps a room's ids in commit order.
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
        if db.room() != Some(self.room.as_str()) {
            return Err(AppError::internal(
                "logging an event",
                format!(
                    "the transaction does not hold the lock of room {}",
                    self.room
                ),
            ));
        }
        let payload = serde_json::to_string(event)
            .map_err(|error| AppError::internal("encoding an event", error))?;
        let id =
            db::events::insert(db, &self.room, event.name(), &payload, &recipients, now).await?;
        self.events.push(Arc::new(StoredEvent {
            id,
            name: event.name().to_owned(),
            payload,
            recipients: recipients.into_iter().collect(),
        }));
        Ok(())
    }

    /// Commits `tx`, then delivers the recorded events.
    pub async fn commit(self, tx: Tx, hub: &EventHub) -> Result<(), AppError> {
        match &hub.delivery {
            Delivery::Local(local) => local.commit(tx, &self.room, self.events).await?,
            Delivery::Shared(shared) => shared.commit(tx, &self.room, &self.events).await?,
        }
        Ok(())
    }
}

/// The in-process hub: one broadcast channel per room with live streams.
#[derive(Default)]
struct LocalHub {
    rooms: Mutex<HashMap<String, broadcast::Sender<Arc<StoredEvent>>>>,
    /// Held from a transaction's commit until its events are published, so events reach the
    /// streams in the order they were committed (their ids' order): a stream remembers the
    /// last id it delivered and skips anything older, so an event published after a newer one
    /// would be lost to live streams.
    commit_order: tokio::sync::Mutex<()>,
}

impl LocalHub {
    async fn commit(
        &self,
        tx: Tx,
        room: &str,
        events: Vec<Arc<StoredEvent>>,
    ) -> Result<(), db::Error> {
        let _order = self.commit_order.lock().await;
        tx.commit().await?;
        if events.is_empty() {
            return Ok(());
        }
        let mut rooms = lock(&self.rooms);
        if let Some(sender) = rooms.get(room) {
            if sender.receiver_count() == 0 {
                rooms.remove(room);
                return Ok(());
            }
            for event in events {
                // No receiver is fine: everything is in the log for replay.
                let _ = sender.send(event);
            }
        }
        Ok(())
    }

    fn subscribe(&self, room: &str) -> broadcast::Receiver<Arc<StoredEvent>> {
        lock(&self.rooms)
            .entry(room.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }
}

/// The hub of a server sharing its database: rooms it follows (those with a live stream
/// here), each with the id of the last event handed to its streams.
struct SharedHub {
    db: Db,
    feeds: Mutex<HashMap<String, Feed>>,
}

struct Feed {
    sender: broadcast::Sender<Arc<StoredEvent>>,
    /// The last event id handed to the room's streams.
    cursor: i64,
}

impl SharedHub {
    fn start(db: Db, pool: sqlx::PgPool, doorbell: Doorbell) -> Arc<Self> {
        let hub = Arc::new(Self {
            db,
            feeds: Mutex::new(HashMap::new()),
        });
        let (rings, heard) = mpsc::unbounded_channel();
        tokio::spawn(listen(pool, doorbell, rings));
        tokio::spawn(Arc::clone(&hub).deliver(heard));
        hub
    }

    async fn commit(
        &self,
        tx: Tx,
        room: &str,
        events: &[Arc<StoredEvent>],
    ) -> Result<(), db::Error> {
        tx.commit().await?;
        let (Some(last), Some(pool)) = (
            events.iter().map(|event| event.id).max(),
            self.db.postgres(),
        ) else {
            return Ok(());
        };
        // Committed is committed: a ring that fails costs the other servers a moment (until
        // their next poll), never an event.
        if let Err(error) = doorbell::ring(pool, room, last).await {
            tracing::warn!(%error, room, "could not ring the doorbell");
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        room: &str,
    ) -> Result<broadcast::Receiver<Arc<StoredEvent>>, db::Error> {
        if let Some(feed) = lock(&self.feeds).get(room) {
            return Ok(feed.sender.subscribe());
        }
        // A new feed starts after the room's last committed event: anything older is in the
        // log, which every new stream reads after subscribing.
        let cursor = db::events::last_in_room(&self.db, room).await?;
        Ok(lock(&self.feeds)
            .entry(room.to_owned())
            .or_insert_with(|| Feed {
                sender: broadcast::channel(CHANNEL_CAPACITY).0,
                cursor,
            })
            .sender
            .subscribe())
    }

    /// Hands the rooms' new events to their streams whenever the doorbell rings, and every
    /// [`POLL_EVERY`] anyway. Rings that queued up meanwhile are read together, one read per
    /// room.
    async fn deliver(self: Arc<Self>, mut heard: mpsc::UnboundedReceiver<Ring>) {
        let mut poll = tokio::time::interval(POLL_EVERY);
        loop {
            let first = tokio::select! {
                ring = heard.recv() => match ring {
                    Some(ring) => ring,
                    None => return,
                },
                _ = poll.tick() => Ring::Missed,
            };
            let mut rooms: HashMap<String, i64> = HashMap::new();
            let mut everything = false;
            let mut next = Some(first);
            while let Some(ring) = next {
                match ring {
                    Ring::Room { room, id } => {
                        let highest = rooms.entry(room).or_default();
                        *highest = (*highest).max(id);
                    }
                    Ring::Missed => everything = true,
                }
                next = heard.try_recv().ok();
            }
            if everything {
                match self.rooms_behind().await {
                    Ok(behind) => rooms.extend(behind),
                    Err(error) => tracing::warn!(%error, "reading which rooms have new events"),
                }
            }
            for (room, id) in rooms {
                if let Err(error) = self.catch_up(&room, id).await {
                    tracing::warn!(%error, room, "reading a room's new events");
                }
            }
        }
    }

    /// The followed rooms whose log has events after their cursor, with the highest id.
    async fn rooms_behind(&self) -> Result<Vec<(String, i64)>, db::Error> {
        let lowest = lock(&self.feeds).values().map(|feed| feed.cursor).min();
        let Some(lowest) = lowest else {
            return Ok(Vec::new());
        };
        db::events::rooms_since(&self.db, lowest).await
    }

    /// Reads `room`'s events after its cursor (when the log has some up to `id`) and hands
    /// them to its streams. A room nobody here follows any more is forgotten.
    async fn catch_up(&self, room: &str, id: i64) -> Result<(), db::Error> {
        let cursor = {
            let mut feeds = lock(&self.feeds);
            match feeds.get(room) {
                Some(feed) if feed.sender.receiver_count() == 0 => {
                    feeds.remove(room);
                    return Ok(());
                }
                Some(feed) if feed.cursor < id => feed.cursor,
                _ => return Ok(()),
            }
        };
        let events = db::events::in_room_since(&self.db, room, cursor).await?;
        let mut feeds = lock(&self.feeds);
        let Some(feed) = feeds.get_mut(room) else {
            return Ok(());
        };
        for event in events {
            // Only this task moves a cursor, so nothing here is older than it; the check keeps
            // that true should that ever change.
            if event.id <= feed.cursor {
                continue;
            }
            feed.cursor = event.id;
            // No receiver is fine: everything is in the log for replay.
            let _ = feed.sender.send(Arc::new(StoredEvent {
                id: event.id,
                name: event.name,
                payload: event.payload,
                recipients: event.recipients.into_iter().collect(),
            }));
        }
        Ok(())
    }
}

/// Listens to the doorbell and passes each ring on; after losing the connection it listens
/// anew and says rings were missed.
async fn listen(pool: sqlx::PgPool, mut doorbell: Doorbell, rings: mpsc::UnboundedSender<Ring>) {
    loop {
        let ring = match doorbell.next().await {
            Ok(ring) => ring,
            Err(error) => {
                tracing::warn!(%error, "the doorbell connection failed; listening again");
                doorbell = loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    match Doorbell::listen(&pool).await {
                        Ok(doorbell) => break doorbell,
                        Err(error) => tracing::warn!(%error, "listening to the doorbell"),
                    }
                };
                Ring::Missed
            }
        };
        if rings.send(ring).is_err() {
            return;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
