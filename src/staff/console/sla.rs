//! The SLA clock as the console shows it: time left to a deadline, or how long it is
//! overdue (pure, so the board, the detail page and the tests agree).

use chrono::{DateTime, Utc};

use crate::ticket::{Status, Ticket};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Nothing is due: no deadline, or the ticket is past the stage it measures.
    None,
    /// Seconds left.
    Left(i64),
    /// Seconds past the deadline.
    Overdue(i64),
}

impl Clock {
    pub fn at(now: DateTime<Utc>, due: Option<DateTime<Utc>>) -> Self {
        match due {
            None => Clock::None,
            Some(due) => {
                let secs = (due - now).num_seconds();
                if secs >= 0 {
                    Clock::Left(secs)
                } else {
                    Clock::Overdue(-secs)
                }
            }
        }
    }

    pub fn is_overdue(self) -> bool {
        matches!(self, Clock::Overdue(_))
    }

    /// `1d 2h`, `3h 05m`, `12m`: the two largest units are enough at a glance.
    pub fn label(self) -> String {
        match self {
            Clock::None => "—".to_owned(),
            Clock::Left(s) => format!("{} left", span(s)),
            Clock::Overdue(s) => format!("overdue {}", span(s)),
        }
    }

    /// The CSS class the board colours by.
    pub fn class(self) -> &'static str {
        match self {
            Clock::None => "sla-none",
            Clock::Left(s) if s < 3600 => "sla-soon",
            Clock::Left(_) => "sla-ok",
            Clock::Overdue(_) => "sla-overdue",
        }
    }
}

pub fn span(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{secs}s")
    }
}

/// The deadline that matters now: the first response while nobody has taken the ticket,
/// the resolution once someone has; none after it is resolved.
pub fn relevant_due(t: &Ticket) -> Option<DateTime<Utc>> {
    match t.status {
        Status::Queued | Status::Reopened => t.respond_due_at.or(t.due_at),
        Status::Claimed | Status::InProgress => t.due_at,
        Status::Resolved | Status::Closed | Status::Cancelled => None,
    }
}

pub fn of(t: &Ticket, now: DateTime<Utc>) -> Clock {
    Clock::at(now, relevant_due(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    #[test]
    fn clock_counts_down_then_up() {
        assert_eq!(Clock::at(at(10, 0), None), Clock::None);
        assert_eq!(Clock::at(at(10, 0), Some(at(12, 5))), Clock::Left(7500));
        assert_eq!(Clock::at(at(10, 0), Some(at(10, 0))), Clock::Left(0));
        assert_eq!(Clock::at(at(10, 15), Some(at(10, 0))), Clock::Overdue(900));
        assert!(Clock::Overdue(1).is_overdue());
        assert!(!Clock::Left(0).is_overdue());
    }

    #[test]
    fn labels_and_classes() {
        assert_eq!(Clock::Left(7500).label(), "2h 05m left");
        assert_eq!(Clock::Overdue(900).label(), "overdue 15m");
        assert_eq!(Clock::None.label(), "—");
        assert_eq!(Clock::Left(3599).class(), "sla-soon");
        assert_eq!(Clock::Left(3600).class(), "sla-ok");
        assert_eq!(Clock::Overdue(1).class(), "sla-overdue");
        assert_eq!(Clock::None.class(), "sla-none");
    }

    fn ticket(status: &str) -> Ticket {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::nil(), "number": "R2611230001", "resident_id": uuid::Uuid::nil(),
            "kind": "repair", "category": "equipment", "urgency": "normal",
            "department": "engineering", "status": status, "severity": 1, "important": false,
            "summary": "s", "description": "d", "building": null, "unit": null, "room": null,
            "location": null, "contact_phone": null, "preferred_time": null, "locale": "zh-Hans",
            "assignee": null, "group_id": null, "reopen_count": 0, "escalation_level": 0,
            "created_at": at(9, 0), "respond_due_at": at(9, 30), "due_at": at(17, 0),
            "claimed_at": null, "lease_expires_at": null, "started_at": null,
            "resolved_at": null, "closed_at": null, "satisfaction": null, "updated_at": at(9, 0)
        }))
        .unwrap()
    }

    #[test]
    fn the_deadline_follows_the_stage() {
        for s in ["queued", "reopened"] {
            assert_eq!(relevant_due(&ticket(s)), Some(at(9, 30)), "{s}");
        }
        for s in ["claimed", "in_progress"] {
            assert_eq!(relevant_due(&ticket(s)), Some(at(17, 0)), "{s}");
        }
        for s in ["resolved", "closed", "cancelled"] {
            assert_eq!(relevant_due(&ticket(s)), None, "{s}");
        }
        assert_eq!(of(&ticket("queued"), at(10, 0)), Clock::Overdue(1800));
        assert_eq!(of(&ticket("claimed"), at(10, 0)), Clock::Left(7 * 3600));
    }

    #[test]
    fn spans_use_two_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(59), "59s");
        assert_eq!(span(60), "1m");
        assert_eq!(span(3600), "1h 00m");
        assert_eq!(span(90_061), "1d 1h");
        assert_eq!(span(-5), "0s");
    }
}
