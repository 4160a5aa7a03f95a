//! The loop that drains the outbox. Any number of instances may run it: rows are claimed
//! under a lease (see `outbox`), sent, then marked delivered, retried with backoff, or
//! failed after `delivery.max_attempts`.

use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::backoff;
use super::failure::Failure;
use super::outbox::{self, Claimed};
use super::route;
use crate::state::AppState;

/// Rows taken per claim.
const BATCH: i64 = 16;
/// Messages of one batch sent at the same time.
const PARALLEL: usize = 8;
/// How long a claimed row stays out of other workers' reach. Longer than the worst send
/// (a token fetch plus two API calls, each bounded by `http_timeout`).
const LEASE: Duration = Duration::from_secs(60);

pub async fn worker(state: AppState, shutdown: CancellationToken) {
    let http = match http_client(&state) {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "delivery worker cannot build its HTTP client");
            return;
        }
    };
    let idle = state.settings.delivery.poll_every;
    while !shutdown.is_cancelled() {
        let pause = match run_batch(&state, &http).await {
            Ok(n) if n as i64 == BATCH => Duration::ZERO,
            Ok(_) => idle,
            Err(e) => {
                tracing::warn!(error = %e, "delivery pass failed");
                idle.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

pub fn http_client(state: &AppState) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(state.settings.delivery.http_timeout)
        .connect_timeout(state.settings.delivery.http_timeout)
        .build()
}

/// Claims and sends one batch; returns how many rows it took.
pub async fn run_batch(state: &AppState, http: &reqwest::Client) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let lease = chrono::Duration::from_std(LEASE)?;
    let rows = outbox::claim(&state.db, now, now + lease, BATCH).await?;
    let n = rows.len();
    futures::stream::iter(rows)
        .for_each_concurrent(PARALLEL, |row| async move {
            let result = route::deliver(state, http, &row).await;
            if let Err(e) = settle(state, &row, result).await {
                tracing::warn!(outbox = %row.id, error = %e, "could not record a delivery result");
            }
        })
        .await;
    Ok(n)
}

async fn settle(
    state: &AppState,
    row: &Claimed,
    result: Result<(), Failure>,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let settings = &state.settings.delivery;
    let kind = row.kind.clone();
    match result {
        Ok(()) => {
            outbox::mark_delivered(&state.db, row, now).await?;
            metrics::counter!("guanjia_outbox_delivered_total", "kind" => kind).increment(1);
        }
        Err(Failure::Retry(e)) if row.attempts >= settings.max_attempts => {
            outbox::mark_failed(&state.db, row, &e).await?;
            metrics::counter!("guanjia_outbox_failed_total", "reason" => "exhausted").increment(1);
            tracing::error!(outbox = %row.id, attempts = row.attempts, error = %e, "message failed after its last attempt");
        }
        Err(Failure::Retry(e)) => {
            let jitter = rand::thread_rng().gen::<f64>();
            let wait = backoff::delay(
                row.attempts,
                settings.backoff_base,
                settings.backoff_max,
                jitter,
            );
            outbox::mark_retry(&state.db, row, now + chrono::Duration::from_std(wait)?, &e).await?;
            metrics::counter!("guanjia_outbox_retries_total").increment(1);
            tracing::info!(outbox = %row.id, attempts = row.attempts, ?wait, error = %e, "delivery will be retried");
        }
        Err(Failure::Permanent(e)) => {
            outbox::mark_failed(&state.db, row, &e).await?;
            metrics::counter!("guanjia_outbox_failed_total", "reason" => "unreachable")
                .increment(1);
            tracing::warn!(outbox = %row.id, error = %e, "recipient unreachable, message failed");
        }
        Err(Failure::Config(e)) => {
            outbox::mark_failed(&state.db, row, &e).await?;
            metrics::counter!("guanjia_outbox_failed_total", "reason" => "configuration")
                .increment(1);
            metrics::counter!("guanjia_delivery_alerts_total", "reason" => "configuration")
                .increment(1);
            tracing::error!(outbox = %row.id, error = %e, "ALERT: delivery configuration error, message failed");
        }
        Err(Failure::Paused { for_, reason }) => {
            outbox::postpone(
                &state.db,
                row,
                now + chrono::Duration::from_std(for_)?,
                &reason,
            )
            .await?;
        }
    }
    Ok(())
}
