//! Background work: ending the sessions whose presence ran out, ejecting participants whose
//! time is up, pruning the event log, and resuming presence timers after a restart.

use std::time::Duration;

use super::{
    db::{self, Db, events, sessions},
    lobby,
    state::AppState,
    time::now_millis,
};

/// How long the event log keeps events for replay.
pub const EVENT_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

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

/// Starts the background tasks; they end with the runtime.
pub fn start(state: &AppState) {
    let resumed = state.clone();
    tokio::spawn(async move {
        // Sessions that were waiting or in a call before a restart get the grace period to
        // reconnect their stream, as if it had just dropped.
        match sessions::present_ids(&resumed.db).await {
            Ok(ids) => resumed.presence.expect(ids),
            Err(error) => tracing::error!(%error, "could not resume presence"),
        }
    });

    if let Some(mut departures) = state.presence.take_departures() {
        let lobby_state = state.clone();
        tokio::spawn(async move {
            while let Some(session_id) = departures.recv().await {
                if let Err(error) = lobby::gone(&lobby_state, &session_id).await {
                    tracing::warn!(%error, session_id, "could not end a departed session");
                }
            }
        });
    }

    let ejector = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(error) = lobby::eject_expired(&ejector).await {
                tracing::warn!(%error, "ejecting expired participants failed");
            }
        }
    });

    let pruner = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
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
}
