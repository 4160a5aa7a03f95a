//! The conversation with a resident: a pure state machine (`step`) whose effects are
//! executed at the edge, with sessions kept in Redis.

use std::sync::Arc;

use redis::aio::ConnectionManager;

use crate::channel::{AcknowledgeOnly, Dialogue};
use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::prompts::Prompts;
use crate::ticket::TicketQueue;

/// What the dialogue needs from the process.
pub struct Deps {
    pub settings: Arc<Settings>,
    pub redis: ConnectionManager,
    pub clock: SharedClock,
    pub prompts: Arc<Prompts>,
    pub queue: Arc<dyn TicketQueue>,
}

pub fn build(_deps: Deps) -> anyhow::Result<Arc<dyn Dialogue>> {
    Ok(Arc::new(AcknowledgeOnly))
}
