//! The lobby service: sessions, joining, knocking, deciding, leaving and ejecting, one file per
//! operation. Pages (via server functions), the REST API and the maintenance tasks call these
//! functions. Each operation opens one write transaction, asks the domain's state machine
//! ([`crate::ssr::domain::lobby`]) what a command does, carries it out here in [`apply`] (one
//! guarded phase write, the knock, the events to their audience), commits, then publishes.

mod access;
mod apply;
mod decide;
mod eject;
mod knock;
mod moderate;
mod sessions;

pub(crate) use apply::{participant_of, recipients};
pub use decide::{Actor, Decision, decide, waiting_participants};
pub use eject::{eject, eject_expired, eject_sessions, revoke_token, room_deleted};
pub use knock::{MAX_WAITING, cancel, request_access};
pub use moderate::{message_lobby, remove, send_to_lobby, set_room_access};
pub use sessions::{
    call_state, cookie_name, gone, join, leave, presence, room_presence, session_of_cookie,
    snapshot, start_visit,
};
