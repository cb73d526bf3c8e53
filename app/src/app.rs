//! The HTML shell, the router and the page every unknown path falls back to.
//!
//! A room page is not routed: the server renders it with [`room_shell`] (its own axum route,
//! `server/src/lib.rs`) and the browser hydrates it with [`RoomApp`], so a guest at the door
//! never downloads the router. Every other page is [`App`]'s, whose router the browser loads in
//! a wasm chunk of its own ([`hydrate_routed`]).

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
    lazy_route,
};

use crate::components::title::PageTitle;
use crate::pages::{custom::CustomPage, dashboard::DashboardPage, home::HomePage, room::RoomPage};

/// The document around every routed page: rendered on the server, hydrated in the browser.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    html_document(options, None, view! { <App/> })
}

/// The document around a room page (`/<room>`), which the browser hydrates without the router.
pub fn room_shell(options: LeptosOptions) -> impl IntoView {
    html_document(options, Some(ROOM_SHELL), view! { <RoomApp/> })
}

/// `<body data-shell=...>` of a page rendered by [`room_shell`]: tells the browser which
/// application to hydrate the page with (`frontend/src/lib.rs`).
const ROOM_SHELL: &str = "room";

/// The HTML document: the head every page shares, and `body` in it.
///
/// The head starts with what the page's script needs (the script, the wasm and the split
/// loader, preloaded), so the browser asks for them as soon as it reads the head: on the
/// bench's slow phone they are the page's last bytes before it is hydrated. A room page
/// carries its stylesheet in the head ([`Stylesheet`]).
fn html_document(
    options: LeptosOptions,
    shell: Option<&'static str>,
    body: impl IntoView + 'static,
) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                // The script and the wasm (and below, the stylesheet) under their content-hashed
                // names when the build hashed them (cached for a year), else under their plain
                // names.
                <HydrationScripts options=options.clone()/>
                <SplitLoaderPreload options=options.clone()/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // An inline icon: no request, and no 404 logged by the browser.
                <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%231f6feb'/%3E%3C/svg%3E"/>
                <AutoReload options=options.clone()/>
                <Stylesheet options inline=shell.is_some()/>
                <MetaTags/>
            </head>
            <body data-shell=shell>{body}</body>
        </html>
    }
}

/// The site's stylesheet: linked (`<link id="leptos">`, cached for a year under its hashed
/// name), or with `inline`, its text in a `<style>` element, as a room page has it.
///
/// A guest's first visit to a room page waits for every byte of the script and the wasm, which
/// the browser asks for once it has read the page's head, a round trip after the page itself;
/// the stylesheet's 5 KB in the page arrive during that round trip instead of with them, and
/// the browser lays the page out while it waits. Under `cargo leptos watch` (`LEPTOS_WATCH`)
/// the stylesheet stays linked, so that its changes reach the page without a reload; a site
/// without the file (a build that did not write it) links it too.
#[component]
fn Stylesheet(options: LeptosOptions, inline: bool) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = (inline && std::env::var_os("LEPTOS_WATCH").is_none())
        .then(|| stylesheet_text(&options))
        .flatten();
    #[cfg(not(feature = "ssr"))]
    let text = {
        let _ = inline;
        None::<String>
    };
    match text {
        Some(text) => view! { <style inner_html=text></style> }.into_any(),
        None => view! { <HashedStylesheet id="leptos" options/> }.into_any(),
    }
}

/// The text of the stylesheet the site serves (`/pkg/<output>.<hash>.css` when the build
/// hashed its files, else `/pkg/<output>.css`), read from the site on each render; `None` when
/// it cannot be read, or holds what would end its `<style>` element early.
#[cfg(feature = "ssr")]
fn stylesheet_text(options: &LeptosOptions) -> Option<String> {
    let name = if options.hash_files {
        crate::ssr::hash_file::hashed_name(options, "css")?
    } else {
        format!("{}.css", options.output_name)
    };
    let file = std::path::Path::new(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join(name);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) => {
            tracing::warn!(file = %file.display(), %error, "the stylesheet is linked, not inlined");
            return None;
        }
    };
    let closes = |window: &[u8]| window.eq_ignore_ascii_case(b"</style");
    (!text.as_bytes().windows(7).any(closes)).then_some(text)
}

/// `<link rel="modulepreload">` for the split loader that the script imports
/// (`__wasm_split.<hash>.js`, in a build split by `cargo leptos build --split`), so the browser
/// fetches it beside the script and the wasm, not once the script has come: on the bench's slow
/// phone that import was a third round trip, and the page's last request before it hydrated.
#[component]
fn SplitLoaderPreload(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let href = split_loader(&options);
    #[cfg(not(feature = "ssr"))]
    let href = {
        let _ = options;
        None::<String>
    };
    href.map(|href| view! { <link rel="modulepreload" href=href/> })
}

/// The split loader's address: under the name the hash file gives it when the build hashed its
/// files (read on each render, as `HydrationScripts` reads the script's), else under the name
/// Leptos gives it unhashed, if the site has it; `None` for a build that was not split.
#[cfg(feature = "ssr")]
fn split_loader(options: &LeptosOptions) -> Option<String> {
    const UNHASHED: &str = "__wasm_split.______________________.js";
    let pkg = &options.site_pkg_dir;
    if options.hash_files {
        crate::ssr::hash_file::hashed_name(options, "split").map(|name| format!("/{pkg}/{name}"))
    } else {
        std::path::Path::new(options.site_root.as_ref())
            .join(pkg.as_ref())
            .join(UNHASHED)
            .is_file()
            .then(|| format!("/{pkg}/{UNHASHED}"))
    }
}

/// Whether the page was rendered by [`room_shell`], so is hydrated with [`RoomApp`].
#[cfg(feature = "hydrate")]
pub fn room_shell_on_page() -> bool {
    document()
        .body()
        .and_then(|body| body.get_attribute("data-shell"))
        .is_some_and(|shell| shell == ROOM_SHELL)
}

/// A room page on its own, without the router: what a guest at the door downloads.
#[component]
pub fn RoomApp() -> impl IntoView {
    // The head is the server's alone: in the browser, the room page sets its title itself
    // (`PageTitle`), without Leptos' head manager.
    #[cfg(feature = "ssr")]
    provide_meta_context();
    mark_hydrated();
    view! {
        <PageTitle text="Knock"/>
        <RoomPage/>
    }
}

/// Hydrates a routed page (every page but a room's) with [`App`]: a wasm chunk of its own, with
/// the router and the lazy routes' entry points, which a room page never loads.
#[cfg(feature = "hydrate")]
#[lazy]
pub fn hydrate_routed() {
    leptos::mount::hydrate_lazy(App);
}

/// The application: one route per page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    view! {
        <Title text="Knock"/>
        <Router>
            <Routes fallback=NotFound>
                // Async: the server waits for each page's data and sends complete HTML, so
                // pages read (and their forms work) without JavaScript.
                // The room page is in the main wasm: it is what a guest at the door needs. The
                // others are lazy routes, each in a wasm chunk of its own that the browser loads
                // only on that page (`cargo leptos build --split`).
                <Route path=StaticSegment("") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async/>
                <Route
                    path=StaticSegment("dashboard")
                    view={Lazy::<DashboardRoute>::new()}
                    ssr=SsrMode::Async
                />
                // A room page is not the router's: the server renders it in `room_shell`.
                <Route path=ParamSegment("room") view=RoomByRouter/>
                <Route
                    path=(StaticSegment("custom"), ParamSegment("room"))
                    view={Lazy::<CustomRoute>::new()}
                />
            </Routes>
        </Router>
    }
}

/// The home page, loaded on its own.
struct HomeRoute;

#[lazy_route]
impl LazyRoute for HomeRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <HomePage/> }.into_any()
    }
}

/// The dashboard, loaded on its own: a guest at a room's door never downloads it.
struct DashboardRoute;

#[lazy_route]
impl LazyRoute for DashboardRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <DashboardPage/> }.into_any()
    }
}

/// The page of a room with its own UI, loaded on its own.
struct CustomRoute;

#[lazy_route]
impl LazyRoute for CustomRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <CustomPage/> }.into_any()
    }
}

/// A room page the router was asked for (a link to a room from one of its pages that is not
/// marked `rel="external"`, as they all should be): loaded as a document of its own, in place of
/// the router's history entry, because a room page needs what only its own request gives, the
/// session the server opens for the visitor ([`room_shell`]).
#[component]
fn RoomByRouter() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let url = leptos_router::hooks::use_url();
        Effect::new(move || {
            let target = url.with(|url| {
                let query = if url.search().is_empty() { "" } else { "?" };
                format!("{}{query}{}{}", url.path(), url.search(), url.hash())
            });
            let _ = window().location().replace(&target);
        });
    }
    view! { <main class="page narrow"><p>"Loading…"</p></main> }
}

/// Sets `data-hydrated` on `<body>` once the wasm has taken over the page. Tests wait for it
/// before clicking, because a click made before hydration would otherwise be lost.
fn mark_hydrated() {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The page for any path that matches no route.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Knock"/>
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><A href="/">"Go to the Knock home page"</A></p>
        </main>
    }
}
