//! The server starts on a fresh database, renders pages and keeps its generated API key.

use app::ssr::{config::Config, state::AppState};
use leptos::config::LeptosOptions;

use crate::helpers::{spawn_app, spawn_app_with, spawn_sqlite_app};

#[tokio::test]
async fn health_check_answers_ok() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "ok");
}

#[tokio::test]
async fn home_page_is_server_rendered_with_the_hydration_script() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/")).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    assert!(html.contains("<h1>Knock</h1>"), "{html}");
    // The example commands carry this server's public URL, rendered on the server.
    assert!(
        html.contains(&format!("{}/v1/rooms", app.base_url)),
        "{html}"
    );
    assert!(
        html.contains("/pkg/knock.js"),
        "the page loads the wasm bundle"
    );
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_sentence() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("Page not found")
    );
}

#[tokio::test]
async fn the_database_file_is_created_and_in_wal_mode() {
    let app = spawn_sqlite_app().await;
    assert!(app.database.exists());
    let mode: String = {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.database.display()))
            .await
            .expect("reopen");
        sqlx_scalar(&pool, "PRAGMA journal_mode").await
    };
    assert_eq!(mode, "wal");
}

async fn sqlx_scalar(pool: &sqlx::SqlitePool, sql: &str) -> String {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("query")
}

#[tokio::test]
async fn a_generated_api_key_is_reported_on_first_start_only_and_kept() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = || {
        let mut config = Config::from_lookup(|_| None).expect("defaults");
        config.database_url = format!("sqlite://{}", dir.path().join("knock.db").display());
        config
    };
    let first = AppState::start(
        config(),
        LeptosOptions::builder().output_name("knock").build(),
    )
    .await
    .expect("first start");
    let generated = first
        .generated_api_key
        .expect("first start generates a key");
    assert_eq!(generated.expose().len(), 64);
    assert_eq!(first.state.api_key, generated);

    let second = AppState::start(
        config(),
        LeptosOptions::builder().output_name("knock").build(),
    )
    .await
    .expect("second start");
    assert!(
        second.generated_api_key.is_none(),
        "the key is shown once only"
    );
    assert_eq!(second.state.api_key, generated, "the stored key is reused");
    assert_eq!(second.state.domain_id, first.state.domain_id);
}

#[tokio::test]
async fn a_configured_api_key_is_used_and_never_generated() {
    let app = spawn_app_with(|config| {
        config.api_key = Some(app::ssr::config::Secret::new(
            "configured-key-0123456789abcdefghijklmnop",
        ));
    })
    .await;
    assert_eq!(app.api_key, "configured-key-0123456789abcdefghijklmnop");
}
