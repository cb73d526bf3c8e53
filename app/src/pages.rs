//! One module per page.

pub mod custom;
pub mod home;
pub mod room;
