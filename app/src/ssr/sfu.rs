//! The SFU service: rooms too large for a mesh send their media through a selective forwarding
//! unit (Janus, `KNOCK_JANUS_URL`), and the lobby still guards it. Browsers never talk to the
//! SFU's API: a participant in the call sends its signaling to the peer [`PEER`] through the
//! `signal` path, checked against its phase in a transaction like every signal, and Knock relays
//! it ([`relay`]); the SFU's answers come back on the participant's event stream, only while it
//! is in the call. The SFU room has a pin and a secret that only Knock knows, and holds exactly the people
//! in the call: [`guard`] removes from it (and destroys the SFU session of) everyone who has
//! left the call, however they left, and destroys the SFU rooms of calls that emptied.
//!
//! Everything is in the database (`db::sfu`): the room's binding and each participant's SFU
//! session, so any server can relay, remove or destroy. The backend is an enum with one
//! variant, [`Sfu::Janus`]; another SFU (LiveKit, say) would be a second variant behind the same
//! few operations: `ensure_room`, `join`, `relay`, `subscribe`, `start`, `kick`, `destroy_room`.
//!
//! Each participant publishes on one handle and receives everyone else's media on a second one
//! in the same SFU session, which Knock attaches and keeps subscribed to whoever publishes
//! ([`relay`]); the browser answers the SFU's offers through `signal` like it offers.

mod error;
pub mod janus;
pub mod relay;

use std::time::Duration;

use serde_json::Value;

pub use self::error::SfuError;
use self::janus::{Janus, JanusEvent, JanusHandle};
use super::{
    config::Config,
    db::{
        self, Db,
        rooms::{self as rooms_repo, RoomRecord},
        sessions::{self as sessions_repo, SessionRecord},
        sfu::{self as repo, SfuParticipantRecord, SfuRoomRecord},
    },
    events::Outbox,
    state::AppState,
    time::now_millis,
};
use crate::{
    error::AppError,
    model::{CallEvent, ConnectionType, NetworkTopology, Phase, SignalMessage},
};

/// The name participants address the SFU by in `signal` (`to`), and the `from` of the SFU's
/// signaling on their event stream. No session id has this shape (they are UUIDs).
pub const PEER: &str = "sfu";

/// How often each server looks for participants to remove and rooms to destroy that no hook
/// saw (a server that stopped between a commit and its hook): within the 2 s the lobby
/// promises.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

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
    /// Others publishing in the room now: (their id there, their Knock session id).
    Publishers(Vec<(Value, String)>),
    /// Someone (by id there) stopped publishing.
    Unpublished(Value),
    /// The SFU offers the participant the others' media: the offer, and whose media each
    /// active section (by mid) carries (Knock session ids).
    Offer(String, Vec<(String, String)>),
    /// Nothing Knock acts on.
    Other,
}

/// Who on the participant's place an [`SfuEvent`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// What it publishes.
    Publisher,
    /// What it receives.
    Subscriber,
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

    /// Subscribes the participant to `feeds` (others' ids in the room) on its receiving handle
    /// `subscriber` (attached to its SFU session first when `None`: the new one is answered).
    pub async fn subscribe(
        &self,
        binding: &SfuRoomRecord,
        participant: &SfuParticipantRecord,
        subscriber: Option<i64>,
        feeds: &[Value],
    ) -> Result<i64, SfuError> {
        let Self::Janus(janus) = self;
        let (handle, first) = match subscriber {
            Some(handle) => (handle, false),
            None => (janus.attach_handle(participant.sfu_session).await?, true),
        };
        let room = room_id(binding)?;
        let target = JanusHandle {
            session: participant.sfu_session,
            handle,
        };
        janus
            .subscribe(target, &room, &binding.pin, feeds, first)
            .await?;
        Ok(handle)
    }

    /// Starts what the participant receives with its browser's `answer` to the SFU's offer.
    pub async fn start(
        &self,
        participant: &SfuParticipantRecord,
        subscriber: i64,
        answer: &str,
    ) -> Result<(), SfuError> {
        let Self::Janus(janus) = self;
        let handle = JanusHandle {
            session: participant.sfu_session,
            handle: subscriber,
        };
        janus.start(handle, answer).await
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

    /// Waits (up to 30 s) for what the SFU says to the participant, each about its publisher
    /// or its subscriber (the receiving handle `subscriber`); also keeps its SFU session alive.
    pub async fn events(
        &self,
        participant: &SfuParticipantRecord,
        subscriber: Option<i64>,
    ) -> Result<Vec<(Receiver, SfuEvent)>, SfuError> {
        let Self::Janus(janus) = self;
        let events = janus.poll(participant.sfu_session).await?;
        Ok(events
            .iter()
            .flat_map(|event| {
                let about = if subscriber.is_some() && event["sender"].as_i64() == subscriber {
                    Receiver::Subscriber
                } else {
                    Receiver::Publisher
                };
                janus::interpret(event)
                    .into_iter()
                    .map(move |event| (about, event))
            })
            .map(|(about, event)| {
                let event = match event {
                    JanusEvent::Joined(id) => SfuEvent::Joined(id),
                    JanusEvent::Answer(sdp) => SfuEvent::Answer(sdp),
                    JanusEvent::Gone => SfuEvent::Gone,
                    JanusEvent::Refused(reason) => SfuEvent::Refused(reason),
                    JanusEvent::Publishers(list) => SfuEvent::Publishers(list),
                    JanusEvent::Unpublished(feed) => SfuEvent::Unpublished(feed),
                    JanusEvent::Offer { sdp, streams } => SfuEvent::Offer(sdp, streams),
                    JanusEvent::Other => SfuEvent::Other,
                };
                (about, event)
            })
            .collect())
    }
}

/// The lobby's hook, called after a commit that may have taken people out of `room`'s call:
/// removes from the SFU everyone of the room who is no longer in the call, and destroys the SFU
/// room when the call is empty (the room deleted, expired, or left by all). Runs in the
/// background (the lobby's answer does not wait for the SFU); without an SFU it does nothing.
/// (Every server that relays for a participant also sweeps every room each [`SWEEP_EVERY`].)
pub fn guard(db: &Db, config: &Config, room: &str) {
    let Some(sfu) = Sfu::configured(config) else {
        return;
    };
    let db = db.clone();
    let room = room.to_owned();
    tokio::spawn(async move {
        if let Err(error) = sweep(&db, &sfu, Some(&room)).await {
            tracing::warn!(%error, room, "removing people from the SFU");
        }
    });
}

/// The lobby's hook, called after a commit that may have changed who is in `room`'s call:
/// [`guard`], then tells everyone in the call its topology if it changed
/// ([`tell_topology`]). In the background; without an SFU it does nothing (every call is a
/// mesh, which is what a call that was never told anything is).
pub fn call_changed(state: &AppState, room: &str) {
    guard(&state.db, &state.config, room);
    if Sfu::configured(&state.config).is_none() {
        return;
    }
    let state = state.clone();
    let room = room.to_owned();
    tokio::spawn(async move {
        if let Err(error) = tell_topology(&state, &room).await {
            tracing::warn!(%error, room, "telling a call its topology");
        }
    });
}

/// The topology a call has with the room `record` (none: deleted) and the sessions `in_call`:
/// by the room's `sfu_switchover`, the people in the call, and whether this server has an SFU.
fn topology_now(
    config: &Config,
    record: Option<RoomRecord>,
    in_call: &[SessionRecord],
) -> Option<Topology> {
    let record = record?;
    let people = i64::try_from(in_call.len()).unwrap_or(i64::MAX);
    let switchover = record.properties.sfu_switchover.map(|fraction| fraction.0);
    Some(topology(
        switchover,
        people,
        Sfu::configured(config).is_some(),
    ))
}

/// Tells everyone in `room`'s call its topology (`network-connection`) if it is not the one
/// they were last told, in a transaction on the room (so two servers never tell the same
/// change twice, and the version grows by one with each). A call back to a mesh then leaves
/// the SFU ([`sweep`]).
pub async fn tell_topology(state: &AppState, room: &str) -> Result<(), AppError> {
    let mut tx = state.db.write_room(room).await?;
    let record = rooms_repo::find_by_name(&mut tx, room).await?;
    let in_call = sessions_repo::in_phase(&mut tx, room, Phase::InCall).await?;
    let Some(now) = topology_now(&state.config, record, &in_call) else {
        return Ok(());
    };
    let in_call = in_call.into_iter().map(|session| session.id).collect();
    let (told, version) = repo::told_topology(&mut tx, room)
        .await?
        .unwrap_or_else(|| (Topology::Mesh.as_str().to_owned(), 0));
    if told == now.as_str() {
        return Ok(());
    }
    repo::tell_topology(&mut tx, room, now.as_str(), version + 1).await?;
    let mut outbox = Outbox::new(room);
    let event = CallEvent::NetworkConnection {
        kind: now.connection_type(),
        event: "connected".to_owned(),
        version: version + 1,
    };
    outbox
        .record(&mut tx, &event, in_call, now_millis())
        .await?;
    outbox.commit(tx, &state.events).await?;
    // Back to a mesh: nobody's place on the SFU is needed any more.
    if now == Topology::Mesh
        && let Some(sfu) = Sfu::configured(&state.config)
    {
        sweep(&state.db, &sfu, Some(room)).await?;
    }
    Ok(())
}

/// What `network_topology` answers `session`: the call's topology now and the version last
/// told, or `none` outside the call (the lobby learns nothing of the call's media).
pub async fn network_topology(
    state: &AppState,
    session: &SessionRecord,
) -> Result<NetworkTopology, AppError> {
    let in_call = sessions_repo::find(&state.db, &session.id)
        .await?
        .is_some_and(|current| current.phase == Phase::InCall);
    if !in_call {
        return Ok(NetworkTopology::default());
    }
    let record = rooms_repo::find_by_name(&state.db, &session.room).await?;
    let in_call = sessions_repo::in_phase(&state.db, &session.room, Phase::InCall).await?;
    let Some(now) = topology_now(&state.config, record, &in_call) else {
        return Ok(NetworkTopology::default());
    };
    let version = repo::told_topology(&state.db, &session.room)
        .await?
        .map_or(0, |(_, version)| version);
    Ok(NetworkTopology {
        topology: now.connection_type().into(),
        version,
    })
}

/// Removes from the SFU every participant (of `room`, or of every room) who is no longer in
/// the call, and destroys the SFU rooms of empty calls. A removal that fails stays recorded and
/// is tried again at the next sweep.
pub async fn sweep(db: &Db, sfu: &Sfu, room: Option<&str>) -> Result<(), db::Error> {
    for participant in repo::stale_participants(db, room).await? {
        match sfu.kick(&participant).await {
            Ok(()) => {
                repo::remove_participant(db, &participant.session_id, participant.sfu_session)
                    .await?;
            }
            Err(error) => tracing::warn!(%error, "removing a participant from the SFU"),
        }
    }
    for binding in repo::idle_rooms(db).await? {
        if room.is_some_and(|room| room != binding.room) {
            continue;
        }
        // Unbound first, in a transaction on the room that sees nobody in the call: whoever
        // enters after it gets a new SFU room.
        let mut tx = db.write_room(&binding.room).await?;
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

/// How many people a call holds before it moves to the SFU when the room sets no
/// `sfu_switchover`: a mesh for up to 4 people (every browser encodes its video once per other
/// participant, which laptops manage for about 4–6), the SFU from the 5th.
pub const DEFAULT_SFU_SWITCHOVER: f64 = 4.0;

/// How a call's media flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Browser to browser, every participant to every other.
    Mesh,
    /// Every participant to the SFU, which forwards to the others.
    Sfu,
}

impl Topology {
    /// The stored form: `peer` or `sfu` (daily-js' `getNetworkTopology()` words).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mesh => "peer",
            Self::Sfu => "sfu",
        }
    }

    /// As a `network-connection` event says it.
    pub fn connection_type(self) -> ConnectionType {
        match self {
            Self::Mesh => ConnectionType::PeerToPeer,
            Self::Sfu => ConnectionType::Sfu,
        }
    }
}

/// The topology of a call of `in_call` people, by Daily's rule for `sfu_switchover` (the
/// number of participants after which the call moves to the SFU: `0.5` means the SFU from the
/// first person), [`DEFAULT_SFU_SWITCHOVER`] when the room sets none. Without an SFU configured,
/// always a mesh.
pub fn topology(sfu_switchover: Option<f64>, in_call: i64, sfu_configured: bool) -> Topology {
    let switchover = sfu_switchover.unwrap_or(DEFAULT_SFU_SWITCHOVER);
    #[expect(
        clippy::cast_precision_loss,
        reason = "a call's size is far below 2^53"
    )]
    let people = in_call as f64;
    if sfu_configured && people > switchover {
        Topology::Sfu
    } else {
        Topology::Mesh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_moves_to_the_sfu_after_sfu_switchover_people() {
        use Topology::{Mesh, Sfu};
        // (sfu_switchover, people in the call, SFU configured) -> topology
        let table: &[(Option<f64>, i64, bool, Topology)] = &[
            (None, 1, true, Mesh),
            (None, 4, true, Mesh),
            (None, 5, true, Sfu),
            (None, 50, false, Mesh),
            (Some(0.5), 1, true, Sfu),
            (Some(0.5), 1, false, Mesh),
            (Some(2.0), 2, true, Mesh),
            (Some(2.0), 3, true, Sfu),
            (Some(2.5), 3, true, Sfu),
            (Some(0.0), 1, true, Sfu),
            (Some(100.0), 99, true, Mesh),
        ];
        for &(switchover, people, configured, expected) in table {
            assert_eq!(
                topology(switchover, people, configured),
                expected,
                "sfu_switchover {switchover:?}, {people} in the call, SFU {configured}"
            );
        }
    }
}
