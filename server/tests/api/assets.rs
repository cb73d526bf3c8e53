//! What a browser downloads: pages compressed and never cached, the site's files under `/pkg`
//! in their precompressed variant with a cache rule by name, REST answers compressed when
//! asked, and event streams never compressed (each event leaves as it happens).

use std::{io::Read, path::Path};

use app::ssr::{
    config::{Config, Secret},
    state::AppState,
};
use futures_util::StreamExt;
use leptos::config::LeptosOptions;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};

use crate::helpers::{API_KEY, EVENT_TIMEOUT, EventStream, Room, client, spawn_app};

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("a text header").to_owned())
}

/// The names a response's `Vary` headers list, lowercase, in order.
fn varies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(VARY)
        .iter()
        .flat_map(|value| value.to_str().expect("Vary is text").split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// Sends `request` saying the client accepts `encodings` (`Accept-Encoding`).
async fn get_accepting(
    request: reqwest::RequestBuilder,
    encodings: &'static str,
) -> reqwest::Response {
    request
        .header(ACCEPT_ENCODING, encodings)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn pages_are_compressed_and_never_cached() {
    let app = spawn_app().await;
    let response = get_accepting(app.client.get(app.url("/")), "gzip").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(
        header(&response, CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    let html = String::from_utf8(gunzip(&response.bytes().await.expect("body"))).expect("UTF-8");
    assert!(html.contains("<h1>Knock</h1>"), "{html}");

    let response = get_accepting(app.client.get(app.url("/")), "br;q=1, gzip;q=0.5").await;
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("br"));

    // A client that accepts no encoding gets the page as it is.
    let response = app.client.get(app.url("/")).send().await.expect("request");
    assert_eq!(header(&response, CONTENT_ENCODING), None);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("<h1>Knock</h1>")
    );
}

#[tokio::test]
async fn rest_answers_are_compressed_when_asked_and_never_cached_as_pages() {
    let app = spawn_app().await;
    let response = get_accepting(app.client.get(app.url("/v1/openapi.json")), "gzip").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(header(&response, CACHE_CONTROL), None, "not a page");
    let document: serde_json::Value =
        serde_json::from_slice(&gunzip(&response.bytes().await.expect("body"))).expect("JSON");
    assert!(
        document["paths"]["/v1/rooms"].is_object(),
        "the OpenAPI document, decompressed"
    );

    // An authenticated answer too (a list long enough to be worth compressing); without
    // `Accept-Encoding`, as it is.
    let api = app.api();
    for name in ["alpha", "bravo", "charlie", "delta"] {
        api.create_room(serde_json::json!({ "name": name })).await;
    }
    let rooms = || app.client.get(app.url("/v1/rooms")).bearer_auth(API_KEY);
    let response = get_accepting(rooms(), "br").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("br"));
    let response = rooms().send().await.expect("request");
    assert_eq!(header(&response, CONTENT_ENCODING), None);
    let list: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(list["total_count"], 4, "{list}");
}

#[tokio::test]
async fn an_event_stream_is_never_compressed_and_delivers_each_event_as_it_happens() {
    let room = Room::knocking().await;
    let owner = room.owner("Ana").await;
    let response = owner
        .client
        .get(room.app.url(&format!("/api/events/{}", room.name)))
        .header(ACCEPT_ENCODING, "br, gzip, deflate")
        .send()
        .await
        .expect("open the stream");
    assert_eq!(response.status(), 200);
    assert!(
        header(&response, CONTENT_TYPE)
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );
    assert_eq!(
        header(&response, CONTENT_ENCODING),
        None,
        "never compressed"
    );
    let mut events = EventStream::from_body(
        "Ana's stream",
        response
            .bytes_stream()
            .map(|chunk| chunk.map(|bytes| bytes.to_vec())),
    );
    let (status, state) = owner.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    events
        .expect_event("access-state-updated", EVENT_TIMEOUT)
        .await;
    // Each knock reaches the open stream on its own, before the next one is made.
    for name in ["Bo", "Cy", "Di"] {
        let guest = room.guest().await;
        guest.knocked(name).await;
        let event = events
            .expect_event("waiting-participant-added", EVENT_TIMEOUT)
            .await;
        assert_eq!(event.data["participant"]["name"], name, "{event:?}");
    }
}

/// A server whose site root is `site`, with the API key set; its base URL.
async fn serve_site(site: &Path, database: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("free port");
    let addr = listener.local_addr().expect("bound address");
    let mut config = Config::from_lookup(|_| None).expect("default configuration");
    config.api_key = Some(Secret::new(API_KEY));
    config.database_url = format!("sqlite://{}", database.display());
    let config = config.bound_to(addr);
    let options = LeptosOptions::builder()
        .output_name("knock")
        .site_root(site.display().to_string())
        .site_addr(addr)
        .build();
    let startup = AppState::start(config, options)
        .await
        .expect("server starts");
    let presence = std::sync::Arc::clone(&startup.state.presence);
    server::spawn(listener, startup.state);
    presence.settled().await;
    format!("http://{addr}")
}

#[tokio::test]
async fn site_files_come_precompressed_and_hashed_names_are_cached_for_good() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let pkg = dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("pkg directory");
    let wasm: Vec<u8> = (0..20_000u32).flat_map(|n| (n % 7).to_le_bytes()).collect();
    let write = |name: &str, bytes: &[u8]| std::fs::write(pkg.join(name), bytes).expect("write");
    let hashed = "knock.Ab3_x-9QzT1e.wasm";
    write(hashed, &wasm);
    // The precompressed variants stand in for what scripts/precompress.mjs writes; they differ
    // from what the server would compress itself, so the test sees which one was sent.
    write(&format!("{hashed}.br"), b"brotli variant");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gzip, &wasm).expect("gzip");
    write(&format!("{hashed}.gz"), &gzip.finish().expect("gzip"));
    let css = "body { color: black; }\n".repeat(100);
    write("knock.css", css.as_bytes());
    let base = serve_site(&dir.path().join("site"), &dir.path().join("knock.db")).await;
    let client = client();
    let get = |path: &str, encodings: Option<&str>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(encodings) = encodings {
            request = request.header(ACCEPT_ENCODING, encodings);
        }
        request.send()
    };

    let response = get(&format!("/pkg/{hashed}"), Some("gzip, br"))
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("br"));
    // Every variant says that it depends on Accept-Encoding, once, so that a shared cache
    // never hands the Brotli one to a browser that did not ask for it.
    assert_eq!(varies(&response), ["accept-encoding"]);
    assert_eq!(
        header(&response, CACHE_CONTROL).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        header(&response, CONTENT_TYPE).as_deref(),
        Some("application/wasm")
    );
    assert_eq!(
        &response.bytes().await.expect("body")[..],
        b"brotli variant"
    );

    let response = get(&format!("/pkg/{hashed}"), Some("gzip"))
        .await
        .expect("request");
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(varies(&response), ["accept-encoding"]);
    assert_eq!(gunzip(&response.bytes().await.expect("body")), wasm);

    let response = get(&format!("/pkg/{hashed}"), None).await.expect("request");
    assert_eq!(header(&response, CONTENT_ENCODING), None);
    assert_eq!(varies(&response), ["accept-encoding"]);
    assert_eq!(&response.bytes().await.expect("body")[..], &wasm[..]);

    // A file without a hash in its name is revalidated before each use; without a
    // precompressed variant it is compressed per response.
    let response = get("/pkg/knock.css", Some("gzip")).await.expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, CACHE_CONTROL).as_deref(),
        Some("no-cache")
    );
    assert_eq!(header(&response, CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(varies(&response), ["accept-encoding"]);
    assert_eq!(
        gunzip(&response.bytes().await.expect("body")),
        css.as_bytes()
    );

    // A missing file is not cached for good under any name.
    let response = get("/pkg/knock.0000000000000000.js", Some("gzip"))
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    assert_eq!(header(&response, CACHE_CONTROL), None);
}

#[tokio::test]
async fn a_room_page_carries_the_stylesheet_after_its_preloads_and_other_pages_link_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let pkg = dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("pkg directory");
    let stylesheet = pkg.join("knock.css");
    // A child combinator and a quote: the page must carry them as they are, not escaped.
    let css = "main > p { color: #123456; font-family: \"Knock Sans\"; }\n";
    std::fs::write(&stylesheet, css).expect("stylesheet");
    let base = serve_site(&dir.path().join("site"), &dir.path().join("knock.db")).await;
    let client = client();
    let created = client
        .post(format!("{base}/v1/rooms"))
        .bearer_auth(API_KEY)
        .json(&serde_json::json!({ "name": "styled" }))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 200);
    let head = |page: &str| page.split("</head>").next().unwrap_or_default().to_owned();
    let room_page = || async {
        let page = client
            .get(format!("{base}/styled"))
            .send()
            .await
            .expect("request");
        head(&page.text().await.expect("body"))
    };
    let link = r#"<link id="leptos" rel="stylesheet" href="/pkg/knock.css">"#;

    let room = room_page().await;
    assert!(room.contains(&format!("<style>{css}</style>")), "{room}");
    assert!(!room.contains("stylesheet"), "{room}");
    // The script and the wasm are asked for before the browser reads the stylesheet.
    let style = room.find("<style>").expect("the style element");
    for preload in [
        "rel=\"modulepreload\" href=\"/pkg/knock.js\"",
        "href=\"/pkg/knock.wasm\"",
    ] {
        assert!(
            room.find(preload).is_some_and(|at| at < style),
            "{preload}: {room}"
        );
    }

    let home = client.get(&base).send().await.expect("request");
    let home = head(&home.text().await.expect("body"));
    assert!(home.contains(link), "{home}");
    assert!(!home.contains("<style>"), "{home}");

    // A stylesheet that would end its element early, or none, is linked instead.
    std::fs::write(&stylesheet, "/* </STYLE> */ p { color: red; }").expect("stylesheet");
    let room = room_page().await;
    assert!(room.contains(link) && !room.contains("<style>"), "{room}");
    std::fs::remove_file(&stylesheet).expect("no stylesheet");
    let room = room_page().await;
    assert!(room.contains(link) && !room.contains("<style>"), "{room}");
}
