//! The outbox worker against the platform stand-in: channels, fallbacks, retries, restarts.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use guanjia::clock::Clock;
use guanjia::delivery::signing::sign;
use guanjia::ticket::model::Kind;
use guanjia::ticket::notify::{self, Notice, NoticeKind};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{spawn_app_on, spawn_app_with, TestApp};
use crate::platform::{self, configure, outbox_status, wait_until, Fault, Platform};

const WAIT: Duration = Duration::from_secs(10);

async fn app_for(platform: &Platform) -> TestApp {
    let base = platform.base.clone();
    spawn_app_with(move |s| configure(s, &base)).await
}

async fn notice_to(
    app: &TestApp,
    resident: Uuid,
    ticket: Option<Uuid>,
    kind: NoticeKind,
    text: &str,
) -> Uuid {
    let mut conn = app.db.acquire().await.unwrap();
    notify::to_resident(
        &mut conn,
        resident,
        Notice {
            kind,
            ticket_id: ticket,
            text,
            dedup_key: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap()
    .unwrap()
}

async fn delivered(db: &PgPool, id: Uuid) -> bool {
    outbox_status(db, id).await == "delivered"
}

#[tokio::test]
async fn webhook_messages_are_signed_and_carry_the_contract_fields() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let resident = platform::resident(&app.db, "webhook:demo", "user-1", None, 0).await;
    let ticket = platform::ticket(&app, resident, Kind::Repair, "3").await;
    let id = notice_to(
        &app,
        resident,
        Some(ticket.id),
        NoticeKind::Status,
        "您的工单已处理完毕",
    )
    .await;

    assert!(wait_until(WAIT, || delivered(&app.db, id)).await);
    let calls = platform.calls_to("/callback");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.body["event_id"], id.to_string());
    assert_eq!(call.body["user_id"], "user-1");
    assert_eq!(call.body["text"], "您的工单已处理完毕");
    assert_eq!(call.body["ticket"], ticket.number);
    assert_eq!(call.body["kind"], "status");
    let ts: i64 = call.headers["x-guanjia-timestamp"].parse().unwrap();
    assert_eq!(
        call.headers["x-guanjia-signature"],
        sign(b"guanjia-demo-webhook-secret", ts, &call.raw_body)
    );
}

#[tokio::test]
async fn wechat_uses_customer_service_messages_inside_the_window_and_templates_outside() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let now = app.clock.now();
    let recent = platform::resident(
        &app.db,
        "wechat:demo",
        "o-recent",
        Some(now - chrono::Duration::hours(1)),
        0,
    )
    .await;
    let old = platform::resident(
        &app.db,
        "wechat:demo",
        "o-old",
        Some(now - chrono::Duration::hours(49)),
        0,
    )
    .await;
    let spent = platform::resident(
        &app.db,
        "wechat:demo",
        "o-spent",
        Some(now - chrono::Duration::hours(1)),
        5,
    )
    .await;

    let a = notice_to(&app, recent, None, NoticeKind::Reply, "师傅下午两点上门").await;
    assert!(wait_until(WAIT, || delivered(&app.db, a)).await);
    let b = notice_to(&app, old, None, NoticeKind::Survey, "请为本次服务评分").await;
    let c = notice_to(&app, spent, None, NoticeKind::Status, "工单已受理").await;
    assert!(
        wait_until(WAIT, || async {
            delivered(&app.db, b).await && delivered(&app.db, c).await
        })
        .await
    );

    let custom = platform.calls_to("/cgi-bin/message/custom/send");
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0].body["touser"], "o-recent");
    assert_eq!(custom[0].body["text"]["content"], "师傅下午两点上门");
    assert_eq!(custom[0].body["client_msg_id"], a.to_string());
    assert_eq!(custom[0].query["access_token"], "token-1");

    let templates = platform.calls_to("/cgi-bin/message/template/send");
    assert_eq!(templates.len(), 2);
    let by_user = |u: &str| {
        templates
            .iter()
            .find(|c| c.body["touser"] == u)
            .unwrap()
            .clone()
    };
    assert_eq!(by_user("o-old").body["template_id"], "demo-survey-template");
    assert_eq!(by_user("o-old").body["client_msg_id"], b.to_string());
    assert_eq!(
        by_user("o-spent").body["template_id"],
        "demo-status-template"
    );
    for t in &templates {
        for k in ["keyword1", "keyword2", "keyword3"] {
            assert!(t.body["data"][k]["value"].as_str().unwrap().chars().count() <= 20);
        }
    }
    // The allowance was counted, and one token served every call.
    let (sent,): (i32,) = sqlx::query_as("SELECT sent_since_inbound FROM residents WHERE id = $1")
        .bind(recent)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(platform.tokens_issued(), 1);
}

#[tokio::test]
async fn closed_windows_fall_back_to_templates() {
    for code in [45015, 45047] {
        let platform = Platform::start().await;
        let app = app_for(&platform).await;
        let r = platform::resident(&app.db, "wechat:demo", "o-1", Some(app.clock.now()), 0).await;
        platform.fail_next(1, Fault::Errcode(code));
        let id = notice_to(&app, r, None, NoticeKind::Status, "工单已受理").await;
        assert!(wait_until(WAIT, || delivered(&app.db, id)).await, "{code}");
        assert_eq!(platform.calls_to("/cgi-bin/message/custom/send").len(), 1);
        let t = platform.calls_to("/cgi-bin/message/template/send");
        assert_eq!(t.len(), 1, "{code}");
        assert!(t[0].ok);
    }
}

#[tokio::test]
async fn an_invalid_token_is_refreshed_once_and_the_send_retried() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let r = platform::resident(&app.db, "wechat:demo", "o-1", Some(app.clock.now()), 0).await;
    let first = notice_to(&app, r, None, NoticeKind::Status, "一").await;
    assert!(wait_until(WAIT, || delivered(&app.db, first)).await);
    assert_eq!(platform.tokens_issued(), 1);

    platform.fail_next(1, Fault::Errcode(40001));
    let second = notice_to(&app, r, None, NoticeKind::Status, "二").await;
    assert!(wait_until(WAIT, || delivered(&app.db, second)).await);
    assert_eq!(platform.tokens_issued(), 2, "one refresh after 40001");
    let sends = platform.calls_to("/cgi-bin/message/custom/send");
    assert_eq!(sends.len(), 3);
    assert_eq!(sends[1].query["access_token"], "token-1");
    assert_eq!(sends[2].query["access_token"], "token-2");
    // Nothing was retried through the outbox: the refresh happened inside one attempt.
    let (attempts,): (i32,) = sqlx::query_as("SELECT attempts FROM outbox WHERE id = $1")
        .bind(second)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn unreachable_residents_fail_at_once() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let r = platform::resident(&app.db, "wechat:demo", "o-gone", Some(app.clock.now()), 0).await;
    platform.fail_next(1, Fault::Errcode(43004));
    let id = notice_to(&app, r, None, NoticeKind::Status, "工单已受理").await;
    assert!(
        wait_until(WAIT, || async {
            outbox_status(&app.db, id).await == "failed"
        })
        .await
    );
    let (subscribed,): (bool,) = sqlx::query_as("SELECT subscribed FROM residents WHERE id = $1")
        .bind(r)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!subscribed);
}

#[tokio::test]
async fn a_message_is_failed_after_its_last_attempt() {
    let platform = Platform::start().await;
    let base = platform.base.clone();
    let app = spawn_app_with(move |s| {
        configure(s, &base);
        s.delivery.max_attempts = 3;
    })
    .await;
    platform.fail_for(Duration::from_secs(600), Fault::Http500);
    let r = platform::resident(&app.db, "webhook:demo", "user-1", None, 0).await;
    let id = notice_to(&app, r, None, NoticeKind::Reply, "你好").await;
    for attempt in 1..=3 {
        assert!(
            wait_until(WAIT, || async {
                // Tried, and its outcome recorded (the claim's lease released).
                let (settled,): (bool,) = sqlx::query_as(
                    "SELECT attempts >= $2 AND (status = 'failed' OR leased_until IS NULL)
                     FROM outbox WHERE id = $1",
                )
                .bind(id)
                .bind(attempt)
                .fetch_one(&app.db)
                .await
                .unwrap();
                settled
            })
            .await
        );
        // Past any backoff (the cap is 30 s).
        app.clock.advance(chrono::Duration::minutes(2));
    }
    assert!(
        wait_until(WAIT, || async {
            outbox_status(&app.db, id).await == "failed"
        })
        .await
    );
    let (err,): (Option<String>,) = sqlx::query_as("SELECT last_error FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(err.unwrap().contains("500"));
    assert_eq!(platform.calls_to("/callback").len(), 3);
}

#[tokio::test]
async fn retries_wait_for_their_backoff() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    platform.fail_next(1, Fault::Http500);
    let r = platform::resident(&app.db, "webhook:demo", "user-1", None, 0).await;
    let id = notice_to(&app, r, None, NoticeKind::Reply, "你好").await;
    assert!(
        wait_until(WAIT, || async {
            let (e,): (Option<String>,) =
                sqlx::query_as("SELECT last_error FROM outbox WHERE id = $1")
                    .bind(id)
                    .fetch_one(&app.db)
                    .await
                    .unwrap();
            e.is_some()
        })
        .await
    );
    // The clock does not move: the retry is not due yet.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox_status(&app.db, id).await, "pending");
    assert_eq!(platform.calls_to("/callback").len(), 1);
    app.clock.advance(chrono::Duration::seconds(2));
    assert!(wait_until(WAIT, || delivered(&app.db, id)).await);
    assert_eq!(platform.calls_to("/callback").len(), 2);
}

#[tokio::test]
async fn every_message_is_delivered_exactly_once_across_an_outage_and_a_restart() {
    let platform = Platform::start().await;
    let first = app_for(&platform).await;
    let settings = first.settings.clone();
    let clock = first.clock.clone();
    let db = first.db.clone();
    platform.fail_for(Duration::from_secs(600), Fault::Http500);
    platform.fail_next(3, Fault::Hang);

    let mut ids = Vec::new();
    let now = clock.now();
    for i in 0..6 {
        let hook = platform::resident(&db, "webhook:demo", &format!("user-{i}"), None, 0).await;
        let wx = platform::resident(&db, "wechat:demo", &format!("o-{i}"), Some(now), 0).await;
        let old = platform::resident(&db, "wechat:demo", &format!("o-old-{i}"), None, 0).await;
        for r in [hook, wx, old] {
            ids.push(notice_to(&first, r, None, NoticeKind::Status, &format!("消息{i}")).await);
        }
    }
    // Every message is tried at least once while the platform is down.
    assert!(
        wait_until(Duration::from_secs(20), || async {
            let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox WHERE attempts = 0")
                .fetch_one(&db)
                .await
                .unwrap();
            n == 0
        })
        .await
    );
    clock.advance(chrono::Duration::seconds(5));
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The platform recovers; a new instance on the same database takes over.
    platform.heal();
    let second = spawn_app_on(settings, clock.clone()).await;
    clock.advance(chrono::Duration::minutes(5));
    assert!(
        wait_until(Duration::from_secs(20), || async {
            // Time goes on: a send the old instance still had in flight may settle late,
            // with a backoff counted from the moved clock.
            clock.advance(chrono::Duration::seconds(5));
            let (n,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM outbox WHERE status <> 'delivered'")
                    .fetch_one(&second.db)
                    .await
                    .unwrap();
            n == 0
        })
        .await,
        "all delivered after recovery (now {}): {:?}",
        clock.now(),
        sqlx::query_as::<_, (String, i32, chrono::DateTime<Utc>, Option<String>)>(
            "SELECT status, attempts, next_attempt_at, last_error FROM outbox WHERE status <> 'delivered'"
        )
        .fetch_all(&second.db)
        .await
        .unwrap()
    );
    // Let any straggler finish before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let accepted = platform.accepted_by_id();
    let want: HashSet<String> = ids.iter().map(Uuid::to_string).collect();
    assert_eq!(accepted.keys().cloned().collect::<HashSet<_>>(), want);
    for (id, n) in &accepted {
        assert_eq!(*n, 1, "{id} accepted {n} times");
    }
    let failed_calls = platform.calls().iter().filter(|c| !c.ok).count();
    assert!(
        failed_calls >= ids.len(),
        "the outage was felt: {failed_calls}"
    );
}

#[tokio::test]
async fn staff_alerts_go_to_the_escalation_webhook() {
    let platform = Platform::start().await;
    let base = platform.base.clone();
    let app = spawn_app_with(move |s| {
        configure(s, &base);
        s.escalation.channel = platform::webhook_alerts(&base);
    })
    .await;
    let boss = platform::staff(&app.db, "张主管", "customer_service", "supervisor", &[]).await;
    let mut conn = app.db.acquire().await.unwrap();
    let id = notify::to_staff(
        &mut conn,
        Some(boss),
        Notice {
            kind: NoticeKind::Alert,
            ticket_id: None,
            text: "工单超时",
            dedup_key: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(wait_until(WAIT, || delivered(&app.db, id)).await);
    let calls = platform.calls_to("/staff");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body["staff_id"], boss.to_string());
    assert_eq!(calls[0].body["kind"], "alert");
    let ts: i64 = calls[0].headers["x-guanjia-timestamp"].parse().unwrap();
    assert_eq!(
        calls[0].headers["x-guanjia-signature"],
        sign(b"staff-secret", ts, &calls[0].raw_body)
    );
}

#[tokio::test]
async fn staff_alerts_go_through_wecom() {
    let platform = Platform::start().await;
    let base = platform.base.clone();
    let app = spawn_app_with(move |s| {
        configure(s, &base);
        s.escalation.channel = platform::wecom_alerts(&base);
    })
    .await;
    let boss = platform::staff(&app.db, "张主管", "customer_service", "supervisor", &[]).await;
    sqlx::query("UPDATE staff SET wecom_user = 'ZhangZhuGuan' WHERE id = $1")
        .bind(boss)
        .execute(&app.db)
        .await
        .unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    let id = notify::to_staff(
        &mut conn,
        Some(boss),
        Notice {
            kind: NoticeKind::Alert,
            ticket_id: None,
            text: "工单超时",
            dedup_key: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(wait_until(WAIT, || delivered(&app.db, id)).await);
    let token = platform.calls_to("/cgi-bin/gettoken");
    assert_eq!(token.len(), 1);
    assert_eq!(token[0].query["corpid"], "corp-test");
    let sends = platform.calls_to("/cgi-bin/message/send");
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].body["touser"], "ZhangZhuGuan");
    assert_eq!(sends[0].body["agentid"], 1000002);
    assert_eq!(sends[0].body["text"]["content"], "工单超时");
    let _ = Utc::now();
}

#[tokio::test]
async fn a_used_up_daily_quota_pauses_the_account_without_losing_messages() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let r = platform::resident(&app.db, "wechat:demo", "o-1", Some(app.clock.now()), 0).await;
    platform.fail_next(1, Fault::Errcode(45009));
    let a = notice_to(&app, r, None, NoticeKind::Status, "一").await;
    assert!(
        wait_until(WAIT, || async {
            let (e,): (Option<String>,) =
                sqlx::query_as("SELECT last_error FROM outbox WHERE id = $1")
                    .bind(a)
                    .fetch_one(&app.db)
                    .await
                    .unwrap();
            e.is_some_and(|e| e.contains("45009"))
        })
        .await
    );
    let b = notice_to(&app, r, None, NoticeKind::Status, "二").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        platform.calls_to("/cgi-bin/message/custom/send").len(),
        1,
        "paused"
    );
    for id in [a, b] {
        assert_eq!(outbox_status(&app.db, id).await, "pending");
        let (attempts,): (i32,) = sqlx::query_as("SELECT attempts FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(attempts, 0, "a pause does not use up attempts");
    }
    app.clock.advance(chrono::Duration::minutes(61));
    assert!(
        wait_until(WAIT, || async {
            delivered(&app.db, a).await && delivered(&app.db, b).await
        })
        .await
    );
    assert_eq!(platform.accepted_by_id().len(), 2);
}

/// A measurement, not a check: how fast one instance drains the outbox to a local
/// webhook receiver. `cargo test --test api delivery::throughput -- --ignored --nocapture`
#[tokio::test]
#[ignore = "measurement"]
async fn throughput() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let n = 500;
    let r = platform::resident(&app.db, "webhook:demo", "user-1", None, 0).await;
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..n {
        notify::to_resident(
            &mut tx,
            r,
            Notice {
                kind: NoticeKind::Status,
                ticket_id: None,
                text: &format!("消息{i}"),
                dedup_key: None,
            },
            app.clock.now(),
        )
        .await
        .unwrap();
    }
    let start = std::time::Instant::now();
    tx.commit().await.unwrap();
    assert!(
        wait_until(Duration::from_secs(120), || async {
            let (left,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM outbox WHERE status <> 'delivered'")
                    .fetch_one(&app.db)
                    .await
                    .unwrap();
            left == 0
        })
        .await
    );
    let took = start.elapsed();
    println!(
        "delivered {n} webhook messages in {took:?}: {:.0}/s",
        n as f64 / took.as_secs_f64()
    );
    assert_eq!(platform.accepted_by_id().len(), n);
}
