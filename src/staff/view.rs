//! The ticket as the staff API shows it (contract.md, "Ticket JSON").

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Locale;
use crate::ticket::{EscalationLevel, Severity, Ticket};

#[derive(Debug, Serialize)]
pub struct TicketJson {
    pub id: Uuid,
    pub number: String,
    pub kind: String,
    pub category: String,
    pub urgency: String,
    pub department: String,
    pub status: String,
    pub severity: Severity,
    pub important: bool,
    pub summary: String,
    pub description: String,
    /// The place as one line: what the resident wrote, else building-unit-room.
    pub location: Option<String>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub contact_phone: Option<String>,
    pub preferred_time: Option<String>,
    pub locale: Locale,
    pub assignee: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub reopen_count: i32,
    pub escalation_level: EscalationLevel,
    pub created_at: DateTime<Utc>,
    pub respond_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<i16>,
    pub updated_at: DateTime<Utc>,
}

/// Joins the parts of an address the way residents write it: `3栋2单元1101`-like parts
/// become `3-2-1101`.
pub fn location(t: &Ticket) -> Option<String> {
    if let Some(l) = t.location.as_deref().filter(|l| !l.trim().is_empty()) {
        return Some(l.to_owned());
    }
    let parts: Vec<&str> = [&t.building, &t.unit, &t.room]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    (!parts.is_empty()).then(|| parts.join("-"))
}

impl From<&Ticket> for TicketJson {
    fn from(t: &Ticket) -> Self {
        Self {
            id: t.id,
            number: t.number.clone(),
            kind: t.kind.as_str().into(),
            category: t.category.as_str().into(),
            urgency: t.urgency.as_str().into(),
            department: t.department.as_str().into(),
            status: t.status.as_str().into(),
            severity: t.severity,
            important: t.important,
            summary: t.summary.clone(),
            description: t.description.clone(),
            location: location(t),
            building: t.building.clone(),
            unit: t.unit.clone(),
            room: t.room.clone(),
            contact_phone: t.contact_phone.clone(),
            preferred_time: t.preferred_time.clone(),
            locale: t.locale,
            assignee: t.assignee,
            group_id: t.group_id,
            reopen_count: t.reopen_count,
            escalation_level: t.escalation_level,
            created_at: t.created_at,
            respond_due_at: t.respond_due_at,
            due_at: t.due_at,
            claimed_at: t.claimed_at,
            lease_expires_at: t.lease_expires_at,
            started_at: t.started_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            satisfaction: t.satisfaction,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct EventJson {
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AttachmentJson {
    pub kind: String,
    pub url: Option<String>,
    pub media_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketJson,
    pub events: Vec<EventJson>,
    pub attachments: Vec<AttachmentJson>,
}
