//! Background work: ending the sessions whose presence ran out, ejecting participants whose
//! time is up (or whose session's day is over), pruning the event log (signaling after minutes,
//! everything else after a day) and what has ended (sessions, settled knocks, sign-ins,
//! revocations of expired tokens, webhook deliveries done with), and delivering webhooks, on
//! the maintenance leader only; and, on SQLite, checkpointing the write-ahead log.

use std::time::Duration;

use super::{
    db::{self, Db, dashboard, events, knocks, meetings, sessions, tokens, webhooks},
    lobby,
    state::AppState,
    time::now_millis,
};

/// How long the event log keeps events for replay.
pub const EVENT_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How long signaling (offers, answers, ICE candidates) stays in the log: a browser that
/// reconnects within this long still gets what was sent meanwhile; older signaling is of no use
/// (a connection that has not been set up by then is started over).
pub const SIGNAL_RETENTION: Duration = Duration::from_secs(5 * 60);

/// How often the maintenance leader prunes old signaling.
pub const SIGNAL_PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How long a settled knock (admitted, denied, cancelled) is kept after its decision.
pub const KNOCK_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Deletes the events older than [`EVENT_RETENTION`] at `now` (unix milliseconds), in batches
/// ([`Db::prune_in_batches`]); how many in all.
pub async fn prune_once(db: &Db, now: i64) -> Result<u64, db::Error> {
    let before = now - millis(EVENT_RETENTION);
    db.prune_in_batches(|tx, batch| Box::pin(events::prune(tx, before, batch)))
        .await
}

/// Deletes the signaling events older than [`SIGNAL_RETENTION`] at `now` (unix milliseconds),
/// in batches; how many in all.
pub async fn prune_signals_once(db: &Db, now: i64) -> Result<u64, db::Error> {
    let before = now - millis(SIGNAL_RETENTION);
    db.prune_in_batches(|tx, batch| Box::pin(events::prune_signals(tx, before, batch)))
        .await
}

/// What one round of [`prune_records_once`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Sessions that ended (their day over, or their token expired, and neither waiting nor
    /// in a call), with their knocks.
    pub sessions: u64,
    /// Knocks settled more than [`KNOCK_RETENTION`] ago.
    pub knocks: u64,
    /// Dashboard sign-ins that expired or were made under another API key.
    pub sign_ins: u64,
    /// Revocations of tokens that have expired.
    pub revocations: u64,
    /// Meetings that ended more than `meetings::RETENTION` ago, with their people.
    pub meetings: u64,
}

/// Deletes, at `now` (unix milliseconds), what has ended: sessions, settled knocks, dashboard
/// sign-ins (also those of an API key other than `key_id`), the revocations of expired tokens
/// and old meetings, each in batches.
pub async fn prune_records_once(db: &Db, key_id: &str, now: i64) -> Result<Pruned, db::Error> {
    let seconds = now.div_euclid(1000);
    let knocks_before = now - millis(KNOCK_RETENTION);
    let meetings_before = now - millis(super::meetings::RETENTION);
    Ok(Pruned {
        sessions: db
            .prune_in_batches(|tx, batch| Box::pin(sessions::prune(tx, now, batch)))
            .await?,
        knocks: db
            .prune_in_batches(|tx, batch| Box::pin(knocks::prune_settled(tx, knocks_before, batch)))
            .await?,
        sign_ins: db
            .prune_in_batches(|tx, batch| {
                let key_id = key_id.to_owned();
                Box::pin(
                    async move { dashboard::prune_sessions(tx, &key_id, seconds, batch).await },
                )
            })
            .await?,
        revocations: db
            .prune_in_batches(|tx, batch| Box::pin(tokens::prune_revocations(tx, seconds, batch)))
            .await?,
        meetings: db
            .prune_in_batches(|tx, batch| Box::pin(meetings::prune(tx, meetings_before, batch)))
            .await?,
    })
}

/// Deletes the webhook deliveries delivered or given up more than
/// `webhooks::DELIVERY_RETENTION` before `now` (unix milliseconds), in batches; how many.
pub async fn prune_webhook_deliveries_once(db: &Db, now: i64) -> Result<u64, db::Error> {
    let before = now - millis(super::webhooks::DELIVERY_RETENTION);
    db.prune_in_batches(|tx, batch| Box::pin(webhooks::prune(tx, before, batch)))
        .await
}

/// Starts the background tasks; they end with the runtime. Every server keeps its presence
/// seat and forgets idle rate-limit entries; only the maintenance leader (one server at a time,
/// see `db::presence`) ends departed sessions, ejects, prunes and delivers webhooks.
pub fn start(state: &AppState) {
    state.presence.start(state.db.clone());
    super::webhooks::start(state);

    // Every server on SQLite (there is one) checkpoints its log; PostgreSQL has none.
    if state.db.backend() == db::Backend::Sqlite {
        tokio::spawn(checkpoint_the_log(state.db.clone()));
    }

    let sweeper = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweeper.presence.sweep_interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let departed = match sweeper.presence.sweep(&sweeper.db).await {
                Ok(departed) => departed,
                Err(error) => {
                    tracing::warn!(%error, "looking for departed sessions failed");
                    continue;
                }
            };
            for session_id in departed {
                if let Err(error) = lobby::gone(&sweeper, &session_id).await {
                    tracing::warn!(%error, session_id, "could not end a departed session");
                }
            }
        }
    });

    let ejector = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if !ejector.presence.is_leader() {
                continue;
            }
            if let Err(error) = lobby::eject_expired(&ejector).await {
                tracing::warn!(%error, "ejecting expired participants failed");
            }
        }
    });

    let pruner = state.clone();
    tokio::spawn(async move {
        // Whether this server leads is known once it has its seat: the leader prunes at start.
        pruner.presence.settled().await;
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            if !pruner.presence.is_leader() {
                continue;
            }
            match prune_once(&pruner.db, now_millis()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "pruned old events"),
                Err(error) => tracing::warn!(%error, "pruning events failed"),
            }
            if let Err(error) = super::limits::prune(&pruner.db, now_millis()).await {
                tracing::warn!(%error, "pruning rate limits failed");
            }
            match prune_records_once(&pruner.db, &pruner.key_id, now_millis()).await {
                Ok(pruned) if pruned == Pruned::default() => {}
                Ok(pruned) => tracing::info!(?pruned, "pruned ended sessions and records"),
                Err(error) => tracing::warn!(%error, "pruning ended sessions failed"),
            }
            match prune_webhook_deliveries_once(&pruner.db, now_millis()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "pruned webhook deliveries"),
                Err(error) => tracing::warn!(%error, "pruning webhook deliveries failed"),
            }
        }
    });

    let signal_pruner = state.clone();
    tokio::spawn(async move {
        signal_pruner.presence.settled().await;
        let mut tick = tokio::time::interval(SIGNAL_PRUNE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !signal_pruner.presence.is_leader() {
                continue;
            }
            match prune_signals_once(&signal_pruner.db, now_millis()).await {
                Ok(0) => {}
                Ok(count) => tracing::debug!(count, "pruned old signaling"),
                Err(error) => tracing::warn!(%error, "pruning signaling failed"),
            }
        }
    });
}

/// After a checkpoint that could not hold writers back (a lock stayed taken), how long the next
/// ones only copy what they can without holding anyone up.
const CHECKPOINT_BACK_OFF: Duration = Duration::from_secs(5);

/// Checkpoints SQLite's log every [`db::CHECKPOINT_EVERY`] ([`Db::checkpoint`]) until the
/// database is closed. When a reader keeps the checkpoint from holding writers back, it says so
/// once and lets writers be for [`CHECKPOINT_BACK_OFF`], rather than stalling them each second.
async fn checkpoint_the_log(db: Db) {
    let mut tick = tokio::time::interval(db::CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut hold_writers_after = tokio::time::Instant::now();
    let mut was_busy = false;
    loop {
        tick.tick().await;
        let hold_writers = tokio::time::Instant::now() >= hold_writers_after;
        match db.checkpoint(hold_writers).await {
            Ok(Some(done)) if done.busy => {
                if !was_busy {
                    tracing::warn!(
                        ?done,
                        "the log could not be checkpointed fully: a lock stayed taken"
                    );
                }
                was_busy = true;
                if done.held_writers {
                    hold_writers_after = tokio::time::Instant::now() + CHECKPOINT_BACK_OFF;
                }
            }
            Ok(done) => {
                was_busy = false;
                tracing::trace!(?done, "checkpointed the log");
            }
            Err(db::Error::PoolClosed) => return,
            Err(error) => tracing::warn!(%error, "checkpointing the log failed"),
        }
    }
}
