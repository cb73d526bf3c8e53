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

/// One tile per participant: live video, or their name when their camera is off; a speaking
/// ring and a muted mark. Your own tile comes first, mirrored. Only the number of tiles comes
/// from here: style/main.css picks the columns from it and the stage's shape (container
/// queries, so a resize or the people panel re-lays the grid without any code), and sizes the
/// tiles. Beyond the counts that table covers, a square-ish grid stands in.
#[component]
pub fn VideoTiles(call: CallClient, media: LocalMedia, remote: RemoteMedia) -> impl IntoView {
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
    let layout = move || {
        let count = count.get();
        let columns = (1..=count)
            .find(|columns| columns * columns >= count)
            .unwrap_or(1);
        format!("--columns: {columns}; --rows: {}", count.div_ceil(columns))
    };
    view! {
        <section
            class="tiles"
            aria-label="Video"
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
    /// How many columns make `count` 16:9 tiles largest in a stage `aspect` times as wide as
    /// it is high (gaps aside): every column count is tried, the widest tile wins, and a tie
    /// goes to fewer columns.
    fn best_columns(count: usize, aspect: f64) -> usize {
        let mut best = (1, f64::MIN);
        for columns in 1..=count {
            let rows = count.div_ceil(columns);
            let width = (aspect / columns as f64).min(16.0 / 9.0 / rows as f64);
            if width > best.1 + 1e-9 {
                best = (columns, width);
            }
        }
        best.0
    }

    /// The columns style/main.css gives `count` tiles on a stage of `aspect`: the last of its
    /// one-line rules for that count whose aspect-ratio condition holds.
    fn css_columns(css: &str, count: usize, aspect: f64) -> Option<usize> {
        let selector = format!(".tiles[data-count=\"{count}\"] > .tile {{ --columns: ");
        let mut columns = None;
        for line in css.lines() {
            let Some(at) = line.find(&selector) else {
                continue;
            };
            let holds = match line.strip_prefix("@container (aspect-ratio > ") {
                Some(rest) => {
                    let ratio = rest.split(')').next()?;
                    let (top, bottom) = ratio.split_once('/')?;
                    aspect > top.trim().parse::<f64>().ok()? / bottom.trim().parse::<f64>().ok()?
                }
                None => true,
            };
            if holds {
                let value = &line[at + selector.len()..];
                columns = value.split(';').next()?.trim().parse().ok();
            }
        }
        columns
    }

    #[test]
    fn the_stylesheet_lays_out_every_count_up_to_sixteen_as_large_as_the_stage_allows() {
        let css = include_str!("../../../style/main.css");
        for count in 2..=16 {
            for step in 20..=800 {
                let aspect = f64::from(step) / 100.0;
                // At a boundary two layouts are equally good; the CSS rounds it to 1/1000.
                let nearby = [aspect - 0.002, aspect + 0.002];
                if nearby
                    .iter()
                    .any(|&side| best_columns(count, side) != best_columns(count, aspect))
                {
                    continue;
                }
                assert_eq!(
                    css_columns(css, count, aspect),
                    Some(best_columns(count, aspect)),
                    "{count} tiles on a stage of aspect {aspect}"
                );
            }
        }
    }

    #[test]
    fn two_people_sit_side_by_side_on_a_wide_stage_and_stack_on_a_tall_one() {
        assert_eq!(best_columns(2, 1280.0 / 700.0), 2);
        assert_eq!(best_columns(2, 375.0 / 560.0), 1);
        assert_eq!(best_columns(4, 1280.0 / 700.0), 2);
        assert_eq!(best_columns(5, 1280.0 / 700.0), 3);
        assert_eq!(best_columns(3, 2400.0 / 500.0), 3);
        assert_eq!(best_columns(4, 375.0 / 560.0), 1);
    }
}
