//! Department queues in Redis, ordered by urgency, due time and age; atomic claims.
//! PostgreSQL stays the truth: queues are reconciled from it.
//!
//! `keys` names and orders, `store` is the Redis side (Lua scripts), `claim` joins a Redis
//! claim with the database update, `reconcile` rebuilds Redis from PostgreSQL and returns
//! expired leases to the queue.

pub mod claim;
pub mod keys;
pub mod reconcile;
pub mod store;

use std::sync::Arc;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::ticket::{Ticket, TicketQueue};

pub use claim::{ClaimError, Queues};
pub use reconcile::{expire_leases, reconcile};
pub use store::Store;

/// The queue the rest of the process pushes new tickets into.
pub fn build(
    settings: &Settings,
    redis: ConnectionManager,
    _db: PgPool,
    _clock: SharedClock,
) -> Arc<dyn TicketQueue> {
    Arc::new(RedisQueue {
        store: Store::new(redis, &settings.redis.key_prefix),
    })
}

pub struct RedisQueue {
    store: Store,
}

#[async_trait]
impl TicketQueue for RedisQueue {
    /// Keeps the ticket's department queue in step with its status (idempotent): a waiting
    /// ticket is added, a finished one (cancelled, closed) is taken out, and a held one is
    /// left alone, so callers may push after any change.
    async fn push(&self, ticket: &Ticket) -> anyhow::Result<()> {
        if ticket.status.is_queued() {
            self.store.push(ticket).await?;
        } else if !ticket.status.is_open() {
            let (d, id) = (ticket.department, ticket.id.to_string());
            self.store.remove(d, &id).await?;
            self.store.forget_holder(d, &id).await?;
        }
        Ok(())
    }
}

/// Rebuilds the queues from the database at start and every `queue.reconcile_every`, and
/// returns tickets whose claim lease ran out.
pub async fn reconciler(queues: Queues, shutdown: CancellationToken) {
    let every = queues.ctx.settings.queue.reconcile_every;
    loop {
        match reconcile(&queues).await {
            Ok(r) if r.added + r.removed > 0 => {
                tracing::info!(added = r.added, removed = r.removed, "queues reconciled")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("queue reconciliation failed: {e:#}"),
        }
        match expire_leases(&queues).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(returned = n, "expired claim leases"),
            Err(e) => tracing::warn!("lease expiry failed: {e:#}"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
