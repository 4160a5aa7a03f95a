//! The conversation as a pure state machine: `step(session, input, ctx) -> (session, effects)`.
//! No I/O and no clock: the time, the resident's unit on record, a kept draft and an open
//! handoff come in through [`Ctx`]; tickets, drafts, handoffs and replies go out as
//! [`Effect`]s that the engine executes inside the message's transaction.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::effects::{Effect, Msg, TicketDraft, Var};
use super::faq::Faq;
pub use super::prompt::{Act, Prompt};
pub use super::request::{summarise, Photo, Place, Request};
use super::words::{self, Emergency};
use crate::ticket::model::{Category, Department, Kind, Urgency};
use crate::understanding::intent::{Intent, Intents, Reading};
use crate::understanding::Slots;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Awaiting {
    Problem,
    Place,
}

pub use super::request::TextInput;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Nothing pending. `clarified`: the one clarifying question was asked; unclear input
    /// now gets the menu.
    Idle {
        clarified: bool,
        /// An emergency was filed in this session: what the resident says next about the
        /// hazard ("要不要打119？", "还在冒烟") follows up that ticket instead of filing
        /// another or being read as a place.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        emergency: Option<Emergency>,
        /// That emergency was filed without a place: a place told next is its place.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        placeless: bool,
        /// The question just answered or passed on: a follow-up with no topic of its own
        /// ("要唔要錢㗎?", "我是租的房子 也能开吗") is read with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asked: Option<String>,
        /// Another need told with the emergency ("…my kitchen is flooding. And also how do
        /// I pay the parking fee?"): taken up when the resident comes back to it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waiting: Option<Box<TextInput>>,
    },
    Collecting {
        req: Request,
        awaiting: Awaiting,
        nudged: bool,
    },
    Confirming {
        req: Request,
        nudged: bool,
    },
    /// Asked what to correct: the problem or the place.
    Correcting {
        req: Request,
        nudged: bool,
    },
    /// Reminded of a kept draft; `held` is the message that started this session, dealt
    /// with if the draft is dropped so the resident need not repeat it. Boxed: a whole
    /// classified message would make every state as large as this rare one.
    DraftOffered {
        req: Request,
        held: Option<Box<TextInput>>,
    },
    /// A possible emergency: guidance given, waiting for "is it still happening?".
    EmergencyCheck {
        req: Request,
        which: Emergency,
    },
}

impl State {
    pub fn request(&self) -> Option<&Request> {
        match self {
            State::Idle { .. } => None,
            State::Collecting { req, .. }
            | State::Confirming { req, .. }
            | State::Correcting { req, .. }
            | State::DraftOffered { req, .. }
            | State::EmergencyCheck { req, .. } => Some(req),
        }
    }

    fn request_mut(&mut self) -> Option<&mut Request> {
        match self {
            State::Idle { .. } => None,
            State::Collecting { req, .. }
            | State::Confirming { req, .. }
            | State::Correcting { req, .. }
            | State::DraftOffered { req, .. }
            | State::EmergencyCheck { req, .. } => Some(req),
        }
    }

    fn idle() -> Self {
        State::Idle {
            clarified: false,
            emergency: None,
            placeless: false,
            asked: None,
            waiting: None,
        }
    }

    fn after_emergency(which: Emergency, placeless: bool) -> Self {
        State::Idle {
            clarified: false,
            emergency: Some(which),
            placeless,
            asked: None,
            waiting: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub state: State,
    pub last_activity: DateTime<Utc>,
}

/// Whether the session waits for the resident to go on with something (a read-back to
/// confirm, a question to answer) and has not idled out.
pub fn is_pending(
    session: Option<&Session>,
    now: DateTime<Utc>,
    idle_timeout: chrono::Duration,
) -> bool {
    session.is_some_and(|s| {
        !matches!(s.state, State::Idle { .. }) && now - s.last_activity < idle_timeout
    })
}

// One event is stepped at a time and never kept in bulk, so its size does not matter;
// boxing the text would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Text(TextInput),
    Image(Photo),
    Location {
        lat: f64,
        lng: f64,
        label: Option<String>,
    },
    Subscribe,
    Click(String),
    /// A message type we cannot read (video, link, voice without recognition).
    Unsupported,
    /// Platform events that need no answer (unsubscribe, menu views, scans).
    Silent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub now: DateTime<Utc>,
    pub event: Event,
}

/// An unfinished request kept in PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub req: Request,
    pub updated_at: DateTime<Utc>,
}

/// An open conversation with the concierge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandoffView {
    pub id: Uuid,
    pub last_activity_at: DateTime<Utc>,
}

/// What the machine may know about the world, read by the engine before the step.
pub struct Ctx<'a> {
    pub idle_timeout: Duration,
    pub draft_ttl: Duration,
    pub handoff_idle_timeout: Duration,
    pub unit_on_record: Option<Place>,
    pub draft: Option<Draft>,
    pub handoff: Option<HandoffView>,
    /// The resident's newest ticket is resolved and awaits the revisit: a fault said to be
    /// back reopens it, pleasure with it closes the loop. Read only for messages that say
    /// either.
    pub resolved: bool,
    pub faq: &'a Faq,
    pub intents: &'a Intents,
}

/// One message's worth of conversation.
pub fn step(session: Option<Session>, input: &Input, ctx: &Ctx) -> (Session, Vec<Effect>) {
    let mut fx = Vec::new();
    let now = input.now;
    let live = session.filter(|s| now - s.last_activity < ctx.idle_timeout);
    let before = live.as_ref().map(|s| s.state.clone());

    if let Some(h) = ctx.handoff {
        if now - h.last_activity_at >= ctx.handoff_idle_timeout {
            fx.push(Effect::EndHandoff { handoff_id: h.id });
        } else if let Some(state) = in_handoff(h, &input.event, ctx, &mut fx) {
            return (
                Session {
                    state,
                    last_activity: now,
                },
                fx,
            );
        } else {
            // Unchanged conversation with the concierge; the bot's own state waits.
            let state = before.unwrap_or_else(State::idle);
            return (
                Session {
                    state,
                    last_activity: now,
                },
                fx,
            );
        }
    }

    let state = match before.clone() {
        Some(state) => on_event(state, &input.event, ctx, &mut fx),
        None => fresh(now, &input.event, ctx, &mut fx),
    };
    keep_draft(before.as_ref().and_then(State::request), &state, &mut fx);
    (
        Session {
            state,
            last_activity: now,
        },
        fx,
    )
}

/// While a concierge has the conversation: only `end`, `human` and emergencies reach the
/// bot. `None` leaves the bot's state as it was.
fn in_handoff(h: HandoffView, event: &Event, ctx: &Ctx, fx: &mut Vec<Effect>) -> Option<State> {
    if let Event::Text(t) = event {
        let r = ctx.intents.read(&t.text);
        match r.intent {
            Some(Intent::End) => {
                fx.push(Effect::EndHandoff { handoff_id: h.id });
                fx.push(Effect::Reply(Msg::key(Prompt::HandoffEnded)));
                fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
                return Some(State::idle());
            }
            Some(Intent::Handoff) => {
                fx.push(Effect::StartHandoff);
                return None;
            }
            // "Thank you." / "好嘞 谢谢闺女" once the concierge has it: passed on, and
            // answered so the thanks is not met with silence.
            _ if thanks_only(&r, t, ctx) => {
                fx.push(Effect::ForwardToConcierge { handoff_id: h.id });
                fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
                return None;
            }
            _ if r.is(Intent::Alarm)
                || (t.class.urgency == Urgency::Emergency && r.intent.is_none()) =>
            {
                fx.push(Effect::ForwardToConcierge { handoff_id: h.id });
                let _ = emergency(None, t, ctx.unit_on_record.clone(), fx);
                return None;
            }
            _ => {}
        }
    }
    if !matches!(event, Event::Silent) {
        fx.push(Effect::ForwardToConcierge { handoff_id: h.id });
    }
    None
}

/// A short message that only thanks ("Thank you.", "好嘞 谢谢闺女[抱拳]").
fn thanks_only(r: &Reading, t: &TextInput, ctx: &Ctx) -> bool {
    r.is(Intent::Thanks)
        || matches!(r.intent, None | Some(Intent::Confirm))
            && ctx.intents.is_thankful(&t.text)
            && crate::understanding::intent::weight(&t.text) <= 12
}

/// Writes the request being filled to PostgreSQL whenever it changes, so it outlives the
/// Redis session and can be offered back after the idle timeout.
fn keep_draft(before: Option<&Request>, after: &State, fx: &mut Vec<Effect>) {
    // A dropped draft followed by a new request in the same step: the new one is kept.
    let cleared = fx.iter().any(|e| matches!(e, Effect::ClearDraft));
    if let State::Collecting { req, .. }
    | State::Confirming { req, .. }
    | State::Correcting { req, .. }
    | State::EmergencyCheck { req, .. } = after
    {
        if (cleared || before != Some(req)) && req.has_content() {
            fx.push(Effect::SaveDraft(req.clone()));
        }
    }
    if let State::DraftOffered { req, .. } = after {
        if !cleared && before.is_some_and(|b| b != req) {
            fx.push(Effect::SaveDraft(req.clone()));
        }
    }
}

/// A new session (first contact, or after the idle timeout): a kept draft is offered back
/// unless the message is more pressing.
fn fresh(now: DateTime<Utc>, event: &Event, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    let draft = ctx
        .draft
        .as_ref()
        .filter(|d| now - d.updated_at < ctx.draft_ttl);
    let Some(draft) = draft else {
        // A thumbs-up that opens a conversation thanks nobody for anything: it is a wave.
        if let Event::Text(t) = event {
            let bare = !t.text.chars().any(char::is_alphanumeric);
            if bare && ctx.intents.read(&t.text).is(Intent::Thanks) {
                fx.push(Effect::Reply(Msg::key(Prompt::Greeting)));
                fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
                return State::idle();
            }
        }
        return on_event(State::idle(), event, ctx, fx);
    };
    let mut req = draft.req.clone();
    match event {
        Event::Text(t) => {
            let w = ctx.intents.read(&t.text).intent;
            let pressing = (t.class.urgency == Urgency::Emergency && w.is_none())
                || t.class.possible_emergency
                || matches!(w, Some(Intent::Status | Intent::Handoff | Intent::Alarm));
            if pressing {
                return on_event(State::idle(), event, ctx, fx);
            }
            let held = match w {
                None if t.class.kind != Kind::Other => Some(Box::new(t.clone())),
                _ => None,
            };
            fx.push(Effect::Reply(reminder(&req)));
            State::DraftOffered { req, held }
        }
        Event::Image(photo) => {
            req.photos.push(photo.clone());
            fx.push(Effect::SaveDraft(req.clone()));
            fx.push(Effect::Reply(reminder(&req)));
            State::DraftOffered { req, held: None }
        }
        Event::Subscribe => {
            fx.push(Effect::Reply(Msg::key(Prompt::Welcome)));
            fx.push(Effect::Reply(reminder(&req)));
            State::DraftOffered { req, held: None }
        }
        Event::Silent => State::idle(),
        Event::Location { .. } | Event::Click(_) | Event::Unsupported => {
            fx.push(Effect::Reply(reminder(&req)));
            State::DraftOffered { req, held: None }
        }
    }
}

fn reminder(req: &Request) -> Msg {
    if req.problem.is_none() {
        return Msg::with(
            Prompt::DraftReminderUntold,
            vec![("kind", Var::Kind(req.kind_or_repair()))],
        );
    }
    Msg::with(
        Prompt::DraftReminder,
        vec![
            ("kind", Var::Kind(req.kind_or_repair())),
            ("summary", Var::Text(req.summary())),
        ],
    )
}

fn on_event(state: State, event: &Event, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    match event {
        Event::Text(t) => on_text(state, t, ctx, fx),
        Event::Image(photo) => on_image(state, photo.clone(), fx),
        Event::Location { lat, lng, label } => {
            let place = Place {
                label: Some(
                    label
                        .clone()
                        .unwrap_or_else(|| format!("{lat:.5},{lng:.5}")),
                ),
                ..Place::default()
            };
            on_location(state, place, fx)
        }
        Event::Subscribe => {
            fx.push(Effect::Reply(Msg::key(Prompt::Welcome)));
            match state {
                State::Idle { .. } => reprompt(State::idle(), fx),
                other => reprompt(other, fx),
            }
        }
        Event::Click(key) => on_click(state, key, fx),
        Event::Unsupported => {
            fx.push(Effect::Reply(Msg::key(Prompt::Unsupported)));
            state
        }
        Event::Silent => state,
    }
}

fn on_click(state: State, key: &str, fx: &mut Vec<Effect>) -> State {
    match key {
        "report_repair" | "repair" => start_from_menu(Kind::Repair, fx),
        "report_complaint" | "complaint" => start_from_menu(Kind::Complaint, fx),
        "my_tickets" | "status" => {
            fx.push(Effect::ListStatus);
            state
        }
        "human" | "concierge" => handoff(fx),
        "inquiry" | "faq" => {
            fx.push(Effect::Reply(Msg::key(Prompt::AskInquiry)));
            State::idle()
        }
        _ => {
            fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
            match state {
                State::Idle { .. } => State::idle(),
                other => other,
            }
        }
    }
}

/// A request being filled stays kept as a draft and is offered back after the handoff.
fn handoff(fx: &mut Vec<Effect>) -> State {
    fx.push(Effect::StartHandoff);
    State::idle()
}

fn is_praise(simplified: &str) -> bool {
    let lower = simplified.to_lowercase();
    [
        "表扬",
        "感谢",
        "谢谢",
        "点赞",
        "辛苦",
        "锦旗",
        "praise",
        "thank",
        "great job",
        "well done",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Inquiries without a ready answer and suggestions: filed at once, no read-back.
fn file_directly(kind: Kind, reply: Prompt, t: &TextInput, fx: &mut Vec<Effect>) {
    fx.push(Effect::CreateTicket {
        ticket: TicketDraft {
            kind,
            urgency: Urgency::Normal,
            department: Department::CustomerService,
            category: if t.class.kind == kind {
                t.class.category
            } else {
                Category::Services
            },
            summary: summarise(&t.text),
            description: t.text.trim().to_owned(),
            place: Place::from_slots(&t.class.slots),
            phone: t.class.slots.phone.clone(),
            preferred_time: None,
            photos: Vec::new(),
        },
        replies: vec![Msg::key(reply)],
    });
}

/// One clarifying question, then the menu: never the same question twice in a row.
fn unclear(clarified: bool, fx: &mut Vec<Effect>) -> State {
    if clarified {
        fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
    } else {
        fx.push(Effect::Reply(Msg::key(Prompt::Clarify)));
    }
    State::Idle {
        clarified: true,
        emergency: None,
        placeless: false,
        asked: None,
        waiting: None,
    }
}

fn start_from_menu(kind: Kind, fx: &mut Vec<Effect>) -> State {
    ask_for_problem(Request::blank(Some(kind)), fx)
}

/// A request named (with its place, perhaps) but not yet what is wrong: asked that.
fn ask_for_problem(req: Request, fx: &mut Vec<Effect>) -> State {
    fx.push(Effect::Reply(ask_problem(req.kind)));
    State::Collecting {
        req,
        awaiting: Awaiting::Problem,
        nudged: false,
    }
}

fn ask_problem(kind: Option<Kind>) -> Msg {
    Msg::key(match kind {
        Some(Kind::Complaint) => Prompt::AskProblemComplaint,
        Some(_) => Prompt::AskProblemRepair,
        None => Prompt::AskProblemAny,
    })
}

fn remember(req: &Request, ctx: &Ctx, fx: &mut Vec<Effect>) {
    if ctx.unit_on_record.is_none() {
        if let Some(place) = req.place.as_ref().filter(|p| p.is_unit()) {
            fx.push(Effect::RememberUnit(place.clone()));
        }
    }
}

/// Asks for what is still missing, or reads the request back.
fn next_question(mut req: Request, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    // "我家厕所那个": a thing is named, not what is wrong with it.
    let named_only = req
        .problem
        .as_deref()
        .is_some_and(|p| ctx.intents.names_only(p));
    if req.problem.is_none() || named_only {
        fx.push(Effect::Reply(ask_problem(req.kind)));
        return State::Collecting {
            req,
            awaiting: Awaiting::Problem,
            nudged: false,
        };
    }
    // A complaint is met with an apology before anything else (domain.md: receive and
    // record, apologising where a complaint is made), once.
    if req.kind_or_repair() == Kind::Complaint && !req.apologised {
        req.apologised = true;
        fx.push(Effect::Reply(Msg::key(Prompt::ApologyBrief)));
    }
    // A complaint about the service itself (an unanswered phone, a rude clerk, a fee)
    // happened nowhere in particular: it is read back without asking where.
    let about_service = req.kind_or_repair() == Kind::Complaint
        && req.department == Department::CustomerService
        && req.category == Category::Services;
    if req.place.is_none() && !about_service {
        fx.push(Effect::Reply(Msg::key(Prompt::AskPlace)));
        return State::Collecting {
            req,
            awaiting: Awaiting::Place,
            nudged: false,
        };
    }
    // "12栋" for a leaking pipe at home: which flat, or where in the building. With the
    // storey told too ("5座", "18樓") only a room of the home says the flat is wanted:
    // "我屋企老人家住28樓" about the block's lifts is not about the flat.
    let told =
        |says: &dyn Fn(&str) -> bool| req.problem.iter().chain(&req.details).any(|t| says(t));
    let building_only = req.place.as_ref().is_some_and(|p| {
        p.lacks_flat() && (p.floor.is_none() || told(&|t| text::home_room(t).is_some()))
    });
    let in_home = told(&|t| ctx.intents.in_home(t));
    // "1208室" for no water at home: which building, once.
    let flat_alone = req.place.as_ref().is_some_and(Place::lacks_building)
        && !told(&|t| ctx.intents.names_estate(t));
    // A complaint about something at home ("浴室天花成日滴水 睇落係樓上滲落嚟", "我住B座")
    // is about a flat too.
    let ask = if building_only && in_home {
        Some(Prompt::AskPlaceDetail)
    } else if flat_alone && in_home {
        Some(Prompt::AskBuilding)
    } else {
        None
    };
    if let Some(ask) = ask.filter(|_| !req.place_detail_asked) {
        req.place_detail_asked = true;
        fx.push(Effect::Reply(Msg::key(ask)));
        return State::Collecting {
            req,
            awaiting: Awaiting::Place,
            nudged: false,
        };
    }
    fx.push(Effect::Reply(read_back(&req)));
    State::Confirming { req, nudged: false }
}

fn read_back(req: &Request) -> Msg {
    let key = match req.kind_or_repair() {
        Kind::Complaint => Prompt::ReadbackComplaint,
        _ => Prompt::ReadbackRepair,
    };
    Msg::with(
        key,
        vec![
            ("summary", Var::Text(req.summary())),
            ("place", Var::Place(req.place.clone())),
            (
                "details",
                Var::Details {
                    photos: req.photos.len(),
                    phone: req.phone.clone(),
                    time: req.preferred_time.clone(),
                },
            ),
        ],
    )
}

/// How to answer the read-back, with what is being confirmed restated: a resident who
/// answered something else may no longer have the read-back on screen.
fn confirm_hint(req: &Request) -> Msg {
    Msg::with(
        Prompt::ConfirmHint,
        vec![
            ("summary", Var::Text(req.summary())),
            ("place", Var::Place(req.place.clone())),
        ],
    )
}

fn cancelled(fx: &mut Vec<Effect>) -> State {
    fx.push(Effect::ClearDraft);
    fx.push(Effect::Reply(Msg::key(Prompt::Cancelled)));
    State::idle()
}

fn resolved(fx: &mut Vec<Effect>) -> State {
    fx.push(Effect::ClearDraft);
    fx.push(Effect::Reply(Msg::key(Prompt::AckDone)));
    State::idle()
}

fn has_slots(s: &Slots) -> bool {
    s.has_place() || s.phone.is_some() || s.time.is_some()
}

fn on_image(state: State, photo: Photo, fx: &mut Vec<Effect>) -> State {
    match state {
        State::Idle { .. } => {
            let mut req = Request::blank(None);
            req.photos.push(photo);
            fx.push(Effect::Reply(Msg::key(Prompt::PhotoFirst)));
            State::Collecting {
                req,
                awaiting: Awaiting::Problem,
                nudged: false,
            }
        }
        State::DraftOffered { mut req, held } => {
            req.photos.push(photo);
            fx.push(Effect::Reply(Msg::key(Prompt::PhotoAdded)));
            fx.push(Effect::Reply(reminder(&req)));
            State::DraftOffered { req, held }
        }
        State::Collecting {
            mut req,
            awaiting,
            nudged,
        } => {
            req.photos.push(photo);
            fx.push(Effect::Reply(Msg::key(Prompt::PhotoAdded)));
            reprompt(
                State::Collecting {
                    req,
                    awaiting,
                    nudged,
                },
                fx,
            )
        }
        State::EmergencyCheck { mut req, which } => {
            req.photos.push(photo);
            fx.push(Effect::Reply(Msg::key(Prompt::PhotoAdded)));
            fx.push(Effect::Reply(Msg::key(Prompt::PossibleAsk)));
            State::EmergencyCheck { req, which }
        }
        State::Confirming { mut req, .. } | State::Correcting { mut req, .. } => {
            req.photos.push(photo);
            fx.push(Effect::Reply(Msg::key(Prompt::PhotoAdded)));
            fx.push(Effect::Reply(read_back(&req)));
            State::Confirming { req, nudged: false }
        }
    }
}

fn on_location(state: State, place: Place, fx: &mut Vec<Effect>) -> State {
    match state {
        State::Idle { .. } => {
            let mut req = Request::blank(None);
            req.place = Some(place);
            fx.push(Effect::Reply(Msg::key(Prompt::LocationFirst)));
            State::Collecting {
                req,
                awaiting: Awaiting::Problem,
                nudged: false,
            }
        }
        State::DraftOffered { mut req, held } => {
            req.place = Some(place);
            fx.push(Effect::Reply(reminder(&req)));
            State::DraftOffered { req, held }
        }
        State::Collecting {
            mut req, awaiting, ..
        } => {
            req.place = Some(place);
            match awaiting {
                Awaiting::Place => {
                    if req.problem.is_none() {
                        fx.push(Effect::Reply(ask_problem(req.kind)));
                        State::Collecting {
                            req,
                            awaiting: Awaiting::Problem,
                            nudged: false,
                        }
                    } else {
                        fx.push(Effect::Reply(read_back(&req)));
                        State::Confirming { req, nudged: false }
                    }
                }
                Awaiting::Problem => {
                    fx.push(Effect::Reply(ask_problem(req.kind)));
                    State::Collecting {
                        req,
                        awaiting,
                        nudged: false,
                    }
                }
            }
        }
        State::EmergencyCheck { mut req, which } => {
            req.place = Some(place);
            fx.push(Effect::Reply(Msg::key(Prompt::PossibleAsk)));
            State::EmergencyCheck { req, which }
        }
        State::Confirming { mut req, .. } | State::Correcting { mut req, .. } => {
            req.place = Some(place);
            fx.push(Effect::Reply(read_back(&req)));
            State::Confirming { req, nudged: false }
        }
    }
}

/// Repeats the question the state is waiting on.
fn reprompt(state: State, fx: &mut Vec<Effect>) -> State {
    match &state {
        State::Idle { .. } => fx.push(Effect::Reply(Msg::key(Prompt::Menu))),
        State::Collecting {
            req,
            awaiting: Awaiting::Problem,
            ..
        } => fx.push(Effect::Reply(ask_problem(req.kind))),
        State::Collecting {
            awaiting: Awaiting::Place,
            ..
        } => fx.push(Effect::Reply(Msg::key(Prompt::AskPlace))),
        State::Confirming { req, .. } => fx.push(Effect::Reply(read_back(req))),
        State::Correcting { .. } => fx.push(Effect::Reply(Msg::key(Prompt::AskCorrect))),
        State::DraftOffered { req, .. } => fx.push(Effect::Reply(reminder(req))),
        State::EmergencyCheck { .. } => fx.push(Effect::Reply(Msg::key(Prompt::PossibleAsk))),
    }
    state
}

/// The emergency fast path: filed at once, with safety guidance and the duty line.
/// Files an emergency at once; the state to go on in remembers it for follow-ups.
fn emergency(
    req: Option<Request>,
    t: &TextInput,
    on_record: Option<Place>,
    fx: &mut Vec<Effect>,
) -> State {
    // Told in anger or not ("This is unacceptable!!! My dad has been stuck in the lift"),
    // a hazard now is work to do at once: a repair.
    let kind = Kind::Repair;
    let mut req = req.unwrap_or_else(|| Request::blank(Some(kind)));
    let first = req.problem.is_none();
    if first {
        req.problem = Some(t.text.trim().to_owned());
    } else {
        req.details.push(t.text.trim().to_owned());
    }
    req.kind = Some(req.kind.unwrap_or(kind));
    req.absorb(&t.class);
    req.urgency = Urgency::Emergency;
    if matches!(t.class.kind, Kind::Other | Kind::Inquiry | Kind::Suggestion) {
        req.department = t.class.department;
        req.category = if t.class.category == Category::Other {
            Category::Safety
        } else {
            t.class.category
        };
    }
    if req.place.is_none() {
        req.place = on_record;
    }
    // What the resident first told decides the guidance: "还在漏" after a gas smell is
    // still about gas.
    let told = words::to_simplified(req.problem.as_deref().unwrap_or_default());
    let which: Emergency = match words::emergency_of(&told) {
        Emergency::General => words::emergency_of(&t.simplified),
        e => e,
    };
    let placeless = req.place.is_none();
    let place_msg = match &req.place {
        Some(p) => Msg::with(
            Prompt::EmergencyPlaceKnown,
            vec![("place", Var::Place(Some(p.clone())))],
        ),
        None => Msg::key(Prompt::EmergencyPlaceUnknown),
    };
    fx.push(Effect::CreateTicket {
        ticket: req.to_ticket(),
        replies: vec![
            Msg::key(Prompt::EmergencySubmitted),
            Msg::key(Prompt::Guide(which)),
            place_msg,
            Msg::key(Prompt::EmergencyDuty),
        ],
    });
    State::after_emergency(which, placeless)
}

mod text;
use text::on_text;

#[cfg(test)]
mod tests;
