//! `GET /v1/`: facts about this deployment.

use app::ssr::state::AppState;
use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;

/// This deployment, as `GET /v1/` describes it.
#[derive(Serialize, ToSchema)]
pub struct Domain {
    /// The `d` claim of this deployment's meeting tokens; self-signed tokens must carry it.
    pub domain_id: String,
    /// The host of `KNOCK_PUBLIC_URL`.
    pub domain_name: String,
    /// `KNOCK_PUBLIC_URL`: the base of room URLs.
    pub public_url: String,
}

/// Describes this deployment.
#[utoipa::path(
    get,
    path = "/v1/",
    operation_id = "getDomain",
    tag = "domain",
    responses(
        (status = 200, description = "This deployment", body = Domain),
        (status = 400, description = "Missing or malformed Authorization header", body = app::error::ErrorBody),
        (status = 401, description = "Wrong API key", body = app::error::ErrorBody),
    )
)]
pub async fn get(State(state): State<AppState>) -> Json<Domain> {
    let public_url = state.config.public_url.clone();
    let domain_name = public_url
        .split_once("://")
        .map_or(public_url.as_str(), |(_, rest)| rest)
        .to_owned();
    Json(Domain {
        domain_id: state.domain_id.clone(),
        domain_name,
        public_url,
    })
}
