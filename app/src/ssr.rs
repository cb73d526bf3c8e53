//! Everything that runs only on the server: configuration, state, the database and the domain
//! services (rooms, tokens) that the REST API and the server functions share.

pub mod client;
pub mod config;
pub mod cookies;
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod events;
pub mod hash_file;
pub mod input;
pub mod limits;
pub mod lobby;
pub mod maintenance;
pub mod media;
pub mod meetings;
pub mod presence;
pub mod rooms;
pub mod secrets;
pub mod sfu;
pub mod state;
pub mod time;
pub mod tokens;
pub mod validate;
pub mod webhooks;
