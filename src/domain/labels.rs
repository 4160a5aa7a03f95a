//! The vocabulary every layer shares — kinds, urgencies, departments, categories, statuses,
//! roles, complaint severity and escalation level — spelled as contract.md spells them.
//!
//! Each label is stored in a `TEXT` column (with a CHECK constraint listing the same
//! spellings, see `migrations/`) and read and bound directly: `sqlx` encodes and decodes
//! them as text, so a row that holds an unknown label fails to decode instead of turning
//! into a default.

use serde::{Deserialize, Serialize};

/// `sqlx` support for a type stored as its `as_str()` spelling in a `TEXT` column (and
/// `TEXT[]` for `= ANY($1)`), parsed back with `parse`.
macro_rules! text_column {
    ($name:ident) => {
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Self::parse(s).ok_or_else(|| {
                    format!("unknown {} `{}`", stringify!($name).to_lowercase(), s).into()
                })
            }
        }
    };
}
pub(crate) use text_column;

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

        text_column!($name);
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

impl Status {
    /// Waiting in a department queue for someone to take it: `queued`, `reopened`.
    pub const QUEUED: &'static [Status] = &[Status::Queued, Status::Reopened];
    /// Someone holds it: `claimed`, `in_progress`.
    pub const HELD: &'static [Status] = &[Status::Claimed, Status::InProgress];
    /// Work not yet done: queued or held (the SLA clocks run).
    pub const WORKING: &'static [Status] = &[
        Status::Queued,
        Status::Reopened,
        Status::Claimed,
        Status::InProgress,
    ];
    /// Not closed or cancelled.
    pub const OPEN: &'static [Status] = &[
        Status::Queued,
        Status::Reopened,
        Status::Claimed,
        Status::InProgress,
        Status::Resolved,
    ];
    /// Still waiting for a resolution: not resolved, closed or cancelled.
    pub const UNRESOLVED: &'static [Status] = Status::WORKING;
    /// Every status but `cancelled` (what counts as a complaint having been made).
    pub const NOT_CANCELLED: &'static [Status] = &[
        Status::Queued,
        Status::Reopened,
        Status::Claimed,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
    ];
}

/// Complaint severity (投诉等级), 1 (gravest) to 4 (一般). Lower is graver.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(try_from = "i16", into = "i16")]
#[sqlx(transparent)]
pub struct Severity(i16);

impl Severity {
    /// Level 4 (一般): everything not raised by a rule.
    pub const ORDINARY: Severity = Severity(4);

    pub fn new(level: i16) -> Option<Self> {
        (1..=4).contains(&level).then_some(Severity(level))
    }

    pub fn level(self) -> i16 {
        self.0
    }

    /// Raising never lowers a level already reached.
    pub fn raise(self, to: Option<Severity>) -> Severity {
        to.map_or(self, |l| self.min(l))
    }
}

impl TryFrom<i16> for Severity {
    type Error = String;
    fn try_from(level: i16) -> Result<Self, String> {
        Severity::new(level).ok_or_else(|| format!("severity {level} is not 1 to 4"))
    }
}

/// `ticket.severity == 3` reads as the level it is.
impl PartialEq<i16> for Severity {
    fn eq(&self, level: &i16) -> bool {
        self.0 == *level
    }
}

impl From<Severity> for i16 {
    fn from(s: Severity) -> i16 {
        s.0
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How far a late ticket has climbed: 0 (not escalated), then one level per interval
/// (concierge → supervisor → manager).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct EscalationLevel(pub i16);

impl EscalationLevel {
    pub const NONE: EscalationLevel = EscalationLevel(0);

    pub fn get(self) -> i16 {
        self.0
    }
}

impl std::fmt::Display for EscalationLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

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

    #[test]
    fn status_sets_agree_with_the_predicates() {
        for s in Status::ALL {
            assert_eq!(Status::QUEUED.contains(s), s.is_queued());
            assert_eq!(Status::OPEN.contains(s), s.is_open());
        }
    }

    #[test]
    fn severity_is_one_to_four_and_raises_downwards() {
        assert!(Severity::new(0).is_none() && Severity::new(5).is_none());
        let three = Severity::new(3).unwrap();
        assert_eq!(Severity::ORDINARY.raise(Some(three)), three);
        assert_eq!(three.raise(Severity::new(4)), three);
        assert!(serde_json::from_str::<Severity>("7").is_err());
        assert_eq!(serde_json::to_string(&three).unwrap(), "3");
    }
}

/// Ticket labels are bound as parameters (`status = ANY($1)` with `Status::OPEN`, …): a
/// status, kind or department quoted as an SQL literal (`status = ` then the label in single quotes) is allowed
/// only in the ticket repository (and the migrations, outside `src/`).
#[cfg(test)]
mod no_label_literals_in_sql {
    use super::{Department, Kind, Status};
    use std::path::Path;

    const ALLOWED: &[&str] = &["src/ticket/repository.rs"];

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn only_the_repository_spells_ticket_labels_in_sql() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let labels: Vec<String> = Status::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(Kind::ALL.iter().map(|k| k.as_str()))
            .chain(Department::ALL.iter().map(|d| d.as_str()))
            .map(|l| format!("'{l}'"))
            .collect();
        let mut files = Vec::new();
        rust_files(&root.join("src"), &mut files);
        let mut found = Vec::new();
        for path in files {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if ALLOWED.contains(&rel.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if let Some(l) = labels.iter().find(|l| line.contains(l.as_str())) {
                    found.push(format!("{rel}:{}: {l} in `{}`", n + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "bind a label (e.g. `status = ANY($1)` with `Status::OPEN`) instead of spelling \
             it in SQL:\n{}",
            found.join("\n")
        );
    }
}
