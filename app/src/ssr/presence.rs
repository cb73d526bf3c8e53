//! Presence: a session is present while one of its event streams is open, on any server. Each
//! server holds a lease in the database for every session it has a stream of; when a session's
//! stream ends, it is marked absent from that moment, and a session that has had no lease
//! anywhere for the grace period has *departed*: the maintenance leader finds it
//! ([`Presence::sweep`]) and the lobby lets it go, once. A stream that comes back within the
//! grace, to any server, keeps the session where it is.
//!
//! Opening and ending a stream never waits for the database: the guard counts this server's
//! streams in memory and tells the one task that writes this server's leases, which writes
//! them in batches, in the background. The same task keeps this server's seat in the database
//! (see `db::presence`) and, on PostgreSQL, tries for the leadership of the maintenance work.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{mpsc, oneshot, watch};

use super::{
    db::{
        self, Db,
        presence::{self as repo, Seat},
    },
    time::now_millis,
};

/// How often this server checks its seat (a follower also tries for the leader lock), and how
/// soon a failed lease write is tried again.
const KEEP_INTERVAL: Duration = Duration::from_secs(1);

/// How often the leader looks for departed sessions (more often for a grace under 4 s).
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// How long a stopping server gives itself to give up its seat.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// Sessions written per lease transaction: a burst of reconnections never holds the database's
/// write lock for long.
const WRITE_BATCH: usize = 256;

/// Where this server stands, as the lease task last saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Status {
    /// This server's `instances` id, while it has a seat.
    instance: Option<i64>,
    /// Since when (unix milliseconds) this server leads the maintenance work, while it does.
    leading_since: Option<i64>,
}

/// What the lease task is told.
enum Message {
    /// A session's streams on this server went from none to some, or back to none.
    Changed(String),
    /// The server is stopping: give up the seat, then answer.
    Stop(oneshot::Sender<()>),
}

/// This server's open streams per session, and its seat.
pub struct Presence {
    streams: Mutex<HashMap<String, usize>>,
    grace: Duration,
    changes: mpsc::UnboundedSender<Message>,
    inbox: Mutex<Option<mpsc::UnboundedReceiver<Message>>>,
    status: watch::Sender<Status>,
}

impl Presence {
    /// Presence with this grace period; nothing is written until [`Presence::start`].
    pub fn new(grace: Duration) -> Arc<Self> {
        let (changes, inbox) = mpsc::unbounded_channel();
        Arc::new(Self {
            streams: Mutex::new(HashMap::new()),
            grace,
            changes,
            inbox: Mutex::new(Some(inbox)),
            status: watch::Sender::new(Status::default()),
        })
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.streams
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Option<mpsc::UnboundedReceiver<Message>>> {
        self.inbox
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records an open stream; presence lasts until the guard is dropped.
    pub fn connect(self: &Arc<Self>, session_id: &str) -> PresenceGuard {
        let first = {
            let mut entries = self.entries();
            let count = entries.entry(session_id.to_owned()).or_default();
            *count += 1;
            *count == 1
        };
        if first {
            self.changed(session_id);
        }
        PresenceGuard {
            presence: Arc::clone(self),
            session_id: session_id.to_owned(),
        }
    }

    /// Tells the lease task that `session_id`'s streams here went from none to some or back.
    /// (It reads the count when it writes, so the order of these messages does not matter.)
    fn changed(&self, session_id: &str) {
        // Refused only once the server has stopped, when nothing is written any more.
        let _ = self.changes.send(Message::Changed(session_id.to_owned()));
    }

    /// The sessions with an open stream on this server.
    fn open_sessions(&self) -> Vec<String> {
        self.entries().keys().cloned().collect()
    }

    /// Starts the task that keeps this server's seat and writes its leases (once; later calls
    /// do nothing).
    pub fn start(self: &Arc<Self>, db: Db) {
        let Some(inbox) = self.inbox().take() else {
            return;
        };
        let presence = Arc::clone(self);
        tokio::spawn(async move { presence.run(db, inbox).await });
    }

    /// Gives up this server's seat when it stops, after its streams have ended: its sessions
    /// are absent from now on (and stay unless they reconnect, to any server, within the
    /// grace), and another server takes over the maintenance work.
    pub async fn stop(&self) {
        if self.inbox().is_some() {
            // Never started: there is no seat to give up.
            return;
        }
        let (done, stopped) = oneshot::channel();
        if self.changes.send(Message::Stop(done)).is_err() {
            return;
        }
        if tokio::time::timeout(STOP_LIMIT, stopped).await.is_err() {
            tracing::warn!(
                "could not give up this server's seat in time; the leader will find it gone"
            );
        }
    }

    /// Whether this server leads the maintenance work (sweeping presence, ejecting, pruning).
    pub fn is_leader(&self) -> bool {
        self.status.borrow().leading_since.is_some()
    }

    /// Waits until this server has a seat, so that [`Presence::is_leader`] means something.
    pub async fn settled(&self) {
        let mut status = self.status.subscribe();
        // The sender lives as long as `self`: this ends only when the seat is taken.
        let _ = status.wait_for(|status| status.instance.is_some()).await;
    }

    /// How often the leader should [`Presence::sweep`]: every second, or four times per grace
    /// when the grace is shorter than 4 s (tests), so a departure is never late by much.
    pub fn sweep_interval(&self) -> Duration {
        (self.grace / 4).clamp(Duration::from_millis(50), SWEEP_INTERVAL)
    }

    /// The leader's round, on the leader only (nothing otherwise): removes the servers that
    /// died without leaving (their sessions are absent from now on) and returns the sessions,
    /// waiting or in a call, that have been absent for the grace period: they have departed.
    ///
    /// A server that has just become the leader waits one grace before it names anyone:
    /// sessions whose streams were lost with a restart or a failover get the whole grace to
    /// come back, as if their streams had just ended.
    pub async fn sweep(&self, db: &Db) -> Result<Vec<String>, db::Error> {
        let Status {
            instance: Some(own),
            leading_since: Some(since),
        } = *self.status.borrow()
        else {
            return Ok(Vec::new());
        };
        for dead in repo::dead_instances(db, own).await? {
            let mut tx = db.write().await?;
            repo::remove_instance(&mut tx, dead, now_millis()).await?;
            tx.commit().await?;
            tracing::info!(
                instance = dead,
                "a server stopped without leaving: its sessions are absent from now"
            );
        }
        let grace = i64::try_from(self.grace.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_millis().saturating_sub(grace);
        if since > cutoff {
            return Ok(Vec::new());
        }
        repo::absent_since(db, cutoff).await
    }

    /// The lease task: keeps the seat, writes the leases of the sessions that changed, and
    /// gives up the seat when told to stop.
    async fn run(self: Arc<Self>, db: Db, mut inbox: mpsc::UnboundedReceiver<Message>) {
        let mut seat: Option<Seat> = None;
        // Earlier seats of this server, lost with their connection: removed once the current
        // seat holds every open stream, so no session is absent meanwhile.
        let mut lost: Vec<i64> = Vec::new();
        let mut pending: BTreeSet<String> = BTreeSet::new();
        let mut failed = false;
        let mut tick = tokio::time::interval(KEEP_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut stop = None;
            tokio::select! {
                message = inbox.recv() => match message {
                    Some(Message::Changed(session_id)) => {
                        pending.insert(session_id);
                    }
                    Some(Message::Stop(done)) => stop = Some(done),
                    None => return,
                },
                _ = tick.tick() => {
                    failed = false;
                    self.keep_seat(&db, &mut seat, &mut lost, &mut pending).await;
                }
            }
            while stop.is_none()
                && let Ok(message) = inbox.try_recv()
            {
                match message {
                    Message::Changed(session_id) => {
                        pending.insert(session_id);
                    }
                    Message::Stop(done) => stop = Some(done),
                }
            }
            if let Some(done) = stop {
                self.status.send_replace(Status::default());
                // Every stream has ended: leaving marks all of this server's sessions absent.
                if let Some(seat) = seat.take()
                    && let Err(error) = seat.leave(&db, now_millis()).await
                {
                    tracing::warn!(%error, "could not give up this server's seat");
                }
                let _ = done.send(());
                return;
            }
            let Some(current) = &seat else {
                continue;
            };
            if !failed
                && !pending.is_empty()
                && let Err(error) = self.write(&db, current.id(), &mut pending).await
            {
                // Tried again at the next tick; the guards never wait for it.
                tracing::warn!(%error, "could not record open streams");
                failed = true;
            }
            if pending.is_empty() && !lost.is_empty() {
                match remove_lost(&db, &lost).await {
                    Ok(()) => lost.clear(),
                    Err(error) => tracing::warn!(%error, "could not remove a lost seat"),
                }
            }
        }
    }

    /// Takes a seat when there is none, then checks it and tries for leadership; publishes
    /// where this server stands.
    async fn keep_seat(
        &self,
        db: &Db,
        seat: &mut Option<Seat>,
        lost: &mut Vec<i64>,
        pending: &mut BTreeSet<String>,
    ) {
        if seat.is_none() {
            match Seat::take(db, now_millis()).await {
                Ok(taken) => {
                    // Every stream open now gets a lease under the new seat.
                    pending.extend(self.open_sessions());
                    *seat = Some(taken);
                }
                Err(error) => {
                    tracing::warn!(%error, "could not take this server's seat; trying again");
                    return;
                }
            }
        }
        let Some(held) = seat.as_mut() else {
            return;
        };
        match held.keep(db).await {
            Ok(leading) => {
                let instance = Some(held.id());
                self.status.send_if_modified(|status| {
                    let was_leading = status.leading_since.is_some();
                    if status.instance == instance && was_leading == leading {
                        return false;
                    }
                    if leading && !was_leading {
                        tracing::info!(
                            instance = held.id(),
                            "this server now leads the maintenance work"
                        );
                    }
                    status.instance = instance;
                    status.leading_since = match (leading, status.leading_since) {
                        (true, Some(since)) => Some(since),
                        (true, None) => Some(now_millis()),
                        (false, _) => None,
                    };
                    true
                });
            }
            Err(error) => {
                tracing::warn!(%error, instance = held.id(), "lost this server's seat; taking a new one");
                lost.push(held.id());
                *seat = None;
                self.status.send_replace(Status::default());
            }
        }
    }

    /// Writes the lease (or the absence) of each pending session as it stands now, in batches;
    /// what was written leaves `pending`.
    async fn write(
        &self,
        db: &Db,
        instance: i64,
        pending: &mut BTreeSet<String>,
    ) -> Result<(), db::Error> {
        while !pending.is_empty() {
            let batch: Vec<String> = pending.iter().take(WRITE_BATCH).cloned().collect();
            let now = now_millis();
            let mut tx = db.write().await?;
            for session_id in &batch {
                let open = self.entries().contains_key(session_id);
                repo::record(&mut tx, instance, session_id, open, now).await?;
            }
            tx.commit().await?;
            for session_id in &batch {
                pending.remove(session_id);
            }
        }
        Ok(())
    }
}

/// Removes this server's earlier seats; their sessions are held by the current seat.
async fn remove_lost(db: &Db, lost: &[i64]) -> Result<(), db::Error> {
    let mut tx = db.write().await?;
    for id in lost {
        repo::remove_instance(&mut tx, *id, now_millis()).await?;
    }
    tx.commit().await
}

/// Held by an open event stream.
pub struct PresenceGuard {
    presence: Arc<Presence>,
    session_id: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let last = {
            let mut entries = self.presence.entries();
            let Some(count) = entries.get_mut(&self.session_id) else {
                return;
            };
            *count = count.saturating_sub(1);
            let last = *count == 0;
            if last {
                entries.remove(&self.session_id);
            }
            last
        };
        if last {
            self.presence.changed(&self.session_id);
        }
    }
}
