//! The browser console over HTTP: signing in with a token, the board, claims, replies,
//! status changes, reassignment, reclassification, CSRF, escaping, the live event stream,
//! the concierge's conversations and the report — each through the same forms a browser
//! submits.

use std::time::Duration;

use guanjia::clock::Clock;
use guanjia::domain::Locale;
use guanjia::ticket::{self, Ticket};
use reqwest::{Client, StatusCode};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};
use crate::tickets::{add_resident, add_staff, new_ticket, Spec};

const XSS: &str = "<script>alert('x')</script>漏水";

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A ticket whose resident-written text is a script.
async fn file_evil(app: &TestApp) -> Ticket {
    let r = add_resident(app, Locale::ZhHans).await;
    let mut new = new_ticket(r, &Spec::default());
    new.summary = XSS.into();
    new.description = format!("{XSS} description");
    let mut tx = app.db.begin().await.unwrap();
    let t = ticket::create(&mut tx, &app.state.ticket_context(), new)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.state.queue.push(&t).await.unwrap();
    sqlx::query(
        "INSERT INTO inbound_messages (id, channel, dedup_key, resident_id, msg_type, content, payload, received_at)
         VALUES ($1, 'webhook:demo', $2, $3, 'text', $4, '{}', $5)",
    )
    .bind(Uuid::now_v7())
    .bind(Uuid::new_v4().to_string())
    .bind(r)
    .bind(format!("{XSS} message"))
    .bind(app.clock.now())
    .execute(&app.db)
    .await
    .unwrap();
    t
}

struct Session {
    client: Client,
    csrf: String,
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn sign_in(app: &TestApp, token: &str) -> Session {
    let client = browser();
    let res = client
        .post(format!("{}/console/sign-in", app.address))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = get(&client, app, "/console").await;
    assert_eq!(page.0, 200, "{}", page.1);
    Session {
        client,
        csrf: csrf_of(&page.1),
    }
}

async fn get(client: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

impl Session {
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let res = self
            .client
            .post(format!("{}{path}", app.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        get(&self.client, app, path).await
    }
}

async fn status_of(app: &TestApp, id: Uuid) -> (String, Option<Uuid>) {
    sqlx::query_as("SELECT status, assignee FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_session_and_sign_out_ends_it() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let anonymous = browser();
    let (s, _) = get(&anonymous, &app, "/console").await;
    assert_eq!(s, 303, "signed-out visitors are sent to the form");
    let (s, form) = get(&anonymous, &app, "/console/sign-in").await;
    assert_eq!(s, 200);
    assert!(form.contains("<label for=\"token\">"), "{form}");

    let res = anonymous
        .post(format!("{}/console/sign-in", app.address))
        .form(&[("token", "not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let client = browser();
    let res = client
        .post(format!("{}/console/sign-in", app.address))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(&token), "the cookie is not the API token");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM staff_sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 1);

    let (s, page) = get(&client, &app, "/console").await;
    assert_eq!(s, 200);
    assert!(page.contains("王师傅"));
    let csrf = csrf_of(&page);
    let res = client
        .post(format!("{}/console/sign-out", app.address))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(get(&client, &app, "/console").await.0, 303);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM staff_sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn the_board_lists_the_queue_and_escapes_what_residents_wrote() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let t = file_evil(&app).await;
    let me = sign_in(&app, &token).await;

    let (s, board) = me.get(&app, "/console").await;
    assert_eq!(s, 200);
    assert!(board.contains(&t.number), "{board}");
    assert!(!board.contains("<script>alert"), "raw script on the board");
    assert!(board.contains("&lt;script&gt;alert"), "{board}");
    assert!(board.contains("left"), "the SLA clock shows: {board}");

    let (s, detail) = me
        .get(&app, &format!("/console/tickets/{}", t.number))
        .await;
    assert_eq!(s, 200);
    assert!(
        !detail.contains("<script>alert"),
        "raw script on the detail page"
    );
    assert!(
        detail.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;漏水 message")
            || detail.contains("&lt;script&gt;alert('x')&lt;/script&gt;漏水 message"),
        "{detail}"
    );

    // Other departments' boards are not a worker's business.
    assert_eq!(me.get(&app, "/console/queue/security").await.0, 403);
    let res = me
        .client
        .get(format!("{}/console", app.address))
        .send()
        .await
        .unwrap();
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
}

#[tokio::test]
async fn forms_need_the_session_csrf_token() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let t = file_evil(&app).await;
    let me = sign_in(&app, &token).await;
    let claim = format!("/console/tickets/{}/claim", t.number);
    for bad in ["", "forged"] {
        let res = me
            .client
            .post(format!("{}{claim}", app.address))
            .form(&[("csrf", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "csrf {bad:?}");
    }
    // A token from another session does not work either.
    let (_, other) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let other = sign_in(&app, &other).await;
    assert_ne!(other.csrf, me.csrf);
    let res = me
        .client
        .post(format!("{}{claim}", app.address))
        .form(&[("csrf", other.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(status_of(&app, t.id).await.0, "queued");
}

#[tokio::test]
async fn claim_reply_and_resolve_from_the_console() {
    let app = spawn_app().await;
    let (worker_id, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (_, lead) = add_staff(&app, "张主管", "engineering", "supervisor", &[]).await;
    let t = file_evil(&app).await;
    let w = sign_in(&app, &worker).await;
    let base = format!("/console/tickets/{}", t.number);

    let (s, _) = w.post(&app, &format!("{base}/claim"), &[]).await;
    assert_eq!(s, 303);
    assert_eq!(
        status_of(&app, t.id).await,
        ("claimed".into(), Some(worker_id))
    );
    // The board now shows it as being handled, not waiting.
    let (_, board) = w.get(&app, "/console").await;
    assert!(board.contains("Waiting (0)"), "{board}");
    assert!(board.contains("Being handled (1)"), "{board}");

    // Workers do not write to residents; their supervisor does.
    let (s, page) = w
        .post(&app, &format!("{base}/reply"), &[("text", "hi")])
        .await;
    assert_eq!(s, 403);
    assert!(page.contains("does not write to residents"), "{page}");
    let l = sign_in(&app, &lead).await;
    let (s, _) = l
        .post(
            &app,
            &format!("{base}/reply"),
            &[("text", "师傅十分钟后到 <b>")],
        )
        .await;
    assert_eq!(s, 303);
    let (kind, text, ticket_id): (String, String, Option<Uuid>) = sqlx::query_as(
        "SELECT kind, text, ticket_id FROM outbox WHERE resident_id = $1 AND kind = 'reply'",
    )
    .bind(t.resident_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(kind, "reply");
    assert!(text.contains("师傅十分钟后到"), "{text}");
    assert_eq!(ticket_id, Some(t.id));

    let (s, _) = w
        .post(
            &app,
            &format!("{base}/status"),
            &[("status", "in_progress"), ("note", "")],
        )
        .await;
    assert_eq!(s, 303);
    let (s, _) = w
        .post(
            &app,
            &format!("{base}/status"),
            &[("status", "resolved"), ("note", "换了阀门 <i>")],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(status_of(&app, t.id).await.0, "resolved");

    // An illegal move says why, on the ticket's page.
    let (s, page) = w
        .post(
            &app,
            &format!("{base}/status"),
            &[("status", "in_progress"), ("note", "")],
        )
        .await;
    assert_eq!(s, 409);
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("That did not work"), "{page}");
    assert_eq!(status_of(&app, t.id).await.0, "resolved");

    let (_, detail) = w.get(&app, &base).await;
    assert!(
        detail.contains("换了阀门 &lt;i&gt;"),
        "the note is in the history: {detail}"
    );
    assert!(detail.contains("resolved"), "{detail}");
}

#[tokio::test]
async fn supervisors_reassign_and_workers_cannot() {
    let app = spawn_app().await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (other_id, _) = add_staff(&app, "李师傅", "engineering", "worker", &[]).await;
    let (_, lead) = add_staff(&app, "张主管", "engineering", "supervisor", &[]).await;
    let t = file_evil(&app).await;
    let base = format!("/console/tickets/{}", t.number);
    let other = other_id.to_string();

    let w = sign_in(&app, &worker).await;
    let (_, page) = w.get(&app, &base).await;
    assert!(
        !page.contains("Reassign"),
        "workers see no reassignment form"
    );
    let (s, _) = w
        .post(&app, &format!("{base}/assign"), &[("staff_id", &other)])
        .await;
    assert_eq!(s, 403);
    assert_eq!(status_of(&app, t.id).await, ("queued".into(), None));

    let l = sign_in(&app, &lead).await;
    let (_, page) = l.get(&app, &base).await;
    assert!(page.contains("Reassign"), "{page}");
    assert!(page.contains(&other), "colleagues are offered: {page}");
    let (s, _) = l
        .post(&app, &format!("{base}/assign"), &[("staff_id", &other)])
        .await;
    assert_eq!(s, 303);
    assert_eq!(
        status_of(&app, t.id).await,
        ("claimed".into(), Some(other_id))
    );
}

async fn labels_of(app: &TestApp, id: Uuid) -> (String, String, String, String) {
    sqlx::query_as("SELECT kind, urgency, department, category FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn concierges_reclassify_from_the_ticket_page_and_workers_cannot() {
    let app = spawn_app().await;
    let (concierge_id, concierge) =
        add_staff(&app, "王管家", "customer_service", "concierge", &["3"]).await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (_, guard) = add_staff(&app, "张保安", "security", "worker", &[]).await;
    let t = file_evil(&app).await;
    let base = format!("/console/tickets/{}", t.number);
    let action = format!("action=\"{base}/reclassify\"");
    let read = (
        "repair".to_owned(),
        "normal".to_owned(),
        "engineering".to_owned(),
        "equipment".to_owned(),
    );
    assert_eq!(labels_of(&app, t.id).await, read);
    let noise = [
        ("kind", "complaint"),
        ("urgency", "normal"),
        ("department", "security"),
        ("category", "dispute"),
        ("note", "楼上邻居噪音，不是维修 <b>"),
    ];

    // A worker sees no form, and posting one anyway is refused on the ticket's page.
    let w = sign_in(&app, &worker).await;
    let (_, page) = w.get(&app, &base).await;
    assert!(!page.contains(&action), "{page}");
    assert!(!page.contains("重新分类"), "{page}");
    let (s, page) = w.post(&app, &format!("{base}/reclassify"), &noise).await;
    assert_eq!(s, 403);
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(
        page.contains("only a concierge, supervisor or manager corrects"),
        "{page}"
    );
    assert_eq!(labels_of(&app, t.id).await, read);

    // The concierge's form starts from what the classifier read.
    let c = sign_in(&app, &concierge).await;
    let (_, page) = c.get(&app, &base).await;
    assert!(page.contains(&action), "{page}");
    for (name, value) in [
        ("kind", "repair"),
        ("urgency", "normal"),
        ("department", "engineering"),
        ("category", "equipment"),
    ] {
        assert!(page.contains(&format!("name=\"{name}\"")), "{name}: {page}");
        assert!(
            page.contains(&format!("<option value=\"{value}\" selected>")),
            "{name} {value} preselected: {page}"
        );
    }
    assert!(
        page.contains("<option value=\"dispute\">"),
        "every category is offered"
    );

    // A bad label changes nothing and says why.
    let (s, page) = c
        .post(&app, &format!("{base}/reclassify"), &[("kind", "fix")])
        .await;
    assert_eq!(s, 400);
    assert!(page.contains("unknown kind"), "{page}");
    assert_eq!(labels_of(&app, t.id).await, read);

    let mut form: Vec<(&str, &str)> = vec![("csrf", &c.csrf)];
    form.extend_from_slice(&noise);
    let res = c
        .client
        .post(format!("{}{base}/reclassify", app.address))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").unwrap().to_str().unwrap(),
        base,
        "back to the ticket"
    );
    assert_eq!(
        labels_of(&app, t.id).await,
        (
            "complaint".into(),
            "normal".into(),
            "security".into(),
            "dispute".into()
        )
    );

    // It left engineering's queue for security's.
    let (_, board) = w.get(&app, "/console").await;
    assert!(!board.contains(&t.number), "{board}");
    let g = sign_in(&app, &guard).await;
    let (_, board) = g.get(&app, "/console").await;
    assert!(board.contains(&t.number), "{board}");
    assert!(board.contains("Waiting (1)"), "{board}");

    // The change is in the ticket's history, by whom, with the reason, escaped.
    let (actor, note): (Option<Uuid>, Option<String>) = sqlx::query_as(
        "SELECT actor_id, note FROM ticket_events WHERE ticket_id = $1 AND action = 'reclassified'",
    )
    .bind(t.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(actor, Some(concierge_id));
    assert!(
        note.as_deref()
            .is_some_and(|n| n.contains("department engineering → security")),
        "{note:?}"
    );
    let (_, page) = c.get(&app, &base).await;
    assert!(page.contains("<strong>reclassified</strong>"), "{page}");
    assert!(page.contains("楼上邻居噪音，不是维修 &lt;b&gt;"), "{page}");
    assert!(
        page.contains("<option value=\"security\" selected>"),
        "{page}"
    );

    // And in this month's report.
    let (s, report) = c.get(&app, "/console/report").await;
    assert_eq!(s, 200);
    assert!(
        report.contains("重新分类 Reclassified (events / tickets)</th><td class=\"n\">1 / 1</td>"),
        "{report}"
    );
    assert!(
        report.contains("<td>engineering</td><td>security</td>"),
        "{report}"
    );

    // Once someone holds it the department stays: the form does not offer it, and a
    // forged form is refused.
    let (s, _) = g.post(&app, &format!("{base}/claim"), &[]).await;
    assert_eq!(s, 303);
    let (_, page) = c.get(&app, &base).await;
    assert!(page.contains("name=\"department\" disabled"), "{page}");
    let (s, page) = c
        .post(
            &app,
            &format!("{base}/reclassify"),
            &[("department", "engineering")],
        )
        .await;
    assert_eq!(s, 409);
    assert!(page.contains("That did not work"), "{page}");
    assert_eq!(labels_of(&app, t.id).await.2, "security");
    let (s, _) = c
        .post(
            &app,
            &format!("{base}/reclassify"),
            &[("urgency", "urgent")],
        )
        .await;
    assert_eq!(s, 303, "other labels still change");
    assert_eq!(labels_of(&app, t.id).await.1, "urgent");
}

#[tokio::test]
async fn the_event_stream_says_ready_then_change() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let me = sign_in(&app, &token).await;
    assert_eq!(
        browser()
            .get(format!("{}/console/events", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "the stream needs a session"
    );
    let res = open_events(&app, &me).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut res = res;
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("event: ready") {
            let chunk = res.chunk().await.unwrap().expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("a ready event");
    file_evil(&app).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains("event: change") {
            let chunk = res.chunk().await.unwrap().expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("a change event after a new ticket");
}

#[tokio::test]
async fn concierges_answer_and_end_conversations_of_their_buildings() {
    let app = spawn_app().await;
    let (_, concierge) = add_staff(&app, "王管家", "customer_service", "concierge", &["3"]).await;
    let (_, far) = add_staff(&app, "李管家", "customer_service", "concierge", &["1"]).await;
    let resident = add_resident(&app, Locale::ZhHans).await;
    let mut conn = app.db.acquire().await.unwrap();
    let h =
        guanjia::ticket::residents::start_handoff(&mut conn, resident, Some("3"), app.clock.now())
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO inbound_messages (id, channel, dedup_key, resident_id, msg_type, content, payload, received_at)
         VALUES ($1, 'webhook:demo', 'k1', $2, 'text', $3, '{}', $4)",
    )
    .bind(Uuid::now_v7())
    .bind(resident)
    .bind("我家门口有<img src=x onerror=alert(1)>")
    .bind(app.clock.now())
    .execute(&app.db)
    .await
    .unwrap();
    file_evil(&app).await;

    let c = sign_in(&app, &concierge).await;
    let (s, page) = c.get(&app, "/console/concierge").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(!page.contains("<img src=x"), "raw markup from a resident");
    assert!(page.contains("Open tickets (1)"), "{page}");

    let f = sign_in(&app, &far).await;
    let (_, page) = f.get(&app, "/console/concierge").await;
    assert!(page.contains("No open conversations."), "{page}");
    let (s, _) = f
        .post(
            &app,
            &format!("/console/handoffs/{}/reply", h.id),
            &[("text", "hi")],
        )
        .await;
    assert_eq!(s, 403, "another building's concierge");

    app.clock.advance(chrono::Duration::minutes(5));
    let (s, _) = c
        .post(
            &app,
            &format!("/console/handoffs/{}/reply", h.id),
            &[("text", "马上来看看")],
        )
        .await;
    assert_eq!(s, 303);
    let (text, ticket_id): (String, Option<Uuid>) = sqlx::query_as(
        "SELECT text, ticket_id FROM outbox WHERE resident_id = $1 AND kind = 'reply'",
    )
    .bind(resident)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(text, "马上来看看");
    assert_eq!(ticket_id, None);
    let last: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT last_activity_at FROM handoffs WHERE id = $1")
            .bind(h.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(last.timestamp_micros(), app.clock.now().timestamp_micros());

    let (s, _) = c
        .post(&app, &format!("/console/handoffs/{}/end", h.id), &[])
        .await;
    assert_eq!(s, 303);
    let ended: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT ended_at FROM handoffs WHERE id = $1")
            .bind(h.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(ended.is_some());
    let (_, page) = c.get(&app, "/console/concierge").await;
    assert!(page.contains("No open conversations."), "{page}");
}

#[tokio::test]
async fn the_report_is_for_leads_and_concierges() {
    let app = spawn_app().await;
    let (_, worker) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let (_, lead) = add_staff(&app, "张主管", "engineering", "supervisor", &[]).await;
    let w = sign_in(&app, &worker).await;
    assert_eq!(w.get(&app, "/console/report?month=2026-11").await.0, 403);
    let (_, board) = w.get(&app, "/console").await;
    assert!(!board.contains("action=\"/console/report\""), "{board}");
    let l = sign_in(&app, &lead).await;
    let (_, board) = l.get(&app, "/console").await;
    assert!(board.contains("action=\"/console/report\""), "{board}");
    let (s, page) = l.get(&app, "/console/report?month=2026-11").await;
    assert_eq!(s, 200);
    assert!(page.contains("客服工作月报"), "{page}");
    assert_eq!(
        l.get(&app, "/console/report").await.0,
        200,
        "this month by default"
    );
    assert_eq!(l.get(&app, "/console/report?month=2026-13").await.0, 400);
}

#[tokio::test]
async fn overdue_tickets_stand_out_and_photos_are_shown_safely() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let t = file_evil(&app).await;
    for (url, kind) in [
        ("https://img.example/leak.jpg", "image"),
        ("javascript:alert(1)", "image"),
    ] {
        sqlx::query(
            "INSERT INTO ticket_attachments (id, ticket_id, kind, url, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(Uuid::now_v7())
        .bind(t.id)
        .bind(kind)
        .bind(url)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .unwrap();
    }
    let me = sign_in(&app, &token).await;
    let (_, board) = me.get(&app, "/console").await;
    assert!(!board.contains("sla-overdue"), "{board}");

    // Past the first-response deadline the ticket is marked overdue.
    let due = t.respond_due_at.expect("a response deadline");
    app.clock
        .advance(due - app.clock.now() + chrono::Duration::minutes(5));
    let (_, board) = me.get(&app, "/console").await;
    assert!(board.contains("sla-overdue"), "{board}");
    assert!(board.contains("overdue 5m"), "{board}");

    let (_, detail) = me
        .get(&app, &format!("/console/tickets/{}", t.number))
        .await;
    assert!(
        detail.contains("<img src=\"https://img.example/leak.jpg\""),
        "{detail}"
    );
    assert!(!detail.contains("href=\"javascript:"), "{detail}");
    assert!(!detail.contains("src=\"javascript:"), "{detail}");
}

#[tokio::test]
async fn sessions_expire_and_follow_deactivation() {
    let app = spawn_app().await;
    let (id, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let me = sign_in(&app, &token).await;
    app.clock.advance(chrono::Duration::hours(11));
    assert_eq!(me.get(&app, "/console").await.0, 200);
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        me.get(&app, "/console").await.0,
        303,
        "twelve hours is a shift"
    );

    let again = sign_in(&app, &token).await;
    sqlx::query("UPDATE staff SET active = FALSE WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(again.get(&app, "/console").await.0, 303);
}

#[tokio::test]
async fn managers_open_every_department_board() {
    let app = spawn_app().await;
    let (_, manager) = add_staff(&app, "项目经理", "customer_service", "manager", &[]).await;
    let t = file_evil(&app).await;
    let m = sign_in(&app, &manager).await;
    let (_, home) = m.get(&app, "/console").await;
    assert!(home.contains("aria-label=\"Departments\""), "{home}");
    let (s, board) = m.get(&app, "/console/queue/engineering").await;
    assert_eq!(s, 200);
    assert!(board.contains(&t.number));
    assert!(board.contains("aria-current=\"page\""), "{board}");
    assert_eq!(m.get(&app, "/console/queue/nowhere").await.0, 404);
}

async fn open_events(app: &TestApp, me: &Session) -> reqwest::Response {
    me.client
        .get(format!("{}/console/events", app.address))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_open_event_stream_ends_when_the_server_stops() {
    let app = spawn_app().await;
    let (_, token) = add_staff(&app, "王师傅", "engineering", "worker", &[]).await;
    let me = sign_in(&app, &token).await;
    let mut res = open_events(&app, &me).await;
    assert_eq!(res.status(), 200);
    let first = res.chunk().await.unwrap();
    assert!(first.is_some(), "the stream is live");
    app.shutdown.cancel();
    // Without the shutdown signal the stream would run on for up to a minute.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = res.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ended within 5 s of the stop");
}
