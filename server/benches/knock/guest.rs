//! Figure j: a guest at the door in Chromium on a slow phone (4x CPU slowdown, DevTools' Fast
//! 3G): what the first visit to a room page downloads until it is hydrated, and how long until
//! `Ask to join` works, on a first visit and on a second one with the cache warm. `guest.mjs`
//! drives Chromium (Playwright from end2end/node_modules, throttling through the DevTools
//! protocol) and prints its measurements; this module runs it and makes the rows.

use std::path::Path;

use serde_json::Value;

use crate::{
    client::{Api, Result, fail},
    process::Knock,
    stats::{Row, Verdict, median},
};

/// Visits measured (each a first visit in a fresh browser context, then a second one).
const RUNS: usize = 5;
/// Goals: bytes of a first visit (KB, 1,000 bytes), and time to a working button (ms).
const FIRST_VISIT_KB_GOAL: f64 = 250.0;
const FIRST_VISIT_MS_GOAL: f64 = 2_000.0;
const SECOND_VISIT_MS_GOAL: f64 = 1_000.0;
const KINDS: [&str; 5] = ["html", "js", "wasm", "css", "other"];

/// One visit: its time to a working button (ms) and its bytes per kind (in `KINDS` order).
type Visit = (f64, Vec<f64>);

/// The figure's rows.
pub async fn run(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    let room = "bench-guest";
    api.knocking_room(room).await?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/knock/guest.mjs");
    let url = format!("{}/{room}", knock.base_url);
    let command = script.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&command)
            .args(["--url", &url, "--runs", &RUNS.to_string()])
            .output()
    })
    .await
    .map_err(|error| format!("guest.mjs: {error}"))?
    .map_err(|error| format!("cannot run node {}: {error}", script.display()))?;
    api.delete_room(room).await?;
    if !output.status.success() {
        return fail(format!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let result: Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("guest.mjs printed no JSON ({error})"))?;
    let visits = |which: &str| -> Vec<Visit> {
        result[which]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .map(|run| {
                        let bytes = KINDS
                            .iter()
                            .map(|kind| run["bytes"][kind].as_f64().unwrap_or(0.0))
                            .collect();
                        (run["ms"].as_f64().unwrap_or(f64::NAN), bytes)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (first, second) = (visits("first"), visits("second"));
    if first.len() != RUNS || second.len() != RUNS {
        return fail(format!("guest.mjs measured {} runs of {RUNS}", first.len()));
    }
    let median_of = |visits: &[Visit], pick: &dyn Fn(&Visit) -> f64| {
        median(&mut visits.iter().map(pick).collect::<Vec<_>>())
    };
    let total = |visit: &Visit| visit.1.iter().sum::<f64>();
    let kb = |bytes: f64| bytes / 1000.0;
    let first_kb = kb(median_of(&first, &total));
    let by_kind = KINDS
        .iter()
        .enumerate()
        .map(|(i, kind)| format!("{kind} {:.1}", kb(median_of(&first, &|v| v.1[i]))))
        .collect::<Vec<_>>()
        .join(", ");
    let first_ms = median_of(&first, &|v| v.0);
    let second_ms = median_of(&second, &|v| v.0);
    let second_kb = kb(median_of(&second, &total));
    let range = |visits: &[Visit]| {
        let times: Vec<f64> = visits.iter().map(|v| v.0).collect();
        let low = times.iter().copied().fold(f64::INFINITY, f64::min);
        let high = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{:.2}-{:.2} s", low / 1000.0, high / 1000.0)
    };
    let how = "Chromium (Playwright) with 4x CPU slowdown and DevTools' Fast 3G (562.5 ms latency, \
               180,000 B/s down, 84,375 B/s up) set through the DevTools protocol; a private room \
               with knocking, a guest without a token";
    Ok(vec![
        Row::new(
            "j. guest's first visit: bytes until hydrated",
            format!("{first_kb:.1} KB ({by_kind})"),
            format!("<= {FIRST_VISIT_KB_GOAL:.0} KB"),
            Verdict::goal(first_kb <= FIRST_VISIT_KB_GOAL),
            format!(
                "{how}; every byte Chromium's network layer received (Network.loadingFinished's \
                 encodedDataLength: headers and compressed bodies) from the navigation until the \
                 page is hydrated and loaded, in a new browser context (empty cache); median of \
                 {RUNS} visits (KB = 1,000 bytes)"
            ),
        ),
        Row::new(
            "j. time to a working Ask to join, first visit",
            format!("{:.2} s (runs {})", first_ms / 1000.0, range(&first)),
            format!("<= {:.0} s", FIRST_VISIT_MS_GOAL / 1000.0),
            Verdict::goal(first_ms <= FIRST_VISIT_MS_GOAL),
            format!(
                "{how}; from the navigation's start until <body> is marked hydrated \
                 (performance.now() in the page, reported through a DevTools protocol binding: \
                 the harness evaluates nothing in the page before), then `Ask to join` must be \
                 visible and enabled; empty cache; median of {RUNS}"
            ),
        ),
        Row::new(
            "j. time to a working Ask to join, second visit",
            format!(
                "{:.2} s (runs {}), {second_kb:.1} KB received",
                second_ms / 1000.0,
                range(&second)
            ),
            format!("<= {:.0} s", SECOND_VISIT_MS_GOAL / 1000.0),
            Verdict::goal(second_ms <= SECOND_VISIT_MS_GOAL),
            format!(
                "{how}; as the first visit, by the same browser context navigating to the room \
                 page again (cache warm, session cookie kept); median of {RUNS}"
            ),
        ),
    ])
}
