//! The value types of Daily's properties beyond JSON's own (page languages, recording modes,
//! objects, fractions), and how a property's value is read from a request: as Daily reads it, so
//! a whole number may arrive with a fraction (`exp: time.time() + 300`) and is truncated.

use serde::{Deserialize, Deserializer, Serialize, de};
use serde_json::{Map, Value};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

use super::super::Permissions;

/// Reads a property's value from a request. Every type a property table uses implements it:
/// most as their `Deserialize`, whole numbers leniently ([`i64`] takes `12.7` as `12`).
pub trait FromWire: Sized {
    /// Reads the value.
    fn from_wire<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// The types read exactly as they deserialize.
macro_rules! as_deserialized {
    ($($ty:ty),* $(,)?) => {$(
        impl FromWire for $ty {
            fn from_wire<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$ty as Deserialize>::deserialize(deserializer)
            }
        }
    )*};
}

as_deserialized!(
    bool,
    String,
    Lang,
    Recording,
    Fraction,
    JsonObject,
    Vec<JsonObject>,
    Permissions,
);

impl FromWire for i64 {
    fn from_wire<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeNumber)
    }
}

/// A whole number given as an integer or as a number with a fraction (truncated).
struct WholeNumber;

impl de::Visitor<'_> for WholeNumber {
    type Value = i64;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a number")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<i64, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<i64, E> {
        i64::try_from(value).map_err(|_| E::custom(format!("{value} is too large")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<i64, E> {
        // i64::MAX as f64 rounds up to 2^63, which no i64 holds: the bound is exclusive.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        let whole = value.trunc();
        if whole.is_finite() && (-LIMIT..LIMIT).contains(&whole) {
            #[expect(clippy::cast_possible_truncation, reason = "in range, checked above")]
            Ok(whole as i64)
        } else {
            Err(E::custom(format!("{value} is out of range")))
        }
    }
}

/// A value read through [`FromWire`].
struct Wire<T>(T);

impl<'de, T: FromWire> Deserialize<'de> for Wire<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::from_wire(deserializer).map(Self)
    }
}

/// `deserialize_with` for an optional property: `null` is `None`, a value is read through
/// [`FromWire`].
pub fn option<'de, D: Deserializer<'de>, T: FromWire>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Wire<T>>::deserialize(deserializer)?.map(|Wire(value)| value))
}

/// The page languages Daily accepts for `lang` (Knock stores the choice; its pages are in
/// English).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub enum Lang {
    /// Danish.
    #[serde(rename = "da")]
    Da,
    /// German.
    #[serde(rename = "de")]
    De,
    /// English.
    #[default]
    #[serde(rename = "en")]
    En,
    /// Spanish.
    #[serde(rename = "es")]
    Es,
    /// Finnish.
    #[serde(rename = "fi")]
    Fi,
    /// French.
    #[serde(rename = "fr")]
    Fr,
    /// Italian.
    #[serde(rename = "it")]
    It,
    /// Japanese.
    #[serde(rename = "jp")]
    Jp,
    /// Georgian.
    #[serde(rename = "ka")]
    Ka,
    /// Dutch.
    #[serde(rename = "nl")]
    Nl,
    /// Norwegian.
    #[serde(rename = "no")]
    No,
    /// Portuguese.
    #[serde(rename = "pt")]
    Pt,
    /// Brazilian Portuguese.
    #[serde(rename = "pt-BR")]
    PtBr,
    /// Polish.
    #[serde(rename = "pl")]
    Pl,
    /// Russian.
    #[serde(rename = "ru")]
    Ru,
    /// Swedish.
    #[serde(rename = "sv")]
    Sv,
    /// Turkish.
    #[serde(rename = "tr")]
    Tr,
    /// The language of the visitor's browser.
    #[serde(rename = "user")]
    User,
}

/// Daily's recording modes (`enable_recording`); Knock stores the choice and records nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Recording {
    /// Recorded on Daily's servers.
    Cloud,
    /// Recorded in the browser.
    Local,
    /// Each track recorded on its own.
    RawTracks,
}

/// A number that may have a fraction (`sfu_switchover: 0.5`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(transparent)]
pub struct Fraction(pub f64);

// JSON has no NaN, so a value read from it equals itself.
impl Eq for Fraction {}

/// A JSON object Knock stores as given (a bucket, SIP or transcription settings, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(value_type = Object))]
#[serde(transparent)]
pub struct JsonObject(pub Map<String, Value>);

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(json: &str) -> Result<Option<i64>, serde_json::Error> {
        option(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn whole_numbers_may_carry_a_fraction_which_is_truncated() {
        assert_eq!(whole("1767225600").expect("integer"), Some(1_767_225_600));
        assert_eq!(whole("1767225600.9").expect("float"), Some(1_767_225_600));
        assert_eq!(whole("-3.5").expect("negative"), Some(-3));
        assert_eq!(whole("null").expect("null"), None);
        assert!(whole("1e300").is_err());
        assert!(whole("18446744073709551615").is_err());
        assert!(whole("\"12\"").is_err());
        assert!(whole("true").is_err());
    }

    #[test]
    fn languages_are_spelled_as_daily_spells_them() {
        let lang: Lang = serde_json::from_str("\"pt-BR\"").expect("a Daily language");
        assert_eq!(lang, Lang::PtBr);
        assert_eq!(serde_json::to_value(Lang::Jp).expect("json"), "jp");
        assert!(serde_json::from_str::<Lang>("\"xx\"").is_err());
        let mode: Recording = serde_json::from_str("\"raw-tracks\"").expect("a mode");
        assert_eq!(mode, Recording::RawTracks);
    }
}
