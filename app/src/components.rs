//! Pieces of the room page.

pub mod admin_alert;
pub mod media;
pub mod participants;
