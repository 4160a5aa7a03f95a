//! Text in every state. Each message is read once by the understanding module
//! ([`Intents::read`]) and what it means is handled the same way wherever it is said:
//! an emergency or a call for help and a handoff win in any state, a status question is
//! answered without losing the request, thanks and greetings are answered as a concierge
//! would, and a correction changes only the part it names.

use super::*;
use crate::understanding::intent::weight;

/// An intent that steers the conversation, as opposed to words that describe a problem.
fn steers(r: &Reading) -> bool {
    r.intent.is_some_and(|i| {
        !r.loose && !matches!(i, Intent::Correct | Intent::Venting | Intent::Alarm)
    })
}

/// A loose reading ("…怎么样了") gives way to a concrete problem with its place in the
/// same message.
fn concrete(t: &TextInput) -> bool {
    matches!(t.class.kind, Kind::Repair | Kind::Complaint) && t.class.slots.has_place()
}

/// Below this confidence a repair asked as a question is read as the question
/// (`idle_text`): the fused reading's confidence of "and the water shut-off?" was 0.48.
const UNSURE_REPAIR: f32 = 0.5;

pub(super) fn on_text(state: State, t: &TextInput, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    let mut r = ctx.intents.read(&t.text);
    // A reading near an emergency's wording with no hazard word of its own asks "is it still
    // dangerous?" only of a message that opens something new: not of an answer to our
    // question ("他住5栋702 我是他儿子 有事打我电话就行"), a status question, or news after an
    // emergency ("而家有電返喇").
    let near_only =
        t.class.possible_emergency && !t.class.evident && t.class.urgency != Urgency::Emergency;
    let opens = matches!(
        state,
        State::Idle {
            emergency: None,
            ..
        }
    ) && r.intent.is_none();
    let muted = (near_only && !opens).then(|| t.read_as(|c| c.possible_emergency = false));
    let t = muted.as_ref().unwrap_or(t);
    // "消防隊來看過了，說是誤報，現在沒事了": a hazard told as over, and fine now, is news
    // however long the message and concrete its place.
    if r.intent.is_none() && t.class.hazard_over && ctx.intents.done_anywhere(&t.text) {
        r.intent = Some(Intent::Done);
    }
    let loose_ok = !r.loose || !concrete(t);
    // "…现在有水了，那个单子不要了嘛": a withdrawal in so many words is no emergency, whatever
    // its hazard words, unless it says things go on.
    let withdrawn = r.is(Intent::Cancel) && ctx.intents.withdraws(&t.text) && r.still != Some(true);
    // A message of several needs that reads as a possible emergency is a sure one when
    // one of its needs alone is ("电梯把我爸困里面了！另外明天停水是几点？").
    // Asked whether it is still happening, "佢話冇人困住,電梯而家正常" answers no, however
    // much of an emergency its words are. ("电梯停了有人被困" says "停了" and is no no.)
    let answers_no = matches!(state, State::EmergencyCheck { .. })
        && (r.is(Intent::Deny) || ctx.intents.false_alarm(&t.text));
    // "停車場B2嗰層,近電梯大堂嗰度" answering "where?": a place that shows no hazard of its
    // own is the place, however near an emergency's its words sit.
    let just_a_place = matches!(
        state,
        State::Collecting {
            awaiting: Awaiting::Place,
            ..
        }
    ) && t.class.slots.has_place()
        && !t.class.evident;
    // "对 快点来人" to a read-back: a yes in a hurry, however urgent its words sound, unless
    // they show a hazard of their own.
    let just_a_yes =
        matches!(state, State::Confirming { .. }) && r.yes_then.is_some() && !t.class.evident;
    // "欸不對 我打錯了 601是樓下阿姨家 我家是701" to a read-back: a place put right, which
    // shows no hazard of its own, is the place.
    let just_a_fix = matches!(state, State::Confirming { .. } | State::Correcting { .. })
        && t.class.slots.has_place()
        && !t.class.evident;
    let sure_emergency = !just_a_place
        && !just_a_yes
        && !just_a_fix
        && (t.class.urgency == Urgency::Emergency
            || t.class.possible_emergency
                && !t.class.unsure
                && t.parts
                    .iter()
                    .any(|p| p.class.urgency == Urgency::Emergency))
        && !steers(&r)
        && !answers_no
        && !withdrawn;
    if let State::Idle {
        emergency: Some(which),
        placeless,
        ref waiting,
        ..
    } = state
    {
        let filed = Filed {
            which,
            placeless,
            waiting: waiting.clone(),
        };
        if let Some(next) = after_emergency(filed, t, &r, sure_emergency, ctx, fx) {
            return next;
        }
    }
    // "要不要打119？" while asked whether it goes on: a question, answered with the guidance;
    // the question to them stands.
    if let State::EmergencyCheck { req, which } = &state {
        let worse = r.still == Some(true);
        if r.is(Intent::Alarm) && !sure_emergency && !worse && ctx.intents.asks(&t.text) {
            fx.push(Effect::Reply(Msg::key(Prompt::Guide(*which))));
            fx.push(Effect::Reply(Msg::key(Prompt::PossibleAsk)));
            return State::EmergencyCheck {
                req: req.clone(),
                which: *which,
            };
        }
    }
    // "…最后还是自己打的119" in a story of last night is no call for help now.
    let alarm = r.is(Intent::Alarm) && !t.class.hazard_over;
    if alarm || sure_emergency {
        // The need that is the emergency decides its department and guidance.
        let part = match t.class.urgency {
            Urgency::Emergency => None,
            _ => t
                .parts
                .iter()
                .find(|p| p.class.urgency == Urgency::Emergency),
        };
        // "廚房有陣煤氣味,仲有想問管理費…?10座3樓A室": the place may be told in another part.
        let told = match part {
            Some(p) if !p.class.slots.has_place() && t.class.slots.has_place() => {
                std::borrow::Cow::Owned(placed_as(p, t))
            }
            Some(p) => std::borrow::Cow::Borrowed(p),
            None => std::borrow::Cow::Borrowed(t),
        };
        let told = told.as_ref();
        let next = match state {
            State::Collecting { req, .. }
            | State::Confirming { req, .. }
            | State::Correcting { req, .. }
            | State::EmergencyCheck { req, .. } => {
                let next = emergency(Some(req), told, ctx.unit_on_record.clone(), fx);
                fx.push(Effect::ClearDraft);
                next
            }
            _ => emergency(None, told, ctx.unit_on_record.clone(), fx),
        };
        // "…my kitchen floor all flooded. And also I want ask the parking fee how to pay":
        // a question the FAQ answers, told beside the emergency, is answered after it; the
        // first other need waits until the resident comes back to it.
        let others: Vec<&TextInput> = t
            .parts
            .iter()
            .filter(|p| {
                p.class.urgency != Urgency::Emergency
                    && !p.class.possible_emergency
                    && matches!(p.class.kind, Kind::Repair | Kind::Complaint | Kind::Inquiry)
                    && !std::ptr::eq(*p, told)
            })
            .collect();
        for id in others
            .iter()
            .filter(|p| p.class.kind == Kind::Inquiry)
            .filter_map(|p| ctx.faq.find(&p.simplified))
        {
            fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() }));
        }
        return match next {
            State::Idle {
                emergency: Some(which),
                placeless,
                ..
            } => State::Idle {
                clarified: false,
                emergency: Some(which),
                placeless,
                asked: None,
                // "…另外楼上天天半夜装修": the place told for the message is its place too.
                waiting: others.first().map(|p| {
                    Box::new(if p.class.slots.has_place() {
                        (*p).clone()
                    } else {
                        placed_as(p, t)
                    })
                }),
            },
            next => next,
        };
    }
    if t.class.possible_emergency
        && !just_a_place
        && !just_a_yes
        && !just_a_fix
        && !withdrawn
        && !matches!(state, State::EmergencyCheck { .. })
    {
        return possible_emergency(state, t, ctx, fx);
    }
    match r.intent {
        Some(Intent::Handoff) if loose_ok => return handoff(fx),
        Some(Intent::Status)
            if loose_ok
                && (!r.loose
                    || t.class.kind != Kind::Repair
                    || mine(t)
                    || ctx.intents.asks_status_first(&t.text)) =>
        {
            fx.push(Effect::ListStatus);
            if state.request().is_some() && !matches!(state, State::DraftOffered { .. }) {
                fx.push(Effect::Reply(Msg::key(Prompt::StatusThenBack)));
            }
            return state;
        }
        _ => {}
    }
    // A question the FAQ answers is answered wherever it is asked; the request waits.
    let pending = !matches!(state, State::Idle { .. } | State::DraftOffered { .. });
    if pending && r.intent.is_none() && t.class.kind == Kind::Inquiry {
        if let Some(id) = ctx.faq.find(&t.simplified) {
            fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() }));
            return reprompt(state, fx);
        }
    }
    // A loose reading that a concrete problem outweighs is no reading at all.
    let r = if r.loose && !loose_ok {
        Reading::default()
    } else {
        r
    };
    match state {
        State::Idle {
            clarified, asked, ..
        } => {
            // "要唔要錢㗎?" after an answer about renovation permits: a follow-up with no
            // topic of its own is asked with the question before it.
            if let Some(next) = asks_again(asked.as_deref(), t, &r, ctx, fx) {
                return next;
            }
            idle_text(clarified, t, &r, ctx, fx)
        }
        State::Collecting {
            req,
            awaiting,
            nudged,
        } => collecting_text(req, awaiting, nudged, t, &r, ctx, fx),
        State::Confirming { req, nudged } => confirming_text(req, nudged, t, &r, ctx, fx),
        State::Correcting { req, nudged } => correcting_text(req, nudged, t, &r, ctx, fx),
        State::EmergencyCheck { req, which } => emergency_check(req, which, t, &r, ctx, fx),
        State::DraftOffered { req, held } => match r.intent {
            Some(Intent::Digit(1) | Intent::Confirm | Intent::Continue) => {
                next_question(req, ctx, fx)
            }
            Some(Intent::Digit(2) | Intent::Deny | Intent::Cancel) => {
                fx.push(Effect::ClearDraft);
                fx.push(Effect::Reply(Msg::key(Prompt::DraftDropped)));
                match held {
                    Some(h) => on_text(State::idle(), &h, ctx, fx),
                    None => {
                        fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
                        State::idle()
                    }
                }
            }
            // Something new: the draft stays kept, the new message is dealt with.
            _ => idle_text(false, t, &r, ctx, fx),
        },
    }
}

/// One need of a message, with the place the whole message names.
fn placed_as(part: &TextInput, whole: &TextInput) -> TextInput {
    let mut p = part.clone();
    let w = &whole.class.slots;
    p.class.slots.building = w.building.clone();
    p.class.slots.unit = w.unit.clone();
    p.class.slots.room = w.room.clone();
    p.class.slots.floor = w.floor.clone();
    p.class.slots.spot = w.spot.clone();
    p
}

/// A message that tells a problem and names no place: a repair or complaint the lexicon
/// is sure of, long enough to be a description.
fn describes_problem(t: &TextInput) -> bool {
    matches!(t.class.kind, Kind::Repair | Kind::Complaint)
        && t.class.confidence >= 0.6
        && !t.class.slots.has_place()
        && weight(&t.text) >= 6
}

/// Just after an emergency was filed: more about the same hazard ("还在冒烟", "要不要打
/// 119？", "yes, still there") is told to the duty team's ticket, not filed again, and the
/// guidance is given again; word that it is over is acknowledged (the duty team still
/// comes to check). `None`: something else, handled as in any idle state. A sure
/// emergency that names a place is a new one.
/// The emergency filed in this session.
#[derive(Clone)]
struct Filed {
    which: Emergency,
    /// Filed without a place: the duty team is still waiting to hear where.
    placeless: bool,
    /// Another need told with it, not yet taken up.
    waiting: Option<Box<TextInput>>,
}

impl Filed {
    /// Still just after the emergency, with what waits.
    fn stays(&self, placeless: bool) -> State {
        State::Idle {
            clarified: false,
            emergency: Some(self.which),
            placeless,
            asked: None,
            waiting: self.waiting.clone(),
        }
    }
}

fn after_emergency(
    filed: Filed,
    t: &TextInput,
    r: &Reading,
    sure_emergency: bool,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> Option<State> {
    let (which, placeless) = (filed.which, filed.placeless);
    // "但係你哋個電話成個鐘冇人聽，我要投訴": a complaint about how it was handled is a new
    // request, not more news of the emergency.
    if ctx.intents.asks_to_complain(&t.text) && !sure_emergency {
        return None;
    }
    // "电梯停了有人被困" says "停了" and is no news that it is over, but a no first ("no it
    // stopped, … the smell is gone") says it is, whatever follows.
    let says_no = matches!(r.intent, Some(Intent::Deny | Intent::Correct));
    // "取消吧，是油漆味": a false alarm is over too; the emergency itself is never
    // withdrawn from chat (the duty team still checks).
    // "门打开了，我出来了，谢谢你们": the reading of an emergency that words of no hazard of
    // their own get from what came before does not hold the end back.
    // ("𨋢停咗喺12樓同13樓中間" says "停咗" and is still no end.)
    let over = (!sure_emergency || says_no)
        && (r.is(Intent::Done)
            || r.is(Intent::Cancel)
            || r.still == Some(false) && !r.is(Intent::Confirm))
        || !t.class.evident
            && r.still != Some(true)
            && (r.is(Intent::Done)
                // "門開了 她沒事 原來是助聽器沒戴睡著了沒聽到 不好意思麻煩你們了"
                || ctx.intents.done_anywhere(&t.text) && !ctx.intents.not_fixed(&t.text));
    // "人已经救出来了，谢谢你们。对了楼道灯那个也帮我报一下吧": the other need told with the
    // emergency, named again, is taken up, with the news first.
    if let Some(other) = filed.waiting.as_deref() {
        let names_it = overlap(&t.simplified, &other.simplified) >= 2;
        if names_it && r.still != Some(true) && !ctx.intents.asks_what_to_do(&t.text) {
            fx.push(Effect::TellEmergency(t.text.trim().to_owned()));
            let (key, next) = if over {
                (Prompt::EmergencyOver, State::idle())
            } else {
                (
                    Prompt::EmergencyNoted,
                    State::after_emergency(which, placeless),
                )
            };
            fx.push(Effect::Reply(Msg::key(key)));
            return Some(take_up(other, t, next, ctx, fx));
        }
    }
    if over {
        fx.push(Effect::TellEmergency(t.text.trim().to_owned()));
        fx.push(Effect::Reply(Msg::key(Prompt::EmergencyOver)));
        // "冇再漏喇 不過依家成間屋冇水用": over, and a new trouble told after the turn is a
        // request of its own (the hazard that was is no part of it).
        if let Some(need) = need_after_contrast(t, ctx) {
            return Some(new_request(&need, None, ctx, fx));
        }
        return Some(State::idle());
    }
    if r.is(Intent::Thanks) {
        fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
        return Some(filed.stays(placeless));
    }
    // "消防車到了,我們已經下到一樓了": news that help came, not the emergency again, unless
    // it also says things go on ("…but the smoke is still coming").
    let news = ctx.intents.news(&t.text) && r.still != Some(true);
    let pressing = r.still == Some(true)
        || !news
            && (r.is(Intent::Alarm)
                || t.class.possible_emergency
                || sure_emergency && !t.class.slots.has_place());
    // "I live in 15-0304 myself, should we get out of the building?": what to do now, in
    // words that show no hazard of their own, is no new emergency wherever they live.
    let what_to_do = ctx.intents.asks_what_to_do(&t.text);
    if what_to_do && !t.class.evident && r.still != Some(true) {
        guidance_again(t, which, fx);
        return Some(filed.stays(placeless));
    }
    // "any update? still dark here", "师傅到哪了啊 水还在冒": where things stand, and the
    // guidance again when it still goes on; asked at the end of news too ("瓦斯總開關關了 …
    // 我們全家先下樓到中庭 你們的人出發了沒").
    // A new emergency somewhere else asked about in the same breath ("3栋1101 厨房着火了
    // 什么时候来") is still filed.
    let new_one = sure_emergency && t.class.slots.has_place() && !news;
    if (r.is(Intent::Status) || ctx.intents.says_status(&t.text)) && !new_one {
        fx.push(Effect::ListStatus);
        if pressing {
            fx.push(Effect::TellEmergency(t.text.trim().to_owned()));
            fx.push(Effect::Reply(Msg::key(Prompt::Guide(which))));
            fx.push(Effect::Reply(Msg::key(Prompt::EmergencyDuty)));
        }
        return Some(filed.stays(placeless));
    }
    let on_its_own = t.parts.is_empty() && !ctx.intents.opens_with_connector(&t.text);
    // Short, on its own and asking nothing the FAQ answers: about the emergency ("按了警铃
    // 没人应 你们快点来啊", "我已經到樓下了", "使唔使閂咗總水掣先？"). With a place it is
    // about it only when it tells no problem ("係電錶房入面近門口嗰個箱,1203門口隔籬");
    // "3栋1101 厨房水管也漏了" is a new request.
    let places_it =
        !t.class.slots.has_place() || t.class.kind == Kind::Other || address_only(&t.simplified);
    let about_it_in_words = r.intent.is_none()
        && weight(&t.text) <= 30
        && t.class.kind != Kind::Suggestion
        && on_its_own
        && places_it
        && ctx.faq.find(&t.simplified).is_none();
    // The place the duty team is waiting for ("Block 2, the left-hand lift in the lobby",
    // "3栋2单元1101"): it goes on the ticket, not into a new request.
    if placeless && t.class.slots.has_place() && on_its_own {
        let short = address_only(&t.simplified) || weight(&t.text) <= 30;
        if let Some(place) = Place::from_slots(&t.class.slots).filter(|_| short) {
            if ctx.unit_on_record.is_none() && place.is_unit() {
                fx.push(Effect::RememberUnit(place.clone()));
            }
            fx.push(Effect::LocateEmergency(place.clone()));
            fx.push(Effect::Reply(Msg::with(
                Prompt::EmergencyLocated,
                vec![("place", Var::Place(Some(place)))],
            )));
            fx.push(Effect::Reply(Msg::key(Prompt::EmergencyDuty)));
            return Some(filed.stays(false));
        }
    }
    let asks = t.text.contains(['?', '？']) || ctx.intents.asks(&t.text);
    // "I closed the main valve. need me stay home or not?": news told with a question; the
    // news goes to the duty team and the guidance comes again. A question about what to do
    // now ("已经打了119了 我们要不要先下楼?", "should I shut it off?") is answered with the
    // guidance first, below.
    // "ok I've put buckets down. so about the fee?", "…now what about the drilling?": back
    // to the other need told with the emergency, with news or a question.
    if let Some(other) = filed.waiting.as_deref() {
        if news && asks && !what_to_do && r.still != Some(true) {
            noted(t, fx);
            let next = State::after_emergency(which, placeless);
            return Some(take_up(other, t, next, ctx, fx));
        }
    }
    // A question the FAQ answers ("ok I put buckets. and the parking fee question?") is
    // answered instead.
    if news && asks && !what_to_do && on_its_own && !t.class.slots.has_place() {
        noted(t, fx);
        match ctx.faq.find(&t.simplified) {
            Some(id) => fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() })),
            None => {
                fx.push(Effect::Reply(Msg::key(Prompt::Guide(which))));
                fx.push(Effect::Reply(Msg::key(Prompt::EmergencyDuty)));
            }
        }
        return Some(filed.stays(placeless));
    }
    if pressing
        || (about_it_in_words || news && what_to_do && on_its_own)
            && asks
            && !t.class.slots.has_place()
    {
        // Still going on, or a question about it: the guidance again.
        guidance_again(t, which, fx);
        return Some(filed.stays(placeless));
    }
    // "伯伯家人嚟咗,救護車都到咗喇。狗屎嗰樣你哋都要跟下": the news to the duty team, and
    // the other need taken as a request of its own.
    if news {
        let other = t.parts.iter().find(|p| {
            !ctx.intents.news(&p.text)
                && matches!(p.class.kind, Kind::Repair | Kind::Complaint)
                && p.class.urgency != Urgency::Emergency
                && !p.class.possible_emergency
        });
        if let Some(other) = other {
            noted(t, fx);
            return Some(new_request(other, None, ctx, fx));
        }
        // "白車嚟咗,佢而家清醒。不過泳池邊啲地磚好滑…你哋真係要處理吓": the news, and the
        // trouble told after the turn is a request of its own.
        // ("我閂咗總掣喇 但係水已經流到客廳" is more news of the emergency itself.)
        if let Some(need) = need_after_contrast(t, ctx).filter(|_| t.class.kind == Kind::Complaint)
        {
            noted(t, fx);
            return Some(new_request(&need, None, ctx, fx));
        }
    }
    // "邻居…已经进去了 救护车也到了 谢谢你们啊": news, however many clauses it has, unless
    // one of them is a new problem.
    let news_only = news && (on_its_own || !matches!(t.class.kind, Kind::Repair | Kind::Complaint));
    // "好,我而家帶埋個仔落樓下等": a yes with what they are doing now is news too.
    let yes_and_news = r.yes_then.is_some() && on_its_own && !t.class.slots.has_place();
    if r.is(Intent::Confirm) || about_it_in_words || news_only || yes_and_news {
        // News of it ("救護車到咗", "消防車到了，我們已經下到一樓"): told to the duty team.
        noted(t, fx);
        return Some(filed.stays(placeless));
    }
    None
}

/// After news of an emergency, a new trouble told after the turn ("冇再漏喇 不過依家成間屋冇
/// 水用"): a request of its own, the hazard that was no part of it.
fn need_after_contrast(t: &TextInput, ctx: &Ctx) -> Option<TextInput> {
    let rest = ctx
        .intents
        .after_contrast(&t.text)
        .filter(|_| matches!(t.class.kind, Kind::Repair | Kind::Complaint))
        .filter(|rest| !ctx.intents.done_anywhere(rest) && !ctx.intents.news(rest))?;
    let mut need = t.read_as(|c| {
        c.possible_emergency = false;
        if c.urgency == Urgency::Emergency {
            c.urgency = Urgency::Urgent;
        }
    });
    need.simplified = words::to_simplified(&rest);
    need.text = rest;
    need.parts.clear();
    Some(need)
}

/// Told to the duty team's ticket, and the guidance again: the emergency still matters.
fn guidance_again(t: &TextInput, which: Emergency, fx: &mut Vec<Effect>) {
    fx.push(Effect::TellEmergency(t.text.trim().to_owned()));
    fx.push(Effect::Reply(Msg::key(Prompt::EmergencyFollowUp)));
    fx.push(Effect::Reply(Msg::key(Prompt::Guide(which))));
    fx.push(Effect::Reply(Msg::key(Prompt::EmergencyDuty)));
}

/// Told to the duty team's ticket and acknowledged.
fn noted(t: &TextInput, fx: &mut Vec<Effect>) {
    fx.push(Effect::TellEmergency(t.text.trim().to_owned()));
    fx.push(Effect::Reply(Msg::key(Prompt::EmergencyNoted)));
}

/// A question answered from the FAQ, or passed on to staff as an inquiry.
fn answer_or_pass_on(q: &TextInput, ctx: &Ctx, fx: &mut Vec<Effect>) {
    match ctx.faq.find(&q.simplified) {
        Some(id) => fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() })),
        None => file_directly(Kind::Inquiry, Prompt::InquiryFiled, q, fx),
    }
}

/// The need that waited behind an emergency, taken up: a repair or complaint read back
/// (with the place this message names, if any), a question answered or passed on, after
/// which the conversation goes on in `next`.
fn take_up(
    other: &TextInput,
    t: &TextInput,
    next: State,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> State {
    match other.class.kind {
        Kind::Repair | Kind::Complaint => {
            new_request(other, Place::from_slots(&t.class.slots), ctx, fx)
        }
        _ => {
            answer_or_pass_on(other, ctx, fx);
            next
        }
    }
}

/// "My repair", "之前报的": the resident asks about what they already reported.
fn mine(t: &TextInput) -> bool {
    const MINE: &[&str] = &[
        "我的",
        "之前",
        "上次",
        "报的",
        "报嘅",
        "报嗰",
        "报咗",
        "报了",
        "搞成点",
        "有冇人跟",
        "已经报",
        "修好",
        "搞掂",
        "还没",
        "怎么样了",
        "师傅",
        "my ",
        "i reported",
        "fixed yet",
        "anyone coming",
        "someone coming",
    ];
    let lower = t.simplified.to_lowercase();
    MINE.iter().any(|w| lower.contains(w))
}

/// Small talk that needs an answer but changes nothing: the answer, then the question
/// still waiting (if any).
fn small_talk(r: &Reading) -> Option<Prompt> {
    match r.intent {
        Some(Intent::Greeting) => Some(Prompt::Greeting),
        Some(Intent::Identity) => Some(Prompt::Identity),
        Some(Intent::Venting) => Some(Prompt::Apology),
        _ => None,
    }
}

/// Idle after a question was answered or passed on, remembering it.
fn answered(question: &TextInput) -> State {
    State::Idle {
        clarified: false,
        emergency: None,
        placeless: false,
        asked: Some(question.simplified.trim().to_owned()),
        waiting: None,
    }
}

/// A question that follows one just asked and names no topic the FAQ knows: answered as
/// the two together, or passed on with the first for context. `None` when it is not such a
/// follow-up.
fn asks_again(
    asked: Option<&str>,
    t: &TextInput,
    r: &Reading,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> Option<State> {
    let before = asked?;
    let follow_up = r.intent.is_none()
        && matches!(t.class.kind, Kind::Inquiry | Kind::Other)
        && !t.class.slots.has_place()
        && ctx.intents.asks(&t.text)
        && ctx.intents.leans_on_before(&t.text)
        && ctx.faq.find(&t.simplified).is_none();
    if !follow_up {
        return None;
    }
    let together = format!("{before} {}", t.simplified.trim());
    if let Some(id) = ctx.faq.find(&together) {
        fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() }));
    } else {
        let mut both = t.clone();
        both.text = format!("{before} / {}", t.text.trim());
        file_directly(Kind::Inquiry, Prompt::InquiryFiled, &both, fx);
    }
    Some(State::Idle {
        clarified: false,
        emergency: None,
        placeless: false,
        asked: Some(together),
        waiting: None,
    })
}

fn idle_text(
    clarified: bool,
    t: &TextInput,
    r: &Reading,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> State {
    // "and the water shut-off?": a repair the classifier is unsure of, asked as a question,
    // with no hazard and no place, is a question.
    let question = (t.class.kind == Kind::Repair
        && t.class.confidence < UNSURE_REPAIR
        && !t.class.evident
        && !t.class.slots.has_place()
        && t.text.trim_end().ends_with(['?', '？']))
    .then(|| {
        t.read_as(|c| {
            c.kind = Kind::Inquiry;
            c.department = Department::CustomerService;
        })
    });
    let t = question.as_ref().unwrap_or(t);
    // "灯是换了 今天晚上又不亮了 你们师傅是不是没修好": the repair just marked done did not
    // hold; that ticket is reopened, not a new request started.
    if ctx.resolved && ctx.intents.not_fixed(&t.text) {
        fx.push(Effect::ReopenResolved(t.text.trim().to_owned()));
        return State::idle();
    }
    // "通了通了 师傅人很好 走之前还帮把地拖了 非常满意👍" just after the job was marked done:
    // the loop closing, answered as thanks, not praise filed as a new record (asking for it
    // to go on record, "想表扬一下…", still is).
    if ctx.resolved
        && ctx.intents.pleased(&t.text)
        && matches!(t.class.kind, Kind::Suggestion | Kind::Other)
        && !asks_to_praise(&t.simplified)
    {
        fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
        return State::idle();
    }
    // "师傅来过了，放完气现在热乎了，谢谢啊": thanks for a job done or a technician come,
    // with no question and no hazard in it, closes the loop whatever the job was.
    if r.intent.is_none()
        && ctx.intents.thanks_for_done(&t.text)
        && !ctx.intents.asks(&t.text)
        && !t.class.evident
        && weight(&t.text) <= 40
    {
        fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
        return State::idle();
    }
    // "3点我还在上班啊 能不能改到5点半以后": about the visit for a request already filed,
    // told to its staff (the engine says there is none if so).
    if r.intent.is_none()
        && ctx.intents.reschedules(&t.text)
        && !t.class.slots.has_place()
        // A repair reading only when it is a weak one or follows a yes ("可以 明天早上我都在
        // 家 門鈴按兩下就好", "3pm ok, my husband will be home"): "门锁坏了 我明天不在家" is a
        // repair.
        && (!matches!(t.class.kind, Kind::Repair)
            || (r.yes_then.is_some() || t.class.confidence < 0.6) && !t.class.evident)
    {
        fx.push(Effect::TellNewest(t.text.trim().to_owned()));
        return State::idle();
    }
    // "我要报修 22-1-1603": the menu's request with its place; the problem comes next.
    if r.intent.is_none() && t.class.slots.has_place() {
        let rest = crate::understanding::without_address(&t.text);
        if let Some(kind) = match ctx.intents.starts_request(&rest) {
            Some(Intent::StartRepair) => Some(Kind::Repair),
            Some(Intent::StartComplaint) => Some(Kind::Complaint),
            _ => None,
        } {
            let mut req = Request::blank(Some(kind));
            req.merge_slots(&t.class.slots);
            remember(&req, ctx, fx);
            return ask_for_problem(req, fx);
        }
    }
    match r.intent {
        Some(Intent::Digit(1) | Intent::StartRepair) => return start_from_menu(Kind::Repair, fx),
        Some(Intent::Digit(2) | Intent::StartComplaint) => {
            return start_from_menu(Kind::Complaint, fx)
        }
        Some(Intent::Digit(3)) => {
            fx.push(Effect::Reply(Msg::key(Prompt::AskInquiry)));
            return State::idle();
        }
        Some(Intent::Digit(4)) => {
            fx.push(Effect::ListStatus);
            return State::idle();
        }
        Some(Intent::Digit(5)) => return handoff(fx),
        // "are you a bot? anyway the toilet in 3栋1101 is blocked": answered, and the need
        // taken as well.
        Some(Intent::Identity)
            if r.loose && matches!(t.class.kind, Kind::Repair | Kind::Complaint) =>
        {
            if let Some(p) = small_talk(r) {
                fx.push(Effect::Reply(Msg::key(p)));
            }
        }
        Some(Intent::Greeting | Intent::Identity) => {
            keep_home_told(t, ctx, fx);
            if let Some(p) = small_talk(r) {
                fx.push(Effect::Reply(Msg::key(p)));
            }
            fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
            return State::idle();
        }
        Some(Intent::Venting) => {
            // The apology comes first; what they say next is the complaint.
            fx.push(Effect::Reply(Msg::key(Prompt::Apology)));
            return State::Collecting {
                req: Request::blank(Some(Kind::Complaint)),
                awaiting: Awaiting::Problem,
                nudged: false,
            };
        }
        Some(Intent::Thanks) => {
            fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
            return State::idle();
        }
        Some(Intent::Done) => {
            fx.push(Effect::Reply(Msg::key(Prompt::AckDone)));
            return State::idle();
        }
        // "对" / "ok" with nothing waiting for it: what was done is acknowledged, not
        // met with "I didn't understand". "那帮我报个修，…" is a request, not a yes.
        Some(Intent::Confirm) if !r.loose => {
            fx.push(Effect::Reply(Msg::key(Prompt::Noted)));
            return State::idle();
        }
        Some(Intent::Confirm) => {}
        // Nothing is being filled in: "取消" means the request just filed, if nobody has
        // taken it yet (the engine says which, or that there is nothing to cancel).
        Some(Intent::Cancel) if ctx.intents.withdraws(&t.text) => {
            fx.push(Effect::CancelNewest);
            return State::idle();
        }
        // "算了，跟你们说也没用，垃圾房三天没人清理": what follows is the message.
        Some(Intent::Cancel) => {}
        Some(Intent::End) => {
            fx.push(Effect::Reply(Msg::key(Prompt::NothingPending)));
            fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
            return State::idle();
        }
        Some(Intent::Correct | Intent::Alarm) | None => {}
        Some(_) => return unclear(clarified, fx),
    }
    // "my smoke alarm went off just now cos I burnt some toast, everything's fine": told so
    // we know, asking nothing and needing nothing.
    if r.intent.is_none()
        && explained_away(t, ctx)
        && !matches!(t.class.kind, Kind::Repair | Kind::Complaint)
    {
        fx.push(Effect::Reply(Msg::key(Prompt::Noted)));
        return State::idle();
    }
    if let Some(state) = several_needs(t, ctx, fx) {
        return state;
    }
    match t.class.kind {
        // Only an address ("3栋1101"): the place comes first, the problem next.
        _ if t.class.slots.has_place() && address_only(&t.simplified) => {
            let mut req = Request::blank(None);
            req.merge_slots(&t.class.slots);
            remember(&req, ctx, fx);
            fx.push(Effect::Reply(Msg::with(
                Prompt::PlaceFirst,
                vec![("place", Var::Place(req.place.clone()))],
            )));
            State::Collecting {
                req,
                awaiting: Awaiting::Problem,
                nudged: false,
            }
        }
        // "另外问下，听邻居说明年物业费要涨价，是真的吗": said to be a question, and one; its
        // subject is no complaint to read back.
        Kind::Complaint | Kind::Suggestion
            if (ctx.intents.asks_outright(&t.text) || ctx.intents.asks_following_on(&t.text))
                && !t.class.evident
                && !t.class.slots.has_place() =>
        {
            answer_or_pass_on(t, ctx, fx);
            answered(t)
        }
        Kind::Repair | Kind::Complaint => new_request(t, None, ctx, fx),
        Kind::Inquiry => match ctx.faq.find(&t.simplified) {
            Some(id) => {
                fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() }));
                answered(t)
            }
            None if ctx.intents.asks_to_come(&t.text) => {
                // "那個警報器還一直閃紅燈，可以派人來檢查一下嗎？": a repair to read back.
                let asked = t.read_as(|c| {
                    c.kind = Kind::Repair;
                    if c.department == Department::CustomerService {
                        c.department = Department::Engineering;
                    }
                });
                new_request(&asked, None, ctx, fx)
            }
            // "好啦 我問下業主先 唔該": thanks that ask nothing close the exchange, however
            // much the words sit near a question.
            None if ctx.intents.is_thankful(&t.text)
                && !ctx.intents.asks(&t.text)
                && weight(&t.text) <= 20 =>
            {
                fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
                State::idle()
            }
            None => {
                file_directly(Kind::Inquiry, Prompt::InquiryFiled, t, fx);
                answered(t)
            }
        },
        Kind::Suggestion => {
            // "热水器好了，谢谢师傅" is the loop closing; praise to record says so
            // ("表扬…", "点赞") or takes the time to tell what was good.
            let outright = is_outright_praise(&t.simplified);
            let closing = !outright && weight(&t.text) <= 24;
            if ctx.intents.is_thankful(&t.text) && closing {
                // "好的谢谢师傅": closing the loop, not a record for the staff file.
                fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
                return State::idle();
            }
            let key = if is_praise(&t.simplified) {
                Prompt::PraiseThanks
            } else {
                Prompt::SuggestionThanks
            };
            file_directly(Kind::Suggestion, key, t, fx);
            State::idle()
        }
        Kind::Other => match ctx.faq.find(&t.simplified) {
            Some(id) => {
                fx.push(Effect::Reply(Msg::Faq { id: id.to_owned() }));
                answered(t)
            }
            None if ctx.intents.is_thankful(&t.text) => {
                fx.push(Effect::Reply(Msg::key(Prompt::YouAreWelcome)));
                State::idle()
            }
            // Courtesy first and chat after ("Good morning! Just moved in last week…",
            // "行 知道了 态度还算可以"): answered as the courtesy, not "I didn't understand".
            None => match ctx.intents.opening(&t.text) {
                // "Hi, I need to report a problem": the greeting returned, then the question.
                Some(Intent::Greeting) => {
                    keep_home_told(t, ctx, fx);
                    fx.push(Effect::Reply(Msg::key(Prompt::Greeting)));
                    unclear(clarified, fx)
                }
                Some(Intent::Confirm | Intent::Done) => {
                    fx.push(Effect::Reply(Msg::key(Prompt::Noted)));
                    State::idle()
                }
                _ => unclear(clarified, fx),
            },
        },
    }
}

/// "Hi!! We just moved into 9-2-1503 last week 😊": a home told with a greeting is kept, so
/// that "same flat" in a later message needs no asking.
fn keep_home_told(t: &TextInput, ctx: &Ctx, fx: &mut Vec<Effect>) {
    if ctx.unit_on_record.is_some() {
        return;
    }
    if let Some(place) = Place::from_slots(&t.class.slots).filter(Place::is_unit) {
        fx.push(Effect::RememberUnit(place));
    }
}

/// The rooms of a home a problem is told in.
const HOME_ROOMS: &[&str] = &[
    "卫生间",
    "洗手间",
    "厕所",
    "浴室",
    "厨房",
    "客厅",
    "饭厅",
    "餐厅",
    "主卧",
    "次卧",
    "卧室",
    "房间",
    "阳台",
    "书房",
    "衛生間",
    "洗手間",
    "廁所",
    "廚房",
    "客廳",
    "飯廳",
    "餐廳",
    "臥室",
    "房間",
    "陽台",
    "書房",
    "露台",
    "bathroom",
    "toilet",
    "kitchen",
    "living room",
    "bedroom",
    "balcony",
    "dining room",
    "study",
];

pub(super) fn home_room(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    // Earliest named first: "厨房 不是卫生间" names the kitchen.
    HOME_ROOMS
        .iter()
        .filter_map(|r| lower.find(r).map(|i| (i, *r)))
        .min_by_key(|(i, r)| (*i, std::cmp::Reverse(r.len())))
        .map(|(_, r)| r)
}

/// "我家", "家里", "at home": a home without its address.
fn names_home_only(simplified: &str) -> bool {
    const ENGLISH: &[&str] = &[
        "in",
        "at",
        "my",
        "home",
        "flat",
        "apartment",
        "house",
        "the",
        "our",
    ];
    let lower = simplified.to_lowercase();
    let rest = [
        "就在", "在", "我", "家里", "家", "屋企", "里面", "里", "的", "啊", "呀",
    ]
    .iter()
    .fold(lower, |acc, w| acc.replace(w, ""));
    rest.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation() || "，。！".contains(c))
        .all(|tok| tok.is_empty() || ENGLISH.contains(&tok))
}

/// Nothing but an address: "3栋2单元1101", "Block 3 #11-02", "五栋二单元六零二".
fn address_only(simplified: &str) -> bool {
    const WORDS: &[&str] = &[
        "building", "block", "blk", "tower", "unit", "room", "flat", "floor", "apt", "no",
    ];
    const MARKS: &str = "栋幢座号楼单元室房层期区我家住在是";
    const NUMERALS: &str = "零〇一二三四五六七八九十两幺";
    let lower = simplified.to_lowercase();
    let mut tokens = lower
        .split(|c: char| c.is_whitespace() || ",，、.。:：".contains(c))
        .filter(|t| !t.is_empty())
        .peekable();
    tokens.peek().is_some()
        && tokens.all(|tok| {
            let shape = tok.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || "-#/".contains(c)
                    || MARKS.contains(c)
                    || NUMERALS.contains(c)
            });
            let numbered = tok
                .chars()
                .any(|c| c.is_ascii_digit() || NUMERALS.contains(c));
            WORDS.contains(&tok) || shape && (numbered || tok.chars().count() == 1)
        })
}

/// Asking for praise to be put on record ("想表扬一下王师傅", "送面锦旗"), not only saying
/// the job was good.
fn asks_to_praise(simplified: &str) -> bool {
    let lower = simplified.to_lowercase();
    ["表扬", "锦旗", "嘉奖", "praise", "commend"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Praise said as praise, worth a record for the staff file.
fn is_outright_praise(simplified: &str) -> bool {
    let lower = simplified.to_lowercase();
    [
        "表扬",
        "锦旗",
        "点赞",
        "服务好",
        "服务很好",
        "态度好",
        "态度很好",
        "很专业",
        "非常专业",
        "praise",
        "commend",
        "great job",
        "well done",
        "excellent",
        "outstanding",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A repair or complaint starting from this message; `place` stands in when the message
/// names none (a second need told with the first one's address).
fn new_request(t: &TextInput, place: Option<Place>, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    let kind = match t.class.kind {
        Kind::Complaint => Kind::Complaint,
        _ => Kind::Repair,
    };
    let mut req = Request::blank(Some(kind));
    req.problem = Some(t.text.trim().to_owned());
    req.absorb(&t.class);
    if req.place.is_none() {
        req.place = place.or_else(|| ctx.unit_on_record.clone());
    } else {
        remember(&req, ctx, fx);
    }
    next_question(req, ctx, fx)
}

/// A message with more than one need ("阳台晾衣架掉了一半，另外停车月卡怎么续"): the first
/// repair or complaint is taken up, questions the FAQ knows are answered at once, others
/// are passed to the desk, and further repairs wait their turn in the request. `None` when
/// the message holds one need.
fn several_needs(t: &TextInput, ctx: &Ctx, fx: &mut Vec<Effect>) -> Option<State> {
    if t.parts.len() < 2 {
        return None;
    }
    let mut requests: Vec<&TextInput> = Vec::new();
    let mut answers: Vec<String> = Vec::new();
    let mut questions: Vec<&TextInput> = Vec::new();
    let mut asked: Vec<String> = Vec::new();
    for p in &t.parts {
        match p.class.kind {
            Kind::Repair | Kind::Complaint => requests.push(p),
            Kind::Inquiry | Kind::Other => match ctx.faq.find(&p.simplified) {
                Some(id) => {
                    answers.push(id.to_owned());
                    asked.push(p.simplified.to_lowercase());
                }
                None if p.class.kind == Kind::Inquiry => {
                    questions.push(p);
                    asked.push(p.simplified.to_lowercase());
                }
                None => {}
            },
            Kind::Suggestion => {}
        }
    }
    if requests.len() + answers.len() + questions.len() < 2 {
        return None;
    }
    let whole_place = Place::from_slots(&t.class.slots);
    let state = match requests.split_first() {
        Some((first, rest)) => {
            let mut state = new_request(first, whole_place.clone(), ctx, fx);
            if !rest.is_empty() {
                fx.push(Effect::Reply(Msg::key(Prompt::MultiWhichFirst)));
                if let Some(req) = state.request_mut() {
                    req.next = rest.iter().map(|p| (*p).clone()).collect();
                    req.told = Some(Box::new((*first).clone()));
                }
            }
            state
        }
        None => State::idle(),
    };
    if state.request().is_some() && !(answers.is_empty() && questions.is_empty()) {
        fx.push(Effect::Reply(Msg::key(Prompt::MultiAlso)));
    }
    let mut state = state;
    if let Some(req) = state.request_mut() {
        req.asked = asked;
    }
    for id in answers {
        fx.push(Effect::Reply(Msg::Faq { id }));
    }
    for q in questions {
        file_directly(Kind::Inquiry, Prompt::InquiryFiled, q, fx);
    }
    Some(state)
}

/// "先弄渗水吧 灰的事回头再说", "toilet first lah", "包裹嗰个先答我": the resident chooses
/// which of the needs they named to take first. A question the FAQ knows is answered (again)
/// and the request waits; another need named with this one becomes the request, and this
/// one waits its turn. `None` when the message chooses nothing.
fn choose_first(req: &Request, t: &TextInput, ctx: &Ctx, fx: &mut Vec<Effect>) -> Option<State> {
    let clause = chosen_clause(t)?;
    // The request being confirmed stays, read back again.
    let again = |fx: &mut Vec<Effect>| {
        fx.push(Effect::Reply(read_back(req)));
        State::Confirming {
            req: req.clone(),
            nudged: false,
        }
    };
    if let Some(id) = chosen_question(req, t, ctx) {
        fx.push(Effect::Reply(Msg::Faq { id }));
        return Some(again(fx));
    }
    let current = req.problem.as_deref().map_or(0, |p| overlap(&clause, p));
    let (at, best) = req
        .next
        .iter()
        .enumerate()
        .map(|(i, n)| (i, overlap(&clause, &n.simplified.to_lowercase())))
        .max_by_key(|(_, s)| *s)?;
    if best == 0 || best <= current {
        // This one, the one already being taken.
        return req.place.is_some().then(|| again(fx));
    }
    let mut waiting = req.next.clone();
    let chosen = waiting.remove(at);
    if let Some(told) = &req.told {
        waiting.insert(0, (**told).clone());
    }
    fx.push(Effect::ClearDraft);
    let mut state = new_request(&chosen, req.place.clone(), ctx, fx);
    if let Some(r) = state.request_mut() {
        r.next = waiting;
        r.told = Some(Box::new(chosen));
    }
    Some(state)
}

/// The FAQ entry of a question the resident puts first: named in the clause itself ("先说
/// 停水吧"), or one told with the request ("Just answer the renewal question first").
fn chosen_question(req: &Request, t: &TextInput, ctx: &Ctx) -> Option<String> {
    let clause = chosen_clause(t)?;
    if let Some(id) = ctx.faq.find(&clause) {
        return Some(id.to_owned());
    }
    let current = req.problem.as_deref().map_or(0, |p| overlap(&clause, p));
    req.asked
        .iter()
        .map(|q| (q, overlap(&clause, q)))
        .filter(|(_, s)| *s > current)
        .max_by_key(|(_, s)| *s)
        .and_then(|(q, _)| ctx.faq.find(q))
        .map(str::to_owned)
}

/// The clause of a message that puts one thing first, lowercased.
fn chosen_clause(t: &TextInput) -> Option<String> {
    // A space ends a Chinese clause ("先弄扶手吧 物业费的事回头再说"), not an English one
    // ("the card question first").
    let lower = t.simplified.to_lowercase();
    lower
        .split(|c: char| ",，。.!！;；".contains(c))
        .flat_map(|clause| {
            let spaced = clause.chars().any(crate::understanding::is_cjk);
            clause.split(move |c: char| spaced && c.is_whitespace())
        })
        .find(|c| chooses(c))
        .map(|c| c.trim().to_owned())
}

/// A clause that puts one thing first ("先弄渗水", "嗰个先", "the pool first").
fn chooses(clause: &str) -> bool {
    const ZH: &[&str] = &[
        "先弄",
        "先修",
        "先说",
        "先处理",
        "先登记",
        "先答",
        "先回答",
        "先报",
        "先搞",
        "先办",
        "先帮",
        "先问",
        "个先",
        "嘅先",
        "的先",
        "先整",
    ];
    ZH.iter().any(|w| clause.contains(w))
        || clause
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w == "first")
}

/// How much two descriptions share: Chinese characters beyond the function words, and
/// English words of three letters or more beyond the filler.
fn overlap(a: &str, b: &str) -> usize {
    const FUNCTION: &str = "的了是我你吧先个那这嗰啲嘅事呢啊呀吗和也就都在有要把弄说处理请帮";
    const FILLER: &[&str] = &[
        "the", "first", "please", "pls", "lah", "one", "and", "then", "just", "that",
    ];
    let b_lower = b.to_lowercase();
    let chinese = a
        .chars()
        .filter(|c| crate::understanding::is_cjk(*c) && !FUNCTION.contains(*c))
        .collect::<std::collections::BTreeSet<char>>()
        .into_iter()
        .filter(|c| b_lower.contains(*c))
        .count();
    let words_b: std::collections::BTreeSet<&str> = b_lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3)
        .collect();
    let english = a
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3 && !FILLER.contains(w))
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .filter(|w| words_b.iter().any(|x| x.starts_with(w) || w.starts_with(x)))
        .count();
    chinese + english
}

fn collecting_text(
    mut req: Request,
    awaiting: Awaiting,
    nudged: bool,
    t: &TextInput,
    r: &Reading,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> State {
    // Small talk is answered, and so is a question chosen first ("先说停水吧" while asked
    // where the light is); the question to them stands.
    let aside = match r.intent {
        Some(Intent::Greeting | Intent::Identity | Intent::Venting) => {
            Some(small_talk(r).map(Msg::key))
        }
        None => chosen_question(&req, t, ctx).map(|id| Some(Msg::Faq { id })),
        _ => None,
    };
    if let Some(reply) = aside {
        fx.extend(reply.map(Effect::Reply));
        return reprompt(
            State::Collecting {
                req,
                awaiting,
                nudged,
            },
            fx,
        );
    }
    match r.intent {
        Some(Intent::Cancel) => return cancelled(fx),
        // "已经好了", "搞掂喇 唔該晒": the trouble went away; the draft goes with it.
        Some(Intent::Done) => return resolved(fx),
        // "門開了 她沒事 原來是助聽器沒戴": nothing was wrong after all.
        None if explained_away(t, ctx) => return resolved(fx),
        Some(Intent::Greeting | Intent::Identity | Intent::Venting)
        | Some(Intent::Correct)
        | None => {}
        Some(_) => {
            // "1", "ok" or "thanks" is no answer to "what is wrong" or "where".
            if nudged {
                fx.push(Effect::Reply(Msg::key(Prompt::KeptForLater)));
                fx.push(Effect::Reply(Msg::key(Prompt::Menu)));
                return State::Idle {
                    clarified: true,
                    emergency: None,
                    placeless: false,
                    asked: None,
                    waiting: None,
                };
            }
            fx.push(Effect::Reply(Msg::key(Prompt::AskAgain)));
            fx.push(Effect::Reply(match awaiting {
                Awaiting::Problem => ask_problem(req.kind),
                Awaiting::Place => Msg::key(Prompt::AskPlace),
            }));
            return State::Collecting {
                req,
                awaiting,
                nudged: true,
            };
        }
    }
    match awaiting {
        Awaiting::Problem => {
            // A problem told in pieces ("我家厕所那个", "马桶", "堵死了") is told whole.
            let told = t.text.trim();
            req.problem = Some(match req.problem.take() {
                Some(before) if ctx.intents.names_only(&before) => format!("{before} {told}"),
                _ => told.to_owned(),
            });
            if req.kind.is_none() {
                req.kind = Some(match t.class.kind {
                    Kind::Complaint => Kind::Complaint,
                    _ => Kind::Repair,
                });
            }
            let had_place = req.place.is_some();
            req.absorb(&t.class);
            if req.place.is_none() {
                req.place = ctx.unit_on_record.clone();
            } else if !had_place {
                remember(&req, ctx, fx);
            }
        }
        Awaiting::Place => {
            let before = req.place.clone();
            if req.merge_slots(&t.class.slots) {
                // "3座", then "18樓", then the flat: asked on while each answer adds.
                if req.place != before && req.place.as_ref().is_some_and(Place::lacks_flat) {
                    req.place_detail_asked = false;
                }
                remember(&req, ctx, fx);
            } else if names_home_only(&t.simplified) && !nudged {
                // "在我家" says where but not which home: the building and room are needed.
                fx.push(Effect::Reply(Msg::key(Prompt::AskAgain)));
                fx.push(Effect::Reply(Msg::key(Prompt::AskPlace)));
                return State::Collecting {
                    req,
                    awaiting,
                    nudged: true,
                };
            } else if describes_problem(t) {
                // "厨房水龙头关不紧" answers what, not where: it becomes the problem (what
                // was said before stays as detail), and where is asked again.
                if let Some(before) = req.problem.replace(t.text.trim().to_owned()) {
                    req.details.push(before);
                }
                req.absorb(&t.class);
                fx.push(Effect::Reply(Msg::key(Prompt::AskPlace)));
                return State::Collecting {
                    req,
                    awaiting,
                    nudged,
                };
            } else if ctx.intents.asks(&t.text) && !nudged {
                // "你哋唔係有我資料咩?": a question back is no place; asked once more.
                fx.push(Effect::Reply(Msg::key(Prompt::AskPlace)));
                return State::Collecting {
                    req,
                    awaiting,
                    nudged: true,
                };
            } else {
                // Where in a building already told ("12栋" then "一楼大堂旁边") keeps the
                // building.
                let label = Some(t.text.trim().to_owned());
                match req.place.as_mut().filter(|p| p.lacks_flat()) {
                    Some(place) => place.label = label,
                    None => {
                        req.place = Some(Place {
                            label,
                            ..Place::default()
                        })
                    }
                }
            }
        }
    }
    next_question(req, ctx, fx)
}

/// Files the request, then takes up the next need the resident named with it, if any.
fn submit(mut req: Request, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    let key = match req.kind_or_repair() {
        Kind::Complaint => Prompt::SubmittedComplaint,
        _ => Prompt::SubmittedRepair,
    };
    let next = std::mem::take(&mut req.next);
    fx.push(Effect::CreateTicket {
        ticket: req.to_ticket(),
        replies: vec![Msg::key(key)],
    });
    fx.push(Effect::ClearDraft);
    let mut rest = next.into_iter();
    match rest.next() {
        Some(n) => {
            let mut state = new_request(&n, req.place.clone(), ctx, fx);
            if let Some(r) = state.request_mut() {
                r.next = rest.collect();
            }
            state
        }
        None => State::idle(),
    }
}

fn confirming_text(
    mut req: Request,
    nudged: bool,
    t: &TextInput,
    r: &Reading,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> State {
    match r.intent {
        Some(Intent::Digit(1) | Intent::Confirm) => return submit(req, ctx, fx),
        Some(Intent::Thanks) if r.yes_too => return submit(req, ctx, fx),
        Some(Intent::Digit(2) | Intent::Deny) => {
            fx.push(Effect::Reply(Msg::key(Prompt::AskCorrect)));
            return State::Correcting { req, nudged: false };
        }
        Some(Intent::Cancel) => return cancelled(fx),
        // "已经好了", "搞掂喇 唔該晒": the trouble went away; the draft goes with it.
        Some(Intent::Done) => return resolved(fx),
        None if explained_away(t, ctx) => return resolved(fx),
        Some(Intent::Correct) => {
            if correct(&mut req, t, r, ctx, fx) {
                fx.push(Effect::Reply(Msg::key(Prompt::Corrected)));
                fx.push(Effect::Reply(read_back(&req)));
                return State::Confirming { req, nudged: false };
            }
            fx.push(Effect::Reply(Msg::key(Prompt::AskCorrect)));
            return State::Correcting { req, nudged: false };
        }
        Some(Intent::Greeting | Intent::Identity | Intent::Venting) => {
            if let Some(p) = small_talk(r) {
                fx.push(Effect::Reply(Msg::key(p)));
            }
            fx.push(Effect::Reply(confirm_hint(&req)));
            return State::Confirming { req, nudged: true };
        }
        _ => {}
    }
    if r.intent.is_none() {
        if let Some(next) = choose_first(&req, t, ctx, fx) {
            return next;
        }
    }
    // "hold on before I confirm - do I have to pay for this?": a question asked before the
    // yes is answered or passed on, and the request still waits for its yes.
    if r.intent.is_none()
        && r.yes_then.is_none()
        && t.class.kind == Kind::Inquiry
        && ctx.intents.asks(&t.text)
        && !has_slots(&t.class.slots)
    {
        answer_or_pass_on(t, ctx, fx);
        fx.push(Effect::Reply(confirm_hint(&req)));
        return State::Confirming { req, nudged: true };
    }
    let w = r.intent;
    // "还有，客厅灯也坏了", "对了，楼下门禁也刷不开" (对了: "by the way", not a yes): a second
    // need waits its turn; this one is confirmed first.
    if w.is_none() && ctx.intents.opens_with_connector(&t.text) && concrete_need(t) {
        req.next.push(t.clone());
        fx.push(Effect::Reply(Msg::key(Prompt::MultiWhichFirst)));
        fx.push(Effect::Reply(read_back(&req)));
        return State::Confirming { req, nudged };
    }
    if let (None, Some(rest)) = (w, &r.yes_then) {
        // "对，麻烦尽快来": confirmed, and the rest goes to the staff with it.
        req.merge_slots(&t.class.slots);
        req.details.push(rest.clone());
        return submit(req, ctx, fx);
    }
    if w.is_none() && has_slots(&t.class.slots) {
        if req.merge_slots(&t.class.slots) {
            remember(&req, ctx, fx);
        }
        fx.push(Effect::Reply(read_back(&req)));
        return State::Confirming { req, nudged: false };
    }
    if !nudged {
        fx.push(Effect::Reply(confirm_hint(&req)));
        return State::Confirming { req, nudged: true };
    }
    if w.is_some() {
        fx.push(Effect::Reply(read_back(&req)));
        return State::Confirming { req, nudged: true };
    }
    // After the hint, more words are more detail for the staff who will do it.
    req.details.push(t.text.trim().to_owned());
    fx.push(Effect::Reply(Msg::key(Prompt::DetailAdded)));
    fx.push(Effect::Reply(read_back(&req)));
    State::Confirming { req, nudged: true }
}

/// The resident explains that nothing was wrong ("原來是助聽器沒戴睡著了", "the security
/// uncle says it's the drill, all good"), asking nothing and telling no new hazard.
fn explained_away(t: &TextInput, ctx: &Ctx) -> bool {
    ctx.intents.false_alarm(&t.text)
        && !ctx.intents.asks(&t.text)
        && t.class.urgency != Urgency::Emergency
        && !t.class.possible_emergency
}

fn concrete_need(t: &TextInput) -> bool {
    matches!(t.class.kind, Kind::Repair | Kind::Complaint)
}

/// Applies a correction told in words; `false` when it names nothing that can be changed
/// (then the resident is asked which part).
fn correct(req: &mut Request, t: &TextInput, r: &Reading, ctx: &Ctx, fx: &mut Vec<Effect>) -> bool {
    // The reading is in simplified characters; a problem told in traditional ones is
    // corrected in traditional ones.
    let traditional = req
        .problem
        .as_deref()
        .is_some_and(|p| words::to_simplified(p) != p);
    let script = |s: &str| {
        if traditional {
            zhconv::zhconv(s, zhconv::Variant::ZhHant)
        } else {
            s.to_owned()
        }
    };
    if let Some((new, old)) = &r.swap {
        if req.swap(&script(old), &script(new)) || req.swap(old, new) {
            return true;
        }
    }
    if req.merge_slots(&t.class.slots) {
        remember(req, ctx, fx);
        return true;
    }
    let Some(value) = r
        .correction
        .clone()
        .or_else(|| r.swap.as_ref().map(|(new, _)| new.clone()))
    else {
        return false;
    };
    // "不对，是卫生间" / "actually it's the bathroom": one room of the home for another.
    if let Some(new_room) = home_room(&value) {
        let old_room = req.problem.as_deref().and_then(home_room);
        if let Some(old_room) = old_room.filter(|o| script(o) != script(new_room)) {
            if req.swap(old_room, &script(new_room)) {
                return true;
            }
        }
    }
    // A shared place was described in words: the new words replace it.
    if req
        .place
        .as_ref()
        .is_some_and(|p| !p.is_unit() && p.label.is_some())
        && !concrete_need(t)
    {
        if let Some(p) = req.place.as_mut() {
            p.label = Some(value);
        }
        return true;
    }
    if concrete_need(t) {
        req.problem = Some(value);
        req.absorb(&t.class);
        return true;
    }
    false
}

fn correcting_text(
    mut req: Request,
    nudged: bool,
    t: &TextInput,
    r: &Reading,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> State {
    match r.intent {
        Some(Intent::Digit(1) | Intent::Problem) => {
            fx.push(Effect::Reply(Msg::key(Prompt::AskProblemRetell)));
            // The old text stays in the draft until the new one arrives.
            return State::Collecting {
                req,
                awaiting: Awaiting::Problem,
                nudged: false,
            };
        }
        Some(Intent::Digit(2) | Intent::Place) => {
            fx.push(Effect::Reply(Msg::key(Prompt::AskPlace)));
            return State::Collecting {
                req,
                awaiting: Awaiting::Place,
                nudged: false,
            };
        }
        Some(Intent::Cancel) => return cancelled(fx),
        // "已经好了", "搞掂喇 唔該晒": the trouble went away; the draft goes with it.
        Some(Intent::Done) => return resolved(fx),
        Some(Intent::Confirm) => {
            fx.push(Effect::Reply(read_back(&req)));
            return State::Confirming { req, nudged: false };
        }
        Some(Intent::Correct) if correct(&mut req, t, r, ctx, fx) => {
            fx.push(Effect::Reply(Msg::key(Prompt::Corrected)));
            fx.push(Effect::Reply(read_back(&req)));
            return State::Confirming { req, nudged: false };
        }
        Some(Intent::Greeting | Intent::Identity | Intent::Venting) => {
            if let Some(p) = small_talk(r) {
                fx.push(Effect::Reply(Msg::key(p)));
            }
            fx.push(Effect::Reply(Msg::key(Prompt::AskCorrect)));
            return State::Correcting { req, nudged };
        }
        _ => {}
    }
    if r.intent.is_none() || r.is(Intent::Correct) {
        let names_place = req.merge_slots(&t.class.slots);
        // After one "which part?", words that are neither are taken as the new problem.
        let names_problem = concrete_need(t) || (nudged && !names_place);
        if names_place {
            remember(&req, ctx, fx);
        }
        if names_problem {
            req.problem = Some(t.text.trim().to_owned());
            req.absorb(&t.class);
        }
        if names_place || names_problem {
            fx.push(Effect::Reply(read_back(&req)));
            return State::Confirming { req, nudged: false };
        }
    }
    if nudged {
        fx.push(Effect::Reply(read_back(&req)));
        return State::Confirming { req, nudged: false };
    }
    fx.push(Effect::Reply(Msg::key(Prompt::AskCorrect)));
    State::Correcting { req, nudged: true }
}

/// A hazard short of a sure emergency ("有股怪味，可能是煤气"): the safety guidance and the
/// duty line at once, and one question — is it still happening? — before deciding. What
/// the resident had told so far is kept and goes on either way.
fn possible_emergency(state: State, t: &TextInput, ctx: &Ctx, fx: &mut Vec<Effect>) -> State {
    let mut req = match state {
        State::Collecting { req, .. }
        | State::Confirming { req, .. }
        | State::Correcting { req, .. } => req,
        _ => Request::blank(Some(match t.class.kind {
            Kind::Complaint => Kind::Complaint,
            _ => Kind::Repair,
        })),
    };
    if req.problem.is_none() {
        req.problem = Some(t.text.trim().to_owned());
    } else {
        req.details.push(t.text.trim().to_owned());
    }
    req.absorb(&t.class);
    if req.place.is_none() {
        req.place = ctx.unit_on_record.clone();
    }
    let which = words::emergency_of(&t.simplified);
    fx.push(Effect::Reply(Msg::key(Prompt::Guide(which))));
    fx.push(Effect::Reply(Msg::key(Prompt::EmergencyDuty)));
    fx.push(Effect::Reply(Msg::key(Prompt::PossibleAsk)));
    State::EmergencyCheck { req, which }
}

fn emergency_check(
    mut req: Request,
    which: Emergency,
    t: &TextInput,
    r: &Reading,
    ctx: &Ctx,
    fx: &mut Vec<Effect>,
) -> State {
    let still = match r.intent {
        Some(Intent::Digit(1) | Intent::Confirm) => Some(true),
        Some(Intent::Digit(2) | Intent::Deny | Intent::Done) => Some(false),
        Some(Intent::Cancel) => return cancelled(fx),
        // "不对 是1203室" corrects the address; it does not answer the question.
        Some(Intent::Correct) if has_slots(&t.class.slots) => None,
        // "对，现在还能闻到": a yes with words after it.
        _ if r.yes_then.is_some() && r.still != Some(false) => Some(true),
        // Describing the hazard again ("是的，还是很大味道") while asked whether it goes on
        // says it does.
        _ => r.still.or(t.class.possible_emergency.then_some(true)),
    };
    // "没事了 问了对门 是她家锅烧干了 已经关火了": nothing to repair either. ("不漏了" is a
    // no, and the leak is still to be repaired.)
    // "味道都散了 不過還是麻煩派人來檢查一下瓦斯管": gone, but wanted seen to all the same.
    let wants_a_visit = ctx.intents.asks_to_come(&t.text);
    let nothing_wrong = still != Some(true) && ctx.intents.false_alarm(&t.text) && !wants_a_visit;
    let still = still.or(wants_a_visit.then_some(false));
    if nothing_wrong {
        fx.push(Effect::ClearDraft);
        fx.push(Effect::Reply(Msg::key(Prompt::AckDone)));
        return State::idle();
    }
    match still {
        Some(true) => {
            let next = emergency(Some(req), t, ctx.unit_on_record.clone(), fx);
            fx.push(Effect::ClearDraft);
            next
        }
        Some(false) => {
            // "没有了 现在闻不到 不过还是想让人来查一下 14栋1502": the address told with the
            // answer is the repair's.
            req.merge_slots(&t.class.slots);
            fx.push(Effect::Reply(Msg::key(Prompt::PossibleNo)));
            next_question(req, ctx, fx)
        }
        None => {
            // An address or a phone number is kept; the question stands.
            if req.merge_slots(&t.class.slots) {
                remember(&req, ctx, fx);
            }
            if let Some(p) = small_talk(r) {
                fx.push(Effect::Reply(Msg::key(p)));
            }
            fx.push(Effect::Reply(Msg::key(Prompt::PossibleAsk)));
            State::EmergencyCheck { req, which }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::address_only;

    #[test]
    fn a_choice_names_the_need_it_puts_first() {
        assert!(super::chooses("先弄渗水吧"));
        assert!(super::chooses("包裹嗰个先答我"));
        assert!(super::chooses("toilet first lah"));
        assert!(!super::chooses("先生你好"));
        assert!(!super::chooses("firstly the pipe"));
        // The clause shares the need's words, not the other's.
        let leak = "还有主卫天花板开始渗水了 黄了一大块";
        let dust = "7栋1801 楼上在装修 我家阳台晾的衣服全是灰";
        assert!(super::overlap("先弄渗水吧", leak) > super::overlap("先弄渗水吧", dust));
        let pool = "pool water is super cloudy since tuesday";
        assert!(super::overlap("the pool first please", pool) > 0);
        assert_eq!(
            super::overlap("the pool first please", "gym hours on sunday"),
            0
        );
    }

    #[test]
    fn an_address_and_nothing_else() {
        for yes in [
            "3栋2单元1101",
            "Block 3 #11-02",
            "五栋二单元六零二",
            "Tower 5, Flat 12C",
            "我住8栋1603",
        ] {
            assert!(address_only(yes), "{yes}");
        }
        assert_eq!(super::home_room("是卫生间"), Some("卫生间"));
        assert_eq!(super::home_room("the Bathroom"), Some("bathroom"));
        assert!(super::names_home_only("在我家"));
        assert!(super::names_home_only("in my flat"));
        assert!(!super::names_home_only("北门车库"));
        for no in [
            "Tower 5 Flat 12C, no hot water",
            "3栋1101 厨房漏水",
            "the bathroom light is broken",
            "",
        ] {
            assert!(!address_only(no), "{no}");
        }
    }
}
