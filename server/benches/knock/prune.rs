//! Figure g: the longest write stall while a large event log is pruned. The server starts on a
//! SQLite file whose log holds expired events for hundreds of thousands of recipients; the
//! leader prunes at start, batch by batch, while people in a call keep writing (each camera
//! toggle is a write transaction with its events). Every write's answer time is recorded until
//! the expired events are gone, then for as long again with nothing to prune, for comparison.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::future::join_all;
use sqlx::{Acquire, ConnectOptions, sqlite::SqliteConnectOptions};

use crate::{
    client::{Api, Person, Result, fail, nth_address},
    process::{API_KEY, Knock},
    stats::{Row, Verdict, ms, percentile},
};

const ROOM: &str = "bench-prune";
/// People in the call, each writing one camera toggle after another.
const WRITERS: usize = 16;
/// Expired events, and the recipients of each: 600,000 recipient rows.
const OLD_EVENTS: u32 = 6_000;
const RECIPIENTS: u32 = 100;
/// A write answered later than this counts as stalled (the goal: none).
const STALL_GOAL_MS: f64 = 1_000.0;

/// The rows of figure g.
pub async fn run(binary: &Path, site: &Path) -> Result<Vec<Row>> {
    let dir = tempfile::Builder::new().prefix("knock-prune").tempdir()?;
    let file = dir.path().join("knock.db");
    let url = format!("sqlite://{}", file.display());

    // First start: the schema, the room, and the people in its call (sessions are kept).
    let mut knock = Knock::start_on(binary, site, Some(&url)).await?;
    let api = Api::new(&knock.base_url, API_KEY)?;
    api.knocking_room(ROOM).await?;
    let mut writers = Vec::new();
    for n in 0..WRITERS {
        let token = api.owner_token(ROOM, &format!("writer-{n}")).await?;
        let person =
            Person::arrive(&knock.base_url, nth_address(50, n), ROOM, Some(&token)).await?;
        person
            .must("join", &[("name", &format!("writer-{n}"))])
            .await?;
        writers.push(person);
    }
    knock.stop();

    // While it is stopped: two days old, past the retention of one day.
    let old = now_millis() - 2 * 24 * 60 * 60 * 1000;
    fill_log(&file, old).await?;
    let recipient_rows = u64::from(OLD_EVENTS) * u64::from(RECIPIENTS);

    // Second start: the leader prunes at once. Everyone writes until the log is clean, then as
    // long again.
    let knock = Knock::start_on(binary, site, Some(&url)).await?;
    let writers: Vec<Person> = writers.iter().map(|w| w.on(&knock.base_url)).collect();
    let started = Instant::now();
    let pruning = Arc::new(AtomicBool::new(true));
    let watcher = tokio::spawn(watch(file.clone(), Arc::clone(&pruning)));
    let during: Vec<Result<Vec<f64>>> = join_all(
        writers
            .iter()
            .enumerate()
            .map(|(n, writer)| write_while(writer, n, &pruning)),
    )
    .await;
    let pruned_in = started.elapsed();
    watcher.await??;
    let quiet = Arc::new(AtomicBool::new(true));
    let stopper = {
        let quiet = Arc::clone(&quiet);
        tokio::spawn(async move {
            tokio::time::sleep(pruned_in.max(Duration::from_secs(2))).await;
            quiet.store(false, Ordering::SeqCst);
        })
    };
    let after: Vec<Result<Vec<f64>>> = join_all(
        writers
            .iter()
            .enumerate()
            .map(|(n, writer)| write_while(writer, n, &quiet)),
    )
    .await;
    stopper.await?;
    drop(knock);

    let mut during = flatten(during)?;
    let mut after = flatten(after)?;
    let longest = during.iter().copied().fold(0.0, f64::max);
    let longest_after = after.iter().copied().fold(0.0, f64::max);
    Ok(vec![Row::new(
        "g. longest write stall while pruning",
        format!(
            "while pruning {recipient_rows} expired recipient rows ({:.1} s): {} writes, \
             longest {longest:.0} ms, p99 {:.1} ms, p50 {:.1} ms; then with nothing to prune: {} \
             writes, longest {longest_after:.0} ms, p99 {:.1} ms, p50 {:.1} ms",
            pruned_in.as_secs_f64(),
            during.len(),
            percentile(&mut during, 99.0),
            percentile(&mut during, 50.0),
            after.len(),
            percentile(&mut after, 99.0),
            percentile(&mut after, 50.0),
        ),
        format!("longest <= {STALL_GOAL_MS:.0} ms"),
        Verdict::goal(longest <= STALL_GOAL_MS),
        format!(
            "a SQLite log of {OLD_EVENTS} events two days old with {RECIPIENTS} recipients each, \
             pruned by the server at start (500 events per batch, 100 ms between batches) while \
             {WRITERS} people in the call toggle their camera one request after another (each a \
             write transaction with its events); every answer time from sending update_media to \
             its answer, until the expired events are gone, then for as long again"
        ),
    )])
}

/// `writer` toggles its camera one request after another while `going` holds; the answer
/// times, in ms. Any answer but 200 fails the figure.
async fn write_while(writer: &Person, n: usize, going: &AtomicBool) -> Result<Vec<f64>> {
    let mut times = Vec::new();
    let mut video = n.is_multiple_of(2);
    while going.load(Ordering::SeqCst) {
        video = !video;
        let value = if video { "true" } else { "false" };
        let started = Instant::now();
        let answer = writer
            .call("update_media", &[("video", value), ("audio", "false")])
            .await?;
        times.push(ms(started.elapsed()));
        if answer.status != reqwest::StatusCode::OK {
            return fail(format!(
                "a write during pruning answered {}: {}",
                answer.status, answer.body
            ));
        }
    }
    Ok(times)
}

/// Clears `pruning` once the log has no expired event left (checked every 100 ms beside the
/// server, read-only).
async fn watch(file: std::path::PathBuf, pruning: Arc<AtomicBool>) -> Result<()> {
    let mut connection = SqliteConnectOptions::new()
        .filename(&file)
        .read_only(true)
        .connect()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let before = now_millis() - 24 * 60 * 60 * 1000;
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE created_at < ?")
            .bind(before)
            .fetch_one(&mut connection)
            .await?;
        if left == 0 {
            pruning.store(false, Ordering::SeqCst);
            return Ok(());
        }
        if Instant::now() > deadline {
            pruning.store(false, Ordering::SeqCst);
            return fail(format!(
                "{left} expired events were still there after 120 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Appends the expired events and their recipients, in one transaction.
async fn fill_log(file: &Path, created_at: i64) -> Result<()> {
    let mut connection = SqliteConnectOptions::new()
        .filename(file)
        .foreign_keys(true)
        .connect()
        .await?;
    let mut tx = connection.begin().await?;
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM events")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
         INSERT INTO events (room, name, payload, created_at)
         SELECT ?, 'participant-updated', '{}', ? FROM n",
    )
    .bind(OLD_EVENTS)
    .bind(ROOM)
    .bind(created_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
         INSERT INTO event_recipients (session_id, event_id)
         SELECT 'gone-' || n.i, e.id FROM events e CROSS JOIN n WHERE e.id >= ?",
    )
    .bind(RECIPIENTS)
    .bind(first)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn flatten(parts: Vec<Result<Vec<f64>>>) -> Result<Vec<f64>> {
    let mut all = Vec::new();
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
