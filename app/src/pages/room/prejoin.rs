//! `Ready to join?`: the prejoin page, the first screen of a guest at the door, and the only
//! one the page's main wasm hydrates by itself.
//!
//! A page that opens on it ([`DoorRoom`]) runs without the call client: its forms post as
//! they would without any script and keep the answer as the JSON it came in, which they hand to
//! the call client in its own wasm chunk (`room_client`) once the visitor is let in or put in
//! the lobby. The camera preview stays in the main wasm: in a chunk of its own it made the
//! button 0.07 s faster on the bench's slow phone, and the preview 3 s later (the chunk and the
//! 26 shared ones it needs are so many requests). Once the call client runs, it shows this same
//! page itself when the visitor comes back to it (after leaving, or being removed).

use leptos::prelude::*;
use serde::Serialize;

use super::{RoomStart, room_now};
use crate::{
    api::call::{Join, RequestAccess},
    components::{media::CameraPreview, title::PageTitle},
    json::{FromJson, Json},
    media::LocalMedia,
    model::AccessLevel,
    pages::form::{PageAction, PageForm},
};

/// What the prejoin page shows: the room, what the visitor may do there, and the name they
/// come with (their token's `user_name`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct Door {
    pub room: String,
    pub level: AccessLevel,
    pub name: Option<String>,
}

impl FromJson for Door {
    fn from_json<J: Json>(json: &J) -> Option<Self> {
        Some(Self {
            room: json.member("room")?.string()?,
            level: AccessLevel::from_json(&json.member("level")?)?,
            name: Option::from_json(&json.member("name")?)?,
        })
    }
}

/// A room page that opened on the prejoin page: that page, until an answer takes the visitor
/// on; from then on the call client's screens ([`room_now`]), started from the page's
/// `snapshot` and that answer.
#[component]
pub(super) fn DoorRoom(door: Door, snapshot: String, media: LocalMedia) -> impl IntoView {
    let answer = RwSignal::new(None::<String>);
    let snapshot = StoredValue::new(snapshot);
    let answered = Callback::new(move |json: String| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            super::preload_room().await;
            answer.set(Some(json));
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = json;
    });
    // The chunks of the call client, its event stream and the call view are fetched as the
    // visitor starts on the form (a pointer over the page, a focus, a tap), not at load: the
    // first load's network is the page's own, and a visitor who only looks fetches none. The
    // stream itself opens once the visitor knocks or joins (nothing is sent to them before).
    let intent = Callback::new(move |()| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async {
            super::preload_room().await;
            crate::call::preload_stream().await;
            super::preload_call().await;
        });
    });
    move || match answer.get() {
        None => view! { <Prejoin door=door.clone() media answered intent/> }.into_any(),
        Some(json) => room_now(RoomStart {
            snapshot: snapshot.get_value(),
            answer: Some(json),
            media,
        }),
    }
}

/// `Ready to join?`: your camera, name, then `Join` (full access) or `Ask to join` (lobby). A
/// successful answer goes to `answered` as JSON; the visitor's first move on the form to
/// `intent`, once.
#[component]
pub(super) fn Prejoin(
    door: Door,
    media: LocalMedia,
    answered: Callback<String>,
    intent: Callback<()>,
) -> impl IntoView {
    let Door { room, level, name } = door;
    if level == AccessLevel::None {
        return view! {
            <PageTitle text=format!("{room} · Knock")/>
            <main class="page narrow card">
                <h1>"This room is private"</h1>
                <p>"You don't have permission to join this call."</p>
            </main>
        }
        .into_any();
    }
    // The camera and microphone start once the page runs in the browser.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| media.start());
    let intended = StoredValue::new(false);
    let on_intent = move || {
        if !intended.get_value() {
            intended.set_value(true);
            intent.run(());
        }
    };
    let join = PageAction::json::<Join>();
    let knock = PageAction::json::<RequestAccess>();
    // Set once an answer took the visitor on: the form stays disabled while the page follows.
    let leaving = RwSignal::new(false);
    for action in [join, knock] {
        Effect::new(move |_| {
            if let Some(Ok(json)) = action.value() {
                leaving.set(true);
                answered.run(json);
            }
        });
    }
    let error = move || join.error().or_else(|| knock.error());
    let pending = move || join.pending() || knock.pending() || leaving.get();
    let name = name.unwrap_or_default();
    let preview_name = Signal::derive({
        let name = name.clone();
        move || name.clone()
    });
    let fields = {
        let room = room.clone();
        move || {
            view! {
                <input type="hidden" name="room" value=room.clone()/>
                <NameField value=name.clone() described_by="prejoin-error"/>
            }
        }
    };
    let form = if level == AccessLevel::Full {
        view! {
            <PageForm action=join>
                {fields()}
                <button type="submit" disabled=pending>"Join"</button>
            </PageForm>
        }
        .into_any()
    } else {
        view! {
            <PageForm action=knock>
                {fields()}
                <label for="note">"Note for the host"</label>
                <input
                    id="note"
                    name="note"
                    type="text"
                    maxlength="200"
                    autocomplete="off"
                    aria-describedby="note-hint prejoin-error"
                />
                <p id="note-hint" class="hint">"Optional: who you are or why you are joining (at most 200 characters)."</p>
                <p class="hint">"This room is private: a host will be asked to let you in."</p>
                <button type="submit" disabled=pending>"Ask to join"</button>
            </PageForm>
        }
        .into_any()
    };
    view! {
        <PageTitle text=format!("{room} · Knock")/>
        <main
            class="page narrow card"
            on:pointerover=move |_| on_intent()
            on:pointerdown=move |_| on_intent()
            on:focusin=move |_| on_intent()
        >
            <p class="room-name">{room.clone()}</p>
            <h1>"Ready to join?"</h1>
            <CameraPreview media name=preview_name/>
            {form}
            <p id="prejoin-error" class="error" role="alert">{error}</p>
        </main>
    }
    .into_any()
}

/// `Your name` and its input, the one name field of the room page's forms (the prejoin page and
/// the direct entry): the server takes at most 64 characters.
#[component]
pub(super) fn NameField(
    /// The name filled in.
    value: String,
    /// The id of the element that shows the form's error.
    described_by: &'static str,
) -> impl IntoView {
    view! {
        <label for="name">"Your name"</label>
        <input
            id="name"
            name="name"
            type="text"
            required
            maxlength="64"
            autocomplete="name"
            value=value
            aria-describedby=described_by
        />
    }
}
