//! What the dashboard's server functions answer.

use serde::{Deserialize, Serialize};

use super::{Room, TokenProperties};

/// A room as the dashboard lists it: the room and its live counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardRoom {
    /// The room.
    pub room: Room,
    /// People in the call now.
    pub in_call: i64,
    /// Knocks waiting now.
    pub waiting: i64,
}

/// A token minted in the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedToken {
    /// The token.
    pub token: String,
    /// `<public url>/<room>?t=<token>`.
    pub link: String,
    /// What it grants.
    pub properties: TokenProperties,
}
