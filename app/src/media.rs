//! Camera, microphone and the call's live video.
//!
//! [`LocalMedia`] is the visitor's own camera and microphone: started on the prejoin page (the
//! preview), carried into the call, switched by the `Camera` and `Microphone` toggles.
//! [`RemoteMedia`] is what the others send, filled by the WebRTC mesh (`mesh`, in the browser)
//! that connects every pair of participants, or in larger calls by the SFU (`sfu`): the
//! `session` runs whichever the server says the call uses, and switches live. The server relays
//! the signaling only for sessions in the call (`ssr::media`, `ssr::sfu`), so nobody in the
//! lobby sees or hears anything.
//!
//! On the server these are plain signals in their initial state, so the page renders the same
//! markup before and after hydration; everything that touches devices runs in the browser.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
mod devices;
#[cfg(feature = "hydrate")]
pub mod mesh;
#[cfg(feature = "hydrate")]
pub mod session;
#[cfg(feature = "hydrate")]
pub mod sfu;
pub(crate) mod wire;

/// The visitor's own camera and microphone.
#[derive(Clone, Copy)]
pub struct LocalMedia {
    /// Sending video: the camera is on.
    pub video: RwSignal<bool>,
    /// Sending audio: the microphone is on and not muted.
    pub audio: RwSignal<bool>,
    /// Asking the browser for the devices right now.
    pub starting: RwSignal<bool>,
    /// Why a device could not be used, as a sentence for the visitor.
    pub notice: RwSignal<Option<String>>,
    /// The microphone hears speech now.
    pub speaking: RwSignal<bool>,
    /// Changes whenever the local tracks change; the preview and the peers follow it.
    pub tracks: RwSignal<u32>,
    /// Whether the devices were asked for yet.
    started: StoredValue<bool>,
    /// Which devices [`Self::start`] asks for: (camera, microphone). Daily's `start_video_off`
    /// and `start_audio_off` leave one out; its toggle still turns it on.
    #[cfg(feature = "hydrate")]
    start_with: StoredValue<(bool, bool)>,
    #[cfg(feature = "hydrate")]
    stream: StoredValue<Option<web_sys::MediaStream>, LocalStorage>,
    #[cfg(feature = "hydrate")]
    meter: StoredValue<Option<devices::LevelMeter>, LocalStorage>,
}

impl Default for LocalMedia {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalMedia {
    /// Nothing started yet (the camera and microphone start with [`Self::start`]).
    pub fn new() -> Self {
        Self::starting_with(true, true)
    }

    /// Nothing started yet; [`Self::start`] will ask for the camera only if `video` and for
    /// the microphone only if `audio` (the call starts with the others off: not captured, not
    /// sent, their toggles showing off).
    pub fn starting_with(video: bool, audio: bool) -> Self {
        #[cfg(not(feature = "hydrate"))]
        let _ = (video, audio);
        Self {
            video: RwSignal::new(false),
            audio: RwSignal::new(false),
            starting: RwSignal::new(false),
            notice: RwSignal::new(None),
            speaking: RwSignal::new(false),
            tracks: RwSignal::new(0),
            started: StoredValue::new(false),
            #[cfg(feature = "hydrate")]
            start_with: StoredValue::new((video, audio)),
            #[cfg(feature = "hydrate")]
            stream: StoredValue::new_local(None),
            #[cfg(feature = "hydrate")]
            meter: StoredValue::new_local(None),
        }
    }

    /// Asks for the camera and microphone once (the preview, and what the call will send),
    /// leaving out what the call starts without (see [`Self::starting_with`]). A visitor who
    /// refuses or has no devices is told so in [`Self::notice`] and can still join.
    pub fn start(&self) {
        if self.started.get_value() {
            return;
        }
        self.started.set_value(true);
        #[cfg(feature = "hydrate")]
        {
            let (video, audio) = self.start_with.get_value();
            devices::start(*self, video, audio);
        }
    }

    /// Turns the camera off (the device is released) or back on.
    pub fn toggle_camera(&self) {
        #[cfg(feature = "hydrate")]
        devices::toggle_camera(*self);
    }

    /// Mutes or unmutes the microphone (asking for it if it was never started).
    pub fn toggle_microphone(&self) {
        #[cfg(feature = "hydrate")]
        devices::toggle_microphone(*self);
    }

    /// Releases the camera and microphone (leaving the page's call for good).
    pub fn stop(&self) {
        #[cfg(feature = "hydrate")]
        devices::stop(*self);
    }

    /// The local stream, when there is one.
    #[cfg(feature = "hydrate")]
    pub fn stream(&self) -> Option<web_sys::MediaStream> {
        self.stream.get_value()
    }
}

/// What the other participants send, by session id: filled by the mesh, read by the tiles.
#[derive(Clone, Copy)]
pub struct RemoteMedia {
    /// Changes whenever a participant's stream changes.
    pub version: RwSignal<u32>,
    /// Who is speaking now.
    pub speaking: RwSignal<Vec<String>>,
    /// Whose video is arriving now (its track live and not muted: the browser mutes a received
    /// track while nothing comes, e.g. after the sender turned the camera off).
    pub video: RwSignal<Vec<String>>,
    #[cfg(feature = "hydrate")]
    streams: StoredValue<std::collections::HashMap<String, web_sys::MediaStream>, LocalStorage>,
}

impl Default for RemoteMedia {
    fn default() -> Self {
        Self::new()
    }
}

impl RemoteMedia {
    /// Nobody connected yet.
    pub fn new() -> Self {
        Self {
            version: RwSignal::new(0),
            speaking: RwSignal::new(Vec::new()),
            video: RwSignal::new(Vec::new()),
            #[cfg(feature = "hydrate")]
            streams: StoredValue::new_local(std::collections::HashMap::new()),
        }
    }

    /// Whether `session_id` is speaking now.
    pub fn is_speaking(&self, session_id: &str) -> bool {
        self.speaking
            .with(|speaking| speaking.iter().any(|id| id == session_id))
    }

    /// Whether video from `session_id` is arriving now.
    pub fn is_receiving_video(&self, session_id: &str) -> bool {
        self.video
            .with(|video| video.iter().any(|id| id == session_id))
    }

    /// The stream received from `session_id`, if connected.
    #[cfg(feature = "hydrate")]
    pub fn stream(&self, session_id: &str) -> Option<web_sys::MediaStream> {
        self.streams
            .with_value(|streams| streams.get(session_id).cloned())
    }

    #[cfg(feature = "hydrate")]
    fn set_stream(&self, session_id: &str, stream: Option<web_sys::MediaStream>) {
        self.streams.update_value(|streams| match stream {
            Some(stream) => {
                streams.insert(session_id.to_owned(), stream);
            }
            None => {
                streams.remove(session_id);
            }
        });
        self.version
            .update(|version| *version = version.wrapping_add(1));
    }
}
