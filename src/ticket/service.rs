//! Ticket operations that combine the rules (SLA, severity) with the repository. Callers pass
//! the connection of their transaction.

use sqlx::PgConnection;

use super::context::TicketContext;
use super::model::{Ticket, Urgency};
use super::notify::{self, Notice, NoticeKind};
use super::repository::{self, NewTicket};
use super::severity;

/// Files a new ticket: number, deadlines and severity are computed here.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    new: NewTicket,
) -> anyhow::Result<Ticket> {
    let now = ctx.clock.now();
    let offset = ctx.settings.locale.offset();
    let day = now.with_timezone(&offset).date_naive();
    let number = repository::next_number(&ctx.db, new.kind, day).await?;
    let deadlines = ctx
        .settings
        .sla
        .deadlines(new.kind, new.urgency, now, offset);
    let ticket =
        repository::insert(conn, &new, &number, severity::ORDINARY, deadlines, now).await?;
    if ticket.urgency == Urgency::Emergency {
        alert_duty(conn, ctx, &ticket).await?;
    }
    severity::assess(conn, ctx, ticket).await
}

/// Emergencies never wait for a queue or office hours: the on-duty staff hear of them in
/// the same transaction that files them.
async fn alert_duty(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    ticket: &Ticket,
) -> anyhow::Result<()> {
    let locale = ctx.settings.locale.default;
    let place = ticket.location.as_deref().unwrap_or("-");
    let text = ctx.prompts.render(
        locale,
        "ticket.emergency_alert",
        &[
            ("number", &ticket.number),
            ("summary", &ticket.summary),
            ("place", place),
        ],
    );
    notify::to_staff(
        conn,
        None,
        Notice {
            kind: NoticeKind::Alert,
            ticket_id: Some(ticket.id),
            text: &text,
            dedup_key: Some(format!("emergency:{}", ticket.id)),
        },
        ctx.clock.now(),
    )
    .await?;
    Ok(())
}
