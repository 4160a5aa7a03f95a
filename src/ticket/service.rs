//! Ticket operations that combine the rules (SLA, severity) with the repository. Callers pass
//! the connection of their transaction.

use std::sync::Arc;

use sqlx::PgConnection;

use super::model::Ticket;
use super::repository::{self, NewTicket};
use super::{severity, sla};
use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::prompts::Prompts;

/// What ticket operations need besides a connection.
#[derive(Clone)]
pub struct TicketContext {
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    /// The texts of notices that status changes send to residents and staff.
    pub prompts: Arc<Prompts>,
}

/// Files a new ticket: number, deadlines and severity are computed here.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    new: NewTicket,
) -> anyhow::Result<Ticket> {
    let now = ctx.clock.now();
    let offset = ctx.settings.locale.offset();
    let day = now.with_timezone(&offset).date_naive();
    let number = repository::next_number(conn, new.kind, day).await?;
    let deadlines = sla::deadlines(&ctx.settings.sla, new.kind, new.urgency, now, offset);
    let ticket =
        repository::insert(conn, &new, &number, severity::ORDINARY, deadlines, now).await?;
    severity::assess(conn, ctx, ticket).await
}
