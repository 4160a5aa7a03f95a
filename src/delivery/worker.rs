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
use super::Deps;

/// Rows taken per claim.
const BATCH: i64 = 24;
/// Messages of one batch sent at the same time.
const PARALLEL: usize = 8;
/// Claim–send–record loops run side by side (`lane`), so up to `LANES × PARALLEL`
/// messages are in flight. On the survey dispatch benchmark (BENCHMARKS.md; shared
/// machine, load 4.7–6.5) batch/parallel 16/8 with one lane delivered 1,130–1,690 msg/s,
/// 16/8 with two 2,075–2,950, 24/8 with two 4,016–4,902. More at once than 16 connections
/// made the benchmark's receiver drop connection attempts (its listen backlog is 5).
const LANES: usize = 2;
/// How long a claimed row stays out of other workers' reach. Longer than the worst
/// batch: `BATCH / PARALLEL` = 3 sends one after another in a slot, each a token fetch
/// plus two API calls bounded by `http_timeout` (3 × 3 × 5 s = 45 s by default), since
/// deliveries are recorded only when the whole batch is done.
const LEASE: Duration = Duration::from_secs(60);

pub async fn worker(state: Deps, shutdown: CancellationToken) {
    let http = match http_client(&state) {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "delivery worker cannot build its HTTP client");
            return;
        }
    };
    let lanes = (0..LANES).map(|_| lane(&state, &http, &shutdown));
    futures::future::join_all(lanes).await;
}

/// One claim–send–record loop. Several run side by side so that one batch's slowest
/// send, and its claim and record round trips, do not leave the others idle; they share
/// nothing but the table, where leases keep them apart as they keep instances apart.
async fn lane(state: &Deps, http: &reqwest::Client, shutdown: &CancellationToken) {
    let idle = state.settings.delivery.poll_every;
    while !shutdown.is_cancelled() {
        let pause = match run_batch(state, http).await {
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

pub fn http_client(state: &Deps) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(state.settings.delivery.http_timeout)
        .connect_timeout(state.settings.delivery.http_timeout)
        .build()
}

/// Claims and sends one batch; returns how many rows it took. Deliveries are recorded
/// together once the batch is sent (one statement instead of one per message); anything
/// else is recorded as it happens.
pub async fn run_batch(state: &Deps, http: &reqwest::Client) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let rows = outbox::claim(&state.db, now, LEASE, BATCH).await?;
    let n = rows.len();
    let delivered: Vec<Claimed> = futures::stream::iter(rows)
        .map(|row| async move {
            match route::deliver(state, http, &row).await {
                Ok(()) => Some(row),
                Err(failure) => {
                    if let Err(e) = settle(state, &row, failure).await {
                        tracing::warn!(outbox = %row.id, error = %e, "could not record a delivery result");
                    }
                    None
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .filter_map(std::future::ready)
        .collect()
        .await;
    if !delivered.is_empty() {
        // If this fails the rows go out again when their lease ends, under the same
        // idempotency id, as when recording a single delivery failed.
        match outbox::mark_all_delivered(&state.db, &delivered, state.clock.now()).await {
            Ok(_) => {
                for row in delivered {
                    metrics::counter!("guanjia_outbox_delivered_total", "kind" => row.kind)
                        .increment(1);
                }
            }
            Err(e) => {
                tracing::warn!(rows = delivered.len(), error = %e, "could not record deliveries")
            }
        }
    }
    Ok(n)
}

/// Records a send that did not succeed: retry later, fail, or postpone.
async fn settle(state: &Deps, row: &Claimed, failure: Failure) -> anyhow::Result<()> {
    let now = state.clock.now();
    let settings = &state.settings.delivery;
    match failure {
        Failure::Retry(e) if row.attempts >= settings.max_attempts => {
            outbox::mark_failed(&state.db, row, &e).await?;
            metrics::counter!("guanjia_outbox_failed_total", "reason" => "exhausted").increment(1);
            tracing::error!(outbox = %row.id, attempts = row.attempts, error = %e, "message failed after its last attempt");
        }
        Failure::Retry(e) => {
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
        Failure::Permanent(e) => {
            outbox::mark_failed(&state.db, row, &e).await?;
            metrics::counter!("guanjia_outbox_failed_total", "reason" => "unreachable")
                .increment(1);
            tracing::warn!(outbox = %row.id, error = %e, "recipient unreachable, message failed");
        }
        Failure::Config(e) => {
            outbox::mark_failed(&state.db, row, &e).await?;
            metrics::counter!("guanjia_outbox_failed_total", "reason" => "configuration")
                .increment(1);
            metrics::counter!("guanjia_delivery_alerts_total", "reason" => "configuration")
                .increment(1);
            tracing::error!(outbox = %row.id, error = %e, "ALERT: delivery configuration error, message failed");
        }
        Failure::Paused { for_, reason } => {
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
