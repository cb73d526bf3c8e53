//! `/`: what Knock is and how to open a first room.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::deployment::deployment_info;

/// The home page. The room-name field rewrites the example commands as you type, which only
/// works once the page is hydrated.
#[component]
pub fn HomePage() -> impl IntoView {
    let info = OnceResource::new(deployment_info());
    let (room, set_room) = signal(String::from("my-room"));

    view! {
        <Title text="Knock · a front door for your video-call rooms"/>
        <main class="page">
            <header class="hero">
                <h1>"Knock"</h1>
                <p class="lead">
                    "Knock is a self-hosted front door for video-call rooms. Rooms are public or "
                    "private; a meeting token opens a private room, and a guest without one knocks "
                    "from the prejoin page while the room's owners decide whether to let them in. "
                    "Rooms and tokens are made with a REST API shaped like Daily's."
                </p>
            </header>
            <section aria-labelledby="start">
                <h2 id="start">"Start in three steps"</h2>
                <p>
                    <label for="room-name">"Room name"</label>
                    <input
                        id="room-name"
                        name="room"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=room
                        on:input=move |ev| set_room.set(event_target_value(&ev))
                    />
                </p>
                <Suspense fallback=|| view! { <p>"Loading the server's address…"</p> }>
                    {move || Suspend::new(async move {
                        let base = info.await.map(|info| info.public_url).unwrap_or_default();
                        view! { <Steps base room/> }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

/// The three example steps for the room named in the field.
#[component]
fn Steps(base: String, room: ReadSignal<String>) -> impl IntoView {
    let create = {
        let base = base.clone();
        move || {
            format!(
                "curl -H \"Authorization: Bearer $KNOCK_API_KEY\" -H \"Content-Type: application/json\" \\\n     -XPOST {base}/v1/rooms \\\n     -d '{{\"name\": \"{}\", \"privacy\": \"private\", \"properties\": {{\"enable_knocking\": true}}}}'",
                room.get()
            )
        }
    };
    let token = {
        let base = base.clone();
        move || {
            format!(
                "curl -H \"Authorization: Bearer $KNOCK_API_KEY\" -H \"Content-Type: application/json\" \\\n     -XPOST {base}/v1/meeting-tokens \\\n     -d '{{\"properties\": {{\"is_owner\": true, \"room_name\": \"{}\"}}}}'",
                room.get()
            )
        }
    };
    let url = move || format!("{base}/{}", room.get());
    view! {
        <ol class="steps">
            <li>
                <p>"Create a private room with knocking on. The API key was printed when the server first started."</p>
                <pre data-testid="create-room"><code>{create}</code></pre>
            </li>
            <li>
                <p>"Mint an owner token for yourself."</p>
                <pre data-testid="create-token"><code>{token}</code></pre>
            </li>
            <li>
                // External to the router: a room page is loaded as a document of its own (app.rs).
                <p>
                    "Open " <a href=url.clone() rel="external" data-testid="room-link">{url.clone()}</a>
                    " with " <code>"?t=<token>"</code> " to host; share the plain link with "
                    "guests, who knock."
                </p>
            </li>
        </ol>
    }
}
