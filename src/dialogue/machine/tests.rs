//! Every state against every class of input, as a table, plus the walks a resident takes.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::dialogue::request::without_leading_address;
use crate::dialogue::words::to_simplified;
use crate::domain::Locale;
use crate::prompts::Prompts;
use crate::understanding::Classification;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap()
}

fn faq() -> &'static Faq {
    static FAQ: OnceLock<Faq> = OnceLock::new();
    FAQ.get_or_init(|| Faq::load(Path::new("config/faq.toml")).unwrap())
}

fn intents() -> &'static Intents {
    static INTENTS: OnceLock<Intents> = OnceLock::new();
    INTENTS.get_or_init(|| Intents::load(Path::new("config/intents.toml")).unwrap())
}

fn class(kind: Kind, urgency: Urgency, slots: Slots) -> Classification {
    Classification {
        text: String::new(),
        kind,
        urgency,
        department: match kind {
            Kind::Repair => Department::Engineering,
            _ => Department::CustomerService,
        },
        category: match kind {
            Kind::Repair => Category::Equipment,
            Kind::Complaint => Category::Environment,
            _ => Category::Services,
        },
        confidence: 0.9,
        slots,
        possible_emergency: false,
        hazard_over: false,
        unsure: false,
        evident: urgency == Urgency::Emergency,
    }
}

fn at(building: &str, room: &str) -> Slots {
    Slots {
        building: Some(building.into()),
        room: Some(room.into()),
        ..Slots::default()
    }
}

fn text_as(text: &str, kind: Kind, urgency: Urgency, slots: Slots) -> Event {
    classed(text, class(kind, urgency, slots))
}

/// A message read as `class` says.
fn classed(text: &str, class: Classification) -> Event {
    Event::Text(TextInput {
        text: text.into(),
        simplified: to_simplified(text),
        class,
        parts: Vec::new(),
    })
}

fn other(text: &str) -> Event {
    text_as(text, Kind::Other, Urgency::Normal, Slots::default())
}

fn repair_at(text: &str) -> Event {
    text_as(text, Kind::Repair, Urgency::Normal, at("3", "1101"))
}

fn repair_no_place(text: &str) -> Event {
    text_as(text, Kind::Repair, Urgency::Normal, Slots::default())
}

fn emergency_text(text: &str) -> Event {
    text_as(text, Kind::Repair, Urgency::Emergency, Slots::default())
}

/// A burst pipe in 3栋1101: an emergency that names its place.
fn burst_at_1101() -> Event {
    text_as(
        "3栋1101 水管爆了",
        Kind::Repair,
        Urgency::Emergency,
        at("3", "1101"),
    )
}

fn request() -> Request {
    let mut r = Request::blank(Some(Kind::Repair));
    r.problem = Some("厨房水管漏水".into());
    r.place = Some(Place {
        building: Some("3".into()),
        room: Some("1101".into()),
        floor: None,
        ..Place::default()
    });
    r
}

fn session(state: State) -> Option<Session> {
    Some(Session {
        state,
        last_activity: t0(),
    })
}

struct World {
    on_record: Option<Place>,
    draft: Option<Draft>,
    handoff: Option<HandoffView>,
    resolved: bool,
}

impl World {
    fn none() -> Self {
        World {
            on_record: None,
            draft: None,
            handoff: None,
            resolved: false,
        }
    }

    /// The resident's newest ticket was just marked resolved.
    fn just_resolved() -> Self {
        World {
            resolved: true,
            ..World::none()
        }
    }

    fn ctx(&self) -> Ctx<'static> {
        Ctx {
            idle_timeout: Duration::minutes(30),
            draft_ttl: Duration::days(7),
            handoff_idle_timeout: Duration::minutes(30),
            unit_on_record: self.on_record.clone(),
            draft: self.draft.clone(),
            handoff: self.handoff,
            resolved: self.resolved,
            faq: faq(),
            intents: intents(),
        }
    }
}

fn run(
    start: Option<Session>,
    event: Event,
    world: &World,
    after: Duration,
) -> (Session, Vec<Effect>) {
    let input = Input {
        now: t0() + after,
        event,
    };
    let out = step(start, &input, &world.ctx());
    check_prompts(&out.1);
    out
}

fn go(start: Option<Session>, event: Event) -> (Session, Vec<Effect>) {
    run(start, event, &World::none(), Duration::minutes(1))
}

/// Every template the machine names exists in every locale.
fn check_prompts(fx: &[Effect]) {
    static PROMPTS: OnceLock<Prompts> = OnceLock::new();
    let prompts = PROMPTS.get_or_init(|| Prompts::load(Path::new("prompts")).unwrap());
    let mut msgs: Vec<&Msg> = Vec::new();
    for e in fx {
        match e {
            Effect::Reply(m) => msgs.push(m),
            Effect::CreateTicket { replies, .. } => msgs.extend(replies),
            _ => {}
        }
    }
    for m in msgs {
        match m {
            Msg::Prompt { key, .. } => {
                for locale in Locale::ALL {
                    assert!(
                        prompts.has(locale, &format!("dialogue.{}", key.key())),
                        "{locale} lacks dialogue.{}",
                        key.key()
                    );
                }
            }
            Msg::Faq { id } => assert!(faq().answer(id, Locale::En).is_some()),
        }
    }
}

fn tag(state: &State) -> &'static str {
    match state {
        State::Idle {
            clarified: false,
            emergency: None,
            ..
        } => "idle",
        State::Idle {
            clarified: true,
            emergency: None,
            ..
        } => "idle*",
        State::Idle {
            emergency: Some(_), ..
        } => "idle!",
        State::Collecting {
            awaiting: Awaiting::Problem,
            ..
        } => "problem?",
        State::Collecting {
            awaiting: Awaiting::Place,
            ..
        } => "place?",
        State::Confirming { .. } => "confirm?",
        State::Correcting { .. } => "correct?",
        State::DraftOffered { .. } => "draft?",
        State::EmergencyCheck { .. } => "still?",
    }
}

/// A compact picture of the effects: `menu`, `+R` (a repair ticket), `save`, `clear`, ...
fn sig(fx: &[Effect]) -> String {
    fx.iter()
        .map(|e| match e {
            Effect::Reply(Msg::Prompt { key, .. }) => key.key().to_owned(),
            Effect::Reply(Msg::Faq { id }) => format!("faq:{id}"),
            Effect::CreateTicket { ticket, .. } => format!(
                "+{}{}",
                ticket.kind.letter(),
                if ticket.urgency == Urgency::Emergency {
                    "!"
                } else {
                    ""
                }
            ),
            Effect::RememberUnit(_) => "remember".into(),
            Effect::SaveDraft(_) => "save".into(),
            Effect::ClearDraft => "clear".into(),
            Effect::StartHandoff => "handoff".into(),
            Effect::ForwardToConcierge { .. } => "forward".into(),
            Effect::EndHandoff { .. } => "end".into(),
            Effect::ListStatus => "status".into(),
            Effect::LocateEmergency(_) => "locate".into(),
            Effect::TellEmergency(_) => "tell".into(),
            Effect::TellNewest(_) => "tell_newest".into(),
            Effect::ReopenResolved(_) => "reopen_resolved".into(),
            Effect::CancelNewest => "cancel_newest".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn states() -> Vec<(&'static str, State)> {
    vec![
        (
            "idle",
            State::Idle {
                clarified: false,
                emergency: None,
                placeless: false,
                asked: None,
                waiting: None,
            },
        ),
        (
            "idle*",
            State::Idle {
                clarified: true,
                emergency: None,
                placeless: false,
                asked: None,
                waiting: None,
            },
        ),
        (
            "idle!",
            State::Idle {
                clarified: false,
                emergency: Some(Emergency::Gas),
                placeless: false,
                asked: None,
                waiting: None,
            },
        ),
        (
            "problem?",
            State::Collecting {
                req: Request::blank(Some(Kind::Repair)),
                awaiting: Awaiting::Problem,
                nudged: false,
            },
        ),
        (
            "place?",
            State::Collecting {
                req: Request {
                    place: None,
                    ..request()
                },
                awaiting: Awaiting::Place,
                nudged: false,
            },
        ),
        (
            "confirm?",
            State::Confirming {
                req: request(),
                nudged: false,
            },
        ),
        (
            "correct?",
            State::Correcting {
                req: request(),
                nudged: false,
            },
        ),
        (
            "draft?",
            State::DraftOffered {
                req: request(),
                held: None,
            },
        ),
        (
            "still?",
            State::EmergencyCheck {
                req: request(),
                which: Emergency::Gas,
            },
        ),
    ]
}

fn inputs() -> Vec<(&'static str, Event)> {
    vec![
        ("1", other("1")),
        ("2", other("2")),
        ("3", other("3")),
        ("4", other("4")),
        ("5", other("5")),
        ("yes", other("确认")),
        ("no", other("修改")),
        ("cancel", other("取消")),
        ("status", other("进度")),
        ("human", other("转人工")),
        ("end", other("结束")),
        ("hello", other("你好")),
        ("thanks", other("谢谢")),
        ("repair+place", repair_at("3栋1101 厨房水管漏水")),
        ("repair", repair_no_place("卫生间灯不亮了")),
        (
            "complaint",
            text_as(
                "楼上装修太吵了",
                Kind::Complaint,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        (
            "faq",
            text_as(
                "物业费怎么交",
                Kind::Inquiry,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        (
            "inquiry",
            text_as(
                "小区什么时候开业主大会",
                Kind::Inquiry,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        (
            "suggestion",
            text_as(
                "建议在北门加个快递柜",
                Kind::Suggestion,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        (
            "praise",
            text_as(
                "表扬一下保安小王",
                Kind::Suggestion,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        ("gibberish", other("asdf qwer")),
        ("emergency", emergency_text("电梯停了有人被困")),
        (
            "image",
            Event::Image(Photo {
                url: Some("http://img/1.jpg".into()),
                media_id: None,
            }),
        ),
        (
            "location",
            Event::Location {
                lat: 31.2,
                lng: 121.4,
                label: Some("北门车库".into()),
            },
        ),
        ("subscribe", Event::Subscribe),
        ("click:report_repair", Event::Click("report_repair".into())),
        ("click:my_tickets", Event::Click("my_tickets".into())),
        ("click:human", Event::Click("human".into())),
        ("video", Event::Unsupported),
        ("unsubscribe", Event::Silent),
        // The resident's own words, each class once.
        ("own:yes", other("嗯嗯")),
        ("own:report", other("我要报修")),
        ("own:cancel", other("算了不用了")),
        ("own:human", other("叫个真人来")),
        (
            "own:status",
            text_as(
                "what's happening with my repair?",
                Kind::Repair,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        (
            "correct:room",
            other_at(
                "不对 是1203室",
                Slots {
                    room: Some("1203".into()),
                    ..Slots::default()
                },
            ),
        ),
        ("correct:swap", other("不对，是卫生间不是厨房")),
        ("identity", other("你是机器人吗？")),
        (
            "venting",
            text_as(
                "你们物业太差了！",
                Kind::Complaint,
                Urgency::Normal,
                Slots::default(),
            ),
        ),
        ("done", other("人已经出来了谢谢")),
        ("emoji", other("😊")),
        ("alarm", other("should I call 119?")),
        ("possible", possible_text("厨房有股怪味，可能是煤气")),
        ("still", other("还在漏")),
        ("stopped", other("不漏了")),
        ("false_alarm", other("虚惊一场 是楼下在熏腊肉 已经关火了")),
        ("news", other("消防车到了，我们已经走楼梯下到一楼了")),
    ]
}

fn other_at(text: &str, slots: Slots) -> Event {
    text_as(text, Kind::Other, Urgency::Normal, slots)
}

fn possible_text(text: &str) -> Event {
    let Event::Text(mut t) = text_as(text, Kind::Repair, Urgency::Normal, Slots::default()) else {
        unreachable!()
    };
    t.class.possible_emergency = true;
    // Shown in a hazard word of its own ("好像有点煤气味"); a reading only near an
    // emergency's wording has its own test.
    t.class.evident = true;
    Event::Text(t)
}

/// (state, input) → (next state, effects). Rows are written for every state and every input.
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str, &str)] = &[
    // Idle
    ("idle", "1", "problem?", "ask.problem_repair"),
    ("idle", "2", "problem?", "ask.problem_complaint"),
    ("idle", "3", "idle", "ask.inquiry"),
    ("idle", "4", "idle", "status"),
    ("idle", "5", "idle", "handoff"),
    ("idle", "yes", "idle", "noted"),
    ("idle", "no", "idle*", "clarify"),
    ("idle", "cancel", "idle", "cancel_newest"),
    ("idle", "status", "idle", "status"),
    ("idle", "human", "idle", "handoff"),
    ("idle", "end", "idle", "nothing_pending menu"),
    ("idle", "hello", "idle", "greeting menu"),
    ("idle", "thanks", "idle", "you_are_welcome"),
    ("idle", "repair+place", "confirm?", "remember readback.repair save"),
    ("idle", "repair", "place?", "ask.place save"),
    ("idle", "complaint", "place?", "apology_brief ask.place save"),
    ("idle", "faq", "idle", "faq:property_fee"),
    ("idle", "inquiry", "idle", "+Q"),
    ("idle", "suggestion", "idle", "+S"),
    ("idle", "praise", "idle", "+S"),
    ("idle", "gibberish", "idle*", "clarify"),
    ("idle", "emergency", "idle!", "+R!"),
    ("idle", "image", "problem?", "photo.first save"),
    ("idle", "location", "problem?", "location.first save"),
    ("idle", "subscribe", "idle", "welcome menu"),
    ("idle", "click:report_repair", "problem?", "ask.problem_repair"),
    ("idle", "click:my_tickets", "idle", "status"),
    ("idle", "click:human", "idle", "handoff"),
    ("idle", "video", "idle", "unsupported"),
    ("idle", "unsubscribe", "idle", ""),
    // Idle after the clarifying question: the menu, never the question again
    ("idle*", "1", "problem?", "ask.problem_repair"),
    ("idle*", "2", "problem?", "ask.problem_complaint"),
    ("idle*", "3", "idle", "ask.inquiry"),
    ("idle*", "4", "idle", "status"),
    ("idle*", "5", "idle", "handoff"),
    ("idle*", "yes", "idle", "noted"),
    ("idle*", "no", "idle*", "menu"),
    ("idle*", "cancel", "idle", "cancel_newest"),
    ("idle*", "status", "idle*", "status"),
    ("idle*", "human", "idle", "handoff"),
    ("idle*", "end", "idle", "nothing_pending menu"),
    ("idle*", "hello", "idle", "greeting menu"),
    ("idle*", "thanks", "idle", "you_are_welcome"),
    ("idle*", "repair+place", "confirm?", "remember readback.repair save"),
    ("idle*", "repair", "place?", "ask.place save"),
    ("idle*", "complaint", "place?", "apology_brief ask.place save"),
    ("idle*", "faq", "idle", "faq:property_fee"),
    ("idle*", "inquiry", "idle", "+Q"),
    ("idle*", "suggestion", "idle", "+S"),
    ("idle*", "praise", "idle", "+S"),
    ("idle*", "gibberish", "idle*", "menu"),
    ("idle*", "emergency", "idle!", "+R!"),
    ("idle*", "image", "problem?", "photo.first save"),
    ("idle*", "location", "problem?", "location.first save"),
    ("idle*", "subscribe", "idle", "welcome menu"),
    ("idle*", "click:report_repair", "problem?", "ask.problem_repair"),
    ("idle*", "click:my_tickets", "idle*", "status"),
    ("idle*", "click:human", "idle", "handoff"),
    ("idle*", "video", "idle*", "unsupported"),
    ("idle*", "unsubscribe", "idle*", ""),
    // Waiting for the problem
    ("problem?", "1", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "2", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "3", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "4", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "5", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "yes", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "no", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "cancel", "idle", "clear cancelled"),
    ("problem?", "status", "problem?", "status status_then_back"),
    ("problem?", "human", "idle", "handoff"),
    ("problem?", "end", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "hello", "problem?", "greeting ask.problem_repair"),
    ("problem?", "thanks", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "repair+place", "confirm?", "remember readback.repair save"),
    ("problem?", "repair", "place?", "ask.place save"),
    ("problem?", "complaint", "place?", "ask.place save"),
    ("problem?", "faq", "problem?", "faq:property_fee ask.problem_repair"),
    ("problem?", "inquiry", "place?", "ask.place save"),
    ("problem?", "suggestion", "place?", "ask.place save"),
    ("problem?", "praise", "place?", "ask.place save"),
    ("problem?", "gibberish", "place?", "ask.place save"),
    ("problem?", "emergency", "idle!", "+R! clear"),
    ("problem?", "image", "problem?", "photo.added ask.problem_repair save"),
    ("problem?", "location", "problem?", "ask.problem_repair save"),
    ("problem?", "subscribe", "problem?", "welcome ask.problem_repair"),
    ("problem?", "click:report_repair", "problem?", "ask.problem_repair"),
    ("problem?", "click:my_tickets", "problem?", "status"),
    ("problem?", "click:human", "idle", "handoff"),
    ("problem?", "video", "problem?", "unsupported"),
    ("problem?", "unsubscribe", "problem?", ""),
    // Waiting for the place
    ("place?", "1", "place?", "ask.again ask.place"),
    ("place?", "2", "place?", "ask.again ask.place"),
    ("place?", "3", "place?", "ask.again ask.place"),
    ("place?", "4", "place?", "ask.again ask.place"),
    ("place?", "5", "place?", "ask.again ask.place"),
    ("place?", "yes", "place?", "ask.again ask.place"),
    ("place?", "no", "place?", "ask.again ask.place"),
    ("place?", "cancel", "idle", "clear cancelled"),
    ("place?", "status", "place?", "status status_then_back"),
    ("place?", "human", "idle", "handoff"),
    ("place?", "end", "place?", "ask.again ask.place"),
    ("place?", "hello", "place?", "greeting ask.place"),
    ("place?", "thanks", "place?", "ask.again ask.place"),
    ("place?", "repair+place", "confirm?", "remember readback.repair save"),
    ("place?", "repair", "place?", "ask.place save"),
    ("place?", "complaint", "place?", "ask.place save"),
    ("place?", "faq", "place?", "faq:property_fee ask.place"),
    ("place?", "inquiry", "place?", "ask.place"),
    ("place?", "suggestion", "confirm?", "readback.repair save"),
    ("place?", "praise", "confirm?", "readback.repair save"),
    ("place?", "gibberish", "confirm?", "readback.repair save"),
    ("place?", "emergency", "idle!", "+R! clear"),
    ("place?", "image", "place?", "photo.added ask.place save"),
    ("place?", "location", "confirm?", "readback.repair save"),
    ("place?", "subscribe", "place?", "welcome ask.place"),
    ("place?", "click:report_repair", "problem?", "ask.problem_repair"),
    ("place?", "click:my_tickets", "place?", "status"),
    ("place?", "click:human", "idle", "handoff"),
    ("place?", "video", "place?", "unsupported"),
    ("place?", "unsubscribe", "place?", ""),
    // Read back, waiting for confirmation
    ("confirm?", "1", "idle", "+R clear"),
    ("confirm?", "2", "correct?", "ask.correct"),
    ("confirm?", "3", "confirm?", "confirm.hint"),
    ("confirm?", "4", "confirm?", "confirm.hint"),
    ("confirm?", "5", "confirm?", "confirm.hint"),
    ("confirm?", "yes", "idle", "+R clear"),
    ("confirm?", "no", "correct?", "ask.correct"),
    ("confirm?", "cancel", "idle", "clear cancelled"),
    ("confirm?", "status", "confirm?", "status status_then_back"),
    ("confirm?", "human", "idle", "handoff"),
    ("confirm?", "end", "confirm?", "confirm.hint"),
    ("confirm?", "hello", "confirm?", "greeting confirm.hint"),
    ("confirm?", "thanks", "confirm?", "confirm.hint"),
    ("confirm?", "repair+place", "confirm?", "remember readback.repair"),
    ("confirm?", "repair", "confirm?", "confirm.hint"),
    ("confirm?", "complaint", "confirm?", "confirm.hint"),
    ("confirm?", "faq", "confirm?", "faq:property_fee readback.repair"),
    ("confirm?", "inquiry", "confirm?", "+Q confirm.hint"),
    ("confirm?", "suggestion", "confirm?", "confirm.hint"),
    ("confirm?", "praise", "confirm?", "confirm.hint"),
    ("confirm?", "gibberish", "confirm?", "confirm.hint"),
    ("confirm?", "emergency", "idle!", "+R! clear"),
    ("confirm?", "image", "confirm?", "photo.added readback.repair save"),
    ("confirm?", "location", "confirm?", "readback.repair save"),
    ("confirm?", "subscribe", "confirm?", "welcome readback.repair"),
    ("confirm?", "click:report_repair", "problem?", "ask.problem_repair"),
    ("confirm?", "click:my_tickets", "confirm?", "status"),
    ("confirm?", "click:human", "idle", "handoff"),
    ("confirm?", "video", "confirm?", "unsupported"),
    ("confirm?", "unsubscribe", "confirm?", ""),
    // Asked what to correct
    ("correct?", "1", "problem?", "ask.problem_retell"),
    ("correct?", "2", "place?", "ask.place"),
    ("correct?", "3", "correct?", "ask.correct"),
    ("correct?", "4", "correct?", "ask.correct"),
    ("correct?", "5", "correct?", "ask.correct"),
    ("correct?", "yes", "confirm?", "readback.repair"),
    ("correct?", "no", "correct?", "ask.correct"),
    ("correct?", "cancel", "idle", "clear cancelled"),
    ("correct?", "status", "correct?", "status status_then_back"),
    ("correct?", "human", "idle", "handoff"),
    ("correct?", "end", "correct?", "ask.correct"),
    ("correct?", "hello", "correct?", "greeting ask.correct"),
    ("correct?", "thanks", "correct?", "ask.correct"),
    ("correct?", "repair+place", "confirm?", "remember readback.repair save"),
    ("correct?", "repair", "confirm?", "readback.repair save"),
    ("correct?", "complaint", "confirm?", "readback.repair save"),
    ("correct?", "faq", "correct?", "faq:property_fee ask.correct"),
    ("correct?", "inquiry", "correct?", "ask.correct"),
    ("correct?", "suggestion", "correct?", "ask.correct"),
    ("correct?", "praise", "correct?", "ask.correct"),
    ("correct?", "gibberish", "correct?", "ask.correct"),
    ("correct?", "emergency", "idle!", "+R! clear"),
    ("correct?", "image", "confirm?", "photo.added readback.repair save"),
    ("correct?", "location", "confirm?", "readback.repair save"),
    ("correct?", "subscribe", "correct?", "welcome ask.correct"),
    ("correct?", "click:report_repair", "problem?", "ask.problem_repair"),
    ("correct?", "click:my_tickets", "correct?", "status"),
    ("correct?", "click:human", "idle", "handoff"),
    ("correct?", "video", "correct?", "unsupported"),
    ("correct?", "unsubscribe", "correct?", ""),
    // Reminded of a kept draft
    ("draft?", "1", "confirm?", "readback.repair"),
    ("draft?", "2", "idle", "clear draft.dropped menu"),
    ("draft?", "3", "idle", "ask.inquiry"),
    ("draft?", "4", "idle", "status"),
    ("draft?", "5", "idle", "handoff"),
    ("draft?", "yes", "confirm?", "readback.repair"),
    ("draft?", "no", "idle", "clear draft.dropped menu"),
    ("draft?", "cancel", "idle", "clear draft.dropped menu"),
    ("draft?", "status", "draft?", "status"),
    ("draft?", "human", "idle", "handoff"),
    ("draft?", "end", "idle", "nothing_pending menu"),
    ("draft?", "hello", "idle", "greeting menu"),
    ("draft?", "thanks", "idle", "you_are_welcome"),
    ("draft?", "repair+place", "confirm?", "remember readback.repair save"),
    ("draft?", "repair", "place?", "ask.place save"),
    ("draft?", "complaint", "place?", "apology_brief ask.place save"),
    ("draft?", "faq", "idle", "faq:property_fee"),
    ("draft?", "inquiry", "idle", "+Q"),
    ("draft?", "suggestion", "idle", "+S"),
    ("draft?", "praise", "idle", "+S"),
    ("draft?", "gibberish", "idle*", "clarify"),
    ("draft?", "emergency", "idle!", "+R!"),
    ("draft?", "image", "draft?", "photo.added draft.reminder save"),
    ("draft?", "location", "draft?", "draft.reminder save"),
    ("draft?", "subscribe", "draft?", "welcome draft.reminder"),
    ("draft?", "click:report_repair", "problem?", "ask.problem_repair"),
    ("draft?", "click:my_tickets", "draft?", "status"),
    ("draft?", "click:human", "idle", "handoff"),
    ("draft?", "video", "draft?", "unsupported"),
    ("draft?", "unsubscribe", "draft?", ""),
    // The resident's own words, and the possible-emergency question, in every state
    ("idle", "own:report", "problem?", "ask.problem_repair"),
    ("idle*", "own:report", "problem?", "ask.problem_repair"),
    ("problem?", "own:report", "problem?", "ask.again ask.problem_repair"),
    ("place?", "own:report", "place?", "ask.again ask.place"),
    ("confirm?", "own:report", "confirm?", "confirm.hint"),
    ("correct?", "own:report", "correct?", "ask.correct"),
    ("draft?", "own:report", "problem?", "ask.problem_repair"),
    ("still?", "own:report", "still?", "possible.ask"),
    ("idle", "own:yes", "idle", "noted"),
    ("idle", "own:cancel", "idle", "cancel_newest"),
    ("idle", "own:human", "idle", "handoff"),
    ("idle", "own:status", "idle", "status"),
    ("idle", "correct:room", "idle*", "clarify"),
    ("idle", "correct:swap", "idle*", "clarify"),
    ("idle", "identity", "idle", "identity menu"),
    ("idle", "venting", "problem?", "apology"),
    ("idle", "done", "idle", "ack_done"),
    ("idle", "emoji", "idle", "greeting menu"),
    ("idle", "alarm", "idle!", "+R!"),
    ("idle", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("idle", "still", "idle*", "clarify"),
    ("idle", "stopped", "idle", "ack_done"),
    ("idle*", "own:yes", "idle", "noted"),
    ("idle*", "own:cancel", "idle", "cancel_newest"),
    ("idle*", "own:human", "idle", "handoff"),
    ("idle*", "own:status", "idle*", "status"),
    ("idle*", "correct:room", "idle*", "menu"),
    ("idle*", "correct:swap", "idle*", "menu"),
    ("idle*", "identity", "idle", "identity menu"),
    ("idle*", "venting", "problem?", "apology"),
    ("idle*", "done", "idle", "ack_done"),
    ("idle*", "emoji", "idle", "greeting menu"),
    ("idle*", "alarm", "idle!", "+R!"),
    ("idle*", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("idle*", "still", "idle*", "menu"),
    ("idle*", "stopped", "idle", "ack_done"),
    ("problem?", "own:yes", "problem?", "ask.again ask.problem_repair"),
    ("problem?", "own:cancel", "idle", "clear cancelled"),
    ("problem?", "own:human", "idle", "handoff"),
    ("problem?", "own:status", "problem?", "status status_then_back"),
    ("problem?", "correct:room", "confirm?", "readback.repair save"),
    ("problem?", "correct:swap", "place?", "ask.place save"),
    ("problem?", "identity", "problem?", "identity ask.problem_repair"),
    ("problem?", "venting", "problem?", "apology ask.problem_repair"),
    ("problem?", "done", "idle", "clear ack_done"),
    ("problem?", "emoji", "problem?", "greeting ask.problem_repair"),
    ("problem?", "alarm", "idle!", "+R! clear"),
    ("problem?", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("problem?", "still", "place?", "ask.place save"),
    ("problem?", "stopped", "idle", "clear ack_done"),
    ("place?", "own:yes", "place?", "ask.again ask.place"),
    ("place?", "own:cancel", "idle", "clear cancelled"),
    ("place?", "own:human", "idle", "handoff"),
    ("place?", "own:status", "place?", "status status_then_back"),
    ("place?", "correct:room", "place?", "ask.building save"),
    ("place?", "correct:swap", "confirm?", "readback.repair save"),
    ("place?", "identity", "place?", "identity ask.place"),
    ("place?", "venting", "place?", "apology ask.place"),
    ("place?", "done", "idle", "clear ack_done"),
    ("place?", "emoji", "place?", "greeting ask.place"),
    ("place?", "alarm", "idle!", "+R! clear"),
    ("place?", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("place?", "still", "confirm?", "readback.repair save"),
    ("place?", "stopped", "idle", "clear ack_done"),
    ("confirm?", "own:yes", "idle", "+R clear"),
    ("confirm?", "own:cancel", "idle", "clear cancelled"),
    ("confirm?", "own:human", "idle", "handoff"),
    ("confirm?", "own:status", "confirm?", "status status_then_back"),
    ("confirm?", "correct:room", "confirm?", "remember corrected readback.repair save"),
    ("confirm?", "correct:swap", "confirm?", "corrected readback.repair save"),
    ("confirm?", "identity", "confirm?", "identity confirm.hint"),
    ("confirm?", "venting", "confirm?", "apology confirm.hint"),
    ("confirm?", "done", "idle", "clear ack_done"),
    ("confirm?", "emoji", "confirm?", "greeting confirm.hint"),
    ("confirm?", "alarm", "idle!", "+R! clear"),
    ("confirm?", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("confirm?", "still", "confirm?", "confirm.hint"),
    ("confirm?", "stopped", "idle", "clear ack_done"),
    ("correct?", "own:yes", "confirm?", "readback.repair"),
    ("correct?", "own:cancel", "idle", "clear cancelled"),
    ("correct?", "own:human", "idle", "handoff"),
    ("correct?", "own:status", "correct?", "status status_then_back"),
    ("correct?", "correct:room", "confirm?", "remember corrected readback.repair save"),
    ("correct?", "correct:swap", "confirm?", "corrected readback.repair save"),
    ("correct?", "identity", "correct?", "identity ask.correct"),
    ("correct?", "venting", "correct?", "apology ask.correct"),
    ("correct?", "done", "idle", "clear ack_done"),
    ("correct?", "emoji", "correct?", "greeting ask.correct"),
    ("correct?", "alarm", "idle!", "+R! clear"),
    ("correct?", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("correct?", "still", "correct?", "ask.correct"),
    ("correct?", "stopped", "idle", "clear ack_done"),
    ("draft?", "own:yes", "confirm?", "readback.repair"),
    ("draft?", "own:cancel", "idle", "clear draft.dropped menu"),
    ("draft?", "own:human", "idle", "handoff"),
    ("draft?", "own:status", "draft?", "status"),
    ("draft?", "correct:room", "idle*", "clarify"),
    ("draft?", "correct:swap", "idle*", "clarify"),
    ("draft?", "identity", "idle", "identity menu"),
    ("draft?", "venting", "problem?", "apology"),
    ("draft?", "done", "idle", "ack_done"),
    ("draft?", "emoji", "idle", "greeting menu"),
    ("draft?", "alarm", "idle!", "+R!"),
    ("draft?", "possible", "still?", "emergency.guide.gas emergency.duty possible.ask save"),
    ("draft?", "still", "idle*", "clarify"),
    ("draft?", "stopped", "idle", "ack_done"),
    ("still?", "1", "idle!", "+R! clear"),
    ("still?", "2", "confirm?", "possible.no readback.repair"),
    ("still?", "3", "still?", "possible.ask"),
    ("still?", "4", "still?", "possible.ask"),
    ("still?", "5", "still?", "possible.ask"),
    ("still?", "yes", "idle!", "+R! clear"),
    ("still?", "no", "confirm?", "possible.no readback.repair"),
    ("still?", "cancel", "idle", "clear cancelled"),
    ("still?", "status", "still?", "status status_then_back"),
    ("still?", "human", "idle", "handoff"),
    ("still?", "end", "still?", "possible.ask"),
    ("still?", "hello", "still?", "greeting possible.ask"),
    ("still?", "thanks", "still?", "possible.ask"),
    ("still?", "repair+place", "still?", "remember possible.ask"),
    ("still?", "repair", "still?", "possible.ask"),
    ("still?", "complaint", "still?", "possible.ask"),
    ("still?", "faq", "still?", "faq:property_fee possible.ask"),
    ("still?", "inquiry", "still?", "possible.ask"),
    ("still?", "suggestion", "still?", "possible.ask"),
    ("still?", "praise", "still?", "possible.ask"),
    ("still?", "gibberish", "still?", "possible.ask"),
    ("still?", "emergency", "idle!", "+R! clear"),
    ("still?", "image", "still?", "photo.added possible.ask save"),
    ("still?", "location", "still?", "possible.ask save"),
    ("still?", "subscribe", "still?", "welcome possible.ask"),
    ("still?", "click:report_repair", "problem?", "ask.problem_repair"),
    ("still?", "click:my_tickets", "still?", "status"),
    ("still?", "click:human", "idle", "handoff"),
    ("still?", "video", "still?", "unsupported"),
    ("still?", "unsubscribe", "still?", ""),
    ("still?", "own:yes", "idle!", "+R! clear"),
    ("still?", "own:cancel", "idle", "clear cancelled"),
    ("still?", "own:human", "idle", "handoff"),
    ("still?", "own:status", "still?", "status status_then_back"),
    ("still?", "correct:room", "still?", "remember possible.ask save"),
    ("still?", "correct:swap", "still?", "possible.ask"),
    ("still?", "identity", "still?", "identity possible.ask"),
    ("still?", "venting", "still?", "apology possible.ask"),
    ("still?", "done", "confirm?", "possible.no readback.repair"),
    ("still?", "emoji", "still?", "greeting possible.ask"),
    ("still?", "alarm", "still?", "emergency.guide.gas possible.ask"),
    ("still?", "possible", "idle!", "+R! clear"),
    ("still?", "still", "idle!", "+R! clear"),
    ("still?", "stopped", "confirm?", "possible.no readback.repair"),
    // Just after an emergency was filed: more about the hazard follows it up.
    ("idle!", "1", "problem?", "ask.problem_repair"),
    ("idle!", "2", "problem?", "ask.problem_complaint"),
    ("idle!", "3", "idle", "ask.inquiry"),
    ("idle!", "4", "idle", "status"),
    ("idle!", "5", "idle", "handoff"),
    ("idle!", "yes", "idle!", "tell emergency.noted"),
    ("idle!", "no", "idle*", "clarify"),
    ("idle!", "cancel", "idle", "tell emergency.over"),
    ("idle!", "status", "idle!", "status"),
    ("idle!", "human", "idle", "handoff"),
    ("idle!", "end", "idle", "nothing_pending menu"),
    ("idle!", "hello", "idle", "greeting menu"),
    ("idle!", "thanks", "idle!", "you_are_welcome"),
    ("idle!", "repair+place", "confirm?", "remember readback.repair save"),
    ("idle!", "repair", "idle!", "tell emergency.noted"),
    ("idle!", "complaint", "place?", "apology_brief ask.place save"),
    ("idle!", "faq", "idle", "faq:property_fee"),
    ("idle!", "inquiry", "idle!", "tell emergency.follow_up emergency.guide.gas emergency.duty"),
    ("idle!", "suggestion", "idle", "+S"),
    ("idle!", "praise", "idle", "+S"),
    ("idle!", "gibberish", "idle!", "tell emergency.noted"),
    ("idle!", "emergency", "idle!", "tell emergency.follow_up emergency.guide.gas emergency.duty"),
    ("idle!", "image", "problem?", "photo.first save"),
    ("idle!", "location", "problem?", "location.first save"),
    ("idle!", "subscribe", "idle", "welcome menu"),
    ("idle!", "click:report_repair", "problem?", "ask.problem_repair"),
    ("idle!", "click:my_tickets", "idle!", "status"),
    ("idle!", "click:human", "idle", "handoff"),
    ("idle!", "video", "idle!", "unsupported"),
    ("idle!", "unsubscribe", "idle!", ""),
    ("idle!", "own:yes", "idle!", "tell emergency.noted"),
    ("idle!", "own:report", "problem?", "ask.problem_repair"),
    ("idle!", "own:cancel", "idle", "tell emergency.over"),
    ("idle!", "own:human", "idle", "handoff"),
    ("idle!", "own:status", "idle!", "status"),
    ("idle!", "correct:room", "idle*", "clarify"),
    ("idle!", "correct:swap", "idle*", "clarify"),
    ("idle!", "identity", "idle", "identity menu"),
    ("idle!", "venting", "problem?", "apology"),
    ("idle!", "done", "idle", "tell emergency.over"),
    ("idle!", "emoji", "idle", "greeting menu"),
    ("idle!", "alarm", "idle!", "tell emergency.follow_up emergency.guide.gas emergency.duty"),
    ("idle!", "possible", "idle!", "tell emergency.follow_up emergency.guide.gas emergency.duty"),
    ("idle!", "still", "idle!", "tell emergency.follow_up emergency.guide.gas emergency.duty"),
    ("idle!", "stopped", "idle", "tell emergency.over"),
    // A false alarm explained and news that help came, in every state
    ("idle", "false_alarm", "idle", "noted"),
    ("idle", "news", "idle*", "clarify"),
    ("idle*", "false_alarm", "idle", "noted"),
    ("idle*", "news", "idle*", "menu"),
    ("idle!", "false_alarm", "idle!", "tell emergency.noted"),
    ("idle!", "news", "idle!", "tell emergency.noted"),
    ("problem?", "false_alarm", "idle", "clear ack_done"),
    ("problem?", "news", "place?", "ask.place save"),
    ("place?", "false_alarm", "idle", "clear ack_done"),
    ("place?", "news", "confirm?", "readback.repair save"),
    ("confirm?", "false_alarm", "idle", "clear ack_done"),
    ("confirm?", "news", "confirm?", "confirm.hint"),
    ("correct?", "false_alarm", "correct?", "ask.correct"),
    ("correct?", "news", "correct?", "ask.correct"),
    ("draft?", "false_alarm", "idle", "noted"),
    ("draft?", "news", "idle*", "clarify"),
    ("still?", "false_alarm", "idle", "clear ack_done"),
    ("still?", "news", "still?", "possible.ask"),
];

#[test]
fn every_state_meets_every_input() {
    let states = states();
    let inputs = inputs();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for (state_name, input_name, want_state, want_fx) in TABLE {
        let (_, state) = states
            .iter()
            .find(|(n, _)| n == state_name)
            .expect("state in table");
        let (_, event) = inputs
            .iter()
            .find(|(n, _)| n == input_name)
            .expect("input in table");
        let (next, fx) = go(session(state.clone()), event.clone());
        let got = (tag(&next.state), sig(&fx));
        if got != (*want_state, want_fx.to_string()) {
            failures.push(format!(
                "{state_name} × {input_name}: got {got:?}, want ({want_state:?}, {want_fx:?})"
            ));
        }
        seen.insert((*state_name, *input_name));
    }
    for (s, _) in &states {
        for (i, _) in &inputs {
            if !seen.contains(&(*s, *i)) {
                let (_, state) = states.iter().find(|(n, _)| n == s).expect("state");
                let (_, event) = inputs.iter().find(|(n, _)| n == i).expect("input");
                let (next, fx) = go(session(state.clone()), event.clone());
                failures.push(format!(
                    "no row for {s} × {i}: ({s:?}, {i:?}, {:?}, {:?}),",
                    tag(&next.state),
                    sig(&fx)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn created(fx: &[Effect]) -> &TicketDraft {
    fx.iter()
        .find_map(|e| match e {
            Effect::CreateTicket { ticket, .. } => Some(ticket),
            _ => None,
        })
        .expect("a ticket is filed")
}

fn replies(fx: &[Effect]) -> Vec<String> {
    let mut out = Vec::new();
    for e in fx {
        match e {
            Effect::Reply(Msg::Prompt { key, .. }) => out.push(key.key().to_owned()),
            Effect::CreateTicket { replies, .. } => {
                out.extend(replies.iter().filter_map(|m| match m {
                    Msg::Prompt { key, .. } => Some(key.key().to_owned()),
                    Msg::Faq { .. } => None,
                }));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn a_repair_with_its_place_is_read_back_then_filed() {
    let (s, fx) = go(None, repair_at("3栋1101 厨房水管漏水"));
    assert_eq!(tag(&s.state), "confirm?");
    let Effect::Reply(Msg::Prompt { key, vars }) = &fx[1] else {
        panic!("{fx:?}")
    };
    assert_eq!(key.key(), "readback.repair");
    // The place is read back on its own, not again inside the summary.
    assert!(vars.contains(&("summary", Var::Text("厨房水管漏水".into()))));
    let (s, fx) = go(Some(s), other("对"));
    assert_eq!(tag(&s.state), "idle");
    let t = created(&fx);
    assert_eq!(
        (t.kind, t.department, t.urgency),
        (Kind::Repair, Department::Engineering, Urgency::Normal)
    );
    assert_eq!(
        t.place.as_ref().and_then(|p| p.room.as_deref()),
        Some("1101")
    );
    assert_eq!(replies(&fx), vec!["submitted.repair"]);
    assert!(fx.contains(&Effect::ClearDraft));
}

#[test]
fn the_unit_on_record_is_the_default_place_and_an_unknown_one_is_asked_and_remembered() {
    let world = World {
        on_record: Some(Place {
            building: Some("5".into()),
            room: Some("702".into()),
            floor: None,
            ..Place::default()
        }),
        ..World::none()
    };
    let (s, fx) = run(
        None,
        repair_no_place("卫生间灯不亮了"),
        &world,
        Duration::zero(),
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert!(!fx.iter().any(|e| matches!(e, Effect::RememberUnit(_))));
    assert_eq!(
        s.state
            .request()
            .and_then(|r| r.place.as_ref())
            .and_then(|p| p.building.as_deref()),
        Some("5")
    );

    let (s, _) = go(None, repair_no_place("卫生间灯不亮了"));
    assert_eq!(tag(&s.state), "place?");
    let (s, fx) = go(
        Some(s),
        text_as("2栋1203", Kind::Other, Urgency::Normal, at("2", "1203")),
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::RememberUnit(p) if p.room.as_deref() == Some("1203"))));
}

#[test]
fn a_thumbs_up_opening_a_conversation_is_a_wave_and_after_an_answer_thanks() {
    let (s, fx) = go(None, other("👍"));
    assert_eq!(replies(&fx), vec!["greeting", "menu"]);
    let (_, fx) = go(Some(s), other("👍"));
    assert_eq!(replies(&fx), vec!["you_are_welcome"]);
}

#[test]
fn another_time_for_the_visit_is_told_to_the_ticket_not_filed_anew() {
    let (s, fx) = go(None, other("3点我还在上班啊 能不能改到5点半以后"));
    assert_eq!(tag(&s.state), "idle");
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::TellNewest(t) if t.contains("5点半"))));
    assert!(!fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
    // A repair that happens to name a time is still a repair.
    let (_, fx) = go(None, repair_at("改到明天上午来修吧 厨房水管漏水"));
    assert!(!fx.iter().any(|e| matches!(e, Effect::TellNewest(_))));
}

#[test]
fn an_unsure_hazard_is_asked_about_whatever_its_other_needs() {
    let with_parts = |unsure: bool| {
        let Event::Text(mut t) =
            possible_text("請問一下,樓梯間好像有聞到一點瓦斯味,不知道是不是我鼻子有問題")
        else {
            unreachable!()
        };
        t.class.unsure = unsure;
        let Event::Text(part) = emergency_text("樓梯間有瓦斯味") else {
            unreachable!()
        };
        t.parts = vec![part.clone(), part];
        Event::Text(t)
    };
    let (s, _) = go(None, with_parts(true));
    assert_eq!(tag(&s.state), "still?");
    // Sure of it, one need alone an emergency: filed at once.
    let (s, _) = go(None, with_parts(false));
    assert_eq!(tag(&s.state), "idle!");
}

#[test]
fn gone_but_wanted_seen_to_is_a_repair_not_a_false_alarm() {
    let check = || Session {
        state: State::EmergencyCheck {
            req: request(),
            which: Emergency::Gas,
        },
        last_activity: Utc::now(),
    };
    let (s, fx) = go(
        Some(check()),
        other("沒有了 味道都散了 不過還是麻煩派人來檢查一下瓦斯管比較安心"),
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert!(replies(&fx).contains(&"possible.no".to_owned()));
    // Gone, and nothing asked for: acknowledged, nothing filed.
    let (s, _) = go(
        Some(check()),
        other("冇事冇事，原來係樓下有人燒衣，啲味散咗喇"),
    );
    assert_eq!(tag(&s.state), "idle");
}

#[test]
fn gone_with_the_address_told_in_the_same_breath_keeps_it() {
    let mut req = request();
    req.place = None;
    let check = Session {
        state: State::EmergencyCheck {
            req,
            which: Emergency::Gas,
        },
        last_activity: Utc::now(),
    };
    let (s, fx) = go(
        Some(check),
        other_at(
            "没有了 现在闻不到 不过还是想让人来查一下 14栋1502",
            at("14", "1502"),
        ),
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert!(replies(&fx).contains(&"possible.no".to_owned()));
    let State::Confirming { req, .. } = &s.state else {
        panic!("read back");
    };
    assert_eq!(
        req.place.as_ref().and_then(|p| p.room.as_deref()),
        Some("1502")
    );
}

#[test]
fn an_emergency_over_with_a_new_trouble_after_the_turn_starts_that_request() {
    let (s, _) = go(None, emergency_text("頭先廁所條喉爆咗 噴到成地都係水"));
    let (s, fx) = go(
        Some(s),
        text_as(
            "冇再漏喇 不過依家成間屋冇水用",
            Kind::Repair,
            Urgency::Urgent,
            Slots::default(),
        ),
    );
    let got = replies(&fx);
    assert_eq!(got.first().map(String::as_str), Some("emergency.over"));
    assert!(got.contains(&"ask.place".to_owned()), "{got:?}");
    assert_eq!(tag(&s.state), "place?");
    // Over, and no new trouble after the turn: the end of it.
    let (s, _) = go(None, emergency_text("頭先廁所條喉爆咗 噴到成地都係水"));
    let (s, fx) = go(
        Some(s),
        text_as(
            "冇再漏喇 不過都係想你哋知",
            Kind::Other,
            Urgency::Normal,
            Slots::default(),
        ),
    );
    assert_eq!(sig(&fx), "tell emergency.over");
    assert_eq!(tag(&s.state), "idle");
}

#[test]
fn news_of_help_with_a_new_trouble_after_the_turn_starts_that_request() {
    let (s, _) = go(
        None,
        emergency_text("快啲嚟人呀!我阿媽喺會所泳池邊跣親,撞到個頭流緊血"),
    );
    let (s, fx) = go(
        Some(s),
        text_as(
            "白車嚟咗,佢而家清醒。不過泳池邊啲地磚好滑,你哋真係要處理吓",
            Kind::Complaint,
            Urgency::Normal,
            Slots::default(),
        ),
    );
    let got = replies(&fx);
    assert_eq!(got.first().map(String::as_str), Some("emergency.noted"));
    assert_ne!(tag(&s.state), "idle!", "{got:?}");
    // News alone stays news.
    let (s, _) = go(
        None,
        emergency_text("快啲嚟人呀!我阿媽喺會所泳池邊跣親,撞到個頭流緊血"),
    );
    let (s, fx) = go(
        Some(s),
        text_as("白車嚟咗", Kind::Other, Urgency::Normal, Slots::default()),
    );
    assert_eq!(sig(&fx), "tell emergency.noted");
    assert_eq!(tag(&s.state), "idle!");
}

#[test]
fn a_home_told_with_a_greeting_is_kept() {
    let mut hello = class(Kind::Other, Urgency::Normal, at("9", "1503"));
    hello.confidence = 0.9;
    let (s, fx) = go(
        None,
        classed(
            "Hi!! We just moved into 9-2-1503 last week 😊 nice to meet you",
            hello,
        ),
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::RememberUnit(p) if p.room.as_deref() == Some("1503"))),
        "{}",
        sig(&fx)
    );
    assert_ne!(tag(&s.state), "place?");
}

#[test]
fn a_question_before_the_yes_is_answered_and_the_request_still_waits() {
    let (s, _) = go(
        None,
        text_as(
            "AC in my home office has died. Tower 3, apt 2201",
            Kind::Repair,
            Urgency::Normal,
            at("3", "2201"),
        ),
    );
    assert_eq!(tag(&s.state), "confirm?");
    let (s, fx) = go(
        Some(s),
        text_as(
            "hold on before I confirm - do I have to pay for this? it's the developer's AC",
            Kind::Inquiry,
            Urgency::Normal,
            Slots::default(),
        ),
    );
    assert_eq!(sig(&fx), "+Q confirm.hint");
    assert_eq!(tag(&s.state), "confirm?");
    let (_, fx) = go(Some(s), other("yes please send someone"));
    assert!(sig(&fx).contains("+R"), "{}", sig(&fx));
}

#[test]
fn a_reading_only_near_an_emergency_is_asked_of_a_new_message_alone() {
    let near = |text: &str, slots: Slots| {
        let mut c = class(Kind::Repair, Urgency::Normal, slots);
        c.possible_emergency = true;
        classed(text, c)
    };
    let (s, _) = go(None, near("卫生间天花板一直滴水", at("4", "602")));
    assert_eq!(tag(&s.state), "still?");
    // An answer to our question is an answer.
    let (s, _) = go(
        None,
        text_as(
            "前台那个人态度特别差",
            Kind::Complaint,
            Urgency::Normal,
            Slots::default(),
        ),
    );
    let (s, fx) = go(
        Some(s),
        near("他住5栋702 我是他儿子 有事打我电话就行", at("5", "702")),
    );
    assert_ne!(tag(&s.state), "still?", "{}", sig(&fx));
    // A status question is one.
    let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
    let (s, _) = go(Some(s), other("对"));
    let (_, fx) = go(
        Some(s),
        near("现在什么情况了 那根线还搭在那呢", Slots::default()),
    );
    assert_eq!(sig(&fx), "status");
}

#[test]
fn thanks_that_ask_nothing_close_and_an_unsure_repair_asked_is_a_question() {
    let (s, fx) = go(
        None,
        text_as(
            "好啦 我問下業主先 唔該",
            Kind::Inquiry,
            Urgency::Normal,
            Slots::default(),
        ),
    );
    assert_eq!(tag(&s.state), "idle");
    assert_eq!(sig(&fx), "you_are_welcome");
    let mut unsure = class(Kind::Repair, Urgency::Normal, Slots::default());
    unsure.confidence = 0.48;
    let (_, fx) = go(None, classed("and the water shut-off?", unsure.clone()));
    assert!(!sig(&fx).contains("readback"), "{}", sig(&fx));
    assert!(!sig(&fx).contains("ask.place"), "{}", sig(&fx));
    // Sure of the repair, the question is a repair still.
    unsure.confidence = 0.9;
    let (_, fx) = go(None, classed("the hallway light is out again?", unsure));
    assert!(sig(&fx).contains("ask.place"), "{}", sig(&fx));
}

#[test]
fn a_complaint_about_the_service_itself_is_not_asked_where() {
    let mut c = class(Kind::Complaint, Urgency::Normal, Slots::default());
    c.category = Category::Services;
    let event = Event::Text(TextInput {
        text: "你们值班电话一个钟头都没人接".into(),
        simplified: "你们值班电话一个钟头都没人接".into(),
        class: c,
        parts: Vec::new(),
    });
    let (s, fx) = go(None, event);
    assert_eq!(tag(&s.state), "confirm?");
    assert_eq!(replies(&fx), vec!["apology_brief", "readback.complaint"]);
}

#[test]
fn a_free_description_is_a_place_but_not_a_home_to_remember() {
    let (s, fx) = go(
        None,
        text_as(
            "北门垃圾三天没人清",
            Kind::Complaint,
            Urgency::Normal,
            Slots::default(),
        ),
    );
    // A complaint is apologised for first, once.
    assert_eq!(replies(&fx), vec!["apology_brief", "ask.place"]);
    let (s, fx) = go(Some(s), other("北门垃圾站"));
    assert_eq!(tag(&s.state), "confirm?");
    assert!(!fx.iter().any(|e| matches!(e, Effect::RememberUnit(_))));
    assert_eq!(replies(&fx), vec!["readback.complaint"]);
    let (_, fx) = go(Some(s), other("1"));
    let t = created(&fx);
    assert_eq!(t.kind, Kind::Complaint);
    assert_eq!(
        t.place.as_ref().and_then(|p| p.label.as_deref()),
        Some("北门垃圾站")
    );
    assert_eq!(replies(&fx), vec!["submitted.complaint"]);
}

#[test]
fn correcting_the_place_then_the_problem_reads_back_again() {
    let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
    let (s, _) = go(Some(s), other("2"));
    let (s, fx) = go(Some(s), other("2"));
    assert_eq!(
        (tag(&s.state), replies(&fx)),
        ("place?", vec!["ask.place".to_string()])
    );
    let (s, fx) = go(
        Some(s),
        text_as("3栋1102", Kind::Other, Urgency::Normal, at("3", "1102")),
    );
    assert_eq!(
        (tag(&s.state), replies(&fx)),
        ("confirm?", vec!["readback.repair".to_string()])
    );
    let (s, _) = go(Some(s), other("no"));
    let (s, _) = go(Some(s), other("1"));
    let (s, _) = go(Some(s), repair_no_place("是卫生间水管漏水"));
    assert_eq!(tag(&s.state), "confirm?");
    let (_, fx) = go(Some(s), other("ok"));
    let t = created(&fx);
    assert_eq!(t.summary, "是卫生间水管漏水");
    assert_eq!(
        t.place.as_ref().and_then(|p| p.room.as_deref()),
        Some("1102")
    );
}

#[test]
fn a_correction_can_be_said_directly() {
    let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
    let (s, _) = go(Some(s), other("修改"));
    let (s, fx) = go(
        Some(s),
        text_as(
            "是1102不是1101",
            Kind::Other,
            Urgency::Normal,
            at("3", "1102"),
        ),
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert_eq!(replies(&fx), vec!["corrected", "readback.repair"]);
    assert_eq!(
        s.state
            .request()
            .and_then(|r| r.place.as_ref())
            .and_then(|p| p.room.as_deref()),
        Some("1102")
    );
}

#[test]
fn cancel_drops_the_request_everywhere() {
    for word in ["取消", "cancel", "算了"] {
        let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
        let (s, fx) = go(Some(s), other(word));
        assert_eq!(tag(&s.state), "idle");
        assert_eq!(sig(&fx), "clear cancelled");
    }
}

#[test]
fn unclear_input_gets_one_question_then_the_menu_never_a_loop() {
    let (s, fx) = go(None, other("呃呃呃呃"));
    assert_eq!(replies(&fx), vec!["clarify"]);
    let (s, fx) = go(Some(s), other("啊啊啊"));
    assert_eq!(replies(&fx), vec!["menu"]);
    let (s, fx) = go(Some(s), other("哦哦"));
    assert_eq!(replies(&fx), vec!["menu"]);
    let (s, _) = go(Some(s), other("你好"));
    let (_, fx) = go(Some(s), other("哈哈哈"));
    assert_eq!(
        replies(&fx),
        vec!["clarify"],
        "understood input starts afresh"
    );
}

#[test]
fn non_answers_while_collecting_get_one_nudge_then_the_request_is_kept() {
    let (s, _) = go(None, Event::Click("report_repair".into()));
    let (s, fx) = go(Some(s), other("好"));
    assert_eq!(replies(&fx), vec!["ask.again", "ask.problem_repair"]);
    let (s, fx) = go(Some(s), other("好"));
    assert_eq!(tag(&s.state), "idle*");
    assert_eq!(replies(&fx), vec!["kept_for_later", "menu"]);
    assert!(!fx.contains(&Effect::ClearDraft));
}

#[test]
fn after_the_hint_more_words_are_more_detail() {
    let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
    let (s, fx) = go(Some(s), other("水已经流到客厅了"));
    assert_eq!(replies(&fx), vec!["confirm.hint"]);
    let (s, fx) = go(Some(s), other("水已经流到客厅了"));
    assert_eq!(replies(&fx), vec!["detail_added", "readback.repair"]);
    let (_, fx) = go(Some(s), other("1"));
    assert!(created(&fx).description.contains("水已经流到客厅了"));
}

#[test]
fn phone_and_time_join_the_request_and_the_read_back() {
    let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
    let slots = Slots {
        phone: Some("13812345678".into()),
        time: Some("明天下午".into()),
        ..Slots::default()
    };
    let (s, fx) = go(
        Some(s),
        text_as(
            "明天下午在家 13812345678",
            Kind::Other,
            Urgency::Normal,
            slots,
        ),
    );
    let Effect::Reply(Msg::Prompt { vars, .. }) = &fx[0] else {
        panic!()
    };
    assert!(vars.contains(&(
        "details",
        Var::Details {
            photos: 0,
            phone: Some("13812345678".into()),
            time: Some("明天下午".into())
        }
    )));
    let (_, fx) = go(Some(s), other("y"));
    let t = created(&fx);
    assert_eq!(
        (t.phone.as_deref(), t.preferred_time.as_deref()),
        (Some("13812345678"), Some("明天下午"))
    );
}

#[test]
fn a_photo_first_then_words_makes_one_request_with_the_photo() {
    let (s, _) = go(
        None,
        Event::Image(Photo {
            url: Some("u".into()),
            media_id: Some("m".into()),
        }),
    );
    let (s, _) = go(
        Some(s),
        text_as("楼道灯坏了", Kind::Repair, Urgency::Normal, at("1", "101")),
    );
    let (s, _) = go(
        Some(s),
        Event::Image(Photo {
            url: Some("u2".into()),
            media_id: None,
        }),
    );
    let (_, fx) = go(Some(s), other("确认"));
    let t = created(&fx);
    assert_eq!(t.photos.len(), 2);
    assert_eq!(t.kind, Kind::Repair);
}

#[test]
fn a_complaint_started_from_a_photo_stays_a_complaint() {
    let (s, _) = go(
        None,
        Event::Image(Photo {
            url: None,
            media_id: Some("m".into()),
        }),
    );
    let (s, _) = go(
        Some(s),
        text_as(
            "垃圾桶满了没人清",
            Kind::Complaint,
            Urgency::Normal,
            at("2", "101"),
        ),
    );
    assert_eq!(
        s.state.request().and_then(|r| r.kind),
        Some(Kind::Complaint)
    );
}

#[test]
fn a_location_fills_the_place() {
    let (s, _) = go(None, repair_no_place("路灯不亮"));
    let (s, fx) = go(
        Some(s),
        Event::Location {
            lat: 31.2,
            lng: 121.4,
            label: None,
        },
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert_eq!(sig(&fx), "readback.repair save");
    let label = s
        .state
        .request()
        .and_then(|r| r.place.as_ref())
        .and_then(|p| p.label.clone());
    assert_eq!(label.as_deref(), Some("31.20000,121.40000"));
}

#[test]
fn emergencies_are_filed_at_once_with_guidance_for_what_happened() {
    let cases = [
        ("电梯停了有人被困", "emergency.guide.lift"),
        ("厨房有很浓的煤气味", "emergency.guide.gas"),
        ("楼道着火了", "emergency.guide.fire"),
        ("水管爆了水漫出来了", "emergency.guide.flood"),
        ("整栋楼停电了", "emergency.guide.power"),
        ("有老人摔倒受伤了", "emergency.guide.injury"),
    ];
    for (text, guide) in cases {
        let (s, fx) = go(None, emergency_text(text));
        assert_eq!(tag(&s.state), "idle!");
        let t = created(&fx);
        assert_eq!(t.urgency, Urgency::Emergency);
        assert_eq!(
            replies(&fx),
            vec![
                "emergency.submitted",
                guide,
                "emergency.place_unknown",
                "emergency.duty"
            ],
            "{text}"
        );
    }
}

#[test]
fn an_emergency_uses_the_place_it_names_or_the_unit_on_record() {
    let world = World {
        on_record: Some(Place {
            building: Some("5".into()),
            room: Some("702".into()),
            floor: None,
            ..Place::default()
        }),
        ..World::none()
    };
    let (_, fx) = run(
        None,
        emergency_text("家里水管爆了"),
        &world,
        Duration::zero(),
    );
    assert_eq!(
        created(&fx).place.as_ref().and_then(|p| p.room.as_deref()),
        Some("702")
    );
    assert!(replies(&fx).contains(&"emergency.place_known".to_string()));
    let (_, fx) = run(None, burst_at_1101(), &world, Duration::zero());
    assert_eq!(
        created(&fx).place.as_ref().and_then(|p| p.room.as_deref()),
        Some("1101")
    );
}

#[test]
fn a_place_told_after_an_emergency_filed_without_one_goes_on_that_ticket() {
    let (s, fx) = go(
        None,
        emergency_text("My mum is stuck in the lift right now!"),
    );
    assert!(replies(&fx).contains(&"emergency.place_unknown".to_string()));
    assert!(matches!(
        s.state,
        State::Idle {
            placeless: true,
            ..
        }
    ));
    // A place on its own, or with a few words around it, locates the filed emergency.
    for (said, slots) in [
        ("3栋1101", at("3", "1101")),
        (
            "Block 2, the left-hand lift in the lobby",
            Slots {
                building: Some("2".into()),
                spot: Some("lobby".into()),
                ..Slots::default()
            },
        ),
    ] {
        let kinds = [Kind::Other, Kind::Repair];
        for kind in kinds {
            let (next, fx) = go(
                Some(s.clone()),
                text_as(said, kind, Urgency::Normal, slots.clone()),
            );
            assert_eq!(tag(&next.state), "idle!", "{said}");
            assert!(matches!(
                next.state,
                State::Idle {
                    placeless: false,
                    ..
                }
            ));
            assert!(
                fx.iter().any(|e| matches!(e, Effect::LocateEmergency(_))),
                "{said}: {}",
                sig(&fx)
            );
            assert!(!fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
        }
    }
    // Once placed, another place is a new matter, not a move of the duty team.
    let (placed, _) = go(Some(s), other_at("3栋1101", at("3", "1101")));
    let (_, fx) = go(Some(placed), repair_at("3栋1101 厨房水管漏水"));
    assert!(!fx.iter().any(|e| matches!(e, Effect::LocateEmergency(_))));
    // An emergency filed with its place is not re-placed by the next address.
    let (s, _) = go(None, burst_at_1101());
    assert!(matches!(
        s.state,
        State::Idle {
            placeless: false,
            ..
        }
    ));
}

#[test]
fn cancel_with_nothing_pending_withdraws_the_newest_request_but_never_an_emergency() {
    let (s, _) = go(None, repair_at("3栋1101 厨房水管漏水"));
    let (s, fx) = go(Some(s), other("对"));
    assert!(fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
    for word in ["取消", "cancel", "算了"] {
        let (next, fx) = go(Some(s.clone()), other(word));
        assert_eq!(sig(&fx), "cancel_newest", "{word}");
        assert_eq!(tag(&next.state), "idle");
    }
    // Just after an emergency, "cancel" is word that it is over: the duty team still
    // comes, nothing is withdrawn.
    let (s, _) = go(None, emergency_text("厨房好大煤气味"));
    let (_, fx) = go(Some(s), other("取消吧，是油漆味"));
    assert_eq!(sig(&fx), "tell emergency.over");
}

#[test]
fn an_emergency_while_filling_a_request_absorbs_it() {
    let (s, _) = go(
        None,
        Event::Image(Photo {
            url: Some("u".into()),
            media_id: None,
        }),
    );
    let (s, fx) = go(Some(s), emergency_text("电梯里有人被困"));
    assert_eq!(tag(&s.state), "idle!");
    assert_eq!(created(&fx).photos.len(), 1);
    assert!(fx.contains(&Effect::ClearDraft));
}

#[test]
fn idle_timeout_keeps_the_request_and_reminds_the_resident() {
    let (s, fx) = go(None, repair_no_place("卫生间灯不亮了"));
    let Some(Effect::SaveDraft(req)) = fx
        .iter()
        .find(|e| matches!(e, Effect::SaveDraft(_)))
        .cloned()
    else {
        panic!("the request is kept as a draft: {fx:?}")
    };
    let world = World {
        draft: Some(Draft {
            req,
            updated_at: s.last_activity,
        }),
        ..World::none()
    };
    // Within the timeout the session goes on.
    let (s2, _) = run(
        Some(s.clone()),
        other("3号楼大堂"),
        &world,
        Duration::minutes(29),
    );
    assert_eq!(tag(&s2.state), "confirm?");
    // After it, the draft is offered back.
    let (s3, fx) = run(
        Some(s.clone()),
        other("你好"),
        &world,
        Duration::minutes(31),
    );
    assert_eq!(tag(&s3.state), "draft?");
    assert_eq!(replies(&fx), vec!["draft.reminder"]);
    let (s4, fx) = run(Some(s3.clone()), other("1"), &world, Duration::minutes(32));
    assert_eq!(
        (tag(&s4.state), replies(&fx)),
        ("place?", vec!["ask.place".to_string()])
    );
    let (s5, fx) = run(Some(s3), other("2"), &world, Duration::minutes(32));
    assert_eq!(tag(&s5.state), "idle");
    assert_eq!(sig(&fx), "clear draft.dropped menu");
    // Without any session at all (Redis lost it) the draft is still offered.
    let (s6, _) = run(None, other("在吗"), &world, Duration::days(2));
    assert_eq!(tag(&s6.state), "draft?");
    // A draft older than its time to live is not.
    let (s7, _) = run(None, other("在吗"), &world, Duration::days(8));
    assert_eq!(tag(&s7.state), "idle");
}

#[test]
fn a_new_request_held_behind_the_reminder_is_handled_when_the_draft_is_dropped() {
    let world = World {
        draft: Some(Draft {
            req: request(),
            updated_at: t0(),
        }),
        ..World::none()
    };
    let (s, fx) = run(
        None,
        repair_at("3栋1101 门锁坏了"),
        &world,
        Duration::hours(1),
    );
    assert_eq!(
        (tag(&s.state), replies(&fx)),
        ("draft?", vec!["draft.reminder".to_string()])
    );
    let (s, fx) = run(Some(s), other("放弃"), &world, Duration::hours(1));
    assert_eq!(tag(&s.state), "confirm?");
    assert_eq!(
        sig(&fx),
        "clear draft.dropped remember readback.repair save"
    );
    assert_eq!(
        s.state.request().and_then(|r| r.problem.as_deref()),
        Some("3栋1101 门锁坏了")
    );
}

#[test]
fn pressing_messages_are_not_held_behind_a_draft_reminder() {
    let world = World {
        draft: Some(Draft {
            req: request(),
            updated_at: t0(),
        }),
        ..World::none()
    };
    let (_, fx) = run(None, emergency_text("着火了"), &world, Duration::hours(1));
    assert_eq!(created(&fx).urgency, Urgency::Emergency);
    let (_, fx) = run(None, other("进度"), &world, Duration::hours(1));
    assert_eq!(sig(&fx), "status");
    let (_, fx) = run(None, other("人工"), &world, Duration::hours(1));
    assert_eq!(sig(&fx), "handoff");
}

#[test]
fn during_a_handoff_messages_go_to_the_concierge_until_end_or_idle() {
    let h = HandoffView {
        id: Uuid::nil(),
        last_activity_at: t0(),
    };
    let world = World {
        handoff: Some(h),
        ..World::none()
    };
    let start = session(State::idle());
    let (_, fx) = run(
        start.clone(),
        repair_at("3栋1101 厨房水管漏水"),
        &world,
        Duration::minutes(5),
    );
    assert_eq!(sig(&fx), "forward");
    let (_, fx) = run(
        start.clone(),
        Event::Image(Photo {
            url: None,
            media_id: None,
        }),
        &world,
        Duration::minutes(5),
    );
    assert_eq!(sig(&fx), "forward");
    let (_, fx) = run(start.clone(), Event::Silent, &world, Duration::minutes(5));
    assert_eq!(sig(&fx), "");
    let (_, fx) = run(start.clone(), other("人工"), &world, Duration::minutes(5));
    assert_eq!(sig(&fx), "handoff");
    let (s, fx) = run(start.clone(), other("结束"), &world, Duration::minutes(5));
    assert_eq!(
        (tag(&s.state), sig(&fx).as_str()),
        ("idle", "end handoff.ended menu")
    );
    let (_, fx) = run(
        start.clone(),
        emergency_text("着火了"),
        &world,
        Duration::minutes(5),
    );
    assert_eq!(sig(&fx), "forward +R!");
    // After the handoff's idle timeout the bot answers again.
    let (_, fx) = run(start, other("你好"), &world, Duration::minutes(31));
    assert_eq!(sig(&fx), "end greeting menu");
}

#[test]
fn the_bot_keeps_its_place_in_a_request_across_a_handoff() {
    let h = HandoffView {
        id: Uuid::nil(),
        last_activity_at: t0(),
    };
    let world = World {
        handoff: Some(h),
        ..World::none()
    };
    let start = session(State::Confirming {
        req: request(),
        nudged: false,
    });
    let (s, _) = run(start, other("请问什么时候来"), &world, Duration::minutes(5));
    assert_eq!(tag(&s.state), "confirm?");
}

#[test]
fn subscribing_with_a_kept_draft_welcomes_and_reminds() {
    let world = World {
        draft: Some(Draft {
            req: request(),
            updated_at: t0(),
        }),
        ..World::none()
    };
    let (s, fx) = run(None, Event::Subscribe, &world, Duration::hours(1));
    assert_eq!(
        (tag(&s.state), sig(&fx).as_str()),
        ("draft?", "welcome draft.reminder")
    );
}

#[test]
fn traditional_and_english_steering_words_work_like_simplified() {
    for word in ["確認", "對", "yes", "OK", "y", "好"] {
        let (_, fx) = go(
            session(State::Confirming {
                req: request(),
                nudged: false,
            }),
            other(word),
        );
        assert_eq!(created(&fx).kind, Kind::Repair, "{word}");
    }
    for word in ["我的工單", "status", "進度"] {
        let (_, fx) = go(session(State::idle()), other(word));
        assert_eq!(sig(&fx), "status", "{word}");
    }
    for word in ["轉人工", "human", "人工"] {
        let (_, fx) = go(session(State::idle()), other(word));
        assert_eq!(sig(&fx), "handoff", "{word}");
    }
}

#[test]
fn summaries_are_one_short_line() {
    assert_eq!(summarise("  厨房漏水\n还有卫生间"), "厨房漏水");
    let long = "水".repeat(60);
    assert_eq!(summarise(&long).chars().count(), 41);
}

#[test]
fn only_a_live_unfinished_request_is_pending() {
    let idle = chrono::Duration::minutes(30);
    let confirming = session(State::Confirming {
        req: request(),
        nudged: false,
    });
    assert!(is_pending(confirming.as_ref(), t0(), idle));
    assert!(!is_pending(
        confirming.as_ref(),
        t0() + chrono::Duration::minutes(31),
        idle
    ));
    assert!(!is_pending(
        session(State::Idle {
            clarified: true,
            emergency: None,
            placeless: false,
            asked: None,
            waiting: None,
        })
        .as_ref(),
        t0(),
        idle
    ));
    assert!(!is_pending(None, t0(), idle));
}

#[test]
fn an_opening_address_is_left_out_of_the_summary() {
    let room = |r: &str| Place {
        building: Some("3".into()),
        room: Some(r.into()),
        ..Place::default()
    };
    let building_only = Place {
        building: Some("3".into()),
        ..Place::default()
    };
    let cases: [(&str, Option<Place>, &str); 9] = [
        (
            "3栋2单元1101 厨房水管漏水",
            Some(room("1101")),
            "厨房水管漏水",
        ),
        ("我家3栋1101室的马桶堵了", Some(room("1101")), "马桶堵了"),
        (
            "Block 3 Flat 1203, kitchen sink leaking",
            Some(room("1203")),
            "kitchen sink leaking",
        ),
        ("3栋电梯坏了", Some(building_only.clone()), "电梯坏了"),
        // Kept as written: the place comes later, or nothing follows it, or no place.
        (
            "厨房漏水，在3栋1101",
            Some(room("1101")),
            "厨房漏水，在3栋1101",
        ),
        ("3栋2单元1101", Some(room("1101")), "3栋2单元1101"),
        (
            "楼上3栋1101天天装修",
            Some(room("1101")),
            "楼上3栋1101天天装修",
        ),
        ("电梯坏了", Some(building_only), "电梯坏了"),
        ("3栋1101 水管漏水", None, "3栋1101 水管漏水"),
    ];
    for (text, place, want) in cases {
        assert_eq!(
            without_leading_address(text, place.as_ref()),
            want,
            "{text}"
        );
    }
}

#[test]
fn an_address_alone_asks_what_is_wrong() {
    let (s, fx) = go(None, repair_at("3栋1101"));
    assert_eq!(tag(&s.state), "problem?");
    assert_eq!(replies(&fx), vec!["place_first"]);
    let (s, fx) = go(Some(s), repair_no_place("厨房水龙头一直滴水"));
    assert_eq!(tag(&s.state), "confirm?");
    assert_eq!(replies(&fx), vec!["readback.repair"]);
}

#[test]
fn a_room_of_the_home_is_corrected_in_words() {
    for fix in ["不对，是卫生间", "不對，是衛生間", "no, it's the bathroom"] {
        let start = session(State::Confirming {
            req: request(),
            nudged: false,
        });
        let (s, fx) = go(start, other(fix));
        assert_eq!(tag(&s.state), "confirm?", "{fix}");
        assert_eq!(replies(&fx), vec!["corrected", "readback.repair"], "{fix}");
        let problem = s.state.request().and_then(|r| r.problem.clone());
        let problem = problem.unwrap_or_default();
        assert!(!problem.contains("厨房"), "{fix}: {problem}");
        // The place is untouched.
        assert_eq!(
            s.state
                .request()
                .and_then(|r| r.place.as_ref())
                .and_then(|p| p.room.as_deref()),
            Some("1101")
        );
    }
}

#[test]
fn a_traditional_request_is_corrected_in_traditional() {
    let mut req = request();
    req.problem = Some("廚房水管漏水".into());
    let start = session(State::Confirming { req, nudged: false });
    let (s, _) = go(start, other("不對，是衛生間"));
    let problem = s.state.request().and_then(|r| r.problem.clone());
    assert_eq!(problem.as_deref(), Some("衛生間水管漏水"));
}

#[test]
fn a_repair_that_did_not_hold_reopens_the_resolved_ticket_in_three_scripts() {
    let resolved = World::just_resolved();
    for said in [
        "灯是换了 今天晚上又不亮了 你们师傅是不是没修好",
        "話修好咗?明明仲係滴緊水!你哋有冇上嚟睇過㗎?",
        "the tap is leaking again, the repair didn't hold",
    ] {
        let (s, fx) = run(None, repair_no_place(said), &resolved, Duration::zero());
        assert_eq!(tag(&s.state), "idle", "{said}");
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::ReopenResolved(t) if t == said)),
            "{said}: {fx:?}"
        );
        // With nothing resolved it is a new request, asked where.
        let (s, fx) = go(None, repair_no_place(said));
        assert_eq!(tag(&s.state), "place?", "{said}");
        assert!(!fx.iter().any(|e| matches!(e, Effect::ReopenResolved(_))));
    }
    // Thanks for a job done is no complaint that it failed.
    let (_, fx) = run(None, other("修好了 谢谢师傅"), &resolved, Duration::zero());
    assert!(!fx.iter().any(|e| matches!(e, Effect::ReopenResolved(_))));
}

#[test]
fn a_flat_alone_for_a_home_is_asked_its_building_once() {
    let (s, _) = go(None, repair_no_place("我屋企由今朝開始冇水,洗面都冇得洗"));
    assert_eq!(tag(&s.state), "place?");
    let room = Slots {
        room: Some("1208".into()),
        ..Slots::default()
    };
    let (s, fx) = go(Some(s), other_at("1208室", room));
    assert_eq!(replies(&fx), vec!["ask.building"]);
    assert_eq!(tag(&s.state), "place?");
    let (s, fx) = go(
        Some(s),
        other_at(
            "5座",
            Slots {
                building: Some("5".into()),
                ..Slots::default()
            },
        ),
    );
    assert_eq!(tag(&s.state), "confirm?", "{fx:?}");
    let place = s.state.request().and_then(|r| r.place.clone()).unwrap();
    assert_eq!(
        (place.building.as_deref(), place.room.as_deref()),
        (Some("5"), Some("1208"))
    );
}

#[test]
fn a_question_back_or_a_place_with_no_hazard_is_no_answer_and_no_emergency() {
    let (s, _) = go(None, repair_no_place("停車場啲燈全部唔著"));
    assert_eq!(tag(&s.state), "place?");
    let (s2, fx) = go(Some(s.clone()), other("你哋唔係有我資料咩?"));
    assert_eq!(tag(&s2.state), "place?");
    assert_eq!(replies(&fx), vec!["ask.place"]);
    // The encoder may hear an emergency in a car park by the lifts; with no hazard word it
    // is the place that was asked for.
    let Event::Text(mut t) = emergency_text("停車場B2嗰層,近電梯大堂嗰度") else {
        unreachable!()
    };
    t.class.evident = false;
    t.class.slots.spot = Some("停車場B2".into());
    let (s3, fx) = go(Some(s), Event::Text(t));
    assert_eq!(tag(&s3.state), "confirm?", "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
}

#[test]
fn a_home_told_by_block_and_storey_is_asked_its_flat_and_taiwan_flats_are_whole() {
    let (s, _) = go(None, repair_no_place("喂 屋企個廁所塞死咗 啲水落唔到"));
    let slots = |b: Option<&str>, f: Option<&str>, r: Option<&str>| Slots {
        building: b.map(Into::into),
        floor: f.map(Into::into),
        room: r.map(Into::into),
        ..Slots::default()
    };
    let (s, _) = go(Some(s), other_at("5座", slots(Some("5"), None, None)));
    assert_eq!(tag(&s.state), "place?");
    let (s, fx) = go(Some(s), other_at("18樓", slots(None, Some("18"), None)));
    assert_eq!(tag(&s.state), "place?", "{fx:?}");
    let (s, _) = go(Some(s), other_at("D室", slots(None, None, Some("D"))));
    assert_eq!(tag(&s.state), "confirm?");
    // "A棟7樓之2" names the flat: read back at once.
    let (s, _) = go(None, repair_no_place("我家浴室的水龍頭關不緊 一直在滴水"));
    let (s, _) = go(
        Some(s),
        other_at("A棟7樓之2", slots(Some("A"), Some("7"), Some("7之2"))),
    );
    assert_eq!(tag(&s.state), "confirm?");
}

#[test]
fn a_question_told_with_the_request_may_be_chosen_first() {
    let mut req = request();
    req.asked = vec!["how do i get an extra access card for our nanny?".into()];
    let (s, fx) = go(
        session(State::Confirming { req, nudged: false }),
        other("the card question first"),
    );
    assert_eq!(tag(&s.state), "confirm?");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Reply(Msg::Faq { .. }))),
        "{fx:?}"
    );
}

#[test]
fn pleasure_with_a_job_just_done_closes_the_loop_and_files_nothing() {
    let resolved = World::just_resolved();
    for said in [
        "通了通了 师傅人很好 走之前还帮把地拖了 非常满意👍",
        "整好咗喇,師傅好細心,好滿意",
        "all good now, the plumber did a great job",
    ] {
        let praise = text_as(said, Kind::Suggestion, Urgency::Normal, Slots::default());
        let (s, fx) = run(None, praise.clone(), &resolved, Duration::zero());
        let acked = replies(&fx);
        assert!(
            matches!(acked.as_slice(), [a] if a == "you_are_welcome" || a == "ack_done"),
            "{said}: {acked:?}"
        );
        assert!(!fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
        assert_eq!(tag(&s.state), "idle");
    }
    // With nothing just resolved, praise this long is a record for the staff file.
    let praise = text_as(
        "通了通了 师傅人很好 走之前还帮把地拖了 非常满意👍",
        Kind::Suggestion,
        Urgency::Normal,
        Slots::default(),
    );
    let (_, fx) = go(None, praise);
    assert!(fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
    // Praise said as praise is still recorded, and displeasure is no thanks.
    let outright = text_as(
        "想表扬一下王师傅 服务很好",
        Kind::Suggestion,
        Urgency::Normal,
        Slots::default(),
    );
    let (_, fx) = run(None, outright, &resolved, Duration::zero());
    assert!(fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
    assert!(!intents().pleased("修是修了 不满意"));
    assert!(!intents().pleased("又漏了 根本没修好"));
}

#[test]
fn news_after_an_emergency_with_a_question_or_another_need() {
    // News with a question about something else: noted, and the guidance again.
    let (s, _) = go(None, burst_at_1101());
    let (s, fx) = go(
        Some(s),
        other("ok I closed the main valve. need me stay home or not?"),
    );
    assert_eq!(
        sig(&fx),
        "tell emergency.noted emergency.guide.flood emergency.duty",
        "{fx:?}"
    );
    // A question about what to do now is answered with the guidance first.
    let (_, fx) = go(Some(s.clone()), other("已经打了119了 我们要不要先下楼?"));
    assert!(sig(&fx).starts_with("tell emergency.follow_up"), "{fx:?}");
    // News without a question is only noted.
    let (_, fx) = go(Some(s.clone()), other("ok I already called 120. thank you"));
    assert_eq!(sig(&fx), "tell emergency.noted", "{fx:?}");
    // News and another need: the news noted, the need taken as a request.
    let news = TextInput {
        text: "伯伯家人嚟咗,救護車都到咗喇。狗屎嗰樣你哋都要跟下".into(),
        simplified: to_simplified("伯伯家人嚟咗,救護車都到咗喇。狗屎嗰樣你哋都要跟下"),
        class: class(Kind::Complaint, Urgency::Normal, Slots::default()),
        parts: vec![
            TextInput {
                text: "伯伯家人嚟咗,救護車都到咗喇".into(),
                simplified: to_simplified("伯伯家人嚟咗,救護車都到咗喇"),
                class: class(Kind::Other, Urgency::Normal, Slots::default()),
                parts: Vec::new(),
            },
            TextInput {
                text: "狗屎嗰樣你哋都要跟下".into(),
                simplified: to_simplified("狗屎嗰樣你哋都要跟下"),
                class: class(Kind::Complaint, Urgency::Normal, Slots::default()),
                parts: Vec::new(),
            },
        ],
    };
    let (next, fx) = go(Some(s), Event::Text(news));
    assert!(sig(&fx).starts_with("tell emergency.noted"), "{fx:?}");
    assert_eq!(tag(&next.state), "place?");
}

#[test]
fn who_answers_asked_inside_a_longer_message() {
    let (s, fx) = go(
        None,
        other(
            "hi, quick q – who am I chatting with? the management office or the landlord's agent?",
        ),
    );
    assert_eq!(replies(&fx), vec!["identity", "menu"]);
    assert_eq!(tag(&s.state), "idle");
    // Asked beside a problem, the problem is not dropped for the menu.
    let (s, _) = go(
        None,
        repair_at("are you a bot? anyway my kitchen tap at 3栋1101 keeps dripping all night"),
    );
    assert_eq!(tag(&s.state), "confirm?");
    let (s, fx) = go(
        None,
        repair_no_place("are you a bot? anyway my kitchen tap keeps dripping all night long"),
    );
    assert_eq!(replies(&fx).first().map(String::as_str), Some("identity"));
    assert_eq!(tag(&s.state), "place?");
}

#[test]
fn a_withdrawal_opening_a_message_with_its_reason() {
    let (s, _) = go(None, repair_at("3栋1101 门铃坏了"));
    let (s, fx) = go(Some(s), repair_no_place("啊唔使喇,原來係冇電😅 取消咗佢啦"));
    assert_eq!(replies(&fx), vec!["cancelled"], "{fx:?}");
    assert_eq!(tag(&s.state), "idle");
    let (s, _) = go(None, repair_at("3栋1101 晾衣架卡住了"));
    let (_, fx) = go(
        Some(s),
        other("等下哈 我弟说他周末回去自己弄 那就不麻烦师傅了 取消吧"),
    );
    assert_eq!(replies(&fx), vec!["cancelled"], "{fx:?}");
}

#[test]
fn another_need_told_with_an_emergency_waits_until_the_resident_comes_back_to_it() {
    let part = |text: &str, kind: Kind, urgency: Urgency| TextInput {
        text: text.into(),
        simplified: to_simplified(text),
        class: class(kind, urgency, Slots::default()),
        parts: Vec::new(),
    };
    let both = |second: TextInput| {
        let whole = format!("3栋1101 厨房天花板的水哗哗往下流，另外{}", second.text);
        Event::Text(TextInput {
            text: whole.clone(),
            simplified: to_simplified(&whole),
            class: class(Kind::Repair, Urgency::Emergency, at("3", "1101")),
            parts: vec![
                part(
                    "3栋1101 厨房天花板的水哗哗往下流",
                    Kind::Repair,
                    Urgency::Emergency,
                ),
                second,
            ],
        })
    };
    // A question the FAQ answers: answered with the emergency, and again when asked back.
    let (s, fx) = go(
        None,
        both(part("物业费怎么交", Kind::Inquiry, Urgency::Normal)),
    );
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Reply(Msg::Faq { .. }))));
    let (s, fx) = go(Some(s), other("我放了桶接着了 那物业费的事呢?"));
    assert!(sig(&fx).starts_with("tell emergency.noted"), "{fx:?}");
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Reply(Msg::Faq { .. }))));
    assert!(matches!(
        s.state,
        State::Idle {
            emergency: Some(_),
            waiting: None,
            ..
        }
    ));
    // A complaint: taken as a request of its own once they come back to it.
    let (s, _) = go(
        None,
        both(part(
            "楼上天天半夜装修电钻很吵",
            Kind::Complaint,
            Urgency::Normal,
        )),
    );
    let (s, fx) = go(Some(s), other("保安来了 水关了。那电钻的事怎么办?"));
    assert!(sig(&fx).starts_with("tell emergency.noted"), "{fx:?}");
    assert_eq!(tag(&s.state), "confirm?", "{fx:?}");
}

#[test]
fn a_yes_in_a_hurry_to_a_read_back_files_the_request_as_read() {
    let hurried = |text: &str, evident: bool| {
        let mut c = class(Kind::Repair, Urgency::Emergency, Slots::default());
        c.evident = evident;
        classed(text, c)
    };
    let confirming = || {
        session(State::Confirming {
            req: request(),
            nudged: false,
        })
    };
    let (s, fx) = go(confirming(), hurried("对 快点来人", false));
    assert_eq!(created(&fx).urgency, Urgency::Normal, "{fx:?}");
    assert_eq!(tag(&s.state), "idle");
    // A yes that tells a hazard of its own is the emergency.
    let (_, fx) = go(confirming(), hurried("对 而且现在冒烟了", true));
    assert_eq!(created(&fx).urgency, Urgency::Emergency, "{fx:?}");
}

#[test]
fn the_end_of_an_emergency_in_words_of_no_hazard_is_the_end_whatever_the_reading() {
    let (s, _) = go(None, emergency_text("我被困在7栋2号电梯里了"));
    // The classifier, reading what came before, still calls it an emergency.
    let mut out = class(Kind::Repair, Urgency::Emergency, Slots::default());
    out.evident = false;
    let said = "门打开了，我出来了，谢谢你们";
    let (next, fx) = go(Some(s.clone()), classed(said, out.clone()));
    assert_eq!(sig(&fx), "tell emergency.over", "{fx:?}");
    assert_eq!(tag(&next.state), "idle");
    // "停咗" of a lift with someone inside is no end.
    let said = "海怡半島8座,𨋢停咗喺12樓同13樓中間";
    let (_, fx) = go(Some(s), classed(said, out));
    assert!(!sig(&fx).contains("emergency.over"), "{fx:?}");
}

#[test]
fn a_question_said_to_be_one_is_no_complaint_to_read_back() {
    let asked = |text: &str| text_as(text, Kind::Complaint, Urgency::Normal, Slots::default());
    let (s, fx) = go(None, asked("另外问下，听邻居说明年物业费要涨价，是真的吗"));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::CreateTicket { ticket, .. } if ticket.kind == Kind::Inquiry)
        ),
        "{fx:?}"
    );
    assert_eq!(tag(&s.state), "idle");
    // A complaint with no question in it is still taken as one.
    let (s, _) = go(None, asked("另外问下你们，楼下天天半夜吵得睡不着"));
    assert_eq!(tag(&s.state), "place?");
}

#[test]
fn thanks_for_a_job_done_and_withdrawals_told_by_voice() {
    // Thanks with news that the job is done, whatever the job was: no new request.
    for said in ["师傅来过了，放完气现在热乎了，谢谢啊", "見到師傅喇 OK 多謝"]
    {
        let (s, fx) = go(None, repair_no_place(said));
        assert_eq!(replies(&fx), vec!["you_are_welcome"], "{said}");
        assert_eq!(tag(&s.state), "idle");
    }
    // A request that only ends in thanks is still a request.
    let (s, _) = go(None, repair_no_place("门锁坏了 打不开 谢谢"));
    assert_eq!(tag(&s.state), "place?");
    // A withdrawal up to a pause, its reason after, while asked where.
    let (s, _) = go(
        None,
        repair_no_place("浴室的抽風機不會轉了 開關按了都沒反應"),
    );
    assert_eq!(tag(&s.state), "place?");
    let (s, fx) = go(
        Some(s),
        other("喔 算了不用了 我老公剛剛拍了幾下又會轉了 哈哈 不好意思"),
    );
    assert_eq!(replies(&fx), vec!["cancelled"], "{fx:?}");
    assert_eq!(tag(&s.state), "idle");
}

#[test]
fn agreeing_to_the_visit_time_is_told_to_the_ticket() {
    for said in [
        "可以 明天早上我都在家 門鈴按兩下就好",
        "3pm ok, my husband will be home",
    ] {
        let mut c = class(Kind::Repair, Urgency::Normal, Slots::default());
        c.confidence = 0.5;
        c.evident = false;
        let (s, fx) = go(None, classed(said, c));
        assert!(
            fx.iter().any(|e| matches!(e, Effect::TellNewest(_))),
            "{said}: {fx:?}"
        );
        assert_eq!(tag(&s.state), "idle");
    }
    // A fault told with when the resident is out is a repair.
    let (s, _) = go(None, repair_no_place("门锁坏了 锁不上 我明天不在家"));
    assert_eq!(tag(&s.state), "place?");
}

#[test]
fn after_an_emergency_what_to_do_and_where_things_stand_file_nothing_new() {
    let (s, _) = go(None, burst_at_1101());
    // Where they live, with what to do now: the guidance, no second emergency.
    let mut c = class(Kind::Repair, Urgency::Emergency, at("15", "0304"));
    c.evident = false;
    let said = "I live in 15-0304 myself, should we get out of the building?";
    let (_, fx) = go(Some(s.clone()), classed(said, c));
    assert!(sig(&fx).starts_with("tell emergency.follow_up"), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
    // News, then where things stand, at the end of a long message.
    let said = "瓦斯總開關關了 窗戶也都打開了 我們全家先下樓到中庭 你們的人出發了沒";
    let (_, fx) = go(
        Some(s.clone()),
        text_as(said, Kind::Repair, Urgency::Emergency, Slots::default()),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::ListStatus)), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })));
    // A new emergency elsewhere, asked about in the same breath, is filed.
    let (_, fx) = go(
        Some(s),
        text_as(
            "5栋201 厨房着火了 你们什么时候来",
            Kind::Repair,
            Urgency::Emergency,
            at("5", "201"),
        ),
    );
    assert!(
        fx.iter().any(|e| matches!(e, Effect::CreateTicket { .. })),
        "{fx:?}"
    );
}
