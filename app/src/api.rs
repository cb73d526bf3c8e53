//! Server functions: thin adapters from the pages to the domain services, one file per area.

pub mod call;
pub mod dashboard;
pub mod deployment;
pub mod media;
pub mod webhooks;
