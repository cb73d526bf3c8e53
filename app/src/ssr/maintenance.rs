//! Background work: ending the sessions whose presence ran out, ejecting participants whose
//! time is up, pruning the event log, and resuming presence timers after a restart.

use std::time::Duration;

use super::{
    db::{events, sessions},
    lobby,
    state::AppState,
    time::now_millis,
};

/// How long the event log keeps events for replay.
pub const EVENT_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

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
            let before = now_millis() - i64::try_from(EVENT_RETENTION.as_millis()).unwrap_or(0);
            match events::prune(&pruner.db, before).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "pruned old events"),
                Err(error) => tracing::warn!(%error, "pruning events failed"),
            }
            pruner.knock_limiter.forget_idle();
        }
    });
}
