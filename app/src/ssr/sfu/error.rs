//! What can go wrong talking to the SFU.

/// Why the SFU did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// It could not be reached, or did not answer in time.
    #[error("the SFU could not be reached: {0}")]
    Unreachable(String),
    /// It answered with an error.
    #[error("the SFU refused ({code}): {reason}")]
    Refused {
        /// The SFU's error code.
        code: i64,
        /// Its reason.
        reason: String,
    },
    /// It takes room ids of the other type (Janus: numbers unless `string_ids`).
    #[error("the SFU takes room ids of the other type")]
    InvalidRoomId,
    /// It answered something unexpected.
    #[error("unexpected answer from the SFU: {0}")]
    Protocol(String),
}

impl SfuError {
    pub(super) fn unreachable(error: reqwest::Error) -> Self {
        // Without the URL: a long poll's carries the API secret.
        Self::Unreachable(error.without_url().to_string())
    }
}
