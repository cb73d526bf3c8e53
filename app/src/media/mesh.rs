//! The WebRTC mesh: one `RTCPeerConnection` per other participant, negotiated with the
//! perfect-negotiation pattern (either side may offer at any time; on a collision the polite
//! side yields), so simultaneous offers cannot deadlock. Signaling travels through the
//! `signal` server function and comes back as `signal` events on the session's stream, in
//! order: each peer sends one request at a time and reads its messages one at a time.

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

use super::{LocalMedia, RemoteMedia, devices::live_track};
use crate::{
    api::media::{ice_servers, signal},
    call::CallClient,
    model::{
        IceCandidate, IceServer, MAX_SIGNAL_MESSAGES, SdpKind, SessionDescription, SignalMessage,
    },
};

/// Above this `audioLevel` (0..1) a participant is speaking.
const SPEAKING_LEVEL: f64 = 0.02;

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

/// The most early messages kept per sender.
const MAX_EARLY_MESSAGES: usize = 256;

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
                    peer.send_local_tracks(mesh.local.stream().as_ref());
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
    }

    /// Opens a connection to each new participant and closes those to whoever left.
    fn reconcile(self: &Rc<Self>, ids: &[String]) {
        if self.closed.get() {
            return;
        }
        let gone: Vec<String> = self
            .peers
            .borrow()
            .keys()
            .filter(|id| !ids.contains(id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(peer) = self.peers.borrow_mut().remove(&id) {
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

    /// The connection to `id`, opened if there is none.
    fn peer(self: &Rc<Self>, id: &str) -> Option<Rc<Peer>> {
        if let Some(peer) = self.peers.borrow().get(id) {
            return Some(peer.clone());
        }
        let config = self.config.borrow().clone()?;
        let peer = Peer::open(self, id, &config)?;
        self.peers.borrow_mut().insert(id.to_owned(), peer.clone());
        peer.send_local_tracks(self.local.stream().as_ref());
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

    fn measure_speaking(&self) {
        let speaking: Vec<String> = self
            .peers
            .borrow()
            .iter()
            .filter(|(_, peer)| peer.audio_level() > SPEAKING_LEVEL)
            .map(|(id, _)| id.clone())
            .collect();
        if self.remote.speaking.with_untracked(|now| *now != speaking) {
            self.remote.speaking.set(speaking);
        }
    }
}

fn configuration(servers: &[IceServer]) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    if let Ok(servers) = serde_json::to_string(servers)
        && let Ok(servers) = js_sys::JSON::parse(&servers)
    {
        config.set_ice_servers(&servers);
    }
    config
}

/// An event handler installed on a connection (kept alive while the peer lives).
type Handler = Closure<dyn FnMut(JsValue)>;

/// The connection to one other participant.
struct Peer {
    id: String,
    room: String,
    pc: RtcPeerConnection,
    /// Yields on an offer collision (decided by comparing session ids, so the two sides differ).
    polite: bool,
    making_offer: Cell<bool>,
    ignore_offer: Cell<bool>,
    inbox: RefCell<VecDeque<SignalMessage>>,
    reading: Cell<bool>,
    outbox: RefCell<Vec<SignalMessage>>,
    sending: Cell<bool>,
    senders: RefCell<HashMap<&'static str, RtcRtpSender>>,
    /// The latest track of each kind received from the other side.
    received: RefCell<HashMap<String, MediaStreamTrack>>,
    remote: RemoteMedia,
    closed: Cell<bool>,
    handlers: RefCell<Vec<Handler>>,
}

impl Peer {
    fn open(mesh: &Rc<Mesh>, id: &str, config: &RtcConfiguration) -> Option<Rc<Self>> {
        let pc = RtcPeerConnection::new_with_configuration(config).ok()?;
        let peer = Rc::new(Self {
            id: id.to_owned(),
            room: mesh.call.room(),
            pc,
            polite: mesh.me.as_str() > id,
            making_offer: Cell::new(false),
            ignore_offer: Cell::new(false),
            inbox: RefCell::new(VecDeque::new()),
            reading: Cell::new(false),
            outbox: RefCell::new(Vec::new()),
            sending: Cell::new(false),
            senders: RefCell::new(HashMap::new()),
            received: RefCell::new(HashMap::new()),
            remote: mesh.remote,
            closed: Cell::new(false),
            handlers: RefCell::new(Vec::new()),
        });
        peer.listen();
        Some(peer)
    }

    /// Installs the connection's event handlers (they hold the peer weakly).
    fn listen(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.handle(
            RtcPeerConnection::set_onnegotiationneeded,
            weak.clone(),
            |peer, _| {
                peer.offer();
            },
        );
        self.handle(
            RtcPeerConnection::set_onicecandidate,
            weak.clone(),
            |peer, event| {
                let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                    return;
                };
                if let Some(candidate) = event.candidate()
                    && !candidate.candidate().is_empty()
                {
                    peer.send(SignalMessage::Candidate(IceCandidate {
                        candidate: candidate.candidate(),
                        sdp_mid: candidate.sdp_mid(),
                        sdp_m_line_index: candidate.sdp_m_line_index(),
                    }));
                }
            },
        );
        self.handle(
            RtcPeerConnection::set_ontrack,
            weak.clone(),
            |peer, event| {
                let Ok(event) = event.dyn_into::<RtcTrackEvent>() else {
                    return;
                };
                let track = event.track();
                peer.received.borrow_mut().insert(track.kind(), track);
                peer.show_received();
            },
        );
        self.handle(
            RtcPeerConnection::set_onconnectionstatechange,
            weak,
            |peer, _| {
                if peer.pc.connection_state() == RtcPeerConnectionState::Failed {
                    // A new ICE round through negotiationneeded; the pattern handles the rest.
                    call_method(&peer.pc, "restartIce");
                }
            },
        );
    }

    fn handle(
        &self,
        install: fn(&RtcPeerConnection, Option<&js_sys::Function>),
        weak: Weak<Self>,
        action: impl Fn(&Rc<Self>, JsValue) + 'static,
    ) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(peer) = weak.upgrade()
                && !peer.closed.get()
            {
                action(&peer, event);
            }
        });
        install(&self.pc, Some(closure.as_ref().unchecked_ref()));
        self.handlers.borrow_mut().push(closure);
    }

    fn close(&self) {
        self.closed.set(true);
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

    /// `negotiationneeded`: make an offer, unless a collision makes the polite side yield.
    fn offer(self: &Rc<Self>) {
        let peer = self.clone();
        spawn_local(async move {
            peer.making_offer.set(true);
            if set_local_description(&peer.pc).await.is_ok() {
                peer.send_local_description();
            }
            peer.making_offer.set(false);
        });
    }

    fn send_local_description(self: &Rc<Self>) {
        if let Some(local) = self.pc.local_description() {
            let kind = match local.type_() {
                RtcSdpType::Offer => SdpKind::Offer,
                RtcSdpType::Answer => SdpKind::Answer,
                _ => return,
            };
            self.send(SignalMessage::Description(SessionDescription {
                kind,
                sdp: local.sdp(),
            }));
        }
    }

    /// Queues `message` for the other side; one request at a time keeps them in order, and
    /// what queued up meanwhile goes in the next one.
    fn send(self: &Rc<Self>, message: SignalMessage) {
        self.outbox.borrow_mut().push(message);
        if self.sending.replace(true) {
            return;
        }
        let peer = self.clone();
        spawn_local(async move {
            loop {
                let batch: Vec<SignalMessage> = {
                    let mut outbox = peer.outbox.borrow_mut();
                    let count = outbox.len().min(MAX_SIGNAL_MESSAGES);
                    outbox.drain(..count).collect()
                };
                if batch.is_empty() || peer.closed.get() {
                    break;
                }
                // Refused when the other side has just left: the mesh closes this peer then.
                let _ = signal(peer.room.clone(), peer.id.clone(), batch).await;
            }
            peer.sending.set(false);
        });
    }

    /// Messages from the other side, read one at a time in order.
    fn receive(self: &Rc<Self>, messages: Vec<SignalMessage>) {
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
                // A failed step is not fatal: the next offer or ICE restart repairs the session.
                let _ = peer.read(message).await;
            }
            peer.reading.set(false);
        });
    }

    async fn read(self: &Rc<Self>, message: SignalMessage) -> Result<(), JsValue> {
        match message {
            SignalMessage::Description(description) => {
                let offer = description.kind == SdpKind::Offer;
                let collision = offer
                    && (self.making_offer.get()
                        || self.pc.signaling_state() != RtcSignalingState::Stable);
                self.ignore_offer.set(!self.polite && collision);
                if self.ignore_offer.get() {
                    return Ok(());
                }
                let init = RtcSessionDescriptionInit::new(if offer {
                    RtcSdpType::Offer
                } else {
                    RtcSdpType::Answer
                });
                init.set_sdp(&description.sdp);
                JsFuture::from(self.pc.set_remote_description(&init)).await?;
                if offer {
                    set_local_description(&self.pc).await?;
                    self.send_local_description();
                }
            }
            SignalMessage::Candidate(candidate) => {
                let init = RtcIceCandidateInit::new(&candidate.candidate);
                init.set_sdp_mid(candidate.sdp_mid.as_deref());
                init.set_sdp_m_line_index(candidate.sdp_m_line_index);
                let added = JsFuture::from(
                    self.pc
                        .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
                )
                .await;
                if let Err(error) = added
                    && !self.ignore_offer.get()
                {
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Shows what is received now: a fresh stream of the live tracks, so the tile reloads.
    fn show_received(&self) {
        let tracks = js_sys::Array::new();
        for track in self.received.borrow().values() {
            tracks.push(track);
        }
        if let Ok(stream) = MediaStream::new_with_tracks(&tracks) {
            self.remote.set_stream(&self.id, Some(stream));
        }
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
    let promise = call_method(pc, "setLocalDescription")
        .ok_or_else(|| JsValue::from_str("setLocalDescription"))?;
    JsFuture::from(promise.dyn_into::<js_sys::Promise>()?).await
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
