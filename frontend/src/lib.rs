//! The wasm entry point: hydrates the server-rendered page with [`app::app::RoomApp`] (a room
//! page) or [`app::App`] (every other page).

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

/// Called by the script cargo-leptos injects into every page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The room page's call client and call view are lazy functions (wasm chunks of their own),
    // and so are the router's application and its home, dashboard and custom pages. A room page
    // is hydrated without the router. A page that opens on the prejoin page holds nothing lazy,
    // so it is hydrated at once and synchronously (`hydrate_body`): `hydrate_lazy` walks the
    // same HTML through a future per view, whose code Chromium compiles on first call, after
    // the wasm has arrived (878 functions compiled instead of 974 in a trace of the bench's
    // slowed phone). Any other screen the server rendered needs the call client's chunk (and in
    // the call, the call view's) before hydration walks its HTML, with `hydrate_lazy`.
    if !app::app::room_shell_on_page() {
        wasm_bindgen_futures::spawn_local(app::app::hydrate_routed());
    } else if app::pages::room::room_client_on_page() {
        wasm_bindgen_futures::spawn_local(async {
            app::pages::room::preload_room().await;
            if app::pages::room::call_on_page() {
                app::pages::room::preload_call().await;
            }
            leptos::mount::hydrate_lazy(app::app::RoomApp);
        });
    } else {
        leptos::mount::hydrate_body(app::app::RoomApp);
    }
}
