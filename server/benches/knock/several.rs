//! Figure f: two servers on one PostgreSQL database. A new database on the server given with
//! `--postgres`, two release binaries A and B on it; knock -> alert on one server and across
//! the two (the LISTEN/NOTIFY doorbell, then the log read), one event to 1,000 admin streams
//! split over A and B, and REST throughput through A alone and through both.

use std::{path::Path, sync::Arc, time::Duration};

use sqlx::{Connection, PgConnection};

use crate::{
    client::{Api, Result, fail},
    latency::{self, GOAL_P99_MS, Knocks},
    process::{API_KEY, Knock},
    rest::{self, Endpoint, throughput},
    sessions::{self, FANOUT_GOAL_MS, FanOuts, KNOCKS, OWNERS, ROUNDS, TABS},
    sse::Counters,
    stats::{Row, Verdict, median, percentile},
};

/// Open files the figure needs in this process: both ends of the admin streams (the servers
/// hold the other ends), the guests' streams, and some spare.
pub const FILES_NEEDED: u64 = (OWNERS * TABS + ROUNDS * KNOCKS + 1_000) as u64;

/// A database of its own on the PostgreSQL server, dropped by [`Database::drop_now`].
struct Database {
    /// The server's URL, as given.
    server: String,
    name: String,
    /// The new database's URL.
    url: String,
}

/// `server` (a PostgreSQL URL) with its database replaced by `name` (query kept).
fn with_database(server: &str, name: &str) -> Result<String> {
    let (url, query) = match server.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (server, None),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return fail(format!("--postgres {server}: not a postgres:// URL"));
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut with = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        with.push('?');
        with.push_str(query);
    }
    Ok(with)
}

impl Database {
    /// Creates `knock_bench_<random>` on `server`.
    async fn create(server: &str) -> Result<Self> {
        let name = format!("knock_bench_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(server, &name)?;
        let mut admin = PgConnection::connect(server)
            .await
            .map_err(|error| format!("cannot connect to PostgreSQL at {server}: {error}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(Self {
            server: server.to_owned(),
            name,
            url,
        })
    }

    /// Drops the database (after the servers on it have stopped); a failure is only reported.
    async fn drop_now(self) {
        let dropped = async {
            let mut admin = PgConnection::connect(&self.server).await?;
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await?;
            admin.close().await
        };
        if let Err(error) = dropped.await {
            eprintln!(
                "[bench] f: could not drop the database {}: {error}",
                self.name
            );
        }
    }
}

/// The rows of figure f, on a new database of the PostgreSQL server at `server`.
pub async fn run(binary: &Path, site: &Path, server: &str, files: u64) -> Result<Vec<Row>> {
    if files < FILES_NEEDED {
        return fail(format!(
            "the open-file limit is {files}, figure f needs {FILES_NEEDED}"
        ));
    }
    let database = Database::create(server).await?;
    eprintln!("[bench] f: database {}", database.name);
    let rows = on(binary, site, &database.url).await;
    database.drop_now().await;
    rows
}

/// Starts A and B on `url`, measures, stops them.
async fn on(binary: &Path, site: &Path, url: &str) -> Result<Vec<Row>> {
    let mut a = Knock::start_on(binary, site, Some(url)).await?;
    let mut b = Knock::start_on(binary, site, Some(url)).await?;
    eprintln!(
        "[bench] f: A is pid {} at {}, B is pid {} at {}",
        a.pid, a.base_url, b.pid, b.base_url
    );
    let rows = measure(&a, &b).await;
    // A failure may come from a server that died: say so, with its log.
    let rows = rows.map_err(|error| {
        let mut error = error.to_string();
        for (name, knock) in [("A", &mut a), ("B", &mut b)] {
            if let Err(exited) = knock.check_alive() {
                error.push_str(&format!("; server {name}: {exited}"));
            }
        }
        error.into()
    });
    a.stop();
    b.stop();
    rows
}

async fn measure(a: &Knock, b: &Knock) -> Result<Vec<Row>> {
    let (a_url, b_url) = (a.base_url.as_str(), b.base_url.as_str());
    let api = Api::new(a_url, API_KEY)?;
    let mut rows = Vec::new();

    eprintln!("[bench] f: knock -> alert on A");
    let one = latency::knocks(a_url, a_url, &api, "bench-pg-one").await?;
    eprintln!("[bench] f: knock -> alert from A to B");
    let two = latency::knocks(a_url, b_url, &api, "bench-pg-two").await?;
    rows.extend(alert_rows(one, two));

    eprintln!("[bench] f: one event to 1,000 streams on A and B");
    rows.push(fan_out(&api, a_url, b_url).await?);

    eprintln!("[bench] f: REST throughput");
    rows.extend(rest_rows(&api, a_url, b_url).await?);
    Ok(rows)
}

fn alert_rows(mut one: Knocks, mut two: Knocks) -> Vec<Row> {
    let (one_p50, one_p99) = one.p50_p99();
    let (two_p50, two_p99) = two.p50_p99();
    let goal = format!("p99 <= {GOAL_P99_MS:.0} ms");
    let answered = |knocks: &mut Knocks| {
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            percentile(&mut knocks.responses, 50.0),
            percentile(&mut knocks.responses, 99.0)
        )
    };
    vec![
        Row::new(
            "f. knock -> admin alert, one server (PostgreSQL)",
            format!("p50 {one_p50:.2} ms, p99 {one_p99:.2} ms"),
            goal.clone(),
            Verdict::goal(one_p99 <= GOAL_P99_MS),
            format!(
                "{}; guests and owner all on server A, second server B running on the same \
                 database",
                latency::method("")
            ),
        ),
        Row::new(
            "f. knock -> admin alert, across servers (PostgreSQL)",
            format!("p50 {two_p50:.2} ms, p99 {two_p99:.2} ms"),
            goal,
            Verdict::goal(two_p99 <= GOAL_P99_MS),
            latency::method(
                ", connected to server B while every guest arrives and knocks on server A \
                 (A commits, rings NOTIFY; B hears it and reads the log)",
            ),
        ),
        Row::new(
            "f. (breakdown) pooled / knock answer (PostgreSQL)",
            format!(
                "one server: pooled p50 {:.2} ms, p99 {:.2} ms, request_access answered {}; \
                 across: pooled p50 {:.2} ms, p99 {:.2} ms, request_access answered {}",
                percentile(&mut one.all, 50.0),
                percentile(&mut one.all, 99.0),
                answered(&mut one),
                percentile(&mut two.all, 50.0),
                percentile(&mut two.all, 99.0),
                answered(&mut two),
            ),
            "-",
            Verdict::Info,
            "the same knocks pooled; and the time until the knocker's own HTTP answer from A",
        ),
    ]
}

/// One event to `OWNERS * TABS` admin streams alternating between A and B; the guests knock on A.
async fn fan_out(api: &Api, a_url: &str, b_url: &str) -> Result<Row> {
    let room = "bench-pg-fanout";
    api.knocking_room(room).await?;
    let counters = Arc::new(Counters::default());
    let mut deliveries = sessions::owners(&[a_url, b_url], api, room, &counters).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    while deliveries.try_recv().is_ok() {}
    let FanOuts {
        mut round_p50s,
        mut round_p99s,
        mut first,
        mut answered,
        each,
    } = sessions::fan_outs(a_url, room, &mut deliveries, &counters).await?;
    let dropped = counters.ended();
    api.delete_room(room).await?;
    // Stream s was opened on A when s is even (sessions::owners).
    let (mut on_a, mut on_b): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for (stream, at) in each {
        if stream % 2 == 0 {
            on_a.push(at);
        } else {
            on_b.push(at);
        }
    }
    let p99 = median(&mut round_p99s);
    let streams = OWNERS * TABS;
    Ok(Row::new(
        "f. one event to 1,000 admin streams on two servers (PostgreSQL)",
        format!(
            "all 1,000 reached: p50 {:.1} ms, p99 {p99:.1} ms; each stream on A: p50 {:.1} ms, \
             p99 {:.1} ms; on B: p50 {:.1} ms, p99 {:.1} ms; first stream reached: p50 {:.1} ms; \
             knocker answered: p50 {:.1} ms",
            median(&mut round_p50s),
            percentile(&mut on_a, 50.0),
            percentile(&mut on_a, 99.0),
            percentile(&mut on_b, 50.0),
            percentile(&mut on_b, 99.0),
            median(&mut first),
            median(&mut answered),
        ),
        format!("p99 <= {FANOUT_GOAL_MS:.0} ms"),
        Verdict::goal(p99 <= FANOUT_GOAL_MS),
        format!(
            "{OWNERS} owners in one call with {TABS} streams each (one session per owner), the \
             streams alternating between A and B ({} on each); knocks one after another on A, \
             each by a new guest; per knock, from sending request_access until the last of the \
             {streams} streams delivered waiting-participant-added; median over {ROUNDS} rounds \
             of each round's p50 / p99 over {KNOCKS} knocks (the other figures pooled); no other \
             streams open; streams dropped: {dropped} of {streams}",
            streams / 2
        ),
    ))
}

/// REST throughput through A alone and through A and B in turn, in alternating rounds.
async fn rest_rows(api: &Api, a_url: &str, b_url: &str) -> Result<Vec<Row>> {
    api.knocking_room(rest::ROOM).await?;
    let (alone, both) = ([a_url], [a_url, b_url]);
    let mut rows = Vec::new();
    for endpoint in Endpoint::ALL {
        throughput(endpoint, &alone, rest::WARM_UP).await?;
        throughput(endpoint, &both, rest::WARM_UP).await?;
        let (mut on_a, mut on_both) = (Vec::new(), Vec::new());
        for round in 0..rest::ROUNDS {
            // Alternate which goes first, so a burst of noise does not always hit the same one.
            if round % 2 == 0 {
                on_a.push(throughput(endpoint, &alone, rest::ROUND).await?);
                on_both.push(throughput(endpoint, &both, rest::ROUND).await?);
            } else {
                on_both.push(throughput(endpoint, &both, rest::ROUND).await?);
                on_a.push(throughput(endpoint, &alone, rest::ROUND).await?);
            }
        }
        let range = |values: &[f64]| {
            (
                values.iter().copied().fold(f64::INFINITY, f64::min),
                values.iter().copied().fold(0.0, f64::max),
            )
        };
        let ((a_min, a_max), (both_min, both_max)) = (range(&on_a), range(&on_both));
        rows.push(Row::new(
            format!("f. {} (PostgreSQL)", endpoint.label()),
            format!(
                "through A: {:.0} req/s ({a_min:.0}-{a_max:.0}); through A and B: {:.0} req/s \
                 ({both_min:.0}-{both_max:.0})",
                median(&mut on_a),
                median(&mut on_both),
            ),
            "-",
            Verdict::Info,
            format!(
                "as figure c, on PostgreSQL: {} requests in flight over keep-alive connections \
                 (reqwest, this process) for {}s, {} alternating rounds after a {}s warm-up; \
                 medians (and ranges) of the rounds. Through A and B: each client's requests go \
                 to A and B in turn; the two servers, PostgreSQL and this process share the machine's cores",
                rest::CONCURRENCY,
                rest::ROUND.as_secs(),
                rest::ROUNDS,
                rest::WARM_UP.as_secs()
            ),
        ));
    }
    api.delete_room(rest::ROOM).await?;
    Ok(rows)
}
