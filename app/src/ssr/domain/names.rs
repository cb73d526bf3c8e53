//! Names as types: a [`DisplayName`] or a [`RoomName`] is parsed once, where it enters (a page
//! path, a server function, a REST body), and what follows takes the parsed name, so nothing
//! checks it again or forgets to. (A room name read back from the database was parsed when the
//! room was created.)

use crate::{error::AppError, ssr::validate};

/// What a person is called in a room: trimmed, 1 to 64 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses `raw`, sent as `field`; the error names the field and the rule broken.
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        validate::display_name(field, raw).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A note for the hosts sent with a knock: trimmed, at most [`MAX_NOTE`] characters, no
/// control characters; shown as text, never as HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnockNote(String);

/// The longest note a knock may carry.
pub const MAX_NOTE: usize = 200;

impl KnockNote {
    /// Parses `raw`, sent as `field`: `None` when it is empty (or only spaces).
    pub fn parse(field: &str, raw: &str) -> Result<Option<Self>, AppError> {
        let note = raw.trim();
        if note.is_empty() {
            return Ok(None);
        }
        let length = note.chars().count();
        if length > MAX_NOTE {
            return Err(AppError::invalid(format!(
                "{field} must be at most {MAX_NOTE} characters (this one has {length})"
            )));
        }
        if note.chars().any(char::is_control) {
            return Err(AppError::invalid(format!(
                "{field} must be plain text on one line, without control characters"
            )));
        }
        Ok(Some(Self(note.to_owned())))
    }

    /// The note.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest message a host may send to the lobby.
pub const MAX_MESSAGE: usize = 500;

/// A host's message to the lobby: trimmed, 1 to [`MAX_MESSAGE`] characters, plain text (line
/// breaks allowed, no other control characters).
pub fn message_text(field: &str, raw: &str) -> Result<String, AppError> {
    let text = raw.trim();
    let length = text.chars().count();
    if length == 0 || length > MAX_MESSAGE {
        return Err(AppError::invalid(format!(
            "{field} must be 1 to {MAX_MESSAGE} characters (this one has {length})"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid(format!(
            "{field} must be plain text, without control characters"
        )));
    }
    Ok(text.to_owned())
}

/// A room's name: `[A-Za-z0-9_-]{1,128}`, and not one of the app's own paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    /// Parses `raw`, sent as `field`; the error names the field and the rule broken.
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        validate::room_name(field, raw).map(|()| Self(raw.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_name_is_checked_once_and_kept_as_given() {
        assert_eq!(
            RoomName::parse("name", "Stand-up_2")
                .expect("valid")
                .as_str(),
            "Stand-up_2"
        );
        for bad in ["", "a b", "dashboard", "v1", &"x".repeat(129)] {
            let error = RoomName::parse("name", bad).expect_err("refused");
            assert!(error.to_string().starts_with("name "), "{error}");
        }
    }

    #[test]
    fn a_display_name_is_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("name", "  Ana ")
                .expect("valid")
                .as_str(),
            "Ana"
        );
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(65)] {
            let error = DisplayName::parse("name", bad).expect_err("refused");
            assert!(error.to_string().starts_with("name "), "{error}");
        }
    }

    #[test]
    fn a_note_is_trimmed_plain_text_of_at_most_200_characters() {
        assert_eq!(KnockNote::parse("note", "   "), Ok(None));
        assert_eq!(
            KnockNote::parse("note", "  I'm Ben's colleague  ")
                .expect("valid")
                .map(|note| note.as_str().to_owned()),
            Some("I'm Ben's colleague".to_owned())
        );
        let longest = "é".repeat(MAX_NOTE);
        assert!(KnockNote::parse("note", &longest).is_ok());
        for bad in [
            "é".repeat(MAX_NOTE + 1),
            "two\nlines".to_owned(),
            "nul\0".to_owned(),
        ] {
            let error = KnockNote::parse("note", &bad).expect_err("refused");
            assert!(error.to_string().contains("note"), "{error}");
        }
    }
}
