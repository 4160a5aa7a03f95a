//! The monthly customer-service report (客服工作月报): counts, timeliness, satisfaction,
//! revisits, serious and recurring complaints, backlog and escalations for one month.
//!
//! `queries` fetches plain rows, `compute` turns them into `figures` without I/O, and
//! `csv`, `html` (with `svg` charts) render them; `routes` serves them over HTTP and
//! `cli::report` prints them.

pub mod compute;
pub mod csv;
pub mod escape;
pub mod figures;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod month;
pub mod queries;
pub mod routes;
pub mod svg;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::clock::{Clock, SystemClock};
use crate::configuration::Settings;

pub use compute::{compute, Params};
pub use figures::MonthlyReport;
pub use month::{BadMonth, Month};

/// The report for `month`, judged as of the system clock (for the command line, which
/// has no other clock).
pub async fn monthly(
    db: &PgPool,
    settings: &Settings,
    month: Month,
) -> anyhow::Result<MonthlyReport> {
    monthly_as_of(db, settings, month, SystemClock.now()).await
}

/// The report for `month`, with deadlines judged as of `as_of` (the caller's clock).
pub async fn monthly_as_of(
    db: &PgPool,
    settings: &Settings,
    month: Month,
    as_of: DateTime<Utc>,
) -> anyhow::Result<MonthlyReport> {
    let offset = settings.locale.offset();
    let start = month.start(offset).with_timezone(&Utc);
    let end = month.end(offset).with_timezone(&Utc);
    let rows = queries::fetch(db, start, end).await?;
    Ok(compute(
        &rows,
        month,
        &Params::from_settings(settings, as_of),
    ))
}

/// The renderings a report can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// The report in `format`, as text.
pub fn render(report: &MonthlyReport, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(report)?,
        Format::Csv => csv::render(report)?,
        Format::Html => html::render(report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_case_insensitively_and_refuse_others() {
        assert_eq!(Format::parse("json"), Some(Format::Json));
        assert_eq!(Format::parse("CSV"), Some(Format::Csv));
        assert_eq!(Format::parse("Html"), Some(Format::Html));
        assert_eq!(Format::parse("pdf"), None);
        assert_eq!(Format::parse(""), None);
        assert!(Format::Csv.content_type().starts_with("text/csv"));
    }

    #[test]
    fn every_format_renders_the_same_report() {
        let r = fixture::sample();
        let json: serde_json::Value =
            serde_json::from_str(&render(&r, Format::Json).unwrap()).unwrap();
        assert_eq!(json["received"], r.received);
        assert!(render(&r, Format::Csv).unwrap().starts_with("[summary]\n"));
        assert!(render(&r, Format::Html)
            .unwrap()
            .starts_with("<!DOCTYPE html>"));
    }
}
