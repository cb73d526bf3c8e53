//! The browser's camera and microphone: `getUserMedia`, the toggles, and a level meter that
//! tells when the local microphone hears speech.

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AnalyserNode, AudioContext, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    MediaStreamTrackState,
};

use super::LocalMedia;

/// What the camera is asked for: enough for a small call, light on a laptop's CPU.
const VIDEO: &str =
    r#"{"width": {"ideal": 640}, "height": {"ideal": 360}, "frameRate": {"ideal": 20}}"#;
/// Above this level (0..1, RMS of the waveform) the microphone hears speech.
const SPEAKING_LEVEL: f64 = 0.02;

/// Asks the browser for `video` and/or `audio`.
async fn capture(video: bool, audio: bool) -> Result<MediaStream, JsValue> {
    let devices = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .navigator()
        .media_devices()?;
    if devices.is_undefined() {
        // Browsers offer devices only to secure pages (https, or localhost).
        return Err(js_sys::Error::new("insecure").into());
    }
    let constraints = MediaStreamConstraints::new();
    if video {
        constraints.set_video(&js_sys::JSON::parse(VIDEO)?);
    } else {
        constraints.set_video_bool(false);
    }
    constraints.set_audio_bool(audio);
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    stream.dyn_into()
}

/// A sentence telling the visitor why their devices cannot be used, and that they can join.
fn sentence(error: &JsValue) -> String {
    let name = js_sys::Reflect::get(error, &"name".into())
        .ok()
        .and_then(|name| name.as_string())
        .unwrap_or_default();
    let secure = web_sys::window().is_some_and(|window| window.is_secure_context());
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => {
            "Your browser blocked the camera and microphone. You can still join: the others will \
             see your name."
        }
        "NotFoundError" | "OverconstrainedError" => {
            "No camera or microphone was found. You can still join without them."
        }
        "NotReadableError" | "AbortError" => {
            "Your camera or microphone is in use by another app. You can still join without them."
        }
        _ if !secure => {
            "This page is not served over https, so the browser offers no camera or microphone. \
             You can still join without them."
        }
        _ => "Your camera and microphone could not be started. You can still join without them.",
    }
    .to_owned()
}

fn tracks(stream: &MediaStream, kind: &str) -> Vec<MediaStreamTrack> {
    let list = if kind == "video" {
        stream.get_video_tracks()
    } else {
        stream.get_audio_tracks()
    };
    list.iter()
        .filter_map(|track| track.dyn_into().ok())
        .collect()
}

/// The first live track of `kind` in `stream`.
pub fn live_track(stream: &MediaStream, kind: &str) -> Option<MediaStreamTrack> {
    tracks(stream, kind)
        .into_iter()
        .find(|track| track.ready_state() == MediaStreamTrackState::Live)
}

/// Adds `from`'s tracks to the local stream (creating it) and records what is now sent.
fn adopt(media: LocalMedia, from: &MediaStream) {
    let stream = media.stream.get_value().or_else(|| MediaStream::new().ok());
    let Some(stream) = stream else { return };
    for kind in ["video", "audio"] {
        for track in tracks(from, kind) {
            stream.add_track(&track);
        }
    }
    media.stream.set_value(Some(stream.clone()));
    refresh(media, &stream);
}

/// Recomputes what is sent from the stream's tracks, and tells the followers.
fn refresh(media: LocalMedia, stream: &MediaStream) {
    media.video.set(live_track(stream, "video").is_some());
    let audio = live_track(stream, "audio");
    media
        .audio
        .set(audio.as_ref().is_some_and(MediaStreamTrack::enabled));
    if let Some(track) = audio {
        watch_level(media, &track);
    }
    media
        .tracks
        .update(|version| *version = version.wrapping_add(1));
}

/// Asks for the camera (`video`) and the microphone (`audio`); what is not asked for stays off
/// until its toggle turns it on.
pub fn start(media: LocalMedia, video: bool, audio: bool) {
    if !video && !audio {
        return;
    }
    media.starting.set(true);
    spawn_local(async move {
        match capture(video, audio).await {
            Ok(stream) => {
                media.notice.set(None);
                adopt(media, &stream);
            }
            Err(error) => {
                // One of the two may still work (no camera on a desktop, a blocked microphone).
                let mut any = false;
                if video && audio {
                    for (video, audio) in [(true, false), (false, true)] {
                        if let Ok(stream) = capture(video, audio).await {
                            adopt(media, &stream);
                            any = true;
                        }
                    }
                }
                let missing = if any {
                    "Only part of your camera and microphone could be started."
                } else {
                    ""
                };
                let notice = format!("{missing} {}", sentence(&error));
                media.notice.set(Some(notice.trim().to_owned()));
            }
        }
        media.starting.set(false);
    });
}

pub fn toggle_camera(media: LocalMedia) {
    if let Some(stream) = media.stream.get_value()
        && live_track(&stream, "video").is_some()
    {
        for track in tracks(&stream, "video") {
            track.stop();
            stream.remove_track(&track);
        }
        refresh(media, &stream);
        return;
    }
    add_device(media, true, false);
}

/// Asks for one more device (the camera turned back on, a microphone first refused) and adds
/// it to the local stream, or says why it cannot be used.
fn add_device(media: LocalMedia, video: bool, audio: bool) {
    media.starting.set(true);
    spawn_local(async move {
        match capture(video, audio).await {
            Ok(stream) => {
                media.notice.set(None);
                adopt(media, &stream);
            }
            Err(error) => media.notice.set(Some(sentence(&error))),
        }
        media.starting.set(false);
    });
}

pub fn toggle_microphone(media: LocalMedia) {
    if let Some(stream) = media.stream.get_value()
        && let Some(track) = live_track(&stream, "audio")
    {
        // Muting keeps the device: unmuting is instant and needs no renegotiation.
        track.set_enabled(!track.enabled());
        media.audio.set(track.enabled());
        if !track.enabled() {
            media.speaking.set(false);
        }
        return;
    }
    add_device(media, false, true);
}

pub fn stop(media: LocalMedia) {
    if let Some(stream) = media.stream.get_value() {
        for kind in ["video", "audio"] {
            for track in tracks(&stream, kind) {
                track.stop();
            }
        }
    }
    media.stream.set_value(None);
    media.meter.set_value(None);
    media.video.set(false);
    media.audio.set(false);
    media.speaking.set(false);
    media
        .tracks
        .update(|version| *version = version.wrapping_add(1));
}

/// Samples the microphone's level a few times a second while its track lives.
pub struct LevelMeter {
    context: AudioContext,
    interval: IntervalHandle,
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        self.interval.clear();
        let _ = self.context.close();
    }
}

fn watch_level(media: LocalMedia, track: &MediaStreamTrack) {
    let watching = media.meter.with_value(Option::is_some);
    if watching {
        return;
    }
    let Ok(context) = AudioContext::new() else {
        return;
    };
    let Ok(stream) = MediaStream::new_with_tracks(&js_sys::Array::of1(track)) else {
        return;
    };
    let Ok(source) = context.create_media_stream_source(&stream) else {
        return;
    };
    let Ok(analyser) = context.create_analyser() else {
        return;
    };
    analyser.set_fft_size(512);
    if source.connect_with_audio_node(&analyser).is_err() {
        return;
    }
    let track = track.clone();
    let handle = set_interval_with_handle(
        move || {
            let hears = track.ready_state() == MediaStreamTrackState::Live
                && track.enabled()
                && level(&analyser) > SPEAKING_LEVEL;
            if media.speaking.get_untracked() != hears {
                media.speaking.set(hears);
            }
        },
        std::time::Duration::from_millis(250),
    );
    if let Ok(interval) = handle {
        media
            .meter
            .set_value(Some(LevelMeter { context, interval }));
    }
}

/// The RMS level (0..1) of the analyser's current waveform.
fn level(analyser: &AnalyserNode) -> f64 {
    let mut samples = vec![0_f32; analyser.fft_size() as usize];
    analyser.get_float_time_domain_data(&mut samples);
    let sum: f64 = samples.iter().map(|s| f64::from(*s) * f64::from(*s)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}
