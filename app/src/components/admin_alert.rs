//! The knock alert for admins: `<name> would like to join the call` with `Allow` / `Deny`, or
//! `<N> people would like to join the call` with `View all` opening the `Waiting room`. Announced
//! to screen readers; every button is a form, so it works before hydration too.

use leptos::prelude::*;

use crate::{
    api::call::{DecideAll, UpdateWaitingParticipant},
    call::CallClient,
    model::WaitingParticipant,
};

/// The alert, shown to admins in the call while someone is waiting.
#[component]
pub fn AdminAlert(call: CallClient) -> impl IntoView {
    let waiting = move || call.model.with(|model| model.waiting.clone());
    let (panel_open, set_panel_open) = signal(false);
    let decision = move || {
        call.model.with(|model| {
            model.last_decision.as_ref().map(|(knock, resolution)| {
                let by = resolution.by.clone().unwrap_or_else(|| "A host".into());
                let verb = if resolution.granted {
                    "allowed"
                } else {
                    "denied"
                };
                format!("{by} {verb} {}", knock.name)
            })
        })
    };
    chime_on_knock(call);

    view! {
        <div class="admin-alert-region" role="alert" aria-live="assertive">
            {move || {
                let waiting = waiting();
                match waiting.len() {
                    0 => ().into_any(),
                    1 => {
                        let knock = waiting[0].clone();
                        view! {
                            <section class="admin-alert" aria-label="Knock">
                                <p class="alert-text">
                                    <span class="name">{knock.name.clone()}</span>
                                    " would like to join the call"
                                </p>
                                <Decide call knock/>
                            </section>
                        }
                        .into_any()
                    }
                    count => view! {
                        <section class="admin-alert" aria-label="Knocks">
                            <p class="alert-text">{format!("{count} people would like to join the call")}</p>
                            <button
                                type="button"
                                class="secondary"
                                aria-expanded=move || panel_open.get().to_string()
                                aria-controls="waiting-room"
                                on:click=move |_| set_panel_open.update(|open| *open = !*open)
                            >
                                "View all"
                            </button>
                        </section>
                    }
                    .into_any(),
                }
            }}
        </div>
        <Show when=move || panel_open.get() && !waiting().is_empty()>
            <WaitingRoom call/>
        </Show>
        <p class="decision" aria-live="polite">{decision}</p>
    }
}

/// `Allow` / `Deny` for one knock.
#[component]
fn Decide(call: CallClient, knock: WaitingParticipant) -> impl IntoView {
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

/// The `Waiting room` panel: everyone waiting, with `Allow all` / `Deny all`.
#[component]
fn WaitingRoom(call: CallClient) -> impl IntoView {
    let allow_all = ServerAction::<DecideAll>::new();
    let deny_all = ServerAction::<DecideAll>::new();
    let room = call.room();
    let allow_room = room.clone();
    view! {
        <section id="waiting-room" class="waiting-room" aria-labelledby="waiting-room-heading">
            <h2 id="waiting-room-heading">"Waiting room"</h2>
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
            <div class="decide">
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

/// Plays a short chime when the lobby grows.
fn chime_on_knock(call: CallClient) {
    let count = Memo::new(move |_| call.model.with(|model| model.waiting.len()));
    Effect::new(move |previous: Option<usize>| {
        let now = count.get();
        if previous.is_some_and(|before| now > before) {
            chime();
        }
        now
    });
}

#[cfg(feature = "hydrate")]
fn chime() {
    let Ok(context) = web_sys::AudioContext::new() else {
        return;
    };
    let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else {
        return;
    };
    oscillator.frequency().set_value(880.0);
    let now = context.current_time();
    let _ = gain.gain().set_value_at_time(0.2, now);
    let _ = gain
        .gain()
        .exponential_ramp_to_value_at_time(0.001, now + 0.3);
    let _ = oscillator.connect_with_audio_node(&gain);
    let _ = gain.connect_with_audio_node(&context.destination());
    let _ = oscillator.start();
    let _ = oscillator.stop_with_when(now + 0.3);
}

#[cfg(not(feature = "hydrate"))]
fn chime() {}
