//! The camera preview, the `Camera` / `Microphone` toggles, and the call's video tiles: a grid
//! that fills the stage (one tile fills it; more keep 16:9 and are as large as the stage allows).

use leptos::{html, prelude::*};

use crate::{
    call::CallClient,
    media::{LocalMedia, RemoteMedia},
    model::Participant,
};

/// Plays `stream` in `element`; the same stream again is left alone (assigning it would reload
/// the element and flash it black).
#[cfg(feature = "hydrate")]
fn attach(element: &web_sys::HtmlMediaElement, stream: Option<web_sys::MediaStream>) {
    if element.src_object() != stream {
        element.set_src_object(stream.as_ref());
    }
}

/// Your own camera, mirrored (hidden while it is off); follows the local tracks.
#[component]
fn LocalVideo(media: LocalMedia, #[prop(optional)] label: Option<&'static str>) -> impl IntoView {
    let video = NodeRef::<html::Video>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        media.tracks.track();
        // Assigned again on every change of the local tracks, so a camera turned back on (a new
        // track in the same stream) shows at once.
        if let Some(element) = video.get() {
            element.set_src_object(media.stream().as_ref());
        }
    });
    view! {
        <video
            node_ref=video
            class="mirrored"
            autoplay
            playsinline
            muted
            aria-label=label
            hidden=move || !media.video.get()
        ></video>
    }
}

/// The `Camera` and `Microphone` toggle buttons (pressed = on).
#[component]
pub fn MediaToggles(media: LocalMedia) -> impl IntoView {
    let starting = move || media.starting.get();
    view! {
        <div class="toggles" role="group" aria-label="Camera and microphone">
            <button
                type="button"
                class="toggle camera"
                aria-pressed=move || media.video.get().to_string()
                disabled=starting
                on:click=move |_| media.toggle_camera()
            >
                "Camera"
                <span class="state">{move || if media.video.get() { " on" } else { " off" }}</span>
            </button>
            <button
                type="button"
                class="toggle microphone"
                aria-pressed=move || media.audio.get().to_string()
                on:click=move |_| media.toggle_microphone()
            >
                "Microphone"
                <span class="state">{move || if media.audio.get() { " on" } else { " off" }}</span>
            </button>
        </div>
    }
}

/// The prejoin page's live preview of your camera, with the toggles and, when the devices
/// cannot be used, why (joining works without them).
#[component]
pub fn CameraPreview(media: LocalMedia, name: Signal<String>) -> impl IntoView {
    let placeholder = move || {
        if media.starting.get() {
            "Starting your camera…".to_owned()
        } else {
            let name = name.get();
            if name.trim().is_empty() {
                "Your camera is off".to_owned()
            } else {
                name
            }
        }
    };
    view! {
        <section class="preview" aria-label="Your camera">
            <div class="tile local" class:camera-off=move || !media.video.get()>
                <LocalVideo media label="Your camera preview"/>
                <p class="tile-name" hidden=move || media.video.get()>{placeholder}</p>
            </div>
            <MediaToggles media/>
            <p class="notice" role="status">{move || media.notice.get()}</p>
        </section>
    }
}

/// The space between tiles, in CSS pixels (`--tile-gap` in style/main.css).
#[cfg(feature = "hydrate")]
const TILE_GAP: f64 = 8.0;

/// How many columns make `count` 16:9 tiles largest in a `width` x `height` stage whose tiles
/// are `gap` apart: every column count is tried (a call has a handful of people), the widest
/// tile wins, and a tie goes to fewer columns.
pub fn best_columns(count: usize, width: f64, height: f64, gap: f64) -> usize {
    let mut best = (1, f64::MIN);
    for columns in 1..=count.max(1) {
        let rows = count.max(1).div_ceil(columns);
        let cell_width = (width - gap * (columns - 1) as f64) / columns as f64;
        let cell_height = (height - gap * (rows - 1) as f64) / rows as f64;
        let tile_width = cell_width.min(cell_height * 16.0 / 9.0);
        if tile_width > best.1 + 0.5 {
            best = (columns, tile_width);
        }
    }
    best.0
}

/// One tile per participant: live video, or their name when their camera is off; a speaking
/// ring and a muted mark. Your own tile comes first, mirrored. The columns follow the stage's
/// size (measured on resize, and when the people panel opens or closes, since it takes width
/// from the stage); CSS sizes the tiles from them.
#[component]
pub fn VideoTiles(
    call: CallClient,
    media: LocalMedia,
    remote: RemoteMedia,
    panel_open: Signal<bool>,
) -> impl IntoView {
    let my_name = move || {
        call.model.with(|model| {
            model
                .state
                .as_ref()
                .and_then(|state| state.user_name.clone())
                .unwrap_or_default()
        })
    };
    let others = move || call.model.with(|model| model.participants.clone());
    let count = Memo::new(move |_| 1 + call.model.with(|model| model.participants.len()));
    let stage = NodeRef::<html::Section>::new();
    // Zero until measured: then a square-ish guess stands in (the server cannot measure).
    let measured = RwSignal::new(0_usize);
    #[cfg(feature = "hydrate")]
    {
        let measure = move || {
            if let Some(stage) = stage.get_untracked() {
                let (width, height) = (stage.client_width(), stage.client_height());
                if width > 0 && height > 0 {
                    measured.set(best_columns(
                        count.get_untracked(),
                        f64::from(width),
                        f64::from(height),
                        TILE_GAP,
                    ));
                }
            }
        };
        Effect::new(move |_| {
            count.track();
            panel_open.track();
            request_animation_frame(measure);
        });
        let resize = window_event_listener(leptos::ev::resize, move |_| measure());
        on_cleanup(move || resize.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = panel_open;
    let layout = move || {
        let count = count.get();
        let columns = match measured.get() {
            0 => (1..=count)
                .find(|columns| columns * columns >= count)
                .unwrap_or(1),
            columns => columns.min(count),
        };
        format!("--columns: {columns}; --rows: {}", count.div_ceil(columns))
    };
    view! {
        <section
            class="tiles"
            aria-label="Video"
            node_ref=stage
            data-count=move || count.get().to_string()
            style=layout
        >
            <figure
                class="tile local"
                class:camera-off=move || !media.video.get()
                class:speaking=move || media.speaking.get() && media.audio.get()
                data-you="true"
            >
                <LocalVideo media/>
                <p class="tile-name" aria-hidden="true" hidden=move || media.video.get()>{my_name}</p>
                <figcaption>
                    {my_name} " (you)"
                    <Show when=move || !media.audio.get()>
                        <span class="muted">" Muted"</span>
                    </Show>
                </figcaption>
            </figure>
            <For
                each=others
                key=|participant| participant.session_id.clone()
                children=move |participant| view! { <RemoteTile call participant remote/> }
            />
        </section>
    }
}

/// Another participant's tile: their video and audio as the mesh receives them.
#[component]
fn RemoteTile(call: CallClient, participant: Participant, remote: RemoteMedia) -> impl IntoView {
    let video = NodeRef::<html::Video>::new();
    let audio = NodeRef::<html::Audio>::new();
    let id = participant.session_id.clone();
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        Effect::new(move |_| {
            remote.version.track();
            let stream = remote.stream(&id);
            if let Some(element) = video.get() {
                attach(&element, stream.clone());
            }
            if let Some(element) = audio.get() {
                attach(&element, stream);
            }
        });
    }
    // Camera and microphone follow `participant-updated` events; video that arrives shows even
    // before (or without) the event that says the camera is on.
    let sends = Memo::new({
        let id = id.clone();
        move |_| {
            call.model.with(|model| {
                model
                    .participants
                    .iter()
                    .find(|known| known.session_id == id)
                    .map_or((false, false), |known| (known.video, known.audio))
            })
        }
    });
    let camera = Memo::new({
        let id = id.clone();
        move |_| sends.get().0 || remote.is_receiving_video(&id)
    });
    let camera_on = move || camera.get();
    let microphone_on = move || sends.get().1;
    let speaking = {
        let id = id.clone();
        move || microphone_on() && remote.is_speaking(&id)
    };
    let name = participant.user_name.clone();
    view! {
        <figure
            class="tile"
            class:camera-off=move || !camera_on()
            class:speaking=speaking
            data-session-id=id
        >
            <video autoplay playsinline muted node_ref=video hidden=move || !camera_on()></video>
            <audio autoplay node_ref=audio></audio>
            <p class="tile-name" aria-hidden="true" hidden=camera_on>{name.clone()}</p>
            <figcaption>
                {name}
                {participant.owner.then(|| view! { <span class="badge">"Owner"</span> })}
                <Show when=move || !microphone_on()>
                    <span class="muted">" Muted"</span>
                </Show>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::best_columns;

    #[test]
    fn one_person_takes_one_column() {
        assert_eq!(best_columns(1, 1280.0, 700.0, 8.0), 1);
        assert_eq!(best_columns(1, 375.0, 560.0, 8.0), 1);
    }

    #[test]
    fn two_people_sit_side_by_side_on_a_wide_window_and_stack_on_a_phone() {
        assert_eq!(best_columns(2, 1280.0, 700.0, 8.0), 2);
        assert_eq!(best_columns(2, 375.0, 560.0, 8.0), 1);
    }

    #[test]
    fn more_people_make_a_balanced_grid() {
        assert_eq!(best_columns(4, 1280.0, 700.0, 8.0), 2);
        assert_eq!(best_columns(5, 1280.0, 700.0, 8.0), 3);
        assert_eq!(best_columns(9, 1280.0, 700.0, 8.0), 3);
        assert_eq!(best_columns(3, 2400.0, 500.0, 8.0), 3);
        assert_eq!(best_columns(4, 375.0, 560.0, 8.0), 1);
    }
}
