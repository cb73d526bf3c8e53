//! Meetings as the REST API lists them (`GET /v1/meetings`): Daily's meeting analytics, plus
//! Knock's lobby record of each meeting. Times are unix seconds, durations seconds, as Daily's.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// One meeting: from the first participant entering a room's empty call to the last one
/// leaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Meeting {
    /// The meeting's id.
    pub id: String,
    /// The room's name.
    pub room: String,
    /// When it started (unix seconds).
    pub start_time: i64,
    /// How long it lasted, or has lasted so far (seconds).
    pub duration: i64,
    /// Whether someone is still in the call.
    pub ongoing: bool,
    /// The most people in the call at once.
    pub max_participants: i64,
    /// Everyone who was in the call, once per time they entered it.
    pub participants: Vec<MeetingParticipant>,
    /// Beyond Daily: who knocked while it went on, how each knock ended and who decided.
    pub knocks: Vec<MeetingKnock>,
}

/// One participant's stay in a meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct MeetingParticipant {
    /// Their session id (the id presence, events and eject use).
    pub participant_id: String,
    /// `user_id` from their meeting token.
    pub user_id: Option<String>,
    /// The name they went by.
    pub user_name: String,
    /// When they entered (unix seconds).
    pub join_time: i64,
    /// How long they stayed, or have stayed so far (seconds).
    pub duration: i64,
}

/// A knock settled while a meeting went on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct MeetingKnock {
    /// The knocker's session id.
    pub participant_id: String,
    /// The name they knocked with.
    pub user_name: String,
    /// When they knocked (unix seconds).
    pub knocked_at: i64,
    /// `allowed`, `denied` or `withdrawn`.
    pub outcome: String,
    /// Who decided: an admin's name, or "the API"; `null` when the knocker withdrew or was
    /// removed.
    pub decided_by: Option<String>,
    /// When the knock ended (unix seconds).
    pub decided_at: i64,
}

/// `GET /v1/meetings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct MeetingList {
    /// How many meetings match the filters (all pages).
    pub total_count: i64,
    /// This page, newest first.
    pub data: Vec<Meeting>,
}
