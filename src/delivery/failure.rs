//! What can go wrong delivering one message, sorted by what the worker does about it.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Worth trying again later (timeouts, HTTP 5xx, WeChat `-1`).
    #[error("retryable: {0}")]
    Retry(String),
    /// This recipient cannot be reached (invalid openid, unfollowed).
    #[error("permanent: {0}")]
    Permanent(String),
    /// Our configuration is wrong (unknown account, bad template): staff must fix it.
    #[error("configuration: {0}")]
    Config(String),
    /// The channel must not be used for a while (daily quota reached); nothing was sent.
    #[error("paused for {for_:?}: {reason}")]
    Paused { for_: Duration, reason: String },
}

impl Failure {
    /// Network errors and timeouts: the message may or may not have arrived, and the
    /// idempotency key (outbox id) makes a retry safe.
    pub fn from_http(e: &reqwest::Error) -> Self {
        Failure::Retry(format!("http: {e}"))
    }
}
