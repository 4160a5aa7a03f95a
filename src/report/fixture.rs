//! A small report for the renderers' tests, with the awkward text residents can send.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::compute::{compute, Params};
use super::figures::MonthlyReport;
use super::month::Month;
use super::queries::{CorrectionRow, Rows, SurveyRow, TicketRow};

pub const INJECTED: &str = "<script>alert(\"x\")</script> & 'quoted', \"comma\"\nnew line";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+08:00"))
        .unwrap()
        .with_timezone(&Utc)
}

fn ticket(number: &str, kind: &str, category: &str, severity: i16, summary: &str) -> TicketRow {
    let created_at = at("2026-11-03T09:00:00");
    TicketRow {
        id: Uuid::new_v4(),
        number: number.into(),
        resident_id: Uuid::new_v4(),
        kind: kind.into(),
        category: category.into(),
        urgency: "normal".into(),
        department: "customer_service".into(),
        status: "closed".into(),
        severity,
        important: severity == 2,
        summary: summary.into(),
        building: Some("3".into()),
        group_id: None,
        reopen_count: 0,
        created_at,
        respond_due_at: Some(at("2026-11-03T09:30:00")),
        due_at: Some(at("2026-11-04T09:00:00")),
        claimed_at: Some(at("2026-11-03T09:10:00")),
        resolved_at: Some(at("2026-11-03T15:00:00")),
        closed_at: Some(at("2026-11-04T09:00:00")),
        satisfied_on_spot: false,
        updated_at: created_at,
    }
}

pub fn sample() -> MonthlyReport {
    let group = Uuid::new_v4();
    let mut tickets = vec![
        ticket("C2611030001", "complaint", "environment", 3, INJECTED),
        ticket(
            "C2611030002",
            "complaint",
            "services",
            2,
            "=cmd|' /C calc'!A0",
        ),
        ticket("R2611030001", "repair", "equipment", 4, "水管漏水"),
        ticket("R2611030002", "repair", "equipment", 4, "水管又漏水"),
    ];
    for i in 0..3 {
        let mut t = ticket(
            &format!("C261103010{i}"),
            "complaint",
            "environment",
            4,
            "垃圾没人收 <b>",
        );
        t.group_id = Some(group);
        tickets.push(t);
    }
    let surveys = tickets
        .iter()
        .zip([5, 4, 2, 1, 5, 3, 4])
        .map(|(t, rating)| SurveyRow {
            ticket_id: t.id,
            round: 1,
            answered_at: t.closed_at,
            rating: Some(rating),
            answered_by: Some("resident".into()),
        })
        .collect();
    // A complaint first read as a repair for engineering, corrected, then made urgent.
    let misread = tickets[0].id;
    let correction = |when: &str, from: [&str; 4], to: [&str; 4]| {
        CorrectionRow::changed(misread, at(when), from, to)
    };
    let first = ["repair", "normal", "engineering", "environment"];
    let corrected = ["complaint", "normal", "customer_service", "environment"];
    let urgent = ["complaint", "urgent", "customer_service", "environment"];
    let corrections = vec![
        correction("2026-11-03T09:20:00", first, corrected),
        correction("2026-11-03T09:40:00", corrected, urgent),
    ];
    let params = Params {
        offset: chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        as_of: at("2026-12-05T09:00:00"),
        hot_min_residents: 3,
        top_recurring: 10,
    };
    compute(
        &Rows {
            tickets,
            events: vec![],
            surveys,
            corrections,
        },
        Month::parse("2026-11").unwrap(),
        &params,
    )
}
