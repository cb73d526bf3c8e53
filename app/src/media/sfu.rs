//! The call through the SFU, in the browser: one `RTCPeerConnection` publishes the camera and
//! microphone to the SFU, and another receives everyone else's media from it. The browser
//! never talks to the SFU's API: its offer goes to the peer `sfu` through the `signal` path
//! (which Knock relays only for participants in the call), and the SFU's answer, and its offers
//! of the others' media, come back on the event stream as `signal` events from `sfu`.
//!
//! Each description is complete (ICE candidates gathered before it is sent, and the SFU's
//! likewise), so nothing is trickled and the two connections never need telling apart: an
//! answer is for the publisher, an offer for the receiver. The publisher's offer is tagged with
//! the connection that made it (`wire`), so a reloaded page, or one that comes back to the SFU
//! after a mesh, gets a new place on the SFU rather than one a closed connection held. The
//! SFU's offers name the participant each media section carries (`a=knock-participant:`,
//! added by Knock), so what arrives lands in the same [`RemoteMedia`] the mesh fills.

use std::{
    cell::{Cell, RefCell},
    collections::{HashMap, VecDeque},
    rc::Rc,
};

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcPeerConnection, RtcRtpReceiver, RtcSdpType,
    RtcSessionDescriptionInit,
};

use super::{
    LocalMedia, RemoteMedia,
    devices::live_track,
    wire::{self, Tag, participants_by_mid},
};
use crate::{
    api::media::{ice_servers, signal},
    call::CallClient,
    model::{SdpKind, SessionDescription, SignalMessage},
};

/// The name the SFU has in `signal` (`ssr::sfu::PEER`).
const PEER: &str = "sfu";
/// Above this `audioLevel` (0..1) a participant is speaking.
const SPEAKING_LEVEL: f64 = 0.02;
/// The longest wait for ICE gathering before a description is sent with what it has.
const GATHER_WITHIN_MS: u32 = 3_000;

/// A new connection id: eight random hex digits.
fn new_connection_id() -> String {
    format!(
        "{:08x}",
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

/// The call's media through the SFU; close it when leaving or when the call becomes a mesh.
pub struct SfuMedia {
    call: CallClient,
    local: LocalMedia,
    remote: RemoteMedia,
    room: String,
    /// This page's publication: the id its offers are tagged with.
    connection: String,
    config: RefCell<Option<RtcConfiguration>>,
    publisher: RefCell<Option<RtcPeerConnection>>,
    /// The publisher's senders, by kind.
    senders: RefCell<HashMap<&'static str, JsValue>>,
    subscriber: RefCell<Option<RtcPeerConnection>>,
    /// Which participant each received media section carries, by its mid.
    feeds: RefCell<HashMap<String, String>>,
    /// The tracks shown for each participant now (by track id, to see what changed).
    shown: RefCell<HashMap<String, Vec<String>>>,
    inbox: RefCell<VecDeque<SignalMessage>>,
    reading: Cell<bool>,
    closed: Cell<bool>,
}

impl SfuMedia {
    /// Publishes the camera and microphone to the SFU and receives the others' media, once the
    /// ICE servers are known. Lives until [`SfuMedia::close`].
    pub fn start(call: CallClient, local: LocalMedia, remote: RemoteMedia) -> Rc<Self> {
        let sfu = Rc::new(Self {
            call,
            local,
            remote,
            room: call.room(),
            connection: new_connection_id(),
            config: RefCell::new(None),
            publisher: RefCell::new(None),
            senders: RefCell::new(HashMap::new()),
            subscriber: RefCell::new(None),
            feeds: RefCell::new(HashMap::new()),
            shown: RefCell::new(HashMap::new()),
            inbox: RefCell::new(VecDeque::new()),
            reading: Cell::new(false),
            closed: Cell::new(false),
        });
        let ready = RwSignal::new(false);

        // A camera or microphone turned on or off: the publisher sends the track now live.
        let weak = Rc::downgrade(&sfu);
        Effect::new(move |_| {
            local.tracks.track();
            if ready.get()
                && let Some(sfu) = weak.upgrade()
            {
                sfu.send_local_tracks();
            }
        });
        // Who is speaking, and whose video arrives.
        let weak = Rc::downgrade(&sfu);
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if let Some(sfu) = weak.upgrade()
                    && !sfu.closed.get()
                {
                    sfu.measure();
                }
            },
            std::time::Duration::from_millis(300),
        ) {
            on_cleanup(move || handle.clear());
        }

        let weak = Rc::downgrade(&sfu);
        let room = call.room();
        spawn_local(async move {
            let servers = ice_servers(room).await.unwrap_or_default();
            let Some(sfu) = weak.upgrade() else { return };
            if sfu.closed.get() {
                return;
            }
            *sfu.config.borrow_mut() = Some(super::mesh::configuration(&servers));
            // The browser has one thread: the wrapper only satisfies the handler's bounds.
            let weak = send_wrapper::SendWrapper::new(Rc::downgrade(&sfu));
            sfu.call
                .on_signal(std::sync::Arc::new(move |from, messages| {
                    if let Some(sfu) = weak.upgrade()
                        && from == PEER
                    {
                        sfu.receive(messages);
                    }
                }));
            ready.set(true);
            sfu.publish().await;
        });
        sfu
    }

    /// Closes both connections and stops listening for signaling.
    pub fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.call.clear_signal_handler();
        for pc in [
            self.publisher.borrow_mut().take(),
            self.subscriber.borrow_mut().take(),
        ]
        .into_iter()
        .flatten()
        {
            pc.set_ontrack(None);
            pc.close();
        }
        for (id, _) in self.shown.borrow_mut().drain() {
            self.remote.set_stream(&id, None);
        }
        self.remote.speaking.set(Vec::new());
        self.remote.video.set(Vec::new());
    }

    /// Tells the visitor that the SFU could not be used (the call goes on without this page's
    /// media until the page is reloaded).
    fn refused(&self, why: &str) {
        leptos::logging::warn!("knock-sfu {why}");
        if !self.closed.get() {
            self.local.notice.set(Some(format!(
                "The media server refused this call's video ({why}). Reload the page to try again."
            )));
        }
    }

    /// Sends `message` to the SFU; whether Knock relayed it.
    async fn send(&self, message: SignalMessage) -> bool {
        let tag = Tag {
            from: self.connection.clone(),
            to: None,
        };
        match signal(
            self.room.clone(),
            PEER.to_owned(),
            vec![wire::tag(message, &tag)],
        )
        .await
        {
            Ok(()) => true,
            Err(error) => {
                self.refused(&error.to_string());
                false
            }
        }
    }

    /// The publisher: a connection sending audio and video (whatever is live now, nothing
    /// otherwise; a track turned on later replaces nothing, so no renegotiation), offered to
    /// the SFU.
    async fn publish(self: &Rc<Self>) {
        let Some(config) = self.config.borrow().clone() else {
            return;
        };
        let Ok(pc) = RtcPeerConnection::new_with_configuration(&config) else {
            self.refused("no connection could be made");
            return;
        };
        for kind in ["audio", "video"] {
            let init = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&init, &"direction".into(), &"sendonly".into());
            if let Some(transceiver) =
                call_method(&pc, "addTransceiver", &[kind.into(), init.into()])
                && let Ok(sender) = js_sys::Reflect::get(&transceiver, &"sender".into())
            {
                self.senders.borrow_mut().insert(kind, sender);
            }
        }
        *self.publisher.borrow_mut() = Some(pc.clone());
        self.send_local_tracks();
        let offer = async {
            let offer = JsFuture::from(pc.create_offer()).await?;
            let offer: RtcSessionDescriptionInit = offer.unchecked_into();
            JsFuture::from(pc.set_local_description(&offer)).await?;
            gathered(&pc).await;
            Ok::<_, JsValue>(pc.local_description().map(|local| local.sdp()))
        };
        match offer.await {
            Ok(Some(sdp)) if !self.closed.get() => {
                self.send(SignalMessage::Description(SessionDescription {
                    kind: SdpKind::Offer,
                    sdp,
                }))
                .await;
            }
            Ok(_) => {}
            Err(error) => self.refused(&format!("{error:?}")),
        }
    }

    /// Puts the live local tracks on the publisher's senders.
    fn send_local_tracks(&self) {
        if self.closed.get() {
            return;
        }
        let stream = self.local.stream();
        for (kind, sender) in self.senders.borrow().iter() {
            let track = stream.as_ref().and_then(|stream| live_track(stream, kind));
            let current = js_sys::Reflect::get(sender, &"track".into())
                .ok()
                .and_then(|track| track.dyn_into::<MediaStreamTrack>().ok());
            if current.map(|sent| sent.id()) == track.as_ref().map(MediaStreamTrack::id) {
                continue;
            }
            let track: JsValue = track.map_or(JsValue::NULL, Into::into);
            let _ = call_method(sender, "replaceTrack", &[track]);
        }
    }

    /// Messages from the SFU, read one at a time in order.
    fn receive(self: &Rc<Self>, messages: Vec<SignalMessage>) {
        self.inbox.borrow_mut().extend(messages);
        if self.reading.replace(true) {
            return;
        }
        let sfu = self.clone();
        spawn_local(async move {
            loop {
                let next = sfu.inbox.borrow_mut().pop_front();
                let Some(message) = next else { break };
                if sfu.closed.get() {
                    break;
                }
                if let Err(error) = sfu.read(message).await {
                    leptos::logging::warn!("knock-sfu a message from the SFU failed: {error:?}");
                }
            }
            sfu.reading.set(false);
        });
    }

    async fn read(self: &Rc<Self>, message: SignalMessage) -> Result<(), JsValue> {
        let SignalMessage::Description(description) = message else {
            // The SFU's candidates are in its descriptions.
            return Ok(());
        };
        match description.kind {
            SdpKind::Answer => {
                let publisher = self.publisher.borrow().clone();
                if let Some(pc) = publisher {
                    let init = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
                    init.set_sdp(&description.sdp);
                    JsFuture::from(pc.set_remote_description(&init)).await?;
                }
            }
            SdpKind::Offer => self.subscribe(&description.sdp).await?,
        }
        Ok(())
    }

    /// The SFU offers the others' media (again, whenever someone starts or stops publishing):
    /// the receiving connection answers, and the tiles show what it carries now.
    async fn subscribe(self: &Rc<Self>, sdp: &str) -> Result<(), JsValue> {
        let existing = self.subscriber.borrow().clone();
        let pc = match existing {
            Some(pc) => pc,
            None => {
                let config = self.config.borrow().clone().unwrap_or_default();
                let pc = RtcPeerConnection::new_with_configuration(&config)?;
                // A track that starts or stops arriving changes what the tiles show.
                let weak = Rc::downgrade(self);
                let on_track = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                    if let Some(sfu) = weak.upgrade() {
                        sfu.show();
                    }
                });
                pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
                on_track.forget();
                *self.subscriber.borrow_mut() = Some(pc.clone());
                pc
            }
        };
        *self.feeds.borrow_mut() = participants_by_mid(sdp);
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(sdp);
        JsFuture::from(pc.set_remote_description(&init)).await?;
        let answer = JsFuture::from(pc.create_answer()).await?;
        let answer: RtcSessionDescriptionInit = answer.unchecked_into();
        JsFuture::from(pc.set_local_description(&answer)).await?;
        gathered(&pc).await;
        self.show();
        if let Some(local) = pc.local_description()
            && !self.closed.get()
        {
            self.send(SignalMessage::Description(SessionDescription {
                kind: SdpKind::Answer,
                sdp: local.sdp(),
            }))
            .await;
        }
        Ok(())
    }

    /// The receiving connection's tracks of each participant: (mid's participant, receiver).
    fn receivers(&self) -> Vec<(String, RtcRtpReceiver)> {
        let Some(pc) = self.subscriber.borrow().clone() else {
            return Vec::new();
        };
        let feeds = self.feeds.borrow();
        let transceivers = js_sys::Reflect::get(&pc, &"getTransceivers".into())
            .ok()
            .and_then(|method| method.dyn_into::<js_sys::Function>().ok())
            .and_then(|method| method.call0(&pc).ok())
            .map(|list| js_sys::Array::from(&list))
            .unwrap_or_default();
        transceivers
            .iter()
            .filter_map(|transceiver| {
                let mid = js_sys::Reflect::get(&transceiver, &"mid".into())
                    .ok()?
                    .as_string()?;
                let participant = feeds.get(&mid)?.clone();
                let receiver = js_sys::Reflect::get(&transceiver, &"receiver".into())
                    .ok()?
                    .dyn_into::<RtcRtpReceiver>()
                    .ok()?;
                Some((participant, receiver))
            })
            .collect()
    }

    /// Shows what arrives from each participant now: a fresh stream for whoever's tracks
    /// changed (so the tile reloads), and none for whoever no longer sends.
    fn show(&self) {
        if self.closed.get() {
            return;
        }
        let mut now: HashMap<String, Vec<MediaStreamTrack>> = HashMap::new();
        for (participant, receiver) in self.receivers() {
            now.entry(participant).or_default().push(receiver.track());
        }
        let mut shown = self.shown.borrow_mut();
        let gone: Vec<String> = shown
            .keys()
            .filter(|id| !now.contains_key(*id))
            .cloned()
            .collect();
        for id in gone {
            shown.remove(&id);
            self.remote.set_stream(&id, None);
        }
        for (id, tracks) in now {
            let ids: Vec<String> = tracks.iter().map(MediaStreamTrack::id).collect();
            if shown.get(&id) == Some(&ids) {
                continue;
            }
            let list = js_sys::Array::new();
            for track in &tracks {
                list.push(track);
            }
            if let Ok(stream) = MediaStream::new_with_tracks(&list) {
                self.remote.set_stream(&id, Some(stream));
                shown.insert(id, ids);
            }
        }
    }

    /// Who is speaking, and whose video arrives, from what the receiving connection gets.
    fn measure(&self) {
        let mut speaking = Vec::new();
        let mut video = Vec::new();
        for (participant, receiver) in self.receivers() {
            let track = receiver.track();
            let live = track.ready_state() == web_sys::MediaStreamTrackState::Live;
            if track.kind() == "video" && live && !track.muted() {
                video.push(participant);
            } else if track.kind() == "audio" && live {
                let level = receiver
                    .get_synchronization_sources()
                    .iter()
                    .filter_map(|source| js_sys::Reflect::get(&source, &"audioLevel".into()).ok())
                    .filter_map(|level| level.as_f64())
                    .fold(0.0, f64::max);
                if level > SPEAKING_LEVEL {
                    speaking.push(participant);
                }
            }
        }
        for list in [&mut speaking, &mut video] {
            list.sort();
            list.dedup();
        }
        if self.remote.speaking.with_untracked(|now| *now != speaking) {
            self.remote.speaking.set(speaking);
        }
        if self.remote.video.with_untracked(|now| *now != video) {
            self.remote.video.set(video);
        }
    }
}

/// Waits until `pc` has gathered its ICE candidates (at most [`GATHER_WITHIN_MS`]), so its
/// description carries them.
async fn gathered(pc: &RtcPeerConnection) {
    let deadline = js_sys::Date::now() + f64::from(GATHER_WITHIN_MS);
    let state = || {
        js_sys::Reflect::get(pc, &"iceGatheringState".into())
            .ok()
            .and_then(|state| state.as_string())
    };
    while state().as_deref() != Some("complete") && js_sys::Date::now() < deadline {
        sleep_ms(50).await;
    }
}

/// A pause of `ms` milliseconds.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Calls `name(args...)` on `target` (methods web-sys does not bind without extra features).
fn call_method(target: &JsValue, name: &str, args: &[JsValue]) -> Option<JsValue> {
    let method = js_sys::Reflect::get(target, &name.into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let list = js_sys::Array::new();
    for arg in args {
        list.push(arg);
    }
    method.apply(target, &list).ok()
}
