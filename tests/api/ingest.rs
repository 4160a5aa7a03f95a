//! Store first, nothing twice: the reply budget, replies through the outbox, long replies,
//! and recovery of messages a failure left unprocessed. Also the helpers the channel tests
//! share (an app with a chosen dialogue, row counts).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use guanjia::channel::ingest::recover_once;
use guanjia::channel::{Dialogue, InboundMessage, Outcome, Prepared};
use sqlx::PgPool;

pub use crate::helpers::{spawn_app_with_dialogue, spawn_app_with_dialogue_and_workers};
use crate::wechat::{post_plain, text_push};

pub async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

/// Answers after a pause, echoing the text it was given.
pub struct Slow(pub Duration);

#[async_trait]
impl Dialogue for Slow {
    async fn handle(
        &self,
        _: &mut sqlx::PgConnection,
        msg: &InboundMessage,
        _: &Prepared,
    ) -> anyhow::Result<Outcome> {
        tokio::time::sleep(self.0).await;
        Ok(Outcome::reply(format!(
            "echo: {}",
            msg.body.text().unwrap_or_default()
        )))
    }
}

/// Fails the first `n` times, then echoes.
struct FailFirst(usize, AtomicUsize);

#[async_trait]
impl Dialogue for FailFirst {
    async fn handle(
        &self,
        _: &mut sqlx::PgConnection,
        msg: &InboundMessage,
        _: &Prepared,
    ) -> anyhow::Result<Outcome> {
        if self.1.fetch_add(1, Ordering::SeqCst) < self.0 {
            anyhow::bail!("dialogue down");
        }
        Ok(Outcome::reply(format!(
            "echo: {}",
            msg.body.text().unwrap_or_default()
        )))
    }
}

/// Replies with a long text (3,000 bytes of Chinese).
struct Verbose;

#[async_trait]
impl Dialogue for Verbose {
    async fn handle(
        &self,
        _: &mut sqlx::PgConnection,
        _: &InboundMessage,
        _: &Prepared,
    ) -> anyhow::Result<Outcome> {
        Ok(Outcome::reply("报".repeat(1000)))
    }
}

async fn outbox_texts(db: &PgPool) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as("SELECT kind, text, dedup_key FROM outbox ORDER BY created_at")
        .fetch_all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_slow_reply_is_answered_success_and_sent_through_the_outbox() {
    let app = spawn_app_with_dialogue(Arc::new(Slow(Duration::from_millis(1500))), |s| {
        s.server.reply_budget = Duration::from_millis(300);
    })
    .await;
    let started = std::time::Instant::now();
    let res = post_plain(&app, &text_push("o_slow", "1001", "水管漏水")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "success");
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "answered within the budget"
    );

    // The processing goes on without the request and writes the reply to the outbox.
    let mut outbox = Vec::new();
    for _ in 0..60 {
        outbox = outbox_texts(&app.db).await;
        if !outbox.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (id, deferred, processed): (uuid::Uuid, bool, bool) =
        sqlx::query_as("SELECT id, reply_deferred, processed_at IS NOT NULL FROM inbound_messages")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(deferred && processed);
    assert_eq!(
        outbox,
        vec![(
            "reply".to_owned(),
            "echo: 水管漏水".to_owned(),
            Some(format!("reply:{id}"))
        )]
    );

    // The platform's retry gets `success` again, not a second copy of the reply.
    let res = post_plain(&app, &text_push("o_slow", "1001", "水管漏水")).await;
    assert_eq!(res.text().await.unwrap(), "success");
    assert_eq!(count(&app.db, "inbound_messages").await, 1);
    assert_eq!(count(&app.db, "outbox").await, 1);
}

#[tokio::test]
async fn a_reply_within_the_budget_goes_in_the_response_only() {
    let app = spawn_app_with_dialogue(Arc::new(Slow(Duration::from_millis(50))), |_| {}).await;
    let res = post_plain(&app, &text_push("o_fast", "1002", "你好")).await;
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<Content><![CDATA[echo: 你好]]></Content>"),
        "{body}"
    );
    assert_eq!(count(&app.db, "outbox").await, 0);
}

#[tokio::test]
async fn a_long_passive_reply_sends_the_rest_through_the_outbox() {
    let app = spawn_app_with_dialogue(Arc::new(Verbose), |_| {}).await;
    let res = post_plain(&app, &text_push("o_long", "1003", "介绍一下")).await;
    let body = res.text().await.unwrap();
    let fields = guanjia::channel::wechat::xml::parse_fields(&body).unwrap();
    let passive = fields.get("Content").unwrap().to_owned();
    assert!(
        passive.len() <= 2048 && !passive.is_empty(),
        "{}",
        passive.len()
    );
    let outbox = outbox_texts(&app.db).await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(format!("{passive}{}", outbox[0].1), "报".repeat(1000));
    assert!(outbox[0].2.as_deref().unwrap().ends_with(":rest"));
}

#[tokio::test]
async fn a_failed_message_is_recovered_later_and_replied_through_the_outbox() {
    let app = spawn_app_with_dialogue(Arc::new(FailFirst(1, AtomicUsize::new(0))), |_| {}).await;
    let res = post_plain(&app, &text_push("o_fail", "1004", "电梯坏了")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "success");
    let processed: bool =
        sqlx::query_scalar("SELECT processed_at IS NOT NULL FROM inbound_messages")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!processed, "stored but not processed");

    // Not yet stranded: a recovery pass leaves it alone.
    assert_eq!(recover_once(&app.state.ingest).await.unwrap(), 0);
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(recover_once(&app.state.ingest).await.unwrap(), 1);
    let (processed, attempts): (bool, i32) =
        sqlx::query_as("SELECT processed_at IS NOT NULL, attempts FROM inbound_messages")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(processed);
    assert_eq!(attempts, 1);
    let outbox = outbox_texts(&app.db).await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].1, "echo: 电梯坏了");
    // Done is done.
    assert_eq!(recover_once(&app.state.ingest).await.unwrap(), 0);
}

#[tokio::test]
async fn a_repeat_does_not_reset_the_residents_send_counter() {
    let app = crate::helpers::spawn_app().await;
    post_plain(&app, &text_push("o_count", "2001", "你好")).await;
    sqlx::query("UPDATE residents SET sent_since_inbound = 3")
        .execute(&app.db)
        .await
        .unwrap();
    post_plain(&app, &text_push("o_count", "2001", "你好")).await;
    let sent: i32 = sqlx::query_scalar("SELECT sent_since_inbound FROM residents")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sent, 3, "a retry is not a new resident message");
    post_plain(&app, &text_push("o_count", "2002", "还在吗")).await;
    let sent: i32 = sqlx::query_scalar("SELECT sent_since_inbound FROM residents")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sent, 0, "a new message opens the window again");
    assert_eq!(count(&app.db, "residents").await, 1);
}

#[tokio::test]
async fn the_recovery_worker_finishes_stranded_messages_by_itself() {
    let app = spawn_app_with_dialogue_and_workers(
        Arc::new(FailFirst(1, AtomicUsize::new(0))),
        true,
        |_| {},
    )
    .await;
    let res = post_plain(&app, &text_push("o_stranded", "1005", "门禁坏了")).await;
    assert_eq!(res.text().await.unwrap(), "success");
    app.clock.advance(chrono::Duration::seconds(31));
    let mut processed = false;
    for _ in 0..100 {
        processed = sqlx::query_scalar("SELECT processed_at IS NOT NULL FROM inbound_messages")
            .fetch_one(&app.db)
            .await
            .unwrap();
        if processed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(processed, "the worker picked it up within its period");
    let texts: Vec<String> = sqlx::query_scalar("SELECT text FROM outbox WHERE kind = 'reply'")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(texts, vec!["echo: 门禁坏了".to_owned()]);
}

/// Holds its batch on "hold" (so the next arrivals queue up into one batch) and fails on
/// "boom"; echoes everything else.
struct HoldAndBoom;

#[async_trait]
impl Dialogue for HoldAndBoom {
    async fn handle(
        &self,
        _: &mut sqlx::PgConnection,
        msg: &InboundMessage,
        _: &Prepared,
    ) -> anyhow::Result<Outcome> {
        let text = msg.body.text().unwrap_or_default();
        match text {
            "hold" => tokio::time::sleep(Duration::from_millis(400)).await,
            "boom" => anyhow::bail!("cannot handle this one"),
            _ => {}
        }
        Ok(Outcome::reply(format!("echo: {text}")))
    }
}

async fn text_reply(app: &crate::helpers::TestApp, from: &str, msg_id: &str, text: &str) -> String {
    let body = post_plain(app, &text_push(from, msg_id, text))
        .await
        .text()
        .await
        .unwrap();
    guanjia::channel::wechat::xml::parse_fields(&body)
        .ok()
        .and_then(|f| f.get("Content").map(|c| c.to_owned()))
        .unwrap_or(body)
}

#[tokio::test]
async fn one_failing_message_in_a_batch_does_not_hold_up_the_others() {
    let app = spawn_app_with_dialogue(Arc::new(HoldAndBoom), |s| {
        s.ingest.in_flight = 1;
    })
    .await;
    // "hold" occupies the only batch slot; the arrivals behind it form one batch.
    let hold = tokio::spawn({
        let (client, address) = (app.client.clone(), app.address.clone());
        async move {
            client
                .post(format!(
                    "{address}/wechat/demo?{}",
                    crate::wechat::signed_query(&crate::wechat::fresh_nonce())
                ))
                .body(text_push("o_hold", "3000", "hold"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let texts: Vec<String> = (0..12)
        .map(|i| {
            if i == 5 {
                "boom".into()
            } else {
                format!("m{i}")
            }
        })
        .collect();
    let answers = futures::future::join_all(texts.iter().enumerate().map(|(i, t)| {
        let app = &app;
        async move { text_reply(app, &format!("o_b{i}"), &format!("31{i:02}"), t).await }
    }))
    .await;
    assert_eq!(hold.await.unwrap(), 200);
    for (text, answer) in texts.iter().zip(&answers) {
        if text == "boom" {
            assert_eq!(
                answer, "success",
                "the failed one is acknowledged, not answered"
            );
        } else {
            assert_eq!(answer, &format!("echo: {text}"));
        }
    }
    let (stored, processed): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(processed_at) FROM inbound_messages")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (stored, processed),
        (13, 12),
        "all stored; all but the failed one processed"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("guanjia_ingest_batch_fallbacks_total"),
        "the failure was met in a batch, not alone"
    );
}

#[tokio::test]
async fn many_residents_at_once_are_each_stored_and_answered_once() {
    let app = crate::helpers::spawn_app_with(|s| s.ingest.in_flight = 2).await;
    // 30 residents × 2 messages, all at once, and a retry of every third message.
    let mut sends = Vec::new();
    for r in 0..30 {
        for m in 0..2 {
            sends.push((
                format!("o_many{r}"),
                format!("4{r:02}{m}"),
                "你好".to_owned(),
            ));
        }
    }
    let retries: Vec<_> = sends.iter().step_by(3).cloned().collect();
    sends.extend(retries);
    let answers = futures::future::join_all(sends.iter().map(|(from, id, text)| {
        let app = &app;
        async move { (id.clone(), text_reply(app, from, id, text).await) }
    }))
    .await;
    assert_eq!(count(&app.db, "inbound_messages").await, 60);
    let unprocessed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(unprocessed, 0);
    assert_eq!(count(&app.db, "residents").await, 30);
    // Every answer is a real reply, and a retry got what the first delivery got.
    let mut by_id = std::collections::HashMap::new();
    for (id, answer) in answers {
        assert!(!answer.is_empty() && answer != "success", "{id}: {answer}");
        let stored: String = sqlx::query_scalar(
            "SELECT reply FROM inbound_messages WHERE dedup_key LIKE '%|' || $1",
        )
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(answer, stored);
        if let Some(first) = by_id.insert(id.clone(), answer.clone()) {
            assert_eq!(first, answer, "{id}: a retry answered differently");
        }
    }
}
