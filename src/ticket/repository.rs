//! Storing and reading tickets. Functions take a connection so callers choose the
//! transaction: a ticket, its first event and the messages it causes commit together.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Category, Department, Kind, Severity, Status, Ticket, Urgency};
use crate::domain::Locale;

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub resident_id: Uuid,
    pub kind: Kind,
    pub category: Category,
    pub urgency: Urgency,
    pub department: Department,
    pub summary: String,
    pub description: String,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub location: Option<String>,
    pub contact_phone: Option<String>,
    pub preferred_time: Option<String>,
    pub locale: Locale,
    /// The inbound message that completed the request; unique, so a repeated delivery can
    /// never create a second ticket.
    pub source_message_id: Option<Uuid>,
    pub attachments: Vec<NewAttachment>,
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub kind: String,
    pub url: Option<String>,
    pub media_id: Option<String>,
}

/// Deadlines computed by the SLA rules for a new ticket.
#[derive(Debug, Clone, Copy, Default)]
pub struct Deadlines {
    pub respond_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// The next human-friendly number for `kind` on the property's local `day`: `R2611220001`.
///
/// Taken in a short transaction of its own, not the caller's: the day's counter row is the
/// one row every new ticket writes, and holding its lock until a whole batch of messages
/// commits would serialise batches (and deadlock two batches filing tickets of two kinds in
/// opposite orders). A caller that rolls back leaves a gap in the day's numbers; numbers
/// identify tickets, they do not count them.
pub async fn next_number(
    db: &sqlx::PgPool,
    kind: Kind,
    day: chrono::NaiveDate,
) -> sqlx::Result<String> {
    let letter = kind.letter().to_string();
    let (n,): (i32,) = sqlx::query_as(
        "INSERT INTO ticket_sequences (day, letter, last_value) VALUES ($1, $2, 1)
         ON CONFLICT (day, letter) DO UPDATE SET last_value = ticket_sequences.last_value + 1
         RETURNING last_value",
    )
    .bind(day)
    .bind(&letter)
    .fetch_one(db)
    .await?;
    Ok(format!("{letter}{}{n:04}", day.format("%y%m%d")))
}

/// Inserts a queued ticket with its `created` event and attachments.
pub async fn insert(
    conn: &mut PgConnection,
    new: &NewTicket,
    number: &str,
    severity: Severity,
    deadlines: Deadlines,
    now: DateTime<Utc>,
) -> sqlx::Result<Ticket> {
    let id = Uuid::now_v7();
    let ticket: Ticket = sqlx::query_as(
        "INSERT INTO tickets (id, number, resident_id, kind, category, urgency, department, status,
             severity, summary, description, building, unit, room, location, contact_phone,
             preferred_time, locale, source_message_id, created_at, respond_due_at, due_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $20)
         RETURNING *",
    )
    .bind(id)
    .bind(number)
    .bind(new.resident_id)
    .bind(new.kind.as_str())
    .bind(new.category.as_str())
    .bind(new.urgency.as_str())
    .bind(new.department.as_str())
    .bind(Status::Queued.as_str())
    .bind(severity)
    .bind(&new.summary)
    .bind(&new.description)
    .bind(&new.building)
    .bind(&new.unit)
    .bind(&new.room)
    .bind(&new.location)
    .bind(&new.contact_phone)
    .bind(&new.preferred_time)
    .bind(new.locale.as_str())
    .bind(new.source_message_id)
    .bind(now)
    .bind(deadlines.respond_due_at)
    .bind(deadlines.due_at)
    .fetch_one(&mut *conn)
    .await?;
    record_event(
        conn,
        id,
        now,
        Actor::Resident(new.resident_id),
        "created",
        None,
        Some(Status::Queued),
        None,
    )
    .await?;
    for a in &new.attachments {
        sqlx::query(
            "INSERT INTO ticket_attachments (id, ticket_id, kind, url, media_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(&a.kind)
        .bind(&a.url)
        .bind(&a.media_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(ticket)
}

/// Who did something to a ticket.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    Resident(Uuid),
    Staff(Uuid),
    System,
}

impl Actor {
    fn parts(self) -> (&'static str, Option<Uuid>) {
        match self {
            Actor::Resident(id) => ("resident", Some(id)),
            Actor::Staff(id) => ("staff", Some(id)),
            Actor::System => ("system", None),
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn record_event(
    conn: &mut PgConnection,
    ticket_id: Uuid,
    at: DateTime<Utc>,
    actor: Actor,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&str>,
) -> sqlx::Result<()> {
    let (actor_kind, actor_id) = actor.parts();
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, at, actor_kind, actor_id, action, from_status, to_status, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ticket_id)
    .bind(at)
    .bind(actor_kind)
    .bind(actor_id)
    .bind(action)
    .bind(from.map(Status::as_str))
    .bind(to.map(Status::as_str))
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Ticket>> {
    sqlx::query_as("SELECT * FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_by_number(conn: &mut PgConnection, number: &str) -> sqlx::Result<Option<Ticket>> {
    sqlx::query_as("SELECT * FROM tickets WHERE number = $1")
        .bind(number)
        .fetch_optional(conn)
        .await
}

/// A resident's tickets that are not closed or cancelled, newest first.
pub async fn open_for_resident(
    conn: &mut PgConnection,
    resident_id: Uuid,
) -> sqlx::Result<Vec<Ticket>> {
    sqlx::query_as(
        "SELECT * FROM tickets WHERE resident_id = $1 AND status = ANY($2)
         ORDER BY created_at DESC",
    )
    .bind(resident_id)
    .bind(Status::OPEN)
    .fetch_all(conn)
    .await
}
