//! The `knock` server: one axum router serving the Leptos pages and server functions, the
//! `/v1` REST API and the health check. `main.rs` only reads configuration and calls [`serve`];
//! tests call [`spawn`] on port 0.

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

pub mod assets;
pub mod events;
#[cfg(test)]
mod layers;
pub mod limits;
pub mod rest;
pub mod security;
pub mod session;
pub mod trace;

use std::{future::Future, sync::OnceLock};

use app::{App, shell, ssr::state::AppState};
use axum::{Router, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    let options =
        assets::with_hashed_names(leptos::config::LeptosOptions::clone(&state.leptos_options));
    let state = state.with_leptos_options(options);
    let context_state = state.clone();
    let shell_options = leptos::config::LeptosOptions::clone(&state.leptos_options);
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route(ROOM_ROUTE, get(room_page))
        .leptos_routes_with_context(
            &state,
            routed_pages(),
            move || provide_context(context_state.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    let app = assets::with_static_files(app, &state.leptos_options);
    let app = limits::with_limits(app, state.config.request_timeout)
        .layer(axum::middleware::map_response(server_fn_error_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::same_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::sessions,
        ));
    let app = security::with_headers(app)
        .layer(axum::middleware::from_fn(assets::pages_not_cached))
        // Outside everything that reads or rewrites a body (server_fn_error_status).
        .layer(assets::compression());
    // The REST API comes after the pages' layers, with the limits, headers and compression of
    // its own: sessions, the same-origin check, server functions' statuses and the pages' cache
    // rule are about pages and server functions only, and every layer a request passes is
    // passed again each time its handler wakes (a minted token waits for its commit).
    let api =
        limits::with_request_limits(rest::router(state.clone()), state.config.request_timeout);
    let api = security::with_headers(api).layer(assets::compression());
    // Event streams come after those layers: a stream lasts as long as its visitor stays, so
    // it gets no request timeout or body limit, and it is never compressed (each event must
    // leave as it happens), so its body is not wrapped in the compressing body, which every
    // open stream would carry for its whole life. (The sessions, same-origin and server-function
    // layers do nothing for `GET /api/events/...`.) The security headers and the trace it gets.
    let streams =
        security::with_headers(Router::new().route("/api/events/{room}", get(events::stream)));
    app.merge(api)
        .merge(streams)
        .layer(trace::layer())
        .with_state(state)
}

/// The path of a room page: the router's route for it ([`app::App`]'s), which the server does not
/// render through the router but with [`room_page`].
const ROOM_ROUTE: &str = "/{room}";

/// `GET /<room>`: the room page in [`app::room_shell`], rendered as the router renders its
/// pages (complete HTML) once the visitor's state in the room is loaded, so the browser
/// hydrates it without the router (`app::RoomApp`) and reads that state from the page.
async fn room_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    // The path's segment as it is, as the sessions layer took it (`session.rs`): a room's name
    // has nothing to decode.
    let room = request.uri().path().strip_prefix('/').unwrap_or_default();
    // As `load_room` loads it again later: without a session, the state says there is no
    // such room.
    let session = app::ssr::cookies::session_from_cookie(&state, request.headers(), room)
        .await
        .ok();
    let first = app::ssr::lobby::snapshot(&state, room, session.as_ref()).await;
    let options = leptos::config::LeptosOptions::clone(&state.leptos_options);
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(app::pages::room::FirstSnapshot(first.clone()));
        },
        move || app::room_shell(options.clone()),
    );
    render(request).await
}

/// The router's pages the router renders: all but the room page ([`ROOM_ROUTE`]).
fn routed_pages() -> Vec<AxumRouteListing> {
    let routes = routes();
    let pages: Vec<_> = routes
        .iter()
        .filter(|route| route.path() != ROOM_ROUTE)
        .cloned()
        .collect();
    assert_eq!(
        pages.len() + 1,
        routes.len(),
        "the router has one room page route, {ROOM_ROUTE}"
    );
    pages
}

/// The application's routes, generated once per process.
///
/// Generating them renders the app once with resource loading switched off, and Leptos keeps
/// that switch in one flag for the whole process (`SuppressResourceLoad`): a resource that
/// starts loading meanwhile, on any server of the process, waits forever, so a page being
/// rendered by another server would hang until its request timed out. One generation, which
/// every server waits for before it can serve, leaves no such window.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Leptos answers every server-function error with 500; the error itself (an
/// [`app::error::AppError`]) knows the right status (400, 403, 429, ...). The one place that
/// sets it, whether the function ran or its arguments did not even parse.
async fn server_fn_error_status(
    mut response: axum::response::Response,
) -> axum::response::Response {
    if response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return axum::response::Response::from_parts(parts, axum::body::Body::empty());
    };
    let status = serde_json::from_slice::<app::error::AppError>(&bytes)
        .ok()
        .and_then(|error| axum::http::StatusCode::from_u16(error.status()).ok());
    response = axum::response::Response::from_parts(parts, axum::body::Body::from(bytes));
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    response
}

/// `GET /healthz`: answers `ok` while the server can reach its database.
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable",
            )
        }
    }
}

/// Serves `state` on `listener` until `shutdown` resolves, then finishes the requests in flight.
/// (axum::serve, but HTTP/1.1 only and with hyper's header-read timeout: a client that sends
/// its headers slower than `header_read_timeout` is disconnected, so idle half-open requests
/// cannot pile up.)
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        server::graceful::GracefulShutdown,
        service::TowerToHyperService,
    };
    use tower::ServiceExt;

    app::ssr::maintenance::start(&state);
    let streams = state.shutdown.clone();
    let presence = std::sync::Arc::clone(&state.presence);
    // The server takes its seat (the row its leases hang on) before it accepts a request, so a
    // stream never opens on a server the others cannot see yet. A database that does not
    // answer in time is logged; the seat is then taken as soon as it does.
    if tokio::time::timeout(SEAT_LIMIT, presence.settled())
        .await
        .is_err()
    {
        tracing::warn!("no seat in the database after {SEAT_LIMIT:?}; serving anyway");
    }
    // HTTP/1.1 only (browsers speak HTTP/2 only over TLS, which a proxy in front ends): every
    // connection's task is sized for the largest protocol it might serve, and an HTTP/2
    // connection's state is the larger by far, which each open event stream would carry.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout)
        // The read buffer stays at hyper's initial 8 KiB. With the default limit (about 400
        // KiB) a request whose body arrived with its head doubles the buffer to 16 KiB, and
        // the connection keeps it while it stays open: for an event stream, as long as its
        // visitor stays. A request head (the request line and headers, cookies included) may
        // thus be at most 8 KiB, as with nginx's default; bodies are read in pieces and are
        // limited by `limits::MAX_BODY` only.
        .max_buf_size(READ_BUFFER);
    let router = router(state);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin (as axum does).
                    tracing::error!(%error, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Each write leaves at once (no Nagle): a page leaves in several writes, and the
        // second waited for the client's delayed acknowledgement of the first (40 ms on Linux)
        // whenever the page was larger than one write; an event behind an unacknowledged one
        // would wait the same.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, %peer, "cannot turn off Nagle's algorithm");
        }
        // What `into_make_service_with_connect_info` does: handlers read the client's address.
        let service = router.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        );
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Clients hang up, time out and reset all the time; nothing to act on.
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Event streams never end by themselves; tell them to, or shutdown would wait forever.
    streams.send_replace(true);
    connections.shutdown().await;
    // Every stream has ended: this server's sessions are absent from now, so those that
    // reconnect to another server within the grace stay, and another server leads.
    presence.stop().await;
    Ok(())
}

/// How long a starting server waits for its seat in the database before it serves anyway.
const SEAT_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The most a connection buffers of what it reads: hyper's smallest, and its initial size.
pub const READ_BUFFER: usize = 8 * 1024;

/// Serves on an already bound listener in the background, until the runtime stops (tests).
pub fn spawn(listener: TcpListener, state: AppState) {
    tokio::spawn(async move {
        if let Err(error) = serve(listener, state, std::future::pending()).await {
            tracing::error!(%error, "server stopped");
        }
    });
}
