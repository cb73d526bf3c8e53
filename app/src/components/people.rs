//! The people panel: `Participants` and, for admins, the `Room access` group and (while someone
//! knocks) the `Waiting room`.
//! A side panel beside the video on wide screens, a sheet over it on phones; opened from the
//! tray's `People` or the alert's `View all`, closed with its close button or Escape.

use leptos::prelude::*;

use super::{
    focus, participants::ParticipantList, room_access::RoomAccessChoice, waiting_room::WaitingRoom,
};
use crate::call::CallClient;

/// The panel: shown while `open` (`state`, the tray's and the alert's, gated by the room's
/// `enable_people_ui`); its close button and Escape set `state` to false.
#[component]
pub fn PeoplePanel(
    call: CallClient,
    open: Signal<bool>,
    state: RwSignal<bool>,
    admin: Signal<bool>,
) -> impl IntoView {
    let someone_waits = move || admin.get() && call.model.with(|model| !model.waiting.is_empty());
    let close = move || {
        state.set(false);
        focus("people-button");
    };
    // Focus moves into the panel when it opens, so a screen reader and Tab start there.
    Effect::new(move |was_open: Option<bool>| {
        let now = open.get();
        if now && was_open == Some(false) {
            focus("people-panel");
        }
        now
    });
    // Escape closes the panel wherever focus is on the page.
    let escape = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "Escape" && open.get_untracked() {
            close();
        }
    });
    on_cleanup(move || escape.remove());

    view! {
        <section
            id="people-panel"
            class="people-panel"
            aria-labelledby="people-heading"
            tabindex="-1"
            hidden=move || !open.get()
        >
            <header class="panel-head">
                <h2 id="people-heading">"People"</h2>
                <button
                    type="button"
                    class="close"
                    aria-label="Close people panel"
                    on:click=move |_| close()
                >
                    "×"
                </button>
            </header>
            <div hidden=move || !someone_waits()>
                <WaitingRoom call/>
            </div>
            <ParticipantList call/>
            {move || admin.get().then(|| view! { <RoomAccessChoice call/> })}
        </section>
    }
}
