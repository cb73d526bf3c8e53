//! The room named in a `/v1/rooms/{name}/...` path. A name that breaks the naming rule cannot
//! belong to a room, so it is answered 404 here, before any service or database sees it (a
//! NUL in it, say, which no PostgreSQL text value may hold).

use app::{error::AppError, ssr::domain::names::RoomName};
use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};

/// The room name from the path, valid by the naming rule.
pub struct RoomPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RoomPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(name) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| AppError::invalid(rejection.body_text()))?;
        RoomName::parse("name", &name)
            .map(|name| Self(name.into_string()))
            .map_err(|_| AppError::not_found(format!("room {} not found", name.escape_debug())))
    }
}
