//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver)
//! with `fantoccini`. A supervisor and two workers run a day of tickets — sign in, claim,
//! work, reply, reassign, resolve — on a phone-sized and a desktop-sized window, and the
//! board updates itself when a new ticket arrives. Screenshots go to target/console-*.png.
//!
//! Skipped (with a message) only when chromedriver is missing and `CI` is unset;
//! `scripts/ensure-browser.sh` installs Debian's chromium and chromium-driver.

#[path = "../api/helpers.rs"]
mod helpers;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use guanjia::domain::Locale;
use guanjia::ticket::{self, Category, Department, Kind, NewTicket, Ticket, Urgency};
use helpers::{spawn_app, TestApp};
use serde_json::json;
use uuid::Uuid;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    profiles: Vec<std::path::PathBuf>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for p in &self.profiles {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// `None` (after saying why) when the browser tests cannot run here.
fn driver() -> Option<Driver> {
    if !Path::new(CHROMEDRIVER).exists() {
        if std::env::var_os("CI").is_some() {
            panic!("{CHROMEDRIVER} is missing on CI: run scripts/ensure-browser.sh");
        }
        println!(
            "SKIPPED browser tests: {CHROMEDRIVER} not found (run scripts/ensure-browser.sh \
             to install Debian's chromium and chromium-driver)"
        );
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Driver {
        child,
        port,
        profiles: Vec::new(),
    })
}

impl Driver {
    /// A fresh browser with its own profile, at `width`×`height`.
    async fn browser(&mut self, width: u32, height: u32) -> Client {
        let profile = std::env::temp_dir().join(format!("gj-chromium-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&profile).unwrap();
        self.profiles.push(profile.clone());
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={width},{height}"),
                ]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session");
        c.set_window_size(width, height).await.unwrap();
        c
    }
}

async fn add_staff(app: &TestApp, name: &str, department: &str, role: &str) -> (Uuid, String) {
    let new = guanjia::cli::staff::NewStaff::parse(name, department, role, &[]).unwrap();
    guanjia::cli::staff::add(&app.db, &new).await.unwrap()
}

async fn file(app: &TestApp, summary: &str, urgency: Urgency) -> Ticket {
    let resident = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO residents (id, channel, external_id, locale) VALUES ($1, 'webhook:demo', $2, 'zh-Hans')",
    )
    .bind(resident)
    .bind(format!("user-{resident}"))
    .execute(&app.db)
    .await
    .unwrap();
    let new = NewTicket {
        resident_id: resident,
        kind: Kind::Repair,
        category: Category::Equipment,
        urgency,
        department: Department::Engineering,
        summary: summary.into(),
        description: summary.into(),
        building: Some("3".into()),
        unit: Some("1".into()),
        room: Some("1102".into()),
        location: None,
        contact_phone: Some("13800000000".into()),
        preferred_time: None,
        locale: Locale::ZhHans,
        source_message_id: None,
        attachments: vec![],
    };
    let mut tx = app.db.begin().await.unwrap();
    let t = ticket::create(&mut tx, &app.state.ticket_context(), new)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.state.queue.push(&t).await.unwrap();
    t
}

async fn status_of(app: &TestApp, id: Uuid) -> (String, Option<Uuid>) {
    sqlx::query_as("SELECT status, assignee FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all("target").unwrap();
    std::fs::write(format!("target/console-{name}.png"), png).unwrap();
}

async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

async fn sign_in(app: &TestApp, c: &Client, token: &str) {
    c.goto(&format!("{}/console/sign-in", app.address))
        .await
        .unwrap();
    wait_for(c, "#token").await.send_keys(token).await.unwrap();
    click(c, "form button[type=submit]").await;
    wait_for(c, "#board").await;
}

async fn sign_out(c: &Client) {
    click(c, "form.signout button").await;
    wait_for(c, "#token").await;
}

/// Clicks something that submits a form and waits until the next page has replaced this
/// one (a marker on the old `window` disappears), so later lookups never see a stale page.
async fn click(c: &Client, css: &str) {
    let target = wait_for(c, css).await;
    c.execute("window.__gjOld = true; return null;", vec![])
        .await
        .unwrap();
    target.click().await.unwrap();
    for _ in 0..150 {
        let old = c
            .execute("return window.__gjOld === true", vec![])
            .await
            .unwrap_or(json!(true));
        if old == json!(false) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("clicking {css} did not load a new page");
}

/// Moves the open ticket page on to `status` with `note`.
async fn change_status(c: &Client, status: &str, note: &str) {
    let select = wait_for(c, "#status").await;
    select.select_by_value(status).await.unwrap();
    c.find(Locator::Css("#note"))
        .await
        .unwrap()
        .send_keys(note)
        .await
        .unwrap();
    click(c, "form[action$='/status'] button").await;
    wait_for(c, "#facts-h").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_and_two_workers_run_a_day_of_tickets() {
    let Some(mut driver) = driver() else { return };
    let app = spawn_app().await;
    let (_, lead) = add_staff(&app, "张主管", "engineering", "supervisor").await;
    let (a_id, a) = add_staff(&app, "王师傅", "engineering", "worker").await;
    let (b_id, b) = add_staff(&app, "李师傅", "engineering", "worker").await;
    let leak = file(
        &app,
        "厨房水管漏水 <script>alert('x')</script>",
        Urgency::Urgent,
    )
    .await;
    let lift = file(&app, "电梯按钮失灵", Urgency::Normal).await;
    let lamp = file(&app, "楼道灯不亮", Urgency::Normal).await;

    let phone = driver.browser(390, 844).await;
    let desk = driver.browser(1280, 900).await;

    // Worker A, on a phone, takes the urgent leak from the board.
    sign_in(&app, &phone, &a).await;
    let board = phone.source().await.unwrap();
    assert!(board.contains(&leak.number) && board.contains(&lamp.number));
    assert!(
        board.contains("&lt;script&gt;alert"),
        "the summary is text, not markup"
    );
    let inline_scripts: serde_json::Value = phone
        .execute(
            "return document.querySelectorAll('script:not([src])').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(inline_scripts, json!(0));
    shot(&phone, "board-phone").await;
    click(
        &phone,
        &format!(
            "form[action='/console/tickets/{}/claim'] button",
            leak.number
        ),
    )
    .await;
    wait_for(&phone, "#facts-h").await;
    assert_eq!(
        status_of(&app, leak.id).await,
        ("claimed".into(), Some(a_id))
    );
    change_status(&phone, "in_progress", "").await;
    change_status(&phone, "resolved", "换了阀门").await;
    assert_eq!(status_of(&app, leak.id).await.0, "resolved");
    // An illegal move is refused with a message.
    change_status(&phone, "in_progress", "").await;
    let alert = wait_for(&phone, "p.alert").await.text().await.unwrap();
    assert!(alert.contains("That did not work"), "{alert}");
    shot(&phone, "ticket-phone").await;

    // The supervisor, at a desk, answers a resident and hands the lift to worker B.
    sign_in(&app, &desk, &lead).await;
    shot(&desk, "board-desktop").await;
    desk.goto(&format!("{}/console/tickets/{}", app.address, lift.number))
        .await
        .unwrap();
    wait_for(&desk, "#reply")
        .await
        .send_keys("师傅下午两点到")
        .await
        .unwrap();
    click(&desk, "form[action$='/reply'] button").await;
    wait_for(&desk, "#facts-h").await;
    let replies: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE ticket_id = $1 AND kind = 'reply'")
            .bind(lift.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(replies, 1);
    wait_for(&desk, "#staff")
        .await
        .select_by_value(&b_id.to_string())
        .await
        .unwrap();
    click(&desk, "form[action$='/assign'] button").await;
    wait_for(&desk, "#facts-h").await;
    assert_eq!(
        status_of(&app, lift.id).await,
        ("claimed".into(), Some(b_id))
    );
    shot(&desk, "ticket-desktop").await;

    // The board updates by itself when a new ticket comes in.
    desk.goto(&format!("{}/console", app.address))
        .await
        .unwrap();
    wait_for(&desk, "#board").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let late = file(&app, "地下车库积水", Urgency::Emergency).await;
    let mut seen = false;
    for _ in 0..40 {
        if desk.source().await.unwrap().contains(&late.number) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(seen, "the board shows a new ticket without a reload");

    // Worker B takes over the phone, finishes the lift and the late emergency.
    sign_out(&phone).await;
    sign_in(&app, &phone, &b).await;
    phone
        .goto(&format!("{}/console/tickets/{}", app.address, lift.number))
        .await
        .unwrap();
    change_status(&phone, "in_progress", "").await;
    change_status(&phone, "resolved", "修好了").await;
    assert_eq!(status_of(&app, lift.id).await.0, "resolved");
    phone
        .goto(&format!("{}/console", app.address))
        .await
        .unwrap();
    click(&phone, "form[action$='/claim-next'] button").await;
    wait_for(&phone, "#facts-h").await;
    // The emergency is first in queue order.
    assert_eq!(
        status_of(&app, late.id).await,
        ("claimed".into(), Some(b_id))
    );
    change_status(&phone, "in_progress", "").await;
    change_status(&phone, "resolved", "").await;
    assert_eq!(status_of(&app, late.id).await.0, "resolved");

    phone.close().await.unwrap();
    desk.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concierge_answers_and_ends_a_conversation_on_a_phone() {
    let Some(mut driver) = driver() else { return };
    let app = spawn_app().await;
    let new = guanjia::cli::staff::NewStaff::parse(
        "王管家",
        "customer_service",
        "concierge",
        &["3".to_owned()],
    )
    .unwrap();
    let (_, token) = guanjia::cli::staff::add(&app.db, &new).await.unwrap();
    let open = file(&app, "门禁卡失效", Urgency::Normal).await;
    let resident = open.resident_id;
    let now = guanjia::clock::Clock::now(&app.clock);
    let mut conn = app.db.acquire().await.unwrap();
    let h = guanjia::ticket::residents::start_handoff(&mut conn, resident, Some("3"), now)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO inbound_messages (id, channel, dedup_key, resident_id, msg_type, content, payload, received_at)
         VALUES ($1, 'webhook:demo', 'k1', $2, 'text', '物业费怎么交？<b>急</b>', '{}', $3)",
    )
    .bind(Uuid::now_v7())
    .bind(resident)
    .bind(now)
    .execute(&app.db)
    .await
    .unwrap();

    let phone = driver.browser(390, 844).await;
    phone
        .goto(&format!("{}/console/sign-in", app.address))
        .await
        .unwrap();
    wait_for(&phone, "#token")
        .await
        .send_keys(&token)
        .await
        .unwrap();
    click(&phone, "form button[type=submit]").await;
    phone
        .goto(&format!("{}/console/concierge", app.address))
        .await
        .unwrap();
    let page = phone.source().await.unwrap();
    assert!(page.contains("&lt;b&gt;急&lt;/b&gt;"), "escaped message");
    assert!(page.contains(&open.number), "open tickets of building 3");
    let reply = format!("#r-{}", h.id.simple());
    wait_for(&phone, &reply)
        .await
        .send_keys("可以在服务中心或者线上缴纳")
        .await
        .unwrap();
    shot(&phone, "concierge-phone").await;
    click(
        &phone,
        &format!("form[action='/console/handoffs/{}/reply'] button", h.id),
    )
    .await;
    let sent: String = sqlx::query_scalar(
        "SELECT text FROM outbox WHERE resident_id = $1 AND kind = 'reply' AND ticket_id IS NULL",
    )
    .bind(resident)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(sent, "可以在服务中心或者线上缴纳");
    click(
        &phone,
        &format!("form[action='/console/handoffs/{}/end'] button", h.id),
    )
    .await;
    let ended: bool = sqlx::query_scalar("SELECT ended_at IS NOT NULL FROM handoffs WHERE id = $1")
        .bind(h.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(ended);
    phone.close().await.unwrap();
}
