//! System notifications for knocks while an admin's tab is hidden (browser only): whether the
//! browser can show them, asking for the permission (only ever from a click), the tab's
//! visibility, and raising one whose click brings the tab back.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};

/// Whether this browser has the Notification API at all (some, and every insecure page in
/// most, do not).
pub fn supported() -> bool {
    web_sys::window().is_some_and(|window| {
        js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false)
    })
}

/// Whether the permission can still be asked for: the API exists and the visitor has neither
/// granted nor refused it. (Once answered, only the browser's own settings change it.)
pub fn can_ask() -> bool {
    supported() && Notification::permission() == NotificationPermission::Default
}

/// Whether notifications may be shown now.
pub fn granted() -> bool {
    supported() && Notification::permission() == NotificationPermission::Granted
}

/// Asks for the permission. Browsers show their prompt only in answer to a user's gesture, so
/// call this from a click handler, never on load.
pub async fn request_permission() {
    if !supported() {
        return;
    }
    if let Ok(promise) = Notification::request_permission() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

/// Whether the page's tab is hidden (in the background, minimised, or the screen is off).
pub fn tab_hidden() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| document.visibility_state() == VisibilityState::Hidden)
}

/// Raises a system notification (`tag` replaces an earlier one with the same tag rather than
/// piling them up). Clicking it brings this window to the front and closes it.
pub fn show(title: &str, body: &str, tag: &str) {
    if !granted() {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    let Ok(notification) = Notification::new_with_options(title, &options) else {
        return;
    };
    let shown = notification.clone();
    let on_click = Closure::<dyn Fn()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
        }
        shown.close();
    });
    notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
    // The notification may be clicked long after this function returns.
    on_click.forget();
}
