//! A room as the rules see it: its name, privacy and properties in effect.

use crate::model::{Privacy, RoomProperties};

/// A room: what the access rules and the services read, as the repository stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomRecord {
    /// Insertion order.
    pub seq: i64,
    /// UUID.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Public or private.
    pub privacy: Privacy,
    /// Properties in effect.
    pub properties: RoomProperties,
    /// Unix milliseconds.
    pub created_at: i64,
}
