//! Background work: ending the sessions whose presence ran out, ejecting participants whose
//! time is up and pruning the event log (signaling after minutes, everything else after a
//! day), on the maintenance leader only.

use std::time::Duration;

use super::{
    db::{self, Db, events},
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

/// Events deleted per pruning transaction: each batch holds SQLite's write lock for a short
/// while only (a few tens of milliseconds for a room's usual audience).
pub const PRUNE_BATCH: u32 = 500;

/// The pause between pruning batches. SQLite's busy handler lets a waiting writer retry at
/// least every 100 ms, so a pause this long lets every waiting knock, join and decision in
/// before the next batch.
const PRUNE_PAUSE: Duration = Duration::from_millis(100);

/// Deletes the events older than [`EVENT_RETENTION`] at `now` (unix milliseconds), batch by
/// batch, each in its own short transaction with a pause between them; how many in all.
pub async fn prune_once(db: &Db, now: i64) -> Result<u64, db::Error> {
    let before = now - i64::try_from(EVENT_RETENTION.as_millis()).unwrap_or(i64::MAX);
    let mut total = 0;
    loop {
        let mut tx = db.write().await?;
        let deleted = events::prune(&mut tx, before, PRUNE_BATCH).await?;
        tx.commit().await?;
        total += deleted;
        if deleted < u64::from(PRUNE_BATCH) {
            return Ok(total);
        }
        tokio::time::sleep(PRUNE_PAUSE).await;
    }
}

/// Deletes the signaling events older than [`SIGNAL_RETENTION`] at `now` (unix milliseconds),
/// batch by batch as [`prune_once`] does; how many in all.
pub async fn prune_signals_once(db: &Db, now: i64) -> Result<u64, db::Error> {
    let before = now - i64::try_from(SIGNAL_RETENTION.as_millis()).unwrap_or(i64::MAX);
    let mut total = 0;
    loop {
        let mut tx = db.write().await?;
        let deleted = events::prune_signals(&mut tx, before, PRUNE_BATCH).await?;
        tx.commit().await?;
        total += deleted;
        if deleted < u64::from(PRUNE_BATCH) {
            return Ok(total);
        }
        tokio::time::sleep(PRUNE_PAUSE).await;
    }
}

/// Starts the background tasks; they end with the runtime. Every server keeps its presence
/// seat and forgets idle rate-limit entries; only the maintenance leader (one server at a time,
/// see `db::presence`) ends departed sessions, ejects and prunes.
pub fn start(state: &AppState) {
    state.presence.start(state.db.clone());

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
