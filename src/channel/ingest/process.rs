//! Running the dialogue over stored messages and recording the result, in one transaction
//! serialised per resident by advisory locks.
//!
//! [`process_many`] is the path under load: one transaction (one commit) for a whole batch.
//! If anything in it fails, the batch is undone and each message is retried on its own,
//! so one message that cannot be handled does not hold up the others. What the dialogue
//! needs from outside PostgreSQL (the encoder) it prepares before the transaction opens.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Deps;
use crate::channel::{InboundMessage, ManyOutcome, Prepared};
use crate::ticket::notify::{self, Notice, NoticeKind};

/// The outcome of processing one message.
#[derive(Debug, Clone)]
pub struct Processed {
    pub reply: String,
    pub acts: Vec<String>,
    /// The request had already given up waiting, so the reply went to the outbox.
    pub deferred: bool,
}

/// A stored message waiting to be processed, with what its channel allows in the reply.
#[derive(Debug, Clone)]
pub struct Work {
    pub msg: InboundMessage,
    pub passive_limit: Option<usize>,
}

/// The advisory-lock key that serialises one resident's messages.
pub(super) fn resident_lock(resident_id: Uuid) -> i64 {
    let b = resident_id.as_bytes();
    // The low half of a v7 UUID is random, so it spreads well.
    i64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]])
}

/// `BEGIN` and the residents' locks in one round trip (a simple query; the keys are
/// integers we format ourselves). Keys are taken in ascending order, so two batches that
/// share residents cannot deadlock.
async fn begin_locked(
    state: &Deps,
    residents: impl Iterator<Item = Uuid>,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut keys: Vec<i64> = residents.map(resident_lock).collect();
    keys.sort_unstable();
    keys.dedup();
    let list = keys
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    state
        .db
        .begin_with(format!(
            "BEGIN; SELECT pg_advisory_xact_lock(k) FROM unnest('{{{list}}}'::int8[]) AS k"
        ))
        .await
}

/// The server answered and refused this statement (a constraint, bad data, a deadlock), as
/// opposed to not being reachable: only then is retrying message by message worthwhile.
pub(super) fn refused_by_database(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(_))
}

/// Runs the dialogue for `work` and records the result, all in one transaction. `None`
/// when someone else (a recovery pass) processed it first.
pub async fn process(state: &Deps, work: &Work) -> anyhow::Result<Option<Processed>> {
    let prepared = prepare(state, std::slice::from_ref(work)).await;
    process_prepared(state, work, &prepared).await
}

async fn process_prepared(
    state: &Deps,
    work: &Work,
    prepared: &Prepared,
) -> anyhow::Result<Option<Processed>> {
    let mut done = try_many(state, std::slice::from_ref(work), prepared).await?;
    Ok(done.pop().flatten())
}

/// The dialogue's work that needs no database, done before the transaction opens: the
/// residents' locks are not held across it. Messages another pass processes meanwhile are
/// prepared for nothing, which is rare and cheaper than asking PostgreSQL first.
async fn prepare(state: &Deps, batch: &[Work]) -> Prepared {
    let msgs: Vec<InboundMessage> = batch.iter().map(|w| w.msg.clone()).collect();
    state.dialogue.prepare(&msgs).await
}

/// Processes `batch` (stored messages, in arrival order) in one transaction; the answer is
/// in the order of `batch`. Falls back to processing one by one when the batch fails.
pub async fn process_many(state: &Deps, batch: &[Work]) -> Vec<anyhow::Result<Option<Processed>>> {
    // Once for the batch, and reused by the one-by-one fallback: a failed transaction says
    // nothing about the encoder, which would otherwise be asked again per message.
    let prepared = prepare(state, batch).await;
    if batch.len() == 1 {
        return vec![process_prepared(state, &batch[0], &prepared).await];
    }
    match try_many(state, batch, &prepared).await {
        Ok(done) => done.into_iter().map(Ok).collect(),
        // PostgreSQL unreachable: retrying one by one would wait out the pool's timeout per
        // message. They are stored; the recovery worker finishes them.
        Err(e)
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(|e| !refused_by_database(e)) =>
        {
            tracing::warn!(error = %super::mask(&format!("{e:#}")), size = batch.len(),
                "batch processing failed; left for recovery");
            let text = format!("{e:#}");
            batch
                .iter()
                .map(|_| Err(anyhow::anyhow!(text.clone())))
                .collect()
        }
        Err(e) => {
            tracing::warn!(error = %super::mask(&format!("{e:#}")), size = batch.len(),
                "batch processing failed; processing its messages one by one");
            metrics::counter!("guanjia_ingest_batch_fallbacks_total").increment(1);
            let mut results = Vec::with_capacity(batch.len());
            for work in batch {
                results.push(process_prepared(state, work, &prepared).await);
            }
            results
        }
    }
}

async fn try_many(
    state: &Deps,
    batch: &[Work],
    prepared: &Prepared,
) -> anyhow::Result<Vec<Option<Processed>>> {
    let mut tx = begin_locked(state, batch.iter().map(|w| w.msg.resident_id)).await?;
    let ids: Vec<Uuid> = batch.iter().map(|w| w.msg.id).collect();
    // Its own statement, so its snapshot is taken after the locks are held. LATERAL with
    // LIMIT: an index probe per id whatever plan is cached (see store.rs).
    let pending: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT m.id FROM unnest($1::uuid[]) AS u(id)
         CROSS JOIN LATERAL (SELECT id FROM inbound_messages
                             WHERE id = u.id AND processed_at IS NULL LIMIT 1) m",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let pending: std::collections::HashSet<Uuid> = pending.into_iter().map(|(id,)| id).collect();
    // Residents in the order the batch store locks their rows (channel, external id), so
    // that a resident row updated here (the locale, the unit on record) and the next store
    // batch's upsert cannot wait on each other in a cycle. The sort is stable: one
    // resident's messages keep their order.
    let mut todo: Vec<&Work> = batch
        .iter()
        .filter(|w| pending.contains(&w.msg.id))
        .collect();
    todo.sort_by_cached_key(|w| (w.msg.channel.key(), w.msg.external_user.clone()));
    let msgs: Vec<InboundMessage> = todo.iter().map(|w| w.msg.clone()).collect();
    let ManyOutcome { outcomes, undo } =
        state.dialogue.handle_many(&mut tx, &msgs, prepared).await?;
    // Replies and after-commit jobs part ways here: the jobs are not `Sync`, so nothing that
    // holds them may be borrowed across an await.
    let (replies, jobs): (Vec<(String, Vec<String>)>, Vec<_>) = outcomes
        .into_iter()
        .map(|o| ((o.reply, o.acts), o.after_commit))
        .unzip();
    let finish = async {
        anyhow::ensure!(
            replies.len() == todo.len(),
            "the dialogue answered {} of {} messages",
            replies.len(),
            todo.len()
        );
        let pairs: Vec<(&Work, &str, &[String])> = todo
            .iter()
            .zip(&replies)
            .map(|(w, (r, a))| (*w, r.as_str(), a.as_slice()))
            .collect();
        record(&mut tx, &pairs, state.clock.now())
            .await
            .map_err(anyhow::Error::from)
    }
    .await;
    let recorded = match finish {
        Ok(r) => r,
        Err(e) => {
            if let Some(undo) = undo {
                undo.await;
            }
            return Err(e);
        }
    };
    if let Err(e) = tx.commit().await {
        // The locks went with the failed commit; the sessions are put back all the same,
        // since the messages will be stepped again.
        if let Some(undo) = undo {
            undo.await;
        }
        return Err(e.into());
    }
    let mut by_id = std::collections::HashMap::with_capacity(todo.len());
    for (((work, (reply, acts)), after_commit), deferred) in
        todo.iter().zip(replies).zip(jobs).zip(recorded)
    {
        for job in after_commit {
            job.await;
        }
        if let Some(deferred) = deferred {
            by_id.insert(
                work.msg.id,
                Processed {
                    reply,
                    acts,
                    deferred,
                },
            );
        }
    }
    Ok(batch.iter().map(|w| by_id.remove(&w.msg.id)).collect())
}

/// Marks the messages processed with their replies (one statement) and sends through the
/// outbox what cannot go in the HTTP response. Per message: `Some(deferred)` when this
/// transaction processed it, `None` when it was already processed.
async fn record(
    tx: &mut PgConnection,
    replies: &[(&Work, &str, &[String])],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Option<bool>>> {
    let ids: Vec<Uuid> = replies.iter().map(|(w, _, _)| w.msg.id).collect();
    let texts: Vec<&str> = replies.iter().map(|(_, r, _)| *r).collect();
    // One space-joined string per message: PostgreSQL arrays cannot be ragged, and act
    // names never contain a space.
    let acts: Vec<String> = replies.iter().map(|(_, _, a)| a.join(" ")).collect();
    let rows: Vec<(Uuid, bool)> = sqlx::query_as(
        "UPDATE inbound_messages m
         SET reply = ($2::text[])[array_position($1::uuid[], m.id)], processed_at = $3,
             reply_acts = COALESCE(string_to_array(
                 NULLIF(($4::text[])[array_position($1::uuid[], m.id)], ''), ' '), '{}')
         WHERE m.id = ANY($1::uuid[]) AND m.processed_at IS NULL
         RETURNING m.id, m.reply_deferred",
    )
    .bind(&ids)
    .bind(&texts)
    .bind(now)
    .bind(&acts)
    .fetch_all(&mut *tx)
    .await?;
    let deferred: std::collections::HashMap<Uuid, bool> = rows.into_iter().collect();
    let mut out = Vec::with_capacity(replies.len());
    for (work, reply, _) in replies {
        let d = deferred.get(&work.msg.id).copied();
        if let Some(d) = d {
            send_by_outbox(tx, work, reply, d, now).await?;
        }
        out.push(d);
    }
    Ok(out)
}

/// The part of a reply that cannot travel in the HTTP response goes to the outbox: all of
/// it when the request stopped waiting, else what exceeds the passive-reply limit.
async fn send_by_outbox(
    conn: &mut PgConnection,
    work: &Work,
    reply: &str,
    deferred: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let msg = &work.msg;
    if reply.is_empty() {
        return Ok(());
    }
    let (text, dedup_key) = if deferred {
        (reply, format!("reply:{}", msg.id))
    } else {
        let Some(limit) = work.passive_limit else {
            return Ok(());
        };
        let (_, rest) = crate::channel::wechat::reply::split(reply, limit);
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
