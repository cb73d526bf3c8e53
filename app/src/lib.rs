//! Knock's Leptos application: the pages, the server functions they call and, behind the `ssr`
//! feature, the domain services (rooms, tokens, lobby) that both the pages and the REST API use.
//!
//! Build it with exactly one of `ssr` (inside the `knock` server) or `hydrate` (inside the wasm
//! `frontend`); never both in one cargo invocation.

pub mod api;
pub mod app;
pub mod call;
pub mod error;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod ssr;

pub use app::{App, shell};
