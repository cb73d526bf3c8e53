//! The yardstick of figure c: bare axum handlers of the same shape as Knock's
//! `GET /v1/rooms/{name}` and `POST /v1/meeting-tokens`, with no database, router stack or
//! middleware beyond the bearer check. Same key check (hashed, constant time), same JSON body
//! parse and property validation, same response bodies; the token is signed (HS256, with
//! jsonwebtoken) from the same claims. It runs in this process on its own two-thread runtime,
//! as Knock's `#[tokio::main]` does on two cores.

use std::{collections::HashMap, sync::Arc};

use app::{
    error::AppError,
    model::{CreateToken, CreatedToken, Room, TOKEN_PROPERTY_NAMES},
    ssr::{config::Secret, domain::claims::Claims, input::parse_body, tokens::validate_properties},
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Request, State},
    http::header::AUTHORIZATION,
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::client;

struct Bare {
    key: Secret,
    domain_id: String,
    rooms: HashMap<String, Room>,
}

type Shared = State<Arc<Bare>>;

async fn bearer(State(bare): Shared, request: Request, next: Next) -> Result<Response, AppError> {
    let key = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .ok_or_else(|| AppError::AuthorizationHeader("send Authorization: Bearer <key>".into()))?;
    if !bare.key.matches(key) {
        return Err(AppError::Authentication("the API key is not valid".into()));
    }
    Ok(next.run(request).await)
}

async fn room(State(bare): Shared, Path(name): Path<String>) -> Result<Json<Room>, AppError> {
    bare.rooms
        .get(&name)
        .cloned()
        .map(Json)
        .ok_or_else(|| AppError::not_found(format!("room {name} not found")))
}

async fn token(State(bare): Shared, body: Bytes) -> Result<Json<CreatedToken>, AppError> {
    let request: CreateToken = parse_body(&body, TOKEN_PROPERTY_NAMES)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    let properties = validate_properties(request.properties, now)?;
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let claims = Claims::issue(&properties, &bare.domain_id, now, &jti);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(bare.key.expose().as_bytes()),
    )
    .map_err(|error| AppError::internal("signing", error))?;
    Ok(Json(CreatedToken { token }))
}

/// A running bare server; stops when dropped.
pub struct BareServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts the bare server on a free port, knowing `rooms` and signing with `key`.
pub fn start(key: &str, domain_id: &str, rooms: Vec<Room>) -> client::Result<BareServer> {
    let state = Arc::new(Bare {
        key: Secret::new(key),
        domain_id: domain_id.to_owned(),
        rooms: rooms
            .into_iter()
            .map(|room| (room.name.clone(), room))
            .collect(),
    });
    let router = Router::new()
        .route("/v1/rooms/{name}", get(room))
        .route("/v1/meeting-tokens", post(token))
        .route_layer(middleware::from_fn_with_state(state.clone(), bearer))
        .with_state(state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
    });
    Ok(BareServer {
        base_url,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl Drop for BareServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
