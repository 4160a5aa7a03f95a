//! The WeChat Official Account door, spoken to as the platform would: URL verification,
//! plain and safe-mode pushes, every kind of bad request (nothing stored), events, and
//! retries that must not be processed twice.

use std::time::Duration;

use guanjia::channel::wechat::crypto::{self, AesKey};
use guanjia::channel::wechat::{signature, xml};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_channel_app, TestApp};
use crate::ingest::count;

pub const TOKEN: &str = "guanjia-demo-token";
pub const APPID: &str = "wx5823bf96d3bd56c7";
pub const AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

pub fn text_push(from: &str, msg_id: &str, content: &str) -> String {
    push(
        from,
        "text",
        &format!("<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"),
    )
}

pub fn push(from: &str, msg_type: &str, extra: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{extra}</xml>"
    )
}

/// A plain-mode query string signed with the demo token, now.
pub fn signed_query(nonce: &str) -> String {
    signed_query_at(chrono::Utc::now().timestamp(), nonce)
}

/// A plain-mode query string signed at `ts` (unix seconds).
pub fn signed_query_at(ts: i64, nonce: &str) -> String {
    let ts = ts.to_string();
    format!(
        "signature={}&timestamp={ts}&nonce={nonce}",
        signature::sign(&[TOKEN, &ts, nonce])
    )
}

/// A nonce no other push of this test run has used, as the platform draws them.
pub fn fresh_nonce() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}{n:06}", std::process::id())
}

/// A plain push signed at the app's own time with a fresh nonce.
pub async fn post_plain(app: &TestApp, body: &str) -> reqwest::Response {
    let query = signed_query_at(app.clock_now_ts(), &fresh_nonce());
    post_raw(app, &query, body.as_bytes().to_vec()).await
}

pub async fn post_raw(app: &TestApp, query: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(format!("{}/wechat/demo?{query}", app.address))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A safe-mode push: the envelope and its query (msg_signature over the Encrypt).
fn safe_push(inner: &str, appid: &str, key: &str) -> (String, String) {
    let key = AesKey::parse(key).unwrap();
    let encrypt = crypto::encrypt(&key, appid, inner);
    let (ts, nonce) = (chrono::Utc::now().timestamp().to_string(), fresh_nonce());
    let (ts, nonce) = (ts.as_str(), nonce.as_str());
    let body = format!("<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
    let query = format!(
        "signature={}&timestamp={ts}&nonce={nonce}&openid=o_safe&encrypt_type=aes&msg_signature={}",
        signature::sign(&[TOKEN, ts, nonce]),
        signature::sign(&[TOKEN, ts, nonce, &encrypt])
    );
    (query, body)
}

async fn rows(app: &TestApp) -> (i64, i64) {
    (
        count(&app.db, "inbound_messages").await,
        count(&app.db, "residents").await,
    )
}

#[tokio::test]
async fn url_verification_echoes_only_when_signed() {
    let app = spawn_channel_app().await;
    let url = |q: &str| format!("{}/wechat/demo?{q}", app.address);
    let res = app
        .client
        .get(url(&format!("{}&echostr=hello123", signed_query("42"))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "hello123");

    let forged = format!(
        "signature={}&timestamp=1700000000&nonce=42&echostr=x",
        signature::sign(&["wrong", "1700000000", "42"])
    );
    assert_eq!(
        app.client.get(url(&forged)).send().await.unwrap().status(),
        401
    );
    // The signature of another nonce does not carry over.
    let other_nonce = signed_query("42").replace("nonce=42", "nonce=43") + "&echostr=x";
    assert_eq!(
        app.client
            .get(url(&other_nonce))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.client
            .get(url("timestamp=1&nonce=2&echostr=x"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        app.client
            .get(url(&signed_query("42")))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let unknown = format!(
        "{}/wechat/nobody?{}&echostr=x",
        app.address,
        signed_query("42")
    );
    assert_eq!(app.client.get(unknown).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn plain_text_gets_a_passive_reply_with_users_swapped() {
    let app = spawn_channel_app().await;
    let res = post_plain(
        &app,
        &text_push("o_resident", "24263517285930000", "电梯坏了"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    let body = res.text().await.unwrap();
    let f = xml::parse_fields(&body).unwrap();
    assert_eq!(f.get("ToUserName"), Some("o_resident"));
    assert_eq!(f.get("FromUserName"), Some("gh_7f083739789a"));
    assert_eq!(f.get("MsgType"), Some("text"));
    assert_eq!(f.get("Content"), Some("收到,我们会尽快处理。"));
    assert_eq!(
        f.get("CreateTime"),
        Some(app.clock_now_ts().to_string().as_str())
    );

    let (channel, external, content, dedup, reply): (String, String, String, String, String) = sqlx::query_as(
        "SELECT m.channel, r.external_id, m.content, m.dedup_key, m.reply FROM inbound_messages m JOIN residents r ON r.id = m.resident_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(channel, "wechat:demo");
    assert_eq!(external, "o_resident");
    assert_eq!(content, "电梯坏了");
    assert_eq!(dedup, format!("{APPID}|o_resident|24263517285930000"));
    assert_eq!(reply, "收到,我们会尽快处理。");
}

trait ClockTs {
    fn clock_now_ts(&self) -> i64;
}

impl ClockTs for TestApp {
    fn clock_now_ts(&self) -> i64 {
        use guanjia::clock::Clock;
        self.clock.now().timestamp()
    }
}

#[tokio::test]
async fn safe_mode_message_gets_an_encrypted_reply() {
    let app = spawn_channel_app().await;
    let (query, body) = safe_push(
        &text_push("o_safe", "555", "3栋2单元1101 厨房水管漏水"),
        APPID,
        AES_KEY,
    );
    let res = post_raw(&app, &query, body.into_bytes()).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let env = xml::parse_fields(&body).unwrap();
    let encrypt = env.get("Encrypt").unwrap();
    assert!(signature::verify(
        env.get("MsgSignature").unwrap(),
        &[
            TOKEN,
            env.get("TimeStamp").unwrap(),
            env.get("Nonce").unwrap(),
            encrypt
        ]
    ));
    let inner = crypto::decrypt(&AesKey::parse(AES_KEY).unwrap(), APPID, encrypt).unwrap();
    let f = xml::parse_fields(&inner).unwrap();
    assert_eq!(f.get("ToUserName"), Some("o_safe"));
    assert_eq!(f.get("Content"), Some("收到,我们会尽快处理。"));
    let content: String = sqlx::query_scalar("SELECT content FROM inbound_messages")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(content, "3栋2单元1101 厨房水管漏水");
}

#[tokio::test]
async fn safe_mode_success_stays_unencrypted() {
    let app = spawn_channel_app().await;
    let (query, body) = safe_push(
        &push("o_safe", "event", "<Event><![CDATA[subscribe]]></Event>"),
        APPID,
        AES_KEY,
    );
    let res = post_raw(&app, &query, body.into_bytes()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "success");
}

#[tokio::test]
async fn safe_mode_refusals_store_nothing() {
    let app = spawn_channel_app().await;
    let inner = text_push("o_safe", "556", "hi");
    // Signed with `signature` only: msg_signature is what counts in safe mode.
    let (query, body) = safe_push(&inner, APPID, AES_KEY);
    let forged = query.replace("msg_signature=", "msg_signature=0");
    assert_eq!(
        post_raw(&app, &forged, body.clone().into_bytes())
            .await
            .status(),
        401
    );
    let without = query.split("&msg_signature").next().unwrap().to_owned();
    assert_eq!(
        post_raw(&app, &without, body.into_bytes()).await.status(),
        400
    );
    // Correctly signed, but encrypted for another AppID.
    let (query, body) = safe_push(&inner, "wwedab3d5fc43636d8", AES_KEY);
    assert_eq!(
        post_raw(&app, &query, body.into_bytes()).await.status(),
        401
    );
    // Correctly signed, but encrypted with another key.
    let (query, body) = safe_push(&inner, APPID, &"B".repeat(43));
    assert_eq!(
        post_raw(&app, &query, body.into_bytes()).await.status(),
        401
    );
    // Decrypts fine, but the message inside is not XML.
    let (query, body) = safe_push("not xml", APPID, AES_KEY);
    assert_eq!(
        post_raw(&app, &query, body.into_bytes()).await.status(),
        400
    );
    assert_eq!(rows(&app).await, (0, 0));
}

#[tokio::test]
async fn bad_requests_are_refused_and_store_nothing() {
    let app = spawn_channel_app().await;
    let good = text_push("o_bad", "1", "hi");
    let forged = format!("signature={}&timestamp=1700000000&nonce=1", "0".repeat(40));
    assert_eq!(
        post_raw(&app, &forged, good.clone().into_bytes())
            .await
            .status(),
        401
    );
    assert_eq!(
        post_raw(
            &app,
            "timestamp=1700000000&nonce=1",
            good.clone().into_bytes()
        )
        .await
        .status(),
        400
    );
    assert_eq!(
        post_raw(&app, "", good.clone().into_bytes()).await.status(),
        400
    );
    let unknown = app
        .client
        .post(format!(
            "{}/wechat/nobody?{}",
            app.address,
            signed_query("1")
        ))
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    for bad in [
        "<xml><ToUserName>unclosed</xml>".to_owned(),
        "just text".to_owned(),
        r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><ToUserName>&x;</ToUserName></xml>"#.to_owned(),
        r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>"#.to_owned() + &good,
        "<xml><FromUserName>o</FromUserName></xml>".to_owned(),
    ] {
        let res = post_plain(&app, &bad).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let mut not_utf8 = good.clone().into_bytes();
    not_utf8.splice(60..60, [0xff, 0xfe]);
    assert_eq!(
        post_raw(&app, &signed_query(&fresh_nonce()), not_utf8)
            .await
            .status(),
        400
    );

    let huge = text_push("o_bad", "2", &"水".repeat(70_000 / 3));
    assert!(huge.len() > 65_536);
    assert_eq!(post_plain(&app, &huge).await.status(), 413);
    assert_eq!(
        chunked_post(
            &app,
            &format!("/wechat/demo?{}", signed_query(&fresh_nonce())),
            huge.as_bytes()
        )
        .await,
        413
    );
    // A body just under the limit is fine.
    let big = text_push("o_bad", "3", &"a".repeat(60_000));
    assert_eq!(post_plain(&app, &big).await.status(), 200);
    assert_eq!(
        rows(&app).await,
        (1, 1),
        "only the last, valid one is stored"
    );
}

/// Sends `body` with chunked transfer encoding (no Content-Length), returns the status.
pub async fn chunked_post(app: &TestApp, path_and_query: &str, body: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!("POST {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8192) {
        // The server may answer and close before reading everything.
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn events_are_acknowledged_and_stored_once() {
    let app = spawn_channel_app().await;
    let subscribe = push(
        "o_ev",
        "event",
        "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_7]]></EventKey>",
    );
    let click_a = push(
        "o_ev",
        "event",
        "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MY_TICKETS]]></EventKey>",
    );
    let click_b = push(
        "o_ev",
        "event",
        "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[CONTACT]]></EventKey>",
    );
    for body in [&subscribe, &click_a, &click_b, &click_a, &subscribe] {
        let res = post_plain(&app, body).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "success");
    }
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT dedup_key FROM inbound_messages WHERE msg_type = 'event' ORDER BY dedup_key",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        keys,
        vec![
            format!("{APPID}|o_ev|1700000000|CLICK|CONTACT"),
            format!("{APPID}|o_ev|1700000000|CLICK|MY_TICKETS"),
            format!("{APPID}|o_ev|1700000000|subscribe|qrscene_7"),
        ]
    );
}

#[tokio::test]
async fn voice_recognition_is_handled_as_text() {
    let app = spawn_channel_app().await;
    let voice = push("o_voice", "voice", "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[楼道灯坏了]]></Recognition><MsgId>77</MsgId>");
    let body = post_plain(&app, &voice).await.text().await.unwrap();
    assert_eq!(
        xml::parse_fields(&body).unwrap().get("Content"),
        Some("收到,我们会尽快处理。")
    );
    let silent = push(
        "o_voice",
        "voice",
        "<MediaId><![CDATA[m2]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>78</MsgId>",
    );
    assert_eq!(
        post_plain(&app, &silent).await.text().await.unwrap(),
        "success"
    );
    let (msg_type, content): (String, Option<String>) = sqlx::query_as(
        "SELECT msg_type, content FROM inbound_messages WHERE dedup_key LIKE '%|77'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (msg_type.as_str(), content.as_deref()),
        ("voice", Some("楼道灯坏了"))
    );
}

#[tokio::test]
async fn unknown_types_are_answered_success() {
    let app = spawn_channel_app().await;
    let res = post_plain(
        &app,
        &push(
            "o_x",
            "miniprogrampage",
            "<Title><![CDATA[t]]></Title><MsgId>88</MsgId>",
        ),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "success");
    let msg_type: String = sqlx::query_scalar("SELECT msg_type FROM inbound_messages")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(msg_type, "miniprogrampage");
}

#[tokio::test]
async fn twenty_concurrent_retries_are_stored_once_and_answered_alike() {
    let app = spawn_channel_app().await;
    let body = text_push("o_dup", "999001", "3栋电梯坏了");
    let replies = futures::future::join_all((0..20).map(|_| async {
        let res = post_plain(&app, &body).await;
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        xml::parse_fields(&text)
            .unwrap()
            .get("Content")
            .map(str::to_owned)
    }))
    .await;
    assert_eq!(count(&app.db, "inbound_messages").await, 1);
    assert_eq!(count(&app.db, "residents").await, 1);
    assert!(replies[0].is_some());
    assert!(replies.iter().all(|r| r == &replies[0]), "{replies:?}");
}

#[tokio::test]
async fn the_same_msgid_from_two_residents_is_two_messages() {
    let app = spawn_channel_app().await;
    post_plain(&app, &text_push("o_a", "333", "hi")).await;
    post_plain(&app, &text_push("o_b", "333", "hi")).await;
    assert_eq!(rows(&app).await, (2, 2));
}

#[tokio::test]
async fn wecom_style_url_check_decrypts_echostr_v4() {
    // wechatpy's vector, served through an account configured like its WeCom app.
    let app = crate::helpers::spawn_app_with(|s| {
        let mut account = s.wechat.accounts["demo"].clone();
        account.token = "123456".to_owned().into();
        account.appid = "wx49f0ab532d5d035a".into();
        account.encoding_aes_key = Some(AES_KEY.to_owned().into());
        s.wechat.accounts.insert("wecom".into(), account);
    })
    .await;
    let echostr = "4ByGGj%2BsVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1%2BbXFXDQQb1o6co6Yh9Bv41n7hOchLF6p%2BQ%3D%3D";
    let url = |nonce: &str| {
        format!(
            "{}/wechat/wecom?msg_signature=dd6b9c95b495b3f7e2901bfbc76c664930ffdb96&timestamp=1411443780&nonce={nonce}&echostr={echostr}",
            app.address
        )
    };
    let res = app.client.get(url("437374425")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "5927782489442352469");
    let res = app.client.get(url("437374424")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn after_key_rotation_the_previous_key_still_opens_and_seals() {
    let new_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let app = crate::helpers::spawn_app_with(|s| {
        let demo = s.wechat.accounts.get_mut("demo").unwrap();
        demo.encoding_aes_key = Some(new_key.to_owned().into());
        demo.previous_encoding_aes_key = Some(AES_KEY.to_owned().into());
    })
    .await;
    for (key, other) in [(AES_KEY, new_key), (new_key, AES_KEY)] {
        let msg_id = if key == AES_KEY { "700" } else { "701" };
        let (query, body) = safe_push(&text_push("o_rot", msg_id, "hi"), APPID, key);
        let res = post_raw(&app, &query, body.into_bytes()).await;
        assert_eq!(res.status(), 200);
        let env = xml::parse_fields(&res.text().await.unwrap()).unwrap();
        let encrypt = env.get("Encrypt").unwrap();
        // The reply is sealed with the key the message came with.
        assert!(crypto::decrypt(&AesKey::parse(key).unwrap(), APPID, encrypt).is_ok());
        assert!(crypto::decrypt(&AesKey::parse(other).unwrap(), APPID, encrypt).is_err());
    }
}
