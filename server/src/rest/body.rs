//! The JSON body extractor of the API: size-limited, and every rejection in Daily's shape.

use app::{
    error::AppError,
    model::{
        CreateRoom, CreateToken, EjectRequest, ROOM_PROPERTY_NAMES, TOKEN_PROPERTY_NAMES,
        UpdateRoom,
    },
    ssr::input::parse_body,
};
use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::StatusCode,
};
use serde::de::DeserializeOwned;

/// A request body type, with the property names a caller might wrongly send at its top level.
pub trait RequestBody: DeserializeOwned {
    /// Keys that belong under `properties`.
    const PROPERTIES: &'static [&'static str];
}

impl RequestBody for CreateRoom {
    const PROPERTIES: &'static [&'static str] = ROOM_PROPERTY_NAMES;
}

impl RequestBody for UpdateRoom {
    const PROPERTIES: &'static [&'static str] = ROOM_PROPERTY_NAMES;
}

impl RequestBody for EjectRequest {
    const PROPERTIES: &'static [&'static str] = &[];
}

impl RequestBody for CreateToken {
    const PROPERTIES: &'static [&'static str] = TOKEN_PROPERTY_NAMES;
}

/// A parsed and shape-checked JSON body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    super::payload_too_large()
                } else {
                    AppError::invalid(format!(
                        "the request body could not be read: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        parse_body(&bytes, T::PROPERTIES).map(JsonBody)
    }
}
