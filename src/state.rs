//! What every request handler and worker shares. Built once by `startup`.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use redis::aio::ConnectionManager;
use sqlx::PgPool;

use crate::channel::Dialogue;
use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::prompts::Prompts;
use crate::ticket::{TicketContext, TicketQueue};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: PgPool,
    pub redis: ConnectionManager,
    pub clock: SharedClock,
    pub prompts: Arc<Prompts>,
    pub dialogue: Arc<dyn Dialogue>,
    pub queue: Arc<dyn TicketQueue>,
    pub metrics: PrometheusHandle,
    /// What the doors hand their arrivals to: the batcher and what storing and
    /// processing need.
    pub ingest: crate::channel::ingest::Deps,
    /// Cancelled when the server begins to stop: long-lived responses (the console's event
    /// streams) end early instead of holding the shutdown up.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl AppState {
    /// A Redis key under this deployment's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.settings.redis.key_prefix)
    }

    /// The department queues, for the handlers that claim and list.
    pub fn queues(&self) -> crate::queue::Queues {
        crate::queue::Queues::new(self.redis.clone(), self.ticket_context())
    }

    pub fn ticket_context(&self) -> TicketContext {
        TicketContext {
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            prompts: self.prompts.clone(),
            db: self.db.clone(),
        }
    }
}
