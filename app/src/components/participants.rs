//! The `Participants` list of the call, owners marked.

use leptos::prelude::*;

use crate::call::CallClient;

/// Everyone in the call, you first.
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
                    children=|participant| view! {
                        <li>
                            <span class="name">{participant.user_name}</span>
                            {participant.owner.then(|| view! { <span class="badge">"Owner"</span> })}
                        </li>
                    }
                />
            </ul>
        </section>
    }
}
