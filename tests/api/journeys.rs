//! Whole journeys as a resident and staff live them, through the real doors, the real
//! classifier and dialogue, the queue, the staff API, delivery and the survey. The only
//! stand-in is the messaging platform.

use std::time::Duration;

use guanjia::channel::webhook::signature::sign;
use guanjia::clock::Clock;
use guanjia::schedule::run_due;
use regex::Regex;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::platform::{self, wait_until, Platform};
use crate::tickets::add_staff;
use crate::wechat::{post_plain, text_push};

const SECRET: &str = "guanjia-demo-webhook-secret";

/// A resident on the demo webhook channel.
pub(crate) struct Resident<'a> {
    app: &'a TestApp,
    user: String,
    sent: std::cell::Cell<u32>,
    deliveries: std::cell::Cell<u32>,
}

impl<'a> Resident<'a> {
    pub(crate) fn new(app: &'a TestApp, user: &str) -> Self {
        Self {
            app,
            user: user.to_owned(),
            sent: std::cell::Cell::new(0),
            deliveries: std::cell::Cell::new(0),
        }
    }

    /// Sends `text` as a new message and returns the reply.
    pub(crate) async fn say(&self, text: &str) -> String {
        self.sent.set(self.sent.get() + 1);
        let id = format!("{}-{}", self.user, self.sent.get());
        self.say_with_id(&id, text).await
    }

    /// Sends `text` and returns the whole JSON reply (`reply` and `acts`).
    pub(crate) async fn say_json(&self, text: &str) -> Value {
        self.sent.set(self.sent.get() + 1);
        let id = format!("{}-{}", self.user, self.sent.get());
        self.send(&id, text).await
    }

    /// This resident's tickets, and those of them filed as emergencies.
    pub(crate) async fn tickets(&self) -> i64 {
        self.count("").await
    }

    pub(crate) async fn emergencies(&self) -> i64 {
        self.count("AND t.urgency = 'emergency'").await
    }

    async fn count(&self, filter: &str) -> i64 {
        let sql = format!(
            "SELECT count(*) FROM tickets t JOIN residents r ON r.id = t.resident_id
             WHERE r.external_id = $1 {filter}"
        );
        let (n,): (i64,) = sqlx::query_as(&sql)
            .bind(&self.user)
            .fetch_one(&self.app.db)
            .await
            .unwrap();
        n
    }

    async fn say_with_id(&self, message_id: &str, text: &str) -> String {
        self.send(message_id, text).await["reply"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn send(&self, message_id: &str, text: &str) -> Value {
        self.deliveries.set(self.deliveries.get() + 1);
        let body = json!({"message_id": message_id, "user_id": self.user, "text": text,
                          "sent_at": "2026-11-22T10:00:00+08:00"})
        .to_string();
        // Each delivery is signed afresh, as a platform retry would be.
        let ts =
            (self.app.clock.now().timestamp() - i64::from(self.deliveries.get() % 200)).to_string();
        let res = self
            .app
            .client
            .post(format!("{}/webhook/demo", self.app.address))
            .header("X-Guanjia-Timestamp", &ts)
            .header(
                "X-Guanjia-Signature",
                sign(SECRET.as_bytes(), &ts, body.as_bytes()),
            )
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
}

fn ticket_number(reply: &str) -> String {
    Regex::new(r"[RCQSO]\d{10}")
        .unwrap()
        .find(reply)
        .unwrap_or_else(|| panic!("no ticket number in {reply}"))
        .as_str()
        .to_owned()
}

async fn app_with_platform(platform: &Platform) -> TestApp {
    let base = platform.base.clone();
    spawn_app_with(move |s| platform::configure(s, &base)).await
}

async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let v = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

#[tokio::test]
async fn a_repair_from_report_to_closure() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform).await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let me = Resident::new(&app, "resident-zh");

    let readback = me.say("3栋2单元1101 厨房水管漏水").await;
    assert!(
        readback.contains("1101") && readback.contains("确认"),
        "{readback}"
    );
    let submitted = me.say("1").await;
    let number = ticket_number(&submitted);
    assert!(number.starts_with('R'), "{submitted}");

    // It waits in engineering's queue; a worker takes it.
    let (s, queue) = api(
        &app,
        &worker,
        reqwest::Method::GET,
        "/api/v1/queue/engineering",
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(queue.to_string().contains(&number), "{queue}");
    let (s, t) = api(
        &app,
        &worker,
        reqwest::Method::POST,
        "/api/v1/queue/engineering/claim",
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(t["number"], number.as_str());
    assert_eq!(t["kind"], "repair");
    assert_eq!(t["department"], "engineering");
    let id = t["id"].as_str().unwrap().to_owned();
    for status in ["in_progress", "resolved"] {
        let (s, _) = api(
            &app,
            &worker,
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{id}/status"),
            Some(json!({"status": status, "note": "换了新的角阀"})),
        )
        .await;
        assert_eq!(s, 200, "{status}");
    }

    // The resident hears of each step on their own channel.
    assert!(
        wait_until(Duration::from_secs(15), || async {
            platform
                .calls_to("/callback")
                .iter()
                .filter(|c| c.body["ticket"] == number.as_str())
                .count()
                >= 3
        })
        .await,
        "status pushes: {:?}",
        platform.calls_to("/callback")
    );

    // After the survey delay the revisit question goes out; a "5" closes the ticket.
    app.clock
        .advance(chrono::Duration::hours(2) + chrono::Duration::minutes(1));
    run_due(&app.state).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(15), || async {
            platform
                .calls_to("/callback")
                .iter()
                .any(|c| c.body["kind"] == "survey")
        })
        .await
    );
    let thanks = me.say("5").await;
    assert!(!thanks.is_empty());
    let (_, t) = api(
        &app,
        &worker,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{id}"),
        None,
    )
    .await;
    assert_eq!(t["status"], "closed", "{t}");
    assert_eq!(t["satisfaction"], 5);
}

/// Files `repair` (a place and a fault, confirmed), then has `worker` claim, start and
/// resolve it: the ticket's id and number.
async fn filed_and_resolved(
    app: &TestApp,
    worker: &str,
    me: &Resident<'_>,
    repair: &str,
) -> (String, String) {
    me.say(repair).await;
    let number = ticket_number(&me.say("确认").await);
    let (_, t) = api(
        app,
        worker,
        reqwest::Method::POST,
        "/api/v1/queue/engineering/claim",
        None,
    )
    .await;
    assert_eq!(t["number"], number.as_str());
    let id = t["id"].as_str().unwrap().to_owned();
    for status in ["in_progress", "resolved"] {
        api(
            app,
            worker,
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{id}/status"),
            Some(json!({"status": status, "note": ""})),
        )
        .await;
    }
    (id, number)
}

/// The ticket is reopened and back in its queue for someone to take again; the ticket.
async fn reopened_and_queued(app: &TestApp, worker: &str, id: &str, number: &str) -> Value {
    let (_, t) = api(
        app,
        worker,
        reqwest::Method::GET,
        &format!("/api/v1/tickets/{id}"),
        None,
    )
    .await;
    assert_eq!(t["status"], "reopened", "{t}");
    let (_, queue) = api(
        app,
        worker,
        reqwest::Method::GET,
        "/api/v1/queue/engineering",
        None,
    )
    .await;
    assert!(queue.to_string().contains(number), "{queue}");
    t
}

#[tokio::test]
async fn a_dissatisfied_resident_gets_the_ticket_reopened() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform).await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let me = Resident::new(&app, "resident-unhappy");
    let (id, number) = filed_and_resolved(&app, &worker, &me, "5-1-702 卫生间灯不亮了").await;
    app.clock.advance(chrono::Duration::hours(3));
    run_due(&app.state).await.unwrap();
    let sorry = me.say("非常不满意，灯还是不亮").await;
    assert!(!sorry.is_empty());
    reopened_and_queued(&app, &worker, &id, &number).await;
}

#[tokio::test]
async fn a_repair_that_did_not_hold_reopens_its_ticket_instead_of_a_new_one() {
    let platform = Platform::start().await;
    let app = app_with_platform(&platform).await;
    let (_, worker) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let me = Resident::new(&app, "resident-again");
    let (id, number) = filed_and_resolved(&app, &worker, &me, "9-2-1501 大堂灯不亮了").await;
    // Before the revisit asks: the resident says so in their own words.
    let reply = me
        .say("灯是换了 今天晚上又不亮了 你们师傅是不是没修好")
        .await;
    assert!(reply.contains(&number), "{reply}");
    let t = reopened_and_queued(&app, &worker, &id, &number).await;
    assert!(
        t.to_string().contains("又不亮了"),
        "what they said is on the ticket: {t}"
    );
    let mine: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tickets t JOIN residents r ON r.id = t.resident_id
         WHERE r.external_id = 'resident-again'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(mine, 1, "no second ticket");
}

#[tokio::test]
async fn traditional_and_english_residents_are_answered_in_their_script() {
    let app = spawn_app_with(|_| {}).await;
    let hk = Resident::new(&app, "resident-hk");
    let readback = hk.say("3座1101 廚房水喉漏水").await;
    assert!(readback.contains("確認"), "{readback}");
    let done = hk.say("確認").await;
    ticket_number(&done);
    assert!(
        !done.contains("维修") && !done.contains("请"),
        "simplified leaked: {done}"
    );

    let en = Resident::new(&app, "resident-en");
    let readback = en
        .say("The kitchen tap in flat 1203, block 3 is leaking")
        .await;
    assert!(readback.to_lowercase().contains("confirm"), "{readback}");
    let cancelled = en.say("cancel").await;
    assert!(
        cancelled.is_ascii()
            || !cancelled
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{cancelled}"
    );
    let (tickets,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tickets, 1, "the cancelled request files nothing");
}

#[tokio::test]
async fn an_emergency_is_filed_at_once_with_safety_guidance_and_the_duty_phone() {
    let app = spawn_app_with(|_| {}).await;
    let me = Resident::new(&app, "resident-lift");
    let reply = me.say("电梯困人了 2号楼 快来").await;
    let number = ticket_number(&reply);
    assert!(reply.contains(&app.settings.service.duty_phone), "{reply}");
    assert!(reply.contains("警铃") || reply.contains("119"), "{reply}");
    let (urgency,): (String,) = sqlx::query_as("SELECT urgency FROM tickets WHERE number = $1")
        .bind(&number)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(urgency, "emergency");
}

#[tokio::test]
async fn a_confirmation_delivered_twice_files_one_ticket_and_answers_alike() {
    let app = spawn_app_with(|_| {}).await;
    let me = Resident::new(&app, "resident-retry");
    me.say("3栋2单元1101 厨房水管漏水").await;
    let first = me.say_with_id("confirm-once", "1").await;
    let again = me.say_with_id("confirm-once", "1").await;
    assert_eq!(first, again);
    ticket_number(&first);
    let (tickets,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tickets, 1);
    let status = me.say("进度").await;
    assert!(status.contains(&ticket_number(&first)), "{status}");
}

#[tokio::test]
async fn wechat_residents_walk_the_same_path() {
    let app = spawn_app_with(|_| {}).await;
    let readback = post_plain(
        &app,
        &text_push("o_wx_resident", "1001", "3栋2单元1101 厨房水管漏水"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(readback.contains("1101"), "{readback}");
    let done = post_plain(&app, &text_push("o_wx_resident", "1002", "好"))
        .await
        .text()
        .await
        .unwrap();
    ticket_number(&done);
}
