//! The wasm entry point: hydrates the server-rendered page with [`app::App`].

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

/// Called by the script cargo-leptos injects into every page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the home, dashboard and custom pages are lazy routes (wasm chunks).
    leptos::mount::hydrate_lazy(app::App);
}
