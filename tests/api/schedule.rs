//! Timers: SLA escalation level by level, delay and progress notices, and one scheduler
//! among several instances.

use std::time::Duration;

use guanjia::clock::Clock;
use guanjia::schedule::run_due;
use guanjia::ticket::model::Kind;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    spawn_app_on, spawn_app_on_with_scheduler, spawn_app_with, spawn_app_with_scheduler, TestApp,
};
use crate::platform::{self, configure, wait_until, Platform};

async fn app_for(platform: &Platform) -> TestApp {
    let base = platform.base.clone();
    spawn_app_with(move |s| configure(s, &base)).await
}

struct People {
    concierge: Uuid,
    engineering_supervisor: Uuid,
    service_supervisor: Uuid,
    manager: Uuid,
}

async fn people(db: &PgPool) -> People {
    People {
        concierge: platform::staff(db, "王管家", "customer_service", "concierge", &["3"]).await,
        engineering_supervisor: platform::staff(db, "赵工", "engineering", "supervisor", &[]).await,
        service_supervisor: platform::staff(db, "张主管", "customer_service", "supervisor", &[])
            .await,
        manager: platform::staff(db, "刘经理", "customer_service", "manager", &[]).await,
    }
}

/// A queued repair in building 3 that must be claimed within 30 min and resolved in 7 days.
async fn late_ticket(app: &TestApp, kind: Kind) -> guanjia::ticket::Ticket {
    let resident = platform::resident(
        &app.db,
        "webhook:demo",
        &format!("u-{}", Uuid::new_v4()),
        None,
        0,
    )
    .await;
    let ticket = platform::ticket(app, resident, kind, "3").await;
    let now = app.clock.now();
    sqlx::query("UPDATE tickets SET respond_due_at = $2, due_at = $3 WHERE id = $1")
        .bind(ticket.id)
        .bind(now + chrono::Duration::minutes(30))
        .bind(now + chrono::Duration::days(7))
        .execute(&app.db)
        .await
        .unwrap();
    ticket
}

async fn alerts(db: &PgPool, ticket: Uuid) -> Vec<Option<Uuid>> {
    let rows: Vec<(Option<Uuid>,)> = sqlx::query_as(
        "SELECT staff_id FROM outbox
         WHERE ticket_id = $1 AND recipient_kind = 'staff' AND dedup_key LIKE 'escalate:%'
         ORDER BY created_at, id",
    )
    .bind(ticket)
    .fetch_all(db)
    .await
    .unwrap();
    rows.into_iter().map(|(s,)| s).collect()
}

async fn level(db: &PgPool, ticket: Uuid) -> i16 {
    let (l,): (i16,) = sqlx::query_as("SELECT escalation_level FROM tickets WHERE id = $1")
        .bind(ticket)
        .fetch_one(db)
        .await
        .unwrap();
    l
}

async fn escalation_events(db: &PgPool, ticket: Uuid) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT actor_kind, note FROM ticket_events WHERE ticket_id = $1 AND action = 'escalated' ORDER BY id",
    )
    .bind(ticket)
    .fetch_all(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_unclaimed_ticket_escalates_level_by_level() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let p = people(&app.db).await;
    let ticket = late_ticket(&app, Kind::Repair).await;

    app.clock.advance(chrono::Duration::minutes(29));
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 0);

    // Response time passed: the concierge of building 3 and the engineering supervisor.
    app.clock.advance(chrono::Duration::minutes(2));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 1);
    assert_eq!(
        alerts(&app.db, ticket.id).await,
        vec![Some(p.concierge), Some(p.engineering_supervisor)]
    );

    // Not yet a whole interval later.
    app.clock.advance(chrono::Duration::minutes(90));
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 1);

    // Level 2: the customer-service supervisor.
    app.clock.advance(chrono::Duration::minutes(30));
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 2);
    assert_eq!(
        alerts(&app.db, ticket.id).await.last(),
        Some(&Some(p.service_supervisor))
    );

    // Level 3: the project manager; then it stops climbing.
    app.clock.advance(chrono::Duration::hours(2));
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 3);
    assert_eq!(
        alerts(&app.db, ticket.id).await.last(),
        Some(&Some(p.manager))
    );
    app.clock.advance(chrono::Duration::hours(10));
    run_due(&app.state).await.unwrap();
    assert_eq!(alerts(&app.db, ticket.id).await.len(), 4);

    let events = escalation_events(&app.db, ticket.id).await;
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|(actor, _)| actor == "system"));
    assert!(events[0].1.as_deref().unwrap().starts_with("level 1"));
    assert!(events[2].1.as_deref().unwrap().starts_with("level 3"));

    // Staff alerts are delivered (here through the log channel).
    assert!(
        wait_until(Duration::from_secs(10), || async {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM outbox WHERE recipient_kind = 'staff' AND status = 'delivered'",
            )
            .fetch_one(&app.db)
            .await
            .unwrap();
            n == 4
        })
        .await
    );
}

#[tokio::test]
async fn a_claimed_ticket_is_not_late_until_its_resolution_deadline() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let ticket = late_ticket(&app, Kind::Repair).await;
    sqlx::query("UPDATE tickets SET status = 'claimed', claimed_at = $2 WHERE id = $1")
        .bind(ticket.id)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::days(6));
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 0);
    app.clock.advance(chrono::Duration::days(1));
    run_due(&app.state).await.unwrap();
    assert_eq!(level(&app.db, ticket.id).await, 1);
    // With nobody on record the alerts are still written, to no one in particular.
    assert_eq!(alerts(&app.db, ticket.id).await, vec![None, None]);
}

async fn resident_status_texts(db: &PgPool, ticket: Uuid) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT text FROM outbox WHERE ticket_id = $1 AND recipient_kind = 'resident' AND kind = 'status'
         ORDER BY created_at, id",
    )
    .bind(ticket)
    .fetch_all(db)
    .await
    .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

#[tokio::test]
async fn a_missed_deadline_tells_the_resident_why_and_when() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let ticket = late_ticket(&app, Kind::Repair).await;
    sqlx::query(
        "UPDATE tickets SET status = 'in_progress', claimed_at = $2, started_at = $2 WHERE id = $1",
    )
    .bind(ticket.id)
    .bind(app.clock.now())
    .execute(&app.db)
    .await
    .unwrap();

    app.clock
        .advance(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    let texts = resident_status_texts(&app.db, ticket.id).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&ticket.number));
    assert!(
        texts[0].contains("处理工作仍在进行中"),
        "the reason: {}",
        texts[0]
    );
    let promised = app.clock.now() + chrono::Duration::hours(24);
    let local = promised.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    assert!(
        texts[0].contains(&local.format("%-m月%-d日 %H:%M").to_string()),
        "the new time: {}",
        texts[0]
    );
    // It reaches the resident.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            platform
                .calls_to("/callback")
                .iter()
                .any(|c| c.body["kind"] == "status")
        })
        .await
    );

    // The promised time passes too: told again, once.
    app.clock.advance(chrono::Duration::hours(24));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    assert_eq!(resident_status_texts(&app.db, ticket.id).await.len(), 2);

    // Resolved in the meantime: the next follow-up stays silent.
    sqlx::query("UPDATE tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1")
        .bind(ticket.id)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(25));
    run_due(&app.state).await.unwrap();
    assert_eq!(resident_status_texts(&app.db, ticket.id).await.len(), 2);
    let (fired,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM timers WHERE ticket_id = $1 AND fired_at IS NOT NULL")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(fired, 2);
}

async fn progress_texts(db: &PgPool, ticket: Uuid) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT text FROM outbox WHERE ticket_id = $1 AND dedup_key LIKE 'progress:%'
         ORDER BY created_at, id",
    )
    .bind(ticket)
    .fetch_all(db)
    .await
    .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

#[tokio::test]
async fn open_complaints_hear_of_progress_every_week() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let resident = platform::resident(&app.db, "webhook:demo", "u-1", None, 0).await;
    let complaint = platform::ticket(&app, resident, Kind::Complaint, "3").await;
    let repair = platform::ticket(&app, resident, Kind::Repair, "3").await;
    // Keep the repair within its deadline: a late repair hears of its delay, which is not
    // what this test is about.
    sqlx::query("UPDATE tickets SET due_at = $2 WHERE id = $1")
        .bind(repair.id)
        .bind(app.clock.now() + chrono::Duration::days(60))
        .execute(&app.db)
        .await
        .unwrap();

    app.clock.advance(chrono::Duration::days(6));
    run_due(&app.state).await.unwrap();
    assert!(progress_texts(&app.db, complaint.id).await.is_empty());

    app.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    let texts = progress_texts(&app.db, complaint.id).await;
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains(&complaint.number));

    app.clock.advance(chrono::Duration::days(3));
    run_due(&app.state).await.unwrap();
    assert_eq!(progress_texts(&app.db, complaint.id).await.len(), 1);
    app.clock.advance(chrono::Duration::days(4));
    run_due(&app.state).await.unwrap();
    assert_eq!(progress_texts(&app.db, complaint.id).await.len(), 2);
    assert!(
        progress_texts(&app.db, repair.id).await.is_empty(),
        "only complaints"
    );
}

#[tokio::test]
async fn two_instances_fire_each_timer_once() {
    let platform = Platform::start().await;
    let a = app_for(&platform).await;
    let b = spawn_app_on(a.settings.clone(), a.clock.clone()).await;
    let _p = people(&a.db).await;

    let mut resolved = Vec::new();
    for i in 0..15 {
        let r = platform::resident(&a.db, "webhook:demo", &format!("u-{i}"), None, 0).await;
        let t = platform::ticket(&a, r, Kind::Repair, "3").await;
        sqlx::query("UPDATE tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1")
            .bind(t.id)
            .bind(a.clock.now())
            .execute(&a.db)
            .await
            .unwrap();
        resolved.push(t.id);
    }
    let mut late = Vec::new();
    for _ in 0..5 {
        late.push(late_ticket(&a, Kind::Complaint).await.id);
    }

    // Past the survey delay and the response deadline (level 1 only).
    a.clock.advance(chrono::Duration::minutes(125));
    let mut passes = Vec::new();
    for _ in 0..4 {
        passes.push(run_due(&a.state));
        passes.push(run_due(&b.state));
    }
    let fired: usize = futures::future::join_all(passes)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .sum();
    assert_eq!(fired, 15 + 5, "15 surveys and 5 first-level escalations");

    let (surveys,): (i64,) = sqlx::query_as("SELECT count(*) FROM surveys")
        .fetch_one(&a.db)
        .await
        .unwrap();
    assert_eq!(surveys, 15);
    let (asks,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox WHERE kind = 'survey'")
        .fetch_one(&a.db)
        .await
        .unwrap();
    assert_eq!(asks, 15);
    for t in &late {
        assert_eq!(escalation_events(&a.db, *t).await.len(), 1);
        assert_eq!(alerts(&a.db, *t).await.len(), 2);
    }
    // And every survey reaches its resident once, with two delivery workers running.
    assert!(platform::outbox_drained(&a.db, Duration::from_secs(15)).await);
    let accepted = platform.accepted_by_id();
    assert_eq!(accepted.len(), 15);
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
}

async fn lock_holder(db: &PgPool) -> Option<i32> {
    let row: Option<(i32,)> = sqlx::query_as(
        "SELECT pid FROM pg_locks
         WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_optional(db)
    .await
    .unwrap();
    row.map(|(p,)| p)
}

#[tokio::test]
async fn one_instance_runs_the_scheduler_and_another_takes_over_when_it_dies() {
    let platform = Platform::start().await;
    let base = platform.base.clone();
    let a = spawn_app_with_scheduler(move |s| {
        configure(s, &base);
        s.schedule.tick = Duration::from_millis(100);
        s.schedule.leader_retry = Duration::from_millis(200);
    })
    .await;
    assert!(
        wait_until(Duration::from_secs(5), || async {
            lock_holder(&a.db).await.is_some()
        })
        .await
    );
    let first = lock_holder(&a.db).await;

    let b = spawn_app_on_with_scheduler(a.settings.clone(), a.clock.clone()).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(lock_holder(&b.db).await, first, "still one scheduler");
    let (holders,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&b.db)
    .await
    .unwrap();
    assert_eq!(holders, 1);

    let db = b.db.clone();
    drop(a);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            matches!(lock_holder(&db).await, Some(pid) if Some(pid) != first)
        })
        .await,
        "the other instance took over"
    );

    // The new scheduler fires timers on its own ticks.
    let r = platform::resident(&b.db, "webhook:demo", "u-1", None, 0).await;
    let t = platform::ticket(&b, r, Kind::Repair, "3").await;
    sqlx::query("UPDATE tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1")
        .bind(t.id)
        .bind(b.clock.now())
        .execute(&b.db)
        .await
        .unwrap();
    b.clock.advance(chrono::Duration::hours(3));
    assert!(
        wait_until(Duration::from_secs(10), || async {
            !platform.calls_to("/callback").is_empty()
        })
        .await,
        "survey sent by the scheduler and delivered"
    );
}
