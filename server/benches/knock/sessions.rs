//! Figure b: many open event streams. 10,000 guests wait in 100 rooms, each its own browser
//! and address with its stream open; the server's RSS is read at 1,000 and 10,000. Then, with
//! those still open, one event is fanned out to 1,000 admin streams: a room holds at most 200
//! people, so 200 owners are in one call with 5 tabs (streams) each, and guests knock on it.

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

use crate::{
    client::{Api, Person, Result, fail, nth_address},
    latency::LOST_AFTER,
    process::Knock,
    sse::{Counters, Delivery, spawn_reader},
    stats::{Row, Verdict, median, ms, percentile},
};

const ROOMS: usize = 100;
const FIRST: usize = 1_000;
const GUESTS: usize = 10_000;
/// Owners in the fan-out room (the room maximum), and streams per owner.
pub const OWNERS: usize = 200;
/// Streams (tabs) per owner.
pub const TABS: usize = 5;
/// Fan-out rounds.
pub const ROUNDS: usize = 3;
/// Knocks per fan-out round.
pub const KNOCKS: usize = 40;
/// Simulated browsers setting up at once.
const PARALLEL: usize = 64;
const RSS_GOAL_MB: f64 = 250.0;
/// The goal for one event reaching all 1,000 admin streams.
pub const FANOUT_GOAL_MS: f64 = 100.0;
/// Open files this figure needs in each process (both ends of every stream, and some spare).
pub const FILES_NEEDED: u64 = (GUESTS + OWNERS * TABS + ROUNDS * KNOCKS + 1_000) as u64;

/// Guests `range` arrive in their rooms, knock and open their streams (which stay open).
async fn crowd(
    knock: &Knock,
    range: std::ops::Range<usize>,
    counters: &Arc<Counters>,
) -> Result<()> {
    let results: Vec<Result<()>> = stream::iter(range)
        .map(|i| {
            let (base_url, counters) = (knock.base_url.clone(), counters.clone());
            async move {
                let room = format!("bench-crowd-{:02}", i % ROOMS);
                let guest = Person::arrive(&base_url, nth_address(30, i), &room, None).await?;
                let answer = guest.knock(&format!("crowd-{i}")).await?;
                if answer.status != 200 {
                    return fail(format!(
                        "crowd-{i}'s knock answered {}: {}",
                        answer.status, answer.body
                    ));
                }
                // Opened after the knock, so it reuses the knock's connection: one per guest.
                spawn_reader(guest.stream().await?, i, None, counters);
                Ok(())
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    results.into_iter().collect()
}

/// `OWNERS` owners in the call of `room` with `TABS` streams each, whose knocks arrive on the
/// receiver. Stream `s` (owner `s / TABS`'s tab `s % TABS`) is opened through
/// `urls[s % urls.len()]`, with the owner's one session; the owner arrives and joins through
/// their first tab's server.
pub async fn owners(
    urls: &[&str],
    api: &Api,
    room: &str,
    counters: &Arc<Counters>,
) -> Result<mpsc::UnboundedReceiver<Delivery>> {
    let (sender, deliveries) = mpsc::unbounded_channel();
    let results: Vec<Result<()>> = stream::iter(0..OWNERS)
        .map(|k| {
            let (counters, sender) = (counters.clone(), sender.clone());
            let api = api.clone();
            async move {
                let name = format!("owner-{k}");
                let token = api.owner_token(room, &name).await?;
                let url = |s: usize| urls[s % urls.len()];
                let owner =
                    Person::arrive(url(k * TABS), nth_address(40, k), room, Some(&token)).await?;
                for tab in 0..TABS {
                    let s = k * TABS + tab;
                    let sink = (sender.clone(), &["waiting-participant-added"][..]);
                    spawn_reader(
                        owner.on(url(s)).stream().await?,
                        s,
                        Some(sink),
                        counters.clone(),
                    );
                }
                owner.must("join", &[("name", &name)]).await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    results.into_iter().collect::<Result<()>>()?;
    Ok(deliveries)
}

/// One knock fanned out: when the knocker's answer came and when each admin stream got it,
/// in ms from the moment it was sent.
struct FanOut {
    answered: f64,
    /// (stream, ms) for each of the `OWNERS * TABS` streams.
    each: Vec<(usize, f64)>,
}

/// One knock on `room` by guest `j`, through the server at `guest_url`.
async fn fan_out(
    guest_url: &str,
    room: &str,
    j: usize,
    deliveries: &mut mpsc::UnboundedReceiver<Delivery>,
    counters: &Arc<Counters>,
) -> Result<FanOut> {
    let guest = Person::arrive(guest_url, nth_address(41, j), room, None).await?;
    spawn_reader(guest.stream().await?, usize::MAX, None, counters.clone());
    let name = format!("fan-{j}");
    let sent = Instant::now();
    let answer = guest.knock(&name).await?;
    let answered = ms(sent.elapsed());
    if answer.status != 200 {
        return fail(format!(
            "{name}'s knock answered {}: {}",
            answer.status, answer.body
        ));
    }
    let mut streams = HashSet::new();
    let mut latencies = Vec::new();
    let deadline = tokio::time::Instant::now() + LOST_AFTER;
    while streams.len() < OWNERS * TABS {
        match tokio::time::timeout_at(deadline, deliveries.recv()).await {
            Ok(Some(delivery)) => {
                if delivery.who.as_deref() == Some(name.as_str()) && streams.insert(delivery.stream)
                {
                    latencies.push((delivery.stream, ms(delivery.at.duration_since(sent))));
                }
            }
            Ok(None) | Err(_) => {
                return fail(format!(
                    "{name}'s knock reached {} of {} admin streams within {LOST_AFTER:?}",
                    streams.len(),
                    OWNERS * TABS
                ));
            }
        }
    }
    Ok(FanOut {
        answered,
        each: latencies,
    })
}

/// What [`fan_outs`] measured, in ms from sending each knock.
pub struct FanOuts {
    /// Each round's p50 of the moment the last of the streams was reached.
    pub round_p50s: Vec<f64>,
    /// Each round's p99 of the same.
    pub round_p99s: Vec<f64>,
    /// Per knock, the first stream reached.
    pub first: Vec<f64>,
    /// Per knock, the knocker's own HTTP answer.
    pub answered: Vec<f64>,
    /// Per knock and stream: (stream, ms).
    pub each: Vec<(usize, f64)>,
}

/// `ROUNDS` rounds of `KNOCKS` knocks on `room`, one after another, each by a new guest
/// arriving through `guest_url`, fanned out to the admin streams of [`owners`].
pub async fn fan_outs(
    guest_url: &str,
    room: &str,
    deliveries: &mut mpsc::UnboundedReceiver<Delivery>,
    counters: &Arc<Counters>,
) -> Result<FanOuts> {
    let mut measured = FanOuts {
        round_p50s: Vec::new(),
        round_p99s: Vec::new(),
        first: Vec::new(),
        answered: Vec::new(),
        each: Vec::new(),
    };
    for round in 0..ROUNDS {
        let mut all_reached = Vec::new();
        for j in round * KNOCKS..(round + 1) * KNOCKS {
            let knocked = fan_out(guest_url, room, j, deliveries, counters).await?;
            let times = || knocked.each.iter().map(|&(_, at)| at);
            all_reached.push(times().fold(0.0, f64::max));
            measured.first.push(times().fold(f64::INFINITY, f64::min));
            measured.answered.push(knocked.answered);
            measured.each.extend(knocked.each);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        measured.round_p50s.push(percentile(&mut all_reached, 50.0));
        measured.round_p99s.push(percentile(&mut all_reached, 99.0));
    }
    Ok(measured)
}

/// The rows of figure b; `files` is the open-file limit the bench could get.
pub async fn run(knock: &Knock, api: &Api, files: u64) -> Result<Vec<Row>> {
    if files < FILES_NEEDED {
        return Ok(vec![Row::new(
            "b. concurrent sessions",
            "not measured",
            "-",
            Verdict::Missed,
            format!("the open-file limit is {files}, the figure needs {FILES_NEEDED} per process"),
        )]);
    }
    let idle = knock.settled_rss_mb().await?;
    for room in 0..ROOMS {
        api.knocking_room(&format!("bench-crowd-{room:02}")).await?;
    }
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    crowd(knock, 0..FIRST, &counters).await?;
    let at_first = knock.settled_rss_mb().await?;
    eprintln!("[bench] b: {FIRST} streams open");
    crowd(knock, FIRST..GUESTS, &counters).await?;
    let setup = started.elapsed();
    let at_all = knock.settled_rss_mb().await?;

    let room = "bench-fanout";
    api.knocking_room(room).await?;
    let admin_counters = Arc::new(Counters::default());
    let mut deliveries = owners(&[&knock.base_url], api, room, &admin_counters).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    while deliveries.try_recv().is_ok() {}
    eprintln!(
        "[bench] b: {} streams open, fanning out",
        GUESTS + OWNERS * TABS
    );
    let FanOuts {
        mut round_p50s,
        mut round_p99s,
        mut first,
        mut answered,
        each,
    } = fan_outs(&knock.base_url, room, &mut deliveries, &admin_counters).await?;
    let mut each: Vec<f64> = each.into_iter().map(|(_, at)| at).collect();
    let with_admins = knock.settled_rss_mb().await?;
    let dropped = counters.ended() + admin_counters.ended();
    let streams = GUESTS + OWNERS * TABS + ROUNDS * KNOCKS;
    let p99 = median(&mut round_p99s);
    Ok(vec![
        Row::new(
            "b. server RSS, 1,000 streams",
            format!("{at_first:.0} MB (idle before: {idle:.0} MB)"),
            "-",
            Verdict::Info,
            format!(
                "VmRSS of the knock process (median of 5 readings 200 ms apart) with {FIRST} guests \
                 waiting in {ROOMS} rooms, each its own browser and address with its stream open"
            ),
        ),
        Row::new(
            "b. server RSS, 10,000 streams",
            format!(
                "{at_all:.0} MB ({with_admins:.0} MB with the {} admin streams too); {:.1} KB per \
                 stream from 1,000 to 10,000",
                OWNERS * TABS,
                (at_all - at_first) * 1e3 / (GUESTS - FIRST) as f64
            ),
            format!("<= {RSS_GOAL_MB:.0} MB"),
            Verdict::goal(at_all <= RSS_GOAL_MB),
            format!(
                "as above with {GUESTS} guests (100 per room); they arrived, knocked and opened their \
                 streams {PARALLEL} at a time at {:.0} guests/s; streams dropped: {dropped} of {streams}",
                GUESTS as f64 / setup.as_secs_f64()
            ),
        ),
        Row::new(
            "b. one event to 1,000 admin streams",
            format!(
                "all 1,000 reached: p50 {:.1} ms, p99 {p99:.1} ms; each stream: p50 {:.1} ms, \
                 p99 {:.1} ms; first stream reached: p50 {:.1} ms; knocker answered: p50 {:.1} ms",
                median(&mut round_p50s),
                percentile(&mut each, 50.0),
                percentile(&mut each, 99.0),
                median(&mut first),
                median(&mut answered),
            ),
            format!("p99 <= {FANOUT_GOAL_MS:.0} ms"),
            Verdict::goal(p99 <= FANOUT_GOAL_MS),
            format!(
                "{OWNERS} owners in one call (the room maximum) with {TABS} streams each, while the \
                 {GUESTS} guest streams stay open; knocks one after another, each by a new guest; per \
                 knock, from sending request_access until the last of the 1,000 streams delivered \
                 waiting-participant-added; median over {ROUNDS} rounds of each round's p50 / p99 \
                 over {KNOCKS} knocks (the other figures pooled); timestamps taken by this process, \
                 which shares the 2 cores"
            ),
        ),
    ])
}
