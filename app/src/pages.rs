//! One module per page.

pub mod custom;
pub mod dashboard;
pub(crate) mod form;
pub mod home;
pub mod room;

use leptos::prelude::*;

/// The sentence of an action's last error, for showing next to its form.
pub(crate) fn action_error<A>(action: ServerAction<A>) -> impl Fn() -> Option<String> + Copy
where
    A: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
    A::Error: Clone + Send + Sync + std::fmt::Display + 'static,
{
    move || {
        action
            .value()
            .get()
            .and_then(|result| result.err())
            .map(|error| error.to_string())
    }
}
