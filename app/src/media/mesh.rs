//! The WebRTC mesh: one [`Peer`] per other participant, each holding one `RTCPeerConnection` at
//! a time (a [`Conn`]), negotiated with the perfect-negotiation pattern (either side may offer
//! at any time; on a collision the polite side yields), so simultaneous offers cannot deadlock.
//!
//! Signaling travels through the `signal` server function and comes back as `signal` events on
//! the session's stream, in order: each peer sends one request at a time and reads its messages
//! one at a time. Every message is tagged with the connection that sent it and the one it is
//! for (`wire`), so a connection that was replaced on either side never confuses the current
//! one: messages for a replaced connection are dropped, and a message from a connection the
//! other side has just made replaces ours too (a connection that already talked to another
//! remote connection cannot be renegotiated with a new one). A watchdog restarts ICE on a
//! connection that fails or does not connect within a few seconds, and makes a new connection
//! if that does not help, so every pair converges to one connected pair of connections.

use std::{
    cell::{Cell, RefCell},
    collections::{HashMap, VecDeque},
    rc::{Rc, Weak},
};

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpReceiver, RtcRtpSender, RtcSdpType,
    RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

use super::{
    LocalMedia, RemoteMedia,
    devices::live_track,
    wire::{self, Tag},
};
use crate::{
    api::media::{ice_servers, signal},
    call::CallClient,
    model::{
        IceCandidate, IceServer, MAX_SIGNAL_MESSAGES, SdpKind, SessionDescription, SignalMessage,
    },
};

/// Above this `audioLevel` (0..1) a participant is speaking.
const SPEAKING_LEVEL: f64 = 0.02;
/// How often the watchdog looks at every connection.
const WATCH_EVERY_MS: u64 = 1_000;
/// A connection that has not connected this long after it was made (or restarted), or whose
/// negotiation has not completed this long after it began, is restarted. The polite side waits
/// half as long again, so the two sides of a pair rarely restart at the same moment.
const PROGRESS_WITHIN_MS: f64 = 10_000.0;
/// How long a new connection of the polite side waits for the other side's first offer before
/// it offers itself (see [`Conn::hold`]).
const HOLD_MS: f64 = 3_000.0;
/// The most replaced remote connections remembered per peer.
const MAX_RETIRED: usize = 32;
/// The most early messages kept per sender.
const MAX_EARLY_MESSAGES: usize = 256;

/// Writes one line of the mesh's signaling to the console: `knock-mesh <ms> <me> <line>` (the
/// stress journeys print these when a run does not converge).
fn trace(me: &str, line: std::fmt::Arguments<'_>) {
    leptos::logging::log!(
        "knock-mesh {} {} {line}",
        js_sys::Date::now() as u64,
        short(me)
    );
}

/// The first characters of a session id, enough to tell participants apart in the log.
fn short(id: &str) -> &str {
    id.get(..6).unwrap_or(id)
}

/// What a batch of messages is, for the log: `offer(a1>b2)`, `cand(a1>-)`, ...
fn describe(messages: &[SignalMessage]) -> String {
    messages
        .iter()
        .map(|message| {
            let (tag, body) = wire::untag(message.clone());
            let kind = match body {
                SignalMessage::Description(d) if d.kind == SdpKind::Offer => "offer",
                SignalMessage::Description(_) => "answer",
                SignalMessage::Candidate(_) => "cand",
            };
            match tag {
                Some(tag) => format!("{kind}({}>{})", tag.from, tag.to.as_deref().unwrap_or("-")),
                None => kind.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A new connection id: eight random hex digits.
fn new_connection_id() -> String {
    format!(
        "{:08x}",
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

/// The mesh of one call; close it when leaving.
pub struct Mesh {
    call: CallClient,
    local: LocalMedia,
    remote: RemoteMedia,
    me: String,
    config: RefCell<Option<RtcConfiguration>>,
    peers: RefCell<HashMap<String, Rc<Peer>>>,
    /// Signaling from participants this page does not know yet (a newcomer learns who is in
    /// the call a moment after the others start connecting to it): kept until they appear.
    early: RefCell<HashMap<String, Vec<SignalMessage>>>,
    closed: Cell<bool>,
}

impl Mesh {
    /// Connects to everyone in the call (and to whoever joins later) once the ICE servers are
    /// known. Lives until [`Mesh::close`] (called when the call view goes away).
    pub fn start(call: CallClient, local: LocalMedia, remote: RemoteMedia) -> Rc<Self> {
        let me = call.model.with_untracked(|model| {
            model
                .state
                .as_ref()
                .map(|state| state.session_id.clone())
                .unwrap_or_default()
        });
        let mesh = Rc::new(Self {
            call,
            local,
            remote,
            me,
            config: RefCell::new(None),
            peers: RefCell::new(HashMap::new()),
            early: RefCell::new(HashMap::new()),
            closed: Cell::new(false),
        });
        let ready = RwSignal::new(false);

        // Who is in the call decides whom to connect to.
        let ids = Memo::new(move |_| {
            call.model.with(|model| {
                model
                    .participants
                    .iter()
                    .map(|participant| participant.session_id.clone())
                    .collect::<Vec<String>>()
            })
        });
        let weak = Rc::downgrade(&mesh);
        Effect::new(move |_| {
            let ids = ids.get();
            if ready.get()
                && let Some(mesh) = weak.upgrade()
            {
                mesh.reconcile(&ids);
            }
        });
        // A camera turned on or off changes what every peer sends (and renegotiates).
        let weak = Rc::downgrade(&mesh);
        Effect::new(move |_| {
            local.tracks.track();
            if ready.get()
                && let Some(mesh) = weak.upgrade()
            {
                for peer in mesh.peers.borrow().values() {
                    let conn = peer.current();
                    if !conn.hold.get() {
                        conn.send_local_tracks(mesh.local.stream().as_ref());
                    }
                }
            }
        });
        // Who is speaking, from the level of what each peer receives.
        let weak = Rc::downgrade(&mesh);
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if let Some(mesh) = weak.upgrade() {
                    mesh.measure_speaking();
                }
            },
            std::time::Duration::from_millis(300),
        ) {
            on_cleanup(move || handle.clear());
        }
        // The watchdog: no connection is left dead.
        let weak = Rc::downgrade(&mesh);
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if let Some(mesh) = weak.upgrade()
                    && !mesh.closed.get()
                {
                    let peers: Vec<Rc<Peer>> = mesh.peers.borrow().values().cloned().collect();
                    for peer in peers {
                        peer.watch();
                    }
                }
            },
            std::time::Duration::from_millis(WATCH_EVERY_MS),
        ) {
            on_cleanup(move || handle.clear());
        }

        let weak = Rc::downgrade(&mesh);
        let room = call.room();
        spawn_local(async move {
            let servers = ice_servers(room).await.unwrap_or_default();
            let Some(mesh) = weak.upgrade() else { return };
            if mesh.closed.get() {
                return;
            }
            *mesh.config.borrow_mut() = Some(configuration(&servers));
            // The browser has one thread: the wrapper only satisfies the handler's bounds.
            let weak = send_wrapper::SendWrapper::new(Rc::downgrade(&mesh));
            mesh.call
                .on_signal(std::sync::Arc::new(move |from, messages| {
                    if let Some(mesh) = weak.upgrade() {
                        mesh.receive(&from, messages);
                    }
                }));
            ready.set(true);
        });
        mesh
    }

    /// Closes every connection and stops listening for signaling.
    pub fn close(&self) {
        self.closed.set(true);
        self.call.clear_signal_handler();
        for (id, peer) in self.peers.borrow_mut().drain() {
            peer.close();
            self.remote.set_stream(&id, None);
        }
        self.remote.speaking.set(Vec::new());
        self.remote.video.set(Vec::new());
    }

    /// Opens a connection to each new participant and closes those to whoever left.
    fn reconcile(self: &Rc<Self>, ids: &[String]) {
        if self.closed.get() {
            return;
        }
        trace(
            &self.me,
            format_args!(
                "participants {:?}",
                ids.iter().map(|id| short(id)).collect::<Vec<_>>()
            ),
        );
        let gone: Vec<String> = self
            .peers
            .borrow()
            .keys()
            .filter(|id| !ids.contains(id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(peer) = self.peers.borrow_mut().remove(&id) {
                peer.log(format_args!("left: closed"));
                peer.close();
            }
            self.remote.set_stream(&id, None);
        }
        for id in ids {
            let peer = self.peer(id);
            let early = self.early.borrow_mut().remove(id);
            if let (Some(peer), Some(messages)) = (peer, early) {
                peer.receive(messages);
            }
        }
    }

    /// The peer for `id`, with a connection opened if there is none.
    fn peer(self: &Rc<Self>, id: &str) -> Option<Rc<Peer>> {
        if let Some(peer) = self.peers.borrow().get(id) {
            return Some(peer.clone());
        }
        let config = self.config.borrow().clone()?;
        let peer = Peer::open(self, id, config)?;
        self.peers.borrow_mut().insert(id.to_owned(), peer.clone());
        Some(peer)
    }

    /// Signaling from `from` (the server relays it only between participants in the call).
    /// Someone this page does not list yet gets their messages once they are listed.
    fn receive(self: &Rc<Self>, from: &str, messages: Vec<SignalMessage>) {
        if self.closed.get() {
            return;
        }
        let known = self.call.model.with_untracked(|model| {
            model
                .participants
                .iter()
                .any(|participant| participant.session_id == from)
        });
        if !known {
            trace(
                &self.me,
                format_args!("{} early {}", short(from), describe(&messages)),
            );
            let mut early = self.early.borrow_mut();
            let kept = early.entry(from.to_owned()).or_default();
            kept.extend(messages);
            let excess = kept.len().saturating_sub(MAX_EARLY_MESSAGES);
            kept.drain(..excess);
            return;
        }
        if let Some(peer) = self.peer(from) {
            peer.receive(messages);
        }
    }

    /// Who is speaking, and whose video arrives, from what each peer receives now.
    fn measure_speaking(&self) {
        let (speaking, video): (Vec<String>, Vec<String>) = {
            let peers = self.peers.borrow();
            let of = |keep: &dyn Fn(&Conn) -> bool| -> Vec<String> {
                let mut ids: Vec<String> = peers
                    .iter()
                    .filter(|(_, peer)| keep(&peer.current()))
                    .map(|(id, _)| id.clone())
                    .collect();
                ids.sort();
                ids
            };
            (
                of(&|conn| conn.audio_level() > SPEAKING_LEVEL),
                of(&|conn| conn.receives_video()),
            )
        };
        if self.remote.speaking.with_untracked(|now| *now != speaking) {
            self.remote.speaking.set(speaking);
        }
        if self.remote.video.with_untracked(|now| *now != video) {
            self.remote.video.set(video);
        }
    }
}

/// The `RTCPeerConnection` configuration with `servers` (the SFU's connections use it too).
pub(super) fn configuration(servers: &[IceServer]) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    if let Ok(servers) = serde_json::to_string(servers)
        && let Ok(servers) = js_sys::JSON::parse(&servers)
    {
        config.set_ice_servers(&servers);
    }
    config
}

/// Everything about one other participant: the current connection, and the ordered signaling
/// to and from them (which outlives any one connection).
struct Peer {
    me: String,
    id: String,
    room: String,
    /// Yields on an offer collision (decided by comparing session ids, so the two sides differ).
    polite: bool,
    config: RtcConfiguration,
    local: LocalMedia,
    remote: RemoteMedia,
    conn: RefCell<Rc<Conn>>,
    /// Remote connections the other side has replaced: whatever still comes from them is old.
    retired: RefCell<VecDeque<String>>,
    inbox: RefCell<VecDeque<SignalMessage>>,
    reading: Cell<bool>,
    /// Tagged messages to send, with the id of the connection that wrote them.
    outbox: RefCell<VecDeque<(String, SignalMessage)>>,
    sending: Cell<bool>,
    closed: Cell<bool>,
}

impl Peer {
    fn open(mesh: &Rc<Mesh>, id: &str, config: RtcConfiguration) -> Option<Rc<Self>> {
        let conn = Conn::new(&config, None, mesh.me.as_str() > id)?;
        let peer = Rc::new(Self {
            me: mesh.me.clone(),
            id: id.to_owned(),
            room: mesh.call.room(),
            polite: mesh.me.as_str() > id,
            config,
            local: mesh.local,
            remote: mesh.remote,
            conn: RefCell::new(conn.clone()),
            retired: RefCell::new(VecDeque::new()),
            inbox: RefCell::new(VecDeque::new()),
            reading: Cell::new(false),
            outbox: RefCell::new(VecDeque::new()),
            sending: Cell::new(false),
            closed: Cell::new(false),
        });
        peer.log(format_args!("open {} polite={}", conn.id, peer.polite));
        peer.start(&conn);
        Some(peer)
    }

    fn log(&self, line: std::fmt::Arguments<'_>) {
        trace(&self.me, format_args!("{} {line}", short(&self.id)));
    }

    /// The connection in use now.
    fn current(&self) -> Rc<Conn> {
        self.conn.borrow().clone()
    }

    /// Whether `conn` is still the one in use (an event or a step of a replaced one does
    /// nothing).
    fn is_current(&self, conn: &Conn) -> bool {
        !self.closed.get() && !conn.closed.get() && self.conn.borrow().id == conn.id
    }

    /// Listens to a new connection and, unless it holds them back, hands it what the camera
    /// and microphone send.
    fn start(self: &Rc<Self>, conn: &Rc<Conn>) {
        conn.listen(self);
        if !conn.hold.get() {
            conn.send_local_tracks(self.local.stream().as_ref());
        }
    }

    /// Hands a connection that held back its tracks what the camera and microphone send.
    fn release(&self, conn: &Conn, why: &str) {
        if conn.hold.replace(false) {
            self.log(format_args!("{} sends its tracks ({why})", conn.id));
            conn.send_local_tracks(self.local.stream().as_ref());
        }
    }

    /// Replaces the connection with a new one (for the remote connection `remote`, if known).
    fn replace(self: &Rc<Self>, remote: Option<String>, why: &str) -> Option<Rc<Conn>> {
        // Made because the other side started over: it offers, so the polite side waits for
        // that; made by the watchdog, it is this side's turn to offer.
        let hold = self.polite && remote.is_some();
        let conn = Conn::new(&self.config, remote, hold)?;
        let old = self.conn.replace(conn.clone());
        self.log(format_args!(
            "replace {} by {} ({why}; it was {:?}/{:?})",
            old.id,
            conn.id,
            old.pc.connection_state(),
            old.pc.signaling_state()
        ));
        old.close();
        self.start(&conn);
        Some(conn)
    }

    fn retire(&self, remote: String) {
        let mut retired = self.retired.borrow_mut();
        if !retired.contains(&remote) {
            retired.push_back(remote);
            if retired.len() > MAX_RETIRED {
                retired.pop_front();
            }
        }
    }

    fn close(&self) {
        self.closed.set(true);
        self.current().close();
    }

    /// Queues `message` from `conn` for the other side; one request at a time keeps them in
    /// order, and what queued up meanwhile goes in the next one. Messages of a connection that
    /// was replaced before they went out are not sent.
    fn send(self: &Rc<Self>, conn: &Conn, message: SignalMessage) {
        let tag = Tag {
            from: conn.id.clone(),
            to: conn.remote.borrow().clone(),
        };
        self.outbox
            .borrow_mut()
            .push_back((conn.id.clone(), wire::tag(message, &tag)));
        if self.sending.replace(true) {
            return;
        }
        let peer = self.clone();
        spawn_local(async move {
            loop {
                let batch: Vec<SignalMessage> = {
                    let current = peer.current().id.clone();
                    let mut outbox = peer.outbox.borrow_mut();
                    outbox.retain(|(from, _)| *from == current);
                    let count = outbox.len().min(MAX_SIGNAL_MESSAGES);
                    outbox.drain(..count).map(|(_, message)| message).collect()
                };
                if batch.is_empty() || peer.closed.get() {
                    break;
                }
                peer.log(format_args!("send {}", describe(&batch)));
                // Refused when the other side has just left: the mesh closes this peer then.
                if let Err(error) = signal(peer.room.clone(), peer.id.clone(), batch).await {
                    peer.log(format_args!("send refused: {error}"));
                }
            }
            peer.sending.set(false);
        });
    }

    /// Messages from the other side, read one at a time in order.
    fn receive(self: &Rc<Self>, messages: Vec<SignalMessage>) {
        self.log(format_args!("recv {}", describe(&messages)));
        self.inbox.borrow_mut().extend(messages);
        if self.reading.replace(true) {
            return;
        }
        let peer = self.clone();
        spawn_local(async move {
            loop {
                let next = peer.inbox.borrow_mut().pop_front();
                let Some(message) = next else { break };
                if peer.closed.get() {
                    break;
                }
                let (tag, body) = wire::untag(message);
                let conn = match &tag {
                    Some(tag) => peer.route(tag),
                    None => Some(peer.current()),
                };
                // A failed step is not fatal: the next offer, ICE restart or the watchdog
                // repairs the session.
                if let Some(conn) = conn
                    && let Err(error) = conn.read(&peer, body).await
                {
                    peer.log(format_args!("{} read failed: {error:?}", conn.id));
                }
            }
            peer.reading.set(false);
        });
    }

    /// The connection a tagged message is for, or `None` when it is old news: addressed to a
    /// connection of ours that was replaced, or sent by a remote connection that was. A message
    /// from a remote connection we have not seen before means the other side started over:
    /// ours is bound to it, or replaced if it already took another remote's description.
    fn route(self: &Rc<Self>, tag: &Tag) -> Option<Rc<Conn>> {
        let conn = self.current();
        if let Some(to) = &tag.to
            && *to != conn.id
        {
            self.log(format_args!("drop: for replaced {to}"));
            return None;
        }
        if self.retired.borrow().contains(&tag.from) {
            self.log(format_args!("drop: from replaced {}", tag.from));
            return None;
        }
        let bound = conn.remote.borrow().clone();
        match bound {
            Some(remote) if remote == tag.from => Some(conn),
            None => {
                conn.bind(&tag.from);
                self.log(format_args!("{} bound to {}", conn.id, tag.from));
                Some(conn)
            }
            Some(remote) => {
                self.retire(remote);
                if conn.pc.remote_description().is_none() {
                    conn.bind(&tag.from);
                    self.log(format_args!("{} bound anew to {}", conn.id, tag.from));
                    Some(conn)
                } else {
                    self.replace(Some(tag.from.clone()), "the other side started over")
                }
            }
        }
    }

    /// The watchdog's look at the connection: restart ICE on one that failed or does not
    /// connect in time, and make a new one if that does not help or negotiation is stuck.
    fn watch(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        let conn = self.current();
        let now = js_sys::Date::now();
        let limit = if self.polite {
            PROGRESS_WITHIN_MS * 1.5
        } else {
            PROGRESS_WITHIN_MS
        };
        if conn.hold.get() && now - conn.since.get() > HOLD_MS {
            self.release(&conn, "no offer came");
        }
        let state = conn.pc.connection_state();
        let stable = conn.pc.signaling_state() == RtcSignalingState::Stable;
        if stable {
            conn.unstable_since.set(None);
        } else if conn.unstable_since.get().is_none() {
            conn.unstable_since.set(Some(now));
        }
        if conn
            .unstable_since
            .get()
            .is_some_and(|since| now - since > limit)
        {
            self.replace(None, "negotiation stuck");
            return;
        }
        if state == RtcPeerConnectionState::Connected {
            conn.since.set(now);
            conn.restarted.set(false);
            return;
        }
        let failed = state == RtcPeerConnectionState::Failed;
        if !failed && now - conn.since.get() <= limit {
            return;
        }
        if !conn.restarted.get() && stable && conn.pc.remote_description().is_some() {
            self.log(format_args!(
                "{} ICE restart ({state:?} for {:.0} s)",
                conn.id,
                (now - conn.since.get()) / 1000.0
            ));
            conn.restarted.set(true);
            conn.since.set(now);
            call_method(&conn.pc, "restartIce");
        } else {
            self.replace(None, "no progress");
        }
    }
}

/// An event handler installed on a connection (kept alive while the connection lives).
type Handler = Closure<dyn FnMut(JsValue)>;

/// One `RTCPeerConnection` to the other participant, and its side of perfect negotiation.
struct Conn {
    /// This connection's id, in the tag of everything it sends.
    id: String,
    /// The other side's connection this one talks to, once known.
    remote: RefCell<Option<String>>,
    pc: RtcPeerConnection,
    /// Holds back the local tracks until the other side's first offer is applied. Only the
    /// polite side holds, so a new pair of connections starts with one offer rather than two
    /// crossing: Chromium does not always recover from the rollback that settles such a
    /// collision (see `read`). If no offer comes within [`HOLD_MS`], it offers itself.
    hold: Cell<bool>,
    making_offer: Cell<bool>,
    /// The `setLocalDescription` of the offer being made, while it runs.
    offering: RefCell<Option<js_sys::Promise>>,
    ignore_offer: Cell<bool>,
    /// Candidates that came before the remote description.
    candidates: RefCell<Vec<IceCandidate>>,
    senders: RefCell<HashMap<&'static str, RtcRtpSender>>,
    /// The latest track of each kind received from the other side.
    received: RefCell<HashMap<String, MediaStreamTrack>>,
    /// The watchdog's clock: when this connection was made, restarted or last seen connected.
    since: Cell<f64>,
    /// An ICE restart was tried since it was last connected.
    restarted: Cell<bool>,
    /// Since when a negotiation has been under way.
    unstable_since: Cell<Option<f64>>,
    closed: Cell<bool>,
    handlers: RefCell<Vec<Handler>>,
}

impl Conn {
    fn new(config: &RtcConfiguration, remote: Option<String>, hold: bool) -> Option<Rc<Self>> {
        let pc = RtcPeerConnection::new_with_configuration(config).ok()?;
        Some(Rc::new(Self {
            id: new_connection_id(),
            remote: RefCell::new(remote),
            pc,
            hold: Cell::new(hold),
            making_offer: Cell::new(false),
            offering: RefCell::new(None),
            ignore_offer: Cell::new(false),
            candidates: RefCell::new(Vec::new()),
            senders: RefCell::new(HashMap::new()),
            received: RefCell::new(HashMap::new()),
            since: Cell::new(js_sys::Date::now()),
            restarted: Cell::new(false),
            unstable_since: Cell::new(None),
            closed: Cell::new(false),
            handlers: RefCell::new(Vec::new()),
        }))
    }

    fn bind(&self, remote: &str) {
        *self.remote.borrow_mut() = Some(remote.to_owned());
    }

    /// Installs the connection's event handlers; they act only while this connection is the
    /// peer's current one (they hold the peer weakly).
    fn listen(self: &Rc<Self>, peer: &Rc<Peer>) {
        self.handle(
            peer,
            RtcPeerConnection::set_onnegotiationneeded,
            |peer, conn, _| {
                conn.offer(peer);
            },
        );
        self.handle(
            peer,
            RtcPeerConnection::set_onicecandidate,
            |peer, conn, event| {
                let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                    return;
                };
                if let Some(candidate) = event.candidate()
                    && !candidate.candidate().is_empty()
                {
                    peer.send(
                        conn,
                        SignalMessage::Candidate(IceCandidate {
                            candidate: candidate.candidate(),
                            sdp_mid: candidate.sdp_mid(),
                            sdp_m_line_index: candidate.sdp_m_line_index(),
                        }),
                    );
                }
            },
        );
        self.handle(peer, RtcPeerConnection::set_ontrack, |peer, conn, event| {
            let Ok(event) = event.dyn_into::<RtcTrackEvent>() else {
                return;
            };
            let track = event.track();
            conn.received.borrow_mut().insert(track.kind(), track);
            conn.show_received(peer);
        });
        self.handle(
            peer,
            RtcPeerConnection::set_onconnectionstatechange,
            |peer, conn, _| {
                let state = conn.pc.connection_state();
                peer.log(format_args!("{} {state:?}", conn.id));
                if state == RtcPeerConnectionState::Failed {
                    // Straight to the watchdog, which restarts ICE (or the connection).
                    peer.watch();
                }
            },
        );
    }

    fn handle(
        self: &Rc<Self>,
        peer: &Rc<Peer>,
        install: fn(&RtcPeerConnection, Option<&js_sys::Function>),
        action: impl Fn(&Rc<Peer>, &Rc<Conn>, JsValue) + 'static,
    ) {
        let (peer, conn): (Weak<Peer>, Weak<Conn>) = (Rc::downgrade(peer), Rc::downgrade(self));
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let (Some(peer), Some(conn)) = (peer.upgrade(), conn.upgrade())
                && peer.is_current(&conn)
            {
                action(&peer, &conn, event);
            }
        });
        install(&self.pc, Some(closure.as_ref().unchecked_ref()));
        self.handlers.borrow_mut().push(closure);
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        for install in [
            RtcPeerConnection::set_onnegotiationneeded,
            RtcPeerConnection::set_onicecandidate,
            RtcPeerConnection::set_ontrack,
            RtcPeerConnection::set_onconnectionstatechange,
        ] {
            install(&self.pc, None);
        }
        self.pc.close();
    }

    /// Makes what this connection sends match the local stream: a track turned off is removed
    /// and one turned on is added, each renegotiating through `negotiationneeded`.
    fn send_local_tracks(&self, stream: Option<&MediaStream>) {
        if self.closed.get() {
            return;
        }
        let mut senders = self.senders.borrow_mut();
        for kind in ["video", "audio"] {
            let local = stream.and_then(|stream| live_track(stream, kind).map(|t| (stream, t)));
            match (senders.get(kind), local) {
                (Some(sender), None) => {
                    self.pc.remove_track(sender);
                    senders.remove(kind);
                }
                (Some(sender), Some((_, track))) => {
                    if sender.track().map(|sent| sent.id()) != Some(track.id()) {
                        let _ = sender.replace_track(Some(&track));
                    }
                }
                (None, Some((stream, track))) => {
                    senders.insert(kind, self.pc.add_track_0(&track, stream));
                }
                (None, None) => {}
            }
        }
    }

    /// `negotiationneeded`: make an offer (a collision is settled when the other side's offer
    /// arrives).
    fn offer(self: &Rc<Self>, peer: &Rc<Peer>) {
        let (peer, conn) = (peer.clone(), self.clone());
        spawn_local(async move {
            conn.making_offer.set(true);
            let made = match start_local_description(&conn.pc) {
                Ok(promise) => {
                    *conn.offering.borrow_mut() = Some(promise.clone());
                    JsFuture::from(promise).await
                }
                Err(error) => Err(error),
            };
            conn.offering.borrow_mut().take();
            conn.making_offer.set(false);
            match made {
                Ok(_) if peer.is_current(&conn) => conn.send_local_description(&peer),
                Ok(_) => {}
                Err(error) => peer.log(format_args!("{} offer failed: {error:?}", conn.id)),
            }
        });
    }

    fn send_local_description(&self, peer: &Rc<Peer>) {
        if let Some(local) = self.pc.local_description() {
            let kind = match local.type_() {
                RtcSdpType::Offer => SdpKind::Offer,
                RtcSdpType::Answer => SdpKind::Answer,
                _ => return,
            };
            peer.send(
                self,
                SignalMessage::Description(SessionDescription {
                    kind,
                    sdp: local.sdp(),
                }),
            );
        }
    }

    /// One message from the other side's connection this one is bound to.
    async fn read(self: &Rc<Self>, peer: &Rc<Peer>, message: SignalMessage) -> Result<(), JsValue> {
        match message {
            SignalMessage::Description(description) => {
                let offer = description.kind == SdpKind::Offer;
                let collision = offer
                    && (self.making_offer.get()
                        || self.pc.signaling_state() != RtcSignalingState::Stable);
                self.ignore_offer.set(!peer.polite && collision);
                peer.log(format_args!(
                    "{} read {:?} in {:?}{}",
                    self.id,
                    description.kind,
                    self.pc.signaling_state(),
                    if collision {
                        if peer.polite {
                            ", collision: yield"
                        } else {
                            ", collision: ignore"
                        }
                    } else {
                        ""
                    }
                ));
                if self.ignore_offer.get() {
                    return Ok(());
                }
                // The polite side yields, but only once its own offer is made: an offer applied
                // while that is still under way (the implicit rollback queued behind it) leaves
                // Chromium with an answer it never gathers candidates for, and the pair stuck in
                // `new` on both sides.
                let pending = self.offering.borrow().clone();
                if let Some(pending) = pending {
                    peer.log(format_args!("{} waits for its own offer first", self.id));
                    let _ = JsFuture::from(pending).await;
                }
                let init = RtcSessionDescriptionInit::new(if offer {
                    RtcSdpType::Offer
                } else {
                    RtcSdpType::Answer
                });
                init.set_sdp(&description.sdp);
                JsFuture::from(self.pc.set_remote_description(&init)).await?;
                let early = std::mem::take(&mut *self.candidates.borrow_mut());
                for candidate in early {
                    self.add_candidate(candidate).await?;
                }
                if offer && peer.is_current(self) {
                    // The tracks join the offered transceivers, so they go out with the answer.
                    peer.release(self, "the other side offered");
                    set_local_description(&self.pc).await?;
                    if peer.is_current(self) {
                        self.send_local_description(peer);
                    }
                }
            }
            SignalMessage::Candidate(candidate) => {
                if self.pc.remote_description().is_none() {
                    self.candidates.borrow_mut().push(candidate);
                } else {
                    self.add_candidate(candidate).await?;
                }
            }
        }
        Ok(())
    }

    async fn add_candidate(&self, candidate: IceCandidate) -> Result<(), JsValue> {
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        let added = JsFuture::from(
            self.pc
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
        )
        .await;
        match added {
            // Candidates of an offer this side ignored cannot be added, and need not be.
            Err(_) if self.ignore_offer.get() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Shows what is received now: a fresh stream of the live tracks, so the tile reloads.
    fn show_received(&self, peer: &Peer) {
        let tracks = js_sys::Array::new();
        for track in self.received.borrow().values() {
            tracks.push(track);
        }
        if let Ok(stream) = MediaStream::new_with_tracks(&tracks) {
            peer.remote.set_stream(&peer.id, Some(stream));
        }
    }

    /// Whether video arrives now: a live, unmuted received video track.
    fn receives_video(&self) -> bool {
        self.received.borrow().get("video").is_some_and(|track| {
            !track.muted() && track.ready_state() == web_sys::MediaStreamTrackState::Live
        })
    }

    /// The loudness (0..1) of the audio received now.
    fn audio_level(&self) -> f64 {
        self.pc
            .get_receivers()
            .iter()
            .filter_map(|receiver| receiver.dyn_into::<RtcRtpReceiver>().ok())
            .filter(|receiver| receiver.track().kind() == "audio")
            .flat_map(|receiver| {
                receiver
                    .get_synchronization_sources()
                    .iter()
                    .collect::<Vec<_>>()
            })
            .filter_map(|source| js_sys::Reflect::get(&source, &"audioLevel".into()).ok())
            .filter_map(|level| level.as_f64())
            .fold(0.0, f64::max)
    }
}

/// `pc.setLocalDescription()` without arguments: the browser creates the right offer or answer.
async fn set_local_description(pc: &RtcPeerConnection) -> Result<JsValue, JsValue> {
    JsFuture::from(start_local_description(pc)?).await
}

/// Starts `pc.setLocalDescription()` and returns its promise.
fn start_local_description(pc: &RtcPeerConnection) -> Result<js_sys::Promise, JsValue> {
    call_method(pc, "setLocalDescription")
        .ok_or_else(|| JsValue::from_str("setLocalDescription"))?
        .dyn_into::<js_sys::Promise>()
}

/// Calls `name()` on `target` (methods web-sys does not bind without arguments).
fn call_method(target: &JsValue, name: &str) -> Option<JsValue> {
    let method = js_sys::Reflect::get(target, &name.into()).ok()?;
    method
        .dyn_into::<js_sys::Function>()
        .ok()?
        .call0(target)
        .ok()
}
