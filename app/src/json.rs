//! JSON that the browser reads with its own parser (`JSON.parse`) and a reader written for each
//! type ([`FromJson`]), not with serde: the room page's first state ([`PageJson`]) and the
//! errors of its forms. So the wasm a guest at the door downloads first carries no serde
//! decoder (serde's visitors, `serde_json`'s parser and error sentences, and the float
//! formatting they need). Each reader reads the shape the type's `Serialize` writes, which the
//! tests check against `serde_json` on every type the page reads this way.

use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;

/// A parsed JSON value: the browser's (`JsValue`) in the page; `serde_json`'s in the tests.
pub trait Json: Sized {
    /// The member `name` of an object: `None` when absent, or when this is not an object.
    fn member(&self, name: &str) -> Option<Self>;
    /// The string this is.
    fn string(&self) -> Option<String>;
    /// The boolean this is.
    fn boolean(&self) -> Option<bool>;
    /// Whether this is `null`.
    fn is_null(&self) -> bool;
}

/// A type read from parsed JSON in the shape its `Serialize` writes; `None` for any other shape.
pub trait FromJson: Sized {
    /// Reads `json`.
    fn from_json<J: Json>(json: &J) -> Option<Self>;
}

impl FromJson for String {
    fn from_json<J: Json>(json: &J) -> Option<Self> {
        json.string()
    }
}

impl FromJson for bool {
    fn from_json<J: Json>(json: &J) -> Option<Self> {
        json.boolean()
    }
}

/// `null` or the value, as serde writes an `Option`.
impl<T: FromJson> FromJson for Option<T> {
    fn from_json<J: Json>(json: &J) -> Option<Self> {
        if json.is_null() {
            Some(None)
        } else {
            T::from_json(json).map(Some)
        }
    }
}

/// `{"Ok": value}` or `{"Err": error}`, as serde writes a `Result`.
impl<T: FromJson, E: FromJson> FromJson for Result<T, E> {
    fn from_json<J: Json>(json: &J) -> Option<Self> {
        match json.member("Ok") {
            Some(ok) => T::from_json(&ok).map(Ok),
            None => E::from_json(&json.member("Err")?).map(Err),
        }
    }
}

#[cfg(feature = "hydrate")]
impl Json for wasm_bindgen::JsValue {
    fn member(&self, name: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        js_sys::Reflect::get(self, &Self::from_str(name))
            .ok()
            .filter(|value| !value.is_undefined())
    }

    fn string(&self) -> Option<String> {
        self.as_string()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_null(&self) -> bool {
        Self::is_null(self)
    }
}

/// `text` parsed by the browser and read as a `T`; `None` when it is not JSON of that shape.
#[cfg(feature = "hydrate")]
pub fn parse<T: FromJson>(text: &str) -> Option<T> {
    T::from_json(&js_sys::JSON::parse(text).ok()?)
}

/// The encoding of a value the server writes into the page (a `SharedValue`): written with
/// `serde_json`, read back in the browser by [`parse`].
pub struct PageJson;

impl<T: Serialize> Encoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: FromJson> Decoder<T> for PageJson {
    type Error = &'static str;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, &'static str> {
        #[cfg(feature = "hydrate")]
        {
            parse(encoded).ok_or("the page's state is not in the shape this build reads")
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = encoded;
            Err("the page's state is read in the browser only")
        }
    }
}

#[cfg(test)]
impl Json for serde_json::Value {
    fn member(&self, name: &str) -> Option<Self> {
        self.as_object()?.get(name).cloned()
    }

    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_null(&self) -> bool {
        Self::is_null(self)
    }
}

/// `value` written by its `Serialize` and read back by its [`FromJson`].
#[cfg(test)]
pub fn round_trip<T: Serialize + FromJson>(value: &T) -> Option<T> {
    T::from_json(&serde_json::to_value(value).expect("serializable"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_booleans_options_and_results_read_as_serde_writes_them() {
        assert_eq!(
            round_trip(&"Ana \"María\"".to_owned()).as_deref(),
            Some("Ana \"María\"")
        );
        assert_eq!(round_trip(&true), Some(true));
        assert_eq!(round_trip(&Some(false)), Some(Some(false)));
        assert_eq!(round_trip(&None::<bool>), Some(None));
        assert_eq!(round_trip(&Ok::<bool, String>(true)), Some(Ok(true)));
        assert_eq!(
            round_trip(&Err::<bool, String>("no".into())),
            Some(Err("no".into()))
        );
    }

    #[test]
    fn another_shape_is_refused() {
        let read = |text: &str| {
            let json: serde_json::Value = serde_json::from_str(text).expect("JSON");
            (
                bool::from_json(&json),
                Result::<bool, String>::from_json(&json),
            )
        };
        assert_eq!(read("\"true\""), (None, None));
        assert_eq!(read("{\"Ok\": \"yes\"}"), (None, None));
        assert_eq!(read("{\"Err\": false}"), (None, None));
        assert_eq!(read("{}"), (None, None));
        assert_eq!(read("null"), (None, None));
    }
}
