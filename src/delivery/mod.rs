//! Getting messages out. Whatever guanjia says after the HTTP reply — status updates,
//! surveys, staff replies, staff alerts — is an outbox row written in the transaction that
//! caused it (`ticket::notify`); the worker here delivers each through the recipient's
//! channel, with retries and backoff, exactly once as far as the platform's idempotency
//! keys allow.

pub mod backoff;
pub mod callback;
pub mod failure;
pub mod outbox;
pub mod route;
pub mod signing;
pub mod token_cache;
pub mod wechat_api;
pub mod wecom_api;
pub mod worker;

pub use worker::{run_batch, worker};

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::configuration::Settings;

/// What the delivery worker needs, given by `startup` (the worker does not see the HTTP
/// layer's state).
#[derive(Clone)]
pub struct Deps {
    pub settings: Arc<Settings>,
    pub db: sqlx::PgPool,
    pub redis: redis::aio::ConnectionManager,
    pub clock: SharedClock,
}

impl Deps {
    /// A Redis key under this deployment's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.settings.redis.key_prefix)
    }
}
