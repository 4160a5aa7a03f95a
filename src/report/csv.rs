//! The report as CSV for spreadsheets: one section per table, each opened by a `[name]`
//! line and its header, sections separated by a blank line. Free text that a spreadsheet
//! would take for a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.

use super::figures::{ComplaintLine, MonthlyReport, Rate, Tally, Timing};

/// The whole report.
pub fn render(r: &MonthlyReport) -> anyhow::Result<String> {
    let rate = |x: &Rate| x.rate.map(|v| format!("{v:.4}")).unwrap_or_default();
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    let summary: Vec<(&str, String)> = vec![
        ("month", r.month.to_string()),
        ("period_start", r.period_start.to_rfc3339()),
        ("period_end", r.period_end.to_rfc3339()),
        ("as_of", r.as_of.to_rfc3339()),
        ("received", r.received.to_string()),
        ("cancelled", r.cancelled.to_string()),
        ("satisfaction_answered", r.satisfaction.answered.to_string()),
        (
            "satisfaction_satisfied",
            r.satisfaction.satisfied.numerator.to_string(),
        ),
        ("satisfaction_rate", rate(&r.satisfaction.satisfied)),
        ("average_rating", opt(r.satisfaction.average_rating)),
        ("revisit_done", r.revisit.numerator.to_string()),
        ("revisit_needed", r.revisit.denominator.to_string()),
        ("revisit_rate", rate(&r.revisit)),
        ("reopened", r.reopen.numerator.to_string()),
        ("resolved_at_least_once", r.reopen.denominator.to_string()),
        ("reopen_rate", rate(&r.reopen)),
        ("backlog_total", r.backlog.total.to_string()),
        ("backlog_overdue", r.backlog.overdue.to_string()),
        ("escalation_events", r.escalations.events.to_string()),
        ("escalated_tickets", r.escalations.tickets.to_string()),
        ("reclassified_events", r.reclassified.events.to_string()),
        ("reclassified_tickets", r.reclassified.tickets.to_string()),
    ];
    let mut sections = vec![section(
        "summary",
        &["figure", "value"],
        summary.into_iter().map(|(k, v)| vec![k.to_string(), v]),
    )?];
    for (name, label, tally) in [
        ("by_kind", "kind", &r.by_kind),
        ("by_category", "category", &r.by_category),
        ("by_department", "department", &r.by_department),
        ("by_urgency", "urgency", &r.by_urgency),
        (
            "complaints_by_severity",
            "severity",
            &r.complaints_by_severity,
        ),
        (
            "satisfaction_distribution",
            "rating",
            &r.satisfaction.distribution,
        ),
    ] {
        sections.push(tally_section(name, label, tally)?);
    }
    sections.push(section(
        "timeliness",
        &[
            "measure",
            "count",
            "p50_secs",
            "p90_secs",
            "p99_secs",
            "sla_met",
            "sla_judged",
            "sla_rate",
        ],
        [("response", &r.response), ("resolution", &r.resolution)]
            .into_iter()
            .map(|(n, t)| timing_row(n, t)),
    )?);
    sections.push(complaint_section(
        "serious_complaints",
        &r.serious_complaints,
    )?);
    sections.push(section(
        "hot_complaints",
        &[
            "group_id",
            "residents",
            "tickets",
            "category",
            "severity",
            "summary",
        ],
        r.hot_complaints.iter().map(|h| {
            vec![
                h.group_id.to_string(),
                h.residents.to_string(),
                h.numbers.join(" "),
                h.category.clone(),
                h.severity.to_string(),
                h.summary.clone(),
            ]
        }),
    )?);
    sections.push(complaint_section(
        "important_complaints",
        &r.important_complaints,
    )?);
    sections.push(section(
        "recurring",
        &["building", "category", "count"],
        r.recurring
            .iter()
            .map(|p| vec![p.building.clone(), p.category.clone(), p.count.to_string()]),
    )?);
    sections.push(tally_section(
        "backlog_by_department",
        "department",
        &r.backlog.by_department,
    )?);
    sections.push(tally_section(
        "backlog_by_status",
        "status",
        &r.backlog.by_status,
    )?);
    sections.push(tally_section(
        "escalations_by_department",
        "department",
        &r.escalations.by_department,
    )?);
    sections.push(section(
        "reclassified_changes",
        &["field", "from", "to", "count"],
        r.reclassified.changes.iter().map(|c| {
            vec![
                c.field.clone(),
                c.from.clone(),
                c.to.clone(),
                c.count.to_string(),
            ]
        }),
    )?);
    Ok(sections.join("\n"))
}

/// Neutralises spreadsheet formulas in text that came from outside.
pub fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn section(
    name: &str,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<String> {
    let mut w = ::csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record([format!("[{name}]")])?;
    w.write_record(header)?;
    for row in rows {
        w.write_record(row.iter().map(|c| cell(c)))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))?;
    Ok(String::from_utf8(bytes)?)
}

fn tally_section(name: &str, label: &str, tally: &Tally) -> anyhow::Result<String> {
    section(
        name,
        &[label, "count"],
        tally.0.iter().map(|(k, n)| vec![k.clone(), n.to_string()]),
    )
}

fn timing_row(name: &str, t: &Timing) -> Vec<String> {
    let secs = |s: Option<i64>| s.map(|v| v.to_string()).unwrap_or_default();
    vec![
        name.to_string(),
        t.count.to_string(),
        secs(t.p50_secs),
        secs(t.p90_secs),
        secs(t.p99_secs),
        t.within_sla.numerator.to_string(),
        t.within_sla.denominator.to_string(),
        t.within_sla
            .rate
            .map(|v| format!("{v:.4}"))
            .unwrap_or_default(),
    ]
}

fn complaint_section(name: &str, lines: &[ComplaintLine]) -> anyhow::Result<String> {
    section(
        name,
        &[
            "number",
            "severity",
            "status",
            "category",
            "building",
            "created_at",
            "summary",
        ],
        lines.iter().map(|c| {
            vec![
                c.number.clone(),
                c.severity.to_string(),
                c.status.clone(),
                c.category.clone(),
                c.building.clone().unwrap_or_default(),
                c.created_at.to_rfc3339(),
                c.summary.clone(),
            ]
        }),
    )
}

/// Splits rendered CSV back into its sections: name → records (header first). For
/// checking a rendering, and for whoever wants to read the file back.
pub fn parse_sections(text: &str) -> anyhow::Result<Vec<(String, Vec<Vec<String>>)>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for record in reader.records() {
        let record = record?;
        let fields: Vec<String> = record.iter().map(String::from).collect();
        match fields.as_slice() {
            [one] if one.starts_with('[') && one.ends_with(']') => {
                out.push((one[1..one.len() - 1].to_string(), Vec::new()));
            }
            _ => match out.last_mut() {
                Some((_, rows)) => rows.push(fields),
                None => anyhow::bail!("CSV record before any [section] line"),
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("3栋漏水"), "3栋漏水");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn every_table_is_a_section_that_parses_back() {
        let r = sample();
        let text = render(&r).unwrap();
        let sections = parse_sections(&text).unwrap();
        let names: Vec<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "summary",
                "by_kind",
                "by_category",
                "by_department",
                "by_urgency",
                "complaints_by_severity",
                "satisfaction_distribution",
                "timeliness",
                "serious_complaints",
                "hot_complaints",
                "important_complaints",
                "recurring",
                "backlog_by_department",
                "backlog_by_status",
                "escalations_by_department",
                "reclassified_changes",
            ]
        );
        let get = |name: &str| &sections.iter().find(|(n, _)| n == name).unwrap().1;
        let by_kind = get("by_kind");
        assert_eq!(by_kind[0], ["kind", "count"]);
        for (k, n) in &r.by_kind.0 {
            assert!(by_kind.contains(&vec![k.clone(), n.to_string()]), "{k}");
        }
        let serious = get("serious_complaints");
        assert_eq!(serious.len(), r.serious_complaints.len() + 1);
        let summary_of = |number: &str| &serious.iter().find(|row| row[0] == number).unwrap()[6];
        // Commas, quotes and newlines in a summary survive the round trip...
        assert_eq!(summary_of("C2611030001"), crate::report::fixture::INJECTED);
        // ...and a formula comes back inert.
        assert_eq!(summary_of("C2611030002"), "'=cmd|' /C calc'!A0");
        let summary = get("summary");
        assert!(summary.contains(&vec!["received".to_string(), r.received.to_string()]));
        let row = |k: &str, v: &str| vec![k.to_string(), v.to_string()];
        assert!(summary.contains(&row("reclassified_events", "2")));
        assert!(summary.contains(&row("reclassified_tickets", "1")));
        let changes = get("reclassified_changes");
        let change = |f: &str, from: &str, to: &str| {
            vec![f.to_string(), from.to_string(), to.to_string(), "1".into()]
        };
        assert_eq!(
            changes,
            &vec![
                vec![
                    "field".to_string(),
                    "from".into(),
                    "to".into(),
                    "count".into()
                ],
                change("department", "engineering", "customer_service"),
                change("kind", "repair", "complaint"),
                change("urgency", "normal", "urgent"),
            ]
        );
    }

    #[test]
    fn junk_before_a_section_is_an_error() {
        assert!(parse_sections("a,b\n[x]\n").is_err());
    }
}
