//! Wire types shared by the server, the REST API and the browser, one file per concern:
//!
//! - [`rooms`]: rooms and the bodies that create, change and delete them;
//! - [`properties`]: room and meeting-token properties and the patches that change them;
//! - [`tokens`]: token permissions and the bodies that create and revoke tokens;
//! - [`call`]: the call protocol (access, a session's state, its stream's events);
//! - [`signal`]: WebRTC signaling and ICE servers;
//! - [`lobby`]: the REST API's presence, lobby and eject bodies;
//! - [`meetings`]: meetings as the REST API lists them;
//! - [`webhooks`]: webhooks and the event types they get;
//! - [`dashboard`]: what the dashboard's server functions answer.
//!
//! Every type is re-exported here, so `crate::model::Room` names it wherever it lives.

pub mod call;
pub mod dashboard;
pub mod lobby;
pub mod meetings;
pub mod properties;
pub mod rooms;
pub mod signal;
pub mod tokens;
pub mod webhooks;

pub use call::*;
pub use dashboard::*;
pub use lobby::*;
pub use meetings::*;
pub use properties::*;
pub use rooms::*;
pub use signal::*;
pub use tokens::*;
pub use webhooks::*;
