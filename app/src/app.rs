//! The HTML shell, the router and the page every unknown path falls back to.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
    lazy_route,
};

use crate::pages::{custom::CustomPage, dashboard::DashboardPage, home::HomePage, room::RoomPage};

/// The document around every page: rendered on the server, hydrated in the browser.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // An inline icon: no request, and no 404 logged by the browser.
                <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%231f6feb'/%3E%3C/svg%3E"/>
                <AutoReload options=options.clone()/>
                // The stylesheet, wasm and script under their content-hashed names when the
                // build hashed them (cached for a year), else under their plain names.
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
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
                <Route path=ParamSegment("room") view=RoomPage ssr=SsrMode::Async/>
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
