//! Figure h: the server's memory under a signaling flood. Twenty people in one call each send
//! 30 KiB offers to one participant as fast as they can for 10 s, while that participant's
//! stream is open but never read (the worst case: every byte accepted would wait for it). The
//! per-session signaling budget refuses what is over it (429), and the hub ends the stalled
//! stream; the server's RSS is read before, every 200 ms during, and after the flood.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::{
    client::{Api, Person, Result, fail, nth_address},
    process::Knock,
    stats::{Row, Verdict},
};

const ROOM: &str = "bench-flood";
const FLOODERS: usize = 20;
const MESSAGE: usize = 30 * 1024;
const FLOOD_FOR: Duration = Duration::from_secs(10);
/// Growth of the server's RSS the flood may cause at most.
const GROWTH_GOAL_MB: f64 = 100.0;

/// The rows of figure h.
pub async fn run(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    api.knocking_room(ROOM).await?;
    let target = in_call(knock, api, 0, "target").await?;
    let target_id = session_id(&target).await?;
    // Open, and never read: the kernel's buffers fill, then the server's.
    let stalled = target.stream().await?;
    let mut flooders = Vec::new();
    for n in 1..=FLOODERS {
        flooders.push(in_call(knock, api, n, &format!("flooder-{n}")).await?);
    }
    let before = knock.settled_rss_mb().await?;

    let offer = json!({"room": ROOM, "to": target_id,
        "messages": [{"description": {"type": "offer", "sdp": "v".repeat(MESSAGE)}}]});
    let started = Instant::now();
    let sampler = {
        let pid = knock.pid;
        tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while started.elapsed() < FLOOD_FOR + Duration::from_secs(1) {
                if let Some(mb) = rss_mb(pid) {
                    peak = peak.max(mb);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            peak
        })
    };
    let counts: Vec<Result<(usize, usize)>> = join_all(flooders.iter().map(|flooder| {
        let offer = &offer;
        async move {
            let (mut accepted, mut refused) = (0, 0);
            while started.elapsed() < FLOOD_FOR {
                let response = flooder
                    .client
                    .post(format!("{}/api/signal", knock.base_url))
                    .json(offer)
                    .send()
                    .await?;
                match response.status().as_u16() {
                    200 => accepted += 1,
                    429 => refused += 1,
                    other => return fail(format!("a flooding signal answered {other}")),
                }
                response.bytes().await?;
            }
            Ok((accepted, refused))
        }
    }))
    .await;
    let peak = sampler.await?;
    let (mut accepted, mut refused) = (0, 0);
    for count in counts {
        let (a, r) = count?;
        accepted += a;
        refused += r;
    }
    drop(stalled);
    let after = knock.settled_rss_mb().await?;
    let growth = peak - before;
    Ok(vec![Row::new(
        "h. server RSS under a signaling flood",
        format!(
            "before {before:.0} MB, peak {peak:.0} MB, after {after:.0} MB; {accepted} signals \
             accepted ({:.1} MB), {refused} refused with 429",
            (accepted * MESSAGE) as f64 / 1e6
        ),
        format!("peak growth <= {GROWTH_GOAL_MB:.0} MB"),
        Verdict::goal(growth <= GROWTH_GOAL_MB),
        format!(
            "{FLOODERS} people in one call each send 30 KiB offers to one participant, one request \
             after another, for {} s, while that participant's event stream is open and never \
             read; VmRSS of the knock process: the median of 5 readings before, the highest \
             reading every 200 ms during, the median of 5 after the stalled stream is dropped",
            FLOOD_FOR.as_secs()
        ),
    )])
}

/// Someone in the call of the flood room (an owner token, so they join directly).
async fn in_call(knock: &Knock, api: &Api, n: usize, name: &str) -> Result<Person> {
    let token = api.owner_token(ROOM, name).await?;
    let person = Person::arrive(&knock.base_url, nth_address(60, n), ROOM, Some(&token)).await?;
    person.must("join", &[("name", name)]).await?;
    Ok(person)
}

/// The session's public id, from `preAuth`.
async fn session_id(person: &Person) -> Result<String> {
    let answer = person.call("pre_auth", &[]).await?;
    let body: Value = serde_json::from_str(&answer.body)?;
    match body["session_id"].as_str() {
        Some(id) => Ok(id.to_owned()),
        None => fail(format!(
            "no session_id in preAuth's answer: {}",
            answer.body
        )),
    }
}

/// VmRSS of `pid`, in MB.
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024.0 / 1e6)
}
