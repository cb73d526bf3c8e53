//! Server functions: thin adapters from the pages to the domain services, one file per area.

pub mod call;
pub mod dashboard;
pub mod deployment;
pub mod media;
pub mod webhooks;

use leptos::server::codee::{Decoder, Encoder};
use serde::{Deserialize, Serialize};

/// JSON for a value the server writes into the page (the room page's first state, a
/// `SharedValue`), read back from bytes, the way the browser reads every other JSON it gets
/// (server functions' answers, the event stream, the room page's forms). Each type's decoder is
/// compiled for one input, not for text and bytes apart (Leptos' own codec reads text), which
/// keeps a second copy of every decoder out of the wasm.
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T> Decoder<T> for JsonBytes
where
    for<'de> T: Deserialize<'de>,
{
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}
