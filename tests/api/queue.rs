//! Department queues: order, concurrent claims (each ticket exactly once), Redis wiped in
//! the middle of a run (a private redis-server), leases, release and reassignment.

use std::collections::HashSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Duration;
use guanjia::domain::Locale;
use guanjia::queue::keys;
use guanjia::ticket::{self, Department, Urgency};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::tickets::{add_resident, add_staff, call, file, get_ticket, new_ticket, Spec};

async fn queued_members(app: &TestApp, d: Department) -> Vec<String> {
    let mut redis = app.state.redis.clone();
    redis::cmd("ZRANGE")
        .arg(keys::queue(&app.settings.redis.key_prefix, d))
        .arg(0)
        .arg(-1)
        .query_async(&mut redis)
        .await
        .unwrap()
}

/// Files `n` engineering tickets in one transaction and queues them.
async fn file_many(app: &TestApp, n: usize) -> Vec<Uuid> {
    let resident = add_resident(app, Locale::ZhHans).await;
    let ctx = app.state.ticket_context();
    let mut tx = app.db.begin().await.unwrap();
    let mut tickets = Vec::with_capacity(n);
    for i in 0..n {
        let urgency = [Urgency::Normal, Urgency::Urgent, Urgency::Emergency][i % 3];
        let spec = Spec {
            urgency,
            ..Spec::default()
        };
        tickets.push(
            ticket::create(&mut tx, &ctx, new_ticket(resident, &spec))
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    for t in &tickets {
        app.state.queue.push(t).await.unwrap();
    }
    tickets.iter().map(|t| t.id).collect()
}

/// `claimers` tasks claiming from the engineering queue until it answers 204; each returns
/// the (ticket, claimer) pairs it got. `stop_after` lets the caller act once that many
/// claims succeeded in all.
async fn run_claimers(
    app: &TestApp,
    tokens: &[(Uuid, String)],
    counter: Arc<AtomicUsize>,
) -> Vec<(Uuid, Uuid)> {
    let mut handles = vec![];
    for (staff, token) in tokens.iter().cloned() {
        let client = reqwest::Client::new();
        let url = format!("{}/api/v1/queue/engineering/claim", app.address);
        let counter = counter.clone();
        handles.push(tokio::spawn(async move {
            let mut got = vec![];
            loop {
                let res = client.post(&url).bearer_auth(&token).send().await.unwrap();
                match res.status().as_u16() {
                    200 => {
                        let v: Value = res.json().await.unwrap();
                        assert_eq!(v["assignee"], staff.to_string());
                        assert_eq!(v["status"], "claimed");
                        got.push((v["id"].as_str().unwrap().parse().unwrap(), staff));
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    204 => return got,
                    other => panic!(
                        "claim answered {other}: {}",
                        res.text().await.unwrap_or_default()
                    ),
                }
            }
        }));
    }
    let mut all = vec![];
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all
}

async fn workers(app: &TestApp, n: usize) -> Vec<(Uuid, String)> {
    let mut v = vec![];
    for i in 0..n {
        v.push(add_staff(app, &format!("师傅{i}"), "engineering", "worker", &[]).await);
    }
    v
}

async fn assert_db_claims(app: &TestApp, claims: &[(Uuid, Uuid)], total: usize) {
    let ids: HashSet<Uuid> = claims.iter().map(|(t, _)| *t).collect();
    assert_eq!(ids.len(), claims.len(), "a ticket was handed out twice");
    assert_eq!(ids.len(), total, "tickets were lost");
    let rows: Vec<(Uuid, String, Option<Uuid>)> =
        sqlx::query_as("SELECT id, status, assignee FROM tickets WHERE department = 'engineering'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(rows.len(), total);
    let by_ticket: std::collections::HashMap<Uuid, Uuid> = claims.iter().cloned().collect();
    for (id, status, assignee) in rows {
        assert_eq!(status, "claimed");
        assert_eq!(
            assignee,
            by_ticket.get(&id).copied(),
            "DB and response disagree on {id}"
        );
    }
    let claimed_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ticket_events WHERE action = 'claimed'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(claimed_events as usize, total);
}

#[tokio::test]
async fn the_queue_lists_emergencies_first_then_by_due_time_then_age() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let normal_old = file(&app, r, &Spec::default()).await;
    let urgent = file(
        &app,
        r,
        &Spec {
            urgency: Urgency::Urgent,
            ..Spec::default()
        },
    )
    .await;
    let emergency = file(
        &app,
        r,
        &Spec {
            urgency: Urgency::Emergency,
            ..Spec::default()
        },
    )
    .await;
    // Same due time as the first normal one (clock not moved): age breaks the tie.
    let normal_new = file(&app, r, &Spec::default()).await;
    assert_eq!(normal_new.due_at, normal_old.due_at);

    let (s, v) = call(
        &app,
        Method::GET,
        "/api/v1/queue/engineering",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let order: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            &emergency.number,
            &urgent.number,
            &normal_old.number,
            &normal_new.number
        ]
    );

    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/queue/engineering/claim",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["number"], emergency.number.as_str());
}

#[tokio::test]
async fn fifty_claimers_take_a_thousand_tickets_each_exactly_once() {
    let app = spawn_app().await;
    let tokens = workers(&app, 50).await;
    file_many(&app, 1000).await;
    let claims = run_claimers(&app, &tokens, Arc::new(AtomicUsize::new(0))).await;
    assert_db_claims(&app, &claims, 1000).await;
    assert!(queued_members(&app, Department::Engineering)
        .await
        .is_empty());
    // Claims went to many people, not one.
    let people: HashSet<Uuid> = claims.iter().map(|(_, s)| *s).collect();
    assert!(people.len() > 10, "{} claimers got work", people.len());
}

/// A redis-server of the test's own, so it can be wiped without touching anyone else's.
struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    // The child is killed and waited for in `Drop`.
    #[allow(clippy::zombie_processes)]
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        for _ in 0..100 {
            if let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}/0")) {
                if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                    if redis::cmd("PING")
                        .query_async::<String>(&mut c)
                        .await
                        .is_ok()
                    {
                        return Self { child, port };
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("private redis-server did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    async fn wipe(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("FLUSHALL")
            .query_async::<String>(&mut c)
            .await
            .unwrap();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn redis_wiped_mid_run_is_rebuilt_from_the_database() {
    let redis = PrivateRedis::start().await;
    let url = redis.url();
    let app = spawn_app_with(|s| s.redis.url = url.into()).await;
    let tokens = workers(&app, 50).await;
    file_many(&app, 1000).await;

    let counter = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let counter = counter.clone();
        async move {
            while counter.load(Ordering::SeqCst) < 300 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            redis.wipe().await;
            redis
        }
    };
    let (first, redis) = tokio::join!(run_claimers(&app, &tokens, counter.clone()), watcher);
    assert!(
        first.len() >= 300 && first.len() < 1000,
        "{} claimed before the queue emptied",
        first.len()
    );

    guanjia::queue::reconcile(&app.state.queues())
        .await
        .unwrap();
    let queued: HashSet<String> = queued_members(&app, Department::Engineering)
        .await
        .into_iter()
        .collect();
    let waiting: HashSet<String> =
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM tickets WHERE status = 'queued'")
            .fetch_all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|id| id.to_string())
            .collect();
    assert_eq!(
        queued, waiting,
        "every unclaimed ticket queued again, nothing else"
    );
    assert_eq!(waiting.len() + first.len(), 1000);
    for (t, _) in &first {
        assert!(!queued.contains(&t.to_string()), "claimed {t} re-queued");
    }
    // Reconciling again changes nothing.
    let again = guanjia::queue::reconcile(&app.state.queues())
        .await
        .unwrap();
    assert_eq!((again.added, again.removed), (0, 0));

    let second = run_claimers(&app, &tokens, Arc::new(AtomicUsize::new(0))).await;
    let all: Vec<(Uuid, Uuid)> = first.into_iter().chain(second).collect();
    assert_db_claims(&app, &all, 1000).await;
    drop(redis);
}

#[tokio::test]
async fn reconciliation_removes_strays_and_restores_missing() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let a = file(&app, r, &Spec::default()).await;
    let b = file(&app, r, &Spec::default()).await;
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/claim", a.id),
            Some(&token),
            None
        )
        .await
        .0,
        200
    );
    let mut redis = app.state.redis.clone();
    let key = keys::queue(&app.settings.redis.key_prefix, Department::Engineering);
    // A stray (claimed ticket put back by mistake) and a lost one.
    redis::cmd("ZADD")
        .arg(&key)
        .arg(1)
        .arg(a.id.to_string())
        .query_async::<i64>(&mut redis)
        .await
        .unwrap();
    redis::cmd("ZREM")
        .arg(&key)
        .arg(b.id.to_string())
        .query_async::<i64>(&mut redis)
        .await
        .unwrap();
    let r = guanjia::queue::reconcile(&app.state.queues())
        .await
        .unwrap();
    assert_eq!((r.added, r.removed), (1, 1));
    assert_eq!(
        queued_members(&app, Department::Engineering).await,
        [b.id.to_string()]
    );
}

#[tokio::test]
async fn a_stray_in_redis_is_skipped_by_claim_first() {
    let app = spawn_app().await;
    let (w1_id, w1) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (_, w2) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let a = file(
        &app,
        r,
        &Spec {
            urgency: Urgency::Emergency,
            ..Spec::default()
        },
    )
    .await;
    let b = file(&app, r, &Spec::default()).await;
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/claim", a.id),
            Some(&w1),
            None
        )
        .await
        .0,
        200
    );
    // Redis wrongly still offers the claimed ticket first.
    app.state
        .queue
        .push(&ticket::Ticket {
            status: ticket::Status::Queued,
            ..get_ticket(&app, a.id).await
        })
        .await
        .unwrap();
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/queue/engineering/claim",
        Some(&w2),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], b.id.to_string());
    let a_now = get_ticket(&app, a.id).await;
    assert_eq!(
        (a_now.status.as_str(), a_now.assignee),
        ("claimed", Some(w1_id))
    );
    assert!(queued_members(&app, Department::Engineering)
        .await
        .is_empty());
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/queue/engineering/claim",
        Some(&w2),
        None,
    )
    .await;
    assert_eq!(s, 204);
}

#[tokio::test]
async fn an_expired_lease_returns_the_ticket_and_tells_the_supervisor() {
    let app = spawn_app().await;
    let (_, w) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (sup, _) = add_staff(&app, "张主管", "engineering", "supervisor", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, r, &Spec::default()).await;
    let started = file(&app, r, &Spec::default()).await;
    for id in [t.id, started.id] {
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!("/api/v1/tickets/{id}/claim"),
                Some(&w),
                None
            )
            .await
            .0,
            200
        );
    }
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/status", started.id),
        Some(&w),
        Some(json!({"status": "in_progress"})),
    )
    .await;
    assert_eq!(s, 200);

    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        guanjia::queue::expire_leases(&app.state.queues())
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::minutes(2));
    assert_eq!(
        guanjia::queue::expire_leases(&app.state.queues())
            .await
            .unwrap(),
        1
    );

    let now = get_ticket(&app, t.id).await;
    assert_eq!((now.status.as_str(), now.assignee), ("queued", None));
    assert_eq!(
        get_ticket(&app, started.id).await.status.as_str(),
        "in_progress"
    );
    assert_eq!(
        queued_members(&app, Department::Engineering).await,
        [t.id.to_string()]
    );
    let alert: (Option<Uuid>, String) =
        sqlx::query_as("SELECT staff_id, text FROM outbox WHERE kind = 'alert' AND ticket_id = $1")
            .bind(t.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(alert.0, Some(sup));
    assert!(
        alert.1.contains(&t.number) && alert.1.contains("王师傅"),
        "{}",
        alert.1
    );
    // It can be claimed again.
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/claim", t.id),
            Some(&w),
            None
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn release_requeues_and_a_supervisor_reassigns() {
    let app = spawn_app().await;
    let (_, w1) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (w2_id, w2) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let (_, sup) = add_staff(&app, "张主管", "engineering", "supervisor", &[]).await;
    let (sec_id, _) = add_staff(&app, "保安", "security", "worker", &[]).await;
    let r = add_resident(&app, Locale::ZhHans).await;
    let t = file(&app, r, &Spec::default()).await;

    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/claim", t.id),
            Some(&w1),
            None
        )
        .await
        .0,
        200
    );
    assert!(queued_members(&app, Department::Engineering)
        .await
        .is_empty());
    // Someone else cannot release it; the holder can.
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/release", t.id),
            Some(&w2),
            None
        )
        .await
        .0,
        409
    );
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{}/release", t.id),
        Some(&w1),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "queued");
    assert_eq!(
        queued_members(&app, Department::Engineering).await,
        [t.id.to_string()]
    );

    // Workers may not assign; a supervisor assigns within the department only.
    let assign = format!("/api/v1/tickets/{}/assign", t.id);
    assert_eq!(
        call(
            &app,
            Method::POST,
            &assign,
            Some(&w1),
            Some(json!({"staff_id": w2_id}))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &assign,
            Some(&sup),
            Some(json!({"staff_id": sec_id}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &assign,
            Some(&sup),
            Some(json!({"staff_id": "nope"}))
        )
        .await
        .0,
        400
    );
    let (s, v) = call(
        &app,
        Method::POST,
        &assign,
        Some(&sup),
        Some(json!({"staff_id": w2_id})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["assignee"].as_str()),
        (Some("claimed"), Some(w2_id.to_string().as_str()))
    );
    assert!(queued_members(&app, Department::Engineering)
        .await
        .is_empty());

    // Reassigning a held ticket moves it to the new holder, who can then work it.
    assert_eq!(get_ticket(&app, t.id).await.assignee, Some(w2_id));
    let (w3_id, w3) = add_staff(&app, "赵师傅", "engineering", "worker", &[]).await;
    let (s, v) = call(
        &app,
        Method::POST,
        &assign,
        Some(&sup),
        Some(json!({"staff_id": w3_id})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["assignee"], w3_id.to_string());
    let status = format!("/api/v1/tickets/{}/status", t.id);
    assert_eq!(
        call(
            &app,
            Method::POST,
            &status,
            Some(&w2),
            Some(json!({"status": "in_progress"}))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &status,
            Some(&w3),
            Some(json!({"status": "in_progress"}))
        )
        .await
        .0,
        200
    );
    // And someone else's named claim is refused.
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/api/v1/tickets/{}/claim", t.id),
            Some(&w1),
            None
        )
        .await
        .0,
        409
    );
}
