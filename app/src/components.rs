//! Pieces of the room page.

pub mod admin_alert;
pub mod media;
pub mod participants;
pub mod people;
pub mod room_access;
pub mod title;
pub mod tray;
pub mod waiting_room;

/// Moves keyboard focus to the element with this id, once the page has drawn the change that
/// shows it (a hidden element cannot take focus). Nothing happens on the server.
pub(crate) fn focus(id: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(element) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Whether keyboard focus is on no control at all (on the page itself), as after the element
/// that had it was removed.
pub(crate) fn focus_is_lost() -> bool {
    #[cfg(feature = "hydrate")]
    {
        let document = web_sys::window().and_then(|window| window.document());
        let active = document
            .as_ref()
            .and_then(|document| document.active_element());
        let body = document.and_then(|document| document.body());
        match (active, body) {
            (None, _) => true,
            (Some(active), Some(body)) => active == *body.as_ref(),
            (Some(_), None) => false,
        }
    }
    #[cfg(not(feature = "hydrate"))]
    false
}
