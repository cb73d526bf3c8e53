//! Relaying a participant's signaling to the SFU (`signal` to [`PEER`]) and the SFU's answers
//! back to its event stream: the part of the SFU service that works with the server's state
//! (the event log, shutdown), apart from the guard that the lobby calls.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use serde_json::Value;

use super::{PEER, Receiver, SWEEP_EVERY, Sfu, SfuError, SfuEvent, sweep};
use crate::{
    error::AppError,
    media::wire,
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
/// room and the session to a place on the SFU; its first offer joins that room as a publisher,
/// and an offer from another browser connection (by its tag, `media::wire`) gets a new place.
/// An answer (to the SFU's offer of the others' media) starts what the participant receives.
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
    let mut participant = match participant {
        Some(participant) if Some(participant.joined_at) == sender.joined_at => participant,
        Some(earlier) => {
            // A place of an earlier stay in the call, which no sweep has removed yet.
            replace(state, &sfu, &sender, &earlier).await?
        }
        None => join(state, &sfu, &sender).await?,
    };
    for message in messages {
        let (tag, message) = wire::untag(message);
        let connection = tag.map(|tag| tag.from);
        match &message {
            SignalMessage::Description(SessionDescription {
                kind: SdpKind::Offer,
                ..
            }) => {
                // Another browser connection than the one that published here (a reloaded
                // page, one back from a mesh): a new place, as that connection is new to the SFU.
                if participant.published
                    && connection.is_some()
                    && participant.connection != connection
                {
                    participant = replace(state, &sfu, &sender, &participant).await?;
                }
                let first_offer = repo::mark_published(
                    &state.db,
                    &sender.id,
                    participant.sfu_session,
                    connection.as_deref(),
                )
                .await?;
                if first_offer {
                    participant.published = true;
                    participant.connection.clone_from(&connection);
                }
                sfu.relay(&binding, &participant, &message, first_offer)
                    .await
                    .map_err(sfu_failed)?;
            }
            SignalMessage::Description(answer) => {
                // The answer to the SFU's offer of the others' media, from the connection that
                // publishes (an older one's is dropped).
                let current = repo::participant(&state.db, &sender.id)
                    .await?
                    .filter(|current| current.sfu_session == participant.sfu_session);
                let Some(subscriber) = current.as_ref().and_then(|current| current.sfu_subscriber)
                else {
                    return Err(AppError::invalid(
                        "messages: the SFU has offered nothing to answer",
                    ));
                };
                if connection.is_some() && participant.connection != connection {
                    continue;
                }
                sfu.start(&participant, subscriber, &answer.sdp)
                    .await
                    .map_err(sfu_failed)?;
            }
            SignalMessage::Candidate(_) => {
                sfu.relay(&binding, &participant, &message, false)
                    .await
                    .map_err(sfu_failed)?;
            }
        }
    }
    Ok(true)
}

/// Replaces the participant's place `earlier` (of an earlier stay, or of a browser connection
/// that is gone) by a new one.
async fn replace(
    state: &AppState,
    sfu: &Sfu,
    sender: &SessionRecord,
    earlier: &SfuParticipantRecord,
) -> Result<SfuParticipantRecord, AppError> {
    sfu.kick(earlier).await.map_err(sfu_failed)?;
    repo::remove_participant(&state.db, &earlier.session_id, earlier.sfu_session).await?;
    join(state, sfu, sender).await
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
        sfu_subscriber: None,
        connection: None,
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

/// What a participant's follower knows of its subscriptions: the others publishing, and
/// whose feeds its receiving handle has asked for.
#[derive(Default)]
struct Subscriptions {
    /// Its receiving handle, once attached.
    handle: Option<i64>,
    /// Everyone else publishing in the room (by id there, as JSON), with that id.
    wanted: HashMap<String, Value>,
    /// The feeds asked for (by id, as JSON).
    asked: HashSet<String>,
    /// The feeds of the latest request (asked again should the SFU refuse it).
    last: Vec<String>,
}

/// Long-polls what the SFU says to `participant` and passes its answers and offers on to the
/// participant's event stream, while its place is recorded; each poll also keeps its SFU
/// session alive. It also keeps the participant subscribed to everyone else who publishes.
async fn follow(state: AppState, sfu: Sfu, participant: SfuParticipantRecord) {
    let mut shutdown = state.shutdown.subscribe();
    let mut subscriptions = Subscriptions::default();
    loop {
        let events = tokio::select! {
            events = sfu.events(&participant, subscriptions.handle) => events,
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        };
        match events {
            Ok(events) => {
                // A batch of nothing but refusals of subscriptions is not retried at once
                // (the retry would be refused again): the next event is the occasion.
                let mut retry = false;
                for (about, event) in events {
                    retry |= !matches!(
                        (about, &event),
                        (Receiver::Subscriber, SfuEvent::Refused(_))
                    );
                    match (about, event) {
                        (_, SfuEvent::Publishers(list)) => {
                            for (feed, display) in list {
                                if display != participant.session_id {
                                    subscriptions.wanted.insert(feed.to_string(), feed);
                                }
                            }
                        }
                        (_, SfuEvent::Unpublished(feed)) => {
                            let key = feed.to_string();
                            subscriptions.wanted.remove(&key);
                            subscriptions.asked.remove(&key);
                        }
                        (Receiver::Subscriber, SfuEvent::Refused(reason)) => {
                            tracing::warn!(reason, "the SFU refused a subscription");
                            for key in std::mem::take(&mut subscriptions.last) {
                                subscriptions.asked.remove(&key);
                            }
                        }
                        (Receiver::Subscriber, SfuEvent::Gone) => {}
                        (_, event) => {
                            if let Err(error) = pass_on(&state, &sfu, &participant, event).await {
                                tracing::warn!(%error, "passing on what the SFU said");
                            }
                        }
                    }
                }
                if retry {
                    subscribe(&state, &sfu, &participant, &mut subscriptions).await;
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

/// Asks the SFU for the feeds the participant wants and has not asked for yet (attaching its
/// receiving handle the first time).
async fn subscribe(
    state: &AppState,
    sfu: &Sfu,
    participant: &SfuParticipantRecord,
    subscriptions: &mut Subscriptions,
) {
    let missing: Vec<String> = subscriptions
        .wanted
        .keys()
        .filter(|key| !subscriptions.asked.contains(*key))
        .cloned()
        .collect();
    if missing.is_empty() {
        return;
    }
    let binding = match repo::room(&state.db, &participant.room).await {
        Ok(Some(binding)) => binding,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "reading an SFU room");
            return;
        }
    };
    let feeds: Vec<Value> = missing
        .iter()
        .filter_map(|key| subscriptions.wanted.get(key).cloned())
        .collect();
    match sfu
        .subscribe(&binding, participant, subscriptions.handle, &feeds)
        .await
    {
        Ok(handle) => {
            if subscriptions.handle.is_none() {
                subscriptions.handle = Some(handle);
                if let Err(error) = repo::set_subscriber(
                    &state.db,
                    &participant.session_id,
                    participant.sfu_session,
                    handle,
                )
                .await
                {
                    tracing::warn!(%error, "recording an SFU subscriber");
                }
            }
            subscriptions.asked.extend(missing.iter().cloned());
            subscriptions.last = missing;
        }
        Err(error) => tracing::warn!(%error, "subscribing on the SFU"),
    }
}

/// Acts on one thing the SFU said to `participant`: its id in the room is recorded; its answer,
/// and its offers of the others' media (each section labelled with whose it is), are recorded
/// for its event stream ([`tell`]); a refusal ends its place.
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
        SfuEvent::Answer(sdp) => tell(state, participant, SdpKind::Answer, sdp).await?,
        SfuEvent::Offer(sdp, streams) => {
            let sdp = wire::label_participants(&sdp, &streams);
            tell(state, participant, SdpKind::Offer, sdp).await?;
        }
        SfuEvent::Refused(reason) => {
            // Its place is no use (its room was destroyed meanwhile, say): removed, so that the
            // participant's next offer starts over with a new one.
            tracing::warn!(reason, "the SFU refused a participant's request");
            sfu.kick(participant).await.map_err(sfu_failed)?;
            repo::remove_participant(&state.db, &participant.session_id, participant.sfu_session)
                .await?;
        }
        SfuEvent::Gone | SfuEvent::Other | SfuEvent::Publishers(_) | SfuEvent::Unpublished(_) => {}
    }
    Ok(())
}

/// Records the SFU's description `sdp` for the participant's event stream, in a transaction
/// on the room that checks it is still in the call (nobody outside the call receives
/// signaling).
async fn tell(
    state: &AppState,
    participant: &SfuParticipantRecord,
    kind: SdpKind,
    sdp: String,
) -> Result<(), AppError> {
    let mut tx = state.db.write_room(&participant.room).await?;
    let in_call = sessions_repo::find(&mut tx, &participant.session_id)
        .await?
        .is_some_and(|current| {
            current.phase == Phase::InCall && current.joined_at == Some(participant.joined_at)
        });
    if !in_call {
        return Ok(());
    }
    let mut outbox = Outbox::new(&participant.room);
    let event = CallEvent::Signal {
        from: PEER.to_owned(),
        messages: vec![SignalMessage::Description(SessionDescription { kind, sdp })],
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
