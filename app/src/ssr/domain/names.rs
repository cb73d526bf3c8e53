//! Names as types: a [`DisplayName`] is parsed once, where it enters (a server function, a REST
//! body), and every function after that takes the type, so none of them checks it again or
//! forgets to.

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

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
