//! Hand-built rows, one behaviour per test.

use super::*;
use crate::report::queries::{CorrectionRow, EventRow, SurveyRow, TicketRow};

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// A local (+08:00) time.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+08:00"))
        .unwrap()
        .with_timezone(&Utc)
}

fn nov() -> Month {
    Month::parse("2026-11").unwrap()
}

fn params() -> Params {
    Params {
        offset: cst(),
        as_of: at("2026-12-05T09:00:00"),
        hot_min_residents: 3,
        top_recurring: 10,
    }
}

fn ticket(number: &str, created: &str) -> TicketRow {
    let created_at = at(created);
    TicketRow {
        id: Uuid::new_v4(),
        number: number.into(),
        resident_id: Uuid::new_v4(),
        kind: "repair".into(),
        category: "equipment".into(),
        urgency: "normal".into(),
        department: "engineering".into(),
        status: "queued".into(),
        severity: 4,
        important: false,
        summary: format!("summary of {number}"),
        building: None,
        group_id: None,
        reopen_count: 0,
        created_at,
        respond_due_at: None,
        due_at: None,
        claimed_at: None,
        resolved_at: None,
        closed_at: None,
        satisfied_on_spot: false,
        updated_at: created_at,
    }
}

fn complaint(number: &str, created: &str, severity: i16) -> TicketRow {
    TicketRow {
        kind: "complaint".into(),
        category: "services".into(),
        department: "customer_service".into(),
        severity,
        ..ticket(number, created)
    }
}

fn event(t: &TicketRow, when: &str, action: &str, to: Option<&str>) -> EventRow {
    EventRow {
        ticket_id: t.id,
        at: at(when),
        action: action.into(),
        to_status: to.map(String::from),
        note: None,
    }
}

fn survey(t: &TicketRow, round: i32, rating: Option<i16>, by: &str) -> SurveyRow {
    SurveyRow {
        ticket_id: t.id,
        round,
        answered_at: rating.map(|_| t.created_at + chrono::Duration::days(1)),
        rating,
        answered_by: rating.map(|_| by.to_string()),
    }
}

fn rows(tickets: Vec<TicketRow>) -> Rows {
    Rows {
        tickets,
        ..Rows::default()
    }
}

fn report(rows: &Rows) -> MonthlyReport {
    compute(rows, nov(), &params())
}

#[test]
fn the_month_is_local_midnight_to_local_midnight() {
    let r = report(&rows(vec![
        ticket("before", "2026-10-31T23:59:59"),
        ticket("first", "2026-11-01T00:00:00"),
        ticket("last", "2026-11-30T23:30:00"),
        ticket("next", "2026-12-01T00:00:00"),
    ]));
    assert_eq!(r.received, 2);
    assert_eq!(r.period_start.to_rfc3339(), "2026-11-01T00:00:00+08:00");
    assert_eq!(r.period_end.to_rfc3339(), "2026-12-01T00:00:00+08:00");
    assert_eq!(r.as_of.to_rfc3339(), "2026-12-05T09:00:00+08:00");
}

#[test]
fn another_offset_moves_the_boundaries() {
    let p = Params {
        offset: FixedOffset::east_opt(0).unwrap(),
        ..params()
    };
    // 2026-11-30T23:30+08:00 is 15:30 UTC, still November in UTC; 2026-11-01T05:00+08:00
    // is October 31 in UTC.
    let r = compute(
        &rows(vec![
            ticket("a", "2026-11-30T23:30:00"),
            ticket("b", "2026-11-01T05:00:00"),
        ]),
        nov(),
        &p,
    );
    assert_eq!(r.received, 1);
}

#[test]
fn counts_list_every_known_label_then_unknown_ones() {
    let mut a = ticket("a", "2026-11-02T10:00:00");
    a.kind = "inquiry".into();
    a.category = "services".into();
    a.department = "customer_service".into();
    a.urgency = "urgent".into();
    let b = ticket("b", "2026-11-03T10:00:00");
    let mut c = ticket("c", "2026-11-04T10:00:00");
    c.kind = "praise".into();
    let r = report(&rows(vec![a, b, c]));
    let keys: Vec<&str> = r.by_kind.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "repair",
            "complaint",
            "inquiry",
            "suggestion",
            "other",
            "praise"
        ]
    );
    assert_eq!(
        (
            r.by_kind.get("repair"),
            r.by_kind.get("inquiry"),
            r.by_kind.get("praise")
        ),
        (1, 1, 1)
    );
    assert_eq!(r.by_kind.get("complaint"), 0);
    assert_eq!(r.by_category.get("equipment"), 2);
    assert_eq!(r.by_category.get("services"), 1);
    assert_eq!(r.by_category.0.len(), 8);
    assert_eq!(r.by_department.get("engineering"), 2);
    assert_eq!(r.by_department.get("customer_service"), 1);
    assert_eq!(r.by_urgency.get("normal"), 2);
    assert_eq!(r.by_urgency.get("urgent"), 1);
    assert_eq!(r.by_kind.total(), 3);
}

#[test]
fn severity_counts_only_complaints() {
    let mut repair = ticket("r", "2026-11-02T10:00:00");
    repair.severity = 2;
    let r = report(&rows(vec![
        repair,
        complaint("c1", "2026-11-02T10:00:00", 1),
        complaint("c3", "2026-11-02T10:00:00", 3),
        complaint("c4", "2026-11-02T10:00:00", 4),
        complaint("c4b", "2026-11-02T11:00:00", 4),
    ]));
    let s = &r.complaints_by_severity;
    assert_eq!(
        (s.get("1"), s.get("2"), s.get("3"), s.get("4")),
        (1, 0, 1, 2)
    );
}

#[test]
fn cancelled_tickets_are_received_and_counted_apart() {
    let mut c = ticket("c", "2026-11-02T10:00:00");
    c.status = "cancelled".into();
    let r = report(&rows(vec![c, ticket("x", "2026-11-02T10:00:00")]));
    assert_eq!((r.received, r.cancelled), (2, 1));
}

#[test]
fn percentile_is_nearest_rank() {
    assert_eq!(percentile(&[], 50), None);
    assert_eq!(percentile(&[7], 50), Some(7));
    assert_eq!(percentile(&[7], 99), Some(7));
    let ten: Vec<i64> = (1..=10).collect();
    assert_eq!(
        (
            percentile(&ten, 50),
            percentile(&ten, 90),
            percentile(&ten, 99)
        ),
        (Some(5), Some(9), Some(10))
    );
    let hundred: Vec<i64> = (1..=100).collect();
    assert_eq!(
        (
            percentile(&hundred, 50),
            percentile(&hundred, 90),
            percentile(&hundred, 99)
        ),
        (Some(50), Some(90), Some(99))
    );
    assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    assert_eq!(percentile(&[1, 2], 50), Some(1));
}

#[test]
fn response_uses_the_first_claim_event_then_the_column() {
    let mut a = ticket("a", "2026-11-02T10:00:00");
    a.claimed_at = Some(at("2026-11-02T12:00:00")); // re-claimed later; the event says 10:10
    let mut b = ticket("b", "2026-11-02T10:00:00");
    b.claimed_at = Some(at("2026-11-02T10:20:00"));
    let c = ticket("c", "2026-11-02T10:00:00"); // never claimed
    let events = vec![
        event(&a, "2026-11-02T10:30:00", "claim", Some("claimed")),
        event(&a, "2026-11-02T10:10:00", "claim", Some("claimed")),
        event(&a, "2026-11-02T10:05:00", "note", None),
    ];
    let r = report(&Rows {
        tickets: vec![a, b, c],
        events,
        surveys: vec![],
        ..Rows::default()
    });
    assert_eq!(r.response.count, 2);
    assert_eq!(r.response.p50_secs, Some(600));
    assert_eq!(r.response.p90_secs, Some(1200));
    assert_eq!(r.response.p99_secs, Some(1200));
}

#[test]
fn response_sla_judges_met_missed_and_overdue_but_not_pending() {
    let due = |t: &mut TicketRow, d: &str| t.respond_due_at = Some(at(d));
    let mut met = ticket("met", "2026-11-02T10:00:00");
    due(&mut met, "2026-11-02T10:30:00");
    met.claimed_at = Some(at("2026-11-02T10:30:00")); // exactly on time counts as met
    let mut late = ticket("late", "2026-11-02T10:00:00");
    due(&mut late, "2026-11-02T10:30:00");
    late.claimed_at = Some(at("2026-11-02T10:31:00"));
    let mut never = ticket("never", "2026-11-02T10:00:00");
    due(&mut never, "2026-11-02T10:30:00");
    let mut pending = ticket("pending", "2026-11-30T23:50:00");
    due(&mut pending, "2026-12-06T00:00:00"); // after as_of
    let mut cancelled = ticket("cancelled", "2026-11-02T10:00:00");
    due(&mut cancelled, "2026-11-02T10:30:00");
    cancelled.status = "cancelled".into();
    let mut no_deadline = ticket("free", "2026-11-02T10:00:00");
    no_deadline.claimed_at = Some(at("2026-11-02T18:00:00"));
    let r = report(&rows(vec![
        met,
        late,
        never,
        pending,
        cancelled,
        no_deadline,
    ]));
    assert_eq!(r.response.within_sla, Rate::of(1, 3));
    assert_eq!(r.response.count, 3);
}

#[test]
fn resolution_counts_finished_tickets_only() {
    let mut resolved = ticket("resolved", "2026-11-02T10:00:00");
    resolved.status = "resolved".into();
    resolved.resolved_at = Some(at("2026-11-02T14:00:00"));
    resolved.due_at = Some(at("2026-11-02T18:00:00"));
    let mut closed = ticket("closed", "2026-11-02T10:00:00");
    closed.status = "closed".into();
    closed.closed_at = Some(at("2026-11-03T10:00:00")); // no resolved_at: the closing counts
    closed.due_at = Some(at("2026-11-02T18:00:00"));
    let mut reopened = ticket("reopened", "2026-11-02T10:00:00");
    reopened.status = "in_progress".into();
    reopened.reopen_count = 1;
    reopened.resolved_at = Some(at("2026-11-02T11:00:00")); // undone since
    reopened.due_at = Some(at("2026-11-02T18:00:00"));
    let r = report(&rows(vec![resolved, closed, reopened]));
    assert_eq!(r.resolution.count, 2);
    assert_eq!(r.resolution.p50_secs, Some(4 * 3600));
    assert_eq!(r.resolution.p99_secs, Some(24 * 3600));
    // The reopened one is unresolved past its deadline: a miss.
    assert_eq!(r.resolution.within_sla, Rate::of(1, 3));
}

#[test]
fn satisfaction_counts_every_answered_round_of_the_month() {
    let a = ticket("a", "2026-11-02T10:00:00");
    let b = ticket("b", "2026-11-03T10:00:00");
    let old = ticket("old", "2026-10-03T10:00:00");
    let surveys = vec![
        survey(&a, 1, Some(2), "resident"),
        survey(&a, 2, Some(5), "resident"),
        survey(&b, 1, Some(4), "staff"),
        survey(&b, 2, None, "resident"), // asked, unanswered
        survey(&old, 1, Some(1), "resident"),
    ];
    let r = report(&Rows {
        tickets: vec![a, b, old],
        events: vec![],
        surveys,
        ..Rows::default()
    });
    let s = &r.satisfaction;
    assert_eq!(s.answered, 3);
    assert_eq!(s.satisfied, Rate::of(2, 3));
    assert!((s.average_rating.unwrap() - 11.0 / 3.0).abs() < 1e-9);
    let d = &s.distribution;
    assert_eq!(
        (d.get("1"), d.get("2"), d.get("3"), d.get("4"), d.get("5")),
        (0, 1, 0, 1, 1)
    );
}

#[test]
fn no_surveys_means_no_rates() {
    let r = report(&rows(vec![ticket("a", "2026-11-02T10:00:00")]));
    assert_eq!(r.satisfaction.satisfied.rate, None);
    assert_eq!(r.satisfaction.average_rating, None);
    assert_eq!(r.revisit, Rate::of(0, 0));
    assert_eq!(r.reopen.rate, None);
    assert_eq!(r.response.p50_secs, None);
}

#[test]
fn revisit_rate_leaves_out_on_the_spot_cancelled_and_unfinished() {
    let finished = |n: &str| {
        let mut t = ticket(n, "2026-11-02T10:00:00");
        t.status = "closed".into();
        t.resolved_at = Some(at("2026-11-02T12:00:00"));
        t.closed_at = Some(at("2026-11-03T12:00:00"));
        t
    };
    let by_resident = finished("resident");
    let by_staff = finished("staff");
    let unasked = finished("unasked");
    let mut on_spot = finished("on_spot");
    on_spot.satisfied_on_spot = true;
    let mut cancelled = finished("cancelled");
    cancelled.status = "cancelled".into();
    let open = ticket("open", "2026-11-02T10:00:00");
    let mut reopened = ticket("reopened", "2026-11-02T10:00:00");
    reopened.status = "reopened".into();
    reopened.reopen_count = 1;
    let surveys = vec![
        survey(&by_resident, 1, Some(5), "resident"),
        survey(&by_staff, 1, Some(3), "staff"),
        survey(&unasked, 1, None, "resident"),
        survey(&reopened, 1, Some(1), "resident"),
        survey(&on_spot, 1, Some(5), "resident"),
    ];
    let r = report(&Rows {
        tickets: vec![
            by_resident,
            by_staff,
            unasked,
            on_spot,
            cancelled,
            open,
            reopened,
        ],
        events: vec![],
        surveys,
        ..Rows::default()
    });
    // Needing a revisit: resident, staff, unasked, reopened.
    assert_eq!(r.revisit, Rate::of(3, 4));
}

#[test]
fn reopen_rate_is_over_tickets_ever_resolved() {
    let mut once = ticket("once", "2026-11-02T10:00:00");
    once.status = "resolved".into();
    let mut twice = ticket("twice", "2026-11-02T10:00:00");
    twice.status = "closed".into();
    twice.reopen_count = 2;
    let mut back = ticket("back", "2026-11-02T10:00:00");
    back.status = "reopened".into();
    back.reopen_count = 1;
    let mut resolved_col = ticket("col", "2026-11-02T10:00:00");
    resolved_col.status = "claimed".into();
    resolved_col.resolved_at = Some(at("2026-11-02T12:00:00"));
    let open = ticket("open", "2026-11-02T10:00:00");
    let r = report(&rows(vec![once, twice, back, resolved_col, open]));
    assert_eq!(r.reopen, Rate::of(2, 4));
}

#[test]
fn serious_complaints_are_levels_one_to_three_most_serious_first_with_phones_masked() {
    let mut c3 = complaint("C3", "2026-11-02T10:00:00", 3);
    c3.summary = "噪音 call 13812345678".into();
    let c1 = complaint("C1", "2026-11-05T10:00:00", 1);
    let c3_earlier = complaint("C3e", "2026-11-01T10:00:00", 3);
    let c4 = complaint("C4", "2026-11-02T10:00:00", 4);
    let mut repair = ticket("R2", "2026-11-02T10:00:00");
    repair.severity = 2;
    let r = report(&rows(vec![c3, c1, c3_earlier, c4, repair]));
    let numbers: Vec<&str> = r
        .serious_complaints
        .iter()
        .map(|c| c.number.as_str())
        .collect();
    assert_eq!(numbers, ["C1", "C3e", "C3"]);
    assert_eq!(r.serious_complaints[2].summary, "噪音 call 138******78");
    assert_eq!(
        r.serious_complaints[0].created_at.to_rfc3339(),
        "2026-11-05T10:00:00+08:00"
    );
    assert_eq!(r.serious_complaints[0].status, "queued");
}

#[test]
fn hot_complaints_need_enough_different_residents() {
    let g_hot = Uuid::new_v4();
    let g_same = Uuid::new_v4();
    let mut members = Vec::new();
    for (i, day) in ["03", "01", "02"].iter().enumerate() {
        let mut c = complaint(
            &format!("H{i}"),
            &format!("2026-11-{day}T10:00:00"),
            if i == 2 { 3 } else { 4 },
        );
        c.group_id = Some(g_hot);
        members.push(c);
    }
    // Three complaints from only two residents: not hot.
    let resident = Uuid::new_v4();
    for i in 0..3 {
        let mut c = complaint(&format!("S{i}"), "2026-11-05T10:00:00", 4);
        c.group_id = Some(g_same);
        c.resident_id = if i == 2 { Uuid::new_v4() } else { resident };
        members.push(c);
    }
    // Repairs sharing a group are not complaints.
    let g_repair = Uuid::new_v4();
    for i in 0..3 {
        let mut t = ticket(&format!("R{i}"), "2026-11-05T10:00:00");
        t.group_id = Some(g_repair);
        members.push(t);
    }
    let r = report(&rows(members));
    assert_eq!(r.hot_complaints.len(), 1);
    let h = &r.hot_complaints[0];
    assert_eq!(h.group_id, g_hot);
    assert_eq!(h.residents, 3);
    assert_eq!(h.numbers, ["H1", "H2", "H0"]);
    assert_eq!(h.summary, "summary of H1");
    assert_eq!(h.severity, 3);
    assert_eq!(h.category, "services");
}

#[test]
fn hot_threshold_comes_from_params() {
    let g = Uuid::new_v4();
    let list: Vec<TicketRow> = (0..2)
        .map(|i| {
            let mut c = complaint(&format!("C{i}"), "2026-11-05T10:00:00", 4);
            c.group_id = Some(g);
            c
        })
        .collect();
    assert!(report(&rows(list.clone())).hot_complaints.is_empty());
    let r = compute(
        &rows(list),
        nov(),
        &Params {
            hot_min_residents: 2,
            ..params()
        },
    );
    assert_eq!(r.hot_complaints.len(), 1);
}

#[test]
fn important_complaints_are_listed_oldest_first() {
    let mut a = complaint("A", "2026-11-09T10:00:00", 4);
    a.important = true;
    let mut b = complaint("B", "2026-11-02T10:00:00", 3);
    b.important = true;
    let mut repair = ticket("R", "2026-11-02T10:00:00");
    repair.important = true;
    let r = report(&rows(vec![
        a,
        b,
        repair,
        complaint("N", "2026-11-02T10:00:00", 4),
    ]));
    let numbers: Vec<&str> = r
        .important_complaints
        .iter()
        .map(|c| c.number.as_str())
        .collect();
    assert_eq!(numbers, ["B", "A"]);
}

#[test]
fn recurring_pairs_need_two_and_are_ranked() {
    let mk = |n: &str, building: Option<&str>, category: &str| {
        let mut t = ticket(n, "2026-11-02T10:00:00");
        t.building = building.map(String::from);
        t.category = category.into();
        t
    };
    let mut cancelled = mk("x", Some("2"), "housing");
    cancelled.status = "cancelled".into();
    let tickets = vec![
        mk("a", Some("3"), "equipment"),
        mk("b", Some("3 "), "equipment"),
        mk("c", Some("3"), "equipment"),
        mk("d", Some("1"), "environment"),
        mk("e", Some("1"), "environment"),
        mk("f", Some("1"), "equipment"),
        mk("g", Some("2"), "housing"),
        cancelled,
        mk("h", None, "housing"),
        mk("i", None, "housing"),
        mk("j", Some(""), "safety"),
        mk("k", Some(" "), "safety"),
    ];
    let r = report(&rows(tickets.clone()));
    let got: Vec<(&str, &str, u64)> = r
        .recurring
        .iter()
        .map(|p| (p.building.as_str(), p.category.as_str(), p.count))
        .collect();
    assert_eq!(got, [("3", "equipment", 3), ("1", "environment", 2)]);
    let top1 = compute(
        &rows(tickets),
        nov(),
        &Params {
            top_recurring: 1,
            ..params()
        },
    );
    assert_eq!(top1.recurring.len(), 1);
}

#[test]
fn status_at_reads_the_last_event_before_the_instant() {
    let t = ticket("a", "2026-11-02T10:00:00");
    let evs = [
        event(&t, "2026-11-02T10:00:00", "created", Some("queued")),
        event(&t, "2026-11-03T10:00:00", "claim", Some("claimed")),
        event(&t, "2026-11-04T10:00:00", "comment", None),
        event(&t, "2026-12-02T10:00:00", "resolve", Some("resolved")),
    ];
    let refs: Vec<&EventRow> = evs.iter().collect();
    assert_eq!(status_at(&t, &refs, at("2026-12-01T00:00:00")), "claimed");
    assert_eq!(status_at(&t, &refs, at("2026-12-03T00:00:00")), "resolved");
    assert_eq!(status_at(&t, &refs, at("2026-11-03T10:00:00")), "queued"); // strictly before
}

#[test]
fn status_at_falls_back_to_columns() {
    let end = at("2026-12-01T00:00:00");
    let mut closed = ticket("c", "2026-11-02T10:00:00");
    closed.closed_at = Some(at("2026-11-20T10:00:00"));
    closed.status = "closed".into();
    assert_eq!(status_at(&closed, &[], end), "closed");
    let mut resolved_late = ticket("r", "2026-11-02T10:00:00");
    resolved_late.resolved_at = Some(at("2026-12-02T10:00:00"));
    resolved_late.status = "resolved".into();
    resolved_late.updated_at = at("2026-12-02T10:00:00");
    assert_eq!(status_at(&resolved_late, &[], end), "queued");
    let mut resolved = ticket("r2", "2026-11-02T10:00:00");
    resolved.resolved_at = Some(at("2026-11-22T10:00:00"));
    assert_eq!(status_at(&resolved, &[], end), "resolved");
    let mut progress = ticket("p", "2026-11-02T10:00:00");
    progress.status = "in_progress".into();
    progress.updated_at = at("2026-11-10T10:00:00");
    assert_eq!(status_at(&progress, &[], end), "in_progress");
}

#[test]
fn backlog_is_work_pending_at_month_end_including_older_tickets() {
    let mut old_open = ticket("old", "2026-10-10T10:00:00");
    old_open.department = "security".into();
    old_open.due_at = Some(at("2026-10-11T10:00:00"));
    let mut old_done = ticket("done", "2026-10-10T10:00:00");
    old_done.status = "closed".into();
    old_done.closed_at = Some(at("2026-11-10T10:00:00"));
    let mut claimed = ticket("claimed", "2026-11-20T10:00:00");
    claimed.due_at = Some(at("2026-12-20T10:00:00"));
    let mut reopened = ticket("reopened", "2026-11-20T10:00:00");
    reopened.department = "environment".into();
    let mut resolved_after = ticket("later", "2026-11-29T10:00:00");
    resolved_after.status = "closed".into();
    resolved_after.due_at = Some(at("2026-11-30T10:00:00"));
    let cancelled = ticket("cancelled", "2026-11-05T10:00:00");
    let next_month = ticket("next", "2026-12-01T08:00:00");
    let events = vec![
        event(&claimed, "2026-11-21T10:00:00", "claim", Some("claimed")),
        event(
            &reopened,
            "2026-11-21T10:00:00",
            "resolve",
            Some("resolved"),
        ),
        event(&reopened, "2026-11-25T10:00:00", "survey", Some("reopened")),
        event(
            &resolved_after,
            "2026-11-29T10:00:00",
            "created",
            Some("queued"),
        ),
        event(
            &resolved_after,
            "2026-12-02T10:00:00",
            "close",
            Some("closed"),
        ),
        event(
            &cancelled,
            "2026-11-06T10:00:00",
            "cancel",
            Some("cancelled"),
        ),
    ];
    let r = report(&Rows {
        tickets: vec![
            old_open,
            old_done,
            claimed,
            reopened,
            resolved_after,
            cancelled,
            next_month,
        ],
        events,
        surveys: vec![],
        ..Rows::default()
    });
    let b = &r.backlog;
    assert_eq!(b.total, 4); // old, claimed, reopened, later
    assert_eq!(b.overdue, 2); // old, later
    assert_eq!(b.by_status.get("queued"), 2);
    assert_eq!(b.by_status.get("claimed"), 1);
    assert_eq!(b.by_status.get("reopened"), 1);
    assert_eq!(b.by_department.get("engineering"), 2);
    assert_eq!(b.by_department.get("security"), 1);
    assert_eq!(b.by_department.get("environment"), 1);
}

#[test]
fn escalations_are_counted_inside_the_month_on_any_ticket() {
    let mut old = ticket("old", "2026-10-10T10:00:00");
    old.department = "security".into();
    let new = ticket("new", "2026-11-10T10:00:00");
    let events = vec![
        event(&old, "2026-11-01T00:00:00", "escalated", None),
        event(&old, "2026-11-02T00:00:00", "Escalation", None),
        event(&new, "2026-11-30T23:59:59", "escalate_level_2", None),
        event(&new, "2026-12-01T00:00:00", "escalated", None),
        event(&new, "2026-10-31T23:59:59", "escalated", None),
        event(&new, "2026-11-15T00:00:00", "de-escalated", None),
        event(&new, "2026-11-15T00:00:00", "claim", Some("claimed")),
    ];
    let r = report(&Rows {
        tickets: vec![old, new],
        events,
        surveys: vec![],
        ..Rows::default()
    });
    let e = &r.escalations;
    assert_eq!((e.events, e.tickets), (3, 2));
    assert_eq!(e.by_department.get("security"), 1);
    assert_eq!(e.by_department.get("engineering"), 1);
}

#[test]
fn tally_keeps_known_order_and_zeros() {
    let t = tally(
        &["b", "a"],
        ["a", "z", "a", "c"].into_iter().map(String::from),
    );
    assert_eq!(
        t.0,
        vec![
            ("b".into(), 0),
            ("a".into(), 2),
            ("c".into(), 1),
            ("z".into(), 1)
        ]
    );
    assert_eq!((t.total(), t.max(), t.get("missing")), (4, 2, 0));
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        r#"{"b":0,"a":2,"c":1,"z":1}"#
    );
}

#[test]
fn params_follow_the_settings() {
    let settings = Settings::load_from(std::path::Path::new("config/default.toml")).unwrap();
    let p = Params::from_settings(&settings, at("2026-12-05T09:00:00"));
    assert_eq!(p.offset, cst());
    assert_eq!(p.hot_min_residents, 3);
    assert_eq!(p.top_recurring, TOP_RECURRING);
}

#[test]
fn the_report_serializes_with_its_month_as_text() {
    let r = report(&rows(vec![complaint("C1", "2026-11-02T10:00:00", 2)]));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["month"], "2026-11");
    assert_eq!(v["by_kind"]["complaint"], 1);
    assert_eq!(v["serious_complaints"][0]["number"], "C1");
    assert_eq!(v["revisit"]["rate"], serde_json::Value::Null);
}

fn correction(t: &TicketRow, when: &str, from: [&str; 4], to: [&str; 4]) -> CorrectionRow {
    CorrectionRow::changed(t.id, at(when), from, to)
}

#[test]
fn reclassifications_are_counted_with_what_they_changed() {
    let t = ticket("R1", "2026-11-03T10:00:00");
    let u = ticket("R2", "2026-10-30T10:00:00");
    let read = ["repair", "normal", "engineering", "equipment"];
    let noise = ["complaint", "normal", "security", "equipment"];
    let rows = Rows {
        tickets: vec![t.clone(), u.clone()],
        // A note is free text: nothing in it is counted.
        events: vec![EventRow {
            note: Some("kind other → inquiry".into()),
            ..event(&t, "2026-11-03T11:00:00", "reclassified", None)
        }],
        corrections: vec![
            correction(&t, "2026-11-03T11:00:00", read, noise),
            correction(
                &t,
                "2026-11-04T11:00:00",
                noise,
                ["complaint", "urgent", "security", "equipment"],
            ),
            correction(&u, "2026-11-05T09:00:00", read, noise),
            // Either side of the month.
            correction(&u, "2026-10-31T23:59:59", read, noise),
            correction(&u, "2026-12-01T00:00:00", read, noise),
        ],
        ..Rows::default()
    };
    let r = report(&rows).reclassified;
    assert_eq!((r.events, r.tickets), (3, 2));
    let change = |field: &str, from: &str, to: &str, count| ChangeCount {
        field: field.into(),
        from: from.into(),
        to: to.into(),
        count,
    };
    assert_eq!(
        r.changes,
        vec![
            change("department", "engineering", "security", 2),
            change("kind", "repair", "complaint", 2),
            change("urgency", "normal", "urgent", 1),
        ]
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["events"], 3);
    assert_eq!(v["tickets"], 2);
    assert_eq!(
        v["changes"][0],
        serde_json::json!({"field": "department", "from": "engineering", "to": "security", "count": 2})
    );
}

#[test]
fn a_correction_that_changed_nothing_counts_as_an_event_only() {
    let t = ticket("R1", "2026-11-03T10:00:00");
    let same = ["repair", "normal", "engineering", "equipment"];
    let r = report(&Rows {
        tickets: vec![t.clone()],
        corrections: vec![correction(&t, "2026-11-03T11:00:00", same, same)],
        ..Rows::default()
    })
    .reclassified;
    assert_eq!((r.events, r.tickets), (1, 1));
    assert!(r.changes.is_empty());
}
