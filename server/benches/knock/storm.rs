//! Figure d: a knock storm. 500 clients (the lobby cap) knock on one room within one second
//! while one more client knocks far over its limit. Every legitimate knock must be answered
//! 200 and reach the owner's stream; only the client over its limit may be answered 429.
//!
//! How the counts are made exact (app/src/ssr/lobby.rs, limits.rs): the limit is per client
//! address and room (10 at once, then one every 6 s) and is checked before the cap of 500. The
//! abuser spends its 10 first, each knock cancelled at once so it never holds a place in the
//! lobby; during the storm (well within 6 s) every knock of its is over the limit and refused
//! before the cap is looked at. The 500 others each knock once from their own address, so the
//! lobby ends at exactly 500; a 501st client is then refused by the cap.

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};

use crate::{
    client::{Api, Person, Result, fail, loopback, nth_address},
    latency::{LOST_AFTER, owner_in_call},
    process::Knock,
    sse::{Counters, spawn_reader},
    stats::{Row, Verdict, ms, percentile},
};

const ROOM: &str = "bench-storm";
/// The lobby cap (`MAX_WAITING` in app/src/ssr/lobby.rs).
const CLIENTS: usize = 500;
/// The storm lasts this long; client `i` knocks at `i * WINDOW / CLIENTS`.
const WINDOW: Duration = Duration::from_secs(1);
/// The abuser knocks this often during the storm.
const ABUSE_EVERY: Duration = Duration::from_millis(5);

/// What happened to the abuser's knocks.
#[derive(Default)]
struct Abuse {
    allowed_before: usize,
    refused_for_limit: usize,
    other: Vec<String>,
}

/// Knocks and cancels until refused: the allowance spent, none of it left in the lobby.
async fn spend_allowance(abuser: &Person) -> Result<Abuse> {
    let mut abuse = Abuse::default();
    loop {
        let answer = abuser.knock("abuser").await?;
        match answer.status.as_u16() {
            200 => {
                abuse.allowed_before += 1;
                abuser.must("cancel", &[]).await?;
            }
            429 => break,
            _ => {
                return fail(format!(
                    "the abuser's knock answered {}: {}",
                    answer.status, answer.body
                ));
            }
        }
        if abuse.allowed_before > 100 {
            return fail("the abuser was never limited");
        }
    }
    Ok(abuse)
}

/// Knocks every `ABUSE_EVERY` through the storm.
async fn abuse(abuser: Person, mut abuse: Abuse, start: tokio::time::Instant) -> Result<Abuse> {
    let end = start + WINDOW;
    let mut next = start;
    while next < end {
        tokio::time::sleep_until(next).await;
        let answer = abuser.knock("abuser").await?;
        if answer.status == 429 && answer.body.contains("too often") {
            abuse.refused_for_limit += 1;
        } else {
            abuse
                .other
                .push(format!("{}: {}", answer.status, answer.body));
        }
        next += ABUSE_EVERY;
    }
    Ok(abuse)
}

/// Why knocks did not reach the owner's live stream: replays the owner's whole log on a new
/// stream and says whether the lost events are in it, and whether the live stream had already
/// delivered events with higher ids before them (events published out of id order).
async fn diagnose_lost(
    owner: &Person,
    missing: &HashSet<String>,
    live_ids: &[i64],
    counters: &Arc<Counters>,
) -> Result<String> {
    let (sender, mut replay) = tokio::sync::mpsc::unbounded_channel();
    let wanted: &'static [&'static str] = &["waiting-participant-added"];
    let reader = spawn_reader(
        owner.stream().await?,
        0,
        Some((sender, wanted)),
        counters.clone(),
    );
    let mut found = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while found.len() < missing.len() {
        match tokio::time::timeout_at(deadline, replay.recv()).await {
            Ok(Some(delivery)) => {
                if delivery
                    .who
                    .as_ref()
                    .is_some_and(|who| missing.contains(who))
                {
                    found.push(delivery.id);
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    reader.abort();
    let overtaken = found
        .iter()
        .filter(|id| live_ids.iter().any(|live| live > id))
        .count();
    found.sort_unstable();
    Ok(format!(
        "the log has {} of them (a new stream replays ids {:?}); for {overtaken} the live stream \
         had already delivered a higher id",
        found.len(),
        &found[..found.len().min(5)]
    ))
}

/// The rows of figure d.
pub async fn run(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    api.knocking_room(ROOM).await?;
    let counters = Arc::new(Counters::default());
    let (owner, mut deliveries) =
        owner_in_call(&knock.base_url, api, ROOM, loopback(21, 0, 1), &counters).await?;
    // Everyone has the page open, with its stream, before the storm.
    let people: Vec<Person> = stream::iter(0..CLIENTS)
        .map(|i| {
            let (base_url, counters) = (knock.base_url.clone(), counters.clone());
            async move {
                let person = Person::arrive(&base_url, nth_address(20, i), ROOM, None).await?;
                spawn_reader(person.stream().await?, i, None, counters);
                Ok::<_, crate::client::Error>(person)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let abuser = Person::arrive(&knock.base_url, loopback(22, 0, 1), ROOM, None).await?;
    spawn_reader(abuser.stream().await?, CLIENTS, None, counters.clone());

    // The abuser spends its allowance just before the storm (which ends long before the 6 s
    // after which it could knock again).
    let spent = spend_allowance(&abuser).await?;
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let abuse_task = tokio::spawn(abuse(abuser, spent, start));
    let step = WINDOW / CLIENTS as u32;
    let knocks = people.into_iter().enumerate().map(|(i, person)| {
        tokio::spawn(async move {
            tokio::time::sleep_until(start + step * i as u32).await;
            let sent = Instant::now();
            let answer = person.knock(&format!("storm-{i}")).await?;
            Ok::<_, crate::client::Error>((sent, answer.status.as_u16(), answer.body))
        })
    });
    let knocks: Vec<_> = knocks.collect();
    let mut sent_at = Vec::with_capacity(CLIENTS);
    let (mut ok, mut legit_429, mut legit_other) = (0, 0, Vec::new());
    for knock in knocks {
        let (sent, status, body) = knock.await??;
        sent_at.push(sent);
        match status {
            200 => ok += 1,
            429 => legit_429 += 1,
            _ => legit_other.push(format!("{status}: {body}")),
        }
    }
    let last_answer = Instant::now();
    let abuse = abuse_task.await??;

    // Every accepted knock must reach the owner.
    let mut missing: HashSet<String> = (0..CLIENTS).map(|i| format!("storm-{i}")).collect();
    let mut alert_delays = Vec::new();
    let mut live_ids = Vec::new();
    let deadline = tokio::time::Instant::now() + LOST_AFTER;
    while !missing.is_empty() {
        match tokio::time::timeout_at(deadline, deliveries.recv()).await {
            Ok(Some(delivery)) if delivery.name == "waiting-participant-added" => {
                live_ids.push(delivery.id);
                let Some(who) = delivery.who else { continue };
                if missing.remove(&who)
                    && let Some(i) = who
                        .strip_prefix("storm-")
                        .and_then(|i| i.parse::<usize>().ok())
                {
                    alert_delays.push(ms(delivery.at.duration_since(sent_at[i])));
                }
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let delivered = CLIENTS - missing.len();
    let waiting = api.waiting_count(ROOM).await?;
    let extra = Person::arrive(&knock.base_url, loopback(23, 0, 1), ROOM, None).await?;
    let cap = extra.knock("one-too-many").await?;
    let cap_refused = cap.status == 429 && cap.body.contains("full");
    let spread = last_answer.duration_since(sent_at.iter().min().copied().unwrap_or(last_answer));
    api.delete_room(ROOM).await?;

    let all_in = ok == CLIENTS && delivered == CLIENTS && waiting == CLIENTS as i64;
    let only_abuser_refused = legit_429 == 0
        && legit_other.is_empty()
        && abuse.other.is_empty()
        && abuse.refused_for_limit > 0
        && cap_refused;
    let mut notes = Vec::new();
    if !legit_other.is_empty() {
        notes.push(format!(
            "unexpected answers: {:?}",
            &legit_other[..legit_other.len().min(3)]
        ));
    }
    if !abuse.other.is_empty() {
        notes.push(format!(
            "abuser answers: {:?}",
            &abuse.other[..abuse.other.len().min(3)]
        ));
    }
    if !missing.is_empty() {
        notes.push(format!(
            "{} knocks never reached the owner; {}",
            missing.len(),
            diagnose_lost(&owner, &missing, &live_ids, &counters).await?
        ));
    }
    Ok(vec![
        Row::new(
            "d. knock storm: none lost",
            format!(
                "{ok}/{CLIENTS} answered 200, {delivered}/{CLIENTS} alerts on the owner's stream, lobby {waiting}; \
                 knock -> alert p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; all answered {:.2} s after the first was sent{}",
                percentile(&mut alert_delays, 50.0),
                percentile(&mut alert_delays, 99.0),
                percentile(&mut alert_delays, 100.0),
                spread.as_secs_f64(),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!("; {}", notes.join("; "))
                }
            ),
            "every knock delivered",
            Verdict::check(all_in),
            format!(
                "{CLIENTS} clients, each its own address with the page and stream open, knock once each, \
                 evenly spread over {} s, into one room with one owner in the call",
                WINDOW.as_secs()
            ),
        ),
        Row::new(
            "d. knock storm: 429 only over the limit",
            format!(
                "abuser: {} allowed, then {} of {} storm knocks refused 429 (limit); legitimate 429s: {legit_429}; \
                 501st client: {}",
                abuse.allowed_before,
                abuse.refused_for_limit,
                abuse.refused_for_limit + abuse.other.len(),
                if cap_refused {
                    "429, lobby full".to_owned()
                } else {
                    format!("{} {}", cap.status, cap.body)
                }
            ),
            "429 only for the abuser",
            Verdict::check(only_abuser_refused),
            format!(
                "one more client knocks (and cancels) until refused, then every {} ms through the storm; \
                 the limit (per address and room) comes before the cap, and its cancelled knocks never \
                 hold a place, so the 500 legitimate knocks exactly fill the lobby",
                ABUSE_EVERY.as_millis()
            ),
        ),
    ])
}
