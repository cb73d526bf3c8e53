//! Configuration, read once from the environment (and `.env`, when present) into a typed struct.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
};

use serde::Deserialize;

use crate::model::IceServer;

/// The address served when `LEPTOS_SITE_ADDR` is unset.
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
/// The database used when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://knock.db";
/// How long a client has to send a request's headers before its connection is closed.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a request (but an event stream) may take, body included, before it is answered 408.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a session may be without an event stream before it has left, unless
/// `KNOCK_PRESENCE_GRACE_SECONDS` says otherwise.
pub const PRESENCE_GRACE: std::time::Duration = std::time::Duration::from_secs(30);
/// The longest `KNOCK_PRESENCE_GRACE_SECONDS` accepted: a day.
pub const MAX_PRESENCE_GRACE_SECONDS: u64 = 24 * 60 * 60;
/// The shortest `KNOCK_API_KEY` accepted: it is also the HS256 secret of meeting tokens, and a
/// short one could be found by trying keys offline against any token.
pub const MIN_API_KEY_CHARS: usize = 32;
/// How long a participant's TURN credentials stay valid: a day, the TURN REST scheme's usual
/// lifetime. A browser fetches them once, when it joins the call, and the TURN server checks
/// them again whenever an allocation is refreshed, so they must outlast any call.
pub const TURN_CREDENTIAL_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(24 * 60 * 60);

/// The wait before a failed webhook delivery's first retry (Daily's contract: within 30 s),
/// doubled for each retry after it.
pub const WEBHOOK_RETRY_BASE: std::time::Duration = std::time::Duration::from_secs(10);

/// A secret that never prints itself, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the few places that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this secret, in time that depends on neither value: both are
    /// hashed first, so not even the length leaks.
    pub fn matches(&self, candidate: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(candidate.as_bytes());
        expected.ct_eq(&given).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Knock's configuration (PRODUCT.md §1). Its debug form hides the database password.
#[derive(Clone)]
pub struct Config {
    /// `KNOCK_API_KEY`; when `None`, one is generated on first start and kept in the database.
    pub api_key: Option<Secret>,
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `LEPTOS_SITE_ADDR`: where the server listens.
    pub site_addr: SocketAddr,
    /// `KNOCK_PUBLIC_URL` without a trailing slash: the base of room URLs and links.
    pub public_url: String,
    /// Whether `public_url` was configured, rather than derived from `site_addr`.
    public_url_configured: bool,
    /// `KNOCK_PRESENCE_GRACE_SECONDS`: how long a session may be without an event stream, on
    /// any server, before it has left ([`PRESENCE_GRACE`]; tests shorten it).
    pub presence_grace: std::time::Duration,
    /// `KNOCK_ICE_SERVERS`: STUN and TURN servers handed to browsers in the call.
    pub ice_servers: IceServers,
    /// `KNOCK_TURN_URLS` and `KNOCK_TURN_SECRET`: a TURN server that gives each participant in
    /// a call credentials of its own.
    pub turn: Option<TurnServer>,
    /// `KNOCK_TRUSTED_PROXIES`: the reverse proxies whose `X-Forwarded-For` says who the client
    /// is (see [`crate::ssr::client`]); none by default.
    pub trusted_proxies: TrustedProxies,
    /// How long a client may take to send a request's headers ([`HEADER_READ_TIMEOUT`]; tests
    /// shorten it).
    pub header_read_timeout: std::time::Duration,
    /// How long a request but an event stream may take ([`REQUEST_TIMEOUT`]; tests shorten it).
    pub request_timeout: std::time::Duration,
    /// The wait before a failed webhook delivery's first retry, doubled for each retry after it
    /// ([`WEBHOOK_RETRY_BASE`]; tests shorten it).
    pub webhook_retry_base: std::time::Duration,
    /// `KNOCK_JANUS_URL` and `KNOCK_JANUS_API_SECRET`: the Janus server used as the SFU of
    /// rooms too large for a mesh; `None` keeps every call a mesh.
    pub janus: Option<JanusServer>,
}

/// A Janus WebRTC server's HTTP API (`KNOCK_JANUS_URL`, e.g. `http://10.0.0.5:8088/janus`) and
/// its `api_secret`, which every request to it carries. Browsers never see either. Its debug
/// form hides the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JanusServer {
    /// The HTTP API's base URL, without a trailing slash.
    pub url: String,
    /// Janus's `api_secret`.
    pub api_secret: Secret,
}

impl JanusServer {
    /// Parses `KNOCK_JANUS_URL` for `api_secret`: an `http://` or `https://` URL with a host.
    pub fn parse(url: &str, api_secret: Secret) -> Result<Self, String> {
        let url = url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(url).map_err(|error| {
            format!("`{url}` is not a URL like http://127.0.0.1:8088/janus: {error}")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "`{url}` must be Janus's HTTP API, like http://127.0.0.1:8088/janus"
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("give the secret in KNOCK_JANUS_API_SECRET, not in the URL".into());
        }
        Ok(Self {
            url: url.to_owned(),
            api_secret,
        })
    }
}

/// The configured ICE servers. Their debug form lists only the URLs: TURN credentials never
/// reach a log.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IceServers(pub Vec<IceServer>);

impl fmt::Debug for IceServers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|server| &server.urls))
            .finish()
    }
}

impl IceServers {
    /// Parses `KNOCK_ICE_SERVERS`: a JSON array of `RTCIceServer`s (`urls` a string or a list;
    /// `turn:`/`turns:` servers need `username` and `credential`).
    pub fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Urls {
            One(String),
            Many(Vec<String>),
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            urls: Urls,
            username: Option<String>,
            credential: Option<String>,
        }
        let entries: Vec<Entry> = serde_json::from_str(text).map_err(|error| {
            format!(
                "must be a JSON array like [{{\"urls\": \"stun:stun.example.com:3478\"}}]: {error}"
            )
        })?;
        let mut servers = Vec::with_capacity(entries.len());
        for entry in entries {
            let urls = match entry.urls {
                Urls::One(url) => vec![url],
                Urls::Many(urls) => urls,
            };
            if urls.is_empty() {
                return Err("every server needs at least one URL in `urls`".into());
            }
            for url in &urls {
                let scheme = url.split(':').next().unwrap_or_default();
                match scheme {
                    "stun" | "stuns" => {}
                    "turn" | "turns" if entry.username.is_none() || entry.credential.is_none() => {
                        return Err(format!("`{url}` needs a `username` and a `credential`"));
                    }
                    "turn" | "turns" => {}
                    _ => {
                        return Err(format!(
                            "`{url}` must start with stun:, stuns:, turn: or turns:"
                        ));
                    }
                }
            }
            servers.push(IceServer {
                urls,
                username: entry.username,
                credential: entry.credential,
            });
        }
        Ok(Self(servers))
    }
}

/// The reverse proxies trusted to say who the client is (`KNOCK_TRUSTED_PROXIES`): networks,
/// each an address and a prefix length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `KNOCK_TRUSTED_PROXIES`: comma-separated CIDRs like `127.0.0.1/32,10.0.0.0/8` or
    /// `2001:db8::/32` (a bare address is the one address). Bits set past the prefix are
    /// ignored, as nginx and iptables do: `10.1.2.3/8` is `10.0.0.0/8`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for entry in text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let (address, prefix) = match entry.split_once('/') {
                Some((address, prefix)) => (address, Some(prefix)),
                None => (entry, None),
            };
            let address: IpAddr = address.trim().parse().map_err(|_| {
                format!(
                    "`{entry}` is not an address or a CIDR like 127.0.0.1/32, 10.0.0.0/8 or \
                     2001:db8::/32"
                )
            })?;
            let bits = if address.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => bits,
                Some(prefix) => match prefix.trim().parse::<u8>() {
                    Ok(prefix) if prefix <= bits => prefix,
                    _ => {
                        return Err(format!(
                            "`{entry}` has a prefix length that is not a whole number from 0 to \
                             {bits}"
                        ));
                    }
                },
            };
            networks.push(network(address, prefix));
        }
        if networks.is_empty() {
            return Err(
                "give at least one CIDR, like 127.0.0.1/32, or leave it unset to trust no proxy"
                    .into(),
            );
        }
        Ok(Self(networks))
    }

    /// Whether `address` is one of the trusted proxies. An IPv4 address written the IPv6 way
    /// (`::ffff:10.0.0.1`, as a dual-stack listener sees it) counts as the IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0
            .iter()
            .any(|&(network_address, prefix)| mask(address, prefix) == Some(network_address))
    }

    /// Whether no proxy is trusted (the default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The network of `address` with `prefix` bits, an IPv4-mapped IPv6 network as IPv4.
fn network(address: IpAddr, prefix: u8) -> (IpAddr, u8) {
    let (address, prefix) = match address {
        IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), prefix - 96),
            None => (address, prefix),
        },
        _ => (address, prefix),
    };
    (mask(address, prefix).unwrap_or(address), prefix)
}

/// `address` with all but its first `prefix` bits cleared; `None` when `prefix` is longer than
/// the address.
pub fn mask(address: IpAddr, prefix: u8) -> Option<IpAddr> {
    match address {
        IpAddr::V4(v4) => {
            let keep = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            (prefix <= 32).then(|| IpAddr::V4((u32::from(v4) & keep).into()))
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            (prefix <= 128).then(|| IpAddr::V6((u128::from(v6) & keep).into()))
        }
    }
}

/// A TURN server using the TURN REST scheme (coturn's `use-auth-secret`): Knock and the server
/// share a secret, and Knock derives time-limited credentials from it for each participant, which
/// the server checks without asking Knock. Its debug form hides the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnServer {
    /// `turn:` and `turns:` URLs, as the browsers are given them.
    pub urls: Vec<String>,
    /// The shared secret (coturn's `static-auth-secret`).
    pub secret: Secret,
    /// How long each set of credentials is valid ([`TURN_CREDENTIAL_LIFETIME`]).
    pub lifetime: std::time::Duration,
}

impl TurnServer {
    /// Parses `KNOCK_TURN_URLS` (comma-separated `turn:`/`turns:` URLs) for `secret`.
    pub fn parse(urls: &str, secret: Secret) -> Result<Self, String> {
        let urls: Vec<String> = urls
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .collect();
        if urls.is_empty() {
            return Err("give at least one URL, like turn:turn.example.com:3478".into());
        }
        if let Some(url) = urls
            .iter()
            .find(|url| !url.starts_with("turn:") && !url.starts_with("turns:"))
        {
            return Err(format!(
                "`{url}` must start with turn: or turns: (STUN servers go in KNOCK_ICE_SERVERS)"
            ));
        }
        Ok(Self {
            urls,
            secret,
            lifetime: TURN_CREDENTIAL_LIFETIME,
        })
    }

    /// The server as `participant` is given it at unix second `now`: the TURN REST scheme's
    /// username `<expiry>:<participant>`, whose expiry (unix seconds) the TURN server enforces,
    /// and the credential base64(HMAC-SHA1(secret, username)), which only a holder of the
    /// secret can make.
    pub fn credentials_for(&self, participant: &str, now: i64) -> IceServer {
        use base64::{Engine, engine::general_purpose::STANDARD};
        use hmac::{Hmac, Mac};
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX);
        let username = format!("{}:{participant}", now.saturating_add(lifetime));
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.secret.expose().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(username.as_bytes());
        let credential = STANDARD.encode(mac.finalize().into_bytes());
        IceServer {
            urls: self.urls.clone(),
            username: Some(username),
            credential: Some(credential),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key)
            .field("database_url", &redact_url(&self.database_url))
            .field("site_addr", &self.site_addr)
            .field("public_url", &self.public_url)
            .field("presence_grace", &self.presence_grace)
            .field("ice_servers", &self.ice_servers)
            .field("turn", &self.turn)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("webhook_retry_base", &self.webhook_retry_base)
            .field("janus", &self.janus)
            .finish_non_exhaustive()
    }
}

/// `url` with the password of its userinfo (`scheme://user:password@host`) replaced by `***`,
/// so a database URL can be logged or printed.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last `@` before the path; a password may itself contain `@`.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    let hidden = if user.len() == userinfo.len() {
        // No password, but a userinfo without a colon may still be a token: hide it all.
        "***".to_owned()
    } else {
        format!("{user}:***")
    };
    format!("{scheme}://{hidden}{}", &rest[at..])
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    variable: &'static str,
    reason: String,
}

impl Config {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth knowing about but not fatal.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            eprintln!("warning: .env could not be read: {error}");
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let api_key = non_empty("KNOCK_API_KEY").map(Secret::new);
        if let Some(key) = &api_key
            && key.expose().chars().count() < MIN_API_KEY_CHARS
        {
            return Err(ConfigError {
                variable: "KNOCK_API_KEY",
                reason: format!(
                    "the key is {} characters long and must have at least {MIN_API_KEY_CHARS}, \
                     because it also signs meeting tokens and a short key can be guessed from \
                     any token; use e.g. `openssl rand -hex 32`, or leave it unset and Knock \
                     generates one",
                    key.expose().chars().count()
                ),
            });
        }
        let database_url =
            non_empty("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let site_addr_text =
            non_empty("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_owned());
        let site_addr = site_addr_text.parse().map_err(|_| ConfigError {
            variable: "LEPTOS_SITE_ADDR",
            reason: format!("`{site_addr_text}` is not an address like 127.0.0.1:3000"),
        })?;
        let public_url_configured = non_empty("KNOCK_PUBLIC_URL").is_some();
        let public_url = match non_empty("KNOCK_PUBLIC_URL") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim_end_matches('/').to_owned()
            }
            Some(url) => {
                return Err(ConfigError {
                    variable: "KNOCK_PUBLIC_URL",
                    reason: format!("`{url}` must start with http:// or https://"),
                });
            }
            None => format!("http://{site_addr}"),
        };
        let presence_grace = match non_empty("KNOCK_PRESENCE_GRACE_SECONDS") {
            Some(text) => match text.trim().parse::<u64>() {
                Ok(seconds @ 1..=MAX_PRESENCE_GRACE_SECONDS) => {
                    std::time::Duration::from_secs(seconds)
                }
                _ => {
                    return Err(ConfigError {
                        variable: "KNOCK_PRESENCE_GRACE_SECONDS",
                        reason: format!(
                            "`{text}` must be a whole number of seconds from 1 to \
                             {MAX_PRESENCE_GRACE_SECONDS}"
                        ),
                    });
                }
            },
            None => PRESENCE_GRACE,
        };
        let ice_servers = match non_empty("KNOCK_ICE_SERVERS") {
            Some(text) => IceServers::parse(&text).map_err(|reason| ConfigError {
                variable: "KNOCK_ICE_SERVERS",
                reason,
            })?,
            None => IceServers::default(),
        };
        let turn = match (non_empty("KNOCK_TURN_URLS"), non_empty("KNOCK_TURN_SECRET")) {
            (Some(urls), Some(secret)) => Some(
                TurnServer::parse(&urls, Secret::new(secret)).map_err(|reason| ConfigError {
                    variable: "KNOCK_TURN_URLS",
                    reason,
                })?,
            ),
            (Some(_), None) => {
                return Err(ConfigError {
                    variable: "KNOCK_TURN_SECRET",
                    reason: "KNOCK_TURN_URLS is set but this is not: give the TURN server's \
                             shared secret (coturn's static-auth-secret) too, or unset both"
                        .into(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    variable: "KNOCK_TURN_URLS",
                    reason: "KNOCK_TURN_SECRET is set but this is not: give the TURN server's \
                             turn: or turns: URLs too, or unset both"
                        .into(),
                });
            }
            (None, None) => None,
        };
        let trusted_proxies = match non_empty("KNOCK_TRUSTED_PROXIES") {
            Some(text) => TrustedProxies::parse(&text).map_err(|reason| ConfigError {
                variable: "KNOCK_TRUSTED_PROXIES",
                reason,
            })?,
            None => TrustedProxies::default(),
        };
        let janus = match (
            non_empty("KNOCK_JANUS_URL"),
            non_empty("KNOCK_JANUS_API_SECRET"),
        ) {
            (Some(url), Some(secret)) => Some(
                JanusServer::parse(&url, Secret::new(secret)).map_err(|reason| ConfigError {
                    variable: "KNOCK_JANUS_URL",
                    reason,
                })?,
            ),
            (Some(_), None) => {
                return Err(ConfigError {
                    variable: "KNOCK_JANUS_API_SECRET",
                    reason: "KNOCK_JANUS_URL is set but this is not: give Janus's api_secret \
                             (janus.jcfg, general section) too; Knock does not talk to a Janus \
                             that accepts requests without one"
                        .into(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    variable: "KNOCK_JANUS_URL",
                    reason: "KNOCK_JANUS_API_SECRET is set but this is not: give the URL of \
                             Janus's HTTP API too (like http://127.0.0.1:8088/janus), or unset both"
                        .into(),
                });
            }
            (None, None) => None,
        };
        Ok(Self {
            janus,
            api_key,
            database_url,
            site_addr,
            public_url,
            public_url_configured,
            presence_grace,
            ice_servers,
            turn,
            trusted_proxies,
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            webhook_retry_base: WEBHOOK_RETRY_BASE,
        })
    }

    /// Records the address actually bound (port 0 picks one) and, unless `KNOCK_PUBLIC_URL` was
    /// given, derives the public URL from it.
    pub fn bound_to(mut self, addr: SocketAddr) -> Self {
        self.site_addr = addr;
        if !self.public_url_configured {
            self.public_url = format!("http://{addr}");
        }
        self
    }

    /// Sets `KNOCK_PUBLIC_URL` (as if configured; it survives [`Self::bound_to`]).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').to_owned();
        self.public_url_configured = true;
        self
    }

    /// Whether links are served over https (cookies then get `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// What every cookie's name starts with: `__Host-` over https, which browsers accept only
    /// from this very host with `Secure` and `Path=/`, so no sibling subdomain can plant one.
    pub fn cookie_prefix(&self) -> &'static str {
        if self.is_https() { "__Host-" } else { "" }
    }

    /// The origin of `KNOCK_PUBLIC_URL` (`scheme://host[:port]`, lowercase, without a default
    /// port), the one origin whose browser requests may change state.
    pub fn public_origin(&self) -> String {
        normalized_origin(&self.public_url).unwrap_or_default()
    }
}

/// `text` (an `Origin` header or a URL) as a comparable origin: `scheme://host[:port]` in
/// lowercase, the path dropped and the scheme's default port left out. `None` for what is not
/// an http(s) origin (e.g. `null`).
pub fn normalized_origin(text: &str) -> Option<String> {
    let text = text.trim().to_ascii_lowercase();
    let (scheme, rest) = text.split_once("://")?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_product_contract() {
        let config = parse(&[]).expect("defaults are valid");
        assert!(config.api_key.is_none());
        assert_eq!(config.database_url, "sqlite://knock.db");
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url, "http://127.0.0.1:3000");
        assert!(!config.is_https());
    }

    #[test]
    fn public_url_defaults_to_the_listen_address_and_loses_its_trailing_slash() {
        let config = parse(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8080")]).expect("valid");
        assert_eq!(config.public_url, "http://0.0.0.0:8080");
        let config = parse(&[("KNOCK_PUBLIC_URL", "https://knock.example.com/")]).expect("valid");
        assert_eq!(config.public_url, "https://knock.example.com");
        assert!(config.is_https());
    }

    #[test]
    fn binding_port_zero_gives_the_real_port_to_a_derived_public_url_only() {
        let bound = "127.0.0.1:41234".parse().expect("address");
        let derived = parse(&[("LEPTOS_SITE_ADDR", "127.0.0.1:0")]).expect("valid");
        assert_eq!(derived.bound_to(bound).public_url, "http://127.0.0.1:41234");
        let configured =
            parse(&[("KNOCK_PUBLIC_URL", "https://knock.example.com")]).expect("valid");
        assert_eq!(
            configured.bound_to(bound).public_url,
            "https://knock.example.com"
        );
    }

    #[test]
    fn the_presence_grace_is_30_s_unless_set_in_whole_seconds() {
        let grace = |vars: &[(&str, &str)]| parse(vars).map(|config| config.presence_grace);
        assert_eq!(grace(&[]).expect("valid"), PRESENCE_GRACE);
        assert_eq!(PRESENCE_GRACE, std::time::Duration::from_secs(30));
        assert_eq!(
            grace(&[("KNOCK_PRESENCE_GRACE_SECONDS", " 2 ")]).expect("valid"),
            std::time::Duration::from_secs(2)
        );
        for bad in ["0", "-1", "1.5", "two", "86401"] {
            let error = grace(&[("KNOCK_PRESENCE_GRACE_SECONDS", bad)]).expect_err(bad);
            let sentence = error.to_string();
            assert!(
                sentence.starts_with("KNOCK_PRESENCE_GRACE_SECONDS: "),
                "{sentence}"
            );
            assert!(sentence.contains(bad), "{sentence}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = parse(&[("LEPTOS_SITE_ADDR", "nowhere")]).expect_err("invalid");
        assert!(error.to_string().starts_with("LEPTOS_SITE_ADDR"));
        let error = parse(&[("KNOCK_PUBLIC_URL", "knock.example.com")]).expect_err("invalid");
        assert!(error.to_string().starts_with("KNOCK_PUBLIC_URL"));
    }

    #[test]
    fn ice_servers_take_the_rtc_ice_server_shape() {
        assert!(parse(&[]).expect("valid").ice_servers.0.is_empty());
        let config = parse(&[(
            "KNOCK_ICE_SERVERS",
            r#"[{"urls": "stun:stun.example.com:3478"},
                {"urls": ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"],
                 "username": "knock", "credential": "hunter2"}]"#,
        )])
        .expect("valid");
        let servers = &config.ice_servers.0;
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].urls, ["stun:stun.example.com:3478"]);
        assert_eq!(servers[1].credential.as_deref(), Some("hunter2"));
        assert!(
            !format!("{config:?}").contains("hunter2"),
            "credentials never print"
        );
    }

    #[test]
    fn bad_ice_servers_are_refused_with_a_reason() {
        for bad in [
            "stun:stun.example.com",
            r#"{"urls": "stun:x"}"#,
            r#"[{"urls": []}]"#,
            r#"[{"urls": "http://example.com"}]"#,
            r#"[{"urls": "turn:turn.example.com"}]"#,
            r#"[{"urls": "stun:x", "password": "p"}]"#,
        ] {
            let error = parse(&[("KNOCK_ICE_SERVERS", bad)]).expect_err(bad);
            assert!(
                error.to_string().starts_with("KNOCK_ICE_SERVERS: "),
                "{error}"
            );
        }
    }

    #[test]
    fn a_turn_server_takes_comma_separated_turn_urls_and_a_secret() {
        assert!(parse(&[]).expect("valid").turn.is_none());
        let config = parse(&[
            (
                "KNOCK_TURN_URLS",
                " turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349 ,",
            ),
            ("KNOCK_TURN_SECRET", "coturn-shared-secret"),
        ])
        .expect("valid");
        let turn = config.turn.as_ref().expect("configured");
        assert_eq!(
            turn.urls,
            [
                "turn:turn.example.com:3478?transport=udp",
                "turns:turn.example.com:5349"
            ]
        );
        assert_eq!(turn.secret.expose(), "coturn-shared-secret");
        assert_eq!(turn.lifetime, TURN_CREDENTIAL_LIFETIME);
        let printed = format!("{config:?}");
        assert!(printed.contains("turns:turn.example.com:5349"), "{printed}");
        assert!(!printed.contains("coturn-shared-secret"), "{printed}");
    }

    #[test]
    fn one_turn_variable_without_the_other_is_refused_with_a_sentence() {
        let error =
            parse(&[("KNOCK_TURN_URLS", "turn:turn.example.com:3478")]).expect_err("no secret");
        let sentence = error.to_string();
        assert!(sentence.starts_with("KNOCK_TURN_SECRET: "), "{sentence}");
        assert!(sentence.contains("KNOCK_TURN_URLS is set"), "{sentence}");

        let error = parse(&[("KNOCK_TURN_SECRET", "coturn-shared-secret")]).expect_err("no URLs");
        let sentence = error.to_string();
        assert!(sentence.starts_with("KNOCK_TURN_URLS: "), "{sentence}");
        assert!(sentence.contains("KNOCK_TURN_SECRET is set"), "{sentence}");
        assert!(
            !sentence.contains("coturn-shared-secret"),
            "the secret is never printed"
        );
    }

    #[test]
    fn janus_takes_its_url_and_secret_together() {
        let config = parse(&[
            ("KNOCK_JANUS_URL", "http://127.0.0.1:8088/janus/"),
            ("KNOCK_JANUS_API_SECRET", "janus-api-secret"),
        ])
        .expect("valid");
        let janus = config.janus.expect("Janus configured");
        assert_eq!(janus.url, "http://127.0.0.1:8088/janus");
        assert_eq!(janus.api_secret.expose(), "janus-api-secret");
        assert!(!format!("{janus:?}").contains("janus-api-secret"));
        assert!(
            parse(&[]).expect("valid").janus.is_none(),
            "a mesh by default"
        );

        let error =
            parse(&[("KNOCK_JANUS_URL", "http://127.0.0.1:8088/janus")]).expect_err("no secret");
        let sentence = error.to_string();
        assert!(
            sentence.starts_with("KNOCK_JANUS_API_SECRET: "),
            "{sentence}"
        );
        let error = parse(&[("KNOCK_JANUS_API_SECRET", "janus-api-secret")]).expect_err("no URL");
        let sentence = error.to_string();
        assert!(sentence.starts_with("KNOCK_JANUS_URL: "), "{sentence}");
        assert!(!sentence.contains("janus-api-secret"), "{sentence}");

        for bad in [
            "127.0.0.1:8088",
            "ws://127.0.0.1:8188",
            "http://user:pass@127.0.0.1:8088/janus",
        ] {
            let error = parse(&[
                ("KNOCK_JANUS_URL", bad),
                ("KNOCK_JANUS_API_SECRET", "janus-api-secret"),
            ])
            .expect_err(bad);
            let sentence = error.to_string();
            assert!(sentence.starts_with("KNOCK_JANUS_URL: "), "{sentence}");
            assert!(!sentence.contains("janus-api-secret"), "{sentence}");
        }
    }

    #[test]
    fn turn_urls_must_be_turn_urls() {
        for bad in [
            ",",
            "stun:stun.example.com:3478",
            "turn:turn.example.com:3478,https://turn.example.com",
            "turn.example.com:3478",
        ] {
            let error = parse(&[
                ("KNOCK_TURN_URLS", bad),
                ("KNOCK_TURN_SECRET", "coturn-shared-secret"),
            ])
            .expect_err(bad);
            let sentence = error.to_string();
            assert!(sentence.starts_with("KNOCK_TURN_URLS: "), "{sentence}");
            assert!(!sentence.contains("coturn-shared-secret"), "{sentence}");
        }
    }

    #[test]
    fn turn_credentials_follow_the_turn_rest_scheme() {
        let turn = TurnServer::parse(
            "turn:turn.example.com:3478",
            Secret::new("coturn-shared-secret"),
        )
        .expect("valid");
        let now = 1_700_000_000;
        let server = turn.credentials_for("3f2b9c1e-participant", now);
        assert_eq!(server.urls, ["turn:turn.example.com:3478"]);
        // A day later, as `<expiry>:<participant>`.
        assert_eq!(
            server.username.as_deref(),
            Some("1700086400:3f2b9c1e-participant")
        );
        // `printf %s 1700086400:3f2b9c1e-participant |
        //  openssl dgst -sha1 -hmac coturn-shared-secret -binary | base64`
        assert_eq!(
            server.credential.as_deref(),
            Some("KzWwO9pnV2yecxxqr/EWtady6yM=")
        );
        let other = turn.credentials_for("another-participant", now);
        assert_ne!(other.credential, server.credential);
    }

    #[test]
    fn the_public_origin_is_the_public_urls_scheme_host_and_port() {
        let origin = |url: &str| {
            parse(&[("KNOCK_PUBLIC_URL", url)])
                .expect("valid")
                .public_origin()
        };
        assert_eq!(
            origin("https://Knock.Example.com/"),
            "https://knock.example.com"
        );
        assert_eq!(
            origin("https://knock.example.com:443/base"),
            "https://knock.example.com"
        );
        assert_eq!(origin("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(
            origin("http://knock.example.com:80"),
            "http://knock.example.com"
        );
        assert_eq!(normalized_origin("null"), None);
        assert_eq!(normalized_origin("file://"), None);
    }

    #[test]
    fn cookies_get_the_host_prefix_over_https_only() {
        assert_eq!(parse(&[]).expect("valid").cookie_prefix(), "");
        let https = parse(&[("KNOCK_PUBLIC_URL", "https://knock.example.com")]).expect("valid");
        assert_eq!(https.cookie_prefix(), "__Host-");
    }

    #[test]
    fn secrets_match_only_themselves() {
        let secret = Secret::new("abc");
        assert!(secret.matches("abc"));
        assert!(!secret.matches("abd"));
        assert!(!secret.matches("ab"));
        assert!(!secret.matches(""));
    }

    #[test]
    fn secrets_do_not_print() {
        let key = "super-secret-0123456789abcdefghijk";
        let config = parse(&[
            ("KNOCK_API_KEY", key),
            ("DATABASE_URL", "postgres://knock:hunter2@db:5432/knock"),
        ])
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains(key), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(
            printed.contains("postgres://knock:***@db:5432/knock"),
            "{printed}"
        );
    }

    #[test]
    fn an_api_key_under_32_characters_is_refused_with_the_reason() {
        let error = parse(&[("KNOCK_API_KEY", "0123456789abcdef0123456789abcde")])
            .expect_err("31 characters");
        let sentence = error.to_string();
        assert!(sentence.starts_with("KNOCK_API_KEY: "), "{sentence}");
        assert!(sentence.contains("31 characters"), "{sentence}");
        assert!(sentence.contains("at least 32"), "{sentence}");
        assert!(
            !sentence.contains("0123456789abcdef"),
            "the key itself is never printed"
        );
        let config =
            parse(&[("KNOCK_API_KEY", "0123456789abcdef0123456789abcdef")]).expect("32 characters");
        assert!(config.api_key.is_some());
    }

    #[test]
    fn trusted_proxies_are_comma_separated_cidrs_and_none_by_default() {
        assert!(parse(&[]).expect("valid").trusted_proxies.is_empty());
        let config = parse(&[(
            "KNOCK_TRUSTED_PROXIES",
            " 127.0.0.1/32, 10.1.2.3/8 ,2001:db8::/32,192.0.2.7,",
        )])
        .expect("valid");
        let proxies = &config.trusted_proxies;
        let ip = |text: &str| text.parse::<IpAddr>().expect("an address");
        for trusted in [
            "127.0.0.1",
            "10.0.0.1",
            "10.255.255.255",
            "2001:db8:ffff::1",
            "192.0.2.7",
            // As a dual-stack listener sees an IPv4 peer.
            "::ffff:10.9.8.7",
        ] {
            assert!(proxies.contains(ip(trusted)), "{trusted}");
        }
        for untrusted in ["127.0.0.2", "11.0.0.1", "2001:db9::1", "192.0.2.8", "::1"] {
            assert!(!proxies.contains(ip(untrusted)), "{untrusted}");
        }
        let everyone = TrustedProxies::parse("0.0.0.0/0,::/0").expect("valid");
        assert!(everyone.contains(ip("203.0.113.9")));
        assert!(everyone.contains(ip("2001:db8::9")));
        let mapped = TrustedProxies::parse("::ffff:10.0.0.0/104").expect("valid");
        assert!(mapped.contains(ip("10.1.1.1")));
        assert!(!mapped.contains(ip("11.1.1.1")));
    }

    #[test]
    fn bad_trusted_proxies_refuse_to_start_with_a_sentence() {
        for (bad, named) in [
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("2001:db8::/129", "2001:db8::/129"),
            ("127.0.0.1/32,proxy.example.com", "proxy.example.com"),
            ("10.0.0.0/eight", "10.0.0.0/eight"),
            ("10.0.0.0/-1", "10.0.0.0/-1"),
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            (",", "at least one CIDR"),
        ] {
            let error = parse(&[("KNOCK_TRUSTED_PROXIES", bad)]).expect_err(bad);
            let sentence = error.to_string();
            assert!(
                sentence.starts_with("KNOCK_TRUSTED_PROXIES: "),
                "{sentence}"
            );
            assert!(sentence.contains(named), "{sentence}");
        }
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://knock:p@ss@db.example.com:5432/knock?sslmode=require"),
            "postgres://knock:***@db.example.com:5432/knock?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://token@db/knock"),
            "postgres://***@db/knock"
        );
        assert_eq!(redact_url("postgres://db/knock"), "postgres://db/knock");
        assert_eq!(redact_url("sqlite://knock.db"), "sqlite://knock.db");
        assert_eq!(
            redact_url("sqlite:///var/lib/knock/a@b.db"),
            "sqlite:///var/lib/knock/a@b.db"
        );
    }
}
