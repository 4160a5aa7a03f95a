//! The outbox table as the delivery worker sees it: claim due rows under a short lease,
//! then record what became of each.
//!
//! A claim is one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, committed
//! at once: the row lock lasts only that statement, so no worker holds a lock across a slow
//! HTTP call, and the lease (`leased_until`, in the database's wall-clock time, and
//! `attempts + 1`) keeps every other instance away from the row while it is being sent.
//! The lease is wall-clock time, not the service's clock: a clock that jumps ahead (a
//! test's, a stepped system clock) must not end a send that is still going on.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// One claimed message, with what is needed to address it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub recipient_kind: String,
    pub resident_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    pub kind: String,
    pub text: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// The ticket's number, read with the claim.
    pub ticket_number: Option<String>,
    /// The resident's row, read with the claim (all `None` when there is no resident, or
    /// no longer one): two look-ups per message fewer.
    pub resident_channel: Option<String>,
    pub resident_external_id: Option<String>,
    pub resident_subscribed: Option<bool>,
    pub resident_last_inbound_at: Option<DateTime<Utc>>,
    pub resident_sent_since_inbound: Option<i32>,
}

impl Claimed {
    /// The resident as read with the claim, `None` if the row is gone.
    pub fn recipient(&self) -> Option<Recipient> {
        Some(Recipient {
            id: self.resident_id?,
            channel: self.resident_channel.clone()?,
            external_id: self.resident_external_id.clone()?,
            subscribed: self.resident_subscribed?,
            last_inbound_at: self.resident_last_inbound_at,
            sent_since_inbound: self.resident_sent_since_inbound?,
        })
    }
}

/// Claims up to `limit` messages due by `now` for `lease` of wall-clock time, with their ticket number and
/// resident. What is read alongside is as of the claim: the WeChat allowance
/// (`sent_since_inbound`) may be one batch out of date, as it already was for messages of
/// a batch sent at the same time; a send past the allowance is refused by WeChat (45047)
/// and goes out as a template instead (`route`).
pub async fn claim(
    db: &PgPool,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as(
        "WITH claimed AS (
             UPDATE outbox SET attempts = attempts + 1,
                    leased_until = clock_timestamp() + make_interval(secs => $2)
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'pending' AND next_attempt_at <= $1
                   AND (leased_until IS NULL OR leased_until <= clock_timestamp())
                 ORDER BY next_attempt_at
                 LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, recipient_kind, resident_id, staff_id, ticket_id, kind, text,
                       attempts, created_at)
         SELECT c.*, t.number AS ticket_number, r.channel AS resident_channel,
                r.external_id AS resident_external_id, r.subscribed AS resident_subscribed,
                r.last_inbound_at AS resident_last_inbound_at,
                r.sent_since_inbound AS resident_sent_since_inbound
         FROM claimed c
         LEFT JOIN tickets t ON t.id = c.ticket_id
         LEFT JOIN residents r ON r.id = c.resident_id",
    )
    .bind(now)
    .bind(lease.as_secs_f64())
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Records the deliveries of `rows` in one statement; returns how many it marked. Guarded
/// by `attempts` so a worker whose lease ran out cannot overwrite what a later claim
/// decided.
pub async fn mark_all_delivered(
    db: &PgPool,
    rows: &[Claimed],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let attempts: Vec<i32> = rows.iter().map(|r| r.attempts).collect();
    let done = sqlx::query(
        "UPDATE outbox o SET status = 'delivered', delivered_at = $3, last_error = NULL
         FROM UNNEST($1::uuid[], $2::int4[]) AS d (id, attempts)
         WHERE o.id = d.id AND o.status = 'pending' AND o.attempts = d.attempts",
    )
    .bind(&ids)
    .bind(&attempts)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Puts the message back for another try at `at`.
pub async fn mark_retry(
    db: &PgPool,
    row: &Claimed,
    at: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $2, last_error = $3, leased_until = NULL
         WHERE id = $1 AND status = 'pending' AND attempts = $4",
    )
    .bind(row.id)
    .bind(at)
    .bind(error)
    .bind(row.attempts)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts the message back without counting the attempt (the channel is paused, nothing was
/// tried).
pub async fn postpone(
    db: &PgPool,
    row: &Claimed,
    at: DateTime<Utc>,
    why: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $2, last_error = $3, attempts = attempts - 1,
                leased_until = NULL
         WHERE id = $1 AND status = 'pending' AND attempts = $4",
    )
    .bind(row.id)
    .bind(at)
    .bind(why)
    .bind(row.attempts)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives up on the message; staff see it with its last error.
pub async fn mark_failed(db: &PgPool, row: &Claimed, error: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = $2
         WHERE id = $1 AND status = 'pending' AND attempts = $3",
    )
    .bind(row.id)
    .bind(error)
    .bind(row.attempts)
    .execute(db)
    .await?;
    Ok(())
}

/// The resident a message goes to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub id: Uuid,
    pub channel: String,
    pub external_id: String,
    pub subscribed: bool,
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub sent_since_inbound: i32,
}

/// Counts a customer-service message against the resident's allowance.
pub async fn count_sent(db: &PgPool, resident_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE residents SET sent_since_inbound = sent_since_inbound + 1 WHERE id = $1")
        .bind(resident_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The platform said the resident can no longer be reached (unfollowed).
pub async fn mark_unsubscribed(db: &PgPool, resident_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE residents SET subscribed = FALSE WHERE id = $1")
        .bind(resident_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A staff member an alert goes to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRecipient {
    pub id: Uuid,
    pub name: String,
    pub wecom_user: Option<String>,
}

pub async fn staff(db: &PgPool, id: Uuid) -> sqlx::Result<Option<StaffRecipient>> {
    sqlx::query_as("SELECT id, name, wecom_user FROM staff WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}
