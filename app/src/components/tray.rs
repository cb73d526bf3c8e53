//! The call's tray: a bar fixed at the bottom with `Camera`, `Microphone`, `People` (with the
//! number of people waiting, for admins) and `Leave`, on screen at every window size.

use leptos::prelude::*;

use super::media::MediaToggles;
use crate::{api::call::Leave, media::LocalMedia};

/// The tray. `people_ui` offers the `People` button (and so the panel); `waiting` is how many
/// knock, shown on it (zero for non-admins); `leave` is the call's `Leave` action.
#[component]
pub fn Tray(
    room: String,
    media: LocalMedia,
    people_open: RwSignal<bool>,
    people_ui: Signal<bool>,
    waiting: Signal<usize>,
    leave: ServerAction<Leave>,
) -> impl IntoView {
    view! {
        <section class="tray" aria-label="Call controls">
            <MediaToggles media/>
            // Hidden rather than left out: cheaper for the bundle than a `<Show>`.
            <button
                type="button"
                id="people-button"
                class="tray-button people"
                hidden=move || !people_ui.get()
                aria-expanded=move || people_open.get().to_string()
                aria-controls="people-panel"
                on:click=move |_| people_open.update(|open| *open = !*open)
            >
                "People"
                <span class="count" hidden=move || waiting.get() == 0>
                    " " {move || waiting.get()} <span class="sr-only">" waiting"</span>
                </span>
            </button>
            <ActionForm action=leave>
                <input type="hidden" name="room" value=room/>
                <button type="submit" class="tray-button leave">"Leave"</button>
            </ActionForm>
        </section>
    }
}
