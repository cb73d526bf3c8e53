//! The lobby's limits: the knock and rename rate limits, the waiting knocks of one client, the
//! rules for names, and the 500-knock cap.

use std::net::{IpAddr, Ipv4Addr};

use app::ssr::limits::{self, WAITING_KNOCKS_PER_CLIENT};
use futures_util::StreamExt;
use serde_json::json;

use crate::helpers::{Person, Room, assert_error, client_at, loopback};

#[tokio::test]
async fn knocking_too_often_is_refused_with_429_but_renaming_is_not_a_knock() {
    let room = Room::knocking().await;
    let ben = room.guest().await;
    ben.knocked("Ben").await;
    for i in 0..limits::RENAME_BURST {
        ben.knocked(&format!("Ben {i}")).await;
    }
    let (status, body) = ben.cancel().await;
    assert_eq!(status, 200, "{body}");
    // Nine more knocks make the burst of ten.
    for _ in 0..9 {
        ben.knocked("Ben").await;
        let (status, body) = ben.cancel().await;
        assert_eq!(status, 200, "{body}");
    }

    let (status, body) = ben.knock("Ben").await;
    assert_error(status, &body, 429, "rate-limit-error");
    assert_eq!(ben.phase().await, "prejoin");
    assert!(room.waiting_ids().await.is_empty());

    // The limit is per room.
    let other = room.api.knocking_room("retro").await;
    let elsewhere = room.app.person(&other, None).await;
    elsewhere.knocked("Ben").await;
}

#[tokio::test]
async fn renaming_a_waiting_knock_too_often_is_refused_with_429() {
    let room = Room::knocking().await;
    let ben = room.guest().await;
    ben.knocked("Ben").await;
    for i in 0..limits::RENAME_BURST {
        ben.knocked(&format!("Ben {i}")).await;
    }
    let last = format!("Ben {}", limits::RENAME_BURST - 1);
    let (status, body) = ben.knock("Benjamin").await;
    assert_error(status, &body, 429, "rate-limit-error");
    assert!(
        body["info"].as_str().unwrap_or_default().contains("name"),
        "{body}"
    );
    // The knock still waits, under the last name that was allowed.
    assert_eq!(ben.phase().await, "waiting");
    assert_eq!(room.api.waiting_names(&room.name).await, [last]);

    // Renames are counted per room: the same client renames freely elsewhere.
    let other = room.api.knocking_room("retro").await;
    let elsewhere = room.app.person(&other, None).await;
    elsewhere.knocked("Ben").await;
    elsewhere.knocked("Benjamin").await;
    assert_eq!(room.api.waiting_names(&other).await, ["Benjamin"]);
}

#[tokio::test]
async fn one_client_may_have_only_a_handful_of_knocks_waiting_in_a_room() {
    let room = Room::knocking().await;
    let same_address = loopback(30, 0);
    let mut guests = Vec::new();
    for n in 0..WAITING_KNOCKS_PER_CLIENT {
        let guest = Person::arrive_with(
            client_at(same_address),
            &room.app.base_url,
            &room.name,
            None,
        )
        .await;
        guest.knocked(&format!("Guest {n}")).await;
        guests.push(guest);
    }
    let one_more = Person::arrive_with(
        client_at(same_address),
        &room.app.base_url,
        &room.name,
        None,
    )
    .await;
    let (status, body) = one_more.knock("One more").await;
    assert_error(status, &body, 429, "rate-limit-error");
    assert!(
        body["info"]
            .as_str()
            .unwrap_or_default()
            .contains("already waiting"),
        "{body}"
    );
    assert_eq!(one_more.phase().await, "prejoin");
    let waiting = usize::try_from(WAITING_KNOCKS_PER_CLIENT).expect("small");
    assert_eq!(room.waiting_ids().await.len(), waiting);

    // Another client knocks on the same room, and this client on another room.
    let elsewhere = Person::arrive_with(
        client_at(loopback(30, 1)),
        &room.app.base_url,
        &room.name,
        None,
    )
    .await;
    elsewhere.knocked("Elsewhere").await;
    let other = room.api.knocking_room("retro").await;
    let other_room =
        Person::arrive_with(client_at(same_address), &room.app.base_url, &other, None).await;
    other_room.knocked("Other room").await;

    // Once one of the client's knocks is withdrawn, there is a place again.
    let (status, body) = guests[0].cancel().await;
    assert_eq!(status, 200, "{body}");
    one_more.knocked("One more").await;
    let (status, body) = guests[0].knock("Again").await;
    assert_error(status, &body, 429, "rate-limit-error");
}

#[tokio::test]
async fn bad_names_are_refused_with_400_and_change_nothing() {
    let room = Room::knocking().await;
    let ben = room.guest().await;
    let too_long = "x".repeat(65);
    let too_long_accented = "é".repeat(65);
    let bad = [
        "",
        "   ",
        too_long.as_str(),
        too_long_accented.as_str(),
        "Ben\u{0}",
        "Ben\nBen",
        "\u{7}\u{7}",
        "Ben\u{1b}[31m",
    ];
    for name in bad {
        let (status, body) = ben.knock(name).await;
        assert_eq!(status, 400, "knock as {name:?}: {body}");
        assert_error(status, &body, 400, "invalid-request-error");
    }
    assert_eq!(ben.phase().await, "prejoin");
    assert!(room.waiting_ids().await.is_empty());

    let ana = room.owner("Ana").await;
    for name in bad {
        let (status, body) = ana.join(name).await;
        assert_eq!(status, 400, "join as {name:?}: {body}");
    }
    assert_eq!(ana.phase().await, "prejoin");
    assert_eq!(room.presence().await["total_count"], 0);

    // The limits are inclusive, counted in characters.
    ben.knocked(&"é".repeat(64)).await;
    assert_eq!(room.api.waiting_names(&room.name).await, ["é".repeat(64)]);
}

#[tokio::test]
async fn the_lobby_holds_at_most_500() {
    let room = Room::knocking().await;
    // One `knocking` token for everyone: its link starts a session without rendering a page.
    let token = room
        .api
        .token(json!({"room_name": room.name, "knocking": true}))
        .await;
    let knock_from = |n: usize| {
        let (base_url, name, token) = (room.app.base_url.clone(), room.name.clone(), token.clone());
        async move {
            // Each loopback address is its own client for the limits on knocks (ten per room)
            // and on waiting knocks (five per room).
            let octet = u8::try_from(n / 5 + 1).expect("small");
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 1, octet)))
                .build()
                .expect("client");
            let guest = Person::arrive_with(client, &base_url, &name, Some(&token)).await;
            guest.knock(&format!("Guest {n}")).await
        }
    };
    let answers: Vec<_> = futures_util::stream::iter((0..500).map(knock_from))
        .buffer_unordered(16)
        .collect()
        .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(room.waiting().await["total_count"], 500);

    let (status, body) = knock_from(1000).await;
    assert_error(status, &body, 429, "rate-limit-error");
    assert_eq!(room.waiting().await["total_count"], 500);
}
