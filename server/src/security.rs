//! The browser's side of security: requests that change state must come from
//! `KNOCK_PUBLIC_URL`'s origin, and every response tells the browser not to frame the page,
//! not to guess content types and not to send its address to other sites.

use app::{error::AppError, ssr::config::normalized_origin, ssr::state::AppState};
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every response. It forbids framing by any site
/// (clickjacking an owner into "Allow"), plugins, a `<base>` that would redirect relative URLs,
/// and forms that post elsewhere. Scripts and styles are not restricted: Leptos' hydration
/// script and a room page's stylesheet are inline and would need a per-request nonce.
pub const CONTENT_SECURITY_POLICY: &str =
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

/// The Referrer-Policy of every response: the full address to this site only, nothing to
/// others. Same-origin referrers must stay: a form posted without JavaScript is answered with
/// a redirect back to the page it came from, which Leptos reads from `Referer`.
pub const REFERRER_POLICY: &str = "same-origin";

/// `router` with the headers every page and answer carries (unless a handler set its own).
pub fn with_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        // For browsers that predate `frame-ancestors`.
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, REFERRER_POLICY))
}

/// Whether `request` calls a server function that may change state (`POST /api/...`).
fn changes_state(request: &Request) -> bool {
    !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && request.uri().path().starts_with("/api/")
}

/// Where a browser says a request comes from, and whether that is `public_origin`: the
/// `Origin` header when present; else `Sec-Fetch-Site`, where `same-origin` and `none` (typed
/// in the address bar) pass. A request with neither is not from a browser that could be
/// tricked into sending it (curl, SDKs, tests) and passes too.
pub(crate) fn check_origin(
    public_origin: &str,
    headers: &axum::http::HeaderMap,
) -> Result<(), AppError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if normalized_origin(origin).as_deref() == Some(public_origin) {
            return Ok(());
        }
        return Err(AppError::Forbidden(format!(
            "this request comes from {origin}, and only pages of {public_origin} may make it; \
             if that is where Knock is reached, set KNOCK_PUBLIC_URL to it"
        )));
    }
    match headers
        .get("sec-fetch-site")
        .map(|value| value.to_str().unwrap_or_default())
    {
        None | Some("same-origin" | "none") => Ok(()),
        Some(site) => Err(AppError::Forbidden(format!(
            "this request comes from another site ({site}), and only pages of {public_origin} \
             may make it"
        ))),
    }
}

/// Refuses (403) a state-changing server-function request that a browser sent from another
/// origin than `KNOCK_PUBLIC_URL`'s.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if changes_state(&request)
        && let Err(error) = check_origin(&state.config.public_origin(), request.headers())
    {
        return error.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    const PUBLIC: &str = "https://knock.example.com";

    fn check(pairs: &[(&'static str, &'static str)]) -> Result<(), AppError> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        check_origin(PUBLIC, &headers)
    }

    #[test]
    fn only_the_public_origin_passes() {
        assert!(check(&[("origin", "https://knock.example.com")]).is_ok());
        assert!(check(&[("origin", "https://knock.example.com:443")]).is_ok());
        for other in [
            "https://evil.example",
            "http://knock.example.com",
            "https://knock.example.com.evil.example",
            "null",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("origin", HeaderValue::from_static(other));
            let error = check_origin(PUBLIC, &headers).expect_err(other);
            assert_eq!(error.status(), 403, "{other}");
        }
    }

    #[test]
    fn without_origin_the_fetch_site_decides() {
        assert!(check(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(check(&[("sec-fetch-site", "none")]).is_ok());
        assert!(check(&[("sec-fetch-site", "cross-site")]).is_err());
        assert!(check(&[("sec-fetch-site", "same-site")]).is_err());
        // The Origin header wins when both are there.
        assert!(
            check(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin")
            ])
            .is_err()
        );
    }

    #[test]
    fn requests_from_no_browser_pass() {
        assert!(check(&[]).is_ok());
    }
}
