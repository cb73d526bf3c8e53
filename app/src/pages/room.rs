//! `/<room>`: the prejoin page, the lobby, the call and every state around them. Rendered on
//! the server from the session's state, then kept live by the call client. Every button is a
//! real form, so a click made before the page has hydrated still reaches the server.
//!
//! In the browser the page comes in parts (`cargo leptos build --split`), so a guest at the
//! door downloads little before `Ask to join` works:
//!
//! - the main wasm hydrates the prejoin page alone ([`prejoin`]), its camera preview included,
//!   without the call client;
//! - the call client and every other screen (the lobby, the denial, the direct entry, ...) are
//!   a `#[lazy]` function ([`room_client`]) with a chunk of its own, fetched as the visitor turns
//!   to the form and started with the answer to their knock or join; a page the server rendered
//!   on any other screen loads it before hydrating ([`room_client_on_page`], [`preload_room`]);
//! - the call view (the mesh, the tiles, the people panel, moderation, the tray) is another,
//!   fetched with the call client on the prejoin page and once the page is idle in the lobby or
//!   a direct entry, so entering the call does not wait for it; a page rendered in the call
//!   loads it before hydrating ([`call_on_page`], [`preload_call`]).

use leptos::prelude::*;
use serde::Serialize;

use self::{
    direct::{DirectEntry, DirectJoin, direct_entry},
    prejoin::{Door, DoorRoom, Prejoin},
};
use super::form::{PageAction, PageForm};
use crate::{
    api::call::{Cancel, Leave},
    call::{CallClient, CallModel},
    components::{
        admin_alert::{AdminAlert, LastDecision},
        media::{CameraPreview, VideoTiles},
        people::PeoplePanel,
        title::PageTitle,
        tray::Tray,
    },
    error::AppError,
    json::{FromJson, Json, PageJson},
    media::{LocalMedia, RemoteMedia},
    model::{AccessLevel, CallErrorDetail, CallErrorKind, CallState, Phase, RoomSnapshot},
};

mod direct;
mod prejoin;

/// A room's page (`/<room>`), rendered on the server in its own document
/// ([`crate::app::room_shell`]) and hydrated without the router ([`crate::app::RoomApp`]).
#[component]
pub fn RoomPage() -> impl IntoView {
    // Loaded by the server before it renders the page, written into the page with it, and read
    // back from there by the browser as it hydrates: no resource, no `Suspense` and none of
    // their code in the wasm a guest at the door downloads.
    let first = SharedValue::<_, PageJson>::new_with_encoding(first_page).into_inner();
    match first {
        Ok(FirstPage {
            door,
            start_video,
            start_audio,
            snapshot,
        }) => {
            // Daily's `start_video_off` / `start_audio_off` (room, or the token's): what the
            // camera and microphone start as, on the prejoin page and in the call alike. They
            // live here, so what the prejoin page started carries into the call.
            let media = LocalMedia::starting_with(start_video, start_audio);
            match door {
                Some(door) => view! {
                    <div class="room" data-door="prejoin">
                        <DoorRoom door snapshot media/>
                    </div>
                }
                .into_any(),
                None => view! {
                    <div class="room">
                        {room_now(RoomStart { snapshot, answer: None, media })}
                    </div>
                }
                .into_any(),
            }
        }
        Err(error) => went_wrong(error.to_string()),
    }
}

/// `Something went wrong`, and what did: the page when its state cannot be had.
fn went_wrong(sentence: String) -> AnyView {
    view! {
        <main class="page narrow">
            <h1>"Something went wrong"</h1>
            <p>{sentence}</p>
        </main>
    }
    .into_any()
}

/// `Loading…`: the page while the call client (or its first state) is on its way.
fn loading() -> AnyView {
    view! { <main class="page narrow"><p>"Loading…"</p></main> }.into_any()
}

/// The state a room page is rendered with ([`RoomPage`]), which the server loads for the
/// request before rendering the page (`server/src/lib.rs`).
#[derive(Clone)]
pub struct FirstSnapshot(pub Result<RoomSnapshot, AppError>);

/// The room page's first state as the page carries it to the browser.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct FirstPage {
    /// The prejoin page's own part, when the page opens on it: the main wasm hydrates that page
    /// alone ([`DoorRoom`]), and the call client comes in its chunk once it is needed.
    door: Option<Door>,
    /// Whether the camera starts on (Daily's `start_video_off`, negated).
    start_video: bool,
    /// Whether the microphone starts on (Daily's `start_audio_off`, negated).
    start_audio: bool,
    /// The whole state (a [`RoomSnapshot`]) as JSON: decoded by the call client, in its chunk,
    /// so the main wasm carries none of its decoders.
    snapshot: String,
}

impl FromJson for FirstPage {
    fn from_json<J: Json>(json: &J) -> Option<Self> {
        Some(Self {
            door: Option::from_json(&json.member("door")?)?,
            start_video: json.member("start_video")?.boolean()?,
            start_audio: json.member("start_audio")?.boolean()?,
            snapshot: json.member("snapshot")?.string()?,
        })
    }
}

/// On the server, the page's first state from the request's ([`FirstSnapshot`]). In the
/// browser it is read from the page, and this runs only if it is missing.
fn first_page() -> Result<FirstPage, AppError> {
    #[cfg(feature = "ssr")]
    {
        use_context::<FirstSnapshot>()
            .map(|first| first.0)
            .unwrap_or_else(|| {
                Err(AppError::internal(
                    "the room page",
                    "its state was not loaded",
                ))
            })
            .and_then(FirstPage::of)
    }
    #[cfg(not(feature = "ssr"))]
    Err(AppError::internal(
        "the room page",
        "its state is not in the page",
    ))
}

#[cfg(feature = "ssr")]
impl FirstPage {
    /// What the page carries for `snapshot`: a door when it opens on the prejoin page (the
    /// screen the call client would show first, [`screen_of`]).
    fn of(snapshot: RoomSnapshot) -> Result<Self, AppError> {
        let mut model = CallModel::default();
        model.set_state(snapshot.state.clone());
        let door = match screen_of(&model) {
            Screen::Prejoin(level, name) => Some(Door {
                room: snapshot.state.room.clone(),
                level,
                name,
            }),
            _ => None,
        };
        let settings = snapshot.state.settings;
        let snapshot = serde_json::to_string(&snapshot)
            .map_err(|error| AppError::internal("the room page's state", error))?;
        Ok(Self {
            door,
            start_video: !settings.start_video_off,
            start_audio: !settings.start_audio_off,
            snapshot,
        })
    }
}

/// What the call client starts from: the page's snapshot (JSON), the answer that took the
/// visitor off the prejoin page (JSON, if one did), and the camera and microphone.
struct RoomStart {
    snapshot: String,
    answer: Option<String>,
    media: LocalMedia,
}

/// The call client and every screen it shows, built in a wasm chunk of its own: a page that
/// opens on the prejoin page needs it only once the visitor is let in or put in the lobby.
#[lazy]
fn room_client(start: RoomStart) -> AnyView {
    let RoomStart {
        snapshot,
        answer,
        media,
    } = start;
    let snapshot = match serde_json::from_slice::<RoomSnapshot>(snapshot.as_bytes()) {
        Ok(snapshot) => snapshot,
        Err(error) => return went_wrong(format!("The room's state could not be read: {error}")),
    };
    let call = CallClient::new(&snapshot.state.room);
    match answer.as_deref().and_then(answer_state) {
        Some(answer) => call.start_answered(snapshot, answer),
        None => call.start(snapshot),
    }
    view! { <Room call media/> }.into_any()
}

/// The call client's view ([`room_client`]) now: on the server always, in the browser once its
/// chunk is loaded ([`preload_room`]); until then `Loading…`.
fn room_now(start: RoomStart) -> AnyView {
    untrack(|| ready_now(room_client(start))).unwrap_or_else(loading)
}

/// Loads the call client's wasm chunk ([`room_client`]) without starting it.
#[cfg(feature = "hydrate")]
pub async fn preload_room() {
    __preload_room_client().await;
}

/// Whether the server rendered the call client's view into this document (any screen but the
/// prejoin page): then its chunk must be loaded before hydration walks that view's HTML.
#[cfg(feature = "hydrate")]
pub fn room_client_on_page() -> bool {
    document()
        .query_selector(".room:not([data-door])")
        .ok()
        .flatten()
        .is_some()
}

/// A form's answer (a [`CallState`] as JSON), decoded. An answer that does not decode is
/// dropped: the page stays where it was, as if no answer had come.
fn answer_state(answer: &str) -> Option<CallState> {
    serde_json::from_slice(answer.as_bytes()).ok()
}

/// Takes a form's answer into the call client.
fn take_answer(call: CallClient, answer: &str) {
    if let Some(state) = answer_state(answer) {
        call.model.update(|model| model.set_state(state));
    }
}

/// Which screen the room page shows. Only what decides the screen is in here, so a change
/// elsewhere in the model (a participant's camera, a new event id) never rebuilds the screen,
/// and the call's connections live as long as the call screen does.
#[derive(Clone, Debug, PartialEq)]
enum Screen {
    Loading,
    Prejoin(AccessLevel, Option<String>),
    /// The prejoin page is off (`enable_prejoin_ui: false`): straight in, or the name only.
    Direct(DirectEntry),
    Waiting(Option<String>),
    InCall,
    Denied,
    Refused(CallErrorDetail),
}

fn screen_of(model: &CallModel) -> Screen {
    let Some(state) = &model.state else {
        return Screen::Loading;
    };
    if let Some(error) = &model.error {
        if state.phase == Phase::Denied {
            return Screen::Denied;
        }
        return Screen::Refused(error.clone());
    }
    if let Some(refusal) = &state.refusal
        && state.phase != Phase::InCall
    {
        return Screen::Refused(refusal.clone());
    }
    match state.phase {
        Phase::InCall => Screen::InCall,
        Phase::Waiting => Screen::Waiting(state.user_name.clone()),
        Phase::Denied => Screen::Denied,
        Phase::Ejected => Screen::Refused(CallErrorDetail {
            kind: CallErrorKind::Ejected,
            msg: "You were removed from the call.".into(),
        }),
        Phase::Prejoin | Phase::Left => match direct_entry(state) {
            Some(entry) => Screen::Direct(entry),
            None => Screen::Prejoin(state.access.access.level, state.user_name.clone()),
        },
    }
}

/// Chooses the screen for the session's phase; follows the call client live.
#[component]
fn Room(call: CallClient, media: LocalMedia) -> impl IntoView {
    let screen = Memo::new(move |_| call.model.with(screen_of));
    // Set when the call view's chunk has arrived, for a call screen that had to wait for it.
    let chunk_arrived = RwSignal::new(false);
    move || {
        let screen = screen.get();
        let Some(state) = call.model.with_untracked(|model| model.state.clone()) else {
            return loading();
        };
        match screen {
            Screen::Loading => loading(),
            Screen::InCall => in_call(call, media, chunk_arrived),
            Screen::Waiting(_) => view! { <Waiting call state media/> }.into_any(),
            Screen::Prejoin(level, name) => {
                let door = Door {
                    room: state.room.clone(),
                    level,
                    name,
                };
                let answered = Callback::new(move |answer: String| take_answer(call, &answer));
                let intent = Callback::new(move |()| {
                    load_call_early();
                    call.open_stream();
                });
                view! { <Prejoin door media answered intent/> }.into_any()
            }
            Screen::Direct(entry) => view! { <DirectJoin call entry/> }.into_any(),
            Screen::Denied => {
                // Turned away: the camera and microphone are released.
                media.stop();
                let blocked = call
                    .model
                    .with_untracked(|model| model.error.as_ref().is_some_and(is_blocked));
                view! { <Denied room=state.room.clone() blocked/> }.into_any()
            }
            // Denied and blocked, then back (a reload): still the denial, still no way back.
            Screen::Refused(detail) if is_blocked(&detail) => {
                media.stop();
                view! { <Denied room=state.room.clone() blocked=true/> }.into_any()
            }
            Screen::Refused(detail) => {
                media.stop();
                view! { <Refused call detail/> }.into_any()
            }
        }
    }
}

/// Takes each successful answer of a form (`answer`: its last one) into the call client.
fn follow(call: CallClient, answer: impl Fn() -> Option<Result<CallState, AppError>> + 'static) {
    Effect::new(move |_| {
        if let Some(Ok(state)) = answer() {
            call.model.update(|model| model.set_state(state));
        }
    });
}

/// Starts the camera and microphone once the page runs in a browser.
fn start_media(media: LocalMedia) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| media.start());
    #[cfg(not(feature = "hydrate"))]
    let _ = media;
}

/// Fetches the call view's wasm chunk once the browser is idle after this screen is running,
/// so entering the call does not wait for the network: for screens from which the call comes
/// without a further click (the lobby, a direct entry). (On the server, nothing.)
fn prefetch_call() {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| request_idle_callback(load_call_early));
}

/// Starts loading the call view's wasm chunk in the background (once; later calls share it).
fn load_call_early() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(preload_call());
}

/// Whether the call view's wasm chunk is loaded (set by [`preload_call`]).
#[cfg(feature = "hydrate")]
static CALL_LOADED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Loads the call view's wasm chunk without showing it; at once when it is already loaded.
#[cfg(feature = "hydrate")]
pub async fn preload_call() {
    __preload_in_call_view().await;
    CALL_LOADED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the call view can be built now: its chunk is loaded (always, on the server).
fn call_loaded() -> bool {
    #[cfg(feature = "hydrate")]
    let loaded = CALL_LOADED.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "hydrate"))]
    let loaded = true;
    loaded
}

/// The call screen. Built synchronously, in the screen's own reactive owner like every other
/// screen (its signals and effects end together with it), once the chunk is loaded; until then
/// `Joining…`, while the chunk loads and `arrived` brings the screen back.
fn in_call(call: CallClient, media: LocalMedia, arrived: RwSignal<bool>) -> AnyView {
    if call_loaded()
        && let Some(view) = call_view_now(call, media)
    {
        return view;
    }
    arrived.track();
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        preload_call().await;
        arrived.set(true);
    });
    view! { <main class="page narrow"><p>"Joining…"</p></main> }.into_any()
}

/// The call view if [`in_call_view`] is ready on its first poll: on the server always (it does
/// not wait for anything there), in the browser once its chunk is loaded.
fn call_view_now(call: CallClient, media: LocalMedia) -> Option<AnyView> {
    ready_now(in_call_view(call, media))
}

/// A lazy function's answer if it is ready on the first poll: on the server always, in the
/// browser once its chunk is loaded.
fn ready_now<T>(future: impl Future<Output = T>) -> Option<T> {
    use std::task::{Context, Poll, Waker};

    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

/// Whether the server rendered the call view into this document (a reload during the call):
/// then its chunk must be loaded before hydration, which walks that view's HTML.
#[cfg(feature = "hydrate")]
pub fn call_on_page() -> bool {
    document()
        .query_selector("main.call")
        .ok()
        .flatten()
        .is_some()
}

/// `Waiting to be let in`, with the place in line ("You're number N in line"), the last
/// `Message from the host` (a landmark and a live region), `Cancel request`, and your own
/// preview (nobody else sees it).
#[component]
fn Waiting(call: CallClient, state: CallState, media: LocalMedia) -> impl IntoView {
    let cancel = PageAction::<CallState>::new::<Cancel>();
    follow(call, move || cancel.value());
    let host_present = move || {
        call.model
            .with(|model| model.state.as_ref().is_some_and(|state| state.host_present))
    };
    let position = move || {
        call.model
            .with(|model| model.state.as_ref().and_then(|state| state.position))
    };
    let message = move || {
        call.model
            .with(|model| model.state.as_ref().and_then(|state| state.message.clone()))
    };
    watch_for_host(call);
    prefetch_call();
    view! {
        <PageTitle text=format!("Waiting · {} · Knock", state.room)/>
        <main class="page narrow card" aria-live="polite">
            <p class="room-name">{state.room.clone()}</p>
            <h1>"Waiting to be let in"</h1>
            <p>"You asked to join as " <strong>{state.user_name.clone()}</strong> ". A host will let you in shortly."</p>
            {move || position().map(|n| view! { <p class="position">{format!("You're number {n} in line")}</p> })}
            <Show when=move || !host_present()>
                <p class="notice">"No host is here yet. Your request stays open until one arrives."</p>
            </Show>
            <section
                class="host-message"
                role="region"
                aria-labelledby="host-message-heading"
                aria-live="polite"
                hidden=move || message().is_none()
            >
                <h2 id="host-message-heading">"Message from the host"</h2>
                <p class="message-text">{move || message().map(|message| message.text)}</p>
                <p class="message-from">{move || message().map(|message| format!("From {}", message.from))}</p>
            </section>
            <CameraPreview media name=Signal::derive(String::new)/>
            <PageForm action=cancel>
                <input type="hidden" name="room" value=state.room.clone()/>
                <button type="submit" class="secondary">"Cancel request"</button>
            </PageForm>
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

/// The call view, built in the call's wasm chunk (see the module's top); see [`in_call`].
#[lazy]
fn in_call_view(call: CallClient, media: LocalMedia) -> AnyView {
    view! { <InCall call media/> }.into_any()
}

/// In the call: the room's name on top, the video grid filling the stage, the people panel
/// beside it (a sheet on phones), the tray at the bottom, and for admins the knock alert as an
/// overlay. The call has its own dark theme.
#[component]
fn InCall(call: CallClient, media: LocalMedia) -> impl IntoView {
    let remote = RemoteMedia::new();
    start_media(media);
    connect_media(call, media, remote);
    // Sent back to the lobby by an admin: the camera and microphone are released at once (the
    // mesh closes with this view). Let in again, they come back with both off.
    on_cleanup(move || {
        if call.model.try_with_untracked(CallModel::phase).flatten() == Some(Phase::Waiting) {
            media.stop();
        }
    });
    let leave = ServerAction::<Leave>::new();
    follow(call, move || leave.value().get());
    let room = call.room();
    let admin = Signal::derive(move || {
        call.model
            .with(|model| model.state.as_ref().is_some_and(|state| state.admin))
    });
    let waiting = Signal::derive(move || {
        if admin.get() {
            call.model.with(|model| model.waiting.len())
        } else {
            0
        }
    });
    // Daily's `enable_people_ui` (room property): the one switch for the `People` button and
    // its panel. Admins keep it whatever the room says: the `Waiting room` lives there.
    let people_ui = Signal::derive(move || {
        call.model.with(|model| {
            model
                .state
                .as_ref()
                .is_none_or(|state| state.settings.people_ui || state.admin)
        })
    });
    let people_open = RwSignal::new(false);
    let panel_open = Signal::derive(move || people_ui.get() && people_open.get());
    let title = {
        let room = room.clone();
        move || match waiting.get() {
            0 => format!("{room} · Knock"),
            count => format!("({count}) {room} · Knock"),
        }
    };
    view! {
        <PageTitle text=title/>
        <main class="call">
            <header class="call-top">
                <h1>{room.clone()}</h1>
                // Only admins hear decisions, so for anyone else this stays empty.
                <LastDecision call/>
            </header>
            <div class="call-body">
                <VideoTiles call media remote/>
                <PeoplePanel call open=panel_open state=people_open admin/>
            </div>
            <div class="overlays">
                <Show when=move || admin.get()>
                    <AdminAlert call people_open/>
                </Show>
                <p class="notice" role="status">{move || media.notice.get()}</p>
            </div>
            <Tray room media people_open people_ui waiting leave/>
        </main>
    }
}

/// In the browser: the WebRTC mesh to the others for as long as the call view lives, and the
/// camera and microphone state told to them whenever it changes.
fn connect_media(call: CallClient, media: LocalMedia, remote: RemoteMedia) {
    #[cfg(feature = "hydrate")]
    {
        use std::{cell::Cell, rc::Rc};

        use send_wrapper::SendWrapper;

        // The mesh or the SFU, as the server says the call's media flows.
        let session = crate::media::session::Session::start(call, media, remote);
        let session = SendWrapper::new(session);
        on_cleanup(move || session.close());

        // One request at a time, always ending with the latest state.
        let sent: Rc<Cell<Option<(bool, bool)>>> = Rc::new(Cell::new(None));
        let busy = Rc::new(Cell::new(false));
        let (sent, busy) = (SendWrapper::new(sent), SendWrapper::new(busy));
        Effect::new(move |_| {
            media.video.track();
            media.audio.track();
            if busy.replace(true) {
                return;
            }
            let (sent, busy) = ((*sent).clone(), (*busy).clone());
            let room = call.room();
            leptos::task::spawn_local(async move {
                loop {
                    let want = (
                        media.video.try_get_untracked().unwrap_or_default(),
                        media.audio.try_get_untracked().unwrap_or_default(),
                    );
                    if sent.get() == Some(want) {
                        break;
                    }
                    let answer =
                        crate::api::media::update_media(room.clone(), want.0, want.1).await;
                    if answer.is_err() {
                        break;
                    }
                    sent.set(Some(want));
                }
                busy.set(false);
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (call, media, remote);
}

/// What the server tells someone denied and blocked (`Deny and block`), in the denial and
/// whenever they come back: the one sign, in the protocol, that knocking again is closed.
const BLOCKED: &str = "You can't ask to join this call again.";

/// Whether `detail` says the session was denied and blocked.
fn is_blocked(detail: &CallErrorDetail) -> bool {
    detail.kind == CallErrorKind::NotAllowed && detail.msg == BLOCKED
}

/// `Request denied`, with `Knock again`; when `blocked`, with the sentence that says they
/// can't ask again, and no way to.
#[component]
fn Denied(room: String, blocked: bool) -> impl IntoView {
    let back = (!blocked).then(|| {
        // A full page load: coming back to the room is a fresh visit to its prejoin page.
        view! { <a class="button" href=format!("/{room}") rel="external">"Knock again"</a> }
    });
    view! {
        <PageTitle text=format!("Request denied · {room} · Knock")/>
        <main class="page narrow card" role="alert">
            <h1>"Request denied"</h1>
            <p>"The host denied your request to join this call."</p>
            {blocked.then(|| view! { <p>{BLOCKED}</p> })}
            {back}
        </main>
    }
}

/// Every other state: a plain sentence per reason. Removed from the call, it also says whether
/// they may come back (asking the server, which alone knows of a ban) and offers the way back.
#[component]
fn Refused(call: CallClient, detail: CallErrorDetail) -> impl IntoView {
    let (heading, sentence) = match detail.kind {
        CallErrorKind::NoRoom => ("This room does not exist", "Check the link you were given."),
        CallErrorKind::NbfRoom => (
            "This room is not open yet",
            "Come back at the time you were given.",
        ),
        CallErrorKind::ExpRoom => ("This room is no longer available", "The meeting has ended."),
        CallErrorKind::MeetingFull => ("This call is full", "Try again when someone has left."),
        CallErrorKind::ExpToken => (
            "Your meeting link has expired",
            "Ask the host for a new link.",
        ),
        CallErrorKind::NbfToken => (
            "Your meeting link is not valid yet",
            "Come back at the time you were given.",
        ),
        CallErrorKind::Ejected => ("You were removed from the call", ""),
        CallErrorKind::NotAllowed => (
            "This meeting link cannot be used",
            "It may have been revoked, or be for another room. Ask the host for a new link.",
        ),
    };
    let removed = detail.kind == CallErrorKind::Ejected;
    // Rendered from a page load, the state is fresh from the server; after a live `ejected`
    // event it is not, so the server is asked again (a ban shows as the session's refusal).
    let fresh = RwSignal::new(call.model.with_untracked(|model| model.error.is_none()));
    #[cfg(feature = "hydrate")]
    if removed && !fresh.get_untracked() {
        leptos::task::spawn_local(async move {
            if call.pre_auth().await.is_ok() {
                fresh.set(true);
            }
        });
    }
    let comeback = move || {
        if !removed || !fresh.get() {
            return None;
        }
        call.model.with(|model| {
            let state = model.state.as_ref()?;
            Some(match (&state.refusal, state.access.access.level) {
                (Some(_), _) => Err("You can't join this call again."),
                (None, AccessLevel::None) => Err("The room is private now: you can't come back."),
                (None, AccessLevel::Full) => Ok(("You may come back.", "Join again")),
                (None, AccessLevel::Lobby) => {
                    Ok(("You may ask to come back.", "Ask to join again"))
                }
            })
        })
    };
    // Back to the prejoin page (the server lets a removed session that is not banned join or
    // knock again).
    let again = move |_| {
        call.model.update(|model| {
            model.error = None;
            if let Some(state) = &mut model.state {
                state.phase = Phase::Prejoin;
            }
        });
    };
    view! {
        <PageTitle text=format!("{heading} · Knock")/>
        <main class="page narrow card">
            <h1>{heading}</h1>
            {(!sentence.is_empty()).then(|| view! { <p>{sentence}</p> })}
            <p class="detail">{detail.msg}</p>
            {move || comeback().map(|answer| match answer {
                Err(no) => view! { <p class="comeback">{no}</p> }.into_any(),
                Ok((yes, button)) => view! {
                    <p class="comeback">{yes}</p>
                    <button type="button" on:click=again>{button}</button>
                }
                .into_any(),
            })}
        </main>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::ssr::domain::access::Refusal;

    #[test]
    fn the_page_recognises_the_servers_sentence_for_a_blocked_knocker() {
        let detail = CallErrorDetail {
            kind: CallErrorKind::NotAllowed,
            msg: Refusal::Blocked.to_string(),
        };
        assert!(is_blocked(&detail));
        let denied = CallErrorDetail {
            kind: CallErrorKind::NotAllowed,
            msg: "Join request rejected".into(),
        };
        assert!(!is_blocked(&denied));
    }

    fn snapshot(level: AccessLevel, phase: Phase) -> RoomSnapshot {
        RoomSnapshot {
            state: direct::tests::state(phase, level, Some("Ana"), true),
            participants: Vec::new(),
            waiting: Vec::new(),
        }
    }

    /// The main wasm hydrates a door by itself, and the call client's chunk everything else:
    /// a page that opens on another screen must carry none, or the browser would hydrate the
    /// server's lobby or call with the prejoin page.
    #[test]
    fn only_a_page_that_opens_on_the_prejoin_page_carries_a_door() {
        for level in [AccessLevel::Lobby, AccessLevel::Full, AccessLevel::None] {
            let first = FirstPage::of(snapshot(level, Phase::Prejoin)).expect("a first page");
            assert_eq!(
                first.door,
                Some(Door {
                    room: "standup".into(),
                    level,
                    name: Some("Ana".into()),
                })
            );
        }
        for phase in [Phase::Waiting, Phase::InCall, Phase::Denied, Phase::Ejected] {
            let first = FirstPage::of(snapshot(AccessLevel::Lobby, phase)).expect("a first page");
            assert_eq!(first.door, None, "{phase:?}");
        }
        // Refused at the door (an expired link, a full call): the call client's screen.
        let mut refused = snapshot(AccessLevel::Lobby, Phase::Prejoin);
        refused.state.refusal = Some(CallErrorDetail {
            kind: CallErrorKind::MeetingFull,
            msg: "full".into(),
        });
        assert_eq!(FirstPage::of(refused).expect("a first page").door, None);
        // The prejoin page turned off: the direct entry, the call client's screen too.
        let mut direct = snapshot(AccessLevel::Full, Phase::Prejoin);
        direct.state.settings.prejoin_ui = false;
        assert_eq!(FirstPage::of(direct).expect("a first page").door, None);
    }

    #[test]
    fn the_page_carries_the_whole_state_for_the_call_client_and_how_the_devices_start() {
        let mut state = snapshot(AccessLevel::Lobby, Phase::Prejoin);
        state.state.settings.start_video_off = true;
        let first = FirstPage::of(state.clone()).expect("a first page");
        assert!(!first.start_video);
        assert!(first.start_audio);
        let carried: RoomSnapshot =
            serde_json::from_str(&first.snapshot).expect("the carried state");
        assert_eq!(carried, state);
    }

    #[test]
    fn the_browser_reads_back_every_first_page_the_server_writes() {
        let mut pages = Vec::new();
        for level in [AccessLevel::Lobby, AccessLevel::Full, AccessLevel::None] {
            for phase in [Phase::Prejoin, Phase::Waiting, Phase::InCall] {
                let mut state = snapshot(level, phase);
                state.state.settings.start_audio_off = level == AccessLevel::Full;
                pages.push(Ok(FirstPage::of(state).expect("a first page")));
            }
        }
        let nameless = RoomSnapshot {
            state: direct::tests::state(Phase::Prejoin, AccessLevel::Lobby, None, true),
            participants: Vec::new(),
            waiting: Vec::new(),
        };
        pages.push(Ok(FirstPage::of(nameless).expect("a first page")));
        pages.push(Err(AppError::NotFound("room standup not found".into())));
        for page in pages {
            assert_eq!(
                crate::json::round_trip(&page),
                Some(page.clone()),
                "{page:?}"
            );
        }
    }
}
