//! What every `/v1` route shares: the Bearer key, Daily's JSON errors, JSON parsing, the 64 KiB
//! body limit, `GET /v1/` and the unauthenticated OpenAPI document.

use reqwest::{Method, RequestBuilder, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, client_at, loopback, send, spawn_app};

fn request(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.client.request(method, app.url(path))
}

/// A raw (possibly broken) JSON body with the API key.
fn raw_json(app: &TestApp, path: &str, body: impl Into<String>) -> RequestBuilder {
    authed(app, Method::POST, path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
}

#[track_caller]
fn assert_error(answer: &(StatusCode, Value), status: u16, error: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], error, "{}", answer.1);
    let info = answer.1["info"].as_str().expect("info is a string");
    assert!(!info.trim().is_empty(), "{}", answer.1);
}

/// A room and a genuine token, so requests without a valid key would have something to change.
async fn fixtures(app: &TestApp) -> String {
    let (status, room) =
        send(authed(app, Method::POST, "/v1/rooms").json(&json!({"name": "existing"}))).await;
    assert_eq!(status, 200, "{room}");
    let (status, body) = send(
        authed(app, Method::POST, "/v1/meeting-tokens")
            .json(&json!({"properties": {"room_name": "existing"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Every `/v1` route and method, aimed at the fixtures; POSTs carry a valid body.
fn routes(token: &str) -> Vec<(Method, String, Option<Value>)> {
    let room_body = json!({"name": "intruder", "privacy": "private"});
    vec![
        (Method::GET, "/v1/".into(), None),
        (Method::GET, "/v1/rooms".into(), None),
        (Method::POST, "/v1/rooms".into(), Some(room_body)),
        (Method::GET, "/v1/rooms/existing".into(), None),
        (
            Method::POST,
            "/v1/rooms/existing".into(),
            Some(json!({"privacy": "private"})),
        ),
        (Method::DELETE, "/v1/rooms/existing".into(), None),
        (
            Method::POST,
            "/v1/meeting-tokens".into(),
            Some(json!({"properties": {"room_name": "existing"}})),
        ),
        (Method::GET, format!("/v1/meeting-tokens/{token}"), None),
        (Method::DELETE, format!("/v1/meeting-tokens/{token}"), None),
        (Method::GET, "/v1/presence".into(), None),
        (Method::GET, "/v1/rooms/existing/presence".into(), None),
        (Method::GET, "/v1/rooms/existing/waiting".into(), None),
        (
            Method::POST,
            "/v1/rooms/existing/waiting".into(),
            Some(json!({"*": {"grantRequestedAccess": true}})),
        ),
        (
            Method::POST,
            "/v1/rooms/existing/eject".into(),
            Some(json!({"ids": ["x"], "ban": true})),
        ),
    ]
}

/// Nothing was changed by refused requests: the room is still there and public, the token valid,
/// no other room exists.
async fn assert_untouched(app: &TestApp, token: &str) {
    let (status, room) = send(authed(app, Method::GET, "/v1/rooms/existing")).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["privacy"], "public");
    let (status, list) = send(authed(app, Method::GET, "/v1/rooms")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total_count"], 1, "{list}");
    let (status, body) = send(authed(
        app,
        Method::GET,
        &format!("/v1/meeting-tokens/{token}"),
    ))
    .await;
    assert_eq!(status, 200, "the token was not revoked: {body}");
}

#[tokio::test]
async fn every_route_without_an_authorization_header_is_400() {
    let app = spawn_app().await;
    let token = fixtures(&app).await;
    for (method, path, body) in routes(&token) {
        let mut call = request(&app, method.clone(), &path);
        if let Some(body) = body {
            call = call.json(&body);
        }
        let answer = send(call).await;
        assert_eq!(answer.0, 400, "{method} {path}: {}", answer.1);
        assert_error(&answer, 400, "authorization-header-error");
    }
    assert_untouched(&app, &token).await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_400() {
    let app = spawn_app().await;
    let key = &app.api_key;
    let headers = [
        format!("Basic {key}"),
        format!("Token {key}"),
        key.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
    ];
    for value in headers {
        let answer = send(
            request(&app, Method::GET, "/v1/rooms").header(header::AUTHORIZATION, value.as_str()),
        )
        .await;
        assert_eq!(answer.0, 400, "{value:?}: {}", answer.1);
        assert_error(&answer, 400, "authorization-header-error");
    }
}

#[tokio::test]
async fn every_route_with_a_wrong_key_is_401() {
    let app = spawn_app().await;
    let token = fixtures(&app).await;
    for (n, (method, path, body)) in routes(&token).into_iter().enumerate() {
        // Each from an address of its own: wrong keys are limited per client (clients.rs).
        let mut call = client_at(loopback(40, n))
            .request(method.clone(), app.url(&path))
            .bearer_auth("wrong-key");
        if let Some(body) = body {
            call = call.json(&body);
        }
        let answer = send(call).await;
        assert_eq!(answer.0, 401, "{method} {path}: {}", answer.1);
        assert_error(&answer, 401, "authentication-error");
    }
    assert_untouched(&app, &token).await;
}

#[tokio::test]
async fn bodies_that_are_not_json_are_refused_on_every_post() {
    let app = spawn_app().await;
    let token = fixtures(&app).await;
    let broken = [
        "name=intruder",
        "{",
        r#"{"name": "intruder",}"#,
        r#"{"properties": {"room_name": "existing"}"#,
        "not json at all",
    ];
    for path in [
        "/v1/rooms",
        "/v1/rooms/existing",
        "/v1/meeting-tokens",
        "/v1/rooms/existing/waiting",
        "/v1/rooms/existing/eject",
    ] {
        for body in broken {
            let answer = send(raw_json(&app, path, body)).await;
            assert_eq!(answer.0, 400, "{path} {body:?}: {}", answer.1);
            assert_error(&answer, 400, "json-parsing-error");
        }
    }
    assert_untouched(&app, &token).await;
}

#[tokio::test]
async fn the_seed_articles_unclosed_json_is_a_parsing_error_and_creates_nothing() {
    let app = spawn_app().await;
    // The article's first curl command, whose JSON lacks its closing brace.
    let body = "{\"name\": \"my-new-room\",\n       \"privacy\": \"private\"";
    let answer = send(raw_json(&app, "/v1/rooms", body)).await;
    assert_error(&answer, 400, "json-parsing-error");

    let answer = send(authed(&app, Method::GET, "/v1/rooms/my-new-room")).await;
    assert_error(&answer, 404, "not-found");
    let (_, list) = send(authed(&app, Method::GET, "/v1/rooms")).await;
    assert_eq!(list["total_count"], 0);
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_with_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(70 * 1024);
    let room = json!({"name": "big-room", "privacy": "private", "padding": padding}).to_string();
    let token = json!({"properties": {"room_name": "big-room", "user_id": padding}}).to_string();
    for (path, body) in [("/v1/rooms", room), ("/v1/meeting-tokens", token)] {
        let answer = send(raw_json(&app, path, body)).await;
        assert_eq!(answer.0, 413, "{path}: {}", answer.1);
        assert_error(&answer, 413, "invalid-request-error");
    }
    let answer = send(authed(&app, Method::GET, "/v1/rooms/big-room")).await;
    assert_error(&answer, 404, "not-found");
}

#[tokio::test]
async fn bodies_just_under_64_kib_are_read_and_validated() {
    let app = spawn_app().await;
    // 60 000 bytes of padding in an unknown property: refused for the property, not the size.
    let body = json!({"name": "big-room", "properties": {"bogus": "x".repeat(60_000)}}).to_string();
    assert!(body.len() < 64 * 1024);
    let answer = send(raw_json(&app, "/v1/rooms", body)).await;
    assert_error(&answer, 400, "invalid-request-error");
    let info = answer.1["info"].as_str().expect("info");
    assert!(info.contains("bogus"), "{info}");
}

#[tokio::test]
async fn the_api_root_answers_the_domain_id() {
    let app = spawn_app().await;
    let (status, body) = send(authed(&app, Method::GET, "/v1/")).await;
    assert_eq!(status, 200, "{body}");
    let domain_id = body["domain_id"].as_str().expect("domain_id is a string");
    assert!(!domain_id.is_empty());
    assert_eq!(domain_id, app.domain_id);
}

#[tokio::test]
async fn the_openapi_document_is_public_and_lists_every_route() {
    let app = spawn_app().await;
    let (status, document) = send(request(&app, Method::GET, "/v1/openapi.json")).await;
    assert_eq!(status, 200, "{document}");
    let version = document["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    let paths = &document["paths"];
    let routes: [(&str, &[&str]); 9] = [
        ("/v1/", &["get"]),
        ("/v1/presence", &["get"]),
        ("/v1/rooms/{name}/presence", &["get"]),
        ("/v1/rooms/{name}/waiting", &["get", "post"]),
        ("/v1/rooms/{name}/eject", &["post"]),
        ("/v1/rooms", &["get", "post"]),
        ("/v1/rooms/{name}", &["get", "post", "delete"]),
        ("/v1/meeting-tokens", &["post"]),
        ("/v1/meeting-tokens/{token}", &["get", "delete"]),
    ];
    for (path, methods) in routes {
        let operations = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from {paths}"));
        for method in methods {
            assert!(
                operations.get(method).is_some(),
                "{method} {path} missing: {operations}"
            );
        }
    }
}
