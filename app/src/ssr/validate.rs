//! Rules for names and times shared by rooms, tokens and the lobby.

use crate::{error::AppError, model::MAX_PARTICIPANTS};

/// Paths of the app itself, which no room may take.
pub const RESERVED_ROOM_NAMES: &[&str] = &[
    "api",
    "assets",
    "custom",
    "dashboard",
    "events",
    "healthz",
    "pkg",
    "static",
    "v1",
];

/// The longest room name.
pub const MAX_ROOM_NAME: usize = 128;
/// The longest display name, counted in characters after trimming.
pub const MAX_DISPLAY_NAME: usize = 64;
/// The longest `user_id`.
pub const MAX_USER_ID: usize = 36;

/// Checks an identifier a client sends (a `user_id`, a participant id): 1 to `max`
/// characters, none of them a control character (NUL among them, which no database text
/// column holds).
pub fn identifier(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    let length = value.chars().count();
    if length == 0 || length > max {
        return Err(AppError::invalid(format!(
            "{field} must be 1 to {max} characters (this one has {length})"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// Checks a room name: `[A-Za-z0-9_-]{1,128}` and not one of the app's own paths.
pub fn room_name(field: &str, name: &str) -> Result<(), AppError> {
    let well_formed = (1..=MAX_ROOM_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if !well_formed {
        return Err(AppError::invalid(format!(
            "{field} must be 1 to {MAX_ROOM_NAME} characters from A-Z, a-z, 0-9, _ and -"
        )));
    }
    if RESERVED_ROOM_NAMES.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(AppError::invalid(format!(
            "{field} {name} is reserved for Knock's own pages; choose another"
        )));
    }
    Ok(())
}

/// Checks a person's display name and returns it trimmed: 1 to 64 characters, no control
/// characters.
pub fn display_name(field: &str, name: &str) -> Result<String, AppError> {
    let trimmed = name.trim();
    let length = trimmed.chars().count();
    if length == 0 {
        return Err(AppError::invalid(format!("{field} must not be empty")));
    }
    if length > MAX_DISPLAY_NAME {
        return Err(AppError::invalid(format!(
            "{field} must be at most {MAX_DISPLAY_NAME} characters (this one has {length})"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Checks that an expiry time is in the future.
pub fn future_exp(field: &str, exp: i64, now: i64) -> Result<(), AppError> {
    if exp <= now {
        return Err(AppError::invalid(format!(
            "{field} must be in the future (a unix time in seconds after {now})"
        )));
    }
    Ok(())
}

/// Checks a unix time is not negative.
pub fn unix_time(field: &str, time: i64) -> Result<(), AppError> {
    if time < 0 {
        return Err(AppError::invalid(format!(
            "{field} must be a unix time in seconds (0 or more)"
        )));
    }
    Ok(())
}

/// Checks the tables in `model::properties` name per property (`check = ...`). Each takes the
/// property's path (`properties.exp`), its new value and the time now, and returns the value
/// to store or says what is wrong with it.
pub mod property {
    use super::{AppError, MAX_PARTICIPANTS, MAX_USER_ID};

    /// A unix time, 0 or more.
    pub fn unix_time(field: &str, time: i64, _now: i64) -> Result<i64, AppError> {
        super::unix_time(field, time).map(|()| time)
    }

    /// A unix time after `now`.
    pub fn future_exp(field: &str, exp: i64, now: i64) -> Result<i64, AppError> {
        super::future_exp(field, exp, now).map(|()| exp)
    }

    /// 1 to [`MAX_PARTICIPANTS`].
    pub fn max_participants(field: &str, max: i64, _now: i64) -> Result<i64, AppError> {
        if !(1..=MAX_PARTICIPANTS).contains(&max) {
            return Err(AppError::invalid(format!(
                "{field} must be between 1 and {MAX_PARTICIPANTS} (got {max})"
            )));
        }
        Ok(max)
    }

    /// A room name (see [`super::room_name`]).
    pub fn room_name(field: &str, name: String, _now: i64) -> Result<String, AppError> {
        super::room_name(field, &name).map(|()| name)
    }

    /// A display name, stored trimmed (see [`super::display_name`]).
    pub fn display_name(field: &str, name: String, _now: i64) -> Result<String, AppError> {
        super::display_name(field, &name)
    }

    /// A `user_id`: 1 to [`MAX_USER_ID`] characters, none of them a control character.
    pub fn user_id(field: &str, id: String, _now: i64) -> Result<String, AppError> {
        super::identifier(field, &id, MAX_USER_ID)?;
        Ok(id)
    }

    /// A positive number of seconds.
    pub fn positive_seconds(field: &str, seconds: i64, _now: i64) -> Result<i64, AppError> {
        if seconds <= 0 {
            return Err(AppError::invalid(format!(
                "{field} must be a positive number of seconds"
            )));
        }
        Ok(seconds)
    }
}

/// Checks that `nbf`, when both are set, comes before `exp` (rooms and tokens alike).
pub fn nbf_before_exp(nbf: Option<i64>, exp: Option<i64>) -> Result<(), AppError> {
    if let (Some(nbf), Some(exp)) = (nbf, exp)
        && nbf >= exp
    {
        return Err(AppError::invalid(
            "properties.nbf must be before properties.exp",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        for good in ["a", "my-room", "Room_2", &"x".repeat(128)] {
            assert!(room_name("name", good).is_ok(), "{good}");
        }
        for bad in ["", "my room", "a/b", "é", "dot.name", &"x".repeat(129)] {
            let error = room_name("name", bad).expect_err(bad);
            assert!(error.to_string().starts_with("name "), "{error}");
        }
        for reserved in ["dashboard", "API", "v1", "pkg", "healthz"] {
            assert!(room_name("name", reserved).is_err(), "{reserved}");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name("name", "  Ana  ").expect("valid"), "Ana");
        assert_eq!(
            display_name("name", &"é".repeat(64))
                .expect("64 chars")
                .chars()
                .count(),
            64
        );
        assert!(display_name("name", "   ").is_err());
        assert!(display_name("name", &"a".repeat(65)).is_err());
        assert!(display_name("name", "Ana\u{0007}").is_err());
        assert!(display_name("name", "A\nna").is_err());
    }

    #[test]
    fn expiry_must_be_in_the_future() {
        assert!(future_exp("exp", 101, 100).is_ok());
        assert!(future_exp("exp", 100, 100).is_err());
        assert!(unix_time("nbf", -1).is_err());
    }

    #[test]
    fn nbf_must_come_before_exp_when_both_are_set() {
        assert!(nbf_before_exp(Some(4), Some(5)).is_ok());
        assert!(nbf_before_exp(None, Some(5)).is_ok());
        assert!(nbf_before_exp(Some(9), None).is_ok());
        let error = nbf_before_exp(Some(5), Some(5)).expect_err("equal");
        assert_eq!(
            error.to_string(),
            "properties.nbf must be before properties.exp"
        );
    }
}
