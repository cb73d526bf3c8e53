//! Clock readings and the timestamp format of the API.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Now, in unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Now, in unix milliseconds.
pub fn now_millis() -> i64 {
    let now = OffsetDateTime::now_utc();
    now.unix_timestamp() * 1000 + i64::from(now.millisecond())
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds, the way Daily writes `created_at`.
pub fn rfc3339_millis(millis: i64) -> String {
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let whole = time.replace_millisecond(0).unwrap_or(time);
    let text = whole.format(&Rfc3339).unwrap_or_default();
    // `2026-11-28T10:00:00Z` → `2026-11-28T10:00:00.123Z`
    format!("{}.{:03}Z", text.trim_end_matches('Z'), time.millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_764_324_000_123),
            "2025-11-28T10:00:00.123Z"
        );
    }
}
