//! Timers (surveys, reminders, SLA escalation), fired by exactly one instance at a time.

use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub async fn scheduler(_state: AppState, shutdown: CancellationToken) {
    shutdown.cancelled().await;
}
