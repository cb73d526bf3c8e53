//! Figure a: from a guest sending `request_access` to the owner's event stream delivering
//! `waiting-participant-added` for that guest.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use crate::{
    client::{Api, Person, Result, fail, loopback},
    process::Knock,
    sse::{Counters, Delivery, spawn_reader},
    stats::{Row, Verdict, median, ms, percentile},
};

const ROUNDS: u8 = 3;
const KNOCKS: usize = 200;
/// Knocks at the start of each round that warm caches and are not counted.
const WARM_UP: usize = 10;
/// The goal for knock -> alert, on one server and across servers.
pub const GOAL_P99_MS: f64 = 20.0;
/// How long a knock may take to reach the owner before it counts as lost.
pub const LOST_AFTER: Duration = Duration::from_secs(10);

/// Waits for `event` about `who` on `deliveries`; skips other events.
pub async fn wait_for(
    deliveries: &mut mpsc::UnboundedReceiver<Delivery>,
    event: &str,
    who: &str,
) -> Result<Delivery> {
    let deadline = tokio::time::Instant::now() + LOST_AFTER;
    loop {
        match tokio::time::timeout_at(deadline, deliveries.recv()).await {
            Ok(Some(delivery))
                if delivery.name == event && delivery.who.as_deref() == Some(who) =>
            {
                return Ok(delivery);
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                return fail(format!(
                    "the stream ended while waiting for {event} ({who})"
                ));
            }
            Err(_) => {
                return fail(format!(
                    "{event} for {who} did not arrive within {LOST_AFTER:?}: lost"
                ));
            }
        }
    }
}

/// An owner in the call of `room`, through the server at `base_url`, with one open stream
/// whose events arrive on the receiver.
pub async fn owner_in_call(
    base_url: &str,
    api: &Api,
    room: &str,
    address: std::net::IpAddr,
    counters: &Arc<Counters>,
) -> Result<(Person, mpsc::UnboundedReceiver<Delivery>)> {
    let token = api.owner_token(room, "Owner").await?;
    let owner = Person::arrive(base_url, address, room, Some(&token)).await?;
    let (sender, mut deliveries) = mpsc::unbounded_channel();
    spawn_reader(
        owner.stream().await?,
        0,
        Some((sender, &[])),
        counters.clone(),
    );
    owner.must("join", &[("name", "Owner")]).await?;
    let deadline = tokio::time::Instant::now() + LOST_AFTER;
    loop {
        match tokio::time::timeout_at(deadline, deliveries.recv()).await {
            Ok(Some(delivery)) if delivery.name == "access-state-updated" => break,
            Ok(Some(_)) => {}
            _ => return fail("the owner's join never reached its stream"),
        }
    }
    Ok((owner, deliveries))
}

/// What [`knocks`] measured, in ms.
pub struct Knocks {
    /// Each round's p50 of knock -> alert.
    pub round_p50s: Vec<f64>,
    /// Each round's p99 of knock -> alert.
    pub round_p99s: Vec<f64>,
    /// Every counted knock -> alert.
    pub all: Vec<f64>,
    /// Every counted knock's own HTTP answer.
    pub responses: Vec<f64>,
}

impl Knocks {
    /// The medians of the rounds' p50 and p99.
    pub fn p50_p99(&mut self) -> (f64, f64) {
        (median(&mut self.round_p50s), median(&mut self.round_p99s))
    }
}

/// `ROUNDS` rounds of `KNOCKS` (+`WARM_UP`) knocks, one at a time, each in a new room
/// `<prefix>-<round>`: every guest arrives and knocks through `guest_url`, the one owner is in
/// the call through `owner_url` (the same server for figure a).
pub async fn knocks(guest_url: &str, owner_url: &str, api: &Api, prefix: &str) -> Result<Knocks> {
    let counters = Arc::new(Counters::default());
    let mut measured = Knocks {
        round_p50s: Vec::new(),
        round_p99s: Vec::new(),
        all: Vec::new(),
        responses: Vec::new(),
    };
    for round in 0..ROUNDS {
        let room = format!("{prefix}-{round}");
        api.knocking_room(&room).await?;
        let (_owner, mut deliveries) =
            owner_in_call(owner_url, api, &room, loopback(10, round, 1), &counters).await?;
        let mut readers = Vec::new();
        let mut latencies = Vec::new();
        for guest in 0..KNOCKS + WARM_UP {
            // One browser per guest, each from its own address.
            let address = loopback(11, round, u8::try_from(guest % 250 + 1).unwrap_or(1));
            let person = Person::arrive(guest_url, address, &room, None).await?;
            // The page opens its stream before the guest clicks "Ask to join".
            readers.push(spawn_reader(
                person.stream().await?,
                1,
                None,
                counters.clone(),
            ));
            let name = format!("guest-{round}-{guest}");
            let started = Instant::now();
            let answer = person.knock(&name).await?;
            let answered = started.elapsed();
            if answer.status != 200 {
                return fail(format!(
                    "{name}'s knock answered {}: {}",
                    answer.status, answer.body
                ));
            }
            let delivery = wait_for(&mut deliveries, "waiting-participant-added", &name).await?;
            if guest >= WARM_UP {
                latencies.push(ms(delivery.at.duration_since(started)));
                measured.responses.push(ms(answered));
            }
        }
        measured.round_p50s.push(percentile(&mut latencies, 50.0));
        measured.round_p99s.push(percentile(&mut latencies, 99.0));
        measured.all.extend(latencies);
        api.delete_room(&room).await?;
        for reader in readers {
            reader.abort();
        }
    }
    Ok(measured)
}

/// How figure a (and its PostgreSQL counterparts) measured: `owner` says where the owner is.
pub fn method(owner: &str) -> String {
    format!(
        "median over {ROUNDS} rounds of each round's p50 / p99 over {KNOCKS} knocks \
         (+{WARM_UP} uncounted), one at a time, each guest its own browser and address with \
         its stream open, one owner in the call{owner}; clock from sending POST \
         /api/request_access to the owner's stream delivering waiting-participant-added for \
         that name"
    )
}

/// The rows of figure a.
pub async fn run(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    let mut measured = knocks(&knock.base_url, &knock.base_url, api, "bench-latency").await?;
    let (p50, p99) = measured.p50_p99();
    let Knocks {
        mut all,
        mut responses,
        ..
    } = measured;
    let count = all.len();
    Ok(vec![
        Row::new(
            "a. knock -> admin alert (SSE)",
            format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
            format!("p99 <= {GOAL_P99_MS:.0} ms"),
            Verdict::goal(p99 <= GOAL_P99_MS),
            method(""),
        ),
        Row::new(
            "a. (breakdown) pooled / knock answer",
            format!(
                "pooled over {count}: p50 {:.2} ms, p99 {:.2} ms; request_access answered: p50 {:.2} ms, p99 {:.2} ms",
                percentile(&mut all, 50.0),
                percentile(&mut all, 99.0),
                percentile(&mut responses, 50.0),
                percentile(&mut responses, 99.0),
            ),
            "-",
            Verdict::Info,
            "the same knocks pooled; and the time until the knocker's own HTTP answer (the event is \
             published after the commit, before the answer is written)",
        ),
    ])
}
