//! Tickets through the staff API: the lifecycle with its notices, 409s that change nothing,
//! replies, history, lists, SLA deadlines and complaint severity. Also the small helpers the
//! queue and staff API tests share.

use chrono::Duration;
use guanjia::domain::Locale;
use guanjia::ticket::{self, Category, Department, Kind, NewTicket, Role, Ticket, Urgency};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

pub async fn add_staff(
    app: &TestApp,
    name: &str,
    department: &str,
    role: &str,
    buildings: &[&str],
) -> (Uuid, String) {
    let b: Vec<String> = buildings.iter().map(|s| s.to_string()).collect();
    let new = guanjia::cli::staff::NewStaff::parse(name, department, role, &b).unwrap();
    guanjia::cli::staff::add(&app.db, &new).await.unwrap()
}

pub async fn add_resident(app: &TestApp, locale: Locale) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO residents (id, channel, external_id, locale) VALUES ($1, 'webhook:demo', $2, $3)")
        .bind(id)
        .bind(format!("user-{id}"))
        .bind(locale.as_str())
        .execute(&app.db)
        .await
        .unwrap();
    id
}

pub struct Spec {
    pub kind: Kind,
    pub category: Category,
    pub urgency: Urgency,
    pub department: Department,
    pub building: Option<&'static str>,
    pub locale: Locale,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            kind: Kind::Repair,
            category: Category::Equipment,
            urgency: Urgency::Normal,
            department: Department::Engineering,
            building: Some("3"),
            locale: Locale::ZhHans,
        }
    }
}

pub fn new_ticket(resident: Uuid, spec: &Spec) -> NewTicket {
    NewTicket {
        resident_id: resident,
        kind: spec.kind,
        category: spec.category,
        urgency: spec.urgency,
        department: spec.department,
        summary: "厨房水管漏水".into(),
        description: "3栋1102厨房水管漏水".into(),
        building: spec.building.map(str::to_owned),
        unit: Some("1".into()),
        room: Some("1102".into()),
        location: None,
        contact_phone: None,
        preferred_time: None,
        locale: spec.locale,
        source_message_id: None,
        attachments: vec![],
    }
}

/// Files a ticket the way the dialogue does (create in a transaction, push after commit).
pub async fn file(app: &TestApp, resident: Uuid, spec: &Spec) -> Ticket {
    let mut tx = app.db.begin().await.unwrap();
    let t = ticket::create(
        &mut tx,
        &app.state.ticket_context(),
        new_ticket(resident, spec),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.state.queue.push(&t).await.unwrap();
    t
}

pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

pub async fn get_ticket(app: &TestApp, id: Uuid) -> Ticket {
    sqlx::query_as("SELECT * FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn outbox_texts(app: &TestApp, ticket: Uuid, kind: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT text FROM outbox WHERE ticket_id = $1 AND kind = $2 ORDER BY created_at, id",
    )
    .bind(ticket)
    .bind(kind)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn event_count(app: &TestApp, ticket: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ticket_events WHERE ticket_id = $1")
        .bind(ticket)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_ticket_goes_from_claim_to_resolution_and_the_resident_hears_each_step() {
    let app = spawn_app().await;
    let (wang, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, resident, &Spec::default()).await;

    let (s, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/claim", t.number),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "claimed");
    assert_eq!(body["assignee"], wang.to_string());
    assert!(body["claimed_at"].is_string());
    for field in [
        "id",
        "number",
        "kind",
        "category",
        "urgency",
        "department",
        "severity",
        "summary",
        "location",
        "created_at",
        "due_at",
        "resolved_at",
        "closed_at",
        "satisfaction",
    ] {
        assert!(body.get(field).is_some(), "ticket JSON lacks {field}");
    }
    let lease = get_ticket(&app, t.id).await.lease_expires_at.unwrap();
    let expected = app.clock_now() + Duration::minutes(30);
    assert!(
        (lease - expected).num_milliseconds().abs() < 1,
        "{lease} vs {expected}"
    );

    let path = format!("/api/v1/tickets/{}/status", t.id);
    let (s, body) = call(
        &app,
        Method::POST,
        &path,
        Some(&token),
        Some(json!({"status": "in_progress"})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = call(
        &app,
        Method::POST,
        &path,
        Some(&token),
        Some(json!({"status": "resolved", "note": "已更换阀门"})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "resolved");
    assert!(body["resolved_at"].is_string());

    let notices = outbox_texts(&app, t.id, "status").await;
    assert_eq!(notices.len(), 3, "{notices:?}");
    assert!(
        notices[0].contains("王师傅") && notices[0].contains(&t.number),
        "{}",
        notices[0]
    );
    assert!(notices[1].contains("开始处理"), "{}", notices[1]);
    assert!(notices[2].contains("已更换阀门"), "{}", notices[2]);

    let (s, detail) = call(
        &app,
        Method::GET,
        &format!("/api/v1/tickets/{}", t.number),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let actions: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "claimed", "started", "resolved"]);
    assert_eq!(detail["events"][3]["note"], "已更换阀门");
    assert!(detail["attachments"].is_array());
}

impl TestApp {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use guanjia::clock::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn notices_go_out_in_the_residents_script() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "Wang", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::En).await;
    let t = file(
        &app,
        resident,
        &Spec {
            locale: Locale::En,
            ..Spec::default()
        },
    )
    .await;
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/claim", t.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let notices = outbox_texts(&app, t.id, "status").await;
    assert!(
        notices[0].starts_with("Your request") && notices[0].contains("Wang"),
        "{}",
        notices[0]
    );
}

#[tokio::test]
async fn illegal_transitions_are_409_and_change_nothing() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (_, other) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, resident, &Spec::default()).await;
    let path = format!("/api/v1/tickets/{}/status", t.id);

    // queued → resolved / in_progress / closed skip steps.
    for to in ["resolved", "in_progress", "closed", "reopened", "queued"] {
        let before = get_ticket(&app, t.id).await;
        let events = event_count(&app, t.id).await;
        let (s, body) = call(
            &app,
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"status": to})),
        )
        .await;
        assert_eq!(s, 409, "queued → {to}: {body}");
        assert!(body["error"].is_string());
        let after = get_ticket(&app, t.id).await;
        assert_eq!(
            (after.status.as_str(), after.updated_at),
            (before.status.as_str(), before.updated_at)
        );
        assert_eq!(event_count(&app, t.id).await, events);
    }

    // Held by someone else: a second claim and someone else's progress are 409.
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/claim", t.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/claim", t.id),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&other),
        Some(json!({"status": "in_progress"})),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(get_ticket(&app, t.id).await.status.as_str(), "claimed");

    // Finished is final.
    for to in ["in_progress", "resolved"] {
        let (s, _) = call(
            &app,
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"status": to})),
        )
        .await;
        assert_eq!(s, 200);
    }
    let (s, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&token),
        Some(json!({"status": "in_progress"})),
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/release", t.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(get_ticket(&app, t.id).await.status.as_str(), "resolved");
    assert_eq!(outbox_texts(&app, t.id, "status").await.len(), 3);
}

#[tokio::test]
async fn malformed_requests_are_400_json_and_unknown_ids_404() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, resident, &Spec::default()).await;
    let path = format!("/api/v1/tickets/{}/status", t.id);

    let res = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());

    let (s, body) = call(
        &app,
        Method::POST,
        &path,
        Some(&token),
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("status"), "{body}");
    let (s, body) = call(
        &app,
        Method::POST,
        &path,
        Some(&token),
        Some(json!({"status": "done"})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(body["error"].as_str().unwrap().contains("done"));

    for missing in ["R0000000000", "00000000-0000-0000-0000-000000000000"] {
        let (s, body) = call(
            &app,
            Method::GET,
            &format!("/api/v1/tickets/{missing}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(s, 404, "{body}");
        assert!(body["error"].is_string());
    }
    let (s, _) = call(
        &app,
        Method::GET,
        "/api/v1/queue/plumbing",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, body) = call(
        &app,
        Method::GET,
        "/api/v1/tickets?status=bogus",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert!(body["error"].is_string());
    let (s, _) = call(
        &app,
        Method::GET,
        "/api/v1/tickets?since=yesterday",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_concierge_replies_and_the_resident_gets_it_through_the_outbox() {
    let app = spawn_app().await;
    let (_, concierge) = add_staff(&app, "王管家", "customer_service", "concierge", &["3"]).await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, resident, &Spec::default()).await;
    let path = format!("/api/v1/tickets/{}/reply", t.number);

    let (s, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&concierge),
        Some(json!({"text": "师傅下午两点上门"})),
    )
    .await;
    assert_eq!(s, 200);
    let replies = outbox_texts(&app, t.id, "reply").await;
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains("师傅下午两点上门") && replies[0].contains(&t.number));
    let recipient: Option<Uuid> = sqlx::query_scalar(
        "SELECT resident_id FROM outbox WHERE ticket_id = $1 AND kind = 'reply'",
    )
    .bind(t.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(recipient, Some(resident));

    let (s, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&worker),
        Some(json!({"text": "hi"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&concierge),
        Some(json!({"text": "  "})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(outbox_texts(&app, t.id, "reply").await.len(), 1);
}

#[tokio::test]
async fn lists_filter_by_status_kind_department_and_since() {
    let app = spawn_app().await;
    let (_, manager) = add_staff(&app, "经理", "customer_service", "manager", &[]).await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let repair = file(&app, resident, &Spec::default()).await;
    let noise = file(
        &app,
        resident,
        &Spec {
            kind: Kind::Complaint,
            category: Category::Environment,
            department: Department::Security,
            ..Spec::default()
        },
    )
    .await;

    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, all) = call(&app, Method::GET, "/api/v1/tickets", Some(&manager), None).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&all).len(), 2);
    let (_, v) = call(
        &app,
        Method::GET,
        "/api/v1/tickets?kind=complaint",
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(ids(&v), std::slice::from_ref(&noise.number));
    let (_, v) = call(
        &app,
        Method::GET,
        "/api/v1/tickets?department=engineering&status=queued",
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(ids(&v), std::slice::from_ref(&repair.number));
    let tomorrow = (app.clock_now() + Duration::days(1)).to_rfc3339();
    let (_, v) = app_list(&app, &manager, &[("since", &tomorrow)]).await;
    assert!(ids(&v).is_empty());
    // A worker sees only their department, whatever they ask for.
    let (_, v) = call(&app, Method::GET, "/api/v1/tickets", Some(&worker), None).await;
    assert_eq!(ids(&v), std::slice::from_ref(&repair.number));
    let (_, v) = call(
        &app,
        Method::GET,
        "/api/v1/tickets?department=security",
        Some(&worker),
        None,
    )
    .await;
    assert!(ids(&v).is_empty());
}

async fn app_list(app: &TestApp, token: &str, q: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .client
        .get(format!("{}/api/v1/tickets", app.address))
        .bearer_auth(token)
        .query(q)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn new_tickets_carry_sla_deadlines() {
    let app = spawn_app().await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let t = file(
        &app,
        resident,
        &Spec {
            urgency: Urgency::Emergency,
            ..Spec::default()
        },
    )
    .await;
    assert_eq!(t.respond_due_at, Some(t.created_at + Duration::minutes(15)));
    assert_eq!(t.due_at, Some(t.created_at + Duration::hours(4)));
    let q = file(
        &app,
        resident,
        &Spec {
            kind: Kind::Inquiry,
            urgency: Urgency::Urgent,
            department: Department::CustomerService,
            ..Spec::default()
        },
    )
    .await;
    // No urgent inquiry limits: the inquiry's normal ones apply.
    assert_eq!(q.respond_due_at, Some(q.created_at + Duration::hours(1)));
    assert_eq!(q.due_at, Some(q.created_at + Duration::hours(24)));
}

fn complaint(building: &'static str) -> Spec {
    Spec {
        kind: Kind::Complaint,
        category: Category::Environment,
        department: Department::Environment,
        building: Some(building),
        ..Spec::default()
    }
}

#[tokio::test]
async fn three_residents_of_one_building_make_a_group_complaint() {
    let app = spawn_app().await;
    let mut tickets = vec![];
    for _ in 0..2 {
        let r = add_resident(&app, Locale::ZhHans).await;
        tickets.push(file(&app, r, &complaint("5")).await);
    }
    assert!(tickets
        .iter()
        .all(|t| t.severity == 4 && t.group_id.is_none()));
    // The same resident again does not make a group.
    let again = file(&app, tickets[0].resident_id, &complaint("5")).await;
    assert_eq!(again.severity, 4);
    // A repair of the same category is not a complaint.
    let r = add_resident(&app, Locale::ZhHans).await;
    let repair = file(
        &app,
        r,
        &Spec {
            category: Category::Environment,
            building: Some("5"),
            ..Spec::default()
        },
    )
    .await;
    assert_eq!(repair.severity, 4);

    let third = file(&app, r, &complaint("5")).await;
    assert_eq!(third.severity, 3);
    let group = third.group_id.expect("linked");
    for t in tickets.iter().chain([&again]) {
        let now = get_ticket(&app, t.id).await;
        assert_eq!((now.severity.level(), now.group_id), (3, Some(group)));
    }
    assert_eq!(get_ticket(&app, repair.id).await.severity, 4);
    let alerts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'alert' AND recipient_kind = 'staff'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(alerts, 4);
}

#[tokio::test]
async fn hot_issues_span_buildings_and_a_large_group_is_level_2() {
    let app = spawn_app().await;
    // Three residents, three buildings, same category within the month: hot (level 3).
    let mut ids = vec![];
    for b in ["1", "2", "3"] {
        let r = add_resident(&app, Locale::ZhHans).await;
        ids.push(file(&app, r, &complaint(b)).await.id);
        app.clock.advance(Duration::days(5));
    }
    for id in &ids {
        assert_eq!(get_ticket(&app, *id).await.severity, 3);
    }
    // Ten residents of one building within the group window: level 2.
    let mut group = vec![];
    for _ in 0..10 {
        let r = add_resident(&app, Locale::ZhHans).await;
        group.push(
            file(
                &app,
                r,
                &Spec {
                    category: Category::Services,
                    ..complaint("7")
                },
            )
            .await
            .id,
        );
    }
    for id in &group {
        assert_eq!(get_ticket(&app, *id).await.severity, 2);
    }
}

#[tokio::test]
async fn a_complaint_repeated_after_closure_is_important_and_overdue_ones_rise() {
    let app = spawn_app().await;
    let (_, sup) = add_staff(&app, "主管", "environment", "supervisor", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let first = file(&app, r, &complaint("5")).await;
    for to in ["claimed", "in_progress", "resolved", "closed"] {
        let (s, b) = call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/status", first.id),
            Some(&sup),
            Some(json!({"status": to})),
        )
        .await;
        assert_eq!(s, 200, "{to}: {b}");
    }
    let again = file(&app, r, &complaint("5")).await;
    assert!(again.important);
    assert!(!first.important);

    app.clock.advance(Duration::days(14));
    let ctx = app.state.ticket_context();
    let mut conn = app.db.acquire().await.unwrap();
    assert_eq!(
        ticket::severity::raise_overdue(&mut conn, &ctx)
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::days(1));
    assert_eq!(
        ticket::severity::raise_overdue(&mut conn, &ctx)
            .await
            .unwrap(),
        1
    );
    assert_eq!(get_ticket(&app, again.id).await.severity, 3);
    assert_eq!(
        get_ticket(&app, first.id).await.severity,
        4,
        "closed ones stay"
    );
    assert_eq!(
        ticket::severity::raise_overdue(&mut conn, &ctx)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_reopened_ticket_is_queued_again_and_may_be_claimed_again() {
    let app = spawn_app().await;
    let (_, w) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, r, &Spec::default()).await;
    let path = format!("/api/v1/tickets/{}/status", t.id);
    for to in ["claimed", "in_progress", "resolved"] {
        assert_eq!(
            call(
                &app,
                Method::POST,
                &path,
                Some(&w),
                Some(json!({"status": to}))
            )
            .await
            .0,
            200
        );
    }
    // The survey (another module) reopens it as the resident.
    let ctx = app.state.ticket_context();
    let mut tx = app.db.begin().await.unwrap();
    let reopened = ticket::lifecycle::transition(
        &mut tx,
        &ctx,
        t.id,
        ticket::repository::Actor::Resident(r),
        ticket::Status::Reopened,
        Some("不满意"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (reopened.reopen_count, reopened.important, reopened.assignee),
        (1, true, None)
    );
    app.state.queue.push(&reopened).await.unwrap();
    assert!(outbox_texts(&app, t.id, "status")
        .await
        .last()
        .unwrap()
        .contains("重新派单"));

    let (s, body) = call(
        &app,
        Method::POST,
        "/api/v1/queue/engineering/claim",
        Some(&w),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["id"], t.id.to_string());
    assert_eq!(body["status"], "claimed");
    let _ = Role::Worker;
}

#[tokio::test]
async fn an_emergency_alerts_the_duty_staff_when_filed_and_nothing_else_does() {
    let app = spawn_app().await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let normal = file(&app, resident, &Spec::default()).await;
    let emergency = file(
        &app,
        resident,
        &Spec {
            urgency: Urgency::Emergency,
            ..Spec::default()
        },
    )
    .await;
    let alerts: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT ticket_id, text FROM outbox WHERE recipient_kind = 'staff' AND kind = 'alert'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, emergency.id);
    assert!(alerts[0].1.contains(&emergency.number));
    assert!(alerts.iter().all(|(t, _)| *t != normal.id));
}
