//! The ticket lifecycle: which status may follow which, and who may make the change.
//! `queued → claimed → in_progress → resolved → closed`; `reopened` after a dissatisfied
//! survey; `cancelled`.

use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Status, Ticket};
use super::repository::Actor;
use super::service::TicketContext;

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("no ticket {0}")]
    NotFound(Uuid),
    #[error("a ticket cannot go from {from} to {to}")]
    Illegal { from: Status, to: Status },
    #[error("the ticket is held by someone else")]
    HeldByOther,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for TransitionError {
    fn from(e: sqlx::Error) -> Self {
        TransitionError::Other(e.into())
    }
}

/// Moves a ticket to `to`, recording the event and the resident's notice in `conn`'s
/// transaction. (Implemented by the tickets work.)
pub async fn transition(
    _conn: &mut PgConnection,
    _ctx: &TicketContext,
    ticket_id: Uuid,
    _actor: Actor,
    _to: Status,
    _note: Option<&str>,
) -> Result<Ticket, TransitionError> {
    Err(TransitionError::NotFound(ticket_id))
}
