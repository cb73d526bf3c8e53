//! Relaying a participant's signaling to the SFU (`signal` to [`PEER`]) and the SFU's answers
//! back to its event stream: the part of the SFU service that works with the server's state
//! (the event log, shutdown), apart from the guard that the lobby calls.

use std::{
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use serde_json::Value;

use super::{PEER, SWEEP_EVERY, Sfu, SfuError, SfuEvent, sweep};
use crate::{
    error::AppError,
    model::{CallEvent, Phase, SdpKind, SessionDescription, SignalMessage},
    ssr::{
        db::{
            limits::spend,
            rooms as rooms_repo,
            sessions::{self as sessions_repo, SessionRecord},
            sfu::{self as repo, SfuParticipantRecord, SfuRoomRecord},
        },
        events::{EventHub, Outbox},
        state::AppState,
        time::now_millis,
    },
};

fn not_in_call() -> AppError {
    AppError::Forbidden("only participants in the call can send or receive its media".into())
}

fn sfu_failed(error: SfuError) -> AppError {
    AppError::internal("talking to the SFU", error)
}

/// A fresh random secret (a pin or a room secret): 128 bits, hex.
fn random_secret() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Relays `messages` from `session` to the SFU (`signal` to [`PEER`]), after checking in one
/// transaction that the session is in the call and spending `cost` of its signaling budget
/// (the one the mesh's signaling spends, refilled over `window` milliseconds); `false`, and
/// nothing relayed, when the budget is spent. The first message sent binds the room to an SFU
/// room and the session to a place on the SFU; its first offer joins that room as a publisher.
pub async fn signal(
    state: &AppState,
    session: &SessionRecord,
    messages: Vec<SignalMessage>,
    cost: i64,
    window: i64,
) -> Result<bool, AppError> {
    let sfu = Sfu::configured(&state.config)
        .ok_or_else(|| AppError::Forbidden("this server has no SFU: the call is a mesh".into()))?;
    start_sweeping(state);
    let mut tx = state.db.write_room(&session.room).await?;
    let sender = sessions_repo::find(&mut tx, &session.id)
        .await?
        .filter(|sender| sender.phase == Phase::InCall)
        .ok_or_else(not_in_call)?;
    let budget = format!("signal:{}", sender.id);
    if !spend(&mut tx, &budget, now_millis(), cost, window).await? {
        return Ok(false);
    }
    let room = rooms_repo::find_by_name(&mut tx, &sender.room)
        .await?
        .ok_or_else(not_in_call)?;
    let binding = repo::room(&mut tx, &sender.room).await?;
    let participant = repo::participant(&mut tx, &sender.id).await?;
    tx.commit().await?;

    let binding = match binding {
        Some(binding) if binding.created => binding,
        _ => ensure_room(state, &sfu, &room.name, room.properties.max_participants).await?,
    };
    let participant = match participant {
        Some(participant) if Some(participant.joined_at) == sender.joined_at => participant,
        Some(earlier) => {
            // A place of an earlier stay in the call, which no sweep has removed yet.
            sfu.kick(&earlier).await.map_err(sfu_failed)?;
            repo::remove_participant(&state.db, &earlier.session_id, earlier.sfu_session).await?;
            join(state, &sfu, &sender).await?
        }
        None => join(state, &sfu, &sender).await?,
    };
    for message in &messages {
        let first_offer = match message {
            SignalMessage::Description(SessionDescription {
                kind: SdpKind::Offer,
                ..
            }) => repo::mark_published(&state.db, &sender.id, participant.sfu_session).await?,
            SignalMessage::Description(_) => {
                return Err(AppError::invalid(
                    "messages: the SFU takes offers and ICE candidates",
                ));
            }
            SignalMessage::Candidate(_) => false,
        };
        sfu.relay(&binding, &participant, message, first_offer)
            .await
            .map_err(sfu_failed)?;
    }
    Ok(true)
}

/// `room`'s binding to an SFU room, created on the SFU if it was not: a new random pin and
/// secret, and `max_publishers` = the room's `max_participants`. Servers binding a room at once
/// agree on the first binding stored.
pub async fn ensure_room(
    state: &AppState,
    sfu: &Sfu,
    room: &str,
    max_publishers: i64,
) -> Result<SfuRoomRecord, AppError> {
    let mut candidate = SfuRoomRecord {
        room: room.to_owned(),
        sfu_room: Value::String(format!("knock-{}", random_secret())).to_string(),
        pin: random_secret(),
        secret: random_secret(),
        max_publishers,
        created: false,
        created_at: now_millis(),
    };
    let mut binding = repo::bind_room(&state.db, &candidate).await?;
    if binding.created {
        return Ok(binding);
    }
    match sfu.ensure_room(&binding).await {
        Ok(()) => {}
        Err(SfuError::InvalidRoomId) => {
            // A Janus without `string_ids`: numeric ids (below 2^53, which its JSON keeps).
            if !repo::unbind_room(&state.db, room, &binding.sfu_room).await? {
                return Err(sfu_failed(SfuError::Protocol(
                    "the room's binding changed while it was made".into(),
                )));
            }
            let number = rand::random::<u64>() >> 11;
            candidate.sfu_room = number.to_string();
            binding = repo::bind_room(&state.db, &candidate).await?;
            if !binding.created {
                sfu.ensure_room(&binding).await.map_err(sfu_failed)?;
            }
        }
        Err(error) => return Err(sfu_failed(error)),
    }
    repo::room_created(&state.db, room, &binding.sfu_room).await?;
    binding.created = true;
    Ok(binding)
}

/// Gives the participant `sender` a place on the SFU, and follows what the SFU says to it.
/// The place is recorded only if the session is still in the call (checked under the room's
/// lock, so a removal committed meanwhile is seen); otherwise it is destroyed at once.
pub async fn join(
    state: &AppState,
    sfu: &Sfu,
    sender: &SessionRecord,
) -> Result<SfuParticipantRecord, AppError> {
    let handle = sfu.join().await.map_err(sfu_failed)?;
    let record = SfuParticipantRecord {
        session_id: sender.id.clone(),
        room: sender.room.clone(),
        sfu_session: handle.session,
        sfu_handle: handle.handle,
        published: false,
        feed: None,
        joined_at: sender.joined_at.unwrap_or_default(),
        created_at: now_millis(),
    };
    match record_place(state, sender, &record).await {
        Ok(None) => {
            tokio::spawn(follow(state.clone(), sfu.clone(), record.clone()));
            Ok(record)
        }
        outcome => {
            // Not recorded: in nobody's care but this request's.
            if let Err(error) = sfu.kick(&record).await {
                tracing::warn!(%error, "destroying an unrecorded SFU session");
            }
            // Another request of the session joined it meanwhile: that place is the one.
            outcome.and_then(|existing| {
                existing.ok_or_else(|| AppError::internal("joining the SFU", "no place recorded"))
            })
        }
    }
}

/// Records `record` if its session is still in the call in the same stay, under the room's
/// lock; `Some` place recorded before it by another request of the session (then `record` is
/// not).
async fn record_place(
    state: &AppState,
    sender: &SessionRecord,
    record: &SfuParticipantRecord,
) -> Result<Option<SfuParticipantRecord>, AppError> {
    let mut tx = state.db.write_room(&sender.room).await?;
    let in_call = sessions_repo::find(&mut tx, &sender.id)
        .await?
        .is_some_and(|current| {
            current.phase == Phase::InCall && current.joined_at == Some(record.joined_at)
        });
    if !in_call {
        return Err(not_in_call());
    }
    let existing = if repo::add_participant(&mut tx, record).await? {
        None
    } else {
        let existing = repo::participant(&mut tx, &sender.id)
            .await?
            .filter(|existing| existing.joined_at == record.joined_at)
            .ok_or_else(|| {
                AppError::internal("joining the SFU", "a place of another stay was recorded")
            })?;
        Some(existing)
    };
    tx.commit().await?;
    Ok(existing)
}

/// Long-polls what the SFU says to `participant` and passes its answers on to the participant's
/// event stream, while its place is recorded; each poll also keeps its SFU session alive.
async fn follow(state: AppState, sfu: Sfu, participant: SfuParticipantRecord) {
    let mut shutdown = state.shutdown.subscribe();
    loop {
        let events = tokio::select! {
            events = sfu.events(&participant) => events,
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        };
        match events {
            Ok(events) => {
                for event in events {
                    if let Err(error) = pass_on(&state, &sfu, &participant, event).await {
                        tracing::warn!(%error, "passing on what the SFU said");
                    }
                }
            }
            Err(SfuError::Refused { .. }) => return,
            Err(error) => {
                tracing::warn!(%error, "following an SFU session");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        // Removed (or replaced): its SFU session is in the remover's care.
        match repo::participant(&state.db, &participant.session_id).await {
            Ok(Some(current)) if current.sfu_session == participant.sfu_session => {}
            Ok(_) => return,
            Err(error) => tracing::warn!(%error, "reading an SFU participant"),
        }
    }
}

/// Acts on one thing the SFU said to `participant`: its id in the room is recorded; its answer
/// is recorded for its event stream, in a transaction on the room that checks it is still in
/// the call (nobody outside the call receives signaling); a refusal ends its place.
async fn pass_on(
    state: &AppState,
    sfu: &Sfu,
    participant: &SfuParticipantRecord,
    event: SfuEvent,
) -> Result<(), AppError> {
    match event {
        SfuEvent::Joined(feed) => {
            repo::set_feed(
                &state.db,
                &participant.session_id,
                participant.sfu_session,
                &feed.to_string(),
            )
            .await?;
        }
        SfuEvent::Answer(sdp) => {
            let mut tx = state.db.write_room(&participant.room).await?;
            let in_call = sessions_repo::find(&mut tx, &participant.session_id)
                .await?
                .is_some_and(|current| {
                    current.phase == Phase::InCall
                        && current.joined_at == Some(participant.joined_at)
                });
            if !in_call {
                return Ok(());
            }
            let mut outbox = Outbox::new(&participant.room);
            let event = CallEvent::Signal {
                from: PEER.to_owned(),
                messages: vec![SignalMessage::Description(SessionDescription {
                    kind: SdpKind::Answer,
                    sdp,
                })],
            };
            outbox
                .record(
                    &mut tx,
                    &event,
                    vec![participant.session_id.clone()],
                    now_millis(),
                )
                .await?;
            outbox.commit(tx, &state.events).await?;
        }
        SfuEvent::Refused(reason) => {
            // Its place is no use (its room was destroyed meanwhile, say): removed, so that the
            // participant's next offer starts over with a new one.
            tracing::warn!(reason, "the SFU refused a participant's request");
            sfu.kick(participant).await.map_err(sfu_failed)?;
            repo::remove_participant(&state.db, &participant.session_id, participant.sfu_session)
                .await?;
        }
        SfuEvent::Gone | SfuEvent::Other => {}
    }
    Ok(())
}

/// Starts this server's sweep ([`SWEEP_EVERY`]), once per server (tests run several in one
/// process); it ends when the server shuts down.
fn start_sweeping(state: &AppState) {
    static SWEEPING: Mutex<Vec<Weak<EventHub>>> = Mutex::new(Vec::new());
    let Some(sfu) = Sfu::configured(&state.config) else {
        return;
    };
    {
        let mut sweeping = SWEEPING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sweeping.retain(|hub| hub.strong_count() > 0);
        if sweeping
            .iter()
            .any(|hub| hub.as_ptr() == Arc::as_ptr(&state.events))
        {
            return;
        }
        sweeping.push(Arc::downgrade(&state.events));
    }
    let state = state.clone();
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.subscribe();
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.wait_for(|stopping| *stopping) => return,
            }
            if let Err(error) = sweep(&state.db, &sfu, None).await {
                tracing::warn!(%error, "sweeping the SFU");
            }
        }
    });
}
