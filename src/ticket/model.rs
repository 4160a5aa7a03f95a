//! The ticket as stored and as the staff API shows it. Its vocabulary lives in
//! `domain::labels`; it is re-exported here so `ticket::model::Status` keeps working.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::domain::labels::{
    Category, Department, EscalationLevel, Kind, Role, Severity, Status, Urgency,
};
use crate::domain::Locale;

/// A ticket as stored and as the staff API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: Uuid,
    pub number: String,
    pub resident_id: Uuid,
    pub kind: Kind,
    pub category: Category,
    pub urgency: Urgency,
    pub department: Department,
    pub status: Status,
    pub severity: Severity,
    pub important: bool,
    pub summary: String,
    pub description: String,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub location: Option<String>,
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
