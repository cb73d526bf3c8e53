//! The room page's `<title>`, without Leptos' head manager in the browser.
//!
//! The server writes the title into the page's head with `leptos_meta`'s `Title`, as every page
//! does. In the browser, a room page sets `document.title` itself: the room page is hydrated
//! without the router (`crate::app::RoomApp`), and the head manager, there only for its title,
//! was in the wasm a guest at the door downloads first.

use leptos::prelude::*;

/// The page's title: `text`, and each new value it takes while the page shows this screen.
/// Renders a placeholder (`<!>`) on both sides, so the server's page and the browser's
/// hydration walk the same nodes.
#[component]
pub fn PageTitle(#[prop(into)] text: TextProp) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // Registers the title with the page's head as it is made; its view renders nothing.
        let _ = leptos_meta::Title(leptos_meta::TitleProps::builder().text(text).build());
    }
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| document().set_title(&text.get()));
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let _ = text;
}
