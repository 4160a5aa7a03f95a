//! The dialogue against real PostgreSQL and Redis: each flow walked in simplified,
//! traditional and English, with the clock moved for idle timeouts and a message delivered
//! twice. The classifier is a small keyword stand-in (the real one lives in
//! `understanding`); the production engine (`app.state.dialogue`) is used where no
//! classification is needed.

use std::sync::Arc;

use chrono::{Duration, Utc};
use guanjia::channel::{ChannelRef, Dialogue, InboundMessage, MessageBody, PlatformEvent};
use guanjia::dialogue::{build_with, Deps, Understanding};
use guanjia::domain::Locale;
use guanjia::ticket::model::{Category, Department, Kind, Urgency};
use guanjia::understanding::{Classification, Slots};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

/// Keyword classification, enough to drive the flows.
struct Fake;

fn simplified(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans).to_lowercase()
}

fn any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

impl Understanding for Fake {
    fn classify(&self, text: &str) -> Classification {
        let s = simplified(text);
        let emergency = any(
            &s,
            &[
                "爆", "被困", "着火", "煤气", "trapped", "burst", "fire", "gas",
            ],
        );
        let kind = if any(
            &s,
            &[
                "漏", "坏", "不亮", "被困", "爆", "leak", "broken", "煤气", "gas", "trapped",
            ],
        ) {
            Kind::Repair
        } else if any(&s, &["吵", "投诉", "noise", "noisy"]) {
            Kind::Complaint
        } else if any(&s, &["建议", "表扬", "suggest"]) {
            Kind::Suggestion
        } else if any(&s, &["怎么", "吗", "什么时候", "how", "when", "?", "？"]) {
            Kind::Inquiry
        } else {
            Kind::Other
        };
        let digits: Vec<String> = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        let has_building = any(&s, &["栋", "building"]);
        let slots = Slots {
            building: if has_building {
                digits.first().cloned()
            } else {
                None
            },
            unit: if any(&s, &["单元"]) && digits.len() >= 3 {
                digits.get(1).cloned()
            } else {
                None
            },
            room: if has_building {
                digits.iter().skip(1).rfind(|d| d.len() >= 3).cloned()
            } else {
                None
            },
            phone: digits.iter().find(|d| d.len() == 11).cloned(),
            time: None,
            floor: None,
            spot: None,
            building_mark: None,
        };
        Classification {
            text: text.to_owned(),
            kind,
            urgency: if emergency {
                Urgency::Emergency
            } else {
                Urgency::Normal
            },
            department: match kind {
                Kind::Repair => Department::Engineering,
                _ => Department::CustomerService,
            },
            category: Category::Equipment,
            confidence: 0.9,
            slots,
            possible_emergency: false,
            hazard_over: false,
            unsure: false,
            evident: emergency,
        }
    }

    fn locale(&self, text: &str) -> Locale {
        if !text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
            Locale::En
        } else if simplified(text) == text.to_lowercase() {
            Locale::ZhHans
        } else {
            Locale::ZhHant
        }
    }
}

struct Chat {
    engine: Arc<dyn Dialogue>,
    resident: Uuid,
}

fn engine(app: &TestApp) -> Arc<dyn Dialogue> {
    let deps = Deps {
        settings: app.state.settings.clone(),
        redis: app.state.redis.clone(),
        clock: app.state.clock.clone(),
        prompts: app.state.prompts.clone(),
        queue: app.state.queue.clone(),
        db: app.state.db.clone(),
    };
    build_with(deps, Arc::new(Fake), None).unwrap()
}

async fn resident(app: &TestApp, building: Option<&str>, room: Option<&str>) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO residents (id, channel, external_id, building, room) VALUES ($1, 'webhook:demo', $2, $3, $4)",
    )
    .bind(id)
    .bind(format!("user-{id}"))
    .bind(building)
    .bind(room)
    .execute(&app.db)
    .await
    .unwrap();
    id
}

async fn chat(app: &TestApp, building: Option<&str>, room: Option<&str>) -> Chat {
    Chat {
        engine: engine(app),
        resident: resident(app, building, room).await,
    }
}

async fn store(app: &TestApp, resident: Uuid, body: MessageBody) -> InboundMessage {
    let msg = InboundMessage {
        id: Uuid::new_v4(),
        channel: ChannelRef::Webhook {
            channel: "demo".into(),
        },
        resident_id: resident,
        external_user: format!("user-{resident}"),
        received_at: app.clock_now(),
        body,
    };
    sqlx::query(
        "INSERT INTO inbound_messages (id, channel, dedup_key, resident_id, msg_type, content, payload, received_at)
         VALUES ($1, 'webhook:demo', $2, $3, $4, $5, $6, $7)",
    )
    .bind(msg.id)
    .bind(msg.id.to_string())
    .bind(resident)
    .bind(msg.body.type_name())
    .bind(msg.body.text())
    .bind(serde_json::to_value(&msg.body).unwrap())
    .bind(msg.received_at)
    .execute(&app.db)
    .await
    .unwrap();
    msg
}

/// Handles `msg` in a transaction, commits, runs the after-commit work; the reply.
async fn deliver(app: &TestApp, engine: &Arc<dyn Dialogue>, msg: &InboundMessage) -> String {
    let prepared = engine.prepare(std::slice::from_ref(msg)).await;
    let mut tx = app.db.begin().await.unwrap();
    let outcome = engine.handle(&mut tx, msg, &prepared).await.unwrap();
    tx.commit().await.unwrap();
    for job in outcome.after_commit {
        job.await;
    }
    outcome.reply
}

impl Chat {
    async fn say(&self, app: &TestApp, text: &str) -> String {
        self.send(app, MessageBody::Text { text: text.into() })
            .await
    }

    async fn send(&self, app: &TestApp, body: MessageBody) -> String {
        let msg = store(app, self.resident, body).await;
        deliver(app, &self.engine, &msg).await
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    number: String,
    kind: String,
    urgency: String,
    building: Option<String>,
    room: Option<String>,
    locale: String,
    source_message_id: Option<Uuid>,
    summary: String,
}

async fn tickets(app: &TestApp, resident: Uuid) -> Vec<Row> {
    sqlx::query_as(
        "SELECT number, kind, urgency, building, room, locale, source_message_id, summary
         FROM tickets WHERE resident_id = $1 ORDER BY created_at, number",
    )
    .bind(resident)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn drafts(app: &TestApp, resident: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM drafts WHERE resident_id = $1")
        .bind(resident)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_repair_in_simplified_chinese_asks_the_place_remembers_it_and_files_once_confirmed() {
    let app = spawn_app().await;
    let c = chat(&app, None, None).await;

    let r = c.say(&app, "厨房水管漏水了").await;
    assert!(r.contains("楼栋"), "asks for the place: {r}");
    assert_eq!(
        drafts(&app, c.resident).await,
        1,
        "kept as a draft while unfinished"
    );

    let r = c.say(&app, "3栋2单元1101").await;
    assert!(
        r.contains("您要报修：厨房水管漏水了")
            && r.contains("3栋2单元1101")
            && r.contains("回复1确认"),
        "{r}"
    );

    let r = c.say(&app, "1").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert!(r.contains(&t[0].number) && r.contains("30分钟"), "{r}");
    assert_eq!(
        (
            t[0].kind.as_str(),
            t[0].building.as_deref(),
            t[0].room.as_deref()
        ),
        ("repair", Some("3"), Some("1101"))
    );
    assert_eq!(t[0].locale, "zh-Hans");
    assert!(t[0].source_message_id.is_some());
    assert_eq!(drafts(&app, c.resident).await, 0);

    let (b, u, room): (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT building, unit, room FROM residents WHERE id = $1")
            .bind(c.resident)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (b.as_deref(), u.as_deref(), room.as_deref()),
        (Some("3"), Some("2"), Some("1101"))
    );

    // Next time the unit on record is the place; nothing is asked.
    let r = c.say(&app, "卫生间灯不亮").await;
    assert!(
        r.contains("您要报修：卫生间灯不亮") && r.contains("3栋2单元1101"),
        "{r}"
    );
    let r = c.say(&app, "好").await;
    assert_eq!(tickets(&app, c.resident).await.len(), 2, "{r}");
}

#[tokio::test]
async fn a_repair_in_traditional_chinese_is_corrected_and_answered_in_traditional() {
    let app = spawn_app().await;
    let c = chat(&app, None, None).await;

    let r = c.say(&app, "3棟1101 廚房水管漏水").await;
    assert!(
        r.contains("您要報修") && r.contains("3棟1101") && r.contains("回覆1確認"),
        "{r}"
    );
    let r = c.say(&app, "修改").await;
    assert!(r.contains("請問要修改哪一項"), "{r}");
    let r = c.say(&app, "2").await;
    assert!(r.contains("請問具體在哪裡"), "{r}");
    let r = c.say(&app, "3棟1102").await;
    assert!(r.contains("3棟1102"), "{r}");
    let r = c.say(&app, "確認").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert!(
        r.contains(&t[0].number) && r.contains("已為您提交報修"),
        "{r}"
    );
    assert_eq!(
        (t[0].room.as_deref(), t[0].locale.as_str()),
        (Some("1102"), "zh-Hant")
    );
    let locale: String = sqlx::query_scalar("SELECT locale FROM residents WHERE id = $1")
        .bind(c.resident)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(locale, "zh-Hant");
}

#[tokio::test]
async fn an_english_request_can_be_cancelled_and_a_complaint_filed_with_an_apology() {
    let app = spawn_app().await;
    let c = chat(&app, Some("2"), Some("808")).await;

    let r = c.say(&app, "kitchen pipe leaking").await;
    assert!(
        r.contains("You are reporting a repair") && r.contains("Building 2, Room 808"),
        "{r}"
    );
    let r = c.say(&app, "cancel").await;
    assert!(r.contains("cancelled"), "{r}");
    assert!(tickets(&app, c.resident).await.is_empty());
    assert_eq!(drafts(&app, c.resident).await, 0);

    let r = c
        .say(&app, "The neighbours are too noisy every night")
        .await;
    assert!(r.contains("You are making a complaint"), "{r}");
    let r = c.say(&app, "yes").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].kind.as_str(), t[0].locale.as_str()),
        ("complaint", "en")
    );
    assert!(
        r.contains("sorry") && r.contains(&t[0].number) && r.contains("24 hours"),
        "{r}"
    );
}

#[tokio::test]
async fn an_unfinished_request_outlives_the_idle_timeout_as_a_draft() {
    let app = spawn_app().await;
    let c = chat(&app, None, None).await;

    c.say(&app, "厨房水管漏水").await;
    app.clock.advance(Duration::minutes(29));
    let r = c.say(&app, "5栋301").await;
    assert!(r.contains("您要报修"), "still the same session: {r}");

    app.clock.advance(Duration::minutes(31));
    let r = c.say(&app, "你好").await;
    assert!(
        r.contains("您有一条未完成的报修：厨房水管漏水") && r.contains("回复1继续，2放弃"),
        "{r}"
    );
    assert_eq!(drafts(&app, c.resident).await, 1);
    let r = c.say(&app, "1").await;
    assert!(
        r.contains("您要报修：厨房水管漏水") && r.contains("5栋301"),
        "{r}"
    );
    c.say(&app, "确认").await;
    assert_eq!(tickets(&app, c.resident).await.len(), 1);
    assert_eq!(drafts(&app, c.resident).await, 0);

    // Dropping a draft in traditional script.
    c.say(&app, "廁所燈壞了").await;
    app.clock.advance(Duration::hours(3));
    let r = c.say(&app, "在嗎").await;
    assert!(r.contains("您有一條未完成的報修"), "{r}");
    let r = c.say(&app, "2").await;
    assert!(r.contains("已放棄"), "{r}");
    assert_eq!(drafts(&app, c.resident).await, 0);
    assert_eq!(tickets(&app, c.resident).await.len(), 1);
}

#[tokio::test]
async fn another_time_for_the_visit_goes_on_the_open_ticket_not_a_new_one() {
    let app = spawn_app().await;
    let c = chat(&app, Some("2"), Some("808")).await;
    let r = c.say(&app, "我还在上班 能不能改到5点半以后").await;
    assert!(r.contains("没有进行中的工单"), "{r}");

    c.say(&app, "厨房水管漏水").await;
    c.say(&app, "对").await;
    let filed = tickets(&app, c.resident).await;
    assert_eq!(filed.len(), 1);
    let r = c.say(&app, "3点我还在上班啊 能不能改到5点半以后").await;
    assert!(r.contains(&filed[0].number), "{r}");
    assert_eq!(tickets(&app, c.resident).await.len(), 1);
    let note: String = sqlx::query_scalar(
        "SELECT e.note FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE t.number = $1 AND e.action = 'resident_update'",
    )
    .bind(&filed[0].number)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(note.contains("5点半"), "{note}");
}

#[tokio::test]
async fn the_same_message_delivered_twice_files_one_ticket() {
    let app = spawn_app().await;
    let c = chat(&app, Some("3"), Some("1101")).await;
    c.say(&app, "厨房水管漏水").await;

    let confirm = store(&app, c.resident, MessageBody::Text { text: "1".into() }).await;
    let first = deliver(&app, &c.engine, &confirm).await;
    let second = deliver(&app, &c.engine, &confirm).await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].source_message_id, Some(confirm.id));
    assert!(first.contains(&t[0].number));
    assert_eq!(first, second);

    // A first attempt that never committed leaves nothing behind; the retry files it.
    c.say(&app, "卫生间灯坏了").await;
    let confirm = store(
        &app,
        c.resident,
        MessageBody::Text {
            text: "确认".into(),
        },
    )
    .await;
    {
        let prepared = c.engine.prepare(std::slice::from_ref(&confirm)).await;
        let mut tx = app.db.begin().await.unwrap();
        c.engine.handle(&mut tx, &confirm, &prepared).await.unwrap();
        tx.rollback().await.unwrap();
    }
    assert_eq!(tickets(&app, c.resident).await.len(), 1);
    let r = deliver(&app, &c.engine, &confirm).await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 2);
    assert!(r.contains(&t[1].number), "{r}");
}

#[tokio::test]
async fn emergencies_are_filed_at_once_with_guidance_and_the_duty_line() {
    let app = spawn_app().await;
    let duty = app.settings.service.duty_phone.clone();

    let c = chat(&app, None, None).await;
    let r = c.say(&app, "电梯坏了有人被困在里面").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].urgency.as_str(), t[0].kind.as_str()),
        ("emergency", "repair")
    );
    assert!(
        r.contains(&t[0].number)
            && r.contains("警铃")
            && r.contains("不要强行扒门")
            && r.contains(&duty),
        "{r}"
    );
    assert!(r.contains("值班人员会马上致电您"), "place unknown: {r}");

    let c = chat(&app, Some("1"), Some("502")).await;
    let r = c
        .say(&app, "There is a strong gas smell in my kitchen")
        .await;
    assert!(
        r.contains("Open the windows")
            && r.contains("119")
            && r.contains("Building 1, Room 502")
            && r.contains(&duty),
        "{r}"
    );

    let c = chat(&app, Some("2"), Some("301")).await;
    let r = c.say(&app, "水管爆了，水漫出來了").await;
    assert!(r.contains("總閥") && r.contains("2棟301"), "{r}");
}

#[tokio::test]
async fn questions_are_answered_from_the_faq_or_filed_and_suggestions_thanked() {
    let app = spawn_app().await;
    let c = chat(&app, None, None).await;

    let r = c.say(&app, "物业费怎么交").await;
    assert!(
        r.contains("物业费") && r.contains(&app.settings.service.desk_hours),
        "{r}"
    );
    let r = c.say(&app, "How do I get a renovation permit?").await;
    assert!(r.contains("3 months"), "{r}");
    let r = c.say(&app, "裝修許可證可以延期嗎").await;
    assert!(r.contains("延期") && r.contains("裝修"), "{r}");
    assert!(tickets(&app, c.resident).await.is_empty());

    let r = c.say(&app, "小区什么时候开业主大会？").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].kind, "inquiry");
    assert!(r.contains(&t[0].number) && r.contains("1小时"), "{r}");

    let r = c.say(&app, "建议北门加装快递柜").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].kind, "suggestion");
    assert!(r.contains("谢谢您的建议"), "{r}");
}

#[tokio::test]
async fn status_handoff_and_events_work_through_the_production_engine() {
    let app = spawn_app().await;
    let prod = app.state.dialogue.clone();
    let resident = resident(&app, Some("3"), Some("1101")).await;
    let say = |text: &'static str| {
        let app = &app;
        let prod = prod.clone();
        async move {
            let msg = store(app, resident, MessageBody::Text { text: text.into() }).await;
            deliver(app, &prod, &msg).await
        }
    };

    let r = say("进度").await;
    assert!(r.contains("没有进行中的工单"), "{r}");

    // A ticket filed through the keyword engine then shows in the list.
    let fake = Chat {
        engine: engine(&app),
        resident,
    };
    fake.say(&app, "厨房水管漏水").await;
    fake.say(&app, "1").await;
    let number = tickets(&app, resident).await[0].number.clone();
    let r = say("我的工单").await;
    assert!(r.contains(&number) && r.contains("已受理"), "{r}");
    let r = say("status").await;
    assert!(r.contains(&number) && r.contains("received"), "{r}");

    let r = say("转人工").await;
    assert!(r.contains("王管家") && r.contains("138-0000-0002"), "{r}");
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM handoffs WHERE resident_id = $1 AND ended_at IS NULL",
    )
    .bind(resident)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(open, 1);

    app.clock.advance(Duration::minutes(10));
    let r = say("师傅什么时候能来").await;
    assert_eq!(r, "", "the concierge answers, the bot stays quiet");
    let last: chrono::DateTime<Utc> = sqlx::query_scalar(
        "SELECT last_activity_at FROM handoffs WHERE resident_id = $1 AND ended_at IS NULL",
    )
    .bind(resident)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((last - app.clock_now()).num_seconds().abs() < 1);

    let r = say("结束").await;
    assert!(r.contains("人工对话已结束"), "{r}");

    // Idle handoffs end by themselves.
    say("人工").await;
    app.clock.advance(Duration::minutes(31));
    let r = say("你好").await;
    assert!(r.contains("我可以帮您"), "{r}");
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM handoffs WHERE resident_id = $1 AND ended_at IS NULL",
    )
    .bind(resident)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(open, 0);

    let event = |body: MessageBody| {
        let app = &app;
        let prod = prod.clone();
        async move {
            let msg = store(app, resident, body).await;
            deliver(app, &prod, &msg).await
        }
    };
    let r = event(MessageBody::Event(PlatformEvent::Subscribe { scene: None })).await;
    assert!(r.contains("欢迎关注") && r.contains("我可以帮您"), "{r}");
    let r = event(MessageBody::Event(PlatformEvent::Click {
        key: "my_tickets".into(),
    }))
    .await;
    assert!(r.contains(&number), "{r}");
    let r = event(MessageBody::Event(PlatformEvent::Click {
        key: "report_repair".into(),
    }))
    .await;
    assert!(r.contains("请描述一下需要维修的问题"), "{r}");
    let r = event(MessageBody::Image {
        url: Some("http://img/1.jpg".into()),
        media_id: None,
    })
    .await;
    assert!(r.contains("照片已收到"), "{r}");
    let r = event(MessageBody::Event(PlatformEvent::Unsubscribe)).await;
    assert_eq!(r, "");
    let r = event(MessageBody::Voice {
        media_id: None,
        recognition: Some("我的工单".into()),
    })
    .await;
    assert!(r.contains(&number), "recognised speech is text: {r}");
    let r = event(MessageBody::Video {
        media_id: Some("v".into()),
    })
    .await;
    assert!(r.contains("无法识别"), "{r}");
}

#[tokio::test]
async fn photos_and_locations_join_the_request() {
    let app = spawn_app().await;
    let c = chat(&app, None, None).await;
    let r = c
        .send(
            &app,
            MessageBody::Image {
                url: Some("http://img/a.jpg".into()),
                media_id: Some("m1".into()),
            },
        )
        .await;
    assert!(r.contains("收到您的照片"), "{r}");
    let r = c.say(&app, "楼道灯坏了").await;
    assert!(r.contains("楼栋"), "{r}");
    let r = c
        .send(
            &app,
            MessageBody::Location {
                lat: 31.2,
                lng: 121.4,
                label: Some("3号楼2楼楼道".into()),
            },
        )
        .await;
    assert!(r.contains("3号楼2楼楼道") && r.contains("照片1张"), "{r}");
    c.say(&app, "对").await;
    let t = tickets(&app, c.resident).await;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].summary, "楼道灯坏了");
    let photos: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ticket_attachments a JOIN tickets t ON t.id = a.ticket_id WHERE t.resident_id = $1",
    )
    .bind(c.resident)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(photos, 1);
}

#[tokio::test]
async fn sessions_live_in_redis_under_the_deployment_prefix() {
    let app = spawn_app().await;
    let c = chat(&app, None, None).await;
    c.say(&app, "厨房水管漏水").await;
    let key = format!("{}:session:{}", app.settings.redis.key_prefix, c.resident);
    let mut redis = app.state.redis.clone();
    let json: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["current"]["last_activity"].is_string(), "{v}");
    assert_eq!(v["current"]["state"]["state"], "collecting");
}
