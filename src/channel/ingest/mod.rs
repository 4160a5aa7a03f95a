//! Store first, then understand: every inbound message is written to PostgreSQL before it
//! is acknowledged, and a repeated delivery returns the first one's reply.
//!
//! The path of one message:
//! 1. [`ingest`] hands the arrival to the [`batch`] dispatcher, which stores it together
//!    with whatever else arrived meanwhile (one statement, one commit); the unique
//!    `(channel, dedup_key)` makes a platform retry land on the row already there.
//! 2. The same batch then runs the dialogue over its new rows in one transaction,
//!    serialised per resident by advisory locks, and marks them processed with their
//!    replies ([`process`]).
//! 3. The request waits for that up to the reply budget. When the budget runs out it flags
//!    the row `reply_deferred`; processing then sends the reply through the outbox
//!    instead, in the same transaction that records it.
//! 4. [`recovery_worker`] finishes rows a crash left unprocessed, replying via the outbox.

pub mod batch;
mod process;
mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

pub use batch::{Batcher, Limits};
use process::{Processed, Work};

use super::{ChannelRef, Dialogue, InboundMessage, MessageBody};
use crate::clock::SharedClock;
use crate::configuration::Settings;

/// What storing and processing arrivals needs, given by `startup`: the doors' handlers,
/// the batch dispatcher and the recovery worker share it (and not the HTTP layer's state).
#[derive(Clone)]
pub struct Deps {
    pub settings: std::sync::Arc<Settings>,
    pub db: sqlx::PgPool,
    pub clock: SharedClock,
    pub dialogue: std::sync::Arc<dyn Dialogue>,
    /// Where arrivals are handed to be stored and processed in batches.
    pub ingest: Batcher,
}

/// How often the recovery worker looks for stranded messages.
const RECOVERY_EVERY: Duration = Duration::from_secs(3);
/// A message unprocessed for this long is considered stranded.
const STRANDED_AFTER: chrono::Duration = chrono::Duration::seconds(30);
/// After this many recovery attempts a message is left for a human to look at.
const MAX_RECOVERY_ATTEMPTS: i32 = 5;
/// How often a duplicate delivery checks whether the first one has finished.
const DUPLICATE_POLL: Duration = Duration::from_millis(25);

/// A verified, parsed message as a channel hands it over.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub channel: ChannelRef,
    pub external_user: String,
    /// Same key ⇒ same message: the platform's retries carry the same one.
    pub dedup_key: String,
    pub body: MessageBody,
    /// The platform's fields as received, kept for the record.
    pub raw: serde_json::Value,
    /// Replies longer than this many bytes are answered with their first part; the rest
    /// goes through the outbox (WeChat's passive-reply limit). `None`: no limit.
    pub passive_limit: Option<usize>,
}

/// What the channel answers now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The reply (possibly empty) to send in the HTTP response.
    Reply(Reply),
    /// Received; any reply goes through the outbox later.
    Later,
}

/// A reply's text and what it does (see [`crate::channel::Outcome::acts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub acts: Vec<String>,
}

/// Stores `arrival` (once, however often it is delivered) and returns what to answer,
/// within `settings.server.reply_budget`.
pub async fn ingest(state: &Deps, arrival: Arrival) -> Result<Answer, sqlx::Error> {
    let started = Instant::now();
    let deadline = started + state.settings.server.reply_budget;
    let channel_key = arrival.channel.key();
    let result = ingest_inner(state, arrival, deadline).await;
    let outcome = match &result {
        Ok((kind, _)) => *kind,
        Err(_) => "error",
    };
    metrics::counter!("guanjia_inbound_messages_total", "channel" => channel_key, "outcome" => outcome).increment(1);
    metrics::histogram!("guanjia_ingest_seconds").record(started.elapsed().as_secs_f64());
    result.map(|(_, answer)| answer)
}

async fn ingest_inner(
    state: &Deps,
    arrival: Arrival,
    deadline: Instant,
) -> Result<(&'static str, Answer), sqlx::Error> {
    let received_at = state.clock.now();
    let id = Uuid::now_v7();
    let (channel, dedup_key) = (arrival.channel.clone(), arrival.dedup_key.clone());
    let pending = match state.ingest.submit(id, received_at, arrival).await {
        Ok(pending) => pending,
        // No dispatcher (it only goes away with the process): store and process here.
        Err(arrival) => return ingest_alone(state, *arrival, id, received_at, deadline).await,
    };
    // Acknowledging waits for the store however long it takes: an unstored message must
    // never be answered.
    let stored = pending.stored.await.map_err(|_| {
        sqlx::Error::Protocol("the ingest dispatcher dropped a message unstored".into())
    })??;
    let Some(message_id) = stored.message_id else {
        let answer = await_duplicate(state, &channel, &dedup_key, deadline).await?;
        return Ok(("duplicate", answer));
    };
    let result = match tokio::time::timeout_at(deadline, pending.processed).await {
        Ok(Ok(r)) => Finished::Done(r),
        Ok(Err(_)) => Finished::Died,
        Err(_) => Finished::OutOfTime,
    };
    answer_from(state, message_id, result).await
}

/// Without the dispatcher: store, then process in a task of its own (it outlives a client
/// that hangs up).
async fn ingest_alone(
    state: &Deps,
    arrival: Arrival,
    id: Uuid,
    received_at: DateTime<Utc>,
    deadline: Instant,
) -> Result<(&'static str, Answer), sqlx::Error> {
    let item = store::ToStore {
        id,
        received_at,
        arrival: &arrival,
    };
    let stored = store::store_one(&state.db, &item).await?;
    let Some(message_id) = stored.message_id else {
        let answer = await_duplicate(state, &arrival.channel, &arrival.dedup_key, deadline).await?;
        return Ok(("duplicate", answer));
    };
    let work = Work {
        msg: InboundMessage {
            id: message_id,
            channel: arrival.channel,
            resident_id: stored.resident_id,
            external_user: arrival.external_user,
            received_at,
            body: arrival.body,
        },
        passive_limit: arrival.passive_limit,
    };
    let task = {
        let state = state.clone();
        tokio::spawn(async move { process::process(&state, &work).await })
    };
    let result = match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(r)) => Finished::Done(r),
        Ok(Err(_)) => Finished::Died,
        Err(_) => Finished::OutOfTime,
    };
    answer_from(state, message_id, result).await
}

/// How the wait for processing ended.
enum Finished {
    Done(anyhow::Result<Option<Processed>>),
    /// The task processing it went away without an answer.
    Died,
    /// The reply budget ran out first.
    OutOfTime,
}

async fn answer_from(
    state: &Deps,
    message_id: Uuid,
    result: Finished,
) -> Result<(&'static str, Answer), sqlx::Error> {
    let span = tracing::info_span!("inbound", message_id = %message_id);
    match result {
        Finished::Done(Ok(Some(done))) if !done.deferred => Ok((
            "processed",
            Answer::Reply(Reply {
                text: done.reply,
                acts: done.acts,
            }),
        )),
        Finished::Done(Ok(Some(_))) => Ok(("deferred", Answer::Later)),
        Finished::Done(Ok(None)) => Ok(("processed", stored_answer(state, message_id).await?)),
        Finished::Done(Err(e)) => {
            span.in_scope(|| tracing::error!(error = %mask(&format!("{e:#}")), "processing failed; left for recovery"));
            defer(state, message_id).await.map(|a| ("failed", a))
        }
        Finished::Died => {
            span.in_scope(|| tracing::error!("processing task died; left for recovery"));
            defer(state, message_id).await.map(|a| ("failed", a))
        }
        Finished::OutOfTime => {
            span.in_scope(|| {
                tracing::warn!("reply budget ran out; the reply goes through the outbox")
            });
            defer(state, message_id).await.map(|a| ("deferred", a))
        }
    }
}

/// The request stops waiting. If processing has not finished, it is told to reply through
/// the outbox; if it just finished, its reply is still good to send now.
async fn defer(state: &Deps, message_id: Uuid) -> Result<Answer, sqlx::Error> {
    let flagged: Option<(Uuid,)> = sqlx::query_as(
        "UPDATE inbound_messages SET reply_deferred = TRUE
         WHERE id = $1 AND processed_at IS NULL RETURNING id",
    )
    .bind(message_id)
    .fetch_optional(&state.db)
    .await?;
    match flagged {
        Some(_) => Ok(Answer::Later),
        None => stored_answer(state, message_id).await,
    }
}

async fn stored_answer(state: &Deps, message_id: Uuid) -> Result<Answer, sqlx::Error> {
    let row: Option<(Option<String>, Vec<String>, bool)> = sqlx::query_as(
        "SELECT reply, reply_acts, reply_deferred FROM inbound_messages WHERE id = $1",
    )
    .bind(message_id)
    .fetch_optional(&state.db)
    .await?;
    Ok(match row {
        Some((reply, acts, false)) => Answer::Reply(Reply {
            text: reply.unwrap_or_default(),
            acts,
        }),
        _ => Answer::Later,
    })
}

/// A repeated delivery: answer what the first one answered, waiting for it within the
/// budget; never process it again.
async fn await_duplicate(
    state: &Deps,
    channel: &ChannelRef,
    dedup_key: &str,
    deadline: Instant,
) -> Result<Answer, sqlx::Error> {
    let key = channel.key();
    loop {
        let row: Option<(bool, Option<String>, Vec<String>, bool)> = sqlx::query_as(
            "SELECT processed_at IS NOT NULL, reply, reply_acts, reply_deferred FROM inbound_messages
             WHERE channel = $1 AND dedup_key = $2",
        )
        .bind(&key)
        .bind(dedup_key)
        .fetch_optional(&state.db)
        .await?;
        match row {
            Some((_, _, _, true)) | None => return Ok(Answer::Later),
            Some((true, reply, acts, false)) => {
                return Ok(Answer::Reply(Reply {
                    text: reply.unwrap_or_default(),
                    acts,
                }))
            }
            Some((false, _, _, false)) => {}
        }
        if Instant::now() + DUPLICATE_POLL >= deadline {
            return Ok(Answer::Later);
        }
        tokio::time::sleep(DUPLICATE_POLL).await;
    }
}

fn mask(text: &str) -> String {
    crate::domain::privacy::mask_phones(text)
}

/// Finishes messages that were stored but never processed (the process died mid-way, or
/// the dialogue failed). Their replies go through the outbox.
pub async fn recovery_worker(state: Deps, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(RECOVERY_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                if let Err(e) = recover_once(&state).await {
                    tracing::warn!(error = %mask(&format!("{e:#}")), "inbound recovery pass failed");
                }
            }
        }
    }
}

/// A message claimed by a recovery pass.
#[derive(sqlx::FromRow)]
struct Stranded {
    id: Uuid,
    channel: String,
    resident_id: Uuid,
    received_at: DateTime<Utc>,
    payload: serde_json::Value,
    external_user: Option<String>,
}

/// One recovery pass; returns how many messages it processed.
pub async fn recover_once(state: &Deps) -> anyhow::Result<usize> {
    let cutoff = state.clock.now() - STRANDED_AFTER;
    // Claiming bumps `attempts` and flags the reply for the outbox; SKIP LOCKED keeps two
    // instances off the same rows, and the per-resident lock in `process` keeps a row
    // still being worked on from being processed twice.
    let rows: Vec<Stranded> = sqlx::query_as(
        "UPDATE inbound_messages m SET attempts = attempts + 1, reply_deferred = TRUE
         WHERE id IN (SELECT id FROM inbound_messages
                      WHERE processed_at IS NULL AND received_at < $1 AND attempts < $2
                      ORDER BY received_at LIMIT 50 FOR UPDATE SKIP LOCKED)
         RETURNING id, channel, resident_id, received_at, payload,
                   (SELECT external_id FROM residents r WHERE r.id = m.resident_id) AS external_user",
    )
    .bind(cutoff)
    .bind(MAX_RECOVERY_ATTEMPTS)
    .fetch_all(&state.db)
    .await?;
    let mut done = 0;
    for Stranded {
        id,
        channel,
        resident_id,
        received_at,
        payload,
        external_user,
    } in rows
    {
        let span = tracing::info_span!("inbound_recovery", message_id = %id, channel = %channel, resident_id = %resident_id);
        let parsed = ChannelRef::parse_key(&channel).zip(
            payload
                .get("body")
                .and_then(|b| serde_json::from_value::<MessageBody>(b.clone()).ok()),
        );
        let Some((channel, body)) = parsed else {
            span.in_scope(|| tracing::error!("stored message cannot be read back; skipped"));
            continue;
        };
        let msg = InboundMessage {
            id,
            channel,
            resident_id,
            external_user: external_user.unwrap_or_default(),
            received_at,
            body,
        };
        let work = Work {
            msg,
            passive_limit: None,
        };
        match process::process(state, &work)
            .instrument(span.clone())
            .await
        {
            Ok(Some(_)) => {
                done += 1;
                metrics::counter!("guanjia_inbound_messages_total", "channel" => work.msg.channel.key(), "outcome" => "recovered").increment(1);
            }
            Ok(None) => {}
            Err(e) => span
                .in_scope(|| tracing::error!(error = %mask(&format!("{e:#}")), "recovery failed")),
        }
    }
    Ok(done)
}
