//! The ticket lifecycle: which status may follow which, and who may make the change.
//! `queued → claimed → in_progress → resolved → closed`; `reopened` after a dissatisfied
//! survey; `cancelled`.
//!
//! The rules are the pure functions `allowed` and `permitted`; `transition` is the one place
//! that applies them to a stored ticket, so every layer (staff API, surveys, the lease
//! reconciler) changes status the same way and leaves the same trail.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::context::TicketContext;
use super::model::{Role, Status, Ticket};
use super::notify::{self, Notice, NoticeKind};
use super::repository::{self, Actor, Event};

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("no ticket {0}")]
    NotFound(Uuid),
    #[error("a ticket cannot go from {from} to {to}")]
    Illegal { from: Status, to: Status },
    #[error("the ticket is held by someone else")]
    HeldByOther,
    /// The move is legal, but not for this actor's role.
    #[error("this role may not move a ticket from {from} to {to}")]
    Forbidden { from: Status, to: Status },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for TransitionError {
    fn from(e: sqlx::Error) -> Self {
        TransitionError::Other(e.into())
    }
}

/// Who asks for a change, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    Resident,
    System,
    /// `assignee`: the ticket is currently held by this staff member.
    Staff {
        role: Role,
        assignee: bool,
    },
}

/// The transition table: which status may follow which, whoever asks.
pub fn allowed(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Queued, Claimed)
            | (Queued, Cancelled)
            | (Reopened, Claimed)
            | (Reopened, Cancelled)
            | (Claimed, InProgress)
            | (Claimed, Queued)
            | (Claimed, Cancelled)
            | (InProgress, Resolved)
            | (InProgress, Cancelled)
            | (Resolved, Closed)
            | (Resolved, Reopened)
    )
}

/// Whether `mover` may make the (legal) move `from → to`.
pub fn permitted(mover: Mover, from: Status, to: Status) -> Result<(), TransitionError> {
    use Status::*;
    if !allowed(from, to) {
        return Err(TransitionError::Illegal { from, to });
    }
    let forbidden = Err(TransitionError::Forbidden { from, to });
    match mover {
        // The system acts for timers and surveys: it may do anything the table allows.
        Mover::System => Ok(()),
        Mover::Resident => match (from, to) {
            // A resident answers the revisit, and may withdraw a request nobody has taken.
            (Resolved, Closed) | (Resolved, Reopened) => Ok(()),
            (Queued | Reopened, Cancelled) => Ok(()),
            _ => forbidden,
        },
        Mover::Staff { role, assignee } => {
            let lead = matches!(role, Role::Supervisor | Role::Manager);
            match to {
                // Anyone on staff may take a waiting ticket (scope is checked by the API).
                Claimed => Ok(()),
                // Working a ticket is for the one who holds it, or a lead acting for them.
                InProgress | Resolved | Queued => {
                    if assignee || lead {
                        Ok(())
                    } else {
                        Err(TransitionError::HeldByOther)
                    }
                }
                // Closing and reopening follow the revisit, which the concierge does by hand
                // when the resident does not answer.
                Closed | Reopened => {
                    if lead || role == Role::Concierge {
                        Ok(())
                    } else {
                        forbidden
                    }
                }
                Cancelled => {
                    if lead || role == Role::Concierge {
                        Ok(())
                    } else {
                        forbidden
                    }
                }
            }
        }
    }
}

/// The prompt key (in `prompts/<locale>/ticket.toml`) of the resident's notice, if the
/// resident is told about this move.
pub fn resident_prompt(to: Status) -> Option<&'static str> {
    match to {
        Status::Claimed => Some("ticket.claimed"),
        Status::InProgress => Some("ticket.started"),
        Status::Resolved => Some("ticket.resolved"),
        Status::Reopened => Some("ticket.reopened"),
        Status::Cancelled => Some("ticket.cancelled"),
        Status::Queued | Status::Closed => None,
    }
}

/// Moves a ticket to `to`, recording the event and the resident's notice in `conn`'s
/// transaction. For `Claimed` by staff, the actor becomes the assignee.
///
/// Moving into a queue (`queued`, `reopened`) changes only the database: the caller pushes
/// the ticket to Redis after commit (the queue reconciler does it otherwise).
pub async fn transition(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    ticket_id: Uuid,
    actor: Actor,
    to: Status,
    note: Option<&str>,
) -> Result<Ticket, TransitionError> {
    let ticket: Ticket = sqlx::query_as("SELECT * FROM tickets WHERE id = $1 FOR UPDATE")
        .bind(ticket_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(TransitionError::NotFound(ticket_id))?;
    let from = ticket.status;
    let staff = match actor {
        Actor::Staff(id) => Some(staff_brief(conn, id).await?),
        _ => None,
    };
    let mover = match (actor, &staff) {
        (Actor::Resident(id), _) if id == ticket.resident_id => Mover::Resident,
        (Actor::Resident(_), _) => return Err(TransitionError::Forbidden { from, to }),
        (Actor::System, _) => Mover::System,
        (Actor::Staff(id), Some(s)) => Mover::Staff {
            role: s.role,
            assignee: ticket.assignee == Some(id),
        },
        (Actor::Staff(id), None) => return Err(anyhow::anyhow!("no staff {id}").into()),
    };
    permitted(mover, from, to)?;

    let now = ctx.clock.now();
    let lease = ctx.settings.queue.lease;
    let claimer = match actor {
        Actor::Staff(id) => Some(id),
        _ => None,
    };
    let updated = apply(conn, &ticket, to, claimer, now, now + lease).await?;
    repository::record(conn, ticket_id, now, actor, Event::Moved { from, to, note }).await?;
    // A resident who withdraws a request is answered in the chat; no notice follows.
    let own_withdrawal = matches!(actor, Actor::Resident(_)) && to == Status::Cancelled;
    if let Some(key) = resident_prompt(to).filter(|_| !own_withdrawal) {
        let locale = ticket.locale;
        let staff_name = match (updated.assignee, &staff) {
            (Some(a), Some(s)) if a == s.id => s.name.clone(),
            (Some(a), _) => staff_brief(conn, a)
                .await
                .map(|s| s.name)
                .unwrap_or_default(),
            (None, _) => String::new(),
        };
        let text = ctx.prompts.render(
            locale,
            key,
            &[
                ("number", &ticket.number),
                ("staff", &staff_name),
                ("note", note.unwrap_or("")),
            ],
        );
        notify::to_resident(
            conn,
            ticket.resident_id,
            Notice {
                kind: NoticeKind::Status,
                ticket_id: Some(ticket_id),
                text: text.trim(),
                dedup_key: None,
            },
            now,
        )
        .await?;
    }
    Ok(updated)
}

/// Writes the new status and the timestamps that go with it. The `status = from` guard keeps
/// a stale read from ever overwriting a newer state.
async fn apply(
    conn: &mut PgConnection,
    ticket: &Ticket,
    to: Status,
    claimer: Option<Uuid>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Ticket, TransitionError> {
    let from = ticket.status;
    // Every statement shares $1 id, $2 from, $3 to, $4 now; a claim adds $5 claimer, $6 lease.
    let set = match to {
        Status::Claimed => "assignee = $5, claimed_at = $4, lease_expires_at = $6",
        Status::InProgress => "started_at = $4, lease_expires_at = NULL",
        Status::Resolved => "resolved_at = $4, lease_expires_at = NULL",
        Status::Closed => "closed_at = $4",
        Status::Reopened => {
            "reopen_count = reopen_count + 1, important = TRUE, assignee = NULL,
             lease_expires_at = NULL"
        }
        Status::Queued => {
            "assignee = NULL, claimed_at = NULL, started_at = NULL, lease_expires_at = NULL"
        }
        Status::Cancelled => "closed_at = $4, lease_expires_at = NULL",
    };
    let sql = format!(
        "UPDATE tickets SET status = $3, {set}, updated_at = $4
         WHERE id = $1 AND status = $2 RETURNING *"
    );
    let mut query = sqlx::query_as::<_, Ticket>(&sql)
        .bind(ticket.id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now);
    if to == Status::Claimed {
        let claimer = claimer.ok_or(TransitionError::Forbidden { from, to })?;
        query = query.bind(claimer).bind(lease_until);
    }
    let updated = query.fetch_optional(&mut *conn).await?;
    updated.ok_or(TransitionError::Illegal { from, to })
}

/// The little the lifecycle needs to know about a staff member.
#[derive(Debug, Clone)]
pub struct StaffBrief {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}

/// Reopens a resolved ticket for `actor` (a dissatisfied revisit, a resident saying the
/// fault is back): a new life for it, so SLA escalation starts again from the bottom. The
/// caller puts the ticket back on its queue after commit.
pub async fn reopen(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    ticket_id: Uuid,
    actor: Actor,
    note: &str,
) -> Result<Ticket, TransitionError> {
    let moved = transition(conn, ctx, ticket_id, actor, Status::Reopened, Some(note)).await?;
    sqlx::query("UPDATE tickets SET escalation_level = 0 WHERE id = $1")
        .bind(ticket_id)
        .execute(&mut *conn)
        .await?;
    Ok(moved)
}

pub async fn staff_brief(conn: &mut PgConnection, id: Uuid) -> Result<StaffBrief, TransitionError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT name, role FROM staff WHERE id = $1 AND active")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (name, role) = row.ok_or_else(|| anyhow::anyhow!("no active staff member {id}"))?;
    let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("staff {id} has role {role}"))?;
    Ok(StaffBrief { id, name, role })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// The whole table spelled out: every pair not listed here must be refused.
    const LEGAL: &[(Status, Status)] = &[
        (Queued, Claimed),
        (Queued, Cancelled),
        (Reopened, Claimed),
        (Reopened, Cancelled),
        (Claimed, InProgress),
        (Claimed, Queued),
        (Claimed, Cancelled),
        (InProgress, Resolved),
        (InProgress, Cancelled),
        (Resolved, Closed),
        (Resolved, Reopened),
    ];

    #[test]
    fn the_table_allows_exactly_the_listed_moves() {
        for &from in Status::ALL {
            for &to in Status::ALL {
                assert_eq!(
                    allowed(from, to),
                    LEGAL.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn closed_and_cancelled_are_final() {
        for &to in Status::ALL {
            assert!(!allowed(Closed, to));
            assert!(!allowed(Cancelled, to));
        }
    }

    #[test]
    fn illegal_moves_are_illegal_for_everyone() {
        let movers = all_movers();
        for &from in Status::ALL {
            for &to in Status::ALL {
                if allowed(from, to) {
                    continue;
                }
                for &m in &movers {
                    assert!(matches!(
                        permitted(m, from, to),
                        Err(TransitionError::Illegal { .. })
                    ));
                }
            }
        }
    }

    fn all_movers() -> Vec<Mover> {
        let mut v = vec![Mover::Resident, Mover::System];
        for &role in Role::ALL {
            for assignee in [false, true] {
                v.push(Mover::Staff { role, assignee });
            }
        }
        v
    }

    fn staff(role: Role, assignee: bool) -> Mover {
        Mover::Staff { role, assignee }
    }

    /// (mover, from, to, expected): `Ok`, `F` forbidden, `H` held by another.
    #[test]
    fn who_may_do_what() {
        #[derive(Debug, PartialEq)]
        enum E {
            Ok,
            F,
            H,
        }
        let w = |a| staff(Role::Worker, a);
        let c = |a| staff(Role::Concierge, a);
        let s = |a| staff(Role::Supervisor, a);
        let m = |a| staff(Role::Manager, a);
        let cases: Vec<(Mover, Status, Status, E)> = vec![
            (w(false), Queued, Claimed, E::Ok),
            (w(false), Reopened, Claimed, E::Ok),
            (c(false), Queued, Claimed, E::Ok),
            (w(true), Claimed, InProgress, E::Ok),
            (w(false), Claimed, InProgress, E::H),
            (c(false), Claimed, InProgress, E::H),
            (s(false), Claimed, InProgress, E::Ok),
            (m(false), Claimed, InProgress, E::Ok),
            (w(true), InProgress, Resolved, E::Ok),
            (w(false), InProgress, Resolved, E::H),
            (w(true), Claimed, Queued, E::Ok),
            (w(false), Claimed, Queued, E::H),
            (s(false), Claimed, Queued, E::Ok),
            (w(true), Resolved, Closed, E::F),
            (c(false), Resolved, Closed, E::Ok),
            (s(false), Resolved, Reopened, E::Ok),
            (w(true), Resolved, Reopened, E::F),
            (w(true), Claimed, Cancelled, E::F),
            (c(false), Queued, Cancelled, E::Ok),
            (m(false), InProgress, Cancelled, E::Ok),
            (Mover::Resident, Resolved, Closed, E::Ok),
            (Mover::Resident, Resolved, Reopened, E::Ok),
            (Mover::Resident, Queued, Cancelled, E::Ok),
            (Mover::Resident, Claimed, Cancelled, E::F),
            (Mover::Resident, Queued, Claimed, E::F),
            (Mover::Resident, InProgress, Resolved, E::F),
            (Mover::System, Claimed, Queued, E::Ok),
            (Mover::System, Resolved, Closed, E::Ok),
            (Mover::System, Resolved, Reopened, E::Ok),
        ];
        for (mover, from, to, want) in cases {
            let got = match permitted(mover, from, to) {
                Ok(()) => E::Ok,
                Err(TransitionError::Forbidden { .. }) => E::F,
                Err(TransitionError::HeldByOther) => E::H,
                Err(e) => panic!("{mover:?} {from}→{to}: {e}"),
            };
            assert_eq!(got, want, "{mover:?} {from} → {to}");
        }
    }

    #[test]
    fn system_may_make_every_legal_move() {
        for &(from, to) in LEGAL {
            assert!(permitted(Mover::System, from, to).is_ok());
        }
    }

    #[test]
    fn every_move_has_an_action_and_queue_moves_are_silent() {
        let moved = |from, to| Event::Moved {
            from,
            to,
            note: None,
        };
        assert_eq!(moved(Claimed, Queued).action(), "released");
        assert_eq!(moved(Queued, Claimed).action(), "claimed");
        assert_eq!(resident_prompt(Queued), None);
        assert_eq!(resident_prompt(Closed), None);
        assert_eq!(resident_prompt(Claimed), Some("ticket.claimed"));
    }
}
