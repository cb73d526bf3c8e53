//! Request bodies into typed values, with errors that name the offending field.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppError;

/// Parses a JSON body into `T`.
///
/// An empty body counts as `{}`. Text that is not JSON is a `json-parsing-error`; JSON of the
/// wrong shape is an `invalid-request-error` whose `info` starts with the field's path. A key in
/// `properties` sent at the top level (the mistake Daily's own docs warn about) is refused with
/// a sentence saying where it belongs.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8], properties: &[&str]) -> Result<T, AppError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(bytes).map_err(|error| {
            AppError::JsonParsing(format!("the request body is not valid JSON: {error}"))
        })?
    };
    if let Value::Object(map) = &value
        && let Some(key) = map.keys().find(|key| properties.contains(&key.as_str()))
    {
        return Err(AppError::invalid(format!(
            "{key} is a property and belongs under \"properties\", e.g. {{\"properties\": {{\"{key}\": …}}}}"
        )));
    }
    from_value(value)
}

/// Deserializes an already parsed value, naming the field that does not fit.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." {
            AppError::invalid(format!("the request body is invalid: {inner}"))
        } else {
            AppError::invalid(format!("{path}: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CreateRoom, ROOM_PROPERTY_NAMES};

    fn parse(body: &str) -> Result<CreateRoom, AppError> {
        parse_body(body.as_bytes(), ROOM_PROPERTY_NAMES)
    }

    #[test]
    fn an_empty_body_is_an_empty_object() {
        assert_eq!(parse("").expect("empty is fine"), CreateRoom::default());
        assert_eq!(parse("  \n").expect("blank is fine"), CreateRoom::default());
    }

    #[test]
    fn broken_json_is_a_parsing_error() {
        let error =
            parse("{\"name\": \"my-new-room\",\n \"privacy\": \"private\"").expect_err("broken");
        assert_eq!(error.kind(), "json-parsing-error");
    }

    #[test]
    fn a_top_level_property_says_where_it_belongs() {
        let error =
            parse(r#"{"privacy": "private", "enable_knocking": true}"#).expect_err("misplaced");
        assert_eq!(error.kind(), "invalid-request-error");
        assert!(error.to_string().contains("enable_knocking"));
        assert!(error.to_string().contains("\"properties\""));
    }

    #[test]
    fn wrong_types_and_unknown_fields_name_the_field() {
        let error = parse(r#"{"properties": {"max_participants": "ten"}}"#).expect_err("type");
        assert!(
            error
                .to_string()
                .starts_with("properties.max_participants:"),
            "{error}"
        );
        let error = parse(r#"{"properties": {"bogus": 1}}"#).expect_err("unknown");
        assert!(error.to_string().contains("bogus"), "{error}");
        let error = parse(r#"{"nam": "x"}"#).expect_err("unknown");
        assert!(error.to_string().contains("nam"), "{error}");
        let error = parse(r#"{"privacy": "secret"}"#).expect_err("variant");
        assert!(error.to_string().starts_with("privacy:"), "{error}");
    }
}
