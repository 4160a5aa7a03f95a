//! Claims (抢单): Redis decides who gets a ticket first, atomically; PostgreSQL then records
//! it under a status guard, so the database stays the truth even if Redis misbehaves. When
//! the database refuses or fails, Redis is put back the way the database says.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::store::{Named, Store};
use crate::ticket::lifecycle::{self, TransitionError};
use crate::ticket::repository::{self, Actor, Event};
use crate::ticket::{Department, Status, Ticket, TicketContext};

/// Claims fail the way transitions do: `HeldByOther` (409), `Illegal` (409), `NotFound`.
pub type ClaimError = TransitionError;

/// How many stray members (queued in Redis, no longer waiting in the database) one
/// claim-first request skips before it gives up for this time.
const MAX_STRAYS: usize = 64;

/// Queue operations over Redis and PostgreSQL together.
#[derive(Clone)]
pub struct Queues {
    pub store: Store,
    pub db: PgPool,
    pub ctx: TicketContext,
}

impl Queues {
    /// The queues under this deployment's Redis prefix, with what ticket moves need.
    pub fn new(redis: redis::aio::ConnectionManager, ctx: TicketContext) -> Self {
        Self {
            store: Store::new(redis, &ctx.settings.redis.key_prefix),
            db: ctx.db.clone(),
            ctx,
        }
    }

    /// The department's waiting tickets in the order they should be taken.
    pub async fn list(&self, d: Department) -> anyhow::Result<Vec<Ticket>> {
        let ids: Vec<Uuid> = self
            .store
            .members(d)
            .await?
            .iter()
            .filter_map(|m| Uuid::parse_str(m).ok())
            .collect();
        let rows: Vec<Ticket> =
            sqlx::query_as("SELECT * FROM tickets WHERE id = ANY($1) AND status = ANY($2)")
                .bind(&ids)
                .bind(Status::QUEUED)
                .fetch_all(&self.db)
                .await?;
        let mut by_id: HashMap<Uuid, Ticket> = rows.into_iter().map(|t| (t.id, t)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Takes the first ticket of the department's queue for `staff`; `None` when empty.
    pub async fn claim_first(
        &self,
        staff: Uuid,
        d: Department,
    ) -> Result<Option<Ticket>, ClaimError> {
        for _ in 0..MAX_STRAYS {
            let Some((member, score)) = self
                .store
                .take_first(d, staff)
                .await
                .map_err(anyhow::Error::from)?
            else {
                return Ok(None);
            };
            let Ok(id) = Uuid::parse_str(&member) else {
                continue;
            };
            match self.claim_in_db(staff, id).await {
                Ok(t) => return Ok(Some(t)),
                Err(TransitionError::Other(e)) => {
                    self.put_back(d, id, score, staff).await;
                    return Err(TransitionError::Other(e));
                }
                // A stray: the database says it is not waiting. Leave it out of the queue and
                // record its real holder.
                Err(_) => self.resync_holder(d, id, staff).await,
            }
        }
        Ok(None)
    }

    /// Takes a named ticket for `staff` (抢单).
    pub async fn claim(&self, staff: Uuid, ticket: &Ticket) -> Result<Ticket, ClaimError> {
        let d = ticket.department;
        let mut score = None;
        for attempt in 0..2 {
            match self.store.take(d, ticket.id, staff).await {
                Ok(Named::Taken { score: s }) => {
                    score = Some(s);
                    break;
                }
                Ok(Named::Absent) => break,
                Ok(Named::HeldBy(holder)) => {
                    // Redis may remember a holder the database has since let go of.
                    let current = self.current(ticket.id).await?;
                    if current.status.is_queued() && attempt == 0 {
                        let _ = self
                            .store
                            .drop_holder(d, &ticket.id.to_string(), &holder)
                            .await;
                        continue;
                    }
                    if current.assignee == Some(staff) {
                        return Ok(current);
                    }
                    return Err(TransitionError::HeldByOther);
                }
                // Redis is down: the database alone still decides safely.
                Err(e) => {
                    tracing::warn!("claim without Redis: {e}");
                    break;
                }
            }
        }
        match self.claim_in_db(staff, ticket.id).await {
            Ok(t) => Ok(t),
            Err(TransitionError::Other(e)) => {
                match score {
                    Some(s) => self.put_back(d, ticket.id, s, staff).await,
                    None => {
                        let _ = self
                            .store
                            .drop_holder(d, &ticket.id.to_string(), &staff.to_string())
                            .await;
                    }
                }
                Err(TransitionError::Other(e))
            }
            Err(e) => {
                self.resync_holder(d, ticket.id, staff).await;
                Err(e)
            }
        }
    }

    /// Moves a ticket on behalf of `actor` and keeps Redis in step after commit: a ticket
    /// that waits again is queued, a cancelled one leaves the queue.
    pub async fn transition(
        &self,
        ticket_id: Uuid,
        actor: Actor,
        to: Status,
        note: Option<&str>,
    ) -> Result<Ticket, ClaimError> {
        let mut tx = self.db.begin().await?;
        let t = lifecycle::transition(&mut tx, &self.ctx, ticket_id, actor, to, note).await?;
        tx.commit().await?;
        self.after_change(&t).await;
        Ok(t)
    }

    /// Hands a ticket to `to` (supervisor's reassignment). A waiting ticket is claimed for
    /// them; a held one changes hands.
    pub async fn assign(&self, by: Uuid, ticket: &Ticket, to: Uuid) -> Result<Ticket, ClaimError> {
        let d = ticket.department;
        if ticket.status.is_queued() {
            let t = self.claim(to, ticket).await?;
            let mut conn = self.db.acquire().await?;
            let now = self.ctx.clock.now();
            repository::record(
                &mut conn,
                t.id,
                now,
                Actor::Staff(by),
                Event::Assigned { to },
            )
            .await?;
            return Ok(t);
        }
        let mut tx = self.db.begin().await?;
        let now = self.ctx.clock.now();
        let lease = self.ctx.settings.queue.lease;
        let updated: Option<Ticket> = sqlx::query_as(
            "UPDATE tickets SET assignee = $2, updated_at = $3,
                 lease_expires_at = CASE WHEN status = $5 THEN $4 ELSE lease_expires_at END
             WHERE id = $1 AND status = ANY($6) RETURNING *",
        )
        .bind(ticket.id)
        .bind(to)
        .bind(now)
        .bind(now + lease)
        .bind(Status::Claimed)
        .bind(Status::HELD)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(t) = updated else {
            return Err(TransitionError::Illegal {
                from: ticket.status,
                to: Status::Claimed,
            });
        };
        repository::record(
            &mut tx,
            t.id,
            now,
            Actor::Staff(by),
            Event::Reassigned {
                from: ticket.assignee,
                to,
            },
        )
        .await?;
        tx.commit().await?;
        if let Err(e) = self.store.set_holder(d, t.id, to).await {
            tracing::warn!("recording the new holder in Redis: {e}");
        }
        Ok(t)
    }

    async fn claim_in_db(&self, staff: Uuid, id: Uuid) -> Result<Ticket, ClaimError> {
        let mut tx = self.db.begin().await?;
        match lifecycle::transition(
            &mut tx,
            &self.ctx,
            id,
            Actor::Staff(staff),
            Status::Claimed,
            None,
        )
        .await
        {
            Ok(t) => {
                tx.commit().await?;
                Ok(t)
            }
            Err(TransitionError::Illegal { from, to }) => {
                drop(tx);
                let current = self.current(id).await?;
                match (from, current.assignee) {
                    // Claiming what one already holds is a harmless retry.
                    (Status::Claimed, Some(a)) if a == staff => Ok(current),
                    (Status::Claimed | Status::InProgress, Some(_)) => {
                        Err(TransitionError::HeldByOther)
                    }
                    _ => Err(TransitionError::Illegal { from, to }),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn current(&self, id: Uuid) -> Result<Ticket, ClaimError> {
        let mut conn = self.db.acquire().await?;
        repository::get(&mut conn, id)
            .await?
            .ok_or(TransitionError::NotFound(id))
    }

    /// Undoes a Redis claim after the database failed.
    async fn put_back(&self, d: Department, id: Uuid, score: f64, staff: Uuid) {
        if let Err(e) = self.store.put_back(d, id, score).await {
            tracing::error!(ticket = %id, staff = %staff, "could not requeue after a failed claim: {e}; reconciliation will");
        }
    }

    /// Makes Redis's holder of `id` the database's, after a claim the database refused.
    async fn resync_holder(&self, d: Department, id: Uuid, staff: Uuid) {
        let result = match self.current(id).await {
            Ok(t) if matches!(t.status, Status::Claimed | Status::InProgress) => match t.assignee {
                Some(a) => self.store.set_holder(d, id, a).await,
                None => {
                    self.store
                        .drop_holder(d, &id.to_string(), &staff.to_string())
                        .await
                }
            },
            Ok(t) if t.status.is_queued() => self.store.push(&t).await,
            _ => {
                self.store
                    .drop_holder(d, &id.to_string(), &staff.to_string())
                    .await
            }
        };
        if let Err(e) = result {
            tracing::warn!(ticket = %id, "resyncing Redis after a refused claim: {e}");
        }
    }

    /// Corrects a ticket's labels (kind, urgency, department, category) and moves it to its
    /// new department's queue. A ticket someone holds keeps its holder, so its department
    /// can only change while it waits.
    pub async fn reclassify(
        &self,
        by: Uuid,
        ticket: &Ticket,
        labels: repository::Labels,
        note: &str,
    ) -> Result<Option<Ticket>, ClaimError> {
        let moves = labels.department != ticket.department;
        if moves && !ticket.status.is_queued() {
            return Err(TransitionError::Illegal {
                from: ticket.status,
                to: Status::Queued,
            });
        }
        let mut changes = Vec::new();
        let mut say = |what: &str, from: &str, to: &str| {
            if from != to {
                changes.push(format!("{what} {from} → {to}"));
            }
        };
        say("kind", ticket.kind.as_str(), labels.kind.as_str());
        say("urgency", ticket.urgency.as_str(), labels.urgency.as_str());
        say(
            "department",
            ticket.department.as_str(),
            labels.department.as_str(),
        );
        say(
            "category",
            ticket.category.as_str(),
            labels.category.as_str(),
        );
        if changes.is_empty() {
            return Ok(Some(ticket.clone()));
        }
        let changes = changes.join("; ");
        let now = self.ctx.clock.now();
        let mut tx = self.db.begin().await?;
        let Some(t) = repository::reclassify(&mut tx, ticket, labels, by, now).await? else {
            return Ok(None);
        };
        repository::record(
            &mut tx,
            t.id,
            now,
            Actor::Staff(by),
            Event::Reclassified {
                changes: &changes,
                note,
            },
        )
        .await?;
        tx.commit().await?;
        if moves {
            if let Err(e) = self
                .store
                .remove(ticket.department, &t.id.to_string())
                .await
            {
                tracing::warn!(ticket = %t.id, "leaving the old queue: {e}; reconciliation will");
            }
        }
        self.after_change(&t).await;
        Ok(Some(t))
    }

    /// Brings Redis in line with a ticket that just changed.
    pub async fn after_change(&self, t: &Ticket) {
        let d = t.department;
        let result = if t.status.is_queued() {
            self.store.push(t).await
        } else if !t.status.is_open() {
            let id = t.id.to_string();
            match self.store.remove(d, &id).await {
                Ok(()) => self.store.forget_holder(d, &id).await,
                Err(e) => Err(e),
            }
        } else {
            Ok(())
        };
        if let Err(e) = result {
            tracing::warn!(ticket = %t.id, "updating the queue: {e}; reconciliation will");
        }
    }
}
