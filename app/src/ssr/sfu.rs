//! The SFU service: rooms too large for a mesh send their media through a selective forwarding
//! unit (Janus, `KNOCK_JANUS_URL`), and the lobby still guards it. Browsers never talk to the
//! SFU's API: a participant in the call sends its signaling to the peer [`PEER`] through the
//! `signal` path, checked against its phase in a transaction like every signal, and Knock relays
//! it; the SFU's answers come back on the participant's event stream, only while it is in the
//! call. The SFU room has a pin and a secret that only Knock knows, and holds exactly the people
//! in the call: [`guard`] removes from it (and destroys the SFU session of) everyone who has
//! left the call, however they left, and destroys the SFU rooms of calls that emptied.
//!
//! Everything is in the database (`db::sfu`): the room's binding and each participant's SFU
//! session, so any server can relay, remove or destroy. The backend is an enum with one
//! variant, [`Sfu::Janus`]; another SFU (LiveKit, say) would be a second variant behind the same
//! few operations: `ensure_room`, `join`, `relay`, `kick`, `destroy_room`.

pub mod janus;

use std::{
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use serde_json::Value;

use self::janus::{Janus, JanusEvent, JanusHandle};
use super::{
    config::Config,
    db::{
        limits::spend,
        rooms as rooms_repo,
        sessions::{self as sessions_repo, SessionRecord},
        sfu::{self as repo, SfuParticipantRecord, SfuRoomRecord},
    },
    events::{EventHub, Outbox},
    state::AppState,
    time::now_millis,
};
use crate::{
    error::AppError,
    model::{CallEvent, Phase, SdpKind, SessionDescription, SignalMessage},
};

/// The name participants address the SFU by in `signal` (`to`), and the `from` of the SFU's
/// signaling on their event stream. No session id has this shape (they are UUIDs).
pub const PEER: &str = "sfu";

/// How often each server looks for participants to remove and rooms to destroy that no hook
/// saw (a server that stopped between a commit and its hook): within the 2 s the lobby
/// promises.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Why the SFU did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// It could not be reached, or did not answer in time.
    #[error("the SFU could not be reached: {0}")]
    Unreachable(String),
    /// It answered with an error.
    #[error("the SFU refused ({code}): {reason}")]
    Refused {
        /// The SFU's error code.
        code: i64,
        /// Its reason.
        reason: String,
    },
    /// It takes room ids of the other type (Janus: numbers unless `string_ids`).
    #[error("the SFU takes room ids of the other type")]
    InvalidRoomId,
    /// It answered something unexpected.
    #[error("unexpected answer from the SFU: {0}")]
    Protocol(String),
}

impl SfuError {
    fn unreachable(error: reqwest::Error) -> Self {
        // Without the URL: a long poll's carries the API secret.
        Self::Unreachable(error.without_url().to_string())
    }
}

/// A configured SFU.
#[derive(Clone, Debug)]
pub enum Sfu {
    /// A Janus server's VideoRoom plugin.
    Janus(Janus),
}

/// A participant's place on the SFU, as the backend knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SfuHandle {
    /// The SFU session.
    pub session: i64,
    /// The handle it publishes (and is addressed) on.
    pub handle: i64,
}

/// What the SFU said to one participant.
#[derive(Clone, Debug, PartialEq)]
pub enum SfuEvent {
    /// It is in the room, with this id there.
    Joined(Value),
    /// Its answer to the participant's offer.
    Answer(String),
    /// The participant is no longer on the SFU.
    Gone,
    /// The SFU refused what the participant asked (joining a room that is gone, say).
    Refused(String),
    /// Nothing Knock acts on.
    Other,
}

fn janus_handle(participant: &SfuParticipantRecord) -> JanusHandle {
    JanusHandle {
        session: participant.sfu_session,
        handle: participant.sfu_handle,
    }
}

/// The SFU's id of a binding's room.
fn room_id(binding: &SfuRoomRecord) -> Result<Value, SfuError> {
    serde_json::from_str(&binding.sfu_room)
        .map_err(|error| SfuError::Protocol(format!("a stored room id: {error}")))
}

impl Sfu {
    /// The SFU `config` names, if any.
    pub fn configured(config: &Config) -> Option<Self> {
        config
            .janus
            .clone()
            .map(|server| Self::Janus(Janus::new(server)))
    }

    /// Creates the binding's room on the SFU (done when it exists).
    pub async fn ensure_room(&self, binding: &SfuRoomRecord) -> Result<(), SfuError> {
        match self {
            Self::Janus(janus) => {
                janus
                    .create_room(
                        &room_id(binding)?,
                        &binding.pin,
                        &binding.secret,
                        binding.max_publishers,
                    )
                    .await
            }
        }
    }

    /// A new place on the SFU for one participant (not in any room yet).
    pub async fn join(&self) -> Result<SfuHandle, SfuError> {
        match self {
            Self::Janus(janus) => janus.open().await.map(|handle| SfuHandle {
                session: handle.session,
                handle: handle.handle,
            }),
        }
    }

    /// Relays one of the participant's signaling messages; `first_offer` joins it to the
    /// binding's room as a publisher (session id as its name) with that offer.
    pub async fn relay(
        &self,
        binding: &SfuRoomRecord,
        participant: &SfuParticipantRecord,
        message: &SignalMessage,
        first_offer: bool,
    ) -> Result<(), SfuError> {
        let Self::Janus(janus) = self;
        let handle = janus_handle(participant);
        match message {
            SignalMessage::Description(description) if first_offer => {
                janus
                    .publish(
                        handle,
                        &room_id(binding)?,
                        &binding.pin,
                        &participant.session_id,
                        &description.sdp,
                    )
                    .await
            }
            SignalMessage::Description(description) => {
                janus.reconfigure(handle, &description.sdp).await
            }
            SignalMessage::Candidate(candidate) => {
                let candidate = serde_json::to_value(candidate)
                    .map_err(|error| SfuError::Protocol(error.to_string()))?;
                janus.trickle(handle, candidate).await
            }
        }
    }

    /// Takes the participant out of the SFU room and destroys its SFU session (done when it is
    /// gone already).
    pub async fn kick(&self, participant: &SfuParticipantRecord) -> Result<(), SfuError> {
        match self {
            Self::Janus(janus) => janus.destroy_session(participant.sfu_session).await,
        }
    }

    /// Destroys the binding's room on the SFU (done when it is gone already).
    pub async fn destroy_room(&self, binding: &SfuRoomRecord) -> Result<(), SfuError> {
        match self {
            Self::Janus(janus) => {
                janus
                    .destroy_room(&room_id(binding)?, &binding.secret)
                    .await
            }
        }
    }

    /// Who is in the binding's room on the SFU (their Knock session ids).
    pub async fn participants(&self, binding: &SfuRoomRecord) -> Result<Vec<String>, SfuError> {
        match self {
            Self::Janus(janus) => janus.participants(&room_id(binding)?).await,
        }
    }

    /// Waits (up to 30 s) for what the SFU says to the participant; also keeps its SFU session
    /// alive.
    pub async fn events(
        &self,
        participant: &SfuParticipantRecord,
    ) -> Result<Vec<SfuEvent>, SfuError> {
        let Self::Janus(janus) = self;
        let events = janus.poll(participant.sfu_session).await?;
        Ok(events
            .iter()
            .flat_map(janus::interpret)
            .map(|event| match event {
                JanusEvent::Joined(id) => SfuEvent::Joined(id),
                JanusEvent::Answer(sdp) => SfuEvent::Answer(sdp),
                JanusEvent::Gone => SfuEvent::Gone,
                JanusEvent::Refused(reason) => SfuEvent::Refused(reason),
                JanusEvent::Other => SfuEvent::Other,
            })
            .collect())
    }
}

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
/// (the mesh's, [`super::media`]). The first message sent binds the room to an SFU room and the
/// session to a place on the SFU; its first offer joins that room as a publisher.
pub async fn signal(
    state: &AppState,
    session: &SessionRecord,
    messages: Vec<SignalMessage>,
    cost: i64,
) -> Result<(), AppError> {
    let sfu = Sfu::configured(&state.config)
        .ok_or_else(|| AppError::Forbidden("this server has no SFU: the call is a mesh".into()))?;
    start_sweeping(state);
    let mut tx = state.db.write_room(&session.room).await?;
    let sender = sessions_repo::find(&mut tx, &session.id)
        .await?
        .filter(|sender| sender.phase == Phase::InCall)
        .ok_or_else(not_in_call)?;
    let budget = format!("signal:{}", sender.id);
    if !spend(
        &mut tx,
        &budget,
        now_millis(),
        cost,
        super::media::SIGNAL_WINDOW_MILLIS,
    )
    .await?
    {
        return Err(super::media::over_budget());
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
    Ok(())
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

/// The lobby's hook, called after a commit that may have taken people out of `room`'s call:
/// removes from the SFU everyone of the room who is no longer in the call, and destroys the SFU
/// room when the call is empty (the room deleted, expired, or left by all). Runs in the
/// background (the lobby's answer does not wait for the SFU); without an SFU it does nothing.
pub fn guard(state: &AppState, room: &str) {
    let Some(sfu) = Sfu::configured(&state.config) else {
        return;
    };
    start_sweeping(state);
    let state = state.clone();
    let room = room.to_owned();
    tokio::spawn(async move {
        if let Err(error) = sweep(&state, &sfu, Some(&room)).await {
            tracing::warn!(%error, room, "removing people from the SFU");
        }
    });
}

/// Removes from the SFU every participant (of `room`, or of every room) who is no longer in
/// the call, and destroys the SFU rooms of empty calls. A removal that fails stays recorded and
/// is tried again at the next sweep.
pub async fn sweep(state: &AppState, sfu: &Sfu, room: Option<&str>) -> Result<(), AppError> {
    for participant in repo::stale_participants(&state.db, room).await? {
        match sfu.kick(&participant).await {
            Ok(()) => {
                repo::remove_participant(
                    &state.db,
                    &participant.session_id,
                    participant.sfu_session,
                )
                .await?;
            }
            Err(error) => tracing::warn!(%error, "removing a participant from the SFU"),
        }
    }
    for binding in repo::idle_rooms(&state.db).await? {
        if room.is_some_and(|room| room != binding.room) {
            continue;
        }
        // Unbound first, in a transaction on the room that sees nobody in the call: whoever
        // enters after it gets a new SFU room.
        let mut tx = state.db.write_room(&binding.room).await?;
        let empty = sessions_repo::count_in_call(&mut tx, &binding.room).await? == 0;
        let unbound = empty && repo::unbind_room(&mut tx, &binding.room, &binding.sfu_room).await?;
        tx.commit().await?;
        if unbound
            && binding.created
            && let Err(error) = sfu.destroy_room(&binding).await
        {
            tracing::warn!(%error, room = binding.room, "destroying an SFU room");
        }
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
            if let Err(error) = sweep(&state, &sfu, None).await {
                tracing::warn!(%error, "sweeping the SFU");
            }
        }
    });
}
