//! `/<room>`: the prejoin page, the lobby, the call and every state around them. Rendered on
//! the server from the session's state, then kept live by the call client. Every button is a
//! real form, so a click made before the page has hydrated still reaches the server.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::action_error;
use crate::{
    api::call::{Cancel, Join, Leave, RequestAccess, load_room},
    call::CallClient,
    components::{admin_alert::AdminAlert, participants::ParticipantList},
    model::{AccessLevel, CallErrorDetail, CallState, Phase},
};

/// The room page.
#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let room = params.read_untracked().get("room").unwrap_or_default();
    let call = CallClient::new(&room);
    let snapshot = Resource::new(
        move || params.read().get("room").unwrap_or_default(),
        load_room,
    );

    view! {
        <Suspense fallback=|| view! { <main class="page narrow"><p>"Loading…"</p></main> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(snapshot) => {
                        call.start(snapshot);
                        view! { <Room call/> }.into_any()
                    }
                    Err(error) => view! {
                        <main class="page narrow">
                            <h1>"Something went wrong"</h1>
                            <p>{error.to_string()}</p>
                        </main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Chooses the view for the session's phase; follows the call client live.
#[component]
fn Room(call: CallClient) -> impl IntoView {
    let view_of = move || {
        let model = call.model.get();
        let Some(state) = model.state.clone() else {
            return view! { <main class="page narrow"><p>"Loading…"</p></main> }.into_any();
        };
        if let Some(error) = &model.error {
            if state.phase == Phase::Denied {
                return view! { <Denied room=state.room.clone()/> }.into_any();
            }
            return view! { <Refused detail=error.clone()/> }.into_any();
        }
        if let Some(refusal) = state.refusal.clone()
            && state.phase != Phase::InCall
        {
            return view! { <Refused detail=refusal/> }.into_any();
        }
        match state.phase {
            Phase::InCall => view! { <InCall call/> }.into_any(),
            Phase::Waiting => view! { <Waiting call state/> }.into_any(),
            Phase::Denied => view! { <Denied room=state.room.clone()/> }.into_any(),
            Phase::Ejected => view! {
                <Refused detail=CallErrorDetail {
                    kind: "ejected".into(),
                    msg: "You were removed from the call.".into(),
                }/>
            }
            .into_any(),
            Phase::Prejoin | Phase::Left => view! { <Prejoin call state/> }.into_any(),
        }
    };
    view! { <div class="room">{view_of}</div> }
}

/// Takes each successful answer of `action` into the call client.
fn follow<A>(call: CallClient, action: ServerAction<A>)
where
    A: leptos::server_fn::ServerFn<Output = CallState> + Clone + Send + Sync + 'static,
    A::Error: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(state)) = action.value().get() {
            call.model.update(|model| model.set_state(state));
        }
    });
}

/// `Ready to join?`: name, then `Join` (full access) or `Ask to join` (lobby).
#[component]
fn Prejoin(call: CallClient, state: CallState) -> impl IntoView {
    let room = state.room.clone();
    let name = state.user_name.clone().unwrap_or_default();
    if state.access.access.level == AccessLevel::None {
        return view! {
            <Title text=format!("{room} · Knock")/>
            <main class="page narrow card">
                <h1>"This room is private"</h1>
                <p>"You don't have permission to join this call."</p>
            </main>
        }
        .into_any();
    }
    let join = ServerAction::<Join>::new();
    let knock = ServerAction::<RequestAccess>::new();
    follow(call, join);
    follow(call, knock);
    let join_error = action_error(join);
    let knock_error = action_error(knock);
    let error = move || join_error().or_else(knock_error);
    let pending = move || join.pending().get() || knock.pending().get();
    let fields = move || {
        view! {
            <input type="hidden" name="room" value=room.clone()/>
            <label for="name">"Your name"</label>
            <input
                id="name"
                name="name"
                type="text"
                required
                maxlength="64"
                autocomplete="name"
                value=name.clone()
                aria-describedby="prejoin-error"
            />
        }
    };
    let form = if state.access.access.level == AccessLevel::Full {
        view! {
            <ActionForm action=join>
                {fields()}
                <button type="submit" disabled=pending>"Join"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <ActionForm action=knock>
                {fields()}
                <p class="hint">"This room is private: a host will be asked to let you in."</p>
                <button type="submit" disabled=pending>"Ask to join"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <Title text=format!("{} · Knock", state.room)/>
        <main class="page narrow card">
            <p class="room-name">{state.room.clone()}</p>
            <h1>"Ready to join?"</h1>
            {form}
            <p id="prejoin-error" class="error" role="alert">{error}</p>
        </main>
    }
    .into_any()
}

/// `Waiting to be let in`, with `Cancel request`.
#[component]
fn Waiting(call: CallClient, state: CallState) -> impl IntoView {
    let cancel = ServerAction::<Cancel>::new();
    follow(call, cancel);
    let host_present = move || {
        call.model
            .with(|model| model.state.as_ref().is_some_and(|state| state.host_present))
    };
    watch_for_host(call);
    view! {
        <Title text=format!("Waiting · {} · Knock", state.room)/>
        <main class="page narrow card" aria-live="polite">
            <p class="room-name">{state.room.clone()}</p>
            <h1>"Waiting to be let in"</h1>
            <p>"You asked to join as " <strong>{state.user_name.clone()}</strong> ". A host will let you in shortly."</p>
            <Show when=move || !host_present()>
                <p class="notice">"No host is here yet. Your request stays open until one arrives."</p>
            </Show>
            <ActionForm action=cancel>
                <input type="hidden" name="room" value=state.room.clone()/>
                <button type="submit" class="secondary">"Cancel request"</button>
            </ActionForm>
        </main>
    }
}

/// While waiting with no host, asks again every few seconds whether one has arrived (the lobby
/// gets no events about the call, by design).
fn watch_for_host(call: CallClient) {
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                let waiting_without_host = call.model.with_untracked(|model| {
                    model.phase() == Some(Phase::Waiting)
                        && model
                            .state
                            .as_ref()
                            .is_some_and(|state| !state.host_present)
                });
                if waiting_without_host {
                    leptos::task::spawn_local(async move {
                        let _ = call.pre_auth().await;
                    });
                }
            },
            std::time::Duration::from_secs(3),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = call;
}

/// In the call: the room, who is here, `Leave`, and for admins the knock alert.
#[component]
fn InCall(call: CallClient) -> impl IntoView {
    let leave = ServerAction::<Leave>::new();
    follow(call, leave);
    let state = move || call.model.with(|model| model.state.clone());
    let room = call.room();
    let admin = move || state().is_some_and(|state| state.admin);
    let waiting_count = move || call.model.with(|model| model.waiting.len());
    let title = {
        let room = room.clone();
        move || match waiting_count() {
            0 => format!("{room} · Knock"),
            count if admin() => format!("({count}) {room} · Knock"),
            _ => format!("{room} · Knock"),
        }
    };
    view! {
        <Title text=title/>
        <main class="page call">
            <header class="call-header">
                <h1>{room.clone()}</h1>
                <ActionForm action=leave>
                    <input type="hidden" name="room" value=room.clone()/>
                    <button type="submit" class="danger">"Leave"</button>
                </ActionForm>
            </header>
            <Show when=admin>
                <AdminAlert call/>
            </Show>
            <ParticipantList call/>
        </main>
    }
}

/// `Request denied`, with `Knock again`.
#[component]
fn Denied(room: String) -> impl IntoView {
    view! {
        <Title text=format!("Request denied · {room} · Knock")/>
        <main class="page narrow card" role="alert">
            <h1>"Request denied"</h1>
            <p>"The host denied your request to join this call."</p>
            // A full page load: coming back to the room is a fresh visit to its prejoin page.
            <a class="button" href=format!("/{room}") rel="external">"Knock again"</a>
        </main>
    }
}

/// Every other state: a plain sentence per reason.
#[component]
fn Refused(detail: CallErrorDetail) -> impl IntoView {
    let (heading, sentence) = match detail.kind.as_str() {
        "no-room" => ("This room does not exist", "Check the link you were given."),
        "nbf-room" => (
            "This room is not open yet",
            "Come back at the time you were given.",
        ),
        "exp-room" => ("This room is no longer available", "The meeting has ended."),
        "meeting-full" => ("This call is full", "Try again when someone has left."),
        "exp-token" => (
            "Your meeting link has expired",
            "Ask the host for a new link.",
        ),
        "nbf-token" => (
            "Your meeting link is not valid yet",
            "Come back at the time you were given.",
        ),
        "ejected" => ("You left the call", "You were removed from this call."),
        _ => (
            "This meeting link cannot be used",
            "It may have been revoked, or be for another room. Ask the host for a new link.",
        ),
    };
    view! {
        <Title text=format!("{heading} · Knock")/>
        <main class="page narrow card">
            <h1>{heading}</h1>
            <p>{sentence}</p>
            <p class="detail">{detail.msg}</p>
        </main>
    }
}
