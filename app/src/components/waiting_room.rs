//! The `Waiting room`: everyone knocking, each with their note, `Allow` / `Deny`,
//! `Message <name>` and `Deny and block <name>`; for all, `Allow all` / `Deny all` and
//! `Message everyone waiting`. Every decision is a form, so it works before hydration too; a
//! message opens a small composer (focus moves into it, Escape closes it).

use leptos::prelude::*;

use crate::{
    api::call::{DecideAll, MessageLobby, UpdateWaitingParticipant},
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

/// `Deny and block <name>`: denies the knock and keeps that person from knocking again in this
/// room. Kept out of the `Decide for <name>` group, a step away from `Allow` / `Deny`.
#[component]
pub fn DenyAndBlock(call: CallClient, knock: WaitingParticipant) -> impl IntoView {
    let block = ServerAction::<UpdateWaitingParticipant>::new();
    view! {
        <ActionForm action=block>
            <input type="hidden" name="room" value=call.room()/>
            <input type="hidden" name="id" value=knock.id/>
            <input type="hidden" name="grant" value="false"/>
            <input type="hidden" name="block" value="true"/>
            <button
                type="submit"
                class="secondary small block"
                aria-label=format!("Deny and block {}", knock.name)
            >
                "Deny and block"
            </button>
        </ActionForm>
    }
}

/// Whom the open composer writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Recipient {
    /// One waiting person, by id.
    One(String),
    /// Everyone waiting.
    Everyone,
}

/// The `Waiting room` section of the people panel (admins, while someone waits).
#[component]
pub fn WaitingRoom(call: CallClient) -> impl IntoView {
    let allow_all = ServerAction::<DecideAll>::new();
    let deny_all = ServerAction::<DecideAll>::new();
    let room = call.room();
    let allow_room = room.clone();
    // One composer at a time; `sent` confirms the last message sent.
    let composing = RwSignal::new(None::<Recipient>);
    let sent = RwSignal::new(String::new());
    // Someone whose composer is open leaves the lobby: the composer goes with them.
    Effect::new(move |_| {
        let gone = composing.with(|open| match open {
            Some(Recipient::One(id)) => call
                .model
                .with(|model| !model.waiting.iter().any(|knock| &knock.id == id)),
            _ => false,
        });
        if gone {
            composing.set(None);
        }
    });
    view! {
        <section id="waiting-room" class="waiting-room" aria-labelledby="waiting-room-heading">
            <h3 id="waiting-room-heading">"Waiting room"</h3>
            <ul>
                <For
                    each=move || call.model.with(|model| model.waiting.clone())
                    key=|knock| (knock.id.clone(), knock.name.clone(), knock.note.clone())
                    children=move |knock| {
                        let recipient = Recipient::One(knock.id.clone());
                        let opener = format!("message-{}", knock.id);
                        let open = {
                            let recipient = recipient.clone();
                            move || composing.with(|open| open.as_ref() == Some(&recipient))
                        };
                        view! {
                            <li>
                                <div class="knock-who">
                                    <span class="name">{knock.name.clone()}</span>
                                    {knock.note.clone().map(|note| view! { <p class="knock-note">{note}</p> })}
                                </div>
                                <Decide call knock=knock.clone()/>
                                <div class="knock-more">
                                    <MessageButton
                                        id=opener.clone()
                                        label=format!("Message {}", knock.name)
                                        text="Message"
                                        recipient=recipient.clone()
                                        composing
                                    />
                                    <DenyAndBlock call knock=knock.clone()/>
                                </div>
                                <Show when=open.clone()>
                                    <Composer
                                        call
                                        recipient=recipient.clone()
                                        to_whom=knock.name.clone()
                                        opener=opener.clone()
                                        composing
                                        sent
                                    />
                                </Show>
                            </li>
                        }
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
            <MessageButton
                id="message-everyone".to_owned()
                label="Message everyone waiting".to_owned()
                text="Message everyone waiting"
                recipient=Recipient::Everyone
                composing
            />
            <Show when=move || composing.with(|open| open == &Some(Recipient::Everyone))>
                <Composer
                    call
                    recipient=Recipient::Everyone
                    to_whom="everyone waiting".to_owned()
                    opener="message-everyone".to_owned()
                    composing
                    sent
                />
            </Show>
            <p class="hint sent" role="status">{move || sent.get()}</p>
        </section>
    }
}

/// Opens (or closes) the composer for `recipient`.
#[component]
fn MessageButton(
    id: String,
    label: String,
    text: &'static str,
    recipient: Recipient,
    composing: RwSignal<Option<Recipient>>,
) -> impl IntoView {
    let controls = format!("{id}-composer");
    let open = {
        let recipient = recipient.clone();
        move || composing.with(|open| open.as_ref() == Some(&recipient))
    };
    let toggle = {
        let open = open.clone();
        move |_| {
            let next = if open() {
                None
            } else {
                Some(recipient.clone())
            };
            composing.set(next);
        }
    };
    // The visible text is part of the name, so speech input finds the button by what it shows.
    let label = (label != text).then_some(label);
    view! {
        <button
            type="button"
            id=id
            class="secondary small"
            aria-label=label
            aria-expanded=move || open().to_string()
            aria-controls=controls
            on:click=toggle
        >
            {text}
        </button>
    }
}

/// A textbox `Message` and `Send` for `recipient`. Focus moves into the textbox when it opens;
/// Escape closes it and gives focus back to the button that opened it (`opener`), as does
/// sending. A refusal (too long, rate-limited, they left) shows beside it.
#[component]
fn Composer(
    call: CallClient,
    recipient: Recipient,
    to_whom: String,
    opener: String,
    composing: RwSignal<Option<Recipient>>,
    sent: RwSignal<String>,
) -> impl IntoView {
    let send = ServerAction::<MessageLobby>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    let form_id = format!("{opener}-composer");
    let error_id = format!("{opener}-error");
    let close = {
        let opener = opener.clone();
        move || {
            composing.set(None);
            focus_by_id(opener.clone());
        }
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    {
        let close = close.clone();
        let to_whom = to_whom.clone();
        Effect::new(move |_| {
            if let Some(Ok(reached)) = send.value().get() {
                sent.set(match reached.len() {
                    0 => "Nobody is waiting any more.".to_owned(),
                    _ => format!("Message sent to {to_whom}."),
                });
                close();
            }
        });
    }
    let error = crate::pages::action_error(send);
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            // Escape closes only the composer, not the people panel around it.
            event.stop_propagation();
            event.prevent_default();
            close();
        }
    };
    let text_id = format!("{opener}-text");
    let described_by = error_id.clone();
    let to = match recipient {
        Recipient::One(id) => Some(id),
        Recipient::Everyone => None,
    };
    view! {
        <div class="composer" id=form_id on:keydown=on_keydown>
            <ActionForm action=send>
                <input type="hidden" name="room" value=call.room()/>
                {to.map(|to| view! { <input type="hidden" name="to" value=to/> })}
                <label for=text_id.clone()>"Message"</label>
                <div class="composer-row">
                    <input
                        id=text_id.clone()
                        node_ref=input
                        type="text"
                        name="text"
                        required
                        maxlength="500"
                        autocomplete="off"
                        aria-describedby=described_by.clone()
                    />
                    <button type="submit" class="small" disabled=move || send.pending().get()>
                        "Send"
                    </button>
                </div>
            </ActionForm>
            <p id=error_id class="error" role="alert">{error}</p>
        </div>
    }
}

/// Moves keyboard focus to the element with this id once the page has drawn it.
fn focus_by_id(id: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(element) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(&id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
