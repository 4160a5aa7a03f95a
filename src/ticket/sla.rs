//! SLA clocks: the limits written in `[sla.<kind>.<urgency>]` and the deadlines they put on
//! a new ticket (time to respond/claim, time to resolve). Pure: times come in as arguments.

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use serde::Deserialize;

use super::model::{Kind, Urgency};
use super::repository::Deadlines;

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

/// Read from the configuration (`"4h"`, `"15wd"`, `"same_day"`); a limit that does not parse
/// stops the configuration from loading, with the key named.
impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Limit::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Written back as the configuration writes it (`"30m"`, `"24h"`, `"15wd"`): residents are
/// told the time to respond in these words.
impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Limit::Elapsed(d) => {
                let secs = d.num_seconds();
                if secs % 86_400 == 0 && secs >= 2 * 86_400 {
                    write!(f, "{}d", secs / 86_400)
                } else if secs % 3600 == 0 && secs > 0 {
                    write!(f, "{}h", secs / 3600)
                } else if secs % 60 == 0 && secs > 0 {
                    write!(f, "{}m", secs / 60)
                } else {
                    write!(f, "{secs}s")
                }
            }
            Limit::WorkingDays(n) => write!(f, "{n}wd"),
            Limit::SameDay => f.write_str("same_day"),
        }
    }
}

/// The two limits of one `[sla.<kind>.<urgency>]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Limits {
    /// Time to respond (claim).
    pub respond: Limit,
    /// Time to resolve.
    pub resolve: Limit,
}

/// When the configuration has nothing for a kind at all.
pub const DEFAULT_LIMITS: Limits = Limits {
    respond: DEFAULT_RESPOND,
    resolve: DEFAULT_RESOLVE,
};

/// `[sla.<kind>.<urgency>]`, parsed once at boot: kinds, urgencies and limits are checked
/// when the configuration loads, so a lookup never fails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SlaTable(BTreeMap<Kind, BTreeMap<Urgency, Limits>>);

impl SlaTable {
    pub fn new(entries: impl IntoIterator<Item = (Kind, Urgency, Limits)>) -> Self {
        let mut t: BTreeMap<Kind, BTreeMap<Urgency, Limits>> = BTreeMap::new();
        for (k, u, l) in entries {
            t.entry(k).or_default().insert(u, l);
        }
        SlaTable(t)
    }

    /// The limits for a kind and urgency: the exact entry, else the kind's `normal`, else
    /// the built-in default.
    pub fn limits(&self, kind: Kind, urgency: Urgency) -> Limits {
        self.0
            .get(&kind)
            .and_then(|m| m.get(&urgency).or_else(|| m.get(&Urgency::Normal)))
            .copied()
            .unwrap_or(DEFAULT_LIMITS)
    }

    /// The deadlines of a ticket filed at `at`.
    pub fn deadlines(
        &self,
        kind: Kind,
        urgency: Urgency,
        at: DateTime<Utc>,
        offset: FixedOffset,
    ) -> Deadlines {
        let l = self.limits(kind, urgency);
        Deadlines {
            respond_due_at: Some(l.respond.deadline(at, offset)),
            due_at: Some(l.resolve.deadline(at, offset)),
        }
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

    fn table(entries: &[(Kind, Urgency, &str, &str)]) -> SlaTable {
        SlaTable::new(entries.iter().map(|(k, u, r, s)| {
            (
                *k,
                *u,
                Limits {
                    respond: Limit::parse(r).unwrap(),
                    resolve: Limit::parse(s).unwrap(),
                },
            )
        }))
    }

    #[test]
    fn lookup_falls_back_from_urgency_to_normal_to_default() {
        let t = table(&[
            (Kind::Repair, Urgency::Emergency, "15m", "4h"),
            (Kind::Repair, Urgency::Normal, "30m", "7d"),
            (Kind::Complaint, Urgency::Normal, "30m", "15wd"),
        ]);
        let l = t.limits(Kind::Repair, Urgency::Emergency);
        assert_eq!(l.respond, Limit::Elapsed(Duration::minutes(15)));
        assert_eq!(l.resolve, Limit::Elapsed(Duration::hours(4)));
        let l = t.limits(Kind::Repair, Urgency::Urgent);
        assert_eq!(l.respond, Limit::Elapsed(Duration::minutes(30)));
        assert_eq!(l.resolve, Limit::Elapsed(Duration::days(7)));
        assert_eq!(
            t.limits(Kind::Complaint, Urgency::Urgent).resolve,
            Limit::WorkingDays(15)
        );
        assert_eq!(t.limits(Kind::Inquiry, Urgency::Normal), DEFAULT_LIMITS);
    }

    #[test]
    fn limits_are_written_back_as_configured() {
        for s in ["15m", "30m", "1h", "24h", "4h", "7d", "15wd", "same_day"] {
            assert_eq!(Limit::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn deadlines_for_an_emergency_repair() {
        let t = table(&[(Kind::Repair, Urgency::Emergency, "15m", "4h")]);
        let at = local("2026-11-20T22:00:00");
        let d = t.deadlines(Kind::Repair, Urgency::Emergency, at, cst());
        assert_eq!(d.respond_due_at, Some(local("2026-11-20T22:15:00")));
        assert_eq!(d.due_at, Some(local("2026-11-21T02:00:00")));
    }

    #[test]
    fn shipped_configuration_parses() {
        let s =
            crate::configuration::Settings::load_from(std::path::Path::new("config/default.toml"))
                .unwrap();
        assert_eq!(
            s.sla.limits(Kind::Repair, Urgency::Urgent).resolve,
            Limit::SameDay
        );
        assert_eq!(
            s.sla.limits(Kind::Complaint, Urgency::Normal).resolve,
            Limit::WorkingDays(15)
        );
    }
}
