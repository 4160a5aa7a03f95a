//! What the monthly report says, as plain serializable values. Each field's doc comment
//! is the definition the figure is computed by (see `compute`), so the JSON, CSV and HTML
//! renderings all mean the same thing.
//!
//! Terms used below: the month runs from local midnight of the 1st (`period_start`) to
//! local midnight of the next 1st (`period_end`, excluded), in the property's UTC offset.
//! **The month's tickets** are those with `period_start <= created_at < period_end`,
//! whatever their kind or status (cancelled ones included unless said otherwise).
//! `as_of` is when the report was computed: deadlines after it are not yet judged.

use chrono::{DateTime, FixedOffset};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use super::month::Month;

/// Counts under labels, in a fixed order (every known label first, zeros included, then
/// any unknown label found in the data, alphabetically). Serialized as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub Vec<(String, u64)>);

impl Tally {
    /// The count under `key`, 0 when absent.
    pub fn get(&self, key: &str) -> u64 {
        self.0.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    pub fn max(&self) -> u64 {
        self.0.iter().map(|(_, n)| *n).max().unwrap_or(0)
    }
}

impl Serialize for Tally {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, n) in &self.0 {
            map.serialize_entry(k, n)?;
        }
        map.end()
    }
}

/// A share: `numerator / denominator`, or `null` when nothing was counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rate {
    pub numerator: u64,
    pub denominator: u64,
    pub rate: Option<f64>,
}

impl Rate {
    pub fn of(numerator: u64, denominator: u64) -> Self {
        let rate = (denominator > 0).then(|| numerator as f64 / denominator as f64);
        Self {
            numerator,
            denominator,
            rate,
        }
    }
}

/// How long something took, over the tickets where it happened. Percentiles use the
/// nearest-rank method (the smallest sample with at least p% of samples at or below it),
/// in whole seconds; `null` when there is no sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timing {
    pub count: u64,
    pub p50_secs: Option<i64>,
    pub p90_secs: Option<i64>,
    pub p99_secs: Option<i64>,
    /// Among the month's tickets that have the deadline: met = the event happened at or
    /// before it; judged = it happened, or the deadline passed before `as_of` without it.
    /// Tickets whose deadline is still ahead and that have not got there are not judged,
    /// nor are cancelled tickets that never got there (cancelling is not a miss).
    pub within_sla: Rate,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Satisfaction {
    /// Survey rounds of the month's tickets with a rating (by the resident or a staff
    /// member's manual revisit), every round counted: a reopened ticket asked twice
    /// counts twice.
    pub answered: u64,
    /// Of those, ratings 4 or 5; `rate` = satisfied / answered.
    pub satisfied: Rate,
    /// Mean rating over the answered rounds.
    pub average_rating: Option<f64>,
    /// Answered rounds per rating, `"1"` to `"5"`.
    pub distribution: Tally,
}

/// One complaint named in the report. The summary has phone numbers masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintLine {
    pub number: String,
    pub summary: String,
    pub severity: i16,
    pub status: String,
    pub category: String,
    pub building: Option<String>,
    pub created_at: DateTime<FixedOffset>,
}

/// Complaints linked by one `group_id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotGroup {
    pub group_id: Uuid,
    /// Distinct residents among the group's complaints of the month.
    pub residents: u64,
    /// The group's complaints of the month, oldest first.
    pub numbers: Vec<String>,
    pub category: String,
    /// The oldest complaint's summary, phones masked.
    pub summary: String,
    /// The most serious (lowest) severity in the group.
    pub severity: i16,
}

/// A (building, category) pair that came back within the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recurring {
    pub building: String,
    pub category: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Backlog {
    /// Tickets created before `period_end` whose status at `period_end` was queued,
    /// claimed, in progress or reopened (work not yet done). The status at an instant is
    /// the `to_status` of the ticket's last event before it; a ticket without such an
    /// event falls back to its columns (closed_at / resolved_at before the instant, else
    /// its current status if it was last updated before the instant, else queued).
    pub total: u64,
    /// Of those, with a `due_at` before `period_end`.
    pub overdue: u64,
    pub by_department: Tally,
    pub by_status: Tally,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Escalations {
    /// Events whose action starts with `escalat` (any case) dated inside the month, on any
    /// ticket (older tickets included).
    pub events: u64,
    /// Distinct tickets among them.
    pub tickets: u64,
    /// Distinct escalated tickets per department.
    pub by_department: Tally,
}

/// Staff corrections of the classifier dated inside the month, on any ticket (one
/// `nlu_corrections` row, and one `reclassified` event, per correction that changed
/// something).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reclassified {
    pub events: u64,
    /// Distinct tickets among them.
    pub tickets: u64,
    /// Each label a correction changed, counted by (field, from, to): most frequent first,
    /// then by field, from and to. A correction that changed two labels counts under both.
    pub changes: Vec<ChangeCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeCount {
    pub field: String,
    pub from: String,
    pub to: String,
    pub count: u64,
}

/// The monthly customer-service report (客服工作月报).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyReport {
    pub month: Month,
    pub period_start: DateTime<FixedOffset>,
    pub period_end: DateTime<FixedOffset>,
    pub as_of: DateTime<FixedOffset>,
    /// The month's tickets.
    pub received: u64,
    /// The month's tickets whose current status is cancelled.
    pub cancelled: u64,
    /// The month's tickets per kind / category / department / urgency.
    pub by_kind: Tally,
    pub by_category: Tally,
    pub by_department: Tally,
    pub by_urgency: Tally,
    /// The month's complaints (kind = complaint) per severity level, `"1"` to `"4"`.
    pub complaints_by_severity: Tally,
    /// Created → first claim. The first claim is the earliest event with `to_status =
    /// claimed`, else the `claimed_at` column. Deadline: `respond_due_at`.
    pub response: Timing,
    /// Created → final resolution, for tickets now resolved or closed: `resolved_at`,
    /// else `closed_at`. A reopened ticket counts from creation to its last resolution.
    /// Deadline: `due_at`.
    pub resolution: Timing,
    pub satisfaction: Satisfaction,
    /// Revisit rate (回访率): among the month's tickets that were ever resolved (see
    /// `reopen`) and not cancelled, leaving out those the resident confirmed satisfied on
    /// the spot (no revisit needed), the share with at least one answered survey round.
    pub revisit: Rate,
    /// Reopen rate: the month's tickets with `reopen_count > 0` over the month's tickets
    /// ever resolved (a resolution time, a closing time, a reopen, or status resolved or
    /// closed).
    pub reopen: Rate,
    /// The month's complaints of severity 1–3 (reported to management), most serious first,
    /// then oldest first.
    pub serious_complaints: Vec<ComplaintLine>,
    /// Hot complaints (热点): `group_id`s shared by the month's complaints of at least
    /// `hot_min_residents` (config `severity.hot_min_residents`) different residents,
    /// largest first.
    pub hot_complaints: Vec<HotGroup>,
    /// The month's complaints flagged important (重要: repeated after closure), oldest
    /// first.
    pub important_complaints: Vec<ComplaintLine>,
    /// Recurring problems: among the month's tickets with a building (cancelled ones
    /// left out), (building, category) pairs seen at least twice, most frequent first
    /// (ties by building, then category), at most `top_recurring` of them.
    pub recurring: Vec<Recurring>,
    pub backlog: Backlog,
    pub escalations: Escalations,
    pub reclassified: Reclassified,
}
