//! Store first, then understand: every inbound message is written to PostgreSQL before it
//! is acknowledged, and a repeated delivery returns the first one's reply.
//!
//! The path of one message:
//! 1. [`ingest`] upserts the resident and inserts the message in one statement; the unique
//!    `(channel, dedup_key)` makes a platform retry land on the row already there.
//! 2. A new row is processed in a spawned task (it outlives a client that hangs up): one
//!    transaction, serialised per resident by an advisory lock, runs the dialogue and marks
//!    the row processed with its reply.
//! 3. The request waits for that task up to the reply budget. When the budget runs out it
//!    flags the row `reply_deferred`; the task then sends the reply through the outbox
//!    instead, in the same transaction that records it.
//! 4. [`recovery_worker`] finishes rows a crash left unprocessed, replying via the outbox.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use super::{ChannelRef, InboundMessage, MessageBody};
use crate::state::AppState;
use crate::ticket::notify::{self, Notice, NoticeKind};

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
    Reply(String),
    /// Received; any reply goes through the outbox later.
    Later,
}

/// Stores `arrival` (once, however often it is delivered) and returns what to answer,
/// within `settings.server.reply_budget`.
pub async fn ingest(state: &AppState, arrival: Arrival) -> Result<Answer, sqlx::Error> {
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
    state: &AppState,
    arrival: Arrival,
    deadline: Instant,
) -> Result<(&'static str, Answer), sqlx::Error> {
    let now = state.clock.now();
    let stored = store(&state.db, &arrival, now).await?;
    let Some(message_id) = stored.message_id else {
        let answer = await_duplicate(state, &arrival, deadline).await?;
        return Ok(("duplicate", answer));
    };
    let msg = InboundMessage {
        id: message_id,
        channel: arrival.channel.clone(),
        resident_id: stored.resident_id,
        external_user: arrival.external_user.clone(),
        received_at: now,
        body: arrival.body.clone(),
    };
    let span = tracing::info_span!(
        "inbound",
        message_id = %msg.id,
        channel = %msg.channel.key(),
        resident_id = %msg.resident_id,
        msg_type = %msg.body.type_name(),
    );
    let task = {
        let state = state.clone();
        let limit = arrival.passive_limit;
        tokio::spawn(async move { process(&state, &msg, limit).await }.instrument(span.clone()))
    };
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(Ok(Some(done)))) if !done.deferred => Ok(("processed", Answer::Reply(done.reply))),
        Ok(Ok(Ok(Some(_)))) => Ok(("deferred", Answer::Later)),
        Ok(Ok(Ok(None))) => Ok(("processed", stored_answer(state, message_id).await?)),
        Ok(Ok(Err(e))) => {
            span.in_scope(|| tracing::error!(error = %mask(&format!("{e:#}")), "processing failed; left for recovery"));
            defer(state, message_id).await.map(|a| ("failed", a))
        }
        Ok(Err(join)) => {
            span.in_scope(
                || tracing::error!(error = %join, "processing task died; left for recovery"),
            );
            defer(state, message_id).await.map(|a| ("failed", a))
        }
        Err(_) => {
            span.in_scope(|| {
                tracing::warn!("reply budget ran out; the reply goes through the outbox")
            });
            defer(state, message_id).await.map(|a| ("deferred", a))
        }
    }
}

struct Stored {
    resident_id: Uuid,
    /// `None` when the message was already there (a repeated delivery).
    message_id: Option<Uuid>,
}

/// One round trip: upsert the resident, insert the message unless it is a repeat. A repeat
/// leaves the resident's 48-hour window and send counter alone.
async fn store(
    db: &sqlx::PgPool,
    arrival: &Arrival,
    now: DateTime<Utc>,
) -> Result<Stored, sqlx::Error> {
    let payload = serde_json::json!({ "body": arrival.body, "raw": arrival.raw });
    let (resident_id, message_id): (Uuid, Option<Uuid>) = sqlx::query_as(
        "WITH seen AS (
             SELECT EXISTS (SELECT 1 FROM inbound_messages WHERE channel = $2 AND dedup_key = $6) AS repeat
         ), resident AS (
             INSERT INTO residents (id, channel, external_id, last_inbound_at, sent_since_inbound)
             VALUES ($1, $2, $3, $4, 0)
             ON CONFLICT (channel, external_id) DO UPDATE SET
                 last_inbound_at = CASE WHEN (SELECT repeat FROM seen) THEN residents.last_inbound_at
                                        ELSE EXCLUDED.last_inbound_at END,
                 sent_since_inbound = CASE WHEN (SELECT repeat FROM seen) THEN residents.sent_since_inbound
                                           ELSE 0 END
             RETURNING id
         ), message AS (
             INSERT INTO inbound_messages (id, channel, dedup_key, resident_id, msg_type, content, payload, received_at)
             SELECT $5, $2, $6, resident.id, $7, $8, $9, $4 FROM resident
             ON CONFLICT (channel, dedup_key) DO NOTHING
             RETURNING id
         )
         SELECT resident.id, message.id FROM resident LEFT JOIN message ON TRUE",
    )
    .bind(Uuid::now_v7())
    .bind(arrival.channel.key())
    .bind(&arrival.external_user)
    .bind(now)
    .bind(Uuid::now_v7())
    .bind(&arrival.dedup_key)
    .bind(arrival.body.type_name())
    .bind(arrival.body.text())
    .bind(payload)
    .fetch_one(db)
    .await?;
    Ok(Stored {
        resident_id,
        message_id,
    })
}

/// The outcome of processing one message.
struct Processed {
    reply: String,
    /// The request had already given up waiting, so the reply went to the outbox.
    deferred: bool,
}

/// Runs the dialogue for `msg` and records the result, all in one transaction. `None`
/// when someone else (a recovery pass) processed it first.
async fn process(
    state: &AppState,
    msg: &InboundMessage,
    passive_limit: Option<usize>,
) -> anyhow::Result<Option<Processed>> {
    // BEGIN and the per-resident lock travel in one round trip (a simple query; the key is
    // an integer we format ourselves). The check below is a statement of its own, so its
    // snapshot is taken after the lock is held.
    let mut tx = state
        .db
        .begin_with(format!(
            "BEGIN; SELECT pg_advisory_xact_lock({})",
            resident_lock(msg.resident_id)
        ))
        .await?;
    let pending: Option<(bool,)> =
        sqlx::query_as("SELECT processed_at IS NULL FROM inbound_messages WHERE id = $1")
            .bind(msg.id)
            .fetch_optional(&mut *tx)
            .await?;
    if !matches!(pending, Some((true,))) {
        return Ok(None);
    }
    let outcome = state.dialogue.handle(&mut tx, msg).await?;
    let now = state.clock.now();
    let row: Option<(bool,)> = sqlx::query_as(
        "UPDATE inbound_messages SET reply = $2, processed_at = $3
         WHERE id = $1 AND processed_at IS NULL
         RETURNING reply_deferred",
    )
    .bind(msg.id)
    .bind(&outcome.reply)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((deferred,)) = row else {
        return Ok(None);
    };
    send_by_outbox(&mut tx, msg, &outcome.reply, deferred, passive_limit, now).await?;
    tx.commit().await?;
    for job in outcome.after_commit {
        job.await;
    }
    tracing::debug!(deferred, reply = %mask(&outcome.reply), "processed");
    Ok(Some(Processed {
        reply: outcome.reply,
        deferred,
    }))
}

/// The part of a reply that cannot travel in the HTTP response goes to the outbox: all of
/// it when the request stopped waiting, else what exceeds the passive-reply limit.
async fn send_by_outbox(
    conn: &mut PgConnection,
    msg: &InboundMessage,
    reply: &str,
    deferred: bool,
    passive_limit: Option<usize>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if reply.is_empty() {
        return Ok(());
    }
    let (text, dedup_key) = if deferred {
        (reply, format!("reply:{}", msg.id))
    } else {
        let Some(limit) = passive_limit else {
            return Ok(());
        };
        let (_, rest) = super::wechat::reply::split(reply, limit);
        if rest.is_empty() {
            return Ok(());
        }
        (rest, format!("reply:{}:rest", msg.id))
    };
    let notice = Notice {
        kind: NoticeKind::Reply,
        ticket_id: None,
        text,
        dedup_key: Some(dedup_key),
    };
    notify::to_resident(conn, msg.resident_id, notice, now).await?;
    Ok(())
}

/// The request stops waiting. If processing has not finished, it is told to reply through
/// the outbox; if it just finished, its reply is still good to send now.
async fn defer(state: &AppState, message_id: Uuid) -> Result<Answer, sqlx::Error> {
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

async fn stored_answer(state: &AppState, message_id: Uuid) -> Result<Answer, sqlx::Error> {
    let row: Option<(Option<String>, bool)> =
        sqlx::query_as("SELECT reply, reply_deferred FROM inbound_messages WHERE id = $1")
            .bind(message_id)
            .fetch_optional(&state.db)
            .await?;
    Ok(match row {
        Some((reply, false)) => Answer::Reply(reply.unwrap_or_default()),
        _ => Answer::Later,
    })
}

/// A repeated delivery: answer what the first one answered, waiting for it within the
/// budget; never process it again.
async fn await_duplicate(
    state: &AppState,
    arrival: &Arrival,
    deadline: Instant,
) -> Result<Answer, sqlx::Error> {
    let key = arrival.channel.key();
    loop {
        let row: Option<(bool, Option<String>, bool)> = sqlx::query_as(
            "SELECT processed_at IS NOT NULL, reply, reply_deferred FROM inbound_messages
             WHERE channel = $1 AND dedup_key = $2",
        )
        .bind(&key)
        .bind(&arrival.dedup_key)
        .fetch_optional(&state.db)
        .await?;
        match row {
            Some((_, _, true)) | None => return Ok(Answer::Later),
            Some((true, reply, false)) => return Ok(Answer::Reply(reply.unwrap_or_default())),
            Some((false, _, false)) => {}
        }
        if Instant::now() + DUPLICATE_POLL >= deadline {
            return Ok(Answer::Later);
        }
        tokio::time::sleep(DUPLICATE_POLL).await;
    }
}

/// The advisory-lock key that serialises one resident's messages.
fn resident_lock(resident_id: Uuid) -> i64 {
    let b = resident_id.as_bytes();
    // The low half of a v7 UUID is random, so it spreads well.
    i64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]])
}

fn mask(text: &str) -> String {
    crate::domain::privacy::mask_phones(text)
}

/// Finishes messages that were stored but never processed (the process died mid-way, or
/// the dialogue failed). Their replies go through the outbox.
pub async fn recovery_worker(state: AppState, shutdown: CancellationToken) {
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
pub async fn recover_once(state: &AppState) -> anyhow::Result<usize> {
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
        match process(state, &msg, None).instrument(span.clone()).await {
            Ok(Some(_)) => {
                done += 1;
                metrics::counter!("guanjia_inbound_messages_total", "channel" => msg.channel.key(), "outcome" => "recovered").increment(1);
            }
            Ok(None) => {}
            Err(e) => span
                .in_scope(|| tracing::error!(error = %mask(&format!("{e:#}")), "recovery failed")),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_between_residents() {
        let a = resident_lock(Uuid::now_v7());
        let b = resident_lock(Uuid::now_v7());
        assert_ne!(a, b);
    }
}
