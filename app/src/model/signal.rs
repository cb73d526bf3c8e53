//! WebRTC signaling between participants, and the ICE servers the browsers use.

use serde::{Deserialize, Serialize};

/// The most signaling messages one `signal` call may carry.
pub const MAX_SIGNAL_MESSAGES: usize = 64;

/// One WebRTC signaling message, shaped like the browser's own objects: `{"description":
/// {"type", "sdp"}}` or `{"candidate": {"candidate", "sdpMid", "sdpMLineIndex"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SignalMessage {
    /// An offer or an answer.
    Description(SessionDescription),
    /// An ICE candidate.
    Candidate(IceCandidate),
}

/// An `RTCSessionDescriptionInit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// `offer` or `answer`.
    #[serde(rename = "type")]
    pub kind: SdpKind,
    /// The SDP text.
    pub sdp: String,
}

/// The kinds of session description that travel between peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpKind {
    /// Proposes a session.
    Offer,
    /// Accepts one.
    Answer,
}

/// An `RTCIceCandidateInit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The candidate line.
    pub candidate: String,
    /// The media stream it belongs to.
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    /// The index of that media section.
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_m_line_index: Option<u16>,
}

/// A STUN or TURN server for the browsers, in the `RTCIceServer` shape (`KNOCK_ICE_SERVERS`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` / `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}
