//! The one error type of Knock. Each variant knows its HTTP status and its Daily error type, so
//! the REST API and the server functions report a failure the same way:
//! `{"error": "<type>", "info": "<sentence>"}` (that is also how it is serialized, so a server
//! function's error reaches the browser in the REST shape and is read back into the variant).

use serde::{Deserialize, Serialize};

/// Everything that can go wrong in a request, in words a caller can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum AppError {
    /// The Authorization header is missing or is not `Bearer <key>`.
    #[error("{0}")]
    AuthorizationHeader(String),
    /// The key is wrong.
    #[error("{0}")]
    Authentication(String),
    /// The body is not JSON.
    #[error("{0}")]
    JsonParsing(String),
    /// The request is well-formed but asks for something invalid.
    #[error("{0}")]
    InvalidRequest(String),
    /// The body is larger than the server accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this HTTP method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests of this kind.
    #[error("{0}")]
    RateLimited(String),
    /// Something failed inside the server; the details are logged, never sent.
    #[error("the server could not complete the request; please try again")]
    Server,
}

impl AppError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::AuthorizationHeader(_) | Self::JsonParsing(_) | Self::InvalidRequest(_) => 400,
            Self::Authentication(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::PayloadTooLarge(_) => 413,
            Self::RateLimited(_) => 429,
            Self::Server => 500,
        }
    }

    /// The Daily error type, the `error` field of the body.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AuthorizationHeader(_) => "authorization-header-error",
            Self::Authentication(_) => "authentication-error",
            Self::JsonParsing(_) => "json-parsing-error",
            Self::InvalidRequest(_) | Self::PayloadTooLarge(_) | Self::MethodNotAllowed(_) => {
                "invalid-request-error"
            }
            Self::NotFound(_) => "not-found",
            Self::Forbidden(_) => "forbidden-error",
            Self::RateLimited(_) => "rate-limit-error",
            Self::Server => "server-error",
        }
    }

    /// An [`AppError::InvalidRequest`].
    pub fn invalid(info: impl Into<String>) -> Self {
        Self::InvalidRequest(info.into())
    }

    /// An [`AppError::NotFound`].
    pub fn not_found(info: impl Into<String>) -> Self {
        Self::NotFound(info.into())
    }

    /// Logs an internal failure with its context and returns the opaque [`AppError::Server`].
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        #[cfg(feature = "ssr")]
        tracing::error!(%error, "{context}");
        #[cfg(not(feature = "ssr"))]
        let _ = (context, error.to_string());
        Self::Server
    }

    /// The JSON body sent to clients.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.kind().to_owned(),
            info: self.to_string(),
        }
    }
}

/// The error body of every failed `/v1` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The Daily error type, e.g. `invalid-request-error`.
    #[cfg_attr(feature = "ssr", schema(example = "invalid-request-error"))]
    pub error: String,
    /// A sentence saying what was wrong.
    #[cfg_attr(feature = "ssr", schema(example = "room standup not found"))]
    pub info: String,
}

impl From<AppError> for ErrorBody {
    fn from(error: AppError) -> Self {
        error.body()
    }
}

impl From<ErrorBody> for AppError {
    /// The variant of a Daily error type. The REST-only distinctions that share a type (a body
    /// too large, a wrong method: `invalid-request-error`) come back as `InvalidRequest`.
    fn from(body: ErrorBody) -> Self {
        let info = body.info;
        match body.error.as_str() {
            "authorization-header-error" => Self::AuthorizationHeader(info),
            "authentication-error" => Self::Authentication(info),
            "json-parsing-error" => Self::JsonParsing(info),
            "not-found" => Self::NotFound(info),
            "forbidden-error" => Self::Forbidden(info),
            "rate-limit-error" => Self::RateLimited(info),
            "server-error" => Self::Server,
            _ => Self::InvalidRequest(info),
        }
    }
}

/// An [`ErrorBody`], as the room page's forms read an error in the browser.
impl crate::json::FromJson for AppError {
    fn from_json<J: crate::json::Json>(json: &J) -> Option<Self> {
        Some(Self::from(ErrorBody {
            error: json.member("error")?.string()?,
            info: json.member("info")?.string()?,
        }))
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal("database", error)
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(info) | E::Deserialization(info) => Self::InvalidRequest(info),
            E::Request(_) | E::Response(_) => Self::InvalidRequest(
                "the server could not be reached; check your connection and try again".into(),
            ),
            other => Self::internal("server function", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_the_daily_type_and_status() {
        let cases = [
            (
                AppError::AuthorizationHeader("x".into()),
                400,
                "authorization-header-error",
            ),
            (
                AppError::Authentication("x".into()),
                401,
                "authentication-error",
            ),
            (AppError::JsonParsing("x".into()), 400, "json-parsing-error"),
            (
                AppError::InvalidRequest("x".into()),
                400,
                "invalid-request-error",
            ),
            (
                AppError::PayloadTooLarge("x".into()),
                413,
                "invalid-request-error",
            ),
            (AppError::NotFound("x".into()), 404, "not-found"),
            (
                AppError::MethodNotAllowed("x".into()),
                405,
                "invalid-request-error",
            ),
            (AppError::Forbidden("x".into()), 403, "forbidden-error"),
            (AppError::RateLimited("x".into()), 429, "rate-limit-error"),
            (AppError::Server, 500, "server-error"),
        ];
        for (error, status, kind) in cases {
            assert_eq!(error.status(), status, "{error:?}");
            assert_eq!(error.kind(), kind, "{error:?}");
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let error = AppError::internal("test", "disk I/O error at /var/lib/knock.db");
        assert_eq!(error, AppError::Server);
        assert!(!error.body().info.contains("knock.db"));
    }

    #[test]
    fn on_the_wire_an_error_has_the_rest_shape_and_reads_back_as_its_variant() {
        let error = AppError::Forbidden("only an owner can answer knocks".into());
        let json = serde_json::to_value(&error).expect("encodes");
        assert_eq!(
            json,
            serde_json::json!({"error": "forbidden-error", "info": "only an owner can answer knocks"})
        );
        assert_eq!(
            serde_json::from_value::<AppError>(json).expect("decodes"),
            error
        );
        for error in [
            AppError::RateLimited("slow down".into()),
            AppError::NotFound("no room".into()),
            AppError::InvalidRequest("bad name".into()),
            AppError::Authentication("wrong key".into()),
            AppError::Server,
        ] {
            let json = serde_json::to_string(&error).expect("encodes");
            assert_eq!(
                serde_json::from_str::<AppError>(&json).expect("decodes"),
                error
            );
            // As the room page's forms read it in the browser.
            assert_eq!(crate::json::round_trip(&error), Some(error));
        }
    }
}
