//! `make bench`: performance figures of the release `knock` binary, printed as one table.
//!
//! Run by `cargo bench -p server --bench knock -- --knock <binary> --site <site dir>` (the
//! Makefile passes the release build's). It starts the binary as a child process on a free
//! port with a temporary database, drives it over HTTP and SSE the way browsers and REST
//! clients do (each simulated client from its own 127.x.y.z address, since the knock limit
//! counts per client address), and stops it by its PID at the end, also on failure. Figures:
//!
//! - a. knock -> admin alert latency over SSE (`latency.rs`)
//! - b. 1,000 and 10,000 open streams: RSS, and one event to 1,000 admin streams (`sessions.rs`)
//! - c. REST throughput beside a bare axum handler of the same shape (`rest.rs`, `bare.rs`)
//! - d. a knock storm: none lost, 429 only over the limit (`storm.rs`)
//! - e. the wasm's size and the prejoin page's render time (`site.rs`)
//! - f. two servers on one PostgreSQL database (`several.rs`), only with `--postgres <server
//!   URL>`: a new database is created on that server for them (and dropped after)
//! - g. the longest write stall while a large event log is pruned (`prune.rs`)
//! - h. the server's RSS under a signaling flood (`flood.rs`)
//! - i. the knock answer with a dead webhook receiver, beside none (`hooks.rs`)
//! - j. a guest's first and second visit to a room page in Chromium on a slow phone: bytes
//!   until hydrated, time to a working `Ask to join` (`guest.rs`, which runs `guest.mjs`)
//!
//! Performance goals that are missed are reported in the table; the exit status is non-zero
//! only when something malfunctions (the server fails, a knock is lost, a check fails).
//! `--only <letters>` (e.g. `--only ad`) runs some figures.

mod bare;
mod client;
mod flood;
mod guest;
mod hooks;
mod latency;
mod process;
mod prune;
mod rest;
mod sessions;
mod several;
mod site;
mod sse;
mod stats;
mod storm;

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use client::{Api, Result};
use process::{API_KEY, Knock};
use stats::{Row, Verdict};

struct Args {
    knock: PathBuf,
    site: PathBuf,
    only: String,
    /// The PostgreSQL server figure f creates its database on.
    postgres: Option<String>,
}

const USAGE: &str = "usage: knock --knock <release binary> --site <site dir> [--only abcdefghij] \
                     [--postgres <PostgreSQL server URL>]";

fn args() -> Result<Args> {
    let (mut knock, mut site, mut only, mut postgres) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--knock" => knock = args.next().map(PathBuf::from),
            "--site" => site = args.next().map(PathBuf::from),
            "--only" => only = Some(args.next().unwrap_or_default()),
            "--postgres" => postgres = args.next().filter(|url| !url.is_empty()),
            // cargo bench adds it to every bench's arguments.
            "--bench" => {}
            other => return client::fail(format!("unknown argument {other}")),
        }
    }
    if only.as_deref().is_some_and(|only| only.contains('f')) && postgres.is_none() {
        return client::fail(
            "figure f needs a PostgreSQL server: --postgres <URL> (make bench runs it under \
             scripts/with-postgres.sh)",
        );
    }
    match (knock, site) {
        (Some(knock), Some(site)) => Ok(Args {
            knock,
            site,
            only: only.unwrap_or_else(|| "abcdefghij".to_owned()),
            postgres,
        }),
        _ => client::fail(USAGE),
    }
}

/// The first line of `file` that starts with `key`, after the colon.
fn proc_field(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(key))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Today (UTC) as YYYY-MM-DD.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn machine(files: u64) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory_kib: f64 = proc_field("/proc/meminfo", "MemTotal")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap_or(0.0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{} on {cores} cores ({}), {:.1} GiB memory, Linux {}, open-file limit {files}, load average at start {}",
        today(),
        proc_field("/proc/cpuinfo", "model name"),
        memory_kib / 1_048_576.0,
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        load.join(" "),
    )
}

/// Runs one figure, turning an error into a failed row.
async fn figure(
    rows: &mut Vec<Row>,
    name: &str,
    run: impl std::future::Future<Output = Result<Vec<Row>>>,
) {
    let started = Instant::now();
    eprintln!("[bench] {name} ...");
    match run.await {
        Ok(more) => rows.extend(more),
        Err(error) => rows.push(Row::new(
            name,
            format!("error: {error}"),
            "-",
            Verdict::Fail,
            "the measurement could not be completed",
        )),
    }
    eprintln!("[bench] {name}: {:.1} s", started.elapsed().as_secs_f64());
}

async fn bench(args: &Args, files: u64) -> Result<Vec<Row>> {
    let wanted = |letter: char| args.only.contains(letter);
    let mut rows = Vec::new();
    if wanted('e') {
        figure(&mut rows, "e. wasm", async {
            site::wasm(&args.site).map(|row| vec![row])
        })
        .await;
    }
    if "abcdehij".chars().any(wanted) {
        rows.extend(on_sqlite(args, files, &wanted).await?);
    }
    if wanted('g') {
        figure(
            &mut rows,
            "g. pruning stall",
            prune::run(&args.knock, &args.site),
        )
        .await;
    }
    if wanted('f') {
        match &args.postgres {
            Some(server) => {
                figure(
                    &mut rows,
                    "f. two servers on PostgreSQL",
                    several::run(&args.knock, &args.site, server, files),
                )
                .await;
            }
            None => eprintln!(
                "[bench] f. two servers on PostgreSQL: skipped, it needs --postgres <server URL> \
                 (make bench runs it under scripts/with-postgres.sh)"
            ),
        }
    }
    Ok(rows)
}

/// Figures a-e, h, i and j (the wasm's size apart): one server on a new SQLite file.
async fn on_sqlite(args: &Args, files: u64, wanted: &dyn Fn(char) -> bool) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut knock = Knock::start(&args.knock, &args.site).await?;
    eprintln!("[bench] knock is pid {} at {}", knock.pid, knock.base_url);
    let api = Api::new(&knock.base_url, API_KEY)?;
    type Figure<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Row>>> + 'a>>;
    let figures: [(char, &str, Figure); 8] = [
        // First: the guest's page timings want the machine as quiet as the bench can make it.
        (
            'j',
            "j. guest in Chromium",
            Box::pin(guest::run(&knock, &api)),
        ),
        (
            'e',
            "e. prejoin render",
            Box::pin(site::prejoin(&knock, &api)),
        ),
        (
            'a',
            "a. knock latency",
            Box::pin(latency::run(&knock, &api)),
        ),
        ('c', "c. REST throughput", Box::pin(rest::run(&knock, &api))),
        ('d', "d. knock storm", Box::pin(storm::run(&knock, &api))),
        (
            'h',
            "h. signaling flood",
            Box::pin(flood::run(&knock, &api)),
        ),
        (
            'i',
            "i. dead webhook receiver",
            Box::pin(hooks::run(&knock, &api)),
        ),
        (
            'b',
            "b. concurrent sessions",
            Box::pin(sessions::run(&knock, &api, files)),
        ),
    ];
    for (letter, name, run) in figures {
        if !wanted(letter) {
            continue;
        }
        figure(&mut rows, name, run).await;
        if !rows.iter().all(|row| row.verdict != Verdict::Fail) {
            // A failed figure may have left the server in any state: say whether it still runs.
            if let Err(error) = alive(&knock) {
                rows.push(Row::new(
                    "server",
                    format!("error: {error}"),
                    "-",
                    Verdict::Fail,
                    "",
                ));
                break;
            }
        }
    }
    knock.stop();
    Ok(rows)
}

/// Whether the server still answers its health check.
fn alive(knock: &Knock) -> Result<()> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", knock.pid))?;
    if status.contains("State:\tZ") {
        return client::fail(format!("knock exited; {}", knock.log_tail()));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // Both ends of every stream are open files; the server inherits the raised limit.
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let machine = machine(files);
    let started = Instant::now();
    let rows = runtime.block_on(bench(&args, files));
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => {
            eprintln!("the bench could not run: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("\nKnock performance, {machine}\n");
    println!("{}", stats::table(&rows));
    println!(
        "Whole bench: {:.0} s. Binary: {}",
        started.elapsed().as_secs_f64(),
        args.knock.display()
    );
    // Streams of the last figure are still being read; the runtime is dropped without waiting.
    runtime.shutdown_background();
    if rows.iter().any(|row| row.verdict == Verdict::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
