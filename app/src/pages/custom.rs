//! `/custom/<room>`: a deliberately plain page built only on [`CallClient`], the way a custom UI
//! would be. It joins or knocks, and lets admins admit and deny. (Needs JavaScript.)

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_params_map;

use crate::{call::CallClient, model::AccessLevel};

/// The custom-UI example.
#[component]
pub fn CustomPage() -> impl IntoView {
    let room = use_params_map()
        .read_untracked()
        .get("room")
        .unwrap_or_default();
    let call = CallClient::new(&room);
    let (name, set_name) = signal(String::new());
    let (problem, set_problem) = signal(None::<String>);
    let run = move |operation: &'static str| {
        spawn_local(async move {
            let result = match operation {
                "join" => call.join(&name.get_untracked()).await.map(|_| ()),
                "knock" => call.request_access(&name.get_untracked()).await.map(|_| ()),
                "leave" => call.leave().await.map(|_| ()),
                _ => call.pre_auth().await.map(|_| ()),
            };
            set_problem.set(result.err().map(|error| error.to_string()));
        });
    };
    let decide = move |id: String, grant: bool| {
        spawn_local(async move {
            let result = call.update_waiting_participant(&id, grant).await;
            set_problem.set(result.err().map(|error| error.to_string()));
        });
    };
    Effect::new(move |_| run("pre_auth"));
    let status = move || {
        call.model.with(|model| match (&model.state, &model.error) {
            (_, Some(error)) => error.msg.clone(),
            (Some(state), None) => {
                format!("{:?}, access {:?}", state.phase, state.access.access.level)
            }
            (None, None) => "connecting…".into(),
        })
    };
    let full = move || {
        call.model.with(|m| {
            m.state
                .as_ref()
                .is_some_and(|s| s.access.access.level == AccessLevel::Full)
        })
    };

    view! {
        <main class="page">
            <h1>"Custom UI: " {room}</h1>
            <p>"Status: " <output data-testid="status">{status}</output></p>
            <p role="alert">{move || problem.get()}</p>
            <label for="custom-name">"Name"</label>
            <input id="custom-name" on:input=move |ev| set_name.set(event_target_value(&ev))/>
            <button on:click=move |_| run(if full() { "join" } else { "knock" })>"Enter"</button>
            <button on:click=move |_| run("leave")>"Leave"</button>
            <h2>"Knocking"</h2>
            <ul>
                <For
                    each=move || call.model.with(|m| m.waiting.clone())
                    key=|knock| knock.id.clone()
                    children=move |knock| {
                        let (admit, deny) = (knock.id.clone(), knock.id.clone());
                        view! {
                            <li>
                                {knock.name} " "
                                <button on:click=move |_| decide(admit.clone(), true)>"Admit"</button>
                                <button on:click=move |_| decide(deny.clone(), false)>"Turn away"</button>
                            </li>
                        }
                    }
                />
            </ul>
            <h2>"In the call"</h2>
            <ul>
                <For
                    each=move || call.model.with(|m| m.participants.clone())
                    key=|person| person.session_id.clone()
                    children=|person| view! { <li>{person.user_name}</li> }
                />
            </ul>
        </main>
    }
}
