//! The `Waiting room`: everyone knocking, with `Allow` / `Deny` per person and `Allow all` /
//! `Deny all`. Every button is a form, so a decision works before hydration too.

use leptos::prelude::*;

use crate::{
    api::call::{DecideAll, UpdateWaitingParticipant},
    call::CallClient,
    model::WaitingParticipant,
};

/// `Allow` / `Deny` for one knock, as a group named `Decide for <name>`.
#[component]
pub fn Decide(call: CallClient, knock: WaitingParticipant) -> impl IntoView {
    let allow = ServerAction::<UpdateWaitingParticipant>::new();
    let deny = ServerAction::<UpdateWaitingParticipant>::new();
    let room = call.room();
    let allow_room = room.clone();
    let allow_id = knock.id.clone();
    let label = knock.name.clone();
    view! {
        <div class="decide" role="group" aria-label=format!("Decide for {label}")>
            <ActionForm action=allow>
                <input type="hidden" name="room" value=allow_room/>
                <input type="hidden" name="id" value=allow_id/>
                <input type="hidden" name="grant" value="true"/>
                <button type="submit">"Allow"</button>
            </ActionForm>
            <ActionForm action=deny>
                <input type="hidden" name="room" value=room/>
                <input type="hidden" name="id" value=knock.id/>
                <input type="hidden" name="grant" value="false"/>
                <button type="submit" class="secondary">"Deny"</button>
            </ActionForm>
        </div>
    }
}

/// The `Waiting room` section of the people panel (admins, while someone waits).
#[component]
pub fn WaitingRoom(call: CallClient) -> impl IntoView {
    let allow_all = ServerAction::<DecideAll>::new();
    let deny_all = ServerAction::<DecideAll>::new();
    let room = call.room();
    let allow_room = room.clone();
    view! {
        <section id="waiting-room" class="waiting-room" aria-labelledby="waiting-room-heading">
            <h3 id="waiting-room-heading">"Waiting room"</h3>
            <ul>
                <For
                    each=move || call.model.with(|model| model.waiting.clone())
                    key=|knock| knock.id.clone()
                    children=move |knock| view! {
                        <li>
                            <span class="name">{knock.name.clone()}</span>
                            <Decide call knock/>
                        </li>
                    }
                />
            </ul>
            <div class="decide all">
                <ActionForm action=allow_all>
                    <input type="hidden" name="room" value=allow_room/>
                    <input type="hidden" name="grant" value="true"/>
                    <button type="submit">"Allow all"</button>
                </ActionForm>
                <ActionForm action=deny_all>
                    <input type="hidden" name="room" value=room/>
                    <input type="hidden" name="grant" value="false"/>
                    <button type="submit" class="secondary">"Deny all"</button>
                </ActionForm>
            </div>
        </section>
    }
}
