//! The `Participants` list of the call, owners marked; for admins, per other participant,
//! `Remove <name>` (confirmed first, optionally with a ban) and `Send <name> to the lobby`.

use leptos::{html, prelude::*};

use crate::{
    api::call::{RemoveParticipant, SendToLobby},
    call::CallClient,
    model::Participant,
    pages::action_error,
};

/// Everyone in the call, you first; admins get the moderation buttons beside the others.
#[component]
pub fn ParticipantList(call: CallClient) -> impl IntoView {
    let me = move || {
        call.model.with(|model| {
            model
                .state
                .as_ref()
                .map(|state| (state.user_name.clone().unwrap_or_default(), state.owner))
        })
    };
    let admin = Memo::new(move |_| {
        call.model
            .with(|model| model.state.as_ref().is_some_and(|state| state.admin))
    });
    let others = move || call.model.with(|model| model.participants.clone());
    view! {
        <section class="participants" aria-labelledby="participants-heading">
            <h3 id="participants-heading">"Participants"</h3>
            <ul aria-labelledby="participants-heading">
                {move || me().map(|(name, owner)| view! {
                    <li>
                        <span class="name">{name}</span>
                        " (you)"
                        {owner.then(|| view! { <span class="badge">"Owner"</span> })}
                    </li>
                })}
                <For
                    each=others
                    key=|participant| participant.session_id.clone()
                    children=move |participant| {
                        let moderated = participant.clone();
                        view! {
                            <li>
                                <span class="name">{participant.user_name}</span>
                                {participant.owner.then(|| view! { <span class="badge">"Owner"</span> })}
                                {move || admin.get().then(|| view! {
                                    <Moderate call participant=moderated.clone()/>
                                })}
                            </li>
                        }
                    }
                />
            </ul>
        </section>
    }
}

/// An admin's buttons for one other participant. `Remove <name>` opens a small confirmation
/// (with `Also ban from this room`; Escape or `Cancel` closes it); `Send <name> to the lobby`
/// acts at once: they wait again like a knocker, and any admin may let them back in.
#[component]
fn Moderate(call: CallClient, participant: Participant) -> impl IntoView {
    let room = call.room();
    let Participant {
        session_id: id,
        user_name: name,
        ..
    } = participant;
    let remove = ServerAction::<RemoveParticipant>::new();
    let send = ServerAction::<SendToLobby>::new();
    let remove_error = action_error(remove);
    let send_error = action_error(send);
    let error = move || remove_error().or_else(send_error);
    let confirming = RwSignal::new(false);
    let opener = NodeRef::<html::Button>::new();
    let first = NodeRef::<html::Input>::new();
    let confirm_id = format!("remove-{id}");
    // Focus goes into the confirmation when it opens, and back to `Remove <name>` when it
    // closes without removing anyone.
    let open = move |_| {
        confirming.set(true);
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            if let Some(checkbox) = first.get_untracked() {
                let _ = checkbox.focus();
            }
        });
    };
    let close = move || {
        confirming.set(false);
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            if let Some(button) = opener.get_untracked() {
                let _ = button.focus();
            }
        });
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            // Escape closes the confirmation only, not the people panel around it.
            event.stop_propagation();
            close();
        }
    };
    let send_form = {
        let (room, id, name) = (room.clone(), id.clone(), name.clone());
        view! {
            <ActionForm action=send>
                <input type="hidden" name="room" value=room/>
                <input type="hidden" name="id" value=id/>
                <button
                    type="submit"
                    class="small secondary"
                    aria-label=format!("Send {name} to the lobby")
                >
                    "Send to the lobby"
                </button>
            </ActionForm>
        }
    };
    let remove_form = {
        let id = id.clone();
        view! {
            <ActionForm action=remove>
                <input type="hidden" name="room" value=room/>
                <input type="hidden" name="id" value=id/>
                <label class="check">
                    <input type="checkbox" name="ban" value="true" node_ref=first/>
                    "Also ban from this room"
                </label>
                <div class="decide">
                    <button type="submit" class="small danger">"Remove"</button>
                    <button type="button" class="small secondary" on:click=move |_| close()>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        }
    };
    view! {
        <div class="moderate">
            <button
                type="button"
                class="small secondary"
                node_ref=opener
                aria-expanded=move || confirming.get().to_string()
                aria-controls=confirm_id.clone()
                aria-label=format!("Remove {name}")
                on:click=open
            >
                "Remove"
            </button>
            {send_form}
            <div
                id=confirm_id
                class="confirm-remove"
                role="group"
                aria-label=format!("Remove {name} from the call?")
                hidden=move || !confirming.get()
                on:keydown=on_key
            >
                // One text node: the name alone appears once in the list, as the participant's.
                <p>{format!("Remove {name} from the call?")}</p>
                {remove_form}
            </div>
            <p class="error" role="alert">{error}</p>
        </div>
    }
}
