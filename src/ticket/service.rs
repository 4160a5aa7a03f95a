//! Ticket operations that combine the rules (SLA, severity) with the repository. Callers pass
//! the connection of their transaction.

use std::sync::Arc;

use sqlx::PgConnection;

use super::model::Ticket;
use super::repository::{self, Deadlines, NewTicket};
use crate::clock::SharedClock;
use crate::configuration::Settings;

/// What ticket operations need besides a connection.
#[derive(Clone)]
pub struct TicketContext {
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
}

/// Files a new ticket: number, deadlines and severity are computed here.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    new: NewTicket,
) -> anyhow::Result<Ticket> {
    let now = ctx.clock.now();
    let day = now
        .with_timezone(&ctx.settings.locale.offset())
        .date_naive();
    let number = repository::next_number(conn, new.kind, day).await?;
    let ticket = repository::insert(conn, &new, &number, 4, Deadlines::default(), now).await?;
    Ok(ticket)
}
