//! What the browser downloads and keeps: the site's static files under `/pkg` (the wasm, its
//! JavaScript glue and the stylesheet), compressed and cached by name, and the rules for every
//! other response: compressed when worth it (never an event stream), pages never cached.
//!
//! - **Hashed names.** `cargo leptos build` names each file after its content
//!   (`knock.<hash>.wasm`, `hash-files` in the workspace's Leptos metadata) and writes the hashes
//!   to `hash.txt` next to the binary; `scripts/hash-names.mjs` (run by `make build` and
//!   `make e2e`) then names anew the script, the wasm and the split loader, which cargo-leptos
//!   rewrites after naming them. [`with_hashed_names`] turns hashing on when that file is
//!   there, so the page links the hashed names. A hashed file never changes: it is answered
//!   with `Cache-Control: public, max-age=31536000, immutable`. Any other file under `/pkg`
//!   (an unhashed build) is answered with `no-cache`, so it is revalidated before each use.
//! - **Compression at build time.** `scripts/precompress.mjs` (run by `make build` and
//!   `make e2e`) writes `<file>.br` and `<file>.gz` next to each file; the file service
//!   answers with the variant the browser accepts (`Content-Encoding: br` or `gzip`) without
//!   compressing anything per request.
//! - **Compression per response.** Everything else (pages, server functions, the REST API,
//!   and a static file that has no precompressed variant) goes through tower-http's
//!   compression, which skips event streams (`text/event-stream`: compressing would buffer
//!   events until a block fills), images and tiny bodies.
//! - **Pages.** An HTML response carries `Cache-Control: no-store`: a page holds per-visitor
//!   state (session, lobby place) and must be fetched anew on every visit.

use std::path::{Path, PathBuf};

use app::ssr::hash_file;
use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use leptos::config::LeptosOptions;
use tower_http::{
    compression::{
        CompressionLayer, CompressionLevel,
        predicate::{NotForContentType, Predicate, SizeAbove},
    },
    services::ServeDir,
};

/// The `Cache-Control` of a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The `Cache-Control` of a static file without a hash in its name: revalidate before use.
pub const REVALIDATE: &str = "no-cache";
/// The `Cache-Control` of every page (HTML).
pub const PAGE: &str = "no-store";
/// The quality of Brotli and the level of gzip for what is compressed per response. With the
/// encoder's default, the room page (27.8 KiB with its stylesheet) came out at 6.6 KiB in
/// Brotli; at 5, 6.1 KiB, in the same time (README, Performance, figure e).
const DYNAMIC_QUALITY: i32 = 5;

/// `options` with `hash_files` on when the build wrote its hash file next to this binary
/// (where Leptos' `HydrationScripts` and `HashedStylesheet` read it), unless
/// `LEPTOS_HASH_FILES` says otherwise. Warns when the site lacks a file that hash file names
/// (a binary and a site from two builds): its pages would link files the server cannot send.
pub fn with_hashed_names(mut options: LeptosOptions) -> LeptosOptions {
    let hash_path = hash_file::path(&options);
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = hash_path.as_deref().is_some_and(Path::is_file);
    }
    let pkg = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    if let Some(hashes) = hash_path
        .filter(|_| options.hash_files)
        .and_then(|file| std::fs::read_to_string(file).ok())
    {
        let missing = missing_hashed_files(&hashes, &pkg, &options.output_name);
        if !missing.is_empty() {
            tracing::warn!(
                missing = ?missing,
                "the site lacks files that the hash.txt beside this binary names, so pages will \
                 not hydrate: serve the site built with this binary (`make build` writes both), \
                 with that build's hash.txt beside the binary"
            );
        }
    }
    let plain_script = pkg.join(format!("{}.js", options.output_name));
    if !options.hash_files && !plain_script.is_file() {
        tracing::warn!(
            missing = %plain_script.display(),
            "the site has no unhashed script: a hashed build needs the hash.txt `cargo leptos \
             build` wrote beside the binary, next to this binary"
        );
    }
    options
}

/// The files named in `hashes` (the text of a `hash.txt`) that `pkg` does not hold: the script,
/// wasm and stylesheet (`<output_name>.<hash>.<ext>`), the split loader and its manifest.
fn missing_hashed_files(hashes: &str, pkg: &Path, output_name: &str) -> Vec<PathBuf> {
    hash_file::entries(hashes)
        .filter_map(|(key, hash)| hash_file::file_name(key, hash, output_name))
        .map(|name| pkg.join(name))
        .filter(|file| !file.is_file())
        .collect()
}

/// `router` with the site's `/pkg` files served from `options.site_root`, each with its cache
/// rule, in the precompressed variant the browser accepts when there is one.
pub fn with_static_files<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    options: &LeptosOptions,
) -> Router<S> {
    let files = ServeDir::new(options.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip();
    let route = format!("/{}/{{*file}}", options.site_pkg_dir);
    router.merge(
        Router::new()
            .route_service(&route, files)
            .layer(axum::middleware::from_fn(cache_by_name)),
    )
}

/// Sets the cache rule of a static file's answer from its name, and says that its body depends
/// on `Accept-Encoding` (`Vary`), whichever variant was sent.
///
/// The file service sends a precompressed variant without `Vary`, and the compression layer adds
/// it only to what it compresses itself or could have: a shared cache (a CDN, a proxy) that
/// stored a Brotli answer under the file's name alone would hand it, for a year, to a browser
/// that cannot decode it, whose page would then never hydrate.
async fn cache_by_name(request: Request, next: Next) -> Response {
    let hashed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_hashed_name);
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let rule = if hashed { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
        let varies = headers.get_all(header::VARY).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding"))
            })
        });
        if !varies {
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// Whether a file name carries a content hash as cargo-leptos writes it: `<stem>.<hash>.<ext>`,
/// the hash at least 8 characters of letters, digits, `-` or `_`.
pub fn is_hashed_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && !parts[0].is_empty()
        && parts[parts.len() - 2].len() >= 8
        && parts[parts.len() - 2]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Compression of dynamic responses: Brotli or gzip as the client accepts, never for an event
/// stream (each event must leave as it happens), images or bodies under 256 bytes. Responses
/// that already carry a `Content-Encoding` (precompressed files) pass untouched.
///
/// At [`DYNAMIC_QUALITY`].
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(DYNAMIC_QUALITY))
        .compress_when(
            SizeAbove::new(256)
                .and(NotForContentType::SSE)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::GRPC),
        )
}

/// Marks a page (`text/html`) as never to be cached, unless its handler chose otherwise.
pub async fn pages_not_cached(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_page && !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(PAGE));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{is_hashed_name, missing_hashed_files};

    #[test]
    fn the_files_a_hash_file_names_are_looked_for_in_the_site() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let pkg = dir.path();
        for name in [
            "knock.Aaaaaaaaaaaaaaaaaaaaaa.js",
            "knock.Aaaaaaaaaaaaaaaaaaaaaa.wasm",
            "__wasm_split.Aaaaaaaaaaaaaaaaaaaaaa.js",
        ] {
            std::fs::write(pkg.join(name), b"").expect("a file in it");
        }
        let hashes = "js: Aaaaaaaaaaaaaaaaaaaaaa\nwasm: Aaaaaaaaaaaaaaaaaaaaaa\n\
                      css: Cccccccccccccccccccccc\nmanifest: Mmmmmmmmmmmmmmmmmmmmmm\n\
                      split: Aaaaaaaaaaaaaaaaaaaaaa\n";
        let missing = missing_hashed_files(hashes, pkg, "knock");
        assert_eq!(
            missing,
            vec![
                pkg.join("knock.Cccccccccccccccccccccc.css"),
                pkg.join("__wasm_split_manifest.Mmmmmmmmmmmmmmmmmmmmmm.json"),
            ]
        );
    }

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_hashed_name("knock.Ab3_x-9QzT1.wasm"));
        assert!(is_hashed_name("knock.0123456789abcdef.css"));
        assert!(!is_hashed_name("knock.wasm"));
        assert!(!is_hashed_name("knock.js"));
        assert!(!is_hashed_name("knock_bg.wasm.d.ts"));
        assert!(!is_hashed_name(".hidden12345678.js"));
        assert!(!is_hashed_name("knock.has space.js"));
    }
}
