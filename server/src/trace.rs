//! Request logging (tower-http's `TraceLayer`) without secrets: meeting tokens travel in `?t=`
//! and in `/v1/meeting-tokens/<token>` paths, and no log line, at any level, may hold one.

use axum::http::{Request, Uri};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::{MakeSpan, TraceLayer},
};
use tracing::Span;

/// What stands in a log for a secret taken out of a URI.
const REDACTED: &str = "[redacted]";

/// The path under which the REST API takes a meeting token as the last segment.
const TOKEN_PATH: &str = "/v1/meeting-tokens/";

/// tower-http's HTTP tracing, with each request's span made by [`RequestSpan`].
pub fn layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan> {
    TraceLayer::new_for_http().make_span_with(RequestSpan)
}

/// Makes the span every log line of a request carries (as tower-http's default, at debug level:
/// method, URI, version), with the URI passed through [`redacted_uri`].
#[derive(Clone, Copy, Debug)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::debug_span!(
            "request",
            method = %request.method(),
            uri = %redacted_uri(request.uri()),
            version = ?request.version(),
        )
    }
}

/// The path and query of `uri` with meeting tokens replaced: the value of every `t` query
/// parameter, and whatever follows `/v1/meeting-tokens/`.
pub fn redacted_uri(uri: &Uri) -> String {
    let path = uri.path();
    let mut redacted = match path.strip_prefix(TOKEN_PATH) {
        Some(rest) if !rest.is_empty() => format!("{TOKEN_PATH}{REDACTED}"),
        _ => path.to_owned(),
    };
    if let Some(query) = uri.query() {
        redacted.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("t", _)) => format!("t={REDACTED}"),
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(uri: &str) -> String {
        redacted_uri(&uri.parse().expect("a URI"))
    }

    #[test]
    fn meeting_tokens_never_reach_a_log() {
        assert_eq!(redact("/standup?t=eyJ.abc.def"), "/standup?t=[redacted]");
        assert_eq!(
            redact("/custom/standup?x=1&t=eyJ.abc.def&y=2"),
            "/custom/standup?x=1&t=[redacted]&y=2"
        );
        assert_eq!(
            redact("/v1/meeting-tokens/eyJ.abc.def?ignoreNbf=true"),
            "/v1/meeting-tokens/[redacted]?ignoreNbf=true"
        );
        assert_eq!(
            redact("http://127.0.0.1:3000/standup?t=eyJ.abc.def"),
            "/standup?t=[redacted]"
        );
    }

    #[test]
    fn other_uris_are_logged_as_they_are() {
        assert_eq!(redact("/v1/meeting-tokens"), "/v1/meeting-tokens");
        assert_eq!(redact("/v1/meeting-tokens/"), "/v1/meeting-tokens/");
        assert_eq!(redact("/v1/rooms?limit=5"), "/v1/rooms?limit=5");
        assert_eq!(redact("/standup?ts=1"), "/standup?ts=1");
    }
}
