//! The revisit survey (回访): asked after the delay, one reminder, a manual revisit task,
//! and the resident's answer closing or reopening the ticket.

use std::time::Duration;

use guanjia::clock::Clock;
use guanjia::domain::Locale;
use guanjia::schedule::run_due;
use guanjia::ticket::model::Kind;
use guanjia::ticket::revisit::intercept;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{spawn_app_with, TestApp};
use crate::platform::{self, configure, wait_until, Platform};

async fn app_for(platform: &Platform) -> TestApp {
    let base = platform.base.clone();
    spawn_app_with(move |s| configure(s, &base)).await
}

/// A webhook resident with a ticket resolved at the clock's present time.
async fn resolved_ticket(app: &TestApp) -> (Uuid, guanjia::ticket::Ticket) {
    let resident = platform::resident(&app.db, "webhook:demo", "user-1", None, 0).await;
    let ticket = platform::ticket(app, resident, Kind::Repair, "3").await;
    sqlx::query("UPDATE tickets SET status = 'resolved', resolved_at = $2 WHERE id = $1")
        .bind(ticket.id)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .unwrap();
    (resident, ticket)
}

async fn count(db: &PgPool, sql: &str, id: Uuid) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).bind(id).fetch_one(db).await.unwrap();
    n
}

const SURVEY_NOTICES: &str = "SELECT count(*) FROM outbox WHERE ticket_id = $1 AND kind = 'survey'";
const STAFF_ALERTS: &str =
    "SELECT count(*) FROM outbox WHERE ticket_id = $1 AND recipient_kind = 'staff' AND kind = 'alert'";

#[tokio::test]
async fn a_resolved_ticket_is_surveyed_then_reminded_then_revisited_by_hand() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let concierge =
        platform::staff(&app.db, "王管家", "customer_service", "concierge", &["3"]).await;
    let _other = platform::staff(
        &app.db,
        "李管家",
        "customer_service",
        "concierge",
        &["1", "2"],
    )
    .await;
    let (_, ticket) = resolved_ticket(&app).await;

    // Not before the delay.
    app.clock.advance(chrono::Duration::minutes(119));
    run_due(&app.state).await.unwrap();
    assert_eq!(count(&app.db, SURVEY_NOTICES, ticket.id).await, 0);

    app.clock.advance(chrono::Duration::minutes(2));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    assert_eq!(
        count(&app.db, SURVEY_NOTICES, ticket.id).await,
        1,
        "asked once"
    );
    let (round, asked): (i32, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("SELECT round, asked_at FROM surveys WHERE ticket_id = $1")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(round, 1);
    assert!(asked.is_some());
    let (key,): (String,) =
        sqlx::query_as("SELECT dedup_key FROM outbox WHERE ticket_id = $1 AND kind = 'survey'")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(key, format!("survey:{}:1", ticket.id));
    // It reaches the resident's channel as a survey.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            !platform.calls_to("/callback").is_empty()
        })
        .await
    );
    let call = &platform.calls_to("/callback")[0];
    assert_eq!(call.body["kind"], "survey");
    assert_eq!(call.body["ticket"], ticket.number);
    assert!(call.body["text"].as_str().unwrap().contains("5 非常满意"));

    // One reminder after `reminder_after`.
    app.clock.advance(chrono::Duration::hours(4));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    assert_eq!(
        count(&app.db, SURVEY_NOTICES, ticket.id).await,
        2,
        "one reminder"
    );
    assert_eq!(count(&app.db, STAFF_ALERTS, ticket.id).await, 0);

    // Then a manual revisit task for the building's concierge.
    app.clock.advance(chrono::Duration::hours(20));
    run_due(&app.state).await.unwrap();
    run_due(&app.state).await.unwrap();
    assert_eq!(
        count(&app.db, STAFF_ALERTS, ticket.id).await,
        1,
        "one manual task"
    );
    let (staff_id, text): (Option<Uuid>, String) = sqlx::query_as(
        "SELECT staff_id, text FROM outbox WHERE ticket_id = $1 AND recipient_kind = 'staff'",
    )
    .bind(ticket.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(staff_id, Some(concierge));
    assert!(text.contains(&ticket.number));
    let (manual,): (Option<chrono::DateTime<chrono::Utc>>,) =
        sqlx::query_as("SELECT manual_task_at FROM surveys WHERE ticket_id = $1")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(manual.is_some());

    // Nothing more, however long it waits.
    app.clock.advance(chrono::Duration::days(30));
    run_due(&app.state).await.unwrap();
    assert_eq!(count(&app.db, SURVEY_NOTICES, ticket.id).await, 2);
    assert_eq!(count(&app.db, STAFF_ALERTS, ticket.id).await, 1);
}

#[tokio::test]
async fn a_reopened_and_resolved_again_ticket_is_surveyed_again() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let (_, ticket) = resolved_ticket(&app).await;
    app.clock.advance(chrono::Duration::hours(3));
    run_due(&app.state).await.unwrap();
    // As if the resident was dissatisfied and the work was redone.
    sqlx::query("UPDATE surveys SET answered_at = $2, rating = 1 WHERE ticket_id = $1")
        .bind(ticket.id)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE tickets SET reopen_count = 1, resolved_at = $2 WHERE id = $1")
        .bind(ticket.id)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(3));
    run_due(&app.state).await.unwrap();
    let rounds: Vec<(i32,)> =
        sqlx::query_as("SELECT round FROM surveys WHERE ticket_id = $1 ORDER BY round")
            .bind(ticket.id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(rounds, vec![(1,), (2,)]);
    assert_eq!(count(&app.db, SURVEY_NOTICES, ticket.id).await, 2);
}

#[tokio::test]
async fn text_that_is_not_a_rating_or_not_awaited_is_left_to_the_dialogue() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let (resident, ticket) = resolved_ticket(&app).await;
    let ctx = app.state.ticket_context();
    let mut conn = app.db.acquire().await.unwrap();

    // No survey asked yet: even a rating is not intercepted.
    assert_eq!(
        intercept(&mut conn, &ctx, resident, "5", Locale::ZhHans)
            .await
            .unwrap(),
        None
    );

    app.clock.advance(chrono::Duration::hours(3));
    run_due(&app.state).await.unwrap();
    for text in ["电梯又坏了", "进度", "你好"] {
        assert_eq!(
            intercept(&mut conn, &ctx, resident, text, Locale::ZhHans)
                .await
                .unwrap(),
            None,
            "{text}"
        );
    }
    // Another resident's rating does not answer this survey.
    let stranger = platform::resident(&app.db, "webhook:demo", "user-2", None, 0).await;
    assert_eq!(
        intercept(&mut conn, &ctx, stranger, "5", Locale::ZhHans)
            .await
            .unwrap(),
        None
    );
    let (answered,): (Option<chrono::DateTime<chrono::Utc>>,) =
        sqlx::query_as("SELECT answered_at FROM surveys WHERE ticket_id = $1")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(answered.is_none());
}

async fn asked(app: &TestApp) -> (Uuid, guanjia::ticket::Ticket) {
    let (resident, ticket) = resolved_ticket(app).await;
    app.clock.advance(chrono::Duration::hours(3));
    run_due(&app.state).await.unwrap();
    (resident, ticket)
}

async fn answer(app: &TestApp, resident: Uuid, text: &str, locale: Locale) -> Option<String> {
    let mut tx = app.db.begin().await.unwrap();
    let reply = intercept(&mut tx, &app.state.ticket_context(), resident, text, locale)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    reply
}

async fn ticket_state(db: &PgPool, id: Uuid) -> (String, Option<i16>) {
    sqlx::query_as("SELECT status, satisfaction FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_satisfied_answer_closes_the_ticket_with_thanks() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let (resident, ticket) = asked(&app).await;
    let reply = answer(&app, resident, "非常满意👍", Locale::ZhHans)
        .await
        .unwrap();
    assert!(reply.contains("感谢"), "{reply}");
    assert_eq!(
        ticket_state(&app.db, ticket.id).await,
        ("closed".into(), Some(5))
    );
    let (rating, by): (Option<i16>, Option<String>) =
        sqlx::query_as("SELECT rating, answered_by FROM surveys WHERE ticket_id = $1")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((rating, by.as_deref()), (Some(5), Some("resident")));
    // Answered surveys are not reminded.
    app.clock.advance(chrono::Duration::days(2));
    run_due(&app.state).await.unwrap();
    assert_eq!(count(&app.db, SURVEY_NOTICES, ticket.id).await, 1);
}

#[tokio::test]
async fn a_neutral_answer_closes_the_ticket() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let (resident, ticket) = asked(&app).await;
    let reply = answer(&app, resident, "還行吧", Locale::ZhHant)
        .await
        .unwrap();
    assert!(reply.contains("感謝"), "{reply}");
    assert_eq!(
        ticket_state(&app.db, ticket.id).await,
        ("closed".into(), Some(3))
    );
}

#[tokio::test]
async fn a_dissatisfied_answer_reopens_the_ticket_and_alerts_the_supervisor() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let supervisor = platform::staff(&app.db, "张主管", "engineering", "supervisor", &[]).await;
    let (resident, ticket) = asked(&app).await;
    let reply = answer(&app, resident, "太差了", Locale::ZhHans)
        .await
        .unwrap();
    assert!(reply.contains("抱歉"), "{reply}");
    assert_eq!(
        ticket_state(&app.db, ticket.id).await,
        ("reopened".into(), Some(1))
    );
    let (staff_id,): (Option<Uuid>,) = sqlx::query_as(
        "SELECT staff_id FROM outbox WHERE ticket_id = $1 AND recipient_kind = 'staff' AND kind = 'alert'",
    )
    .bind(ticket.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(staff_id, Some(supervisor));
    let (reopen_count,): (i32,) = sqlx::query_as("SELECT reopen_count FROM tickets WHERE id = $1")
        .bind(ticket.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(reopen_count, 1, "counts as a repeat complaint");
}

#[tokio::test]
async fn a_ticket_confirmed_on_the_spot_is_closed_without_a_survey() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let (_, ticket) = resolved_ticket(&app).await;
    sqlx::query("UPDATE tickets SET satisfied_on_spot = TRUE WHERE id = $1")
        .bind(ticket.id)
        .execute(&app.db)
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(3));
    run_due(&app.state).await.unwrap();
    assert_eq!(ticket_state(&app.db, ticket.id).await.0, "closed");
    assert_eq!(count(&app.db, SURVEY_NOTICES, ticket.id).await, 0);
    let (by,): (Option<String>,) =
        sqlx::query_as("SELECT answered_by FROM surveys WHERE ticket_id = $1")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(by.as_deref(), Some("on_spot"), "counted as revisited");
}

/// The whole way back to the resident: resolved → survey → reminder → manual revisit →
/// the resident finally answers "1" → reopened, supervisor alerted → the reopened ticket
/// is not taken in time and climbs every escalation level.
#[tokio::test]
async fn the_whole_walk_from_resolution_to_reopening_and_escalation() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let concierge =
        platform::staff(&app.db, "王管家", "customer_service", "concierge", &["3"]).await;
    let eng = platform::staff(&app.db, "赵工", "engineering", "supervisor", &[]).await;
    let cs = platform::staff(&app.db, "张主管", "customer_service", "supervisor", &[]).await;
    let manager = platform::staff(&app.db, "刘经理", "customer_service", "manager", &[]).await;
    let (resident, ticket) = resolved_ticket(&app).await;

    for hours in [2, 4, 20] {
        app.clock
            .advance(chrono::Duration::hours(hours) + chrono::Duration::minutes(1));
        run_due(&app.state).await.unwrap();
    }
    assert_eq!(count(&app.db, SURVEY_NOTICES, ticket.id).await, 2);
    assert_eq!(count(&app.db, STAFF_ALERTS, ticket.id).await, 1);

    // As if it had been escalated all the way in its first life.
    sqlx::query("UPDATE tickets SET escalation_level = 3 WHERE id = $1")
        .bind(ticket.id)
        .execute(&app.db)
        .await
        .unwrap();
    let reply = answer(&app, resident, "1", Locale::ZhHans).await.unwrap();
    assert!(reply.contains(&ticket.number));
    assert_eq!(
        ticket_state(&app.db, ticket.id).await,
        ("reopened".into(), Some(1))
    );
    assert_eq!(count(&app.db, STAFF_ALERTS, ticket.id).await, 2);

    // The reopened ticket must be taken within 30 minutes.
    sqlx::query("UPDATE tickets SET respond_due_at = $2 WHERE id = $1")
        .bind(ticket.id)
        .bind(app.clock.now() + chrono::Duration::minutes(30))
        .execute(&app.db)
        .await
        .unwrap();
    for minutes in [31, 120, 120] {
        app.clock.advance(chrono::Duration::minutes(minutes));
        run_due(&app.state).await.unwrap();
    }
    let rows: Vec<(Option<Uuid>,)> = sqlx::query_as(
        "SELECT staff_id FROM outbox WHERE ticket_id = $1 AND dedup_key LIKE 'escalate:%' ORDER BY created_at, id",
    )
    .bind(ticket.id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let staff: Vec<Option<Uuid>> = rows.into_iter().map(|(s,)| s).collect();
    assert_eq!(
        staff,
        vec![Some(concierge), Some(eng), Some(cs), Some(manager)]
    );
    // Every message reaches the resident's channel.
    assert!(platform::outbox_drained(&app.db, Duration::from_secs(10)).await);
    assert!(platform.accepted_by_id().values().all(|n| *n == 1));
}

#[tokio::test]
async fn a_manual_revisit_recorded_by_staff_completes_the_survey() {
    use guanjia::ticket::revisit::{record_by_staff, Rating};
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let concierge =
        platform::staff(&app.db, "王管家", "customer_service", "concierge", &["3"]).await;
    let (_, ticket) = resolved_ticket(&app).await;
    for hours in [2, 4, 20] {
        app.clock
            .advance(chrono::Duration::hours(hours) + chrono::Duration::minutes(1));
        run_due(&app.state).await.unwrap();
    }
    let ctx = app.state.ticket_context();
    let mut tx = app.db.begin().await.unwrap();
    let done = record_by_staff(
        &mut tx,
        &ctx,
        ticket.id,
        concierge,
        Rating::new(4).unwrap(),
        "电话回访:满意",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(done);
    assert_eq!(
        ticket_state(&app.db, ticket.id).await,
        ("closed".into(), Some(4))
    );
    let (by, text): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT answered_by, answer_text FROM surveys WHERE ticket_id = $1")
            .bind(ticket.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(by.as_deref(), Some("staff"));
    assert_eq!(text.as_deref(), Some("电话回访:满意"));
    // Nothing left to record.
    let mut conn = app.db.acquire().await.unwrap();
    let again = record_by_staff(
        &mut conn,
        &ctx,
        ticket.id,
        concierge,
        Rating::new(5).unwrap(),
        "",
    )
    .await
    .unwrap();
    assert!(!again);
}

/// `n` webhook residents with a repair ticket each, resolved at the clock's present time,
/// written in two statements (thousands of tickets through `ticket::create` would be slow).
/// Every `on_spot_every`-th was confirmed satisfied on the spot. Returns the ticket ids.
async fn many_resolved_tickets(
    app: &TestApp,
    tag: &str,
    n: usize,
    on_spot_every: i32,
) -> Vec<Uuid> {
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "WITH r AS (
             INSERT INTO residents (id, channel, external_id, locale)
             SELECT gen_random_uuid(), 'webhook:demo', $1 || '-' || g, 'zh-Hans'
             FROM generate_series(1, $2) g
             RETURNING id, external_id)
         INSERT INTO tickets (id, number, resident_id, kind, category, urgency, department,
                              status, summary, description, building, locale, created_at,
                              resolved_at, updated_at, satisfied_on_spot)
         SELECT gen_random_uuid(), r.external_id, r.id, 'repair', 'equipment', 'normal',
                'engineering', 'resolved', '厨房水管漏水', '厨房水管漏水', '3', 'zh-Hans',
                $3, $3, $3, split_part(r.external_id, '-', 2)::int % $4 = 0
         FROM r
         RETURNING id",
    )
    .bind(tag)
    .bind(n as i32)
    .bind(app.clock.now())
    .bind(on_spot_every)
    .fetch_all(&app.db)
    .await
    .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

async fn scalar(db: &PgPool, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(db).await.unwrap();
    n
}

#[tokio::test]
async fn one_pass_over_more_tickets_than_a_batch_asks_every_one_exactly_once() {
    use guanjia::schedule::survey::BATCH;
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    // Two full batches and a short one; every 40th ticket closes on the spot instead.
    let n = 2 * BATCH + 37;
    let tickets = many_resolved_tickets(&app, "bulk", n, 40).await;
    assert_eq!(tickets.len(), n);
    let on_spot = n / 40;
    app.clock.advance(chrono::Duration::hours(3));

    let fired = run_due(&app.state).await.unwrap();
    assert_eq!(fired, n, "every ticket in one pass");
    assert_eq!(
        scalar(&app.db, "SELECT count(DISTINCT ticket_id) FROM surveys").await,
        n as i64
    );
    assert_eq!(
        scalar(&app.db, "SELECT count(*) FROM surveys").await,
        n as i64
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT count(*) FROM surveys WHERE answered_by = 'on_spot'"
        )
        .await,
        on_spot as i64
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT count(*) FROM tickets WHERE status = 'closed'"
        )
        .await,
        on_spot as i64
    );
    // One question per asked ticket, each to that ticket's resident, with its key.
    assert_eq!(
        scalar(
            &app.db,
            "SELECT count(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id
             WHERE o.kind = 'survey' AND o.recipient_kind = 'resident'
               AND o.resident_id = t.resident_id AND o.dedup_key = 'survey:' || t.id || ':1'
               AND o.text LIKE '%' || t.number || '%'"
        )
        .await,
        (n - on_spot) as i64
    );
    assert_eq!(
        scalar(&app.db, "SELECT count(*) FROM outbox WHERE kind = 'survey'").await,
        (n - on_spot) as i64
    );

    // Nothing is asked twice, however often the scheduler comes back.
    assert_eq!(run_due(&app.state).await.unwrap(), 0);
    assert_eq!(
        scalar(&app.db, "SELECT count(*) FROM surveys").await,
        n as i64
    );
    assert_eq!(
        scalar(&app.db, "SELECT count(*) FROM outbox WHERE kind = 'survey'").await,
        (n - on_spot) as i64
    );

    // Every question reaches its resident once.
    assert!(platform::outbox_drained(&app.db, Duration::from_secs(30)).await);
    let accepted = platform.accepted_by_id();
    let asked: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM outbox WHERE kind = 'survey'")
        .fetch_all(&app.db)
        .await
        .unwrap();
    for (id,) in &asked {
        assert_eq!(accepted.get(&id.to_string()), Some(&1), "outbox {id}");
    }
}

#[tokio::test]
async fn a_backlog_is_split_across_passes_and_two_schedulers_ask_each_ticket_once() {
    use guanjia::schedule::run_pass;
    use guanjia::schedule::survey::{BATCH, MAX_PER_PASS};
    let platform = Platform::start().await;
    let a = app_for(&platform).await;
    let b = crate::helpers::spawn_app_on(a.settings.clone(), a.clock.clone()).await;
    let backlog = MAX_PER_PASS + 150;
    many_resolved_tickets(&a, "backlog", backlog, 1_000_000).await;
    a.clock.advance(chrono::Duration::hours(3));

    // A pass stops at the cap and says there is more; the next takes the rest.
    let first = run_pass(&a.state).await.unwrap();
    assert_eq!((first.fired, first.more), (MAX_PER_PASS, true));
    let second = run_pass(&a.state).await.unwrap();
    assert_eq!((second.fired, second.more), (150, false));

    // Two schedulers at once, over several batches: each ticket is asked by one of them.
    let n = 3 * BATCH + 11;
    many_resolved_tickets(&a, "pair", n, 1_000_000).await;
    a.clock.advance(chrono::Duration::hours(3));
    let mut passes = Vec::new();
    for _ in 0..2 {
        passes.push(run_pass(&a.state));
        passes.push(run_pass(&b.state));
    }
    let fired: usize = futures::future::join_all(passes)
        .await
        .into_iter()
        .map(|p| p.unwrap().fired)
        .sum();
    assert_eq!(fired, n);

    let total = (backlog + n) as i64;
    assert_eq!(scalar(&a.db, "SELECT count(*) FROM surveys").await, total);
    assert_eq!(
        scalar(&a.db, "SELECT count(DISTINCT ticket_id) FROM surveys").await,
        total
    );
    assert_eq!(
        scalar(&a.db, "SELECT count(*) FROM outbox WHERE kind = 'survey'").await,
        total
    );
    assert_eq!(
        scalar(
            &a.db,
            "SELECT count(DISTINCT ticket_id) FROM outbox WHERE kind = 'survey'"
        )
        .await,
        total
    );
}

#[tokio::test]
async fn a_ticket_that_cannot_be_asked_does_not_hold_up_its_batch() {
    let platform = Platform::start().await;
    let app = app_for(&platform).await;
    let n = 30;
    let tickets = many_resolved_tickets(&app, "poison", n, 1_000_000).await;
    let bad = tickets[n / 2];
    // Stands in for whatever might make one ticket's insert fail (and with it the
    // batch's multi-row statement).
    sqlx::raw_sql(&format!(
        "CREATE FUNCTION refuse_survey() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.ticket_id = '{bad}' THEN RAISE EXCEPTION 'refused for the test'; END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_survey BEFORE INSERT ON surveys
             FOR EACH ROW EXECUTE FUNCTION refuse_survey();"
    ))
    .execute(&app.db)
    .await
    .unwrap();
    app.clock.advance(chrono::Duration::hours(3));

    assert_eq!(run_due(&app.state).await.unwrap(), n - 1);
    assert_eq!(count(&app.db, SURVEY_NOTICES, bad).await, 0);
    assert_eq!(
        scalar(&app.db, "SELECT count(*) FROM outbox WHERE kind = 'survey'").await,
        (n - 1) as i64
    );
    // Still due, so tried again at the next pass, and asked once it can be.
    sqlx::query("DROP TRIGGER refuse_survey ON surveys")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(run_due(&app.state).await.unwrap(), 1);
    assert_eq!(count(&app.db, SURVEY_NOTICES, bad).await, 1);
}
