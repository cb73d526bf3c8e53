//! Figure c: REST throughput of Knock beside the bare handlers of `bare.rs`, at the same fixed
//! concurrency and duration, in alternating rounds.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    bare,
    client::{Api, Result, fail},
    process::{API_KEY, Knock},
    stats::{Row, Verdict, median},
};

/// Requests in flight.
pub const CONCURRENCY: usize = 16;
/// How long a measured round lasts.
pub const ROUND: Duration = Duration::from_secs(2);
/// The unmeasured run before the rounds.
pub const WARM_UP: Duration = Duration::from_secs(1);
/// Measured rounds.
pub const ROUNDS: usize = 5;
const GOAL_RATIO: f64 = 0.5;

/// A REST endpoint measured.
#[derive(Clone, Copy)]
pub enum Endpoint {
    /// `GET /v1/rooms/{ROOM}`.
    GetRoom,
    /// `POST /v1/meeting-tokens` for `ROOM`.
    MintToken,
}

/// The room the endpoints are called for (it must exist).
pub const ROOM: &str = "bench-rest";

impl Endpoint {
    /// Both, in the order of the table.
    pub const ALL: [Self; 2] = [Self::GetRoom, Self::MintToken];

    fn request(self, client: &reqwest::Client, base_url: &str) -> reqwest::RequestBuilder {
        match self {
            Self::GetRoom => client.get(format!("{base_url}/v1/rooms/{ROOM}")),
            Self::MintToken => {
                client
                    .post(format!("{base_url}/v1/meeting-tokens"))
                    .json(&json!({"properties": {
                        "room_name": ROOM, "is_owner": false, "user_name": "Bench",
                    }}))
            }
        }
        .bearer_auth(API_KEY)
    }

    /// The method and path.
    pub fn label(self) -> &'static str {
        match self {
            Self::GetRoom => "GET /v1/rooms/{name}",
            Self::MintToken => "POST /v1/meeting-tokens",
        }
    }
}

/// Requests per second answered 200 for `endpoint`, with `CONCURRENCY` requests in flight for
/// `duration`, each worker's requests going to `base_urls` in turn (one server, or several on
/// one database); an error for any other answer.
pub async fn throughput(endpoint: Endpoint, base_urls: &[&str], duration: Duration) -> Result<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    let base_urls: Arc<[String]> = base_urls.iter().map(|&url| url.to_owned()).collect();
    for worker in 0..CONCURRENCY {
        let (client, done, base_urls) = (client.clone(), done.clone(), base_urls.clone());
        workers.push(tokio::spawn(async move {
            // Workers start on different servers, so each server has requests in flight at once.
            let mut turn = worker;
            while Instant::now() < deadline {
                let base_url = &base_urls[turn % base_urls.len()];
                turn += 1;
                let response = endpoint.request(&client, base_url).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                if status != 200 {
                    return fail(format!(
                        "{} answered {status}: {}",
                        endpoint.label(),
                        String::from_utf8_lossy(&body)
                    ));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// The rows of figure c.
pub async fn run(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    api.knocking_room(ROOM).await?;
    let room: app::model::Room =
        serde_json::from_value(api.get(&format!("/v1/rooms/{ROOM}")).await?)?;
    let domain_id = api.get("/v1/").await?["domain_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bare = bare::start(API_KEY, &domain_id, vec![room])?;
    let mut rows = Vec::new();
    let (knock_urls, bare_urls) = (&[knock.base_url.as_str()], &[bare.base_url.as_str()]);
    for endpoint in Endpoint::ALL {
        throughput(endpoint, knock_urls, WARM_UP).await?;
        throughput(endpoint, bare_urls, WARM_UP).await?;
        let (mut on_knock, mut on_bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            // Alternate which goes first, so a burst of noise does not always hit the same one.
            let (k, b) = if round % 2 == 0 {
                let k = throughput(endpoint, knock_urls, ROUND).await?;
                (k, throughput(endpoint, bare_urls, ROUND).await?)
            } else {
                let b = throughput(endpoint, bare_urls, ROUND).await?;
                (throughput(endpoint, knock_urls, ROUND).await?, b)
            };
            on_knock.push(k);
            on_bare.push(b);
            ratios.push(k / b);
        }
        let (k, b) = (median(&mut on_knock), median(&mut on_bare));
        let ratio = k / b;
        rows.push(Row::new(
            format!("c. {}", endpoint.label()),
            format!(
                "Knock {k:.0} req/s, bare {b:.0} req/s: {ratio:.2}x (per-round ratios {:.2}-{:.2})",
                ratios.iter().copied().fold(f64::INFINITY, f64::min),
                ratios.iter().copied().fold(0.0, f64::max),
            ),
            format!(">= {GOAL_RATIO}x bare"),
            Verdict::goal(ratio >= GOAL_RATIO),
            format!(
                "{CONCURRENCY} requests in flight over keep-alive connections (reqwest, this process) \
                 for {}s, {ROUNDS} alternating rounds after a {}s warm-up; medians of the rounds and \
                 their ratio. Bare: axum handler in-process on its own 2-thread runtime, same bearer \
                 check, JSON parse and validation, same response body, HS256 signing; no database",
                ROUND.as_secs(),
                WARM_UP.as_secs()
            ),
        ));
    }
    drop(bare);
    api.delete_room(ROOM).await?;
    Ok(rows)
}
