//! Hostile input through the real doors: every item of `tests/data/hostile` is sent, properly
//! signed, to the WeChat push endpoint (plain and safe mode) and the JSON webhook. Whatever
//! the input, the answer is a clear 4xx or a sane 200 — never a 5xx, never a crash — nothing
//! is stored for what is refused, resident text is stored byte for byte, and text that later
//! shows in the staff API or the report comes back inert.

use std::path::{Path, PathBuf};

use guanjia::channel::webhook::signature as webhook_sig;
use guanjia::channel::wechat::crypto::{self, AesKey};
use guanjia::channel::wechat::{signature, xml};
use guanjia::clock::Clock;
use guanjia::report::{self, Format, Month};
use guanjia::ticket::Kind;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_channel_app, TestApp};
use crate::ingest::count;
use crate::tickets::{add_resident, add_staff, file, Spec};
use crate::wechat::{push, AES_KEY, APPID, TOKEN};

const WEBHOOK_SECRET: &str = "guanjia-demo-webhook-secret";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Reject,
    Accept,
    Any,
}

struct Item {
    name: String,
    body: Vec<u8>,
    expect: Expect,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile")
}

/// The items of one corpus folder, in name order; the name's prefix is the expectation.
fn corpus(sub: &str) -> Vec<Item> {
    let mut items: Vec<Item> = std::fs::read_dir(corpus_dir().join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let expect = if name.starts_with("reject-") {
                Expect::Reject
            } else if name.starts_with("accept-") {
                Expect::Accept
            } else if name.starts_with("any-") {
                Expect::Any
            } else {
                assert_eq!(sub, "texts", "{name}: unknown prefix");
                Expect::Accept
            };
            Item {
                body: std::fs::read(&p).unwrap(),
                name,
                expect,
            }
        })
        .collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(items.len() >= 10, "corpus {sub} is missing");
    items
}

async fn wechat_plain(app: &TestApp, nonce: usize, body: Vec<u8>) -> reqwest::Response {
    crate::wechat::post_raw(app, &crate::wechat::signed_query(&nonce.to_string()), body).await
}

async fn wechat_safe(app: &TestApp, nonce: usize, inner: &str) -> reqwest::Response {
    let key = AesKey::parse(AES_KEY).unwrap();
    let encrypt = crypto::encrypt(&key, APPID, inner);
    let (ts, nonce) = (
        chrono::Utc::now().timestamp().to_string(),
        nonce.to_string(),
    );
    let ts = ts.as_str();
    let body = format!("<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
    let query = format!(
        "signature={}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={}",
        signature::sign(&[TOKEN, ts, &nonce]),
        signature::sign(&[TOKEN, ts, &nonce, &encrypt])
    );
    app.client
        .post(format!("{}/wechat/demo?{query}", app.address))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn webhook(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    let ts = app.clock.now().timestamp().to_string();
    app.client
        .post(format!("{}/webhook/demo", app.address))
        .header("X-Guanjia-Timestamp", &ts)
        .header(
            "X-Guanjia-Signature",
            webhook_sig::sign(WEBHOOK_SECRET.as_bytes(), &ts, &body),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn stored(app: &TestApp) -> (i64, i64) {
    (
        count(&app.db, "inbound_messages").await,
        count(&app.db, "residents").await,
    )
}

/// Checks one answer against the item's expectation and the change in stored rows;
/// `new_rows` is how many messages an accepted item must add (0 for a repeat).
fn judge(
    what: &str,
    item: &Item,
    status: u16,
    before: (i64, i64),
    after: (i64, i64),
    new_rows: i64,
) {
    let name = &item.name;
    assert!(
        status < 500,
        "{what} {name}: a server error ({status}) for hostile input"
    );
    assert!(
        status == 200 || (400..500).contains(&status),
        "{what} {name}: neither 200 nor a 4xx but {status}"
    );
    match item.expect {
        Expect::Reject => assert!(
            (400..500).contains(&status),
            "{what} {name}: accepted ({status}) but must be refused"
        ),
        Expect::Accept => assert_eq!(status, 200, "{what} {name}: refused"),
        Expect::Any => {}
    }
    if status == 200 {
        assert!(
            after.0 - before.0 == new_rows || (item.expect == Expect::Any && after.0 >= before.0),
            "{what} {name}: {} messages stored, expected {new_rows}",
            after.0 - before.0
        );
    } else {
        assert_eq!(after, before, "{what} {name}: refused yet something stored");
    }
}

/// A 200 from the WeChat door is "success" or a reply addressed back to the sender.
fn sane_wechat_reply(name: &str, body: &str, safe: bool) {
    if body == "success" {
        return;
    }
    let fields = xml::parse_fields(body)
        .unwrap_or_else(|e| panic!("{name}: the reply is not XML ({e}): {body:.200}"));
    if safe {
        assert!(
            fields.get("Encrypt").is_some(),
            "{name}: plain reply in safe mode"
        );
    } else {
        assert_eq!(fields.get("MsgType"), Some("text"), "{name}");
        assert_eq!(
            fields.get("FromUserName"),
            Some("gh_7f083739789a"),
            "{name}"
        );
    }
}

async fn still_alive(app: &TestApp) {
    let res = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the service died");
}

#[tokio::test]
async fn every_xml_item_through_the_wechat_door_plain_and_safe() {
    let app = spawn_channel_app().await;
    let items = corpus("xml");
    for (i, item) in items.iter().enumerate() {
        let before = stored(&app).await;
        let res = wechat_plain(&app, i, item.body.clone()).await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let after = stored(&app).await;
        judge("plain", item, status, before, after, 1);
        if status == 200 {
            sane_wechat_reply(&item.name, &text, false);
        }
        // Safe mode: the same push sealed in the envelope. Pushes too large to seal under
        // the body limit are left to plain mode; a repeat of an accepted push stores nothing.
        let Ok(inner) = std::str::from_utf8(&item.body) else {
            continue;
        };
        if inner.len() > 40_000 {
            continue;
        }
        let before = stored(&app).await;
        let res = wechat_safe(&app, 10_000 + i, inner).await;
        let safe_status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let after = stored(&app).await;
        judge("safe", item, safe_status, before, after, 0);
        assert_eq!(
            safe_status >= 400,
            status >= 400,
            "{}: plain said {status}, safe mode said {safe_status}",
            item.name
        );
        if safe_status == 200 {
            sane_wechat_reply(&item.name, &text, true);
        }
    }
    still_alive(&app).await;
}

#[tokio::test]
async fn every_json_item_through_the_webhook() {
    let app = spawn_channel_app().await;
    for item in corpus("json") {
        let before = stored(&app).await;
        let res = webhook(&app, item.body.clone()).await;
        let status = res.status().as_u16();
        let raw = res.bytes().await.unwrap();
        let after = stored(&app).await;
        judge("webhook", &item, status, before, after, 1);
        if status == 413 {
            // The body limit answers before the handler, in its own words.
            continue;
        }
        let json: Value = serde_json::from_slice(&raw)
            .unwrap_or_else(|e| panic!("{}: answer is not JSON: {e}", item.name));
        if status == 200 {
            assert!(json["reply"].is_string(), "{}: {json}", item.name);
        } else {
            assert!(json["error"].is_string(), "{}: {json}", item.name);
        }
    }
    still_alive(&app).await;
}

/// `text` inside CDATA, with any `]]>` split across two sections.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

#[tokio::test]
async fn resident_texts_are_stored_verbatim_and_the_tables_survive() {
    let app = spawn_channel_app().await;
    let texts = corpus("texts");
    for (i, item) in texts.iter().enumerate() {
        let text = std::str::from_utf8(&item.body).unwrap();
        let wechat_body = push(
            &format!("o_text_{i}"),
            "text",
            &format!(
                "<Content>{}</Content><MsgId>{}</MsgId>",
                cdata(text),
                70_000 + i
            ),
        );
        let res = wechat_plain(&app, i, wechat_body.into_bytes()).await;
        assert_eq!(res.status(), 200, "wechat {}", item.name);
        sane_wechat_reply(&item.name, &res.text().await.unwrap(), false);

        let json = serde_json::json!({"message_id": format!("text-{i}"), "user_id": format!("u-text-{i}"), "text": text});
        let res = webhook(&app, json.to_string().into_bytes()).await;
        assert_eq!(res.status(), 200, "webhook {}", item.name);

        for dedup in [
            format!("{APPID}|o_text_{i}|{}", 70_000 + i),
            format!("text-{i}"),
        ] {
            let content: String =
                sqlx::query_scalar("SELECT content FROM inbound_messages WHERE dedup_key = $1")
                    .bind(&dedup)
                    .fetch_one(&app.db)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {dedup} not stored: {e}", item.name));
            assert_eq!(content, text, "{}: not stored verbatim", item.name);
        }
    }
    let n = i64::try_from(texts.len()).unwrap();
    assert_eq!(count(&app.db, "inbound_messages").await, 2 * n);
    assert_eq!(count(&app.db, "residents").await, 2 * n);
    // Every table the injections named is still there and answers.
    for table in [
        "tickets",
        "residents",
        "inbound_messages",
        "outbox",
        "staff",
    ] {
        count(&app.db, table).await;
    }
    still_alive(&app).await;
}

const INJECTED: &str = "<script>alert('x')</script>\"><img src=x onerror=alert(1)> 噪音";

#[tokio::test]
async fn injected_text_comes_back_inert_from_the_staff_api_and_the_report() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "张主管", "customer_service", "manager", &[]).await;
    let resident = add_resident(&app, guanjia::domain::Locale::ZhHans).await;
    let ticket = file(
        &app,
        resident,
        &Spec {
            kind: Kind::Complaint,
            ..Spec::default()
        },
    )
    .await;
    sqlx::query(
        "UPDATE tickets SET summary = $1, description = $1, severity = 1, important = true WHERE id = $2",
    )
    .bind(INJECTED)
    .bind(ticket.id)
    .execute(&app.db)
    .await
    .unwrap();

    let res = app
        .client
        .get(format!("{}/api/v1/tickets/{}", app.address, ticket.id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "staff API must not serve HTML: {content_type}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["summary"].as_str(),
        Some(INJECTED),
        "JSON carries the text unchanged, as data: {body}"
    );

    let as_of = app.clock.now();
    let month = Month::containing(as_of, app.settings.locale.offset());
    let monthly = report::monthly_as_of(&app.db, &app.settings, month, as_of)
        .await
        .unwrap();
    let html = report::render(&monthly, Format::Html).unwrap();
    assert!(
        html.contains("&lt;script&gt;alert("),
        "the complaint is not in the report, so escaping was not tested"
    );
    assert!(!html.contains("<script>alert"), "raw script in the report");
    assert!(!html.contains("<img src=x"), "raw img in the report");
}

/// The fuzz targets' functions (see fuzz/) over the corpus and fixed-seed mutations of it,
/// so the same ground is covered by plain `cargo test` where libFuzzer cannot run.
#[test]
fn the_fuzzed_functions_survive_the_corpus_and_seeded_mutations() {
    use guanjia::channel::webhook::message::WebhookMessage;
    use guanjia::understanding::Classifier;
    use rand::{Rng, SeedableRng};

    let key = AesKey::parse(AES_KEY).unwrap();
    let classifier = Classifier::load(Path::new("config/lexicon.toml")).expect("the lexicon loads");
    let seeds: Vec<Vec<u8>> = ["xml", "json", "texts"]
        .iter()
        .flat_map(|sub| corpus(sub))
        .map(|i| i.body)
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x0067_7561_6e6a_6961);
    let run = |data: &[u8]| {
        let lossy = String::from_utf8_lossy(data);
        let _ = xml::parse_push(&lossy);
        let _ = xml::parse_envelope(&lossy);
        let _ = crypto::decrypt(&key, APPID, &lossy);
        let sealed = crypto::encrypt(&key, APPID, &lossy);
        assert_eq!(
            crypto::decrypt(&key, APPID, &sealed).as_deref(),
            Ok(&*lossy)
        );
        if let Ok(m) = WebhookMessage::parse(data) {
            assert!(!m.text.contains('\0'));
        }
        let good = webhook_sig::sign(b"secret", "1700000000", data);
        assert!(webhook_sig::verify(b"secret", "1700000000", data, &good));
        let c = classifier.classify(&lossy);
        assert!(c.confidence.is_finite());
    };
    for seed in &seeds {
        run(seed);
    }
    for _ in 0..3_000 {
        let mut data = seeds[rng.gen_range(0..seeds.len())].clone();
        if data.len() > 4_096 {
            let start = rng.gen_range(0..data.len() - 4_096);
            data = data[start..start + 4_096].to_vec();
        }
        for _ in 0..rng.gen_range(1..8) {
            match rng.gen_range(0..4) {
                0 if !data.is_empty() => {
                    let i = rng.gen_range(0..data.len());
                    data[i] = rng.gen();
                }
                1 if !data.is_empty() => data.truncate(rng.gen_range(0..data.len())),
                2 => {
                    let other = &seeds[rng.gen_range(0..seeds.len())];
                    let at = rng.gen_range(0..=data.len());
                    let take = other.len().min(64);
                    data.splice(at..at, other[..take].iter().copied());
                }
                _ => data.extend((0..rng.gen_range(0..32)).map(|_| rng.gen::<u8>())),
            }
        }
        run(&data);
    }
}

/// A plain push signed at `ts` with `nonce`: plain mode signs no body.
async fn wechat_plain_at(app: &TestApp, ts: i64, nonce: &str, body: &str) -> reqwest::Response {
    let query = crate::wechat::signed_query_at(ts, nonce);
    crate::wechat::post_raw(app, &query, body.as_bytes().to_vec()).await
}

#[tokio::test]
async fn a_leaked_plain_signature_posts_nothing_late_or_twice() {
    let app = spawn_channel_app().await;
    let now = app.clock.now().timestamp();
    let mine = crate::wechat::text_push("o_victim", "7001", "进度");
    let forged = crate::wechat::text_push("o_victim", "7002", "1栋101 煤气泄漏");
    // Days old: refused, whatever the body.
    let res = wechat_plain_at(&app, now - 3 * 24 * 3600, "5150", &forged).await;
    assert_eq!(res.status(), 401);
    assert_eq!(stored(&app).await, (0, 0));
    // Fresh: accepted once. The platform's retry of the same body is answered again…
    let res = wechat_plain_at(&app, now, "5151", &mine).await;
    assert_eq!(res.status(), 200);
    let res = wechat_plain_at(&app, now, "5151", &mine).await;
    assert_eq!(res.status(), 200);
    // …but the same signature with another body is a replay.
    let res = wechat_plain_at(&app, now, "5151", &forged).await;
    assert_eq!(res.status(), 401);
    assert_eq!(count(&app.db, "inbound_messages").await, 1);
    // Just inside the window on either side is fine.
    let res = wechat_plain_at(&app, now - 290, "5152", &forged).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_account_in_safe_mode_only_refuses_plain_pushes() {
    let app = crate::helpers::spawn_app_with_dialogue_and_workers(
        std::sync::Arc::new(guanjia::channel::AcknowledgeOnly),
        true,
        |s| {
            if let Some(a) = s.wechat.accounts.get_mut("demo") {
                a.safe_mode_only = true;
            }
        },
    )
    .await;
    let now = app.clock.now().timestamp();
    let body = crate::wechat::text_push("o_plain", "7101", "你好");
    let res = wechat_plain_at(&app, now, "6161", &body).await;
    assert_eq!(res.status(), 403);
    assert_eq!(stored(&app).await, (0, 0));
    let inner = crate::wechat::text_push("o_safe", "7102", "你好");
    let res = wechat_safe(&app, 6162, &inner).await;
    assert_eq!(res.status(), 200);
}
