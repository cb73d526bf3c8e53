//! Abuse limits (PRODUCT.md §7): knocks per client and room, dashboard sign-ins per client.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Knocks a client may make on one room in a burst.
pub const KNOCK_BURST: u32 = 10;
/// After the burst, one more knock every this many seconds.
pub const KNOCK_REFILL_SECONDS: u64 = 6;

/// Limits how often one client knocks on one room.
pub struct KnockLimiter {
    limiter: DefaultKeyedRateLimiter<(String, String)>,
}

impl Default for KnockLimiter {
    fn default() -> Self {
        let burst = NonZeroU32::new(KNOCK_BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(std::time::Duration::from_secs(KNOCK_REFILL_SECONDS))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
        }
    }
}

impl KnockLimiter {
    /// Whether `client` may knock on `room` now (and counts the knock if so).
    pub fn allow(&self, client: &str, room: &str) -> bool {
        self.limiter
            .check_key(&(client.to_owned(), room.to_owned()))
            .is_ok()
    }

    /// Forgets clients whose allowance has refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Dashboard sign-in attempts per client: 5 at once, then one every 12 s.
pub struct SignInLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        let quota = Quota::with_period(std::time::Duration::from_secs(12))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: RateLimiter::keyed(quota),
        }
    }
}

impl SignInLimiter {
    /// Whether `client` may try to sign in now (and counts the attempt if so).
    pub fn allow(&self, client: &str) -> bool {
        self.limiter.check_key(&client.to_owned()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_limited_per_room_and_others_are_not() {
        let limiter = KnockLimiter::default();
        for _ in 0..KNOCK_BURST {
            assert!(limiter.allow("1.2.3.4", "standup"));
        }
        assert!(!limiter.allow("1.2.3.4", "standup"), "over the burst");
        assert!(limiter.allow("1.2.3.4", "other-room"), "another room");
        assert!(limiter.allow("5.6.7.8", "standup"), "another client");
    }
}
