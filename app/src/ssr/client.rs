//! Who the client is, for the per-client limits (PRODUCT.md §1 `KNOCK_TRUSTED_PROXIES`, §7).
//!
//! The client is the TCP peer, unless the peer is a trusted reverse proxy: then it is the
//! right-most address of `X-Forwarded-For` that is not itself a trusted proxy. Each proxy
//! appends the address it was connected from, so everything right of the first untrusted
//! address was written by proxies we trust, and everything left of it may be made up by the
//! client. A request from an untrusted peer has its `X-Forwarded-For` ignored. Limits count an
//! IPv6 client by its /64, the block one subscriber usually holds whole.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header::HeaderName};

use super::config::{TrustedProxies, mask};

/// The header reverse proxies append the address they were connected from to.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// What a client without a known peer address counts as (a request that did not come over a
/// socket, which the server never makes).
pub const UNKNOWN: &str = "unknown";

/// The client's address: `peer`, or when `peer` is a trusted proxy, the right-most address of
/// `X-Forwarded-For` (all of its headers, in order) that is not a trusted proxy. When every
/// address given is a trusted proxy, the left-most of them. An entry that is not an address
/// (`unknown`, a hostname) ends the walk there: the client is the last address walked.
pub fn address(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    let entries: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    for entry in entries.into_iter().rev() {
        let Some(hop) = parse_hop(entry) else {
            break;
        };
        client = hop;
        if !trusted.contains(hop) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry as an address: `203.0.113.7`, `2001:db8::7`, and the forms some
/// proxies write with a port (`203.0.113.7:51234`, `[2001:db8::7]:51234`) or brackets.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim_matches('"');
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|socket| socket.ip()))
        .or_else(|_| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or(entry)
                .parse::<IpAddr>()
        })
        .ok()
        .map(|address| address.to_canonical())
}

/// The client as limits count it: an IPv4 address whole, an IPv6 address by its /64
/// (`2001:db8:1:2::/64`), since one subscriber usually holds a whole /64 and could otherwise
/// take a fresh address for every request.
pub fn key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        v6 @ IpAddr::V6(_) => format!("{}/64", mask(v6, 64).unwrap_or(v6)),
    }
}

/// The limit key ([`key`]) of the client of a request from `peer` with `headers`.
pub fn of(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> String {
    match peer {
        Some(peer) => key(address(peer.ip(), headers, trusted)),
        None => UNKNOWN.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, value.parse().expect("a header value"));
        }
        headers
    }

    fn proxies(text: &str) -> TrustedProxies {
        TrustedProxies::parse(text).expect("valid")
    }

    #[test]
    fn without_trusted_proxies_the_client_is_the_peer_whatever_the_header_says() {
        let spoofed = forwarded(&["198.51.100.1"]);
        let none = TrustedProxies::default();
        assert_eq!(
            address(ip("203.0.113.5"), &spoofed, &none),
            ip("203.0.113.5")
        );
        // A peer that is not one of the trusted proxies is not believed either.
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            address(ip("203.0.113.5"), &spoofed, &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address() {
        let trusted = proxies("127.0.0.1/32,10.0.0.0/8");
        let proxy = ip("127.0.0.1");
        // The proxy appended the address it saw.
        assert_eq!(
            address(proxy, &forwarded(&["203.0.113.7"]), &trusted),
            ip("203.0.113.7")
        );
        // The client made up the left part; a chain of trusted proxies is walked through.
        assert_eq!(
            address(
                proxy,
                &forwarded(&["198.51.100.1, 203.0.113.7, 10.0.0.2"]),
                &trusted
            ),
            ip("203.0.113.7")
        );
        // Several headers count as one list, in order.
        assert_eq!(
            address(
                proxy,
                &forwarded(&["198.51.100.1", "203.0.113.7", "10.0.0.2"]),
                &trusted
            ),
            ip("203.0.113.7")
        );
        // No header: the proxy itself is the client.
        assert_eq!(address(proxy, &HeaderMap::new(), &trusted), proxy);
        // Every address a trusted proxy: the left-most.
        assert_eq!(
            address(proxy, &forwarded(&["10.0.0.3, 10.0.0.2"]), &trusted),
            ip("10.0.0.3")
        );
        // Garbage right of the client ends the walk at the last address.
        assert_eq!(
            address(
                proxy,
                &forwarded(&["203.0.113.7, unknown, 10.0.0.2"]),
                &trusted
            ),
            ip("10.0.0.2")
        );
        // Ports and brackets, as some proxies write them.
        assert_eq!(
            address(proxy, &forwarded(&["203.0.113.7:51234"]), &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(
            address(proxy, &forwarded(&["[2001:db8::7]:51234"]), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            address(proxy, &forwarded(&["[2001:db8::7]"]), &trusted),
            ip("2001:db8::7")
        );
        // A dual-stack listener's view of an IPv4 proxy.
        assert_eq!(
            address(
                ip("::ffff:127.0.0.1"),
                &forwarded(&["203.0.113.7"]),
                &trusted
            ),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn ipv6_clients_count_per_64_and_ipv4_clients_per_address() {
        assert_eq!(key(ip("203.0.113.7")), "203.0.113.7");
        assert_ne!(key(ip("203.0.113.7")), key(ip("203.0.113.8")));
        assert_eq!(key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        let one = key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_eq!(key(ip("2001:db8:1:2::1")), one);
        assert_eq!(key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), one);
        assert_ne!(key(ip("2001:db8:1:3::1")), one);
        assert_eq!(key(ip("::1")), "::/64");
    }

    #[test]
    fn a_request_without_a_peer_is_one_unknown_client() {
        assert_eq!(
            of(None, &forwarded(&["203.0.113.7"]), &proxies("0.0.0.0/0")),
            UNKNOWN
        );
        let peer: SocketAddr = "[2001:db8::5]:40000".parse().expect("a socket address");
        assert_eq!(
            of(Some(peer), &HeaderMap::new(), &TrustedProxies::default()),
            "2001:db8::/64"
        );
    }
}
