//! Group commit: requests hand their arrivals to one dispatcher, which stores and processes
//! whatever has queued up since the last batch started, a few batches at a time.
//!
//! Nothing waits on purpose: a lone message is a batch of one and goes straight through.
//! Under load, arrivals queue while the batches in flight hold PostgreSQL, so the next batch
//! is larger and the fixed cost of a round trip and a commit is shared by more messages.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;
use uuid::Uuid;

use super::process::{self, Processed, Work};
use super::store::{self, Stored, ToStore};
use super::{Arrival, Deps};
use crate::channel::InboundMessage;

/// What a request learns from its batch, in two steps: first that its message is stored
/// (only then may it be acknowledged), then the processing result.
pub struct Pending {
    pub stored: oneshot::Receiver<Result<Stored, sqlx::Error>>,
    pub processed: oneshot::Receiver<anyhow::Result<Option<Processed>>>,
}

struct Job {
    id: Uuid,
    received_at: DateTime<Utc>,
    arrival: Arrival,
    stored: oneshot::Sender<Result<Stored, sqlx::Error>>,
    processed: oneshot::Sender<anyhow::Result<Option<Processed>>>,
}

/// The requests' side of the dispatcher.
#[derive(Clone)]
pub struct Batcher {
    jobs: mpsc::Sender<Job>,
}

/// The dispatcher's side, handed to [`run`].
pub struct Jobs(mpsc::Receiver<Job>);

/// How batches are formed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many arrivals in one batch.
    pub max_batch: usize,
    /// At most this many batches in flight (each holds a database connection).
    pub in_flight: usize,
}

impl Batcher {
    pub fn new(queue: usize) -> (Self, Jobs) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        (Self { jobs: tx }, Jobs(rx))
    }

    /// Queues `arrival`; hands it back when the dispatcher is gone (the caller stores it
    /// itself).
    pub async fn submit(
        &self,
        id: Uuid,
        received_at: DateTime<Utc>,
        arrival: Arrival,
    ) -> Result<Pending, Box<Arrival>> {
        let (stored_tx, stored_rx) = oneshot::channel();
        let (processed_tx, processed_rx) = oneshot::channel();
        let job = Job {
            id,
            received_at,
            arrival,
            stored: stored_tx,
            processed: processed_tx,
        };
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job).await {
            return Err(Box::new(job.arrival));
        }
        Ok(Pending {
            stored: stored_rx,
            processed: processed_rx,
        })
    }
}

/// The dispatcher: runs until every [`Batcher`] is dropped.
pub async fn run(state: Deps, Jobs(mut rx): Jobs, limits: Limits) {
    let slots = Arc::new(Semaphore::new(limits.in_flight.max(1)));
    loop {
        // Take a slot before taking arrivals: while every slot is busy, arrivals wait in the
        // channel and make the next batch larger.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < limits.max_batch.max(1) {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let span = tracing::info_span!("ingest_batch", size = jobs.len());
        tokio::spawn(run_batch(state.clone(), jobs, slot).instrument(span));
    }
}

async fn run_batch(state: Deps, jobs: Vec<Job>, _slot: OwnedSemaphorePermit) {
    metrics::histogram!("guanjia_ingest_batch_size").record(jobs.len() as f64);
    let items: Vec<ToStore<'_>> = jobs
        .iter()
        .map(|j| ToStore {
            id: j.id,
            received_at: j.received_at,
            arrival: &j.arrival,
        })
        .collect();
    let stored: Vec<Result<Stored, sqlx::Error>> = match store::store_many(&state.db, &items).await
    {
        Ok(all) => all.into_iter().map(Ok).collect(),
        // One at a time, so an arrival PostgreSQL refuses fails alone.
        Err(e) if process::refused_by_database(&e) => {
            tracing::warn!(error = %e, size = items.len(), "batch store failed; storing one by one");
            let mut each = Vec::with_capacity(items.len());
            for item in &items {
                each.push(store::store_one(&state.db, item).await);
            }
            each
        }
        // PostgreSQL unreachable: one by one would only wait out the pool's timeout once per
        // arrival. Every request fails now (and the platform retries).
        Err(e) => {
            tracing::warn!(error = %e, size = items.len(), "batch store failed");
            let text = e.to_string();
            items
                .iter()
                .map(|_| Err(sqlx::Error::Io(std::io::Error::other(text.clone()))))
                .collect()
        }
    };
    drop(items);

    let mut work = Vec::new();
    let mut waiting = Vec::new();
    for (job, stored) in jobs.into_iter().zip(stored) {
        let Job {
            id,
            received_at,
            arrival,
            stored: stored_tx,
            processed: processed_tx,
        } = job;
        let fresh = match &stored {
            Ok(Stored {
                resident_id,
                message_id: Some(message_id),
            }) => Some(Work {
                msg: InboundMessage {
                    id: *message_id,
                    channel: arrival.channel,
                    resident_id: *resident_id,
                    external_user: arrival.external_user,
                    received_at,
                    body: arrival.body,
                },
                passive_limit: arrival.passive_limit,
            }),
            _ => None,
        };
        debug_assert!(fresh.as_ref().is_none_or(|w| w.msg.id == id));
        // The request may have gone; the message is stored and processed regardless.
        let _ = stored_tx.send(stored);
        if let Some(w) = fresh {
            work.push(w);
            waiting.push(processed_tx);
        }
    }
    if work.is_empty() {
        return;
    }
    let results = process::process_many(&state, &work).await;
    for (tx, result) in waiting.into_iter().zip(results) {
        let _ = tx.send(result);
    }
}
