//! Who the client is (`KNOCK_TRUSTED_PROXIES`, PRODUCT.md §1 and §7): behind a trusted proxy
//! each visitor has limits of their own, taken from the right-most untrusted address of
//! `X-Forwarded-For`; from any other peer the header is ignored; an IPv6 client counts by its
//! /64; wrong API keys are limited per client, a right key never.

use app::ssr::{config::TrustedProxies, limits};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::Value;

use crate::helpers::{Person, Room, TestApp, assert_error, send, spawn_app_with};

/// The test server's peer address as the tests connect (loopback) is a trusted proxy.
fn behind_loopback_proxy(config: &mut app::ssr::config::Config) {
    config.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").expect("valid");
}

/// A browser whose every request carries `X-Forwarded-For: <forwarded_for>`, as a proxy in
/// front of the server would add it.
fn browser_forwarded_for(forwarded_for: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        forwarded_for.parse().expect("a header value"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("http client")
}

/// A visitor at the door of the room whose requests say they come for `forwarded_for`.
async fn guest_forwarded_for(room: &Room, forwarded_for: &str) -> Person {
    Person::arrive_with(
        browser_forwarded_for(forwarded_for),
        &room.app.base_url,
        &room.name,
        None,
    )
    .await
}

/// Spends the knock allowance of `guest`'s client in the room (knocking and withdrawing, so
/// no knock waits), then checks that the next knock is refused for knocking too often.
async fn spend_knocks(guest: &Person) {
    for n in 0..limits::KNOCK_BURST {
        guest.knocked(&format!("Guest {n}")).await;
        let (status, body) = guest.cancel().await;
        assert_eq!(status, 200, "{body}");
    }
    assert_knock_refused(guest).await;
}

async fn assert_knock_refused(guest: &Person) {
    let (status, body) = guest.knock("Guest").await;
    assert_error(status, &body, 429, "rate-limit-error");
    assert!(
        body["info"]
            .as_str()
            .unwrap_or_default()
            .contains("too often"),
        "{body}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_two_clients_are_limited_separately() {
    let room = Room::knocking_with(behind_loopback_proxy).await;
    let ben = guest_forwarded_for(&room, "203.0.113.1").await;
    spend_knocks(&ben).await;

    // Another visitor behind the same proxy has a whole allowance of their own.
    let cy = guest_forwarded_for(&room, "203.0.113.2").await;
    cy.knocked("Cy").await;

    // Ben cannot get a fresh one by writing another address in front: the proxy appends the
    // address it saw, and that right-most untrusted one is the client.
    let spoofing = guest_forwarded_for(&room, "198.51.100.9, 203.0.113.1").await;
    assert_knock_refused(&spoofing).await;
    // The proxy itself, asking without the header, is one more client.
    let proxy = room.guest().await;
    proxy.knocked("Proxy").await;
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // One proxy is trusted, but not the loopback peer the requests come from.
    let room = Room::knocking_with(|config| {
        config.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").expect("valid");
    })
    .await;
    let ben = guest_forwarded_for(&room, "203.0.113.1").await;
    spend_knocks(&ben).await;
    // Another made-up address changes nothing: the limit counts the peer.
    let spoofing = guest_forwarded_for(&room, "203.0.113.2").await;
    assert_knock_refused(&spoofing).await;
    assert_knock_refused(&room.guest().await).await;
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64() {
    let room = Room::knocking_with(behind_loopback_proxy).await;
    let ben = guest_forwarded_for(&room, "2001:db8:1:2::1").await;
    spend_knocks(&ben).await;
    // Another address of the same /64 is the same client.
    let same_64 = guest_forwarded_for(&room, "2001:db8:1:2:ffff:ffff:ffff:ffff").await;
    assert_knock_refused(&same_64).await;
    // The next /64 is another client.
    let next_64 = guest_forwarded_for(&room, "2001:db8:1:3::1").await;
    next_64.knocked("Cy").await;
}

/// `GET /v1/rooms` with `key`, for the client `forwarded_for` (if any).
async fn rooms_with_key(
    app: &TestApp,
    key: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app.client.get(app.url("/v1/rooms")).bearer_auth(key);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    send(request).await
}

#[tokio::test]
async fn wrong_api_keys_are_limited_per_client_and_a_right_key_never() {
    let app = spawn_app_with(behind_loopback_proxy).await;
    let wrong = "not-the-key-0123456789abcdefghijklmnop";
    let ben = Some("203.0.113.1");
    for n in 0..limits::WRONG_API_KEY_BURST {
        let (status, body) = rooms_with_key(&app, wrong, ben).await;
        assert_eq!(status, 401, "wrong key {n}: {body}");
        assert_eq!(body["error"], "authentication-error", "{body}");
    }
    let (status, body) = rooms_with_key(&app, wrong, ben).await;
    assert_error(status, &body, 429, "rate-limit-error");
    let info = body["info"].as_str().unwrap_or_default();
    assert!(info.contains("wrong API key"), "{info}");
    assert!(!info.contains(wrong), "the key is not echoed: {info}");

    // The right key from the same client goes through, again and again.
    for _ in 0..3 {
        let (status, body) = rooms_with_key(&app, &app.api_key, ben).await;
        assert_eq!(status, 200, "{body}");
    }
    // A malformed header is not a wrong key: 400, not 429.
    let (status, body) = send(
        app.client
            .get(app.url("/v1/rooms"))
            .header("authorization", "Basic abc")
            .header("x-forwarded-for", "203.0.113.1"),
    )
    .await;
    assert_error(status, &body, 400, "authorization-header-error");
    // Another client behind the proxy is still told its key is wrong.
    let (status, body) = rooms_with_key(&app, wrong, Some("203.0.113.2")).await;
    assert_error(status, &body, 401, "authentication-error");
    // And Ben is still refused.
    let (status, body) = rooms_with_key(&app, wrong, ben).await;
    assert_error(status, &body, 429, "rate-limit-error");
}
