//! The dialogue in the resident's own words, end to end through the WeChat door (plain
//! mode) with the real classifier: each class of issue 12 walked in simplified,
//! traditional and English. What a reply does is read from the acts recorded with it
//! (`inbound_messages.reply_acts`), not from its wording.

use std::sync::Arc;

use guanjia::channel::webhook::signature::sign;
use guanjia::clock::Clock;
use guanjia::dialogue::{build_with, Deps, Understanding};
use guanjia::domain::Locale;
use guanjia::understanding::{detect_locale, Classification, Classifier};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with_dialogue, TestApp};
use crate::wechat::{post_plain, text_push, APPID};
use guanjia::channel::wechat::xml::parse_fields;

struct Chat<'a> {
    app: &'a TestApp,
    user: String,
    n: std::cell::Cell<u64>,
}

struct Said {
    text: String,
    acts: Vec<String>,
}

impl Said {
    fn does(&self, act: &str) -> bool {
        self.acts.iter().any(|a| a == act)
    }
}

impl<'a> Chat<'a> {
    fn new(app: &'a TestApp, user: &str) -> Self {
        Self {
            app,
            user: format!("o_{user}_{}", uuid::Uuid::new_v4().simple()),
            n: std::cell::Cell::new(0),
        }
    }

    async fn say(&self, text: &str) -> Said {
        self.n.set(self.n.get() + 1);
        let msg_id = format!("{}", 7_000_000_000u64 + self.n.get());
        let res = post_plain(self.app, &text_push(&self.user, &msg_id, text)).await;
        assert_eq!(res.status(), 200, "{text}");
        let body = res.text().await.unwrap();
        let content = parse_fields(&body)
            .ok()
            .and_then(|f| f.get("Content").map(str::to_owned))
            .unwrap_or_default();
        let (full, acts): (Option<String>, Vec<String>) = sqlx::query_as(
            "SELECT reply, reply_acts FROM inbound_messages WHERE channel = 'wechat:demo' AND dedup_key = $1",
        )
        .bind(format!("{APPID}|{}|{msg_id}", self.user))
        .fetch_one(&self.app.db)
        .await
        .unwrap();
        // The passive reply may be cut at WeChat's limit; the recorded one is whole.
        assert!(full
            .as_deref()
            .unwrap_or_default()
            .starts_with(content.trim_end_matches('…')));
        Said {
            text: full.unwrap_or_default(),
            acts,
        }
    }

    async fn tickets(&self) -> Vec<(String, String, Option<String>)> {
        sqlx::query_as(
            "SELECT t.kind, t.urgency, t.location FROM tickets t JOIN residents r ON r.id = t.resident_id
             WHERE r.external_id = $1 ORDER BY t.created_at",
        )
        .bind(&self.user)
        .fetch_all(&self.app.db)
        .await
        .unwrap()
    }
}

fn script(text: &str) -> Locale {
    match crate::conversations::script_of(text) {
        "en" => Locale::En,
        "zh-Hant" => Locale::ZhHant,
        _ => Locale::ZhHans,
    }
}

#[tokio::test]
async fn confirm_cancel_and_correct_in_own_words() {
    let app = spawn_app().await;
    // Confirm.
    for (report, yes) in [
        ("3栋2单元1101 厨房水管漏水", "嗯嗯"),
        ("3棟2單元1101 廚房水管漏水", "係"),
        (
            "Building 3, Unit 2, Room 1101 the kitchen pipe is leaking",
            "yes please",
        ),
    ] {
        let me = Chat::new(&app, "yes");
        let r = me.say(report).await;
        assert!(r.does("read_back"), "{report}: {:?} {}", r.acts, r.text);
        let r = me.say(yes).await;
        assert!(r.does("filed"), "{yes}: {:?} {}", r.acts, r.text);
        assert_eq!(me.tickets().await.len(), 1);
    }
    // Cancel.
    for (report, no) in [
        ("6栋502 阳台门关不上", "算了不用了"),
        ("6棟502 露台門關唔埋", "唔使了"),
        (
            "Block 6 Flat 502 the balcony door won't close",
            "never mind",
        ),
    ] {
        let me = Chat::new(&app, "cancel");
        me.say(report).await;
        let r = me.say(no).await;
        assert!(r.does("cancelled"), "{no}: {:?} {}", r.acts, r.text);
        assert!(me.tickets().await.is_empty());
    }
    // A correction changes the room and keeps the building.
    for (report, fix, building) in [
        ("5栋1102 卫生间下水道堵了", "不对 是1203室", "5栋"),
        ("5棟1102 廁所去水塞咗", "唔啱，係1203", "5棟"),
        (
            "Building 5 Room 1102 the bathroom drain is blocked",
            "no, it's room 1203",
            "Building 5",
        ),
    ] {
        let me = Chat::new(&app, "fix");
        me.say(report).await;
        let r = me.say(fix).await;
        assert!(r.does("read_back"), "{fix}: {:?} {}", r.acts, r.text);
        assert!(
            r.text.contains("1203") && r.text.contains(building),
            "{}",
            r.text
        );
        let r = me.say("1").await;
        assert!(r.does("filed"));
        let t = me.tickets().await;
        let location = t[0].2.clone().unwrap_or_default();
        assert!(
            location.contains("1203") && location.contains('5'),
            "{location}"
        );
    }
    // The place in the home is swapped in the summary.
    for (report, fix, want) in [
        ("2栋801 厨房灯不亮了", "不对，是卫生间不是厨房", "卫生间"),
        ("2棟801 廚房燈唔亮", "不是廚房，是浴室", "浴室"),
        (
            "Building 2 Room 801 the kitchen light is out",
            "not the kitchen, the bathroom",
            "bathroom",
        ),
    ] {
        let me = Chat::new(&app, "swap");
        me.say(report).await;
        let r = me.say(fix).await;
        assert!(r.does("read_back"), "{fix}: {:?} {}", r.acts, r.text);
        assert!(r.text.contains(want), "{}", r.text);
    }
}

#[tokio::test]
async fn handoff_and_status_win_at_the_confirmation_step() {
    let app = spawn_app().await;
    for (report, status, human) in [
        ("3栋1101 客厅灯不亮", "我之前报的修怎么样了", "叫个真人来"),
        ("3棟1101 客廳燈唔亮", "師傅幾時到", "我要搵真人"),
        (
            "Building 3 Room 1101 the living room light is out",
            "what's happening with my repair?",
            "I want to talk to a real person",
        ),
    ] {
        let me = Chat::new(&app, "steer");
        me.say(report).await;
        let r = me.say(status).await;
        assert!(r.does("status"), "{status}: {:?} {}", r.acts, r.text);
        let r = me.say(human).await;
        assert!(r.does("handoff"), "{human}: {:?} {}", r.acts, r.text);
        assert!(me.tickets().await.is_empty());
    }
}

#[tokio::test]
async fn small_talk_thanks_and_venting_file_nothing() {
    let app = spawn_app().await;
    let cases: &[(&str, &str, Locale)] = &[
        ("你好", "greeting", Locale::ZhHans),
        ("你是机器人吗？", "greeting", Locale::ZhHans),
        ("😊", "greeting", Locale::ZhHans),
        ("好的谢谢", "ack", Locale::ZhHans),
        ("没事了", "ack", Locale::ZhHans),
        ("人已经出来了谢谢", "ack", Locale::ZhHans),
        ("你们物业太差了！", "apology", Locale::ZhHans),
        ("你是機器人嗎？", "greeting", Locale::ZhHant),
        ("唔該晒", "ack", Locale::ZhHant),
        ("冇事了，多謝", "ack", Locale::ZhHant),
        ("你哋物業真係好差", "apology", Locale::ZhHant),
        ("hello!", "greeting", Locale::En),
        ("are you a robot?", "greeting", Locale::En),
        ("thanks, it's fixed now", "ack", Locale::En),
        ("this is terrible", "apology", Locale::En),
        ("热水器好了，谢谢师傅", "ack", Locale::ZhHans),
        (
            "你们物业到底是干什么吃的！每年交那么多钱，一点用都没有！",
            "apology",
            Locale::ZhHans,
        ),
        ("喂，有冇人喺度呀", "greeting", Locale::ZhHans),
        ("All fixed, thank you!", "ack", Locale::En),
        ("ok cool, thanks", "ack", Locale::En),
        (
            "This is ridiculous. Worst management company I have ever dealt with.",
            "apology",
            Locale::En,
        ),
    ];
    for (text, act, locale) in cases {
        let me = Chat::new(&app, "talk");
        let r = me.say(text).await;
        assert!(r.does(act), "{text}: {:?} {}", r.acts, r.text);
        assert_eq!(script(&r.text), *locale, "{text}: {}", r.text);
        assert!(me.tickets().await.is_empty(), "{text} filed a ticket");
    }
}

#[tokio::test]
async fn what_follows_an_emergency_is_told_to_it_not_filed_again() {
    let app = spawn_app().await;
    let cases: &[(&str, &str, &str, &str, Locale)] = &[
        (
            "3栋1502 厨房煤气泄漏了，味道很大",
            "要不要打119啊？",
            "还是很大味道",
            "已经没味道了",
            Locale::ZhHans,
        ),
        (
            "3棟1502 廚房煤氣洩漏，好大陣味",
            "使唔使打119呀？",
            "仲有好大陣味",
            "冇味了",
            Locale::ZhHant,
        ),
        (
            "Building 3 Room 1502, there is a gas leak in my kitchen, strong smell",
            "Should I ring 119 myself?",
            "yes, still there and getting stronger",
            "it's gone now",
            Locale::En,
        ),
    ];
    for (report, call, still, gone, locale) in cases {
        let me = Chat::new(&app, "after");
        let r = me.say(report).await;
        assert!(r.does("emergency"), "{report}: {:?} {}", r.acts, r.text);
        for follow_up in [call, still] {
            let r = me.say(follow_up).await;
            assert!(r.does("emergency"), "{follow_up}: {:?} {}", r.acts, r.text);
            assert_eq!(script(&r.text), *locale, "{follow_up}: {}", r.text);
        }
        let r = me.say(gone).await;
        assert!(r.does("ack"), "{gone}: {:?} {}", r.acts, r.text);
        let tickets = me.tickets().await;
        assert_eq!(tickets.len(), 1, "{report}: {tickets:?}");
        assert_eq!(tickets[0].1, "emergency");
        // "119" was a number to call, never a room.
        assert!(!tickets[0].2.as_deref().unwrap_or("").contains("119"));
    }
}

#[tokio::test]
async fn a_place_told_after_an_emergency_goes_on_its_ticket() {
    let app = spawn_app().await;
    for (report, place, room) in [
        (
            "电梯突然停了，我妈被困在里面出不来！",
            "3栋2单元 1502门口那部",
            "1502",
        ),
        (
            "部𨋢停咗，我阿媽困咗喺入面出唔到嚟！",
            "3座15樓1502室",
            "1502",
        ),
        (
            "My mum is stuck in the lift right now, the door won't open!",
            "Block 3, flat 1502",
            "1502",
        ),
    ] {
        let me = Chat::new(&app, "locate");
        let r = me.say(report).await;
        assert!(r.does("emergency"), "{report}: {:?} {}", r.acts, r.text);
        assert_eq!(
            me.tickets().await[0].2,
            None,
            "{report}: filed without a place"
        );
        let r = me.say(place).await;
        assert!(r.does("emergency"), "{place}: {:?} {}", r.acts, r.text);
        assert!(r.text.contains(room), "{place}: {}", r.text);
        let tickets = me.tickets().await;
        assert_eq!(tickets.len(), 1, "{place}: {tickets:?}");
        let located = tickets[0].2.as_deref().unwrap_or_default();
        assert!(located.contains(room), "{place}: {located}");
        let (events,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
             JOIN residents r ON r.id = t.resident_id
             WHERE r.external_id = $1 AND e.action = 'located'",
        )
        .bind(&me.user)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(events, 1, "the place is in the ticket's history");
    }
}

#[tokio::test]
async fn a_request_just_filed_is_withdrawn_in_chat_until_staff_take_it() {
    let app = spawn_app().await;
    for (report, cancel) in [
        ("3栋2单元1101 卫生间排气扇噪音很大", "不用了，取消吧"),
        ("3棟2單元1101 浴室抽氣扇好嘈", "取消"),
        (
            "The bathroom fan is really noisy, Block 3 flat 1101",
            "cancel",
        ),
    ] {
        let me = Chat::new(&app, "withdraw");
        me.say(report).await;
        let r = me.say("1").await;
        assert!(r.does("filed"), "{report}: {:?} {}", r.acts, r.text);
        let r = me.say(cancel).await;
        assert!(r.does("cancelled"), "{cancel}: {:?} {}", r.acts, r.text);
        let (status, queued): (String, bool) = sqlx::query_as(
            "SELECT t.status, EXISTS (SELECT 1 FROM ticket_events e
                 WHERE e.ticket_id = t.id AND e.action = 'cancelled' AND e.actor_kind = 'resident')
             FROM tickets t JOIN residents r ON r.id = t.resident_id WHERE r.external_id = $1",
        )
        .bind(&me.user)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!((status.as_str(), queued), ("cancelled", true), "{cancel}");
        // Nothing left to withdraw: said so, and nothing changes.
        let r = me.say(cancel).await;
        assert!(
            r.does("ack") && !r.does("cancelled"),
            "{cancel}: {:?}",
            r.acts
        );
    }
    // A request staff have claimed is not withdrawn from chat.
    let me = Chat::new(&app, "withdraw");
    me.say("3栋2单元1101 卫生间排气扇噪音很大").await;
    me.say("1").await;
    sqlx::query(
        "UPDATE tickets SET status = 'claimed' FROM residents r
         WHERE r.id = tickets.resident_id AND r.external_id = $1",
    )
    .bind(&me.user)
    .execute(&app.db)
    .await
    .unwrap();
    let r = me.say("取消").await;
    assert!(!r.does("cancelled"), "{:?} {}", r.acts, r.text);
    let (status,): (String,) = sqlx::query_as(
        "SELECT t.status FROM tickets t JOIN residents r ON r.id = t.resident_id WHERE r.external_id = $1",
    )
    .bind(&me.user)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(status, "claimed");
}

#[tokio::test]
async fn addresses_two_needs_and_the_reply_script() {
    let app = spawn_app().await;
    for (report, shows) in [
        ("五栋二单元六零二 厨房漏水", "602"),
        (
            "Building 8, Unit 1, Room 2003: the bathroom tap is dripping",
            "2003",
        ),
        ("Blk 3 #11-02 the corridor light is broken", "11-02"),
        ("我的B2-136车位被别人占了", "B2-136"),
        ("小区大堂的灯坏了", "大堂"),
        ("the playground swing is broken", "playground"),
    ] {
        let me = Chat::new(&app, "place");
        let r = me.say(report).await;
        assert!(r.does("read_back"), "{report}: {:?} {}", r.acts, r.text);
        assert!(r.text.contains(shows), "{report}: {}", r.text);
    }
    // When it happens is not when to visit.
    let me = Chat::new(&app, "noise");
    let r = me.say("7栋1502 楼上凌晨一点还在唱K，太吵了").await;
    assert!(r.does("read_back"));
    assert!(!r.text.contains("上门时间"), "{}", r.text);
    // Two needs: the repair is read back and the question answered.
    for text in [
        "8栋1603 阳台晾衣架掉了一半，另外停车月卡怎么续",
        "8棟1603 露台晾衫架跌咗一半，另外停車月卡點續",
        "Block 8 Flat 1603 the balcony clothes rack fell down. Also, how do I renew my monthly parking?",
    ] {
        let me = Chat::new(&app, "two");
        let r = me.say(text).await;
        assert!(
            r.does("read_back") && r.does("which_first") && r.does("answer"),
            "{text}: {:?} {}",
            r.acts,
            r.text
        );
    }
    // Cantonese in simplified characters is answered in simplified; English with a Chinese
    // address in English.
    let me = Chat::new(&app, "yue");
    let r = me.say("3栋1101 厨房冇热水啊").await;
    assert_eq!(script(&r.text), Locale::ZhHans, "{}", r.text);
    let me = Chat::new(&app, "mixed");
    let r = me.say("3栋2单元1101 the bathroom light is broken").await;
    assert_eq!(script(&r.text), Locale::En, "{}", r.text);
}

/// The real classifier, with the possible-emergency flag set by a stand-in until the
/// semantic tier sets it.
struct Hazard(Classifier);

impl Understanding for Hazard {
    fn classify(&self, text: &str) -> Classification {
        let mut c = self.0.classify(text);
        let s = zhconv::zhconv(text, zhconv::Variant::ZhHans).to_lowercase();
        c.possible_emergency = ["可能是煤气", "好似有煤气", "maybe gas"]
            .iter()
            .any(|w| s.contains(w));
        c
    }

    fn locale(&self, text: &str) -> Locale {
        detect_locale(text)
    }
}

async fn webhook(app: &TestApp, user: &str, id: &str, text: &str) -> Value {
    let body = json!({"message_id": id, "user_id": user, "text": text,
                      "sent_at": "2026-11-22T10:00:00+08:00"})
    .to_string();
    let ts = app.clock.now().timestamp().to_string();
    app.client
        .post(format!("{}/webhook/demo", app.address))
        .header("X-Guanjia-Timestamp", &ts)
        .header(
            "X-Guanjia-Signature",
            sign(b"guanjia-demo-webhook-secret", &ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn acts(v: &Value) -> Vec<&str> {
    v["acts"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_possible_emergency_asks_once_then_files_or_goes_on() {
    // The stand-in engine needs the process's parts; a first app lends them.
    let lender = spawn_app().await;
    let deps = Deps {
        settings: lender.state.settings.clone(),
        redis: lender.state.redis.clone(),
        clock: lender.state.clock.clone(),
        prompts: lender.state.prompts.clone(),
        queue: lender.state.queue.clone(),
        db: lender.state.db.clone(),
    };
    let engine = build_with(deps, Arc::new(Hazard(Classifier::default())), None).unwrap();
    let app = spawn_app_with_dialogue(engine, |_| {}).await;
    let duty = app.settings.service.duty_phone.clone();
    let count = |user: &str| {
        let user = user.to_owned();
        let db = app.db.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM tickets t JOIN residents r ON r.id = t.resident_id WHERE r.external_id = $1",
            )
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
            n
        }
    };
    for (n, (first, still, stopped)) in [
        ("3栋1101 厨房有股怪味，可能是煤气", "还有味道", "没有了"),
        ("3棟1101 廚房有啲怪味，可能是煤氣", "仲有", "冇了"),
        (
            "Building 3 Room 1101 strange smell in the kitchen, maybe gas",
            "yes, still there",
            "no, it's gone",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // Still happening: an emergency ticket at once.
        let user = format!("haz-yes-{n}");
        let v = webhook(&app, &user, &format!("{user}-1"), first).await;
        assert!(acts(&v).contains(&"possible_emergency"), "{v}");
        assert!(v["reply"].as_str().unwrap().contains(&duty), "{v}");
        assert_eq!(count(&user).await, 0);
        let v = webhook(&app, &user, &format!("{user}-2"), still).await;
        assert!(acts(&v).contains(&"emergency"), "{still}: {v}");
        assert_eq!(count(&user).await, 1);
        // Stopped: the ordinary flow goes on from the read-back.
        let user = format!("haz-no-{n}");
        webhook(&app, &user, &format!("{user}-1"), first).await;
        let v = webhook(&app, &user, &format!("{user}-2"), stopped).await;
        assert!(acts(&v).contains(&"read_back"), "{stopped}: {v}");
        assert_eq!(count(&user).await, 0);
        // Asking about 119 while asked is answered with the guidance again and the
        // question still stands: never a place, and nothing filed on a question.
        let user = format!("haz-119-{n}");
        webhook(&app, &user, &format!("{user}-1"), first).await;
        let v = webhook(&app, &user, &format!("{user}-2"), "should I call 119?").await;
        assert!(acts(&v).contains(&"possible_emergency"), "{v}");
        assert!(!acts(&v).contains(&"ask_place"), "{v}");
        assert_eq!(count(&user).await, 0);
    }
}

#[tokio::test]
async fn a_repeated_delivery_gets_the_same_reply_and_acts() {
    let app = spawn_app().await;
    let first = webhook(&app, "dup-acts", "dup-acts-1", "3栋1101 厨房水管漏水").await;
    // A platform retry is signed afresh.
    app.clock.advance(chrono::Duration::seconds(1));
    let again = webhook(&app, "dup-acts", "dup-acts-1", "3栋1101 厨房水管漏水").await;
    assert_eq!(acts(&first), vec!["read_back"], "{first}");
    assert_eq!(first, again);
}
