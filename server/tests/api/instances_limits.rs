//! Rate limits across several Knock servers on one PostgreSQL database (PRODUCT.md §6: "rate
//! limits count across instances"): a client knocking through A and B in turn gets exactly the
//! burst one server would give it, not one burst per server. Needs PostgreSQL, so `#[ignore]`d
//! in the plain run; `make test` runs it with a throwaway cluster.

use app::ssr::{
    db::Db,
    limits::{self, KNOCK_BURST, KNOCK_REFILL_SECONDS, Limit},
};
use futures_util::future::join_all;

use crate::helpers::{Pair, Person, assert_error, postgres_database};

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn knocks_through_both_servers_share_one_burst_per_client_and_room() {
    let pair = Pair::start().await;
    let room = pair.api(false).knocking_room("standup").await;

    // Every knock comes from 127.0.0.1, a new browser each time, alternating A and B, and is
    // withdrawn (one client may have only five knocks waiting); a withdrawn knock still counts.
    for n in 0..KNOCK_BURST {
        let guest = Person::arrive(pair.url(n % 2 == 1), &room, None).await;
        guest.knocked(&format!("Guest {n}")).await;
        let (status, body) = guest.cancel().await;
        assert_eq!(status, 200, "{body}");
    }
    for on_b in [false, true] {
        let guest = Person::arrive(pair.url(on_b), &room, None).await;
        let (status, body) = guest.knock("One too many").await;
        assert_error(status, &body, 429, "rate-limit-error");
        assert!(
            body["info"]
                .as_str()
                .is_some_and(|info| info.contains("knocked too often")),
            "refused by the knock limit, on {}: {body}",
            if on_b { "B" } else { "A" }
        );
        assert_eq!(guest.phase().await, "prejoin");
    }
    let waiting = pair.api(true).waiting(&room).await;
    assert_eq!(
        waiting["total_count"], 0,
        "the refused knocks wait nowhere: {waiting}"
    );

    // The limit is per room: the same client knocks on another room through either server.
    let other = pair.api(true).knocking_room("retro").await;
    for on_b in [true, false] {
        let guest = Person::arrive(pair.url(on_b), &other, None).await;
        guest.knocked("Ben").await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it"]
async fn simultaneous_checks_from_two_pools_allow_exactly_the_burst_and_pruning_keeps_the_rest() {
    let url = postgres_database().await;
    let (a, b) = (
        Db::connect(&url).await.expect("A"),
        Db::connect(&url).await.expect("B"),
    );
    let now = 1_764_324_000_000;
    let ben = Limit::Knock {
        client: "2001:db8::1",
        room: "standup",
    };
    let checks = (0..40).map(|n| {
        let db = if n % 2 == 0 { &a } else { &b };
        async move { limits::allow(db, ben, now).await.expect("check") }
    });
    let allowed = join_all(checks).await.into_iter().filter(|&ok| ok).count();
    assert_eq!(allowed, usize::try_from(KNOCK_BURST).expect("small"));

    let interval = i64::try_from(KNOCK_REFILL_SECONDS * 1000).expect("small");
    assert!(
        !limits::allow(&b, ben, now + interval - 1)
            .await
            .expect("check")
    );
    assert!(limits::allow(&a, ben, now + interval).await.expect("check"));
    let other = Limit::Knock {
        client: "2001:db8::1",
        room: "retro",
    };
    assert!(limits::allow(&b, other, now).await.expect("check"));

    // Retro's allowance has refilled a minute later, Ben's on standup not yet.
    let spent = now + i64::from(KNOCK_BURST) * interval;
    assert_eq!(limits::prune(&a, spent).await.expect("prune"), 1);
    // Ben's row was kept: his eleventh knock has not refilled yet, so a burst less one is left
    // (without the row he would get the whole burst).
    let mut left = 0;
    for _ in 0..=KNOCK_BURST {
        if limits::allow(&b, ben, spent).await.expect("check") {
            left += 1;
        }
    }
    assert_eq!(left, KNOCK_BURST - 1);
}
