//! Everything that runs only on the server: configuration, state, the database and the domain
//! services.

pub mod config;
pub mod db;
pub mod state;
