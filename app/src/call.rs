//! The Rust call client: daily-js's operations as async methods and its events as reactive
//! state. Knock's pages are built on it, and so can a custom UI be: create a [`CallClient`] for
//! a room inside a component, call its operations, and read its signals. In the browser it
//! keeps the room's event stream open and reconnects by itself, resuming after the last event it
//! saw, so nothing is missed.
//!
//! ```text
//! let call = CallClient::new("standup");
//! spawn_local(async move { call.request_access("Ben").await.ok(); });
//! let waiting = move || call.model.with(|m| m.phase() == Some(Phase::Waiting));
//! ```

use std::collections::HashMap;

use leptos::prelude::*;

use crate::{
    api::call as ops,
    error::AppError,
    model::{
        AccessLevel, CallErrorDetail, CallErrorKind, CallEvent, CallState, Decisions,
        NetworkTopology, Participant, Phase, Resolution, RoomAccess, RoomSnapshot, SignalMessage,
        Topology, WaitingParticipant,
    },
};

/// Receives WebRTC signaling: the sender's session id and its messages, in order.
pub type SignalHandler = std::sync::Arc<dyn Fn(String, Vec<SignalMessage>) + Send + Sync>;

/// Signaling that arrived while no handler was set is kept (up to this many deliveries) for the
/// handler that comes next: a participant's offer may arrive before the local mesh is ready.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const MAX_PENDING_SIGNALS: usize = 256;

/// Where signaling from the stream goes: the media mesh's handler, or a queue until it is set.
#[derive(Default)]
struct SignalInbox {
    handler: Option<SignalHandler>,
    pending: std::collections::VecDeque<(String, Vec<SignalMessage>)>,
}

/// What the client knows about the call: applied from operation answers and events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallModel {
    /// The session's state, once known.
    pub state: Option<CallState>,
    /// The lobby, for admins (oldest first).
    pub waiting: Vec<WaitingParticipant>,
    /// Everyone else in the call.
    pub participants: Vec<Participant>,
    /// The last `error` event.
    pub error: Option<CallErrorDetail>,
    /// The last knock another admin (or the API) decided, and how.
    pub last_decision: Option<(WaitingParticipant, Resolution)>,
    /// Whether the event stream is open.
    pub connected: bool,
    /// How the call's media flows (daily-js' `getNetworkTopology()`): `none` until known and
    /// outside the call. The media session follows it.
    pub topology: NetworkTopology,
    /// The last events applied, with their ids, so a snapshot read before some of them can be
    /// brought up to date (see [`CallModel::install_snapshot`]).
    recent: std::collections::VecDeque<(i64, CallEvent)>,
}

/// How many applied events are kept for bringing a late snapshot up to date.
const RECENT_EVENTS: usize = 256;

impl CallModel {
    /// Where the session stands.
    pub fn phase(&self) -> Option<Phase> {
        self.state.as_ref().map(|state| state.phase)
    }

    /// Takes a fresh state from an operation's answer.
    pub fn set_state(&mut self, state: CallState) {
        if state.phase != Phase::InCall {
            self.participants.clear();
            self.topology.topology = Topology::None;
        }
        self.state = Some(state);
    }

    /// Takes the call's topology as `network_topology` answered it or a `network-connection`
    /// event said it, unless a newer one (by version) is known already.
    pub fn set_topology(&mut self, topology: NetworkTopology) {
        let in_call = self.phase() == Some(Phase::InCall);
        if topology.version >= self.topology.version {
            self.topology = NetworkTopology {
                topology: if in_call {
                    topology.topology
                } else {
                    Topology::None
                },
                version: topology.version,
            };
        }
    }

    /// Applies an event from the stream with its id, and keeps it for [`Self::install_snapshot`].
    pub fn apply_numbered(&mut self, id: i64, event: CallEvent) {
        if self.recent.len() == RECENT_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back((id, event.clone()));
        self.apply(event);
    }

    /// Installs a reloaded snapshot of the call and the lobby. The snapshot may have been read
    /// before events the stream has already delivered (its `last_event_id` says where it
    /// stands): those are applied again on top of it, so it never takes back something newer.
    pub fn install_snapshot(&mut self, snapshot: RoomSnapshot) {
        let RoomSnapshot {
            state: fresh,
            participants,
            waiting,
        } = snapshot;
        self.participants = participants;
        self.waiting = waiting;
        if let Some(state) = &mut self.state {
            state.user_name = fresh.user_name;
            state.host_present = fresh.host_present;
            state.admin = fresh.admin;
            state.owner = fresh.owner;
            // The lobby's own part: a page that entered the lobby by an event learns its place
            // in line and any message only from here.
            state.position = fresh.position;
            state.message = fresh.message;
        }
        let newer: Vec<CallEvent> = self
            .recent
            .iter()
            .filter(|(id, _)| *id > fresh.last_event_id)
            .map(|(_, event)| event.clone())
            .filter(|event| {
                matches!(
                    event,
                    CallEvent::ParticipantJoined { .. }
                        | CallEvent::ParticipantLeft { .. }
                        | CallEvent::ParticipantUpdated { .. }
                        | CallEvent::WaitingParticipantAdded { .. }
                        | CallEvent::WaitingParticipantUpdated { .. }
                        | CallEvent::WaitingParticipantRemoved { .. }
                        | CallEvent::LobbyPosition { .. }
                        | CallEvent::LobbyMessage { .. }
                )
            })
            .collect();
        for event in newer {
            self.apply(event);
        }
    }

    /// Applies one event from the stream.
    pub fn apply(&mut self, event: CallEvent) {
        match event {
            CallEvent::AccessStateUpdated {
                access,
                awaiting_access,
            } => {
                if let Some(state) = &mut self.state {
                    state.access.access = access;
                    state.access.awaiting_access = awaiting_access;
                    state.phase = match (access.level, awaiting_access, state.phase) {
                        (_, Some(_), _) => Phase::Waiting,
                        (AccessLevel::Full, None, Phase::Waiting | Phase::Prejoin) => Phase::InCall,
                        (AccessLevel::Lobby, None, Phase::Waiting) => Phase::Prejoin,
                        (_, None, phase) => phase,
                    };
                    if state.phase != Phase::InCall {
                        self.topology.topology = Topology::None;
                    }
                }
            }
            CallEvent::WaitingParticipantAdded { participant } => {
                if !self.waiting.iter().any(|known| known.id == participant.id) {
                    self.waiting.push(participant);
                }
            }
            CallEvent::WaitingParticipantUpdated { participant } => {
                if let Some(known) = self
                    .waiting
                    .iter_mut()
                    .find(|known| known.id == participant.id)
                {
                    *known = participant;
                }
            }
            CallEvent::WaitingParticipantRemoved {
                participant,
                resolution,
            } => {
                self.waiting.retain(|known| known.id != participant.id);
                if let Some(resolution) = resolution {
                    self.last_decision = Some((participant, resolution));
                }
            }
            CallEvent::ParticipantJoined { participant } => {
                self.participants
                    .retain(|known| known.session_id != participant.session_id);
                self.participants.push(participant);
            }
            CallEvent::ParticipantLeft { participant } => {
                self.participants
                    .retain(|known| known.session_id != participant.session_id);
            }
            CallEvent::ParticipantUpdated { participant } => {
                // Someone this client has not heard join (a snapshot older than their join) is
                // in the call all the same.
                match self
                    .participants
                    .iter_mut()
                    .find(|known| known.session_id == participant.session_id)
                {
                    Some(known) => *known = participant,
                    None => self.participants.push(participant),
                }
            }
            // Signaling is not state: the stream hands it to the media mesh (see `on_signal`).
            CallEvent::Signal { .. } => {}
            CallEvent::NetworkConnection { kind, version, .. } => {
                self.set_topology(NetworkTopology {
                    topology: kind.into(),
                    version,
                });
            }
            CallEvent::RoomAccessUpdated { access, .. } => {
                if let Some(state) = &mut self.state
                    && state.admin
                {
                    state.room_access = Some(access);
                }
            }
            CallEvent::LobbyMessage { message } => {
                if let Some(state) = &mut self.state
                    && state.phase == Phase::Waiting
                {
                    state.message = Some(message);
                }
            }
            CallEvent::LobbyPosition { position } => {
                if let Some(state) = &mut self.state
                    && state.phase == Phase::Waiting
                {
                    state.position = Some(position);
                }
            }
            CallEvent::Error { error, .. } => {
                if let Some(state) = &mut self.state {
                    state.phase = if error.kind == CallErrorKind::NotAllowed {
                        Phase::Denied
                    } else {
                        Phase::Ejected
                    };
                    state.access.awaiting_access = None;
                }
                self.waiting.clear();
                self.participants.clear();
                self.topology.topology = Topology::None;
                self.error = Some(error);
            }
        }
    }
}

/// A call client for one room: the operations, and the model as a signal.
#[derive(Clone, Copy)]
pub struct CallClient {
    room: StoredValue<String>,
    streaming: StoredValue<bool>,
    /// The reactive scope the client was made in, which the stream lives in once it opens.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    scope: StoredValue<Option<Owner>>,
    // Thread-safe storage: the page is also rendered on the server's worker threads.
    signals: StoredValue<SignalInbox>,
    /// Everything known about the call; updated by operations and events.
    pub model: RwSignal<CallModel>,
}

impl CallClient {
    /// A client for `room`. The first state it learns (from any operation, or [`Self::start`])
    /// opens the room's event stream right after that state, so nothing is missed or applied
    /// twice (a page that starts on the prejoin page opens it once it is needed, see
    /// [`Self::start`]); the stream closes when the reactive scope the client was made in is
    /// cleaned up.
    pub fn new(room: &str) -> Self {
        let client = Self {
            room: StoredValue::new(room.to_owned()),
            streaming: StoredValue::new(false),
            scope: StoredValue::new(Owner::current()),
            signals: StoredValue::new(SignalInbox::default()),
            model: RwSignal::new(CallModel::default()),
        };
        #[cfg(feature = "hydrate")]
        client.refresh_on_entering();
        client
    }

    /// The room's name.
    pub fn room(&self) -> String {
        self.room.get_value()
    }

    /// Starts from a page's snapshot: the state, the call and the lobby. On the prejoin page the
    /// event stream waits until the visitor turns to the form ([`Self::open_stream`]) or the
    /// phase changes.
    pub fn start(&self, snapshot: RoomSnapshot) {
        let RoomSnapshot {
            state,
            participants,
            waiting,
        } = snapshot;
        let after = state.last_event_id;
        let prejoin = state.phase == Phase::Prejoin;
        self.model.update(|model| {
            model.set_state(state);
            model.participants = participants;
            model.waiting = waiting;
        });
        if prejoin {
            self.stream_when_needed();
        } else {
            self.stream_after(after);
        }
    }

    /// Starts from a page's snapshot and the answer (a knock's or a join's) that took the
    /// visitor off its prejoin page before this client was made: as if the answer had come to a
    /// client started from the snapshot, so the session has entered the lobby or the call.
    pub fn start_answered(&self, snapshot: RoomSnapshot, answer: CallState) {
        self.start(snapshot);
        let entered = answer.phase;
        self.model.update(|model| model.set_state(answer));
        if matches!(entered, Phase::InCall | Phase::Waiting) {
            self.refresh_entered(Some(entered));
        }
    }

    /// Opens the event stream now, from the state's last event, unless it is open already: the
    /// prejoin page calls this as the visitor turns to its form, so the stream is there by the
    /// time they knock or join.
    pub fn open_stream(&self) {
        let after = self
            .model
            .with_untracked(|model| model.state.as_ref().map_or(0, |state| state.last_event_id));
        self.stream_after(after);
    }

    /// Before the prejoin page is left, no event is meant for this session: events go to the
    /// subject of a command (its own knock or join), the admins and those in the call. So a
    /// visitor who only looks at the page opens no stream (no connection held on the server, no
    /// chunk fetched on a slow network); it opens on [`Self::open_stream`] or once the phase
    /// changes (an answer's state; the log replays whatever came after it).
    fn stream_when_needed(&self) {
        #[cfg(feature = "hydrate")]
        {
            let client = *self;
            Effect::new(move |_| {
                if client.model.with(CallModel::phase) != Some(Phase::Prejoin) {
                    client.open_stream();
                }
            });
        }
    }

    /// Reloads the snapshot (after entering the call or the lobby, to learn who is there).
    pub async fn refresh(&self) -> Result<(), AppError> {
        let snapshot = ops::load_room(self.room()).await?;
        self.model.update(|model| model.install_snapshot(snapshot));
        Ok(())
    }

    /// daily-js' `getNetworkTopology()`: asks the server how the call's media flows and takes
    /// the answer into the model (unless an event said something newer meanwhile). Should the
    /// server not answer, a call whose topology is not known yet is taken for a mesh, which is
    /// what every call is without an SFU.
    pub async fn network_topology(&self) -> Topology {
        match crate::api::media::get_network_topology(self.room()).await {
            Ok(answer) => self.model.update(|model| model.set_topology(answer)),
            Err(_) => self.model.update(|model| {
                if model.topology.topology == Topology::None {
                    model.set_topology(NetworkTopology {
                        topology: Topology::Peer,
                        version: model.topology.version,
                    });
                }
            }),
        }
        self.model.with_untracked(|model| model.topology.topology)
    }

    /// Hands every `signal` event to `handler` from now on, starting with any that arrived
    /// before it was set.
    pub fn on_signal(&self, handler: SignalHandler) {
        let pending = self
            .signals
            .try_update_value(|inbox| {
                inbox.handler = Some(handler.clone());
                std::mem::take(&mut inbox.pending)
            })
            .unwrap_or_default();
        for (from, messages) in pending {
            handler(from, messages);
        }
    }

    /// Stops handing signaling to the handler (the mesh closed); what was queued is dropped.
    pub fn clear_signal_handler(&self) {
        self.signals
            .update_value(|inbox| *inbox = SignalInbox::default());
    }

    /// Delivers one `signal` event to the handler, or queues it.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn deliver_signal(&self, from: String, messages: Vec<SignalMessage>) {
        let handler = self
            .signals
            .try_with_value(|inbox| inbox.handler.clone())
            .flatten();
        match handler {
            Some(handler) => handler(from, messages),
            None => self.signals.update_value(|inbox| {
                if inbox.pending.len() == MAX_PENDING_SIGNALS {
                    inbox.pending.pop_front();
                }
                inbox.pending.push_back((from, messages));
            }),
        }
    }

    fn stream_after(&self, after: i64) {
        if self.streaming.get_value() {
            return;
        }
        self.streaming.set_value(true);
        // The stream's code (the `EventSource` and the decoding of every event) is a wasm chunk
        // of its own (`cargo leptos build --split`), fetched in a task of its own after the page
        // has hydrated (not an idle callback, which a background tab may hold back): a guest's
        // first visit hydrates the prejoin page without it. The stream resumes after `after`
        // whenever it opens, so an event sent meanwhile is replayed, not missed. It lives in the
        // client's scope, wherever it is opened from (an effect, an event handler).
        #[cfg(feature = "hydrate")]
        {
            let client = *self;
            let owner = self.scope.get_value();
            set_timeout(
                move || leptos::task::spawn_local(stream::open_in(client, after, owner)),
                std::time::Duration::ZERO,
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = after;
    }

    /// Entering the call (or the lobby) by an event or an answer: fetch who is there, and the
    /// name the server recorded.
    #[cfg(feature = "hydrate")]
    fn refresh_on_entering(&self) {
        let client = *self;
        Effect::new(move |previous: Option<Option<Phase>>| {
            let phase = client.model.with(CallModel::phase);
            let entered = matches!(phase, Some(Phase::InCall | Phase::Waiting));
            if let Some(previous) = previous
                && previous.is_some()
                && previous != phase
                && entered
            {
                client.refresh_entered(phase);
            }
            phase
        });
    }

    /// Fetches who is there now that the session entered `phase` (and in the call, how its
    /// media flows). In the browser; on the server, nothing.
    fn refresh_entered(&self, phase: Option<Phase>) {
        #[cfg(feature = "hydrate")]
        {
            let client = *self;
            leptos::task::spawn_local(async move {
                let _ = client.refresh().await;
                if phase == Some(Phase::InCall) {
                    client.network_topology().await;
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = phase;
    }

    fn take(&self, result: Result<CallState, AppError>) -> Result<CallState, AppError> {
        if let Ok(state) = &result {
            let state = state.clone();
            let after = state.last_event_id;
            self.model.update(|model| model.set_state(state));
            self.stream_after(after);
        }
        result
    }

    /// `preAuth()`: the access level and phase before joining.
    pub async fn pre_auth(&self) -> Result<CallState, AppError> {
        self.take(ops::pre_auth(self.room()).await)
    }

    /// `join(name)`: enter the call.
    pub async fn join(&self, name: &str) -> Result<CallState, AppError> {
        self.take(ops::join(self.room(), name.to_owned()).await)
    }

    /// `requestAccess(name)`: knock (again with a new name: rename).
    pub async fn request_access(&self, name: &str) -> Result<CallState, AppError> {
        self.request_access_with_note(name, None).await
    }

    /// `requestAccess(name, note)`: knock with a note for the hosts (again: new name and note).
    pub async fn request_access_with_note(
        &self,
        name: &str,
        note: Option<&str>,
    ) -> Result<CallState, AppError> {
        let note = note.map(str::to_owned);
        self.take(ops::request_access(self.room(), name.to_owned(), note).await)
    }

    /// Withdraws the knock.
    pub async fn cancel(&self) -> Result<CallState, AppError> {
        self.take(ops::cancel(self.room()).await)
    }

    /// `leave()`.
    pub async fn leave(&self) -> Result<CallState, AppError> {
        self.take(ops::leave(self.room()).await)
    }

    /// `waitingParticipants()` (admins): refreshes the lobby.
    pub async fn waiting_participants(&self) -> Result<Vec<WaitingParticipant>, AppError> {
        let waiting = ops::waiting_participants(self.room()).await?;
        self.model.update(|model| model.waiting = waiting.clone());
        Ok(waiting)
    }

    /// `updateWaitingParticipant(id, {grantRequestedAccess})` (admins).
    pub async fn update_waiting_participant(
        &self,
        id: &str,
        grant: bool,
    ) -> Result<Decisions, AppError> {
        ops::update_waiting_participant(self.room(), id.to_owned(), grant, None).await
    }

    /// Denies a knock and keeps that person from knocking again in this room (admins).
    pub async fn deny_and_block(&self, id: &str) -> Result<Decisions, AppError> {
        ops::update_waiting_participant(self.room(), id.to_owned(), false, Some(true)).await
    }

    /// `updateWaitingParticipants({id | "*": grant})` (admins); explicit ids win over `*`.
    pub async fn update_waiting_participants(
        &self,
        updates: HashMap<String, bool>,
    ) -> Result<Decisions, AppError> {
        let updates = updates
            .into_iter()
            .map(|(id, grant)| {
                (
                    id,
                    ops::WaitingUpdate {
                        grant_requested_access: grant,
                        block: false,
                    },
                )
            })
            .collect();
        ops::update_waiting_participants(self.room(), updates).await
    }

    /// `Message <name>` (`to`: their id) or `Message everyone waiting` (`to`: `None`), admins
    /// in the call only: the message shows on the waiting page of those it reached (their ids).
    pub async fn message_lobby(
        &self,
        to: Option<&str>,
        text: &str,
    ) -> Result<Vec<String>, AppError> {
        ops::message_lobby(self.room(), to.map(str::to_owned), text.to_owned()).await
    }
}

// Moderation from the call (admins in it): remove a participant, send one back to the lobby,
// switch who may come into the room. The server refuses anyone else.
impl CallClient {
    /// `Remove <name>`: ejects participant `id` from the call; with `ban` they may not come
    /// back while the room exists. They are told with an `ejected` error.
    pub async fn remove_participant(&self, id: &str, ban: bool) -> Result<(), AppError> {
        ops::remove_participant(self.room(), id.to_owned(), Some(ban)).await
    }

    /// `Send <name> to the lobby`: participant `id` leaves the call and waits again like a
    /// knocker; any admin may let them back in.
    pub async fn send_to_lobby(&self, id: &str) -> Result<(), AppError> {
        ops::send_to_lobby(self.room(), id.to_owned()).await
    }

    /// The `Room access` group: who may come into the room from now on (the room's privacy and
    /// knocking, as `POST /v1/rooms/{name}` sets them). Every admin in the call hears
    /// `room-access-updated`; this client takes the answer at once.
    pub async fn set_room_access(&self, access: RoomAccess) -> Result<RoomAccess, AppError> {
        let result = ops::set_room_access(self.room(), access.as_str().to_owned()).await;
        if let Ok(access) = result {
            self.model.update(|model| {
                model.apply(CallEvent::RoomAccessUpdated {
                    access,
                    by: String::new(),
                })
            });
        }
        result
    }

    /// Who may come into the room now, as an admin knows it (`None` for everyone else).
    pub fn room_access(&self) -> Option<RoomAccess> {
        self.model
            .with(|model| model.state.as_ref().and_then(|state| state.room_access))
    }
}

#[cfg(test)]
mod moderation_tests {
    use super::*;
    use crate::model::{AccessState, Level};

    fn in_call(admin: bool) -> CallState {
        CallState {
            room: "r".into(),
            session_id: "s".into(),
            access: AccessState {
                access: Level {
                    level: AccessLevel::Full,
                },
                awaiting_access: None,
            },
            phase: Phase::InCall,
            admin,
            owner: admin,
            user_name: Some("Ana".into()),
            host_present: true,
            refusal: None,
            last_event_id: 0,
            position: None,
            message: None,
            settings: Default::default(),
            room_access: admin.then_some(RoomAccess::Knocking),
        }
    }

    #[test]
    fn another_admins_room_access_change_reaches_an_admin_and_nobody_else() {
        let mut admin = CallModel::default();
        admin.set_state(in_call(true));
        let mut guest = CallModel::default();
        guest.set_state(in_call(false));
        for model in [&mut admin, &mut guest] {
            model.apply(CallEvent::RoomAccessUpdated {
                access: RoomAccess::Locked,
                by: "Cleo".into(),
            });
        }
        let access = |model: &CallModel| model.state.as_ref().and_then(|s| s.room_access);
        assert_eq!(access(&admin), Some(RoomAccess::Locked));
        assert_eq!(access(&guest), None);
    }

    #[test]
    fn a_participant_sent_to_the_lobby_waits_again_and_a_removed_one_is_ejected() {
        let mut model = CallModel::default();
        model.set_state(in_call(false));
        model.apply(CallEvent::AccessStateUpdated {
            access: Level {
                level: AccessLevel::Lobby,
            },
            awaiting_access: Some(Level {
                level: AccessLevel::Full,
            }),
        });
        assert_eq!(model.phase(), Some(Phase::Waiting));
        model.apply(CallEvent::AccessStateUpdated {
            access: Level {
                level: AccessLevel::Full,
            },
            awaiting_access: None,
        });
        assert_eq!(model.phase(), Some(Phase::InCall));
        model.apply(CallEvent::error(
            CallErrorKind::Ejected,
            "You were removed from the call.",
        ));
        assert_eq!(model.phase(), Some(Phase::Ejected));
        assert_eq!(
            model.error.as_ref().map(|error| error.kind),
            Some(CallErrorKind::Ejected)
        );
    }
}

/// Loads the event stream's wasm chunk ahead of the stream (the prejoin page, as the visitor
/// turns to its form), so that opening it later waits for no download.
#[cfg(feature = "hydrate")]
pub async fn preload_stream() {
    stream::preload().await;
}

#[cfg(feature = "hydrate")]
mod stream {
    //! The browser side: an `EventSource` on `/api/events/<room>`, reopened after errors.

    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{EventSource, MessageEvent};

    use super::CallClient;
    use crate::model::{CallEvent, Phase};

    const EVENTS: [&str; 13] = [
        "access-state-updated",
        "waiting-participant-added",
        "waiting-participant-updated",
        "waiting-participant-removed",
        "participant-joined",
        "participant-left",
        "participant-updated",
        "signal",
        "room-access-updated",
        "lobby-message",
        "lobby-position",
        "network-connection",
        "error",
    ];

    /// Loads the stream's wasm chunk without opening a stream.
    pub async fn preload() {
        __preload_open_in().await;
    }

    /// Opens the stream after event `after` in `owner` (the client's reactive scope, which
    /// closes it), unless that scope ended while the chunk was on its way.
    #[lazy(call_events)]
    pub fn open_in(client: CallClient, after: i64, owner: Option<Owner>) {
        if client.model.try_with_untracked(|_| ()).is_none() {
            return;
        }
        match owner {
            Some(owner) => owner.with(|| open(client, after)),
            None => open(client, after),
        }
    }

    /// Opens the stream after event `after`; the browser resumes it by itself with
    /// `Last-Event-ID`, and when it gives up (the server answered an error), this reopens it
    /// after a pause.
    fn open(client: CallClient, after: i64) {
        let last_id = StoredValue::new(after.to_string());
        let current: StoredValue<Option<EventSource>, LocalStorage> = StoredValue::new_local(None);
        connect(client, last_id, current);
        on_cleanup(move || {
            if let Some(source) = current.get_value() {
                source.close();
            }
        });
    }

    fn connect(
        client: CallClient,
        last_id: StoredValue<String>,
        current: StoredValue<Option<EventSource>, LocalStorage>,
    ) {
        let url = format!(
            "/api/events/{}?lastEventId={}",
            client.room(),
            last_id.get_value()
        );
        let Ok(source) = EventSource::new(&url) else {
            return;
        };
        let on_event = Closure::<dyn Fn(MessageEvent)>::new(move |message: MessageEvent| {
            let id = message.last_event_id();
            last_id.set_value(id.clone());
            let Some(data) = message.data().as_string() else {
                return;
            };
            match serde_json::from_slice::<CallEvent>(data.as_bytes()) {
                Ok(CallEvent::Signal { from, messages }) => client.deliver_signal(from, messages),
                Ok(event) => client.model.update(|model| {
                    model.apply_numbered(id.parse().unwrap_or_default(), event);
                }),
                Err(_) => {}
            }
        });
        for name in EVENTS {
            let _ =
                source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
        }
        on_event.forget();

        let on_open = Closure::<dyn Fn()>::new(move || {
            client.model.update(|model| model.connected = true);
            // What changed while the stream was closed is in the log it replays; a page that
            // just opened it asks how the call's media flows now.
            if client.model.with_untracked(|model| model.phase()) == Some(Phase::InCall) {
                leptos::task::spawn_local(async move {
                    client.network_topology().await;
                });
            }
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let watched = source.clone();
        let on_error = Closure::<dyn Fn()>::new(move || {
            client.model.update(|model| model.connected = false);
            if watched.ready_state() == EventSource::CLOSED {
                set_timeout(
                    move || connect(client, last_id, current),
                    std::time::Duration::from_secs(2),
                );
            }
        });
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        current.set_value(Some(source));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessState, Level};

    fn state(phase: Phase, level: AccessLevel) -> CallState {
        CallState {
            room: "r".into(),
            session_id: "s".into(),
            access: AccessState {
                access: Level { level },
                awaiting_access: None,
            },
            phase,
            admin: false,
            owner: false,
            user_name: None,
            host_present: false,
            refusal: None,
            last_event_id: 0,
            position: None,
            message: None,
            settings: Default::default(),
            room_access: None,
        }
    }

    fn knock(id: &str, name: &str) -> WaitingParticipant {
        WaitingParticipant {
            id: id.into(),
            name: name.into(),
            note: None,
            awaiting_access: Level {
                level: AccessLevel::Full,
            },
        }
    }

    /// `access-state-updated`: now at `level`, awaiting `awaiting` (if anything).
    fn access_updated(level: AccessLevel, awaiting: Option<AccessLevel>) -> CallEvent {
        CallEvent::AccessStateUpdated {
            access: Level { level },
            awaiting_access: awaiting.map(|level| Level { level }),
        }
    }

    #[test]
    fn a_knock_admitted_moves_the_guest_into_the_call() {
        let mut model = CallModel::default();
        model.set_state(state(Phase::Prejoin, AccessLevel::Lobby));
        model.apply(access_updated(AccessLevel::Lobby, Some(AccessLevel::Full)));
        assert_eq!(model.phase(), Some(Phase::Waiting));
        model.apply(access_updated(AccessLevel::Full, None));
        assert_eq!(model.phase(), Some(Phase::InCall));
    }

    fn guest(id: &str, video: bool) -> Participant {
        Participant {
            session_id: id.into(),
            user_name: id.into(),
            user_id: None,
            owner: false,
            joined_at: 1,
            video,
            audio: false,
        }
    }

    #[test]
    fn a_snapshot_read_before_events_already_applied_does_not_take_them_back() {
        let mut model = CallModel::default();
        model.set_state(state(Phase::InCall, AccessLevel::Full));
        // The stream delivers Cy joining (id 7) and turning the camera on (id 8) ...
        model.apply_numbered(
            7,
            CallEvent::ParticipantJoined {
                participant: guest("cy", false),
            },
        );
        model.apply_numbered(
            8,
            CallEvent::ParticipantUpdated {
                participant: guest("cy", true),
            },
        );
        // ... then a snapshot arrives that was read at id 6: Cy is not in it yet.
        let mut stale = state(Phase::InCall, AccessLevel::Full);
        stale.last_event_id = 6;
        model.install_snapshot(RoomSnapshot {
            state: stale,
            participants: vec![guest("ben", false)],
            waiting: Vec::new(),
        });
        let seen: Vec<(String, bool)> = model
            .participants
            .iter()
            .map(|p| (p.session_id.clone(), p.video))
            .collect();
        assert_eq!(seen, [("ben".to_owned(), false), ("cy".to_owned(), true)]);

        // A snapshot read after those events is taken as it is.
        let mut fresh = state(Phase::InCall, AccessLevel::Full);
        fresh.last_event_id = 8;
        model.install_snapshot(RoomSnapshot {
            state: fresh,
            participants: vec![guest("cy", true)],
            waiting: Vec::new(),
        });
        assert_eq!(model.participants, [guest("cy", true)]);
    }

    #[test]
    fn a_snapshot_brings_the_place_in_line_and_the_message_unless_events_are_newer() {
        let mut model = CallModel::default();
        // The knock's answer was lost (the page changed screen on the event first).
        model.set_state(state(Phase::Waiting, AccessLevel::Lobby));
        let mut snapshot = state(Phase::Waiting, AccessLevel::Lobby);
        snapshot.position = Some(2);
        snapshot.last_event_id = 5;
        model.install_snapshot(RoomSnapshot {
            state: snapshot.clone(),
            participants: Vec::new(),
            waiting: Vec::new(),
        });
        assert_eq!(model.state.as_ref().and_then(|s| s.position), Some(2));

        // Someone ahead was let in (id 6) before a snapshot read at id 5 arrived.
        model.apply_numbered(7, CallEvent::LobbyPosition { position: 1 });
        let message = crate::model::HostMessage {
            text: "Soon".into(),
            from: "Ana".into(),
        };
        model.apply_numbered(
            8,
            CallEvent::LobbyMessage {
                message: message.clone(),
            },
        );
        model.install_snapshot(RoomSnapshot {
            state: snapshot,
            participants: Vec::new(),
            waiting: Vec::new(),
        });
        let state = model.state.as_ref().expect("a state");
        assert_eq!(state.position, Some(1));
        assert_eq!(state.message, Some(message));
    }

    #[test]
    fn the_topology_follows_the_newest_word_and_only_in_the_call() {
        use crate::model::{ConnectionType, NetworkTopology, Topology};
        let told = |kind, version| CallEvent::NetworkConnection {
            kind,
            event: "connected".into(),
            version,
        };
        let mut model = CallModel::default();
        model.set_state(state(Phase::InCall, AccessLevel::Full));
        assert_eq!(model.topology.topology, Topology::None, "not known yet");
        model.set_topology(NetworkTopology {
            topology: Topology::Peer,
            version: 0,
        });
        assert_eq!(model.topology.topology, Topology::Peer);
        model.apply(told(ConnectionType::Sfu, 1));
        assert_eq!(model.topology.topology, Topology::Sfu);
        // An answer read before that event arrives after it: it does not take it back.
        model.set_topology(NetworkTopology {
            topology: Topology::Peer,
            version: 0,
        });
        assert_eq!(model.topology.topology, Topology::Sfu);
        model.apply(told(ConnectionType::PeerToPeer, 2));
        assert_eq!(model.topology.topology, Topology::Peer);
        // Sent to the lobby: no media, whatever the call does.
        model.apply(access_updated(AccessLevel::Lobby, Some(AccessLevel::Full)));
        assert_eq!(model.topology.topology, Topology::None);
        model.apply(told(ConnectionType::Sfu, 3));
        assert_eq!(model.topology.topology, Topology::None);
        let json = serde_json::to_value(told(ConnectionType::PeerToPeer, 4)).expect("encodes");
        assert_eq!(
            json,
            serde_json::json!({"action": "network-connection", "type": "peer-to-peer",
                "event": "connected", "version": 4})
        );
    }

    #[test]
    fn a_camera_change_from_someone_not_yet_known_adds_them() {
        let mut model = CallModel::default();
        model.apply(CallEvent::ParticipantUpdated {
            participant: guest("cy", true),
        });
        assert_eq!(model.participants, [guest("cy", true)]);
    }

    #[test]
    fn signaling_waits_for_its_handler_and_then_arrives_in_order() {
        use std::sync::{Arc, Mutex};
        Owner::new().with(|| {
            let client = CallClient::new("r");
            client.deliver_signal("a".into(), Vec::new());
            client.deliver_signal("b".into(), Vec::new());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let sink = seen.clone();
            client.on_signal(Arc::new(move |from, _| {
                sink.lock().expect("not poisoned").push(from);
            }));
            client.deliver_signal("c".into(), Vec::new());
            assert_eq!(*seen.lock().expect("not poisoned"), ["a", "b", "c"]);
            client.clear_signal_handler();
            client.deliver_signal("d".into(), Vec::new());
            let count = seen.lock().expect("not poisoned").len();
            assert_eq!(count, 3, "no handler after the mesh closed");
        });
    }

    #[test]
    fn a_camera_turned_off_updates_the_participant() {
        let mut model = CallModel::default();
        let ana = Participant {
            session_id: "a".into(),
            user_name: "Ana".into(),
            user_id: None,
            owner: true,
            joined_at: 1,
            video: true,
            audio: true,
        };
        model.apply(CallEvent::ParticipantJoined {
            participant: ana.clone(),
        });
        model.apply(CallEvent::ParticipantUpdated {
            participant: Participant {
                video: false,
                ..ana
            },
        });
        assert_eq!(model.participants.len(), 1);
        assert!(!model.participants[0].video);
        assert!(model.participants[0].audio);
    }

    #[test]
    fn a_denial_is_remembered_with_its_message() {
        let mut model = CallModel::default();
        model.set_state(state(Phase::Waiting, AccessLevel::Lobby));
        model.apply(CallEvent::error(
            CallErrorKind::NotAllowed,
            "Join request rejected",
        ));
        assert_eq!(model.phase(), Some(Phase::Denied));
        assert_eq!(
            model.error.as_ref().map(|e| e.msg.as_str()),
            Some("Join request rejected")
        );
    }

    #[test]
    fn the_lobby_follows_added_updated_and_removed() {
        let mut model = CallModel::default();
        model.apply(CallEvent::WaitingParticipantAdded {
            participant: knock("1", "Ben"),
        });
        model.apply(CallEvent::WaitingParticipantAdded {
            participant: knock("1", "Ben"),
        });
        model.apply(CallEvent::WaitingParticipantAdded {
            participant: knock("2", "Cy"),
        });
        model.apply(CallEvent::WaitingParticipantUpdated {
            participant: knock("2", "Cyd"),
        });
        assert_eq!(
            model
                .waiting
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>(),
            ["Ben", "Cyd"]
        );
        model.apply(CallEvent::WaitingParticipantRemoved {
            participant: knock("1", "Ben"),
            resolution: Some(Resolution {
                granted: true,
                by: Some("Ana".into()),
            }),
        });
        assert_eq!(model.waiting.len(), 1);
        assert_eq!(
            model
                .last_decision
                .as_ref()
                .map(|(k, r)| (k.name.as_str(), r.by.as_deref())),
            Some(("Ben", Some("Ana")))
        );
    }
}
