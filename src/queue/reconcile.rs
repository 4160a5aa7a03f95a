//! Rebuilding Redis from PostgreSQL, and returning tickets whose claim lease ran out.
//!
//! After a reconciliation every ticket the database says is waiting is in its queue exactly
//! once (a sorted set cannot hold a member twice), and nothing else is: claimed, finished or
//! unknown members are removed, and the holders hash matches the database's assignees.

use std::collections::HashSet;

use uuid::Uuid;

use super::claim::Queues;
use super::keys;
use crate::ticket::notify::{self, Notice, NoticeKind};
use crate::ticket::repository::Actor;
use crate::ticket::{lifecycle, Department, Status, Urgency};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    pub added: u64,
    pub removed: u64,
}

/// Reconciles every department's queue with the database.
pub async fn reconcile(q: &Queues) -> anyhow::Result<Reconciled> {
    let mut total = Reconciled::default();
    for &d in Department::ALL {
        let r = reconcile_department(q, d).await?;
        total.added += r.added;
        total.removed += r.removed;
    }
    Ok(total)
}

async fn reconcile_department(q: &Queues, d: Department) -> anyhow::Result<Reconciled> {
    // Holders first: a stale holder would keep a waiting ticket out of the queue below.
    let holders = q.store.holders(d).await?;
    let held: Vec<(Uuid, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT id, assignee, status FROM tickets WHERE department = $1
           AND status = ANY($2)",
    )
    .bind(d)
    .bind(Status::HELD)
    .fetch_all(&q.db)
    .await?;
    let held_ids: HashSet<String> = held.iter().map(|(id, _, _)| id.to_string()).collect();
    for (ticket, holder) in &holders {
        if !held_ids.contains(ticket) {
            q.store.drop_holder(d, ticket, holder).await?;
        }
    }
    for (id, assignee, _) in &held {
        if let Some(a) = assignee {
            if holders.get(&id.to_string()) != Some(&a.to_string()) {
                q.store.set_holder(d, *id, *a).await?;
            }
        }
    }

    let waiting: Vec<(Uuid, Urgency, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT id, urgency, due_at FROM tickets WHERE department = $1
           AND status = ANY($2)",
    )
    .bind(d)
    .bind(Status::QUEUED)
    .fetch_all(&q.db)
    .await?;
    let items: Vec<(Uuid, f64)> = waiting
        .iter()
        .map(|(id, urgency, due)| (*id, keys::score(*urgency, *due)))
        .collect();
    let added = q.store.add_unless_held(d, &items).await?;

    let wanted: HashSet<String> = waiting.iter().map(|(id, _, _)| id.to_string()).collect();
    let candidates: Vec<String> = q
        .store
        .members(d)
        .await?
        .into_iter()
        .filter(|m| !wanted.contains(m))
        .collect();
    let mut removed = 0;
    if !candidates.is_empty() {
        // Ask again: a ticket released since the read above is rightly in the queue.
        let ids: Vec<Uuid> = candidates
            .iter()
            .filter_map(|m| Uuid::parse_str(m).ok())
            .collect();
        let still: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM tickets WHERE id = ANY($1) AND department = $2
               AND status = ANY($3)",
        )
        .bind(&ids)
        .bind(d)
        .bind(Status::QUEUED)
        .fetch_all(&q.db)
        .await?;
        let still: HashSet<String> = still.iter().map(|(id,)| id.to_string()).collect();
        for m in candidates.iter().filter(|m| !still.contains(*m)) {
            q.store.remove(d, m).await?;
            removed += 1;
        }
    }
    Ok(Reconciled { added, removed })
}

/// Returns to the queue every claim not started within `queue.lease`, and tells the
/// department's supervisor. For the reconciler loop or the scheduler; returns the count.
pub async fn expire_leases(q: &Queues) -> anyhow::Result<u64> {
    let state = &q.ctx;
    let now = state.clock.now();
    let due: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM tickets WHERE status = $2 AND lease_expires_at <= $1
         ORDER BY lease_expires_at LIMIT 500",
    )
    .bind(now)
    .bind(Status::Claimed)
    .fetch_all(&state.db)
    .await?;
    let mut returned = 0;
    for (id,) in due {
        let mut tx = state.db.begin().await?;
        // Re-read under lock: it may have been started or released meanwhile.
        let row: Option<(String, String, Option<Uuid>)> = sqlx::query_as(
            "SELECT number, department, assignee FROM tickets
             WHERE id = $1 AND status = $3 AND lease_expires_at <= $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(id)
        .bind(now)
        .bind(Status::Claimed)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((number, department, assignee)) = row else {
            continue;
        };
        let holder = match assignee {
            Some(a) => lifecycle::staff_brief(&mut tx, a)
                .await
                .map(|s| s.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let lease =
            humantime::format_duration(state.settings.queue.lease.to_std().unwrap_or_default())
                .to_string();
        let ticket = lifecycle::transition(
            &mut tx,
            &q.ctx,
            id,
            Actor::System,
            Status::Queued,
            Some(&format!("lease of {lease} expired")),
        )
        .await?;
        let supervisor: Option<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM staff WHERE department = $1 AND role = 'supervisor' AND active
             ORDER BY created_at LIMIT 1",
        )
        .bind(&department)
        .fetch_optional(&mut *tx)
        .await?;
        let locale = state.settings.locale.default;
        let text = state.prompts.render(
            locale,
            "ticket.lease_expired",
            &[
                ("number", &number),
                ("staff", &holder),
                ("department", &department),
            ],
        );
        let claimed_at = ticket.updated_at.timestamp_millis();
        notify::to_staff(
            &mut tx,
            supervisor.map(|(s,)| s),
            Notice {
                kind: NoticeKind::Alert,
                ticket_id: Some(id),
                text: &text,
                dedup_key: Some(format!("lease:{id}:{claimed_at}")),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        q.after_change(&ticket).await;
        returned += 1;
    }
    Ok(returned)
}
