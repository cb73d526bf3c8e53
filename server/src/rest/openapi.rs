//! The OpenAPI 3 document of the REST API, generated from the handlers' annotations.

use axum::Json;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{domain, lobby, meeting_tokens, meetings, rooms, webhooks};

/// The whole `/v1` API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Knock REST API",
        description = "Daily-compatible rooms and meeting tokens. Every route but this document needs `Authorization: Bearer <KNOCK_API_KEY>`. Errors are `{\"error\": \"<type>\", \"info\": \"<sentence>\"}`."
    ),
    paths(
        domain::get,
        rooms::create,
        rooms::list,
        rooms::get,
        rooms::update,
        rooms::delete,
        meeting_tokens::create,
        meeting_tokens::validate,
        meeting_tokens::revoke,
        lobby::presence,
        lobby::room_presence,
        lobby::waiting,
        lobby::decide,
        lobby::eject,
        meetings::list,
        meetings::get,
        webhooks::create,
        webhooks::list,
        webhooks::get,
        webhooks::update,
        webhooks::delete,
    ),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    tags(
        (name = "domain", description = "This deployment"),
        (name = "rooms", description = "Rooms: public or private, with knocking"),
        (name = "meeting-tokens", description = "Tokens that open private rooms"),
        (name = "presence", description = "Who is in which call"),
        (name = "meetings", description = "Every meeting: who was in the call, who knocked and how it ended"),
        (name = "lobby", description = "Who is knocking; admit, deny, eject"),
        (name = "webhooks", description = "Where Knock POSTs meeting, participant and lobby events, signed, in order per room"),
    )
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The KNOCK_API_KEY"))
                    .build(),
            ),
        );
    }
}

/// `GET /v1/openapi.json`, served without authentication.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The document as pretty-printed JSON (`knock openapi`).
pub fn document_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}
