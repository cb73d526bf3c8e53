//! Pruning the event log while the lobby is busy: the maintenance job deletes a day-old log in
//! short batches, so knocks made meanwhile are answered, not left behind SQLite's write lock.

use std::time::{Duration, Instant};

use app::ssr::{db::Db, maintenance, time::now_millis};
use futures_util::future::join_all;

use crate::helpers::{Database, Person, Room, client_at, loopback};

/// Old events in the log, each for [`RECIPIENTS`] sessions.
const OLD_EVENTS: u32 = 2_000;
/// Recent events, which pruning keeps.
const RECENT_EVENTS: u32 = 10;
/// Recipients of each filled-in event: [`OLD_EVENTS`] × this = 200,000 expired rows.
const RECIPIENTS: u32 = 100;
/// Guests knocking while the log is pruned.
const GUESTS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_a_large_log_leaves_every_knock_meanwhile_answered() {
    let room = Room::knocking_long_grace().await;
    // Each guest from an address of its own: one client may have only five knocks waiting.
    let guests = join_all((0..GUESTS).map(|n| {
        Person::arrive_with(
            client_at(loopback(50, n)),
            &room.app.base_url,
            &room.name,
            None,
        )
    }))
    .await;
    for (n, guest) in guests.iter().enumerate() {
        let (status, state) = guest.knock(&format!("Guest {n}")).await;
        assert_eq!(status, 200, "Guest {n} knocks: {state}");
    }
    let mut database = Database::open_writable(&room.app.database_url).await;
    // Two days old: past the retention of one day.
    let old = now_millis() - 2 * 24 * 60 * 60 * 1000;
    database
        .fill_event_log(&room.name, OLD_EVENTS, RECIPIENTS, "gone", old)
        .await;
    database
        .fill_event_log(&room.name, RECENT_EVENTS, RECIPIENTS, "here", now_millis())
        .await;
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM event_recipients WHERE session_id LIKE 'gone-%'")
            .await,
        i64::from(OLD_EVENTS * RECIPIENTS)
    );

    let db = Db::connect(&room.app.database_url)
        .await
        .expect("connect to the test server's database");
    let pruning = tokio::spawn(async move {
        let started = Instant::now();
        let pruned = maintenance::prune_once(&db, now_millis()).await;
        (pruned, started.elapsed())
    });

    // Each guest withdraws and knocks again (write transactions with their events, like any
    // knock) over and over until the pruning is done, at least once after it started; each
    // time as a new visitor from a new address, so no rate limit refuses a knock.
    let answers = join_all(guests.iter().enumerate().map(|(n, guest)| {
        let pruning = &pruning;
        let room = &room;
        async move {
            let mut answers = Vec::new();
            let (status, state) = guest.cancel().await;
            assert_eq!(status, 200, "Guest {n} withdraws: {state}");
            for round in 1.. {
                let visitor = Person::arrive_with(
                    client_at(loopback(50, n * 1_000 + round)),
                    &room.app.base_url,
                    &room.name,
                    None,
                )
                .await;
                let started = Instant::now();
                let (status, state) = visitor.knock(&format!("Guest {n} {round}")).await;
                answers.push((status, state, started.elapsed()));
                let (status, state) = visitor.cancel().await;
                answers.push((status, state, started.elapsed()));
                if pruning.is_finished() {
                    break;
                }
            }
            answers
        }
    }))
    .await;
    let (pruned, took) = pruning.await.expect("the pruning task ends");

    let mut longest = Duration::ZERO;
    let mut failed = Vec::new();
    let mut knocks = 0;
    for (n, answers) in answers.iter().enumerate() {
        for (status, state, latency) in answers {
            if *status != 200 {
                failed.push(format!("Guest {n}: {status} after {latency:?}: {state}"));
            }
            longest = longest.max(*latency);
            knocks += 1;
        }
    }
    eprintln!(
        "pruned {pruned:?} events ({} recipient rows) in {took:?}; {knocks} knocks meanwhile, \
         {} failed, the longest took {longest:?}",
        OLD_EVENTS * RECIPIENTS,
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "knocks failed during pruning:\n{}",
        failed.join("\n")
    );
    let pruned = pruned.expect("pruning succeeds");
    // The filled-in old events, and any the room itself wrote a day ago (none): all gone.
    assert_eq!(pruned, u64::from(OLD_EVENTS));
    assert_eq!(
        database
            .count(&format!(
                "SELECT COUNT(*) FROM events WHERE created_at < {}",
                old + 1
            ))
            .await,
        0,
        "old events remain"
    );
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM event_recipients WHERE session_id LIKE 'gone-%'")
            .await,
        0,
        "recipients of old events remain"
    );
    assert_eq!(
        database
            .count(
                "SELECT COUNT(*) FROM event_recipients r
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = r.event_id)"
            )
            .await,
        0,
        "recipients of deleted events remain"
    );
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM event_recipients WHERE session_id LIKE 'here-%'")
            .await,
        i64::from(RECENT_EVENTS * RECIPIENTS),
        "recent events were pruned"
    );
    // The knocks' own events (recent) are still there to replay.
    assert!(
        database
            .count("SELECT COUNT(*) FROM events WHERE payload <> '{}'")
            .await
            > 0,
        "the knocks' events were pruned"
    );
}
