//! Knock's Leptos application: the pages, the server functions they call and, behind the `ssr`
//! feature, the domain services (rooms, tokens, lobby) that both the pages and the REST API use.
//!
//! Build it with exactly one of `ssr` (inside the `knock` server) or `hydrate` (inside the wasm
//! `frontend`); never both in one cargo invocation.

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

pub mod api;
pub mod app;
pub mod call;
pub mod components;
pub mod error;
pub mod json;
pub mod media;
pub mod model;
#[cfg(feature = "hydrate")]
pub mod notify;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod ssr;

pub use app::{App, room_shell, shell};
