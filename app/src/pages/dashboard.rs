//! `/dashboard`: sign in with the API key, then rooms (with live counts), meeting tokens, and
//! webhooks with their state and last deliveries. Every form is a real form, so the page works
//! before hydration; once hydrated, the counts and the webhooks refresh by themselves.

use leptos::prelude::*;
use leptos_meta::Title;

use super::action_error;
use crate::{
    api::{
        dashboard::{
            DashboardCreateToken, DashboardDeleteRoom, DashboardRevokeToken, DashboardSaveRoom,
            DashboardSignIn, DashboardSignOut, dashboard_rooms,
        },
        webhooks::{DashboardReactivateWebhook, dashboard_webhooks},
    },
    model::{DashboardRoom, DashboardWebhook, Privacy, WebhookDelivery},
};

/// The dashboard page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let sign_in = ServerAction::<DashboardSignIn>::new();
    let sign_out = ServerAction::<DashboardSignOut>::new();
    // Reloaded only when signing in or out; the table then follows `rows`, which is refreshed
    // in place (so open forms and minted links stay where they are).
    let first = Resource::new(
        move || (sign_in.version().get(), sign_out.version().get()),
        |_| dashboard_rooms(),
    );
    let rows = RwSignal::new(Vec::<DashboardRoom>::new());

    view! {
        <Title text="Dashboard · Knock"/>
        <main class="page dashboard">
            <h1>"Dashboard"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(None) => view! { <SignIn action=sign_in/> }.into_any(),
                        Ok(Some(rooms)) => {
                            rows.set(rooms);
                            view! {
                                <div class="sign-out">
                                    <ActionForm action=sign_out>
                                        <button type="submit" class="secondary small">"Sign out"</button>
                                    </ActionForm>
                                </div>
                                <Rooms rows/>
                                <Webhooks/>
                            }
                            .into_any()
                        }
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }
                            .into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

/// Keeps `list` fresh once hydrated: reloads it with `load` after every action (whenever
/// `versions` changes) and every few seconds. `load` answers `None` when there is nothing to
/// show instead (an error, or signed out), and `list` then stays as it is.
fn keep_fresh<T, F>(
    list: RwSignal<Vec<T>>,
    load: impl Fn() -> F + Copy + 'static,
    versions: impl Fn() -> usize + 'static,
) where
    T: Send + Sync + 'static,
    F: std::future::Future<Output = Option<Vec<T>>> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        let reload = move || {
            leptos::task::spawn_local(async move {
                if let Some(fresh) = load().await {
                    list.set(fresh);
                }
            });
        };
        Effect::new(move |previous: Option<usize>| {
            let now = versions();
            if previous.is_some() {
                reload();
            }
            now
        });
        if let Ok(handle) = set_interval_with_handle(reload, std::time::Duration::from_secs(3)) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (list, load, versions);
}

/// The create form and the rooms table.
#[component]
fn Rooms(rows: RwSignal<Vec<DashboardRoom>>) -> impl IntoView {
    let save = ServerAction::<DashboardSaveRoom>::new();
    let delete = ServerAction::<DashboardDeleteRoom>::new();
    let create_token = ServerAction::<DashboardCreateToken>::new();
    let revoke = ServerAction::<DashboardRevokeToken>::new();
    keep_fresh(
        rows,
        || async { dashboard_rooms().await.ok().flatten() },
        move || save.version().get() + delete.version().get() + revoke.version().get(),
    );
    view! {
        <div class="dashboard-grid">
            <RoomForm action=save/>
            <div class="rooms-column">
                <RoomTable rows delete save create_token revoke/>
            </div>
        </div>
    }
}

#[component]
fn SignIn(action: ServerAction<DashboardSignIn>) -> impl IntoView {
    let error = action_error(action);
    view! {
        <section class="card narrow">
            <h2>"Sign in"</h2>
            <ActionForm action>
                <label for="api-key">"API key"</label>
                <input id="api-key" name="api_key" type="password" required autocomplete="current-password"
                    aria-describedby="sign-in-error"/>
                <button type="submit">"Sign in"</button>
            </ActionForm>
            <p id="sign-in-error" class="error" role="alert">{error}</p>
        </section>
    }
}

/// Which field an error from the rooms service is about.
fn field_of(message: &str) -> &'static str {
    if message.starts_with("name") || message.starts_with("a room named") {
        "name"
    } else if message.starts_with("properties.exp") || message.starts_with("properties.nbf") {
        "expires"
    } else if message.starts_with("properties.max_participants") {
        "max"
    } else {
        "form"
    }
}

#[component]
fn RoomForm(action: ServerAction<DashboardSaveRoom>) -> impl IntoView {
    let error = action_error(action);
    let at =
        move |field: &'static str| move || error().filter(|message| field_of(message) == field);
    view! {
        <section class="card">
            <h2>"Create a room"</h2>
            <ActionForm action>
                <input type="hidden" name="existing" value=""/>
                <label for="room-name">"Name"</label>
                <input id="room-name" name="name" type="text" placeholder="random when empty"
                    aria-describedby="room-name-error"/>
                <p id="room-name-error" class="error" role="alert">{at("name")}</p>
                <label for="room-privacy">"Privacy"</label>
                <select id="room-privacy" name="privacy">
                    <option value="public">"public"</option>
                    <option value="private">"private"</option>
                </select>
                <label class="check"><input type="checkbox" name="knocking" value="on"/>" Knocking"</label>
                <label for="room-expires">"Expires (UTC, optional)"</label>
                <input id="room-expires" name="expires" type="datetime-local" aria-describedby="room-expires-error"/>
                <p id="room-expires-error" class="error" role="alert">{at("expires")}</p>
                <label for="room-max">"Maximum participants (optional)"</label>
                <input id="room-max" name="max_participants" type="number" min="1" max="200"
                    aria-describedby="room-max-error"/>
                <p id="room-max-error" class="error" role="alert">{at("max")}</p>
                <button type="submit">"Create room"</button>
                <p class="error" role="alert">{at("form")}</p>
            </ActionForm>
        </section>
    }
}

#[component]
fn RoomTable(
    rows: RwSignal<Vec<DashboardRoom>>,
    delete: ServerAction<DashboardDeleteRoom>,
    save: ServerAction<DashboardSaveRoom>,
    create_token: ServerAction<DashboardCreateToken>,
    revoke: ServerAction<DashboardRevokeToken>,
) -> impl IntoView {
    view! {
        <Show when=move || rows.with(|rows| rows.is_empty())>
            <p>"No rooms yet."</p>
        </Show>
        <table class="rooms" class:hidden=move || rows.with(|rows| rows.is_empty())>
            <caption>"Rooms"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Privacy"</th>
                    <th scope="col">"Knocking"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"In call"</th>
                    <th scope="col">"Waiting"</th>
                    <th scope="col">"Actions"</th>
                </tr>
            </thead>
            <tbody>
                // Keyed by what a row shows, so a refresh only touches rows that changed.
                <For
                    each=move || rows.get()
                    key=|row| {
                        format!(
                            "{} {} {:?}",
                            row.room.name,
                            row.room.privacy.as_str(),
                            row.room.config
                        )
                    }
                    children=move |row| view! { <RoomRow row rows delete save create_token revoke/> }
                />
            </tbody>
        </table>
    }
}

#[component]
fn RoomRow(
    row: DashboardRoom,
    rows: RwSignal<Vec<DashboardRoom>>,
    delete: ServerAction<DashboardDeleteRoom>,
    save: ServerAction<DashboardSaveRoom>,
    create_token: ServerAction<DashboardCreateToken>,
    revoke: ServerAction<DashboardRevokeToken>,
) -> impl IntoView {
    let room = row.room;
    let name = room.name.clone();
    let knocking = room
        .config
        .get("enable_knocking")
        .and_then(|value| value.as_bool())
        .unwrap_or(false);
    let private = room.privacy == Privacy::Private;
    let (edit_name, delete_name, token_name) = (name.clone(), name.clone(), name.clone());
    let count = {
        let name = name.clone();
        move |waiting: bool| {
            rows.with(|rows| {
                rows.iter()
                    .find(|row| row.room.name == name)
                    .map(|row| if waiting { row.waiting } else { row.in_call })
                    .unwrap_or_default()
            })
        }
    };
    let in_call = count.clone();
    view! {
        <tr data-room=name.clone()>
            // External to the router: a room page is loaded as a document of its own (app.rs).
            <th scope="row"><a href=format!("/{name}") rel="external">{name.clone()}</a></th>
            // `data-label` names each cell where a phone stacks them (style/main.css).
            <td data-label="Privacy">{room.privacy.as_str()}</td>
            <td data-label="Knocking">{if knocking { "on" } else { "off" }}</td>
            <td data-label="Created">{room.created_at.get(..16).unwrap_or_default().replace('T', " ")}</td>
            <td data-label="In call" data-testid="in-call">{move || in_call(false)}</td>
            <td data-label="Waiting" data-testid="waiting">{move || count(true)}</td>
            <td class="actions">
                <details>
                    <summary>"Edit"</summary>
                    <ActionForm action=save>
                        <input type="hidden" name="existing" value=edit_name.clone()/>
                        <input type="hidden" name="name" value=edit_name.clone()/>
                        <input type="hidden" name="expires" value=""/>
                        <input type="hidden" name="max_participants" value=""/>
                        <label>"Privacy "
                            <select name="privacy">
                                <option value="public" selected=!private>"public"</option>
                                <option value="private" selected=private>"private"</option>
                            </select>
                        </label>
                        <label class="check">
                            <input type="checkbox" name="knocking" value="on" checked=knocking/>
                            " Knocking"
                        </label>
                        <button type="submit">"Save changes"</button>
                    </ActionForm>
                </details>
                <details>
                    <summary>"Tokens"</summary>
                    <TokenForm room=token_name create=create_token revoke/>
                </details>
                <details>
                    <summary>"Delete"</summary>
                    <ActionForm action=delete>
                        <input type="hidden" name="name" value=delete_name.clone()/>
                        <p>"Everyone in the call and its lobby will be removed."</p>
                        <button type="submit" class="danger">{format!("Delete {delete_name}")}</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}

#[component]
fn TokenForm(
    room: String,
    create: ServerAction<DashboardCreateToken>,
    revoke: ServerAction<DashboardRevokeToken>,
) -> impl IntoView {
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    let this_room = room.clone();
    // The page shares one action for all rows; show what was minted for this room only.
    let minted = move || {
        create
            .value()
            .get()
            .and_then(Result::ok)
            .filter(|minted| minted.properties.room_name.as_deref() == Some(this_room.as_str()))
    };
    let revoked = move || revoke.value().get().is_some_and(|result| result.is_ok());
    let id = format!("token-{room}");
    view! {
        <ActionForm action=create>
            <input type="hidden" name="room" value=room.clone()/>
            <label class="check"><input type="checkbox" name="owner" value="on"/>" Owner"</label>
            <label for=format!("{id}-user")>"User name"</label>
            <input id=format!("{id}-user") name="user_name" type="text" maxlength="64"/>
            <label for=format!("{id}-expires")>"Expires (UTC, optional)"</label>
            <input id=format!("{id}-expires") name="expires" type="datetime-local"/>
            <button type="submit">"Create token"</button>
        </ActionForm>
        <p class="error" role="alert">{error}</p>
        {move || minted().map(|minted| {
            let link = minted.link.clone();
            let summary = format!(
                "{}{}{}",
                if minted.properties.is_owner == Some(true) { "Owner" } else { "Participant" },
                minted.properties.user_name.as_ref().map(|name| format!(", named {name}")).unwrap_or_default(),
                minted.properties.exp.map(|exp| format!(", expires at unix time {exp}")).unwrap_or_default(),
            );
            view! {
                <div class="minted">
                    <label for=format!("link-{}", minted.token.len())>"Join link"</label>
                    <input id=format!("link-{}", minted.token.len()) type="text" readonly value=link.clone()
                        data-testid="join-link"/>
                    <button type="button" class="secondary" on:click=move |_| copy(&link)>"Copy link"</button>
                    <p class="hint">{summary}</p>
                    <ActionForm action=revoke>
                        <input type="hidden" name="token" value=minted.token.clone()/>
                        <button type="submit" class="danger">"Revoke token"</button>
                    </ActionForm>
                    <p role="status">{move || revoked().then_some("Revoked: this link no longer opens the room.")}</p>
                    <p class="error" role="alert">{revoke_error}</p>
                </div>
            }
        })}
    }
}

/// Copies text to the clipboard (no-op on the server).
fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else {
            return;
        };
        let navigator = window.navigator();
        if let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into())
            && let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into())
            && let Ok(write) = write.dyn_into::<js_sys::Function>()
        {
            let _ = write.call1(&clipboard, &text.into());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// The `Webhooks` section: every webhook (made through `/v1/webhooks`) with its state and last
/// deliveries, and `Re-activate` for a failed one.
#[component]
fn Webhooks() -> impl IntoView {
    let reactivate = ServerAction::<DashboardReactivateWebhook>::new();
    let first = Resource::new(|| (), |_| dashboard_webhooks());
    let hooks = RwSignal::new(Vec::<DashboardWebhook>::new());
    keep_fresh(
        hooks,
        || async { dashboard_webhooks().await.ok() },
        move || reactivate.version().get(),
    );
    let error = action_error(reactivate);
    view! {
        <section class="card webhooks" aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">"Webhooks"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(listed) => {
                            hooks.set(listed);
                            view! { <WebhookList hooks reactivate/> }.into_any()
                        }
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }
                            .into_any(),
                    }
                })}
            </Transition>
            <p class="error" role="alert">{error}</p>
        </section>
    }
}

#[component]
fn WebhookList(
    hooks: RwSignal<Vec<DashboardWebhook>>,
    reactivate: ServerAction<DashboardReactivateWebhook>,
) -> impl IntoView {
    view! {
        <Show when=move || hooks.with(Vec::is_empty)>
            <p>"No webhooks yet. They are created through the REST API (" <code>"POST /v1/webhooks"</code> ")."</p>
        </Show>
        // Keyed by everything shown, so a refresh rebuilds only a webhook that changed.
        <For
            each=move || hooks.get()
            key=|hook| format!("{hook:?}")
            children=move |hook| view! { <WebhookEntry hook reactivate/> }
        />
    }
}

/// One webhook: what it is, its state, and its last deliveries.
#[component]
fn WebhookEntry(
    hook: DashboardWebhook,
    reactivate: ServerAction<DashboardReactivateWebhook>,
) -> impl IntoView {
    let DashboardWebhook {
        webhook,
        deliveries,
    } = hook;
    let failed = webhook.state == "FAILED";
    let events = if webhook.event_types.is_empty() {
        "all".to_owned()
    } else {
        webhook.event_types.join(", ")
    };
    let last_pushed = webhook
        .last_moment_pushed
        .as_deref()
        .map_or_else(|| "never".to_owned(), time_of);
    let empty = deliveries.is_empty();
    let uuid = webhook.uuid.clone();
    view! {
        <section class="webhook" aria-label=format!("Webhook {}", webhook.url) data-webhook=webhook.uuid.clone()>
            <dl>
                <dt>"URL"</dt>
                <dd class="url">{webhook.url.clone()}</dd>
                <dt>"Events"</dt>
                <dd>{events}</dd>
                <dt>"State"</dt>
                <dd data-testid="webhook-state" class:failed=failed>{webhook.state.clone()}</dd>
                <dt>"Retries"</dt>
                <dd>{webhook.retry_type.clone()}</dd>
                <dt>"Failed attempts in a row"</dt>
                <dd>{webhook.failed_count}</dd>
                <dt>"Last delivered"</dt>
                <dd>{last_pushed}</dd>
            </dl>
            {failed.then(move || view! {
                <ActionForm action=reactivate>
                    <input type="hidden" name="uuid" value=uuid/>
                    <p class="hint">"Nothing is sent while it has failed. Re-activating tests the URL first."</p>
                    <button type="submit">"Re-activate"</button>
                </ActionForm>
            })}
            {if empty {
                view! { <p>"No deliveries yet."</p> }.into_any()
            } else {
                view! {
                    <table class="deliveries">
                        <caption>"Last deliveries"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Time (UTC)"</th>
                                <th scope="col">"Event"</th>
                                <th scope="col">"Room"</th>
                                <th scope="col">"Result"</th>
                                <th scope="col">"Attempts"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {deliveries.into_iter().map(|delivery| view! {
                                <tr data-event=delivery.event_id.clone()>
                                    <td data-label="Time">{time_of(&delivery.created_at)}</td>
                                    <td data-label="Event">{delivery.event_type.clone()}</td>
                                    <td data-label="Room">{delivery.room.clone()}</td>
                                    <td data-label="Result">{result_of(&delivery, failed)}</td>
                                    <td data-label="Attempts">{delivery.attempts}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
    }
}

/// An ISO 8601 time as `YYYY-MM-DD HH:MM:SS`.
fn time_of(iso: &str) -> String {
    iso.get(..19).unwrap_or(iso).replace('T', " ")
}

/// A delivery's outcome in words: delivered, failed for good, still being retried, or on hold
/// while its webhook has failed (`held`), with the receiver's last status or why it gave none.
fn result_of(delivery: &WebhookDelivery, held: bool) -> String {
    let answer = match (delivery.last_status, &delivery.last_error) {
        (Some(status), _) => format!(" (HTTP {status})"),
        (None, Some(error)) => format!(" ({error})"),
        (None, None) => String::new(),
    };
    match delivery.status.as_str() {
        "delivered" => format!("Delivered{answer}"),
        "failed" => format!("Failed{answer}"),
        _ if held => format!("On hold{answer}"),
        _ if delivery.attempts == 0 => "Pending".to_owned(),
        _ => format!("Retrying{answer}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(
        status: &str,
        attempts: i64,
        code: Option<i64>,
        error: Option<&str>,
    ) -> WebhookDelivery {
        WebhookDelivery {
            event_id: "e".into(),
            event_type: "participant.joined".into(),
            room: "standup".into(),
            status: status.into(),
            attempts,
            last_status: code,
            last_error: error.map(Into::into),
            created_at: "2026-11-30T23:59:01.250Z".into(),
        }
    }

    #[test]
    fn a_delivery_reads_as_its_outcome_with_the_receivers_answer() {
        assert_eq!(
            result_of(&delivery("delivered", 1, Some(200), None), false),
            "Delivered (HTTP 200)"
        );
        assert_eq!(
            result_of(&delivery("pending", 0, None, None), false),
            "Pending"
        );
        assert_eq!(
            result_of(&delivery("pending", 2, Some(500), None), false),
            "Retrying (HTTP 500)"
        );
        assert_eq!(
            result_of(&delivery("failed", 5, None, Some("timed out")), false),
            "Failed (timed out)"
        );
    }

    #[test]
    fn what_a_failed_webhook_still_owes_is_on_hold() {
        let held = true;
        assert_eq!(
            result_of(&delivery("pending", 3, Some(500), None), held),
            "On hold (HTTP 500)"
        );
        assert_eq!(
            result_of(&delivery("pending", 0, None, None), held),
            "On hold"
        );
        assert_eq!(
            result_of(&delivery("delivered", 1, Some(200), None), held),
            "Delivered (HTTP 200)"
        );
    }

    #[test]
    fn times_show_to_the_second() {
        assert_eq!(time_of("2026-11-30T23:59:01.250Z"), "2026-11-30 23:59:01");
        assert_eq!(time_of("short"), "short");
    }
}
