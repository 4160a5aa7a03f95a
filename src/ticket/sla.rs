//! SLA clocks: the limits written in `[sla.<kind>.<urgency>]` and the deadlines they put on
//! a new ticket (time to respond/claim, time to resolve). Pure: times come in as arguments.

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};

use super::model::{Kind, Urgency};
use super::repository::Deadlines;
use crate::configuration::SlaSettings;

/// A limit as the configuration writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `"15m"`, `"4h"`, `"7d"`: elapsed time.
    Elapsed(Duration),
    /// `"15wd"`: working days (Mon–Fri) in the property's time zone, same time of day.
    WorkingDays(u32),
    /// `"same_day"`: by the end of the local day (急修不过夜); a report after the desk closes
    /// (18:00) gets until the end of the next day.
    SameDay,
}

/// After this local hour a same-day limit rolls to the next day.
const SAME_DAY_CUTOFF_HOUR: u32 = 18;

/// When the configuration has nothing for a kind at all.
const DEFAULT_RESPOND: Limit = Limit::Elapsed(Duration::hours(24));
const DEFAULT_RESOLVE: Limit = Limit::Elapsed(Duration::days(3));

impl Limit {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "same_day" {
            return Ok(Limit::SameDay);
        }
        if let Some(n) = s.strip_suffix("wd") {
            return n
                .trim()
                .parse()
                .map(Limit::WorkingDays)
                .map_err(|_| format!("bad working-day limit `{s}`"));
        }
        let d = humantime::parse_duration(s).map_err(|e| format!("bad limit `{s}`: {e}"))?;
        Duration::from_std(d)
            .map(Limit::Elapsed)
            .map_err(|_| format!("limit `{s}` is too long"))
    }

    /// The deadline for something that starts at `from`.
    pub fn deadline(self, from: DateTime<Utc>, offset: FixedOffset) -> DateTime<Utc> {
        match self {
            Limit::Elapsed(d) => from + d,
            Limit::WorkingDays(n) => add_working_days(from, n, offset),
            Limit::SameDay => {
                let local = from.with_timezone(&offset);
                let mut day = local.date_naive();
                if local.hour() >= SAME_DAY_CUTOFF_HOUR {
                    day = day.succ_opt().unwrap_or(day);
                }
                let end = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
                offset
                    .from_local_datetime(&end)
                    .single()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(from + Duration::hours(24))
            }
        }
    }
}

fn is_working_day(d: Weekday) -> bool {
    !matches!(d, Weekday::Sat | Weekday::Sun)
}

/// Steps `n` working days forward in local time, keeping the time of day; a start on a
/// weekend counts from the next working day.
fn add_working_days(from: DateTime<Utc>, n: u32, offset: FixedOffset) -> DateTime<Utc> {
    let mut t = from.with_timezone(&offset);
    let mut left = n;
    while left > 0 {
        t += Duration::days(1);
        if is_working_day(t.weekday()) {
            left -= 1;
        }
    }
    t.with_timezone(&Utc)
}

/// The limits for a kind and urgency: the exact entry, else the kind's `normal`, else the
/// built-in default. A limit that does not parse falls back the same way (and is logged).
pub fn limits(
    sla: &BTreeMap<String, BTreeMap<String, SlaSettings>>,
    kind: Kind,
    urgency: Urgency,
) -> (Limit, Limit) {
    let by_kind = sla.get(kind.as_str());
    let exact = by_kind.and_then(|m| m.get(urgency.as_str()));
    let normal = by_kind.and_then(|m| m.get(Urgency::Normal.as_str()));
    let pick = |f: fn(&SlaSettings) -> &str, default: Limit| {
        [exact, normal]
            .into_iter()
            .flatten()
            .find_map(|s| match Limit::parse(f(s)) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(kind = %kind, urgency = %urgency, "sla: {e}");
                    None
                }
            })
            .unwrap_or(default)
    };
    (
        pick(|s| &s.respond, DEFAULT_RESPOND),
        pick(|s| &s.resolve, DEFAULT_RESOLVE),
    )
}

/// The deadlines of a ticket filed at `at`.
pub fn deadlines(
    sla: &BTreeMap<String, BTreeMap<String, SlaSettings>>,
    kind: Kind,
    urgency: Urgency,
    at: DateTime<Utc>,
    offset: FixedOffset,
) -> Deadlines {
    let (respond, resolve) = limits(sla, kind, urgency);
    Deadlines {
        respond_due_at: Some(respond.deadline(at, offset)),
        due_at: Some(resolve.deadline(at, offset)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    /// A local (UTC+8) time as UTC.
    fn local(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{s}+08:00"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn parses_every_written_form() {
        assert_eq!(
            Limit::parse("15m"),
            Ok(Limit::Elapsed(Duration::minutes(15)))
        );
        assert_eq!(
            Limit::parse("30m"),
            Ok(Limit::Elapsed(Duration::minutes(30)))
        );
        assert_eq!(Limit::parse("4h"), Ok(Limit::Elapsed(Duration::hours(4))));
        assert_eq!(Limit::parse("7d"), Ok(Limit::Elapsed(Duration::days(7))));
        assert_eq!(Limit::parse("15wd"), Ok(Limit::WorkingDays(15)));
        assert_eq!(Limit::parse("same_day"), Ok(Limit::SameDay));
        assert!(Limit::parse("soon").is_err());
        assert!(Limit::parse("xwd").is_err());
        assert!(Limit::parse("").is_err());
    }

    #[test]
    fn elapsed_limits_add_plainly() {
        let t = local("2026-11-20T10:00:00");
        assert_eq!(
            Limit::parse("4h").unwrap().deadline(t, cst()),
            local("2026-11-20T14:00:00")
        );
    }

    #[test]
    fn working_days_skip_weekends() {
        // 2026-11-20 is a Friday.
        let fri = local("2026-11-20T10:00:00");
        assert_eq!(
            Limit::WorkingDays(1).deadline(fri, cst()),
            local("2026-11-23T10:00:00")
        );
        assert_eq!(
            Limit::WorkingDays(5).deadline(fri, cst()),
            local("2026-11-27T10:00:00")
        );
        assert_eq!(
            Limit::WorkingDays(15).deadline(fri, cst()),
            local("2026-12-11T10:00:00")
        );
        let sat = local("2026-11-21T09:00:00");
        assert_eq!(
            Limit::WorkingDays(1).deadline(sat, cst()),
            local("2026-11-23T09:00:00")
        );
    }

    #[test]
    fn working_days_use_the_property_day_not_utc() {
        // Friday 07:00 local is Thursday 23:00 UTC: still Friday for the property.
        let fri_morning = local("2026-11-20T07:00:00");
        assert_eq!(
            Limit::WorkingDays(1).deadline(fri_morning, cst()),
            local("2026-11-23T07:00:00")
        );
    }

    #[test]
    fn same_day_ends_the_local_day_or_the_next_after_hours() {
        assert_eq!(
            Limit::SameDay.deadline(local("2026-11-20T10:00:00"), cst()),
            local("2026-11-20T23:59:59")
        );
        assert_eq!(
            Limit::SameDay.deadline(local("2026-11-20T17:59:00"), cst()),
            local("2026-11-20T23:59:59")
        );
        assert_eq!(
            Limit::SameDay.deadline(local("2026-11-20T18:00:00"), cst()),
            local("2026-11-21T23:59:59")
        );
        // 01:00 local is the previous day in UTC.
        assert_eq!(
            Limit::SameDay.deadline(local("2026-11-20T01:00:00"), cst()),
            local("2026-11-20T23:59:59")
        );
    }

    fn table(
        entries: &[(&str, &str, &str, &str)],
    ) -> BTreeMap<String, BTreeMap<String, SlaSettings>> {
        let mut t: BTreeMap<String, BTreeMap<String, SlaSettings>> = BTreeMap::new();
        for (k, u, r, s) in entries {
            t.entry(k.to_string()).or_default().insert(
                u.to_string(),
                SlaSettings {
                    respond: r.to_string(),
                    resolve: s.to_string(),
                },
            );
        }
        t
    }

    #[test]
    fn lookup_falls_back_from_urgency_to_normal_to_default() {
        let t = table(&[
            ("repair", "emergency", "15m", "4h"),
            ("repair", "normal", "30m", "7d"),
            ("complaint", "normal", "bogus", "15wd"),
        ]);
        assert_eq!(
            limits(&t, Kind::Repair, Urgency::Emergency),
            (
                Limit::Elapsed(Duration::minutes(15)),
                Limit::Elapsed(Duration::hours(4))
            )
        );
        assert_eq!(
            limits(&t, Kind::Repair, Urgency::Urgent),
            (
                Limit::Elapsed(Duration::minutes(30)),
                Limit::Elapsed(Duration::days(7))
            )
        );
        assert_eq!(
            limits(&t, Kind::Complaint, Urgency::Urgent),
            (DEFAULT_RESPOND, Limit::WorkingDays(15))
        );
        assert_eq!(
            limits(&t, Kind::Inquiry, Urgency::Normal),
            (DEFAULT_RESPOND, DEFAULT_RESOLVE)
        );
    }

    #[test]
    fn deadlines_for_an_emergency_repair() {
        let t = table(&[("repair", "emergency", "15m", "4h")]);
        let at = local("2026-11-20T22:00:00");
        let d = deadlines(&t, Kind::Repair, Urgency::Emergency, at, cst());
        assert_eq!(d.respond_due_at, Some(local("2026-11-20T22:15:00")));
        assert_eq!(d.due_at, Some(local("2026-11-21T02:00:00")));
    }

    #[test]
    fn shipped_configuration_parses() {
        let s =
            crate::configuration::Settings::load_from(std::path::Path::new("config/default.toml"))
                .unwrap();
        for (kind, m) in &s.sla {
            assert!(Kind::parse(kind).is_some(), "{kind}");
            for (u, l) in m {
                assert!(Urgency::parse(u).is_some(), "{u}");
                Limit::parse(&l.respond).unwrap();
                Limit::parse(&l.resolve).unwrap();
            }
        }
    }
}
