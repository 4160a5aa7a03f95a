//! Writing arrivals down: the durable step before anything is acknowledged.
//!
//! Under load arrivals are stored many at a time ([`store_many`]): one statement and one
//! commit for the lot, which is what lets PostgreSQL keep up (a commit and a round trip per
//! message were most of the cost per message). [`store_one`] is a batch of one, used when a
//! batch fails so that one bad arrival cannot sink the others. A repeat leaves the
//! resident's 48-hour window and send counter alone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Arrival;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub resident_id: Uuid,
    /// `None` when the message was already there (a repeated delivery).
    pub message_id: Option<Uuid>,
}

/// An arrival with the id and time it is stored under.
pub struct ToStore<'a> {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub arrival: &'a Arrival,
}

fn payload(arrival: &Arrival) -> serde_json::Value {
    serde_json::json!({ "body": arrival.body, "raw": arrival.raw })
}

/// [`store_many`] for one arrival: the batch-of-one a failed batch falls back to.
pub async fn store_one(db: &sqlx::PgPool, item: &ToStore<'_>) -> Result<Stored, sqlx::Error> {
    let mut stored = store_many(db, std::slice::from_ref(item)).await?;
    stored
        .pop()
        .ok_or_else(|| sqlx::Error::Protocol("the store returned no row".into()))
}

/// Stores every arrival in one statement (one durable commit). The answer is in the order
/// of `items`. Semantics match [`store_one`] applied in order: a repeat — of a stored
/// message or of an earlier item in the same batch — is stored once and reported with
/// `message_id: None`.
pub async fn store_many(
    db: &sqlx::PgPool,
    items: &[ToStore<'_>],
) -> Result<Vec<Stored>, sqlx::Error> {
    // Repeats inside the batch never reach PostgreSQL: an upsert may not touch one row twice
    // in a statement, and the first copy decides the answer anyway.
    let mut first_of: HashMap<(String, &str), usize> = HashMap::new();
    let mut repeat_of: Vec<Option<usize>> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = (item.arrival.channel.key(), item.arrival.dedup_key.as_str());
        match first_of.get(&key) {
            Some(&first) => repeat_of.push(Some(first)),
            None => {
                first_of.insert(key, i);
                repeat_of.push(None);
            }
        }
    }
    // Residents (and below, messages) in a fixed order, so two batches that share rows or
    // keys — a platform retry landing in another batch — lock them in the same order
    // instead of deadlocking.
    let mut residents: Vec<(String, &str)> = items
        .iter()
        .map(|i| (i.arrival.channel.key(), i.arrival.external_user.as_str()))
        .collect();
    residents.sort();
    residents.dedup();
    let r_ids: Vec<Uuid> = residents.iter().map(|_| Uuid::now_v7()).collect();
    let (r_channel, r_external): (Vec<String>, Vec<String>) = residents
        .iter()
        .map(|(c, e)| (c.clone(), (*e).to_owned()))
        .unzip();

    let firsts: Vec<&ToStore<'_>> = items
        .iter()
        .zip(&repeat_of)
        .filter(|(_, r)| r.is_none())
        .map(|(i, _)| i)
        .collect();
    let m_id: Vec<Uuid> = firsts.iter().map(|i| i.id).collect();
    let m_channel: Vec<String> = firsts.iter().map(|i| i.arrival.channel.key()).collect();
    let m_external: Vec<&str> = firsts
        .iter()
        .map(|i| i.arrival.external_user.as_str())
        .collect();
    let m_dedup: Vec<&str> = firsts
        .iter()
        .map(|i| i.arrival.dedup_key.as_str())
        .collect();
    let m_type: Vec<&str> = firsts.iter().map(|i| i.arrival.body.type_name()).collect();
    let m_content: Vec<Option<&str>> = firsts.iter().map(|i| i.arrival.body.text()).collect();
    let m_payload: Vec<serde_json::Value> = firsts.iter().map(|i| payload(i.arrival)).collect();
    let m_received: Vec<DateTime<Utc>> = firsts.iter().map(|i| i.received_at).collect();

    // `fresh` finds, per resident, the newest message that is not a repeat; only those
    // residents get their 48-hour window restarted (NULL in the insert means "leave it").
    // The repeat check is a LATERAL probe with a LIMIT so that it is always an index lookup
    // per message: as an anti-join, a plan cached while the table was small would hash it
    // and read the whole table for every batch.
    let rows: Vec<(Uuid, Uuid, bool)> = sqlx::query_as(
        "WITH m_in AS (
             SELECT * FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
                                  $9::text[], $10::jsonb[], $11::timestamptz[])
                 AS m(id, channel, external_id, dedup_key, msg_type, content, payload, received_at)
         ), fresh AS (
             SELECT m.channel, m.external_id, max(m.received_at) AS at FROM m_in m
             LEFT JOIN LATERAL (SELECT 1 AS found FROM inbound_messages x
                                WHERE x.channel = m.channel AND x.dedup_key = m.dedup_key
                                LIMIT 1) seen ON TRUE
             WHERE seen.found IS NULL
             GROUP BY m.channel, m.external_id
         ), resident AS (
             INSERT INTO residents (id, channel, external_id, last_inbound_at, sent_since_inbound)
             SELECT r.id, r.channel, r.external_id, f.at, 0
             FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS r(id, channel, external_id, ord)
             LEFT JOIN fresh f ON f.channel = r.channel AND f.external_id = r.external_id
             ORDER BY r.ord
             ON CONFLICT (channel, external_id) DO UPDATE SET
                 last_inbound_at = COALESCE(EXCLUDED.last_inbound_at, residents.last_inbound_at),
                 sent_since_inbound = CASE WHEN EXCLUDED.last_inbound_at IS NULL
                                           THEN residents.sent_since_inbound ELSE 0 END
             RETURNING id, channel, external_id
         ), message AS (
             INSERT INTO inbound_messages (id, channel, dedup_key, resident_id, msg_type, content, payload, received_at)
             SELECT m.id, m.channel, m.dedup_key, r.id, m.msg_type, m.content, m.payload, m.received_at
             FROM m_in m JOIN resident r ON r.channel = m.channel AND r.external_id = m.external_id
             ORDER BY m.channel, m.dedup_key
             ON CONFLICT (channel, dedup_key) DO NOTHING
             RETURNING id
         )
         SELECT m.id, r.id, EXISTS (SELECT 1 FROM message x WHERE x.id = m.id)
         FROM m_in m JOIN resident r ON r.channel = m.channel AND r.external_id = m.external_id",
    )
    .bind(&r_ids)
    .bind(&r_channel)
    .bind(&r_external)
    .bind(&m_id)
    .bind(&m_channel)
    .bind(&m_external)
    .bind(&m_dedup)
    .bind(&m_type)
    .bind(&m_content)
    .bind(&m_payload)
    .bind(&m_received)
    .fetch_all(db)
    .await?;

    let by_id: HashMap<Uuid, Stored> = rows
        .into_iter()
        .map(|(id, resident_id, inserted)| {
            let message_id = inserted.then_some(id);
            (
                id,
                Stored {
                    resident_id,
                    message_id,
                },
            )
        })
        .collect();
    items
        .iter()
        .zip(&repeat_of)
        .map(|(item, repeat)| {
            let first = repeat.map_or(item.id, |f| items[f].id);
            let stored = by_id.get(&first).copied().ok_or_else(|| {
                sqlx::Error::Protocol(format!("batch store returned no row for message {first}"))
            })?;
            Ok(match repeat {
                Some(_) => Stored {
                    message_id: None,
                    ..stored
                },
                None => stored,
            })
        })
        .collect()
}
