//! The signed JSON webhook: signatures, the freshness window, replays, bad bodies, and
//! retries of one message id that must be answered alike and stored once.

use guanjia::channel::webhook::signature::sign;
use guanjia::clock::Clock;
use serde_json::{json, Value};

use crate::helpers::{spawn_channel_app, TestApp};
use crate::ingest::count;

const SECRET: &str = "guanjia-demo-webhook-secret";

fn message(id: &str, user: &str, text: &str) -> String {
    json!({"message_id": id, "user_id": user, "text": text, "sent_at": "2026-11-22T10:00:00+08:00"})
        .to_string()
}

async fn send(
    app: &TestApp,
    channel: &str,
    body: &str,
    timestamp: i64,
    secret: &str,
) -> reqwest::Response {
    let ts = timestamp.to_string();
    app.client
        .post(format!("{}/webhook/{channel}", app.address))
        .header("X-Guanjia-Timestamp", &ts)
        .header(
            "X-Guanjia-Signature",
            sign(secret.as_bytes(), &ts, body.as_bytes()),
        )
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

fn now(app: &TestApp) -> i64 {
    app.clock.now().timestamp()
}

#[tokio::test]
async fn a_signed_message_is_stored_and_answered() {
    let app = spawn_channel_app().await;
    let res = send(
        &app,
        "demo",
        &message("m-1", "resident-1", "电梯坏了"),
        now(&app),
        SECRET,
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"reply": "收到,我们会尽快处理。"}));
    let (channel, dedup, external): (String, String, String) = sqlx::query_as(
        "SELECT m.channel, m.dedup_key, r.external_id FROM inbound_messages m JOIN residents r ON r.id = m.resident_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (channel.as_str(), dedup.as_str(), external.as_str()),
        ("webhook:demo", "m-1", "resident-1")
    );
}

#[tokio::test]
async fn unverifiable_requests_get_401_and_store_nothing() {
    let app = spawn_channel_app().await;
    let body = message("m-2", "resident-2", "hi");
    let t = now(&app);
    assert_eq!(
        send(&app, "demo", &body, t, "wrong-secret").await.status(),
        401
    );
    assert_eq!(
        send(&app, "demo", &body, t - 301, SECRET).await.status(),
        401,
        "too old"
    );
    assert_eq!(
        send(&app, "demo", &body, t + 301, SECRET).await.status(),
        401,
        "from the future"
    );
    // Signed for one body, sent with another.
    let res = app
        .client
        .post(format!("{}/webhook/demo", app.address))
        .header("X-Guanjia-Timestamp", t.to_string())
        .header(
            "X-Guanjia-Signature",
            sign(SECRET.as_bytes(), &t.to_string(), body.as_bytes()),
        )
        .body(message("m-2", "resident-2", "tampered"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let unsigned = app
        .client
        .post(format!("{}/webhook/demo", app.address))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let err: Value = unsigned.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains("header"));
    assert_eq!(count(&app.db, "inbound_messages").await, 0);
    assert_eq!(count(&app.db, "residents").await, 0);

    // Within the window is fine, at its edge too.
    assert_eq!(
        send(&app, "demo", &body, t - 300, SECRET).await.status(),
        200
    );
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let app = spawn_channel_app().await;
    let body = message("m-3", "resident-3", "hi");
    let t = now(&app);
    assert_eq!(send(&app, "demo", &body, t, SECRET).await.status(), 200);
    let replay = send(&app, "demo", &body, t, SECRET).await;
    assert_eq!(replay.status(), 401);
    let err: Value = replay.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains("replay"));
}

#[tokio::test]
async fn bad_json_and_unknown_channels() {
    let app = spawn_channel_app().await;
    let t = now(&app);
    for bad in [
        "not json",
        r#"{"user_id":"u","text":"x"}"#,
        r#"{"message_id":"","user_id":"u"}"#,
    ] {
        let res = send(&app, "demo", bad, t, SECRET).await;
        assert_eq!(res.status(), 400, "{bad}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].is_string());
    }
    let res = send(&app, "nowhere", &message("m-4", "u", "hi"), t, SECRET).await;
    assert_eq!(res.status(), 404);
    assert_eq!(count(&app.db, "inbound_messages").await, 0);
    let huge = message("m-5", "u", &"x".repeat(70_000));
    assert_eq!(send(&app, "demo", &huge, t, SECRET).await.status(), 413);
}

#[tokio::test]
async fn twenty_concurrent_retries_of_one_message_id() {
    let app = spawn_channel_app().await;
    let body = message("m-dup", "resident-dup", "3栋电梯坏了");
    let t = now(&app);
    // Each retry is signed afresh (a new timestamp), as a platform re-sending would.
    let replies = futures::future::join_all((0..20).map(|i| {
        let body = body.clone();
        let app = &app;
        async move {
            let res = send(app, "demo", &body, t - i, SECRET).await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    }))
    .await;
    assert_eq!(count(&app.db, "inbound_messages").await, 1);
    assert_eq!(replies[0], json!({"reply": "收到,我们会尽快处理。"}));
    assert!(replies.iter().all(|r| r == &replies[0]));
}

#[tokio::test]
async fn a_slow_reply_is_empty_now() {
    let app = crate::ingest::spawn_app_with_dialogue(
        std::sync::Arc::new(crate::ingest::Slow(std::time::Duration::from_millis(800))),
        |s| s.server.reply_budget = std::time::Duration::from_millis(200),
    )
    .await;
    let res = send(
        &app,
        "demo",
        &message("m-slow", "u", "hi"),
        now(&app),
        SECRET,
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"reply": ""}));
}
