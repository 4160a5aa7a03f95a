//! The calendar month a report covers, parsed once from `YYYY-MM` so that a `Month` that
//! exists is always a real month; its boundaries are taken in the property's local time.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Serialize, Serializer};

/// A calendar month, e.g. `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a month was refused; the message is shown to whoever typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("month must be written YYYY-MM (e.g. 2026-11), got `{0}`")]
pub struct BadMonth(pub String);

impl Month {
    /// Accepts exactly four digits, `-`, two digits, with a month 01–12 and a year from
    /// 1970 on (nothing in this system predates it).
    pub fn parse(s: &str) -> Result<Self, BadMonth> {
        let bad = || BadMonth(s.chars().take(40).collect());
        let bytes = s.as_bytes();
        if bytes.len() != 7 || bytes[4] != b'-' {
            return Err(bad());
        }
        let digits = |r: std::ops::Range<usize>| bytes[r].iter().all(u8::is_ascii_digit);
        if !digits(0..4) || !digits(5..7) {
            return Err(bad());
        }
        let year: i32 = s[0..4].parse().map_err(|_| bad())?;
        let month: u32 = s[5..7].parse().map_err(|_| bad())?;
        if year < 1970 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// The month containing `at` on the property's local calendar.
    pub fn containing(at: DateTime<Utc>, offset: FixedOffset) -> Self {
        use chrono::Datelike;
        let local = at.with_timezone(&offset);
        Self {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    fn first_day(self) -> NaiveDate {
        // Both fields were checked by `parse`/`next`, so day 1 always exists; the fallback
        // only keeps the type total.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// Local midnight of the 1st, as an instant.
    pub fn start(self, offset: FixedOffset) -> DateTime<FixedOffset> {
        let midnight = self.first_day().and_time(chrono::NaiveTime::MIN);
        // A fixed offset has no gaps or folds, so the local time maps to one instant.
        offset
            .from_local_datetime(&midnight)
            .single()
            .unwrap_or_else(|| midnight.and_utc().fixed_offset())
    }

    /// Local midnight of the 1st of the next month: the first instant not in this month.
    pub fn end(self, offset: FixedOffset) -> DateTime<FixedOffset> {
        self.next().start(offset)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = BadMonth;
    fn from_str(s: &str) -> Result<Self, BadMonth> {
        Self::parse(s)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn parses_well_formed_months() {
        let m = Month::parse("2026-11").unwrap();
        assert_eq!((m.year(), m.month()), (2026, 11));
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(Month::parse("1970-01").unwrap().to_string(), "1970-01");
        assert_eq!(Month::parse("2026-12").unwrap().month(), 12);
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "2026",
            "2026-1",
            "2026-001",
            "2026-13",
            "2026-00",
            "26-11",
            "2026/11",
            " 2026-11",
            "2026-11 ",
            "+026-11",
            "2026-1a",
            "２０２６-11",
            "1969-12",
            "2026-11-01",
            "abcd-ef",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn error_names_the_input_and_the_format() {
        let e = Month::parse("2026-13").unwrap_err().to_string();
        assert!(e.contains("YYYY-MM") && e.contains("2026-13"), "{e}");
    }

    #[test]
    fn boundaries_are_local_midnights() {
        let m = Month::parse("2026-11").unwrap();
        assert_eq!(m.start(cst()).to_rfc3339(), "2026-11-01T00:00:00+08:00");
        assert_eq!(m.end(cst()).to_rfc3339(), "2026-12-01T00:00:00+08:00");
        assert_eq!(
            m.start(cst()).with_timezone(&Utc).to_rfc3339(),
            "2026-10-31T16:00:00+00:00"
        );
    }

    #[test]
    fn december_rolls_into_the_next_year() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(m.end(cst()).to_rfc3339(), "2027-01-01T00:00:00+08:00");
    }

    #[test]
    fn containing_uses_local_calendar() {
        let at = "2026-11-30T16:30:00Z".parse::<DateTime<Utc>>().unwrap(); // 00:30 on Dec 1 local
        assert_eq!(Month::containing(at, cst()).to_string(), "2026-12");
        let at = "2026-11-30T15:30:00Z".parse::<DateTime<Utc>>().unwrap(); // 23:30 on Nov 30
        assert_eq!(Month::containing(at, cst()).to_string(), "2026-11");
    }

    #[test]
    fn serializes_as_its_text() {
        assert_eq!(
            serde_json::to_string(&Month::parse("2026-02").unwrap()).unwrap(),
            "\"2026-02\""
        );
    }
}
