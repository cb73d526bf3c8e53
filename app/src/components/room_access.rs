//! The `Room access` group (admins in the call): `Anyone with the link`, `Knock to join` or
//! `Locked`, applied as soon as one is chosen. The checked option follows the room live, so
//! another admin's change shows up here too.

use leptos::prelude::*;

use crate::{call::CallClient, model::RoomAccess};

/// The options, in the order shown, with a line saying what each means.
const OPTIONS: [(RoomAccess, &str, &str); 3] = [
    (
        RoomAccess::Public,
        "Anyone with the link",
        "Whoever opens the link joins at once.",
    ),
    (
        RoomAccess::Knocking,
        "Knock to join",
        "Visitors without a meeting token ask, and a host lets them in.",
    ),
    (
        RoomAccess::Locked,
        "Locked",
        "Only meeting tokens open the room; nobody can knock.",
    ),
];

/// The radio group; the server applies a choice (or refuses it, and the group goes back).
#[component]
pub fn RoomAccessChoice(call: CallClient) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let choose = move |access: RoomAccess| {
        leptos::task::spawn_local(async move {
            match call.set_room_access(access).await {
                Ok(_) => error.set(None),
                Err(refused) => {
                    error.set(Some(refused.to_string()));
                    // Back to what the room says: the checked radio is drawn from the model.
                    call.model.update(|_| {});
                }
            }
        });
    };
    let options = OPTIONS
        .into_iter()
        .map(|(access, label, hint)| {
            let id = format!("room-access-{}", access.as_str());
            let hint_id = format!("{id}-hint");
            let checked = move || call.room_access() == Some(access);
            view! {
                <div class="choice">
                    <input
                        type="radio"
                        id=id.clone()
                        name="room-access"
                        value=access.as_str()
                        checked=checked
                        prop:checked=checked
                        aria-describedby=hint_id.clone()
                        on:change=move |_| choose(access)
                    />
                    <label for=id>{label}</label>
                    <span id=hint_id class="hint">{hint}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="room-access">
            <div role="radiogroup" aria-labelledby="room-access-heading">
                <h3 id="room-access-heading">"Room access"</h3>
                {options}
            </div>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}
