//! The wasm entry point: hydrates the server-rendered page with [`app::app::RoomApp`] (a room
//! page) or [`app::App`] (every other page).

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

/// Called by the script cargo-leptos injects into every page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the room page's call view is a lazy function (a wasm chunk of its own), and
    // so are the router's application and its home, dashboard and custom pages. A room page is
    // hydrated without the router; a page the server rendered in the call needs the call's chunk
    // before hydration walks the call's HTML.
    if !app::app::room_shell_on_page() {
        wasm_bindgen_futures::spawn_local(app::app::hydrate_routed());
    } else if app::pages::room::call_on_page() {
        wasm_bindgen_futures::spawn_local(async {
            app::pages::room::preload_call().await;
            leptos::mount::hydrate_lazy(app::app::RoomApp);
        });
    } else {
        leptos::mount::hydrate_lazy(app::app::RoomApp);
    }
}
