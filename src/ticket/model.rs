//! The ticket and the vocabulary every layer shares: kinds, urgencies, departments,
//! categories, statuses and severities, spelled as contract.md spells them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a closed set of labels that are stored and sent as lowercase strings.
macro_rules! labels {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s).ok_or_else(|| format!("unknown {} `{}`", stringify!($name).to_lowercase(), s))
            }
        }
    };
}

labels!(
    /// What the resident wants.
    Kind {
        Repair => "repair",
        Complaint => "complaint",
        Inquiry => "inquiry",
        Suggestion => "suggestion",
        Other => "other",
    }
);

labels!(
    /// Ordered from most to least pressing, so sorting puts emergencies first.
    Urgency {
        Emergency => "emergency",
        Urgent => "urgent",
        Normal => "normal",
    }
);

labels!(
    Department {
        Engineering => "engineering",
        Environment => "environment",
        Security => "security",
        CustomerService => "customer_service",
    }
);

labels!(
    /// Demand categories for statistics (诉求分类).
    Category {
        Housing => "housing",
        Equipment => "equipment",
        Safety => "safety",
        Environment => "environment",
        Services => "services",
        Dispute => "dispute",
        Developer => "developer",
        Other => "other",
    }
);

labels!(
    Status {
        Queued => "queued",
        Claimed => "claimed",
        InProgress => "in_progress",
        Resolved => "resolved",
        Closed => "closed",
        Reopened => "reopened",
        Cancelled => "cancelled",
    }
);

labels!(
    Role {
        Worker => "worker",
        Concierge => "concierge",
        Supervisor => "supervisor",
        Manager => "manager",
    }
);

impl Kind {
    /// The letter that starts a ticket number: `R2611220001`.
    pub fn letter(self) -> char {
        match self {
            Kind::Repair => 'R',
            Kind::Complaint => 'C',
            Kind::Inquiry => 'Q',
            Kind::Suggestion => 'S',
            Kind::Other => 'O',
        }
    }
}

impl Urgency {
    /// 0 for the most pressing; used as the first key of queue order.
    pub fn rank(self) -> u8 {
        match self {
            Urgency::Emergency => 0,
            Urgency::Urgent => 1,
            Urgency::Normal => 2,
        }
    }
}

impl Status {
    /// Waiting in a department queue for someone to take it.
    pub fn is_queued(self) -> bool {
        matches!(self, Status::Queued | Status::Reopened)
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Cancelled)
    }
}

/// A ticket as stored and as the staff API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: Uuid,
    pub number: String,
    pub resident_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: KindCol,
    #[sqlx(try_from = "String")]
    pub category: CategoryCol,
    #[sqlx(try_from = "String")]
    pub urgency: UrgencyCol,
    #[sqlx(try_from = "String")]
    pub department: DepartmentCol,
    #[sqlx(try_from = "String")]
    pub status: StatusCol,
    pub severity: i16,
    pub important: bool,
    pub summary: String,
    pub description: String,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub location: Option<String>,
    pub contact_phone: Option<String>,
    pub preferred_time: Option<String>,
    pub locale: String,
    pub assignee: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub reopen_count: i32,
    pub escalation_level: i16,
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

/// Column wrappers so `sqlx::FromRow` can read text columns into the label enums while the
/// JSON shows the plain label.
macro_rules! label_column {
    ($col:ident, $label:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $col(pub $label);

        impl TryFrom<String> for $col {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse().map($col)
            }
        }

        impl std::ops::Deref for $col {
            type Target = $label;
            fn deref(&self) -> &$label {
                &self.0
            }
        }
    };
}

label_column!(KindCol, Kind);
label_column!(CategoryCol, Category);
label_column!(UrgencyCol, Urgency);
label_column!(DepartmentCol, Department);
label_column!(StatusCol, Status);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_text_and_json() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
        assert_eq!(Department::CustomerService.as_str(), "customer_service");
        assert!(Kind::parse("bogus").is_none());
    }

    #[test]
    fn urgency_sorts_emergency_first() {
        let mut v = vec![Urgency::Normal, Urgency::Emergency, Urgency::Urgent];
        v.sort();
        assert_eq!(
            v,
            vec![Urgency::Emergency, Urgency::Urgent, Urgency::Normal]
        );
    }
}
