//! The room page's own forms: a plain `<form method="post">` to a server function, which the
//! browser posts by itself before the page has hydrated, and which the page posts with `fetch`
//! once it has, reading the answer as JSON.
//!
//! Leptos' `ActionForm` does the same, but decodes the form into the server function's
//! arguments in the browser (with `serde_qs`) only to encode them again for the request. Here
//! the form's fields go to the server as they are (`application/x-www-form-urlencoded`, what the
//! server function reads), so the guest's first download carries no form decoder; the call's
//! and the dashboard's forms, in their own wasm chunks, keep `ActionForm`.

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A form's submissions to the server function at `path`, and the last answer.
pub(crate) struct PageAction<T: 'static> {
    path: &'static str,
    action: Action<String, Result<T, AppError>>,
}

impl<T: 'static> Clone for PageAction<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for PageAction<T> {}

/// How an answer's JSON becomes a `T`, or the sentence saying why it does not.
type Decode<T> = fn(&str) -> Result<T, String>;

impl<T> PageAction<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    /// Submissions to the server function `F`, whose answer is a `T`.
    pub(crate) fn new<F: leptos::server_fn::ServerFn<Output = T>>() -> Self {
        Self::decoding(F::PATH, |text| {
            serde_json::from_slice(text.as_bytes()).map_err(|error| error.to_string())
        })
    }
}

impl PageAction<String> {
    /// Submissions to the server function `F`, whose answer is kept as the JSON it came in:
    /// for a page whose main wasm should not carry the answer's decoder (the prejoin page hands
    /// it to the call client, in a chunk of its own).
    pub(crate) fn json<F: leptos::server_fn::ServerFn>() -> Self {
        Self::decoding(F::PATH, |text| Ok(text.to_owned()))
    }
}

impl<T: Clone + 'static> PageAction<T> {
    fn decoding(path: &'static str, decode: Decode<T>) -> Self {
        Self {
            path,
            action: Action::new_local(move |body: &String| post(path, body.clone(), decode)),
        }
    }

    /// Posts `fields` as the form would (in the browser; the server never dispatches).
    #[cfg(feature = "hydrate")]
    pub(crate) fn dispatch(&self, fields: &[(&str, &str)]) {
        self.action.dispatch_local(encode(fields));
    }

    /// The last answer, if any.
    pub(crate) fn value(&self) -> Option<Result<T, AppError>> {
        self.action.value().get()
    }

    /// Whether a submission is under way.
    pub(crate) fn pending(&self) -> bool {
        self.action.pending().get()
    }

    /// The sentence of the last answer's error, for showing next to the form.
    pub(crate) fn error(&self) -> Option<String> {
        self.value()
            .and_then(Result::err)
            .map(|error| error.to_string())
    }
}

/// A `<form>` posting to `action`'s server function; with the page's script, by `fetch`, its
/// fields (and the name and value of the button that submitted it) encoded as the browser would.
#[component]
pub(crate) fn PageForm<T>(action: PageAction<T>, children: Children) -> impl IntoView
where
    T: Clone + 'static,
{
    let submit = move |event: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            if event.default_prevented() {
                return;
            }
            if let Some(body) = form_body(&event) {
                event.prevent_default();
                action.action.dispatch_local(body);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, action);
    };
    view! {
        <form action=action.path method="post" on:submit=submit>
            {children()}
        </form>
    }
}

/// `fields` as `application/x-www-form-urlencoded`. (Used in the browser only; the tests below
/// run on the host.) Not the browser's `URLSearchParams`: tried, it moved about 15 KB of the
/// call's code into the main wasm (225.2 -> 240.7 KB in Brotli).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn encode(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            body.push('&');
        }
        percent_encode(name, &mut body);
        body.push('=');
        percent_encode(value, &mut body);
    }
    body
}

/// Appends `text` encoded as a form field's name or value (the WHATWG
/// `application/x-www-form-urlencoded` byte serializer: space as `+`).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
}

/// The submitted form's fields, encoded, with the submitting button's name and value as the
/// browser adds them; `None` when the event has no form.
#[cfg(feature = "hydrate")]
fn form_body(event: &leptos::ev::SubmitEvent) -> Option<String> {
    use wasm_bindgen::JsCast;

    let form: web_sys::HtmlFormElement = event.target()?.dyn_into().ok()?;
    let data = web_sys::FormData::new_with_form(&form).ok()?;
    if let Some(submitter) = event.submitter() {
        let named = if let Some(button) = submitter.dyn_ref::<web_sys::HtmlButtonElement>() {
            Some((button.name(), button.value()))
        } else {
            submitter
                .dyn_ref::<web_sys::HtmlInputElement>()
                .map(|input| (input.name(), input.value()))
        };
        if let Some((name, value)) = named.filter(|(name, _)| !name.is_empty()) {
            data.append_with_str(&name, &value).ok()?;
        }
    }
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    params.to_string().as_string()
}

/// Posts `body` to `path` as a form and reads the server function's JSON answer: its output, or
/// the error it sent (what Leptos' own client does, without the arguments' round trip).
async fn post<T>(path: &'static str, body: String, decode: Decode<T>) -> Result<T, AppError> {
    #[cfg(feature = "hydrate")]
    {
        use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

        let unreachable =
            |_| AppError::from_server_fn_error(ServerFnErrorErr::Request(String::new()));
        let (ok, text) = fetch_form(path, body).await.map_err(unreachable)?;
        if ok {
            decode(&text).map_err(|error| {
                AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(error))
            })
        } else {
            // Read with the browser's parser: the prejoin page's main wasm has no serde.
            Err(crate::json::parse::<AppError>(&text).unwrap_or(AppError::Server))
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (path, body, decode);
        Err(AppError::internal(
            "a page form",
            "posted on the server, where forms are never submitted",
        ))
    }
}

/// `fetch(path, {method: "POST", body})` as a form accepting JSON: whether the status is 2xx,
/// and the body.
#[cfg(feature = "hydrate")]
async fn fetch_form(path: &str, body: String) -> Result<(bool, String), wasm_bindgen::JsValue> {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    let headers = web_sys::Headers::new()?;
    headers.set("Accept", "application/json")?;
    headers.set("Content-Type", "application/x-www-form-urlencoded")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body));
    let response: web_sys::Response = JsFuture::from(window().fetch_with_str_and_init(path, &init))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?).await?;
    Ok((response.ok(), text.as_string().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_encoded_as_a_browser_encodes_a_form() {
        assert_eq!(
            encode(&[("room", "team-standup"), ("name", "Ana María & co")]),
            "room=team-standup&name=Ana+Mar%C3%ADa+%26+co"
        );
        assert_eq!(encode(&[("note", "a=b+c/d?")]), "note=a%3Db%2Bc%2Fd%3F");
        assert_eq!(encode(&[]), "");
    }
}
