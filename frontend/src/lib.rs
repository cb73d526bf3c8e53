//! The wasm entry point: hydrates the server-rendered page with [`app::App`].

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

/// Called by the script cargo-leptos injects into every page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the home, dashboard and custom pages are lazy routes (wasm chunks), and the
    // room page's call view is a lazy function (a chunk of its own). A page the server rendered
    // in the call needs that chunk before hydration walks the call's HTML.
    if app::pages::room::call_on_page() {
        wasm_bindgen_futures::spawn_local(async {
            app::pages::room::preload_call().await;
            leptos::mount::hydrate_lazy(app::App);
        });
    } else {
        leptos::mount::hydrate_lazy(app::App);
    }
}
