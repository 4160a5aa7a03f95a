//! The escalation rules (逐级升级), pure: when a ticket is late, how far it has climbed and
//! who hears of each level. `schedule::escalation` applies them to the database and sends
//! the notices; times come in as arguments.

use chrono::{DateTime, Utc};

use super::model::{Role, Status};

pub const TOP_LEVEL: i16 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Nobody claimed it in time.
    Respond,
    /// Not resolved in time.
    Resolve,
}

impl Reason {
    /// The prompt key of the reason's text, in the residents' and staff's notices.
    pub fn prompt(self) -> &'static str {
        match self {
            Reason::Respond => "escalation.reason_respond",
            Reason::Resolve => "escalation.reason_resolve",
        }
    }
}

/// Since when, and why, a ticket is late; `None` when it is not.
pub fn breach(
    status: Status,
    respond_due_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, Reason)> {
    let respond = respond_due_at
        .filter(|t| status.is_queued() && *t <= now)
        .map(|t| (t, Reason::Respond));
    let unresolved = matches!(
        status,
        Status::Queued | Status::Reopened | Status::Claimed | Status::InProgress
    );
    let resolve = due_at
        .filter(|t| unresolved && *t <= now)
        .map(|t| (t, Reason::Resolve));
    match (respond, resolve) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The level a ticket late since `since` should have reached: 1 at once, one more per
/// `interval`, at most [`TOP_LEVEL`].
pub fn target_level(since: DateTime<Utc>, now: DateTime<Utc>, interval: chrono::Duration) -> i16 {
    if now < since {
        return 0;
    }
    let steps = if interval <= chrono::Duration::zero() {
        i64::from(TOP_LEVEL)
    } else {
        (now - since).num_seconds() / interval.num_seconds().max(1)
    };
    (1 + steps).clamp(1, i64::from(TOP_LEVEL)) as i16
}

/// Who hears of a level: role, and whether to prefer the ticket's department.
pub fn recipients(level: i16) -> &'static [(Role, Scope)] {
    match level {
        1 => &[
            (Role::Concierge, Scope::Building),
            (Role::Supervisor, Scope::Department),
        ],
        2 => &[(Role::Supervisor, Scope::CustomerService)],
        _ => &[(Role::Manager, Scope::Anyone)],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The concierge looking after the ticket's building.
    Building,
    /// Someone of the ticket's department.
    Department,
    /// Someone of customer service (客服主管).
    CustomerService,
    Anyone,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn unclaimed_past_response_time_is_late() {
        assert_eq!(
            breach(Status::Queued, Some(at(1)), Some(at(10)), at(2)),
            Some((at(1), Reason::Respond))
        );
        assert_eq!(
            breach(Status::Reopened, Some(at(1)), None, at(2)),
            Some((at(1), Reason::Respond))
        );
        assert_eq!(
            breach(Status::Queued, Some(at(3)), Some(at(10)), at(2)),
            None
        );
    }

    #[test]
    fn claimed_tickets_are_late_only_past_resolution_time() {
        assert_eq!(
            breach(Status::Claimed, Some(at(1)), Some(at(10)), at(2)),
            None
        );
        assert_eq!(
            breach(Status::InProgress, Some(at(1)), Some(at(10)), at(11)),
            Some((at(10), Reason::Resolve))
        );
    }

    #[test]
    fn the_earlier_deadline_counts() {
        assert_eq!(
            breach(Status::Queued, Some(at(5)), Some(at(3)), at(6)),
            Some((at(3), Reason::Resolve))
        );
        assert_eq!(
            breach(Status::Queued, Some(at(1)), Some(at(3)), at(6)),
            Some((at(1), Reason::Respond))
        );
    }

    #[test]
    fn finished_tickets_are_never_late() {
        for s in [Status::Resolved, Status::Closed, Status::Cancelled] {
            assert_eq!(breach(s, Some(at(1)), Some(at(2)), at(9)), None, "{s}");
        }
        assert_eq!(breach(Status::Queued, None, None, at(9)), None);
    }

    #[test]
    fn levels_climb_one_per_interval_up_to_three() {
        let i = Duration::hours(2);
        assert_eq!(target_level(at(5), at(4), i), 0);
        assert_eq!(target_level(at(5), at(5), i), 1);
        assert_eq!(target_level(at(5), at(6), i), 1);
        assert_eq!(target_level(at(5), at(7), i), 2);
        assert_eq!(target_level(at(5), at(9), i), 3);
        assert_eq!(target_level(at(5), at(500), i), 3);
        assert_eq!(target_level(at(5), at(5), Duration::zero()), 3);
    }

    #[test]
    fn each_level_has_its_people() {
        assert_eq!(
            recipients(1),
            &[
                (Role::Concierge, Scope::Building),
                (Role::Supervisor, Scope::Department)
            ]
        );
        assert_eq!(recipients(2), &[(Role::Supervisor, Scope::CustomerService)]);
        assert_eq!(recipients(3), &[(Role::Manager, Scope::Anyone)]);
    }
}
