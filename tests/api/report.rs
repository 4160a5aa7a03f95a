//! The monthly report over a seeded month: every figure is checked against values worked
//! out here by plain loops over the fixture list, not by the report's own code.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use guanjia::report::{self, Month, MonthlyReport};
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

const INJECTED: &str = "<script>alert('x')</script><img src=x onerror=alert(1)> 噪音 13812345678";

/// A local (+08:00) time, minutes precision.
fn local(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}:00+08:00"))
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Clone)]
struct Fx {
    id: Uuid,
    number: &'static str,
    resident: usize,
    kind: &'static str,
    category: &'static str,
    urgency: &'static str,
    department: &'static str,
    status: &'static str,
    severity: i16,
    important: bool,
    summary: String,
    building: Option<&'static str>,
    group: Option<usize>,
    reopen_count: i32,
    created: DateTime<Utc>,
    respond_due: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
    claimed: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    closed: Option<DateTime<Utc>>,
    on_spot: bool,
    /// (at, action, to_status)
    events: Vec<(DateTime<Utc>, &'static str, Option<&'static str>)>,
    /// (round, rating, answered_by)
    surveys: Vec<(i32, Option<i16>, &'static str)>,
    /// (at, labels before, labels after), labels as [kind, urgency, department, category]
    corrections: Vec<(DateTime<Utc>, Labels, Labels)>,
}

type Labels = [&'static str; 4];

fn fx(number: &'static str, kind: &'static str, created: &str) -> Fx {
    let created = local(created);
    Fx {
        id: Uuid::new_v4(),
        number,
        resident: 0,
        kind,
        category: "equipment",
        urgency: "normal",
        department: "engineering",
        status: "queued",
        severity: 4,
        important: false,
        summary: format!("{number} 的问题"),
        building: None,
        group: None,
        reopen_count: 0,
        created,
        respond_due: None,
        due: None,
        claimed: None,
        resolved: None,
        closed: None,
        on_spot: false,
        events: vec![(created, "created", Some("queued"))],
        surveys: vec![],
        corrections: vec![],
    }
}

impl Fx {
    fn claim(mut self, at: &str) -> Self {
        self.claimed = Some(local(at));
        self.status = "claimed";
        self.events.push((local(at), "claimed", Some("claimed")));
        self
    }
    fn resolve(mut self, at: &str) -> Self {
        self.resolved = Some(local(at));
        self.status = "resolved";
        self.events.push((local(at), "resolved", Some("resolved")));
        self
    }
    fn close(mut self, at: &str) -> Self {
        self.closed = Some(local(at));
        self.status = "closed";
        self.events.push((local(at), "closed", Some("closed")));
        self
    }
    fn deadlines(mut self, respond: &str, resolve: &str) -> Self {
        self.respond_due = Some(local(respond));
        self.due = Some(local(resolve));
        self
    }
    fn event(mut self, at: &str, action: &'static str, to: Option<&'static str>) -> Self {
        self.events.push((local(at), action, to));
        if let Some(to) = to {
            self.status = to;
        }
        self
    }
    /// Staff corrected the labels at `at` (the event carries no note, so nothing can be
    /// read from one).
    fn corrected(mut self, at: &str, from: Labels, to: Labels) -> Self {
        self.corrections.push((local(at), from, to));
        self.events.push((local(at), "reclassified", None));
        self
    }
    fn complaint(mut self, severity: i16, category: &'static str, building: &'static str) -> Self {
        self.severity = severity;
        self.category = category;
        self.department = "customer_service";
        self.building = Some(building);
        self
    }
}

/// The seeded world: October 2026, with neighbours on both sides.
fn fixtures() -> Vec<Fx> {
    let mut list = Vec::new();

    // First minute of the month; on time everywhere; revisited by the resident.
    let mut r1 = fx("R2610010001", "repair", "2026-10-01T00:00")
        .deadlines("2026-10-01T00:30", "2026-10-01T23:59")
        .claim("2026-10-01T00:20")
        .resolve("2026-10-01T05:00")
        .close("2026-10-02T09:00");
    r1.urgency = "urgent";
    r1.building = Some("3");
    r1.surveys = vec![(1, Some(5), "resident")];
    list.push(r1);

    // Late on both deadlines; revisited by staff.
    let mut r2 = fx("R2610050001", "repair", "2026-10-05T10:00")
        .deadlines("2026-10-05T10:30", "2026-10-05T23:59")
        .claim("2026-10-05T11:00")
        .resolve("2026-10-06T10:00");
    r2.building = Some("3");
    r2.resident = 1;
    r2.surveys = vec![(1, Some(3), "staff")];
    list.push(r2);

    // Reopened after a poor rating, re-claimed (claimed_at moves), resolved again, closed.
    let mut r3 = fx("R2610100001", "repair", "2026-10-10T09:00")
        .deadlines("2026-10-10T09:30", "2026-10-13T09:00")
        .claim("2026-10-10T09:10")
        .resolve("2026-10-10T12:00")
        .event("2026-10-11T08:00", "reopened", Some("reopened"))
        .claim("2026-10-11T10:00")
        .resolve("2026-10-12T12:00")
        .close("2026-10-13T08:00");
    r3.category = "housing";
    r3.building = Some("1");
    r3.resident = 2;
    r3.reopen_count = 1;
    r3.surveys = vec![(1, Some(2), "resident"), (2, Some(4), "resident")];
    list.push(r3);

    // Three residents, one complaint group: hot. The first carries injected markup.
    // Read as a repair for engineering, corrected twice before it was claimed.
    let mut c1 = fx("C2610150001", "complaint", "2026-10-15T20:00")
        .complaint(3, "services", "2")
        .deadlines("2026-10-15T20:30", "2026-10-18T20:00")
        .corrected(
            "2026-10-15T20:05",
            ["repair", "normal", "engineering", "equipment"],
            ["complaint", "normal", "engineering", "services"],
        )
        .corrected(
            "2026-10-15T20:06",
            ["complaint", "normal", "engineering", "services"],
            ["complaint", "normal", "customer_service", "services"],
        )
        .claim("2026-10-15T20:10")
        .event("2026-10-16T09:00", "started", Some("in_progress"));
    c1.summary = INJECTED.into();
    c1.group = Some(1);
    c1.resident = 3;
    list.push(c1);
    let mut c2 = fx("C2610160001", "complaint", "2026-10-16T09:00")
        .complaint(3, "services", "2")
        .deadlines("2026-10-16T09:30", "2026-10-19T09:00");
    c2.group = Some(1);
    c2.resident = 4;
    list.push(c2);
    let mut c3 = fx("C2610170001", "complaint", "2026-10-17T09:00")
        .complaint(3, "services", "2")
        .deadlines("2026-10-17T09:30", "2026-10-20T09:00")
        .claim("2026-10-17T09:20")
        .resolve("2026-10-18T09:00")
        .close("2026-10-18T09:05");
    c3.group = Some(1);
    c3.resident = 5;
    c3.on_spot = true; // satisfied on the spot: no revisit needed
    list.push(c3);

    // Important (repeated) complaint, escalated inside and after the month.
    let mut c4 = fx("C2610200001", "complaint", "2026-10-20T08:00")
        .complaint(4, "environment", "2")
        .claim("2026-10-20T08:30")
        .event("2026-10-21T09:00", "escalated", None)
        .resolve("2026-10-22T08:00")
        .close("2026-10-23T08:00")
        .event("2026-11-02T09:00", "escalated", None);
    c4.important = true;
    c4.resident = 6;
    c4.surveys = vec![(1, Some(1), "staff")];
    list.push(c4);

    // One resident twice in one group: not hot. The first is cancelled.
    let mut c5 = fx("C2610220001", "complaint", "2026-10-22T10:00")
        .complaint(2, "developer", "4")
        .deadlines("2026-10-22T10:30", "2026-10-25T10:00")
        .event("2026-10-22T10:05", "cancelled", Some("cancelled"));
    c5.group = Some(2);
    c5.resident = 7;
    list.push(c5);
    let mut c6 = fx("C2610230001", "complaint", "2026-10-23T10:00")
        .complaint(4, "developer", "4")
        .claim("2026-10-23T10:40")
        .resolve("2026-10-24T10:00");
    c6.group = Some(2);
    c6.resident = 7;
    list.push(c6); // resolved, survey not answered yet

    // The last day at 23:30 local belongs to October; anonymous-style, satisfied on the spot.
    let mut q1 = fx("Q2610310001", "inquiry", "2026-10-31T23:30")
        .deadlines("2026-10-31T23:59", "2026-11-01T23:30")
        .claim("2026-10-31T23:35")
        .resolve("2026-10-31T23:40")
        .close("2026-10-31T23:41");
    q1.category = "services";
    q1.department = "customer_service";
    q1.on_spot = true;
    q1.resident = 8;
    list.push(q1);

    // The first minute of November does not, nor does its correction.
    let mut q2 = fx("Q2611010001", "inquiry", "2026-11-01T00:00").corrected(
        "2026-11-01T00:00",
        ["inquiry", "normal", "engineering", "services"],
        ["inquiry", "normal", "customer_service", "services"],
    );
    q2.category = "services";
    q2.department = "customer_service";
    list.push(q2);

    // Claimed in time, still open at month end, escalated at 23:59 on the last day.
    let mut s1 = fx("S2610250001", "suggestion", "2026-10-25T09:00")
        .deadlines("2026-10-26T09:00", "2026-11-01T09:00")
        .claim("2026-10-26T08:00")
        .corrected(
            "2026-10-31T23:58",
            ["inquiry", "normal", "customer_service", "other"],
            ["suggestion", "normal", "customer_service", "other"],
        )
        .event("2026-10-31T23:59", "Escalation_level_2", None);
    s1.category = "other";
    s1.department = "customer_service";
    s1.resident = 9;
    list.push(s1);

    // Open at month end but finished in November.
    let mut late = fx("R2610280001", "repair", "2026-10-28T09:00")
        .deadlines("2026-10-28T09:30", "2026-11-01T09:00")
        .claim("2026-10-28T09:20")
        .event("2026-10-29T09:00", "started", Some("in_progress"))
        .resolve("2026-11-03T09:00")
        .close("2026-11-04T09:00");
    late.category = "housing";
    late.building = Some("1");
    late.resident = 10;
    late.surveys = vec![(1, Some(5), "resident")];
    list.push(late);

    // Emergency never claimed: a response miss, still queued at month end.
    let mut o1 = fx("O2610080001", "other", "2026-10-08T10:00")
        .deadlines("2026-10-08T10:15", "2026-10-08T14:00")
        .corrected(
            "2026-10-08T10:02",
            ["other", "normal", "security", "safety"],
            ["other", "emergency", "security", "safety"],
        );
    o1.urgency = "emergency";
    o1.category = "safety";
    o1.department = "security";
    o1.building = Some("1");
    list.push(o1);

    // September, still open through October and escalated in it; corrected in September
    // (not counted) and at the first instant of October (counted).
    let mut old_open = fx("R2609200001", "repair", "2026-09-20T09:00")
        .deadlines("2026-09-20T09:30", "2026-09-25T09:00")
        .corrected(
            "2026-09-20T09:05",
            ["repair", "normal", "engineering", "equipment"],
            ["repair", "urgent", "environment", "environment"],
        )
        .claim("2026-09-20T09:10")
        .event("2026-09-21T09:00", "started", Some("in_progress"))
        .event("2026-10-05T09:00", "escalated", None)
        .corrected(
            "2026-10-01T00:00",
            ["repair", "urgent", "environment", "environment"],
            ["repair", "normal", "environment", "environment"],
        );
    old_open.department = "environment";
    old_open.category = "environment";
    list.push(old_open);

    // September, closed in September: nowhere in October's figures.
    let old_done = fx("R2609100001", "repair", "2026-09-10T09:00")
        .claim("2026-09-10T09:10")
        .resolve("2026-09-11T09:00")
        .close("2026-09-15T09:00")
        .event("2026-09-15T09:00", "escalated", None);
    list.push(old_done);

    list
}

async fn seed(app: &TestApp, list: &[Fx]) {
    let residents: Vec<Uuid> = (0..11).map(|_| Uuid::new_v4()).collect();
    for (i, id) in residents.iter().enumerate() {
        sqlx::query(
            "INSERT INTO residents (id, channel, external_id) VALUES ($1, 'webhook:demo', $2)",
        )
        .bind(id)
        .bind(format!("resident-{i}"))
        .execute(&app.db)
        .await
        .unwrap();
    }
    let staff = Uuid::new_v4();
    sqlx::query("INSERT INTO staff (id, name, department, role, token_hash) VALUES ($1, '张师傅', 'engineering', 'worker', $2)")
        .bind(staff)
        .bind(Uuid::new_v4().to_string())
        .execute(&app.db)
        .await
        .unwrap();
    let groups: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    for f in list {
        let updated = f.events.iter().map(|e| e.0).max().unwrap();
        sqlx::query(
            "INSERT INTO tickets (id, number, resident_id, kind, category, urgency, department, status,
                 severity, important, summary, description, building, assignee, group_id, reopen_count,
                 created_at, respond_due_at, due_at, claimed_at, resolved_at, closed_at,
                 satisfied_on_spot, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $23)",
        )
        .bind(f.id)
        .bind(f.number)
        .bind(residents[f.resident])
        .bind(f.kind)
        .bind(f.category)
        .bind(f.urgency)
        .bind(f.department)
        .bind(f.status)
        .bind(f.severity)
        .bind(f.important)
        .bind(&f.summary)
        .bind(f.building)
        .bind(f.claimed.map(|_| staff))
        .bind(f.group.map(|g| groups[g]))
        .bind(f.reopen_count)
        .bind(f.created)
        .bind(f.respond_due)
        .bind(f.due)
        .bind(f.claimed)
        .bind(f.resolved)
        .bind(f.closed)
        .bind(f.on_spot)
        .bind(updated)
        .execute(&app.db)
        .await
        .unwrap();
        for (at, action, to) in &f.events {
            let (actor_kind, actor_id) = if *action == "created" {
                ("resident", Some(residents[f.resident]))
            } else {
                ("staff", Some(staff))
            };
            sqlx::query(
                "INSERT INTO ticket_events (ticket_id, at, actor_kind, actor_id, action, to_status)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(f.id)
            .bind(at)
            .bind(actor_kind)
            .bind(actor_id)
            .bind(action)
            .bind(to)
            .execute(&app.db)
            .await
            .unwrap();
        }
        for (at, from, to) in &f.corrections {
            sqlx::query(
                "INSERT INTO nlu_corrections (id, ticket_id, staff_id, text, kind, urgency,
                     department, category, created_at, from_kind, from_urgency, from_department,
                     from_category)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(Uuid::new_v4())
            .bind(f.id)
            .bind(staff)
            .bind(&f.summary)
            .bind(to[0])
            .bind(to[1])
            .bind(to[2])
            .bind(to[3])
            .bind(at)
            .bind(from[0])
            .bind(from[1])
            .bind(from[2])
            .bind(from[3])
            .execute(&app.db)
            .await
            .unwrap();
        }
        for (round, rating, by) in &f.surveys {
            let asked = f.resolved.unwrap() + chrono::Duration::hours(2);
            sqlx::query(
                "INSERT INTO surveys (id, ticket_id, round, asked_at, answered_at, rating, answered_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Uuid::new_v4())
            .bind(f.id)
            .bind(round)
            .bind(asked)
            .bind(rating.map(|_| asked + chrono::Duration::hours(1)))
            .bind(rating)
            .bind(rating.map(|_| *by))
            .execute(&app.db)
            .await
            .unwrap();
        }
    }
}

fn october() -> Month {
    Month::parse("2026-10").unwrap()
}

async fn seeded() -> (TestApp, Vec<Fx>, MonthlyReport) {
    let app = spawn_app().await;
    let list = fixtures();
    seed(&app, &list).await;
    let report = report::monthly(&app.db, &app.settings, october())
        .await
        .unwrap();
    (app, list, report)
}

fn nearest_rank(samples: &[i64], p: f64) -> Option<i64> {
    let mut s = samples.to_vec();
    s.sort();
    if s.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    Some(s[rank.max(1) - 1])
}

#[tokio::test]
async fn every_figure_matches_the_seeded_month() {
    let (_app, list, r) = seeded().await;
    let start = local("2026-10-01T00:00");
    let end = local("2026-11-01T00:00");
    let now = Utc::now();
    let month: Vec<&Fx> = list
        .iter()
        .filter(|f| f.created >= start && f.created < end)
        .collect();

    // The boundary cases.
    let numbers: BTreeSet<&str> = month.iter().map(|f| f.number).collect();
    assert!(numbers.contains("R2610010001") && numbers.contains("Q2610310001"));
    assert!(!numbers.contains("Q2611010001") && !numbers.contains("R2609200001"));
    assert_eq!(r.received, month.len() as u64);
    assert_eq!(r.received, 13);
    assert_eq!(
        r.cancelled,
        month.iter().filter(|f| f.status == "cancelled").count() as u64
    );

    // Counts.
    let count = |key: fn(&Fx) -> String| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for f in &month {
            *m.entry(key(f)).or_default() += 1;
        }
        m
    };
    for (tally, expected) in [
        (&r.by_kind, count(|f| f.kind.into())),
        (&r.by_category, count(|f| f.category.into())),
        (&r.by_department, count(|f| f.department.into())),
        (&r.by_urgency, count(|f| f.urgency.into())),
    ] {
        for (k, n) in &expected {
            assert_eq!(tally.get(k), *n, "{k}");
        }
        assert_eq!(tally.total(), month.len() as u64);
    }
    let mut severity: BTreeMap<String, u64> = BTreeMap::new();
    for f in month.iter().filter(|f| f.kind == "complaint") {
        *severity.entry(f.severity.to_string()).or_default() += 1;
    }
    for level in ["1", "2", "3", "4"] {
        assert_eq!(
            r.complaints_by_severity.get(level),
            severity.get(level).copied().unwrap_or(0),
            "level {level}"
        );
    }

    // Response: first claim event.
    let first_claim = |f: &Fx| {
        f.events
            .iter()
            .filter(|e| e.2 == Some("claimed"))
            .map(|e| e.0)
            .min()
    };
    let response: Vec<i64> = month
        .iter()
        .filter_map(|f| first_claim(f).map(|c| (c - f.created).num_seconds()))
        .collect();
    assert_eq!(r.response.count, response.len() as u64);
    assert_eq!(r.response.p50_secs, nearest_rank(&response, 50.0));
    assert_eq!(r.response.p90_secs, nearest_rank(&response, 90.0));
    assert_eq!(r.response.p99_secs, nearest_rank(&response, 99.0));
    let (mut met, mut judged) = (0, 0);
    for f in &month {
        let Some(due) = f.respond_due else { continue };
        match first_claim(f) {
            Some(c) => {
                judged += 1;
                met += u64::from(c <= due);
            }
            None if f.status != "cancelled" && due <= now => judged += 1,
            None => {}
        }
    }
    assert_eq!(
        (
            r.response.within_sla.numerator,
            r.response.within_sla.denominator
        ),
        (met, judged)
    );
    // By hand: met r1 r3 c1 c3 q1 s1 late; missed r2 c2 (never claimed) o1; c5 cancelled.
    assert_eq!((met, judged), (7, 10));

    // Resolution: finished tickets, to their last resolution.
    let finished = |f: &Fx| matches!(f.status, "resolved" | "closed");
    let resolution: Vec<i64> = month
        .iter()
        .filter(|f| finished(f))
        .map(|f| (f.resolved.or(f.closed).unwrap() - f.created).num_seconds())
        .collect();
    assert_eq!(r.resolution.count, resolution.len() as u64);
    assert_eq!(r.resolution.p50_secs, nearest_rank(&resolution, 50.0));
    assert_eq!(r.resolution.p90_secs, nearest_rank(&resolution, 90.0));
    assert_eq!(r.resolution.p99_secs, nearest_rank(&resolution, 99.0));
    let (mut met, mut judged) = (0, 0);
    for f in &month {
        let Some(due) = f.due else { continue };
        if finished(f) {
            judged += 1;
            met += u64::from(f.resolved.or(f.closed).unwrap() <= due);
        } else if f.status != "cancelled" && due <= now {
            judged += 1;
        }
    }
    assert_eq!(
        (
            r.resolution.within_sla.numerator,
            r.resolution.within_sla.denominator
        ),
        (met, judged)
    );

    // Satisfaction over answered rounds.
    let ratings: Vec<i16> = month
        .iter()
        .flat_map(|f| f.surveys.iter().filter_map(|s| s.1))
        .collect();
    assert_eq!(r.satisfaction.answered, ratings.len() as u64);
    assert_eq!(
        (ratings.len(), ratings.iter().filter(|x| **x >= 4).count()),
        (6, 3)
    ); // 5 3 2 4 1 5
    let happy = ratings.iter().filter(|x| **x >= 4).count() as u64;
    assert_eq!(r.satisfaction.satisfied.numerator, happy);
    assert_eq!(r.satisfaction.satisfied.denominator, ratings.len() as u64);
    let mean = ratings.iter().map(|x| f64::from(*x)).sum::<f64>() / ratings.len() as f64;
    assert!((r.satisfaction.average_rating.unwrap() - mean).abs() < 1e-9);
    for stars in 1..=5i16 {
        let n = ratings.iter().filter(|x| **x == stars).count() as u64;
        assert_eq!(r.satisfaction.distribution.get(&stars.to_string()), n);
    }

    // Revisit: resolved-at-least-once, not cancelled, not satisfied on the spot.
    let ever_resolved = |f: &Fx| f.resolved.is_some() || f.closed.is_some() || f.reopen_count > 0;
    let needing: Vec<&&Fx> = month
        .iter()
        .filter(|f| ever_resolved(f) && f.status != "cancelled" && !f.on_spot)
        .collect();
    let done = needing
        .iter()
        .filter(|f| f.surveys.iter().any(|s| s.1.is_some()))
        .count() as u64;
    assert_eq!(
        (r.revisit.numerator, r.revisit.denominator),
        (done, needing.len() as u64)
    );
    // By hand: r1 r2 r3 c4 late answered; c6 not yet; c3 and q1 satisfied on the spot.
    assert_eq!((done, needing.len()), (5, 6));
    assert!(!needing
        .iter()
        .any(|f| f.number == "Q2610310001" || f.number == "C2610170001"));

    // Reopen.
    let reopened = month.iter().filter(|f| f.reopen_count > 0).count() as u64;
    let resolved_once = month.iter().filter(|f| ever_resolved(f)).count() as u64;
    assert_eq!(
        (r.reopen.numerator, r.reopen.denominator),
        (reopened, resolved_once)
    );
    assert_eq!(reopened, 1);
    // By hand: r1 r2 r3 c3 c4 c6 q1 late were resolved at least once.
    assert_eq!(resolved_once, 8);

    // Level 1–3 complaints, most serious first.
    let mut serious: Vec<&&Fx> = month
        .iter()
        .filter(|f| f.kind == "complaint" && f.severity <= 3)
        .collect();
    serious.sort_by_key(|f| (f.severity, f.created));
    let got: Vec<(&str, i16, &str)> = r
        .serious_complaints
        .iter()
        .map(|c| (c.number.as_str(), c.severity, c.status.as_str()))
        .collect();
    let want: Vec<(&str, i16, &str)> = serious
        .iter()
        .map(|f| (f.number, f.severity, f.status))
        .collect();
    assert_eq!(got, want);
    let injected = r
        .serious_complaints
        .iter()
        .find(|c| c.number == "C2610150001")
        .unwrap();
    assert!(
        injected.summary.contains("138******78"),
        "phone masked: {}",
        injected.summary
    );
    assert!(!injected.summary.contains("13812345678"));

    // Hot: groups of the month's complaints with 3+ different residents.
    let mut by_group: BTreeMap<usize, Vec<&&Fx>> = BTreeMap::new();
    for f in month.iter().filter(|f| f.kind == "complaint") {
        if let Some(g) = f.group {
            by_group.entry(g).or_default().push(f);
        }
    }
    let hot: Vec<Vec<&str>> = by_group
        .values()
        .filter(|m| m.iter().map(|f| f.resident).collect::<BTreeSet<_>>().len() >= 3)
        .map(|m| m.iter().map(|f| f.number).collect())
        .collect();
    assert_eq!(hot.len(), 1);
    assert_eq!(r.hot_complaints.len(), hot.len());
    assert_eq!(r.hot_complaints[0].numbers, hot[0]);
    assert_eq!(r.hot_complaints[0].residents, 3);

    // Important.
    let important: Vec<&str> = month
        .iter()
        .filter(|f| f.kind == "complaint" && f.important)
        .map(|f| f.number)
        .collect();
    let got: Vec<&str> = r
        .important_complaints
        .iter()
        .map(|c| c.number.as_str())
        .collect();
    assert_eq!(got, important);

    // Recurring (building, category) pairs.
    let mut pairs: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for f in month.iter().filter(|f| f.status != "cancelled") {
        if let Some(b) = f.building {
            *pairs.entry((b, f.category)).or_default() += 1;
        }
    }
    let mut want: Vec<(&str, &str, u64)> = pairs
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|((b, c), n)| (b, c, n))
        .collect();
    want.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
    let got: Vec<(&str, &str, u64)> = r
        .recurring
        .iter()
        .map(|p| (p.building.as_str(), p.category.as_str(), p.count))
        .collect();
    assert_eq!(got, want);
    assert_eq!(got[0], ("2", "services", 3));

    // Backlog: replay each ticket's events up to the month's end.
    let mut open = Vec::new();
    for f in list.iter().filter(|f| f.created < end) {
        let mut status = "queued";
        for (at, _, to) in &f.events {
            if *at < end {
                if let Some(to) = to {
                    status = to;
                }
            }
        }
        if matches!(status, "queued" | "claimed" | "in_progress" | "reopened") {
            open.push((f, status));
        }
    }
    assert_eq!(r.backlog.total, open.len() as u64);
    // By hand: c1 c2 s1 late o1 and September's old_open; all but s1 and late overdue.
    assert_eq!((r.backlog.total, r.backlog.overdue), (6, 4));
    let names: BTreeSet<&str> = open.iter().map(|(f, _)| f.number).collect();
    assert!(
        names.contains("R2610280001")
            && names.contains("R2609200001")
            && !names.contains("C2610220001")
    );
    assert_eq!(
        r.backlog.overdue,
        open.iter()
            .filter(|(f, _)| f.due.is_some_and(|d| d < end))
            .count() as u64
    );
    for status in ["queued", "claimed", "in_progress", "reopened"] {
        assert_eq!(
            r.backlog.by_status.get(status),
            open.iter().filter(|(_, s)| *s == status).count() as u64
        );
    }
    for dept in ["engineering", "environment", "security", "customer_service"] {
        let n = open.iter().filter(|(f, _)| f.department == dept).count() as u64;
        assert_eq!(r.backlog.by_department.get(dept), n, "{dept}");
    }

    // Escalations dated in the month, on any ticket.
    let escalations: Vec<(&Fx, DateTime<Utc>)> = list
        .iter()
        .flat_map(|f| f.events.iter().map(move |e| (f, e)))
        .filter(|(_, e)| e.1.to_lowercase().starts_with("escalat") && e.0 >= start && e.0 < end)
        .map(|(f, e)| (f, e.0))
        .collect();
    assert_eq!(r.escalations.events, escalations.len() as u64);
    let tickets: BTreeSet<&str> = escalations.iter().map(|(f, _)| f.number).collect();
    assert_eq!(r.escalations.tickets, tickets.len() as u64);
    assert_eq!((r.escalations.events, r.escalations.tickets), (3, 3)); // c4, s1, old_open
    for dept in ["engineering", "environment", "security", "customer_service"] {
        let n = list
            .iter()
            .filter(|f| tickets.contains(f.number) && f.department == dept)
            .count() as u64;
        assert_eq!(r.escalations.by_department.get(dept), n, "{dept}");
    }

    // Corrections dated in the month, on any ticket, and each label they changed.
    let corrections: Vec<(&Fx, &Labels, &Labels)> = list
        .iter()
        .flat_map(|f| f.corrections.iter().map(move |c| (f, c)))
        .filter(|(_, c)| c.0 >= start && c.0 < end)
        .map(|(f, c)| (f, &c.1, &c.2))
        .collect();
    assert_eq!(r.reclassified.events, corrections.len() as u64);
    let tickets: BTreeSet<&str> = corrections.iter().map(|(f, _, _)| f.number).collect();
    assert_eq!(r.reclassified.tickets, tickets.len() as u64);
    // By hand: c1 twice, o1, s1 on the last minute, old_open on the first; not q2 (November)
    // nor old_open's September correction.
    assert_eq!((r.reclassified.events, r.reclassified.tickets), (5, 4));
    let mut changed: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
    for (_, from, to) in &corrections {
        for (i, field) in ["kind", "urgency", "department", "category"]
            .into_iter()
            .enumerate()
        {
            if from[i] != to[i] {
                *changed.entry((field, from[i], to[i])).or_default() += 1;
            }
        }
    }
    let got: BTreeMap<(&str, &str, &str), u64> = r
        .reclassified
        .changes
        .iter()
        .map(|c| ((c.field.as_str(), c.from.as_str(), c.to.as_str()), c.count))
        .collect();
    assert_eq!(got, changed);
    assert_eq!(r.reclassified.changes.len(), 6);
    assert!(r
        .reclassified
        .changes
        .windows(2)
        .all(|w| w[0].count >= w[1].count));
}

fn router(app: &TestApp) -> axum::Router {
    guanjia::report::routes::router().with_state(app.state.clone())
}

async fn get(app: &TestApp, uri: &str) -> (StatusCode, String, String) {
    let (_, token) =
        crate::tickets::add_staff(app, "经理", "customer_service", "manager", &[]).await;
    get_as(app, uri, Some(&token)).await
}

async fn get_as(app: &TestApp, uri: &str, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get(uri);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let res = router(app)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), 10 << 20)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn the_api_serves_json_csv_and_html() {
    let (app, _list, r) = seeded().await;

    let (status, ct, body) = get(&app, "/api/v1/reports/monthly?month=2026-10").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/json"), "{ct}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["month"], "2026-10");
    assert_eq!(json["received"], r.received);
    assert_eq!(json["by_kind"]["complaint"], r.by_kind.get("complaint"));
    assert_eq!(json["revisit"]["numerator"], r.revisit.numerator);
    assert_eq!(json["backlog"]["total"], r.backlog.total);
    assert_eq!(
        json["serious_complaints"].as_array().unwrap().len(),
        r.serious_complaints.len()
    );
    // `reclassified` keeps its shape: {events, tickets, changes: [{field, from, to, count}]}.
    let reclassified = json["reclassified"].as_object().unwrap();
    let keys: BTreeSet<&str> = reclassified.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["events", "tickets", "changes"]));
    assert_eq!(reclassified["events"], r.reclassified.events);
    assert_eq!(reclassified["tickets"], r.reclassified.tickets);
    let changes = reclassified["changes"].as_array().unwrap();
    assert_eq!(changes.len(), r.reclassified.changes.len());
    for (got, want) in changes.iter().zip(&r.reclassified.changes) {
        assert_eq!(
            got,
            &serde_json::json!({"field": want.field, "from": want.from, "to": want.to,
                                "count": want.count})
        );
    }

    // CSV: read back with a plain CSV reader.
    let (status, ct, body) = get(&app, "/api/v1/reports/monthly.csv?month=2026-10").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let after = |section: &str| {
        let i = records
            .iter()
            .position(|r| r.len() == 1 && r[0] == format!("[{section}]"))
            .unwrap();
        records[i + 1..]
            .iter()
            .take_while(|r| !(r.len() == 1 && r[0].starts_with('[')))
            .cloned()
            .collect::<Vec<_>>()
    };
    let kinds = after("by_kind");
    assert_eq!(kinds[0], ["kind", "count"]);
    for (k, n) in &r.by_kind.0 {
        assert!(kinds.contains(&vec![k.clone(), n.to_string()]));
    }
    let serious = after("serious_complaints");
    let row = serious.iter().find(|row| row[0] == "C2610150001").unwrap();
    assert_eq!(
        row[6],
        r.serious_complaints
            .iter()
            .find(|c| c.number == "C2610150001")
            .unwrap()
            .summary
    );
    let summary = after("summary");
    assert!(summary.contains(&vec!["received".into(), r.received.to_string()]));
    assert!(summary.contains(&vec![
        "reclassified_events".into(),
        r.reclassified.events.to_string()
    ]));
    assert!(summary.contains(&vec![
        "reclassified_tickets".into(),
        r.reclassified.tickets.to_string()
    ]));
    let changes = after("reclassified_changes");
    assert_eq!(changes[0], ["field", "from", "to", "count"]);
    let want: Vec<Vec<String>> = r
        .reclassified
        .changes
        .iter()
        .map(|c| {
            vec![
                c.field.clone(),
                c.from.clone(),
                c.to.clone(),
                c.count.to_string(),
            ]
        })
        .collect();
    assert_eq!(changes[1..], want[..]);

    // HTML: the injected summary is text, never markup.
    let (status, ct, body) = get(&app, "/api/v1/reports/monthly.html?month=2026-10").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(!body.contains("<script"));
    assert!(!body.contains("<img"));
    assert!(body.contains(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    ));
    assert!(body.contains("C2610150001"));
    assert_eq!(body.matches("<svg ").count(), 3);
    let at = body
        .find("<h2 id=\"reclassified-h\">重新分类 · Reclassified</h2>")
        .expect("a reclassified section");
    let section = &body[at..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains(&format!(
            "<th scope=\"row\">更正次数 Corrections</th><td class=\"n\">{}</td>",
            r.reclassified.events
        )),
        "{section}"
    );
    assert!(
        section.contains(&format!(
            "<th scope=\"row\">涉及工单 Tickets</th><td class=\"n\">{}</td>",
            r.reclassified.tickets
        )),
        "{section}"
    );
    for c in &r.reclassified.changes {
        assert!(
            section.contains(&format!(
                "<td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                c.from, c.to, c.count
            )),
            "{c:?}: {section}"
        );
    }
}

#[tokio::test]
async fn the_report_needs_a_token_and_a_role_above_worker() {
    let app = spawn_app().await;
    let uri = "/api/v1/reports/monthly?month=2026-10";
    assert_eq!(get_as(&app, uri, None).await.0, StatusCode::UNAUTHORIZED);
    let (_, worker) = crate::tickets::add_staff(&app, "师傅", "engineering", "worker", &[]).await;
    assert_eq!(
        get_as(&app, uri, Some(&worker)).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, sup) = crate::tickets::add_staff(&app, "主管", "engineering", "supervisor", &[]).await;
    assert_eq!(get_as(&app, uri, Some(&sup)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_bad_or_missing_month_is_a_json_400() {
    let app = spawn_app().await;
    for uri in [
        "/api/v1/reports/monthly?month=2026-13",
        "/api/v1/reports/monthly?month=2026-1",
        "/api/v1/reports/monthly?month=%3Cscript%3E",
        "/api/v1/reports/monthly",
        "/api/v1/reports/monthly.csv?month=nope",
        "/api/v1/reports/monthly.html",
    ] {
        let (status, ct, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(ct.starts_with("application/json"), "{uri}: {ct}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            json["error"].as_str().unwrap().contains("YYYY-MM"),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn an_empty_month_reports_zeros() {
    let app = spawn_app().await;
    let r = report::monthly(&app.db, &app.settings, october())
        .await
        .unwrap();
    assert_eq!(r.received, 0);
    assert_eq!(r.by_kind.total(), 0);
    assert_eq!(r.response.p50_secs, None);
    assert_eq!(r.satisfaction.satisfied.rate, None);
    assert_eq!(r.backlog.total, 0);
    assert!(r.serious_complaints.is_empty() && r.recurring.is_empty());
}

#[tokio::test]
async fn the_command_line_prints_the_report() {
    let (app, _list, r) = seeded().await;
    use secrecy::ExposeSecret;
    let run = |format: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_guanjia"))
            .args([
                "report", "monthly", "--month", "2026-10", "--format", format,
            ])
            .env("DATABASE_URL", app.settings.database.url.expose_secret())
            .output()
            .unwrap()
    };
    let out = run("json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["received"], r.received);
    assert_eq!(json["hot_complaints"][0]["residents"], 3);
    for format in ["csv", "html"] {
        let out = run(format);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run("pdf");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("json, csv or html"));
}
