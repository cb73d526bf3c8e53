//! The knock alert for admins: `<name> would like to join the call` with `Allow` / `Deny`, or
//! `<N> people would like to join the call` with `View all` opening the people panel at its
//! `Waiting room`. An overlay: it never moves the call's layout. Announced to screen readers,
//! and focus moves to it when it appears, so a keyboard reaches `Allow` with one Tab. A knock
//! note shows under the name. While the admin's tab is hidden, a knock also raises a system
//! notification, once the admin has allowed them from `Enable notifications`.

use leptos::prelude::*;

use super::{focus, waiting_room::Decide};
use crate::call::CallClient;

/// What the alert shows; a change of shape rebuilds it (and moves focus to it again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Nobody,
    One,
    Many,
}

/// The alert, shown to admins in the call while someone is waiting. `people_open` is the
/// people panel's state: `View all` opens it.
#[component]
pub fn AdminAlert(call: CallClient, people_open: RwSignal<bool>) -> impl IntoView {
    let waiting = move || call.model.with(|model| model.waiting.clone());
    let shape = Memo::new(move |_| {
        call.model.with(|model| match model.waiting.len() {
            0 => Shape::Nobody,
            1 => Shape::One,
            _ => Shape::Many,
        })
    });
    chime_on_knock(call);
    notify_when_hidden(call);
    // Focus follows the alert when it appears, or when it is rebuilt with another shape while
    // focus was inside it (a rebuilt alert would otherwise leave focus on the page itself).
    // When the last knock is decided from the alert, focus goes to the tray's `People`, which
    // shows the waiting count, rather than to nowhere.
    Effect::new(move |previous: Option<Shape>| {
        let now = shape.get();
        let lost = super::focus_is_lost();
        if now != Shape::Nobody && (previous == Some(Shape::Nobody) || lost) {
            focus("admin-alert");
        } else if now == Shape::Nobody
            && previous.is_some_and(|shape| shape != Shape::Nobody)
            && lost
        {
            focus("people-button");
        }
        now
    });
    // The panel moves focus into itself when it opens.
    let view_all = move |_| people_open.set(true);

    view! {
        <div class="admin-alert-region" role="alert" aria-live="assertive">
            {move || {
                let waiting = waiting();
                match shape.get() {
                    Shape::Nobody => ().into_any(),
                    Shape::One => {
                        let Some(knock) = waiting.first().cloned() else {
                            return ().into_any();
                        };
                        view! {
                            <section id="admin-alert" class="admin-alert" aria-label="Knock" tabindex="-1">
                                <div class="alert-who">
                                    <p class="alert-text">
                                        <span class="name">{knock.name.clone()}</span>
                                        " would like to join the call"
                                    </p>
                                    {knock.note.clone().map(|note| view! { <p class="knock-note">{note}</p> })}
                                </div>
                                <Decide call knock/>
                            </section>
                        }
                        .into_any()
                    }
                    Shape::Many => view! {
                        <section id="admin-alert" class="admin-alert" aria-label="Knocks" tabindex="-1">
                            <p class="alert-text">
                                {format!("{} people would like to join the call", waiting.len())}
                            </p>
                            <button
                                type="button"
                                class="secondary"
                                aria-expanded=move || people_open.get().to_string()
                                aria-controls="people-panel"
                                on:click=view_all
                            >
                                "View all"
                            </button>
                        </section>
                    }
                    .into_any(),
                }
            }}
        </div>
        <NotificationsOffer/>
    }
}

/// `Enable notifications`: offered to admins whose browser has the Notification API and has
/// not yet been asked (the permission is asked for only from this click, never on load). Not
/// offered when the browser has no such API, or the permission was already granted (knocks
/// will notify) or refused (only the browser's settings can change that, so asking again does
/// nothing). `Not now` puts it away for this visit.
#[component]
fn NotificationsOffer() -> impl IntoView {
    // Only the browser knows: rendered hidden on the server and shown once hydrated.
    let offered = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| offered.set(crate::notify::can_ask()));
    let put_away = move || {
        offered.set(false);
        // The offer leaves the page: focus goes to the tray's `People` rather than nowhere.
        focus("people-button");
    };
    let enable = move |_| {
        put_away();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(crate::notify::request_permission());
    };
    view! {
        <section
            class="notify-offer"
            aria-labelledby="notify-offer-text"
            hidden=move || !offered.get()
        >
            <p id="notify-offer-text">"Get a notification when someone knocks while this tab is in the background."</p>
            <div class="notify-actions">
                <button type="button" class="small" on:click=enable>"Enable notifications"</button>
                <button type="button" class="secondary small" on:click=move |_| put_away()>"Not now"</button>
            </div>
        </section>
    }
}

/// While the tab is hidden, a new knock raises a system notification (when allowed); clicking
/// it brings the tab back, where the alert waits. One notification per room at a time: a newer
/// knock replaces the older one's.
fn notify_when_hidden(call: CallClient) {
    let ids = Memo::new(move |_| {
        call.model.with(|model| {
            model
                .waiting
                .iter()
                .map(|knock| knock.id.clone())
                .collect::<Vec<_>>()
        })
    });
    Effect::new(move |previous: Option<Vec<String>>| {
        let now = ids.get();
        if let Some(previous) = previous {
            let newest = call.model.with_untracked(|model| {
                model
                    .waiting
                    .iter()
                    .rev()
                    .find(|knock| !previous.contains(&knock.id))
                    .cloned()
                    .map(|knock| (knock, model.waiting.len()))
            });
            if let Some((knock, count)) = newest {
                let title = match count {
                    1 => format!("{} would like to join the call", knock.name),
                    count => format!("{count} people would like to join the call"),
                };
                let body = match (&knock.note, count) {
                    (Some(note), 1) => note.clone(),
                    (Some(note), _) => format!("{}: {note}", knock.name),
                    (None, 1) => format!("Knock · {}", call.room()),
                    (None, _) => format!("{} knocked · {}", knock.name, call.room()),
                };
                notify(&title, &body, &format!("knock-{}", call.room()));
            }
        }
        now
    });
}

#[cfg(feature = "hydrate")]
fn notify(title: &str, body: &str, tag: &str) {
    if crate::notify::tab_hidden() {
        crate::notify::show(title, body, tag);
    }
}

#[cfg(not(feature = "hydrate"))]
fn notify(_title: &str, _body: &str, _tag: &str) {}

/// Who decided on the last knock ("Ana allowed Ben"), for the other admins; a polite live
/// region in the call's top bar, where it stays out of the way.
#[component]
pub fn LastDecision(call: CallClient) -> impl IntoView {
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
    view! { <p class="decision" aria-live="polite">{decision}</p> }
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
