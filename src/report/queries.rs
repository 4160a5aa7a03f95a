//! The report's only SQL: plain rows of the tickets a month touches, their events and
//! their surveys. Every figure is computed from these rows by `compute`, so the SQL stays
//! a dumb fetch that is easy to review.

use crate::ticket::Status;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// A ticket as the report sees it: labels stay text, so a label this build does not know
/// is still counted instead of failing the report.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TicketRow {
    pub id: Uuid,
    pub number: String,
    pub resident_id: Uuid,
    pub kind: String,
    pub category: String,
    pub urgency: String,
    pub department: String,
    pub status: String,
    pub severity: i16,
    pub important: bool,
    pub summary: String,
    pub building: Option<String>,
    pub group_id: Option<Uuid>,
    pub reopen_count: i32,
    pub created_at: DateTime<Utc>,
    pub respond_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfied_on_spot: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub ticket_id: Uuid,
    pub at: DateTime<Utc>,
    pub action: String,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SurveyRow {
    pub ticket_id: Uuid,
    pub round: i32,
    pub answered_at: Option<DateTime<Utc>>,
    pub rating: Option<i16>,
    pub answered_by: Option<String>,
}

/// One staff correction of the classifier (`nlu_corrections`): the labels before and after.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CorrectionRow {
    pub ticket_id: Uuid,
    pub at: DateTime<Utc>,
    pub from_kind: String,
    pub kind: String,
    pub from_urgency: String,
    pub urgency: String,
    pub from_department: String,
    pub department: String,
    pub from_category: String,
    pub category: String,
}

impl CorrectionRow {
    /// A correction of `ticket_id` at `at` from (kind, urgency, department, category) to
    /// another; for fixtures and tests.
    pub fn changed(ticket_id: Uuid, at: DateTime<Utc>, from: [&str; 4], to: [&str; 4]) -> Self {
        let [from_kind, from_urgency, from_department, from_category] = from.map(String::from);
        let [kind, urgency, department, category] = to.map(String::from);
        Self {
            ticket_id,
            at,
            from_kind,
            kind,
            from_urgency,
            urgency,
            from_department,
            department,
            from_category,
            category,
        }
    }
}

/// Everything `compute` needs for one month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub tickets: Vec<TicketRow>,
    pub events: Vec<EventRow>,
    pub surveys: Vec<SurveyRow>,
    /// The corrections made in the month, on any ticket.
    pub corrections: Vec<CorrectionRow>,
}

/// Tickets created in `[start, end)`, plus every older ticket that could still have been
/// open during the month (not closed or cancelled now, or changed since `start`), with all
/// their events and surveys. The carry-over tickets are a superset of the month-end backlog
/// and of the tickets escalated in the month; `compute` narrows them down. Corrections are
/// fetched by their own date: a ticket corrected in the month is one of those tickets
/// anyway (only open tickets are corrected), so no join is needed.
pub async fn fetch(db: &PgPool, start: DateTime<Utc>, end: DateTime<Utc>) -> sqlx::Result<Rows> {
    let tickets: Vec<TicketRow> = sqlx::query_as(
        "SELECT id, number, resident_id, kind, category, urgency, department, status, severity,
                important, summary, building, group_id, reopen_count, created_at, respond_due_at,
                due_at, claimed_at, resolved_at, closed_at, satisfied_on_spot, updated_at
         FROM tickets
         WHERE created_at < $2
           AND (created_at >= $1 OR updated_at >= $1 OR status = ANY($3))
         ORDER BY created_at, number",
    )
    .bind(start)
    .bind(end)
    .bind(Status::OPEN)
    .fetch_all(db)
    .await?;
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT ticket_id, at, action, to_status, note FROM ticket_events
         WHERE ticket_id = ANY($1) ORDER BY at, id",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let surveys: Vec<SurveyRow> = sqlx::query_as(
        "SELECT ticket_id, round, answered_at, rating, answered_by FROM surveys
         WHERE ticket_id = ANY($1) ORDER BY ticket_id, round",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let corrections: Vec<CorrectionRow> = sqlx::query_as(
        "SELECT ticket_id, created_at AS at, from_kind, kind, from_urgency, urgency,
                from_department, department, from_category, category
         FROM nlu_corrections
         WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id",
    )
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?;
    Ok(Rows {
        tickets,
        events,
        surveys,
        corrections,
    })
}
