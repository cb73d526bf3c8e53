//! Reliability (issue 7): an event stream cut again and again while events pour in misses and
//! repeats nothing. Correctness only: no timing is asserted.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::{
    API_KEY, Api, EVENT_TIMEOUT, Event, EventStream, Person, QUIET, Server, client_at, loopback,
};
use futures_util::future::join_all;
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// 2. A stream cut again and again while events keep coming.
// ---------------------------------------------------------------------------------------------

/// Guests producing events at once.
const PRODUCERS: usize = 40;
/// Rounds of bursts: every guest knocks, then every guest renames, then every guest cancels.
/// Two knocks each stay within the knock limit of ten per client.
const ROUNDS: usize = 2;
/// How many events the admin's stream reads before each cut, in turn.
const CUTS: [usize; 6] = [1, 3, 2, 5, 4, 7];

/// Every guest does `step` at once (each starting a millisecond after the previous one).
async fn burst<'a, F, Fut>(guests: &'a [Person], step: F)
where
    F: Fn(usize, &'a Person) -> Fut,
    Fut: Future<Output = ()>,
{
    join_all(guests.iter().enumerate().map(|(n, guest)| {
        let delay = Duration::from_millis(u64::try_from(n).expect("small"));
        let step = step(n, guest);
        async move {
            tokio::time::sleep(delay).await;
            step.await;
        }
    }))
    .await;
}

/// Bursts of knocks, renames and cancels; how many of each were made.
async fn produce(guests: &[Person]) -> [usize; 3] {
    for round in 0..ROUNDS {
        burst(guests, |n, guest| async move {
            guest.knocked(&format!("G{n} r{round}")).await;
        })
        .await;
        burst(guests, |n, guest| async move {
            guest.knocked(&format!("G{n} r{round} renamed")).await;
        })
        .await;
        burst(guests, |_, guest| async move {
            let (status, state) = guest.cancel().await;
            assert_eq!(status, 200, "{state}");
        })
        .await;
    }
    [guests.len() * ROUNDS; 3]
}

/// Reads up to `limit` events into `received`; whether the last one is the closing knock
/// (`waiting-participant-added` for `END`), which stops the reading.
async fn read_until_end(stream: &mut EventStream, received: &mut Vec<Event>, limit: usize) -> bool {
    for _ in 0..limit {
        let event = stream.next_event(EVENT_TIMEOUT).await.unwrap_or_else(|| {
            panic!(
                "after {} events, nothing came within {EVENT_TIMEOUT:?}",
                received.len()
            )
        });
        let end =
            event.name == "waiting-participant-added" && event.data["participant"]["name"] == "END";
        received.push(event);
        if end {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_again_and_again_while_events_pour_in_misses_and_repeats_nothing() {
    // The real binary, so that its requests run on threads of their own, as in production.
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let api = Api::new(&server.base_url, API_KEY);
    let room = api.knocking_room("replay").await;
    let ana_token = api
        .token(json!({"room_name": room, "is_owner": true, "user_name": "Ana"}))
        .await;
    let knocking = api
        .token(json!({"room_name": room, "knocking": true}))
        .await;
    let ana = Person::arrive(&server.base_url, &room, Some(&ana_token)).await;
    let mut current = ana.events().await.named("Ana");
    let (status, state) = ana.join("Ana").await;
    assert_eq!(status, 200, "{state}");
    let mut guests = Vec::new();
    for n in 0..=PRODUCERS {
        let client = client_at(loopback(11, n));
        guests.push(Person::arrive_with(client, &server.base_url, &room, Some(&knocking)).await);
    }
    let last_guest = guests.pop().expect("the guest who knocks last");

    // The producers run on their own task; when they are done, one last knock closes the run.
    let producing = Arc::new(AtomicBool::new(true));
    let producers = tokio::spawn({
        let producing = Arc::clone(&producing);
        async move {
            let made = produce(&guests).await;
            producing.store(false, Ordering::SeqCst);
            last_guest.knocked("END").await;
            made
        }
    });

    // Ana's stream: read a few events, drop the connection, (sometimes wait while more events
    // are written), reconnect with `Last-Event-ID` of the last one; until the closing knock.
    let mut received: Vec<Event> = Vec::new();
    let (mut cuts, mut cuts_while_producing) = (0, 0);
    for size in CUTS.iter().cycle() {
        if read_until_end(&mut current, &mut received, *size).await {
            break;
        }
        let last = received.last().expect("an event").id;
        drop(current);
        cuts += 1;
        if producing.load(Ordering::SeqCst) {
            cuts_while_producing += 1;
        }
        if cuts % 2 == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        current = ana.events_after(last).await.named("Ana");
    }
    current.assert_quiet(QUIET).await;
    let [knocks, renames, cancels] = producers.await.expect("the producers");
    assert!(
        cuts_while_producing >= 3,
        "only {cuts_while_producing} of {cuts} cuts came while events were being written"
    );

    // A stream opened now, from the start of the log, is the reference.
    let mut fresh = ana.events().await.named("Ana from the start");
    let mut reference = Vec::new();
    assert!(
        read_until_end(&mut fresh, &mut reference, usize::MAX).await,
        "the log has the closing knock"
    );
    fresh.assert_quiet(QUIET).await;
    if let Some(at) =
        (0..received.len().max(reference.len())).find(|&at| received.get(at) != reference.get(at))
    {
        panic!(
            "the cut streams and the log differ at event {at} (after {cuts} cuts):\n  \
             cut streams: {:?}\n  log: {:?}",
            received.get(at),
            reference.get(at)
        );
    }
    assert!(
        reference.windows(2).all(|pair| pair[0].id < pair[1].id),
        "ids increase"
    );

    // And the log holds exactly what was done: Ana's entry and one event per operation.
    let count = |name: &str| reference.iter().filter(|event| event.name == name).count();
    assert_eq!(count("access-state-updated"), 1);
    assert_eq!(count("waiting-participant-added"), knocks + 1);
    assert_eq!(count("waiting-participant-updated"), renames);
    assert_eq!(count("waiting-participant-removed"), cancels);
    assert_eq!(reference.len(), 1 + knocks + renames + cancels + 1);
}
