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
//!
//! A stream whose reader stopped reading is not polled any more (the connection's buffers are
//! full), so it cannot notice by itself; yet its place in the room's channel keeps every event
//! it has not read (up to the channel's capacity). A watchdog ([`STALL_CHECK_EVERY`]) ends the
//! subscription of a stream that stays [`MAX_UNREAD`] events behind: the stream ends when it is
//! next polled, and its client reconnects and replays from the log.
//!
//! The doorbell also carries room changes (`AppState::room_changed`): every server's listener
//! forgets the room in its [`RoomCache`] and then acknowledges the ring, and the server that
//! rang waits until every listener of the database has (at most [`ECHO_WAIT`]), so no server
//! answers the room's previous state once the writer has answered. Hearing its own ring would
//! not do: the database hands a notification to each listener independently, and another
//! server may read its socket (and forget) after a request that came in meanwhile.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, AtomicU8, Ordering},
    },
    time::Duration,
};

use tokio::sync::{broadcast, mpsc, oneshot};

use super::db::{
    self, Db, Tx,
    doorbell::{self, Doorbell, Ring},
    rooms::RoomCache,
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

/// How many events a stream may leave unread in its room's channel while not reading at all:
/// a subscription found this far behind at two checks in a row is ended.
pub const MAX_UNREAD: usize = CHANNEL_CAPACITY / 2;

/// How often the watchdog looks for subscriptions that stopped reading.
pub const STALL_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How often a server sharing the database reads the log of every room it follows even
/// without a ring (a server that crashed between its commit and its ring rang nobody).
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Delivers committed events to the open streams of each room.
pub struct EventHub {
    delivery: Delivery,
    watched: Arc<Watchdog>,
}

/// A stream's place in its room's channel, which the watchdog may end.
pub struct Subscription {
    watched: Arc<Watched>,
}

/// Why a subscription gives no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Events were dropped before this subscription read them (the channel is bounded): read
    /// them from the log.
    Lagged,
    /// The subscription was ended: its reader stopped reading, or the hub is gone.
    Ended,
}

struct Watched {
    /// `None` once ended. Held across a `recv`: a subscription waiting for events is reading.
    receiver: tokio::sync::Mutex<Option<broadcast::Receiver<Arc<StoredEvent>>>>,
    /// Checks in a row that found it [`MAX_UNREAD`] behind and not reading.
    strikes: AtomicU8,
    ended: AtomicBool,
}

impl Subscription {
    /// The next event of the room.
    pub async fn recv(&self) -> Result<Arc<StoredEvent>, Missed> {
        let mut receiver = self.watched.receiver.lock().await;
        let Some(live) = receiver.as_mut() else {
            return Err(Missed::Ended);
        };
        match live.recv().await {
            Ok(event) => Ok(event),
            Err(broadcast::error::RecvError::Lagged(_)) => Err(Missed::Lagged),
            Err(broadcast::error::RecvError::Closed) => Err(Missed::Ended),
        }
    }

    /// Whether the watchdog ended this subscription because its reader stopped reading.
    pub fn was_ended(&self) -> bool {
        self.watched.ended.load(Ordering::Relaxed)
    }
}

/// The subscriptions of this server, checked every [`STALL_CHECK_EVERY`].
#[derive(Default)]
struct Watchdog {
    subscriptions: Mutex<Vec<Weak<Watched>>>,
}

impl Watchdog {
    fn watch(&self, receiver: broadcast::Receiver<Arc<StoredEvent>>) -> Subscription {
        let watched = Arc::new(Watched {
            receiver: tokio::sync::Mutex::new(Some(receiver)),
            strikes: AtomicU8::new(0),
            ended: AtomicBool::new(false),
        });
        lock(&self.subscriptions).push(Arc::downgrade(&watched));
        Subscription { watched }
    }

    /// Ends the subscriptions that were [`MAX_UNREAD`] behind and not reading at this check and
    /// the one before; forgets those that are gone. How many it ended.
    fn check(&self) -> usize {
        let mut subscriptions = lock(&self.subscriptions);
        let mut ended = 0;
        subscriptions.retain(|weak| {
            let Some(watched) = weak.upgrade() else {
                return false;
            };
            // Locked: it is waiting for events right now, so it reads.
            let Ok(mut receiver) = watched.receiver.try_lock() else {
                watched.strikes.store(0, Ordering::Relaxed);
                return true;
            };
            let behind = receiver
                .as_ref()
                .is_some_and(|live| live.len() >= MAX_UNREAD);
            if !behind {
                watched.strikes.store(0, Ordering::Relaxed);
                return receiver.is_some();
            }
            if watched.strikes.fetch_add(1, Ordering::Relaxed) == 0 {
                return true;
            }
            // Its place in the channel goes, and with it the events it held there.
            *receiver = None;
            watched.ended.store(true, Ordering::Relaxed);
            ended += 1;
            false
        });
        ended
    }

    /// Checks every [`STALL_CHECK_EVERY`] while the hub exists.
    fn start(self: &Arc<Self>) {
        let watchdog = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(STALL_CHECK_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(watchdog) = watchdog.upgrade() else {
                    return;
                };
                let ended = watchdog.check();
                if ended > 0 {
                    tracing::info!(ended, "ended event streams that stopped reading");
                }
            }
        });
    }
}

enum Delivery {
    /// One server: committed events go straight to the streams.
    Local(LocalHub),
    /// Several servers: the log, read when the doorbell rings.
    Shared(Arc<SharedHub>),
}

impl EventHub {
    /// The hub for `db`: local on SQLite; on PostgreSQL, one that listens to the doorbell (a
    /// background task, started here), which also forgets changed rooms in `rooms`.
    pub async fn for_db(db: &Db, rooms: Arc<RoomCache>) -> Result<Self, db::Error> {
        let delivery = match db.postgres() {
            None => Delivery::Local(LocalHub::default()),
            Some(pool) => {
                let doorbell = Doorbell::listen(pool).await?;
                Delivery::Shared(SharedHub::start(db.clone(), pool.clone(), doorbell, rooms))
            }
        };
        let watched = Arc::new(Watchdog::default());
        watched.start();
        Ok(Self { delivery, watched })
    }

    /// Receives the room's events committed from now on (and perhaps a few before: streams
    /// drop what they have already delivered, by id), until the subscription is dropped or
    /// ended for not reading (see [`MAX_UNREAD`]).
    pub async fn subscribe(&self, room: &str) -> Result<Subscription, AppError> {
        let receiver = match &self.delivery {
            Delivery::Local(hub) => hub.subscribe(room),
            Delivery::Shared(hub) => hub.subscribe(room).await?,
        };
        Ok(self.watched.watch(receiver))
    }

    /// Tells the other servers sharing the database that the room `room` changed (after its
    /// commit), and waits until every server's listener has forgotten it (at most
    /// [`ECHO_WAIT`]). Nothing to do on one server.
    pub async fn room_changed(&self, room: &str) {
        if let Delivery::Shared(hub) = &self.delivery {
            hub.room_changed(room).await;
        }
    }
}

/// How long a server that rang a room change waits for every listener to forget the room (one
/// that has gone away never answers; the cache's time-to-live covers it).
pub const ECHO_WAIT: Duration = Duration::from_secs(1);

/// Room-change rings this server sent, by nonce: the listeners (backend process ids) yet to say
/// they forgot the room, and whoever waits for them.
type Echoes = Mutex<HashMap<u64, Echo>>;

struct Echo {
    waiting: HashSet<u32>,
    done: oneshot::Sender<()>,
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
    echoes: Arc<Echoes>,
}

struct Feed {
    sender: broadcast::Sender<Arc<StoredEvent>>,
    /// The last event id handed to the room's streams.
    cursor: i64,
}

impl SharedHub {
    fn start(db: Db, pool: sqlx::PgPool, doorbell: Doorbell, rooms: Arc<RoomCache>) -> Arc<Self> {
        let echoes = Arc::new(Echoes::default());
        let hub = Arc::new(Self {
            db,
            feeds: Mutex::new(HashMap::new()),
            echoes: Arc::clone(&echoes),
        });
        let (rings, heard) = mpsc::unbounded_channel();
        let ears = Ears {
            rooms,
            echoes,
            rings,
        };
        tokio::spawn(listen(pool, doorbell, ears));
        tokio::spawn(Arc::clone(&hub).deliver(heard));
        hub
    }

    async fn room_changed(&self, room: &str) {
        let Some(pool) = self.db.postgres() else {
            return;
        };
        // Committed is committed: a ring that fails, or a listener that does not answer, costs
        // the other servers the time-to-live of their cached copy, never a change. Listed
        // before the ring: a listener that starts later forgets every room when it starts.
        let waiting = match doorbell::listeners(pool).await {
            Ok(waiting) => waiting,
            Err(error) => {
                tracing::warn!(%error, room, "could not list the doorbell's listeners");
                HashSet::new()
            }
        };
        let nonce: u64 = rand::random();
        let (done, forgotten) = oneshot::channel();
        if waiting.is_empty() {
            drop(done);
        } else {
            lock(&self.echoes).insert(nonce, Echo { waiting, done });
        }
        if let Err(error) = doorbell::ring_room_changed(pool, room, nonce).await {
            tracing::warn!(%error, room, "could not ring a room change");
        } else if tokio::time::timeout(ECHO_WAIT, forgotten).await.is_err()
            && let Some(echo) = lock(&self.echoes).get(&nonce)
        {
            let missing = echo.waiting.len();
            tracing::warn!(
                room,
                missing,
                "listeners did not say they forgot a changed room"
            );
        }
        lock(&self.echoes).remove(&nonce);
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
                    // The listener handles these itself.
                    Ring::RoomChanged { .. } | Ring::Forgot { .. } => {}
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

/// Where the listener passes what it hears.
struct Ears {
    /// Forgets the rooms that changed.
    rooms: Arc<RoomCache>,
    /// This server's own room-change rings, answered when every listener forgot the room.
    echoes: Arc<Echoes>,
    /// Event rings, to the delivering task.
    rings: mpsc::UnboundedSender<Ring>,
}

/// Listens to the doorbell: forgets a changed room at once and says so (and counts who said so
/// of this server's own rings), passes event rings on; after losing the connection it listens
/// anew, forgets every room and says rings were missed.
async fn listen(pool: sqlx::PgPool, mut doorbell: Doorbell, ears: Ears) {
    loop {
        let ring = match doorbell.next().await {
            Ok(Ring::RoomChanged { room, nonce }) => {
                ears.rooms.forget(&room);
                // A failure here is the connection's: the next ring says it was lost.
                if let Err(error) = doorbell.forgot(nonce).await {
                    tracing::warn!(%error, room, "could not acknowledge a room change");
                }
                continue;
            }
            Ok(Ring::Forgot { nonce, by }) => {
                let mut echoes = lock(&ears.echoes);
                if let Some(echo) = echoes.get_mut(&nonce) {
                    echo.waiting.remove(&by);
                    if echo.waiting.is_empty()
                        && let Some(echo) = echoes.remove(&nonce)
                    {
                        let _ = echo.done.send(());
                    }
                }
                continue;
            }
            Ok(Ring::Missed) => {
                ears.rooms.forget_all();
                Ring::Missed
            }
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
                ears.rooms.forget_all();
                Ring::Missed
            }
        };
        if ears.rings.send(ring).is_err() {
            return;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallEvent, IceCandidate, SignalMessage};

    /// A hub on a new SQLite database in its own directory (dropped with the directory).
    async fn hub() -> (tempfile::TempDir, Db, EventHub) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("events.db").display());
        let db = Db::connect(&url).await.expect("open the database");
        let hub = EventHub::for_db(&db, Arc::new(RoomCache::local()))
            .await
            .expect("a hub");
        (dir, db, hub)
    }

    /// Commits `count` signals to `to` in `room`, one transaction each.
    async fn flood(db: &Db, hub: &EventHub, room: &str, to: &str, count: usize) {
        let event = CallEvent::Signal {
            from: "ana".into(),
            messages: vec![SignalMessage::Candidate(IceCandidate {
                candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            })],
        };
        for _ in 0..count {
            let mut tx = db.write_room(room).await.expect("write");
            let mut outbox = Outbox::new(room);
            outbox
                .record(&mut tx, &event, vec![to.to_owned()], 0)
                .await
                .expect("record");
            outbox.commit(tx, hub).await.expect("commit");
        }
    }

    #[tokio::test]
    async fn a_subscription_that_stops_reading_is_ended_and_one_that_reads_is_not() {
        let (_dir, db, hub) = hub().await;
        let stalled = hub.subscribe("standup").await.expect("subscribe");
        let reading = hub.subscribe("standup").await.expect("subscribe");
        let reader = tokio::spawn(async move {
            let mut read = 0;
            while reading.recv().await.is_ok() {
                read += 1;
            }
            (read, reading.was_ended())
        });
        flood(&db, &hub, "standup", "ben", MAX_UNREAD + 10).await;
        // Two checks that find it behind, and a little more.
        tokio::time::sleep(STALL_CHECK_EVERY * 3).await;
        assert_eq!(stalled.recv().await, Err(Missed::Ended), "ended");
        assert!(stalled.was_ended());
        assert!(!reader.is_finished(), "the subscription that reads goes on");
        drop(hub);
        let (read, ended) = reader.await.expect("the reader");
        assert_eq!(read, MAX_UNREAD + 10, "it read everything");
        assert!(!ended, "ended because the hub went, not for not reading");
    }

    #[tokio::test]
    async fn a_subscription_a_little_behind_is_not_ended() {
        let (_dir, db, hub) = hub().await;
        let behind = hub.subscribe("standup").await.expect("subscribe");
        flood(&db, &hub, "standup", "ben", MAX_UNREAD - 1).await;
        tokio::time::sleep(STALL_CHECK_EVERY * 3).await;
        for _ in 0..MAX_UNREAD - 1 {
            assert!(behind.recv().await.is_ok(), "every event is there");
        }
        assert!(!behind.was_ended());
    }
}
