//! Storing and reading tickets. Functions take a connection so callers choose the
//! transaction: a ticket, its first event and the messages it causes commit together.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{
    Category, Department, EscalationLevel, Kind, Severity, Status, Ticket, Urgency,
};
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
    record(
        conn,
        id,
        now,
        Actor::Resident(new.resident_id),
        Event::Created,
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

/// One change in a ticket's life, as `ticket_events` records it (`action`, statuses, note).
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Filed (always into `queued`).
    Created,
    /// A status change made by `lifecycle::transition`.
    Moved {
        from: Status,
        to: Status,
        note: Option<&'a str>,
    },
    /// Handed, while waiting in the queue, to `to`.
    Assigned { to: Uuid },
    /// Handed from its holder to `to`.
    Reassigned { from: Option<Uuid>, to: Uuid },
    /// Staff wrote to the resident.
    Reply { text: &'a str },
    /// Climbed to `level` because it is late.
    Escalated {
        level: EscalationLevel,
        reason: &'a str,
    },
    /// The resident was promised a new time (`new_time`, as they were told it).
    DelayNotified { new_time: &'a str },
    /// Marked important (重要投诉).
    Important { reason: &'a str },
    /// Complaint severity raised.
    SeverityRaised {
        from: Severity,
        to: Severity,
        reason: &'a str,
    },
    /// Staff corrected what the classifier read: `changes` is `kind repair → complaint; …`.
    Reclassified { changes: &'a str, note: &'a str },
    /// The resident told where, after the ticket was filed without a place.
    Located { location: &'a str },
    /// The resident said more about it after it was filed ("救護車到咗", "still smells").
    Told { text: &'a str },
}

impl Event<'_> {
    /// The `action` column: one word per kind of change.
    pub fn action(&self) -> &'static str {
        match self {
            Event::Created => "created",
            Event::Moved { to, .. } => match to {
                Status::Claimed => "claimed",
                Status::InProgress => "started",
                Status::Resolved => "resolved",
                Status::Closed => "closed",
                Status::Reopened => "reopened",
                Status::Cancelled => "cancelled",
                Status::Queued => "released",
            },
            Event::Assigned { .. } => "assigned",
            Event::Reassigned { .. } => "reassigned",
            Event::Reply { .. } => "reply",
            Event::Escalated { .. } => "escalated",
            Event::DelayNotified { .. } => "delay_notified",
            Event::Important { .. } => "important",
            Event::SeverityRaised { .. } => "severity",
            Event::Reclassified { .. } => "reclassified",
            Event::Located { .. } => "located",
            Event::Told { .. } => "resident_update",
        }
    }

    fn statuses(&self) -> (Option<Status>, Option<Status>) {
        match *self {
            Event::Created => (None, Some(Status::Queued)),
            Event::Moved { from, to, .. } => (Some(from), Some(to)),
            _ => (None, None),
        }
    }

    fn note(&self) -> Option<String> {
        match *self {
            Event::Created => None,
            Event::Moved { note, .. } => note.map(str::to_owned),
            Event::Assigned { to } => Some(format!("assigned to {to}")),
            Event::Reassigned { from, to } => Some(format!(
                "from {} to {to}",
                from.map(|a| a.to_string()).unwrap_or_default()
            )),
            Event::Reply { text } => Some(text.to_owned()),
            Event::Escalated { level, reason } => Some(format!("level {level}: {reason}")),
            Event::DelayNotified { new_time } => {
                Some(format!("delay notice sent: new expected time {new_time}"))
            }
            Event::Important { reason } => Some(reason.to_owned()),
            Event::SeverityRaised { from, to, reason } => {
                Some(format!("severity {from} → {to}: {reason}"))
            }
            Event::Reclassified { changes, note } if note.trim().is_empty() => {
                Some(changes.to_owned())
            }
            Event::Reclassified { changes, note } => Some(format!("{changes}: {note}")),
            Event::Located { location } => Some(location.to_owned()),
            Event::Told { text } => Some(text.to_owned()),
        }
    }
}

/// The labels staff may correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Category,
}

/// Sets a ticket's labels while it is open, and keeps the corrected reading as a labelled
/// line (`nlu_corrections`) for training, with the labels it replaced (`ticket`'s) for the
/// monthly report; `None` when the ticket is not open.
pub async fn reclassify(
    conn: &mut PgConnection,
    ticket: &Ticket,
    labels: Labels,
    staff: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<Ticket>> {
    let updated: Option<Ticket> = sqlx::query_as(
        "UPDATE tickets SET kind = $2, urgency = $3, department = $4, category = $5,
             updated_at = $6
         WHERE id = $1 AND status = ANY($7) RETURNING *",
    )
    .bind(ticket.id)
    .bind(labels.kind)
    .bind(labels.urgency)
    .bind(labels.department)
    .bind(labels.category)
    .bind(at)
    .bind(Status::OPEN)
    .fetch_optional(&mut *conn)
    .await?;
    if updated.is_some() {
        sqlx::query(
            "INSERT INTO nlu_corrections
                 (id, ticket_id, staff_id, text, kind, urgency, department, category, created_at,
                  from_kind, from_urgency, from_department, from_category)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(Uuid::now_v7())
        .bind(ticket.id)
        .bind(staff)
        .bind(&ticket.description)
        .bind(labels.kind)
        .bind(labels.urgency)
        .bind(labels.department)
        .bind(labels.category)
        .bind(at)
        .bind(ticket.kind)
        .bind(ticket.urgency)
        .bind(ticket.department)
        .bind(ticket.category)
        .execute(&mut *conn)
        .await?;
    }
    Ok(updated)
}

/// Staff corrections as labelled lines (`guanjia train --corrections`).
pub async fn corrections(
    db: &sqlx::PgPool,
) -> sqlx::Result<Vec<(Uuid, String, Kind, Urgency, Department, Category)>> {
    sqlx::query_as(
        "SELECT id, text, kind, urgency, department, category FROM nlu_corrections
         ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await
}

/// Records `event` in the ticket's history.
pub async fn record(
    conn: &mut PgConnection,
    ticket_id: Uuid,
    at: DateTime<Utc>,
    actor: Actor,
    event: Event<'_>,
) -> sqlx::Result<()> {
    let (actor_kind, actor_id) = actor.parts();
    let (from, to) = event.statuses();
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, at, actor_kind, actor_id, action, from_status, to_status, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ticket_id)
    .bind(at)
    .bind(actor_kind)
    .bind(actor_id)
    .bind(event.action())
    .bind(from)
    .bind(to)
    .bind(event.note())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which tickets a caller may see, as SQL binds. Made by `staff::scope`, which holds the
/// rule; every list the staff API and the console show is filtered by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every ticket (managers, and internal lists already checked by the caller).
    Everything,
    /// One department's tickets, and those of these buildings.
    Department {
        department: Department,
        buildings: Vec<String>,
    },
    /// Only the tickets of these buildings.
    Buildings(Vec<String>),
}

impl Scope {
    /// `(everything, department, buildings)` for `($n OR department = $n+1 OR building = ANY($n+2))`.
    fn binds(&self) -> (bool, Option<Department>, &[String]) {
        match self {
            Scope::Everything => (true, None, &[]),
            Scope::Department {
                department,
                buildings,
            } => (false, Some(*department), buildings),
            Scope::Buildings(buildings) => (false, None, buildings),
        }
    }
}

/// The order of a ticket list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest first.
    #[default]
    Newest,
    /// Earliest resolution deadline first (none last), then oldest.
    DueFirst,
}

/// What a ticket list asks for besides the scope; `None` = any.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub statuses: Option<&'a [Status]>,
    pub kind: Option<Kind>,
    pub department: Option<Department>,
    pub since: Option<DateTime<Utc>>,
    pub order: Order,
    pub limit: i64,
}

/// The tickets matching `filter` within `scope`.
pub async fn list(
    db: impl sqlx::PgExecutor<'_>,
    filter: &Filter<'_>,
    scope: &Scope,
) -> sqlx::Result<Vec<Ticket>> {
    let order = match filter.order {
        Order::Newest => "created_at DESC, id DESC",
        Order::DueFirst => "due_at NULLS LAST, created_at, id",
    };
    let (everything, department, buildings) = scope.binds();
    sqlx::query_as(&format!(
        "SELECT * FROM tickets
         WHERE ($1::text[] IS NULL OR status = ANY($1))
           AND ($2::text IS NULL OR kind = $2)
           AND ($3::text IS NULL OR department = $3)
           AND ($4::timestamptz IS NULL OR created_at >= $4)
           AND ($5 OR department = $6 OR building = ANY($7))
         ORDER BY {order}
         LIMIT $8"
    ))
    .bind(filter.statuses)
    .bind(filter.kind)
    .bind(filter.department)
    .bind(filter.since)
    .bind(everything)
    .bind(department)
    .bind(buildings)
    .bind(filter.limit)
    .fetch_all(db)
    .await
}

/// How many tickets `scope` holds and when the latest of them changed: what the console's
/// live stream watches.
pub async fn scope_summary(
    db: impl sqlx::PgExecutor<'_>,
    scope: &Scope,
) -> sqlx::Result<(i64, Option<DateTime<Utc>>)> {
    let (everything, department, buildings) = scope.binds();
    sqlx::query_as(
        "SELECT count(*), max(updated_at) FROM tickets
         WHERE $1 OR department = $2 OR building = ANY($3)",
    )
    .bind(everything)
    .bind(department)
    .bind(buildings)
    .fetch_one(db)
    .await
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

/// Where a ticket is, as the resident told it after filing.
pub struct Location<'a> {
    pub building: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub room: Option<&'a str>,
    pub label: &'a str,
}

/// Gives the resident's newest open ticket of `urgency` that was filed without a place the
/// place they told afterwards; `None` when there is no such ticket.
pub async fn locate_newest(
    conn: &mut PgConnection,
    resident_id: Uuid,
    urgency: Urgency,
    at: DateTime<Utc>,
    place: Location<'_>,
) -> sqlx::Result<Option<Ticket>> {
    let located: Option<Ticket> = sqlx::query_as(
        "UPDATE tickets SET building = $3, unit = $4, room = $5, location = $6, updated_at = $7
         WHERE id = (SELECT id FROM tickets
                     WHERE resident_id = $1 AND urgency = $2 AND location IS NULL
                       AND status = ANY($8)
                     ORDER BY created_at DESC LIMIT 1 FOR UPDATE)
         RETURNING *",
    )
    .bind(resident_id)
    .bind(urgency.as_str())
    .bind(place.building)
    .bind(place.unit)
    .bind(place.room)
    .bind(place.label)
    .bind(at)
    .bind(Status::OPEN)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(t) = &located {
        let event = Event::Located {
            location: place.label,
        };
        record(conn, t.id, at, Actor::Resident(resident_id), event).await?;
    }
    Ok(located)
}

/// Records what the resident said on their newest open ticket (of `urgency`, when given);
/// the ticket's number, or `None` when they have no open ticket.
pub async fn tell_newest(
    conn: &mut PgConnection,
    resident_id: Uuid,
    urgency: Option<Urgency>,
    at: DateTime<Utc>,
    text: &str,
) -> sqlx::Result<Option<String>> {
    let newest: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, number FROM tickets
         WHERE resident_id = $1 AND ($2::text IS NULL OR urgency = $2) AND status = ANY($3)
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(resident_id)
    .bind(urgency.map(|u| u.as_str()))
    .bind(Status::OPEN)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, number)) = newest else {
        return Ok(None);
    };
    record(
        conn,
        id,
        at,
        Actor::Resident(resident_id),
        Event::Told { text },
    )
    .await?;
    Ok(Some(number))
}

/// The resident's most recently resolved ticket still awaiting its revisit, resolved after
/// `since`: the one a "it broke again" is about.
pub async fn newest_resolved(
    conn: &mut PgConnection,
    resident_id: Uuid,
    since: DateTime<Utc>,
) -> sqlx::Result<Option<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT id, number FROM tickets
         WHERE resident_id = $1 AND status = 'resolved' AND resolved_at >= $2
         ORDER BY resolved_at DESC LIMIT 1",
    )
    .bind(resident_id)
    .bind(since)
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
