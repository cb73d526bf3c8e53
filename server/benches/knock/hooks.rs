//! Figure i: a dead webhook receiver never slows the lobby. The knock answer (request_access
//! sent to its HTTP answer) is timed as in figure a, first with no webhook, then with a webhook
//! whose receiver answered the test POST and then never answers again: every knock still
//! writes its delivery in its own transaction, and the deliverer's hanging requests run beside
//! the lobby, never in its way.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{Router, http::StatusCode, routing::post};

use crate::{
    client::{Api, Result},
    latency::{self, Knocks},
    process::Knock,
    stats::{Row, Verdict, percentile},
};

/// A receiver on port 0 that answers 200 once (Knock's test POST), then never again; its URL.
async fn dead_receiver() -> Result<String> {
    let answered = Arc::new(AtomicBool::new(false));
    let router = Router::new().route(
        "/hooks",
        post(move || {
            let answered = Arc::clone(&answered);
            async move {
                if answered.swap(true, Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{addr}/hooks"))
}

fn answers(measured: Knocks) -> (f64, f64) {
    let mut responses = measured.responses;
    (
        percentile(&mut responses, 50.0),
        percentile(&mut responses, 99.0),
    )
}

/// The rows of figure i.
pub async fn run(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    let none =
        answers(latency::knocks(&knock.base_url, &knock.base_url, api, "bench-hooks-none").await?);
    let url = dead_receiver().await?;
    let webhook = api.create_webhook(&url).await?;
    let dead =
        answers(latency::knocks(&knock.base_url, &knock.base_url, api, "bench-hooks-dead").await?);
    // The figures after this one run without it.
    api.delete_webhook(&webhook).await?;
    Ok(vec![Row::new(
        "i. knock answer with a dead webhook receiver",
        format!(
            "no webhook: p50 {:.2} ms, p99 {:.2} ms; dead receiver: p50 {:.2} ms, p99 {:.2} ms",
            none.0, none.1, dead.0, dead.1
        ),
        "dead p99 <= 2x none",
        Verdict::goal(dead.1 <= 2.0 * none.1.max(1.0)),
        String::from(
            "from sending POST /api/request_access to its HTTP answer, pooled over 3 rounds of \
             200 knocks (+10 uncounted) as in figure a (one at a time, each guest its own \
             browser and address with its stream open, one owner in the call); run twice: \
             without a webhook, then with one subscribed to every event whose receiver (in this \
             process) answered the test POST and then holds every delivery open until Knock's \
             10 s timeout",
        ),
    )])
}
