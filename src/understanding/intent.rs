//! What a resident means by a reply, in their own words and in any script: confirm, deny,
//! cancel, a correction with its new value, handoff, status, small talk, a call for outside
//! help. The dialogue reads every message through this in every state, so "嗯嗯", "係",
//! "yes please" and "对" all confirm, and "算了不用了" cancels wherever it is said. Pure; the
//! words are `config/intents.toml`.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;

use aho_corasick::AhoCorasick;
use anyhow::Context;
use serde::Deserialize;

use super::script::{fold_width, to_simplified};

/// One reading of a message, strongest first when several could apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Intent {
    /// A menu digit and nothing else.
    Digit(u8),
    /// "我要报修" / "我要投诉": a request named with nothing yet to record.
    StartRepair,
    StartComplaint,
    /// A call for outside help (119, 救命): an emergency wherever it is said.
    Alarm,
    Handoff,
    Identity,
    Status,
    Cancel,
    /// The trouble went away ("没事了", "人已经出来了谢谢").
    Done,
    /// "不对 是1203室", "是卫生间不是厨房": a correction carrying its new value.
    Correct,
    Deny,
    End,
    Greeting,
    Thanks,
    Confirm,
    Continue,
    Problem,
    Place,
    /// Anger with nothing specific in it.
    Venting,
}

/// What [`Intents::read`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub intent: Option<Intent>,
    /// Matched anywhere in a short message rather than as the whole of it: a weaker reading
    /// that a concrete problem in the same message outweighs.
    pub loose: bool,
    /// Thanks that also says yes ("好的谢谢", "ok thanks").
    pub yes_too: bool,
    /// For [`Intent::Correct`]: the words after the opening "不对".
    pub correction: Option<String>,
    /// For [`Intent::Correct`]: (new, old) from "是卫生间不是厨房" / "not the kitchen, the bathroom".
    pub swap: Option<(String, String)>,
    /// The answer to "is it still happening?": `Some(true)` still, `Some(false)` stopped.
    pub still: Option<bool>,
    /// Opens with a yes and goes on without taking it back ("对，麻烦尽快来"): the rest
    /// is more detail.
    pub yes_then: Option<String>,
}

impl Reading {
    pub fn is(&self, intent: Intent) -> bool {
        self.intent == Some(intent)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scripts {
    #[serde(rename = "zh-Hans", default)]
    hans: Vec<String>,
    #[serde(rename = "zh-Hant", default)]
    hant: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
}

impl Scripts {
    /// Every phrase in matching form (folded, lower case, simplified).
    fn all(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .hans
            .iter()
            .chain(&self.hant)
            .chain(&self.en)
            .map(|w| norm(w))
            .filter(|w| !w.is_empty())
            .collect();
        v.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        v.dedup();
        v
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lists {
    #[serde(default)]
    whole: Scripts,
    #[serde(default)]
    contains: Scripts,
    #[serde(default)]
    prefix: Scripts,
    #[serde(default)]
    rest: Scripts,
    #[serde(default)]
    hold: Scripts,
    #[serde(default)]
    lead: Scripts,
    #[serde(default)]
    hurry: Scripts,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    short_chars: usize,
    fillers: Scripts,
    confirm: Lists,
    deny: Lists,
    cancel: Lists,
    done: Lists,
    status: Lists,
    start_repair: Lists,
    start_complaint: Lists,
    handoff: Lists,
    identity: Lists,
    greeting: Lists,
    thanks: Lists,
    end: Lists,
    #[serde(rename = "continue")]
    continue_: Lists,
    /// Words that make a message a question without a question mark ("要不要打119").
    #[serde(default)]
    question: Lists,
    /// Rooms and fixtures inside a home ("厨房", "my bathroom"): a repair there needs the
    /// flat, not only the building.
    #[serde(default)]
    home: Lists,
    /// Words that name a building or an estate in a resident's own way ("亨泰樓",
    /// "富亨邨", "Tower 5"): with one of them, a flat number alone is not a flat without
    /// its building.
    #[serde(default)]
    estate: Lists,
    /// Words of a question that leans on the one before ("也能开吗", "is it free?").
    #[serde(default)]
    follow_up: Lists,
    /// How residents say where they live ("我住…", "I live in…"): a clause that only does
    /// that tells no need.
    #[serde(default)]
    lives: Lists,
    /// Words that turn to something else ("不過", "but"): "冇再漏喇 不過依家成間屋冇水用"
    /// ends one trouble and tells another.
    #[serde(default)]
    contrast: Lists,
    /// News after an emergency that help came or people are safe ("消防车到了", "已经扶她
    /// 回家了", "the ambulance is here"): told to the duty team, not raised again.
    #[serde(default)]
    news: Lists,
    /// Asking for someone to come ("可以派人來檢查一下嗎?", "can you send someone to look"):
    /// a question in form that is a request in substance.
    #[serde(default)]
    come: Lists,
    /// A better time or a change to the visit for a request already filed.
    #[serde(default)]
    reschedule: Lists,
    /// Things named without what is wrong with them ("我家厕所那个", "马桶"): a problem
    /// told in pieces.
    #[serde(default)]
    thing: Lists,
    /// Nothing was wrong after all ("虚惊一场", "是她家锅烧干了 已经关火了", "false alarm").
    #[serde(default)]
    false_alarm: Lists,
    /// A repair that did not hold ("今天晚上又不亮了", "still leaking after the fix").
    #[serde(default)]
    not_fixed: Lists,
    /// Pleased with a job just finished ("通了通了 师傅人很好 非常满意").
    #[serde(default)]
    pleased: Lists,
    problem: Lists,
    place: Lists,
    venting: Lists,
    alarm: Lists,
    still: Lists,
    stopped: Lists,
    connectors: Lists,
}

/// The compiled word lists.
#[derive(Debug, Clone)]
pub struct Intents {
    short_chars: usize,
    fillers: Vec<String>,
    /// Every whole-message phrase with its intent, longest first.
    whole: Vec<(String, Intent)>,
    /// The whole-message phrases (with their intent) and then the fillers (with none), in
    /// those lists' order, by their first character: what can open a text is looked up,
    /// not tried phrase by phrase.
    openers: HashMap<char, Vec<(String, Option<Intent>)>>,
    /// Loose phrases, in the order they are tried.
    contains: Vec<(Intent, Words)>,
    deny_prefix: Vec<String>,
    /// Openings that start like a "no" and are none ("not sure if…", "no rush").
    deny_hold: Vec<String>,
    deny_lead: Vec<String>,
    /// Explicit withdrawals that open a long message ("please cancel that, …").
    cancel_opening: Words,
    /// Withdrawals of a filed request plain anywhere ("…can you cancel that ticket pls").
    cancel_anywhere: Words,
    /// Asking for a person in so many words, wherever in a long message ("…能不能找个真人
    /// 跟我聊").
    handoff_anywhere: Words,
    /// Asking who or what answers, or what it can do, wherever in a longer message ("hi,
    /// quick q – who am I chatting with? …").
    identity_anywhere: Words,
    question: Words,
    /// Asking what to do now ("要不要先下楼?", "should I shut it off?").
    what_to_do: Words,
    /// Saying a question is coming ("另外问下", "順便問埋", "quick question").
    ask_openers: Words,
    /// Openings that follow on from what came before ("那…", "咁…", "and…"): with a
    /// question, a question about it.
    follow_openers: Vec<String>,
    home: Words,
    estate: Words,
    follow_up: Words,
    hurry: Vec<String>,
    /// Laughter ("笑死", "lol"): a cry for help said laughing is a joke.
    laughing: Words,
    lives: Vec<String>,
    news: Words,
    come: Words,
    reschedule: Words,
    complain_anywhere: Words,
    /// The words a problem told in pieces is made of, longest first, each marked whether it
    /// names a thing (rather than being a filler).
    pieces: Vec<(String, bool)>,
    false_alarm: Words,
    not_fixed: Words,
    pleased: Words,
    pleased_hold: Words,
    confirm_loose: Words,
    confirm_hold: Words,
    done_anywhere: Words,
    done_hold: Words,
    venting: Words,
    venting_rest: Vec<String>,
    thankful: Words,
    still: Words,
    stopped: Words,
    connectors: Vec<String>,
    /// "Two things – …": an announcement that several needs follow.
    announcements: Words,
    /// Plain joining words ("and", "然后") that part needs only after an announcement.
    announced_connectors: Vec<String>,
    contrast: Vec<String>,
}

impl Default for Intents {
    /// The shipped `config/intents.toml`, embedded at build time for tests and tools.
    fn default() -> Self {
        Intents::parse(include_str!("../../config/intents.toml"))
            .expect("the shipped config/intents.toml parses")
    }
}

/// Lower case, full-width folded, simplified, curly quotes straightened.
///
/// The dialogue reads one message through a dozen of the methods below, each normalising
/// it again; the script conversion is the dear part, so the last few texts a thread
/// normalised are kept.
fn norm(text: &str) -> String {
    // A message is read on one thread from start to end (the state machine is synchronous),
    // so a few entries per thread catch every repeat; longer texts are rare and not kept.
    const KEPT: usize = 8;
    const LONGEST: usize = 1024;
    thread_local! {
        static RECENT: RefCell<VecDeque<(String, String)>> =
            const { RefCell::new(VecDeque::new()) };
    }
    if text.len() > LONGEST {
        return norm_afresh(text);
    }
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if let Some((_, n)) = recent.iter().find(|(t, _)| t == text) {
            return n.clone();
        }
        let n = norm_afresh(text);
        if recent.len() == KEPT {
            recent.pop_back();
        }
        recent.push_front((text.to_owned(), n.clone()));
        n
    })
}

fn norm_afresh(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(fold_width)
        .map(|c| match c {
            '’' | '‘' => '\'',
            c => c,
        })
        .collect::<String>()
        .to_lowercase();
    to_simplified(folded.trim())
}

fn is_sep(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation() && c != '?' && c != '\''
        || "，。！、；：…～~（）()「」“”《》".contains(c)
        || is_symbol(c)
}

/// Emoji and pictographs: small talk, never content.
fn is_symbol(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x1F000..=0x1FAFF | 0xFE0F | 0x200D | 0x3030)
}

impl Intents {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading intents {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("malformed {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let f: File = toml::from_str(text)?;
        let mut whole = Vec::new();
        let wholes = [
            (&f.confirm, Intent::Confirm),
            (&f.deny, Intent::Deny),
            (&f.cancel, Intent::Cancel),
            (&f.done, Intent::Done),
            (&f.status, Intent::Status),
            (&f.handoff, Intent::Handoff),
            (&f.start_repair, Intent::StartRepair),
            (&f.start_complaint, Intent::StartComplaint),
            (&f.greeting, Intent::Greeting),
            (&f.thanks, Intent::Thanks),
            (&f.end, Intent::End),
            (&f.continue_, Intent::Continue),
            (&f.problem, Intent::Problem),
            (&f.place, Intent::Place),
        ];
        for (lists, intent) in wholes {
            for w in lists.whole.all() {
                whole.push((w, intent));
            }
        }
        whole.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
        // A call for help first; asking for a person outweighs asking whether this is one
        // ("我唔想同機械人講，搵個真人嚟跟").
        let contains = vec![
            (
                Intent::Alarm,
                Words::new(
                    f.alarm
                        .contains
                        .all()
                        .into_iter()
                        .chain(f.alarm.hurry.all())
                        .collect(),
                )?,
            ),
            (Intent::Handoff, Words::new(f.handoff.contains.all())?),
            (Intent::Identity, Words::new(f.identity.contains.all())?),
            (Intent::Cancel, Words::new(f.cancel.contains.all())?),
            (Intent::Done, Words::new(f.done.contains.all())?),
            (Intent::Status, Words::new(f.status.contains.all())?),
        ];
        let fillers = f.fillers.all();
        let mut openers: HashMap<char, Vec<(String, Option<Intent>)>> = HashMap::new();
        let phrases = whole.iter().map(|(w, i)| (w, Some(*i)));
        for (w, i) in phrases.chain(fillers.iter().map(|w| (w, None))) {
            if let Some(c) = w.chars().next() {
                openers.entry(c).or_default().push((w.clone(), i));
            }
        }
        Ok(Intents {
            short_chars: f.short_chars,
            fillers,
            whole,
            openers,
            contains,
            deny_prefix: f.deny.prefix.all(),
            deny_hold: f.deny.hold.all(),
            deny_lead: {
                // Longest first: "哎呀不是6号楼" opens with "哎呀", not with "哎".
                let mut leads = f.deny.lead.all();
                leads.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
                leads
            },
            cancel_opening: Words::new(f.cancel.prefix.all())?,
            cancel_anywhere: Words::new(f.cancel.rest.all())?,
            handoff_anywhere: Words::new(f.handoff.rest.all())?,
            identity_anywhere: Words::new(f.identity.rest.all())?,
            question: Words::new(f.question.contains.all())?,
            what_to_do: Words::new(f.question.rest.all())?,
            ask_openers: Words::new(f.question.prefix.all())?,
            follow_openers: f.follow_up.prefix.all(),
            home: Words::new(f.home.contains.all())?,
            estate: Words::new(f.estate.contains.all())?,
            follow_up: Words::new(f.follow_up.contains.all())?,
            hurry: f.alarm.hurry.all(),
            laughing: Words::new(f.alarm.hold.all())?,
            lives: f.lives.prefix.all(),
            news: Words::new(f.news.contains.all())?,
            come: Words::new(f.come.contains.all())?,
            reschedule: Words::new(f.reschedule.contains.all())?,
            complain_anywhere: Words::new(f.start_complaint.rest.all())?,
            pieces: {
                let things = f
                    .thing
                    .contains
                    .all()
                    .into_iter()
                    .chain(f.home.contains.all());
                let mut pieces: Vec<(String, bool)> = things
                    .map(|w| (w, true))
                    .chain(f.fillers.all().into_iter().map(|w| (w, false)))
                    .collect();
                pieces.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
                pieces
            },
            false_alarm: Words::new(f.false_alarm.contains.all())?,
            not_fixed: Words::new(f.not_fixed.contains.all())?,
            pleased: Words::new(f.pleased.contains.all())?,
            pleased_hold: Words::new(f.pleased.hold.all())?,
            confirm_loose: Words::new(f.confirm.contains.all())?,
            confirm_hold: Words::new(f.confirm.hold.all())?,
            done_anywhere: Words::new(f.done.contains.all())?,
            done_hold: Words::new(f.done.hold.all())?,
            venting: Words::new(f.venting.contains.all())?,
            venting_rest: f.venting.rest.all(),
            thankful: Words::new(f.thanks.contains.all())?,
            still: Words::new(f.still.contains.all())?,
            stopped: Words::new(f.stopped.contains.all())?,
            connectors: f.connectors.contains.all(),
            announcements: Words::new(f.connectors.prefix.all())?,
            announced_connectors: f.connectors.rest.all(),
            contrast: f.contrast.contains.all(),
        })
    }

    /// Reads one message.
    pub fn read(&self, text: &str) -> Reading {
        let mut r = self.read_plain(text);
        // "这也叫修好了?", "師傅說修好了,可是水還是很小": not fixed after all.
        if r.intent == Some(Intent::Done) && mentions(&self.done_hold, text) {
            r.intent = None;
            r.loose = false;
            r.still = Some(true);
        }
        r
    }

    fn read_plain(&self, text: &str) -> Reading {
        let n = norm(text);
        let core: String = n.trim_matches(is_sep).to_owned();
        let mut r = Reading {
            still: self.still_or_stopped(&core),
            ..Reading::default()
        };
        if core.is_empty() {
            // Only emoji or punctuation: a thumbs-up is thanks ("👍" in the lists), anything
            // else a wave, not a request.
            let bare: String = n.chars().filter(|c| !c.is_whitespace()).collect();
            if let Some((_, i)) = self.whole.iter().find(|(w, _)| *w == bare) {
                r.intent = Some(*i);
                return r;
            }
            if n.contains('?') || n.contains('？') || n.chars().any(is_symbol) {
                r.intent = Some(Intent::Greeting);
            }
            return r;
        }
        let mut chars = core.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if let Some(d) = c.to_digit(10) {
                r.intent = Some(Intent::Digit(d as u8));
                return r;
            }
        }
        if let Some(found) = self.whole_message(&core) {
            r.yes_too = found.contains(&Intent::Confirm) && found.contains(&Intent::Thanks);
            r.intent = resolve(&found);
            return r;
        }
        let short = weight(&core) <= self.short_chars;
        let denied = self.after_deny(&core);
        let unled = self.without_leads(&core);
        if let Some((new, old)) = denied.as_deref().and_then(swap).or_else(|| swap(unled)) {
            r.intent = Some(Intent::Correct);
            r.swap = Some((new, old));
            r.correction = denied;
            return r;
        }
        // "Actually please cancel that, I cleaned the fan and it works fine now": a long
        // message may withdraw the request in its opening clause and explain after.
        let opening = core
            .split(|c: char| ",，.。!！;；".contains(c))
            .next()
            .filter(|o| weight(o) <= self.short_chars);
        // Before the short-message words: "让管家直接跟我说吧 机器人讲不清楚" asks for a
        // person; it does not ask whether this is a robot.
        // Asked in so many words, a person wins over the problem told with it ("…打字也费劲
        // 能不能让管家直接给我打个电话 我是17号楼2单元的老张"); an emergency still comes first.
        if self.handoff_anywhere.said_in(&core) {
            r.intent = Some(Intent::Handoff);
            return r;
        }
        // "Are you a real person or a bot btw": asked whether this is a person, which the
        // word "real person" alone would take for asking for one.
        if self.identity_anywhere.said_in(&core) {
            r.intent = Some(Intent::Identity);
            r.loose = true;
            return r;
        }
        for (intent, words) in &self.contains {
            let any_length = *intent == Intent::Alarm;
            if (short || any_length) && words.said_in(&core) {
                // "係呀 快啲嚟", "对对对 快点来人啊": a yes in a hurry, not a call for help.
                // "救命 我家猫把鱼缸撞翻了…笑死": a cry said laughing.
                if *intent == Intent::Alarm
                    && (self.only_hurries(&core) || self.laughing.said_in(&core))
                {
                    continue;
                }
                r.intent = Some(*intent);
                // "any update? still can't use it": a status question said whole before
                // anything else is no loose reading.
                r.loose = !(*intent == Intent::Status && self.opens_whole(&core, Intent::Status));
                return r;
            }
        }
        // "师傅出发了没有 我爸耳朵背门铃听不见 让师傅到了使劲敲门": a status question opening
        // a long message, the rest for the staff.
        if !short && self.opens_asking_status(&core) {
            r.intent = Some(Intent::Status);
            r.loose = true;
            return r;
        }
        // "啊唔使喇,我老公頭先倒咗支通渠水…": an opening clause that only withdraws.
        if opening.is_some_and(|o| self.opens_withdrawal(o) || self.only_withdraws(o))
            || self.withdraws_anywhere(&core)
            || self.closes_withdrawing(&core)
            || self.opens_only_withdrawing(&core)
        {
            r.intent = Some(Intent::Cancel);
            r.loose = true;
            return r;
        }
        if let Some(rest) = denied {
            r.intent = Some(Intent::Correct);
            r.correction = Some(rest);
            return r;
        }
        if short && self.asks_to_send(&core) {
            r.intent = Some(Intent::Confirm);
            r.loose = true;
            return r;
        }
        r.yes_then = self.yes_then(&core);
        if self.is_venting(&core) {
            r.intent = Some(Intent::Venting);
            return r;
        }
        r
    }

    /// A "no longer needed" word anywhere in the message, however long ("…說是誤報，現在沒事
    /// 了，跟你們說一下").
    pub fn done_anywhere(&self, text: &str) -> bool {
        mentions(&self.done_anywhere, text)
    }

    fn withdraws_anywhere(&self, core: &str) -> bool {
        self.cancel_anywhere.said_in(core)
    }

    /// "啊等等,好似係燈膽燒咗咋,我自己換得,唔使喇": the reason first, and a last clause that
    /// is nothing but a withdrawal ("唔使喇", "不用了", "never mind").
    fn closes_withdrawing(&self, core: &str) -> bool {
        let mut clauses = core.split(|c: char| ",，.。!！;；".contains(c));
        let first = clauses.next();
        let Some(last) = clauses.rfind(|c| !c.trim().is_empty()) else {
            return false;
        };
        // "修了三次都没好，算了" is resignation closing a complaint ([`Self::only_withdraws`]).
        first.is_some() && self.only_withdraws(last)
    }

    /// A request named with nothing yet to record, once the address is taken out ("我要报修
    /// 22-1-1603", "喂,我住澳門皇朝廣場第1座2312,有樣嘢壞咗"): the other clauses only greet
    /// or say where the resident lives.
    pub fn starts_request(&self, rest: &str) -> Option<Intent> {
        let n = norm(rest);
        let mut named = None;
        for clause in n.split(|c: char| ",，.。!！;；".contains(c)) {
            let clause = clause.trim();
            if clause.is_empty() {
                continue;
            }
            let found = self.whole_message(clause);
            match found.as_ref().and_then(resolve) {
                Some(i @ (Intent::StartRepair | Intent::StartComplaint)) if named.is_none() => {
                    named = Some(i)
                }
                Some(Intent::Greeting) => {}
                _ if self.introduces(clause) => {}
                _ => return None,
            }
        }
        named
    }

    /// "我住澳門皇朝廣場", "I live in Tower 5": where the resident lives, said of themselves.
    fn introduces(&self, clause: &str) -> bool {
        self.lives.iter().any(|w| starts_with_word(clause, w))
            && !self
                .pieces
                .iter()
                .any(|(w, thing)| *thing && w.chars().count() > 1 && clause.contains(w.as_str()))
    }

    /// A yes whose only alarm words urge haste ("係呀 快啲嚟").
    fn only_hurries(&self, core: &str) -> bool {
        let mut rest = core.to_owned();
        for w in &self.hurry {
            rest = rest.replace(w.as_str(), " ");
        }
        let calls = self
            .contains
            .iter()
            .any(|(i, ws)| *i == Intent::Alarm && ws.iter().any(|w| contains_word(&rest, w)));
        !calls && self.yes_then(core).is_some()
    }

    /// Whether the message opens by asking where things stand ("电梯修得咋样了 我家老头子
    /// 住17楼…"): about a request already made, whatever the rest describes.
    pub fn asks_status_first(&self, text: &str) -> bool {
        let n = norm(text);
        self.opens_asking_status(n.trim_matches(is_sep))
    }

    /// Whether the first clause (up to punctuation, or a space after Chinese) asks where a
    /// request stands.
    fn opens_asking_status(&self, core: &str) -> bool {
        let mut end = core.len();
        let mut prev_cjk = false;
        for (i, c) in core.char_indices() {
            if ",，.。!！;；?？".contains(c) || (c.is_whitespace() && prev_cjk) {
                end = i;
                break;
            }
            prev_cjk = !c.is_ascii();
        }
        let opening = core[..end].trim();
        // Asked, not told: "都快5点了还没人来" is a complaint that nobody came.
        let asked = self.question.said_in(opening)
            || ["没有", "没", "未", "呢", "呀"]
                .iter()
                .any(|q| opening.ends_with(q));
        asked
            && weight(opening) <= self.short_chars
            && self
                .contains
                .iter()
                .any(|(i, words)| *i == Intent::Status && words.said_in(opening))
    }

    /// Whether the message's first clause is nothing but `intent`'s whole-message phrases.
    fn opens_whole(&self, core: &str, intent: Intent) -> bool {
        core.split(|c: char| ",，.。!！;；?？".contains(c))
            .next()
            .and_then(|o| self.whole_message(o.trim()))
            .is_some_and(|found| resolve(&found) == Some(intent))
    }

    fn opens_withdrawal(&self, opening: &str) -> bool {
        self.cancel_opening.said_in(opening)
    }

    /// Whether the message withdraws a request in so many words: a whole-message "取消" /
    /// "never mind", or an explicit withdrawal opening it ("please cancel that, …"). A
    /// "算了" inside a longer message may open a complaint instead.
    pub fn withdraws(&self, text: &str) -> bool {
        let r = self.read(text);
        if r.intent != Some(Intent::Cancel) {
            return false;
        }
        let n = norm(text);
        let core = n.trim_matches(is_sep);
        !r.loose
            || self.withdraws_anywhere(core)
            || self.closes_withdrawing(core)
            || core
                .split(|c: char| ",，.。!！;；".contains(c))
                .next()
                .is_some_and(|o| self.opens_withdrawal(o) || self.only_withdraws(o))
            || self.opens_only_withdrawing(core)
    }

    /// "喔 算了不用了 我老公剛剛拍了幾下又會轉了": the words up to a pause (a space after
    /// Chinese, as voice input leaves them) are nothing but a withdrawal.
    fn opens_only_withdrawing(&self, core: &str) -> bool {
        let mut prev = ' ';
        core.char_indices()
            .filter(|&(_, c)| {
                let pause = c.is_whitespace() && !prev.is_ascii();
                prev = c;
                pause
            })
            .any(|(i, _)| self.only_withdraws(&core[..i]))
    }

    /// "啊唔使喇,原來係冇電😅": an opening clause that is nothing but a withdrawal. Not "算了",
    /// which may open a complaint ("算了，跟你们说也没用，…").
    fn only_withdraws(&self, clause: &str) -> bool {
        let clause = clause.trim();
        !clause.starts_with('算')
            && self
                .whole_message(clause)
                .is_some_and(|found| resolve(&found) == Some(Intent::Cancel))
    }

    /// The intents a message is made of, when it is nothing but whole-message phrases and
    /// fillers.
    fn whole_message(&self, core: &str) -> Option<BTreeSet<Intent>> {
        let mut found = BTreeSet::new();
        let mut rest = core;
        while !rest.is_empty() {
            rest = rest.trim_start_matches(is_sep);
            if rest.is_empty() {
                break;
            }
            let first = rest.chars().next()?;
            // The last of the longest, as over the whole phrases and then the fillers.
            let phrase = self
                .openers
                .get(&first)
                .into_iter()
                .flatten()
                .filter(|(w, _)| starts_with_word(rest, w))
                .map(|(w, i)| (w.as_str(), *i))
                .max_by_key(|(w, _)| w.len())?;
            if let Some(i) = phrase.1 {
                found.insert(i);
            }
            rest = &rest[phrase.0.len()..];
        }
        (!found.is_empty()).then_some(found)
    }

    /// "没毛病，提交吧", "ok please file it": asks to send the request on, and nothing in
    /// it holds back ("先别提交", "don't submit yet").
    fn asks_to_send(&self, core: &str) -> bool {
        let Some(phrase) = self.confirm_loose.first_said_in(core) else {
            return false;
        };
        // The phrase itself may hold a "没"/"不" ("没问题"); only the rest is checked.
        let rest = core.replacen(phrase.as_str(), " ", 1);
        !self.confirm_hold.said_in(&rest)
    }

    /// What follows an opening "不对" / "no," when something does; "哦说错了，…" and
    /// "不好意思打錯，…" open with a softener first.
    fn after_deny(&self, core: &str) -> Option<String> {
        let core = self.without_leads(core);
        if self.deny_hold.iter().any(|h| starts_with_word(core, h)) {
            return None;
        }
        let p = self
            .deny_prefix
            .iter()
            .find(|p| starts_with_word(core, p))?;
        let rest = core[p.len()..].trim_start_matches(is_sep);
        let rest = rest
            .strip_prefix("是")
            .or_else(|| rest.strip_prefix("it's "))
            .or_else(|| rest.strip_prefix("its "))
            .or_else(|| rest.strip_prefix("it is "))
            .unwrap_or(rest)
            .trim_matches(is_sep);
        (!rest.is_empty()).then(|| rest.to_owned())
    }

    /// The message without the softeners a correction may open with ("哎呀", "不好意思").
    fn without_leads<'a>(&self, core: &'a str) -> &'a str {
        let mut core = core;
        while let Some(lead) = self.deny_lead.iter().find(|w| starts_with_word(core, w)) {
            let rest = core[lead.len()..].trim_start_matches(is_sep);
            if self.deny_prefix.iter().any(|p| starts_with_word(rest, p)) {
                return rest;
            }
            if rest.len() == core.len() {
                break;
            }
            core = rest;
        }
        core
    }

    fn yes_then(&self, core: &str) -> Option<String> {
        // The yes may be said twice or with a filler ("嗯对", "对对对", "对了"); it must end
        // at a break: "是卫生间" does not open with a yes.
        let mut rest = core;
        let (mut said_yes, mut at_break) = (false, false);
        while let Some((word, yes)) = self
            .whole
            .iter()
            .filter(|(w, i)| *i == Intent::Confirm && rest.starts_with(w.as_str()))
            .map(|(w, _)| (w.as_str(), true))
            .chain(
                self.fillers
                    .iter()
                    .filter(|w| said_yes && rest.starts_with(w.as_str()))
                    .map(|w| (w.as_str(), false)),
            )
            .filter(|(w, _)| !w.is_empty())
            .max_by_key(|(w, _)| w.len())
        {
            said_yes |= yes;
            rest = &rest[word.len()..];
            at_break = rest.is_empty() || rest.starts_with(is_sep);
            rest = rest.trim_start_matches(is_sep);
            if at_break {
                break;
            }
        }
        if !said_yes || !at_break {
            return None;
        }
        let rest = rest.trim_matches(is_sep);
        // Taking it back comes first ("对，不过地址不对", "yes but it's the kitchen"); "别摔着人"
        // further on is only what the resident wants.
        // A space between Chinese words ends a clause as a comma would: in "对 快点 晚上不
        // 安全" the first clause is "快点", and "不安全" further on takes nothing back.
        let mut prev = ' ';
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                let ends = ",，.。!！;；".contains(c) || c.is_whitespace() && !prev.is_ascii();
                prev = c;
                ends
            })
            .map_or(rest.len(), |(i, _)| i);
        let clause = &rest[..end];
        // "可唔可以", "能不能": asking, not taking back; nor is "唔该" ("係呀 唔該快啲"),
        // which is please, nor "冇錯" (right), nor "都唔係第一次" (not the first time).
        let mut plain = clause.to_owned();
        for w in [
            "唔该",
            "冇错",
            "没错",
            "无错",
            "不错",
            "不是第一次",
            "唔系第一次",
        ] {
            plain = plain.replace(w, "");
        }
        let chars: Vec<char> = plain.chars().collect();
        let mut kept = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len()
                && matches!(chars[i + 1], '不' | '唔')
                && chars[i] == chars[i + 2]
            {
                i += 3;
                continue;
            }
            kept.push(chars[i]);
            i += 1;
        }
        let opening: String = kept.into_iter().take(6).collect();
        // "别" holds the request back ("先别提交"), not what the resident asks of others
        // ("对 让他们别熏了").
        let takes_back = [
            "不",
            "错",
            "改",
            "但",
            "唔",
            "先别",
            "别提交",
            "别报",
            "别派",
            "别登记",
        ]
        .iter()
        .any(|w| opening.contains(w))
            || ["no", "not", "wrong", "but"]
                .iter()
                .any(|w| contains_word(clause, w));
        (!rest.is_empty() && !takes_back).then(|| rest.to_owned())
    }

    fn is_venting(&self, core: &str) -> bool {
        if !self.venting.appears_in(core) {
            return false;
        }
        let mut left = core.to_owned();
        for w in self
            .venting
            .iter()
            .chain(&self.venting_rest)
            .chain(&self.fillers)
        {
            if w.is_ascii() && w.contains(' ') {
                left = left.replace(w.as_str(), " ");
            } else if w.is_ascii() {
                left = left
                    .split(|c: char| c.is_whitespace() || c.is_ascii_punctuation() && c != '\'')
                    .filter(|t| t != w)
                    .collect::<Vec<_>>()
                    .join(" ");
            } else {
                left = left.replace(w.as_str(), "");
            }
        }
        // What is left once the anger and its filler words are gone: a vent names nothing.
        let spaced =
            |t: &str| -> String { t.chars().map(|c| if is_sep(c) { ' ' } else { c }).collect() };
        let (left, all) = (weight(&spaced(&left)), weight(&spaced(core)));
        left <= 2 || left * 10 <= all * 2
    }

    fn still_or_stopped(&self, core: &str) -> Option<bool> {
        // "不漏了" holds "漏" but says it stopped: the stopped words are read first.
        if self.stopped.said_in(core) {
            return Some(false);
        }
        if self.still.said_in(core) {
            return Some(true);
        }
        None
    }

    /// A thanks word anywhere ("人已经出来了谢谢").
    pub fn is_thankful(&self, text: &str) -> bool {
        let n = norm(text);
        self.thankful.said_in(&n)
    }

    /// What the opening of a longer message says when it is only courtesy ("Good morning!
    /// Just moved in…", "行 知道了 态度还算可以"): its first clause, or its first word.
    pub fn opening(&self, text: &str) -> Option<Intent> {
        let n = norm(text);
        let core = n.trim_matches(is_sep);
        let clause = core
            .split(|c: char| ",，.。!！;；~～".contains(c))
            .next()
            .unwrap_or_default();
        let word = clause.split_whitespace().next().unwrap_or_default();
        let found = [clause, word]
            .into_iter()
            .find_map(|part| self.whole_message(part.trim_matches(is_sep)));
        found.and_then(|found| resolve(&found))
    }

    /// A question, by its mark or its words ("要不要打119", "should I call 119").
    pub fn asks(&self, text: &str) -> bool {
        let n = norm(text);
        n.contains(['?', '？']) || self.question.said_in(&n)
    }

    /// "那管理室禮拜六有人嗎", "那采暖费的事呢": a question that follows on from what came
    /// before ("那个…", "那边…" only point at a thing).
    pub fn asks_following_on(&self, text: &str) -> bool {
        let n = norm(text);
        let core = n.trim_matches(is_sep);
        let opens = self.follow_openers.iter().any(|w| {
            starts_with_word(core, w)
                && !core[w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| "个個边邊里裡些天次位栋棟家件".contains(c))
        });
        opens && self.asks(text)
    }

    /// Whether the message says in its opening that it asks, and asks ("另外问下，听邻居说
    /// 明年物业费要涨价，是真的吗").
    pub fn asks_outright(&self, text: &str) -> bool {
        let n = norm(text);
        let opening: String = n.trim_matches(is_sep).chars().take(10).collect();
        self.ask_openers.said_in(&opening) && self.asks(text)
    }

    /// Whether the message asks where a request stands anywhere in it, however long
    /// ("…我們全家先下樓到中庭 你們的人出發了沒").
    pub fn says_status(&self, text: &str) -> bool {
        let n = norm(text);
        self.contains
            .iter()
            .any(|(i, words)| *i == Intent::Status && words.said_in(&n))
    }

    /// Whether the message asks what to do now ("要不要先下楼?", "should I shut it off?").
    pub fn asks_what_to_do(&self, text: &str) -> bool {
        mentions(&self.what_to_do, text)
    }

    /// Whether the message is about something inside a home ("厨房水管漏了", "bathroom").
    pub fn in_home(&self, text: &str) -> bool {
        mentions(&self.home, text)
    }

    /// Whether a question leans on the one before: short, or saying so ("我是租的房子 也能
    /// 开吗"). "小区什么时候开业主大会？" stands on its own.
    pub fn leans_on_before(&self, text: &str) -> bool {
        let n = norm(text);
        weight(n.trim_matches(is_sep)) <= 8 || self.follow_up.iter().any(|w| contains_word(&n, w))
    }

    /// Whether the message names a building or an estate in words of its own.
    pub fn names_estate(&self, text: &str) -> bool {
        mentions(&self.estate, text)
    }

    /// Whether the message only names a thing or a room, with nothing said of what is
    /// wrong ("我家厕所那个", "马桶", "the kitchen tap").
    pub fn names_only(&self, text: &str) -> bool {
        let mut rest = norm(text);
        let mut named = false;
        for (w, thing) in &self.pieces {
            if rest.contains(w.as_str()) {
                named |= *thing;
                rest = rest.replace(w.as_str(), " ");
            }
        }
        named
            && rest
                .split(|c: char| is_sep(c) || c.is_whitespace())
                .all(|tok| tok.is_empty() || ["my", "the", "in", "our", "a"].contains(&tok))
    }

    /// Whether the message brings news that help came or people are safe.
    pub fn news(&self, text: &str) -> bool {
        mentions(&self.news, text)
    }

    /// Whether the message asks to complain in so many words, wherever in it.
    pub fn asks_to_complain(&self, text: &str) -> bool {
        mentions(&self.complain_anywhere, text)
    }

    /// Whether the message asks for another time for a visit.
    pub fn reschedules(&self, text: &str) -> bool {
        mentions(&self.reschedule, text)
    }

    /// Whether the message asks for someone to come and see to something.
    pub fn asks_to_come(&self, text: &str) -> bool {
        mentions(&self.come, text)
    }

    /// Whether the message says nothing was wrong after all.
    pub fn false_alarm(&self, text: &str) -> bool {
        mentions(&self.false_alarm, text)
    }

    /// A repair said not to have held ("今天晚上又不亮了 你们师傅是不是没修好", "話修好咗?明明
    /// 仲係滴緊水!", "leaking again after the fix"): its own words, or a done word held back.
    pub fn not_fixed(&self, text: &str) -> bool {
        // Every text message asks this: the full reading comes last, only for a held-back
        // done word.
        mentions(&self.not_fixed, text)
            || mentions(&self.done_hold, text)
                && (mentions(&self.done_anywhere, text)
                    || self.read_plain(text).intent == Some(Intent::Done))
    }

    /// Pleased with a job just finished, in thanks or in its own words ("通了通了 师傅人很好
    /// 非常满意👍"), and not saying it failed ("不满意", "又漏了").
    pub fn pleased(&self, text: &str) -> bool {
        (mentions(&self.pleased, text) || self.is_thankful(text)) && !self.turned_round(text)
    }

    /// Thanks for something done or come ("师傅来过了，放完气现在热乎了，谢谢啊", "見到師傅喇
    /// OK 多謝"): the loop closing, whatever the job was.
    pub fn thanks_for_done(&self, text: &str) -> bool {
        self.is_thankful(text)
            && (mentions(&self.pleased, text) || mentions(&self.news, text))
            && !self.turned_round(text)
    }

    /// Words that turn pleasure round ("不满意") or say the job did not hold.
    fn turned_round(&self, text: &str) -> bool {
        mentions(&self.pleased_hold, text) || self.not_fixed(text)
    }

    /// What follows the first turning word ("冇再漏喇 不過依家成間屋冇水用" → "依家成間屋冇水
    /// 用"), in the resident's own words; `None` without one or with nothing after it.
    pub fn after_contrast(&self, text: &str) -> Option<String> {
        let n = norm(text);
        let orig: Vec<char> = text.chars().collect();
        if n.chars().count() != orig.len() {
            return None;
        }
        // Where a turning word starts, counted in characters, at a word's edge in English.
        let mut prev: Option<char> = None;
        let (at, len) = n.char_indices().enumerate().find_map(|(i, (byte, c))| {
            let edge = !prev.is_some_and(|p| p.is_ascii_alphabetic());
            prev = Some(c);
            let rest = &n[byte..];
            self.contrast
                .iter()
                .find(|w| edge && starts_with_word(rest, w))
                .map(|w| (i, w.chars().count()))
        })?;
        let after: String = orig[at + len..].iter().collect();
        let after = after.trim_matches(|c: char| is_sep(c) || c.is_whitespace());
        (at > 0 && weight(after) >= 2).then(|| after.to_owned())
    }

    /// "还有，客厅灯也坏了": the message adds a need to the one before.
    pub fn opens_with_connector(&self, text: &str) -> bool {
        let n = norm(text);
        let core = n.trim_start_matches(is_sep);
        self.connectors.iter().any(|c| starts_with_word(core, c))
    }

    /// Whether the message only steers the conversation (a yes, a digit, a thanks, a
    /// greeting, "叫个真人来") and says nothing the classifier needs to read. A long message
    /// that also matches a steering word ("…好像有点煤气味，不知道是不是我闻错了" reads as a
    /// correction) still tells its own story.
    pub fn only_steers(&self, text: &str) -> bool {
        let r = self.read(text);
        r.intent.is_some()
            && !r.loose
            && weight(norm(text).trim_matches(is_sep)) <= self.short_chars
    }

    /// Splits a message holding several needs ("阳台晾衣架掉了一半，另外停车月卡怎么续") at
    /// the words that join them. Each part keeps the resident's own words; a message with
    /// one need comes back whole.
    pub fn split_needs(&self, text: &str) -> Vec<String> {
        let n = norm(text);
        let orig: Vec<char> = text.trim().chars().collect();
        let chars: Vec<char> = n.chars().collect();
        if chars.len() != orig.len() {
            return vec![text.trim().to_owned()];
        }
        let core: String = chars.iter().collect();
        let announced = self.announcements.said_in(&core);
        let mut cuts = Vec::new();
        let mut i = 1;
        while i < chars.len() {
            let after_sep = is_sep(chars[i - 1]) || matches!(chars[i - 1], '?' | '？');
            if after_sep {
                let rest: String = chars[i..].iter().collect();
                let rest = rest.trim_start();
                let skip = chars[i..].len() - rest.chars().count();
                // "1) … 2) how do I get an extra card?": a numbered second need.
                if let Some(len) = second_item(rest) {
                    cuts.push(i + skip);
                    i += skip + len;
                    continue;
                }
                let plain = announced
                    .then(|| {
                        self.announced_connectors
                            .iter()
                            .find(|c| starts_with_word(rest, c))
                    })
                    .flatten();
                if let Some(c) = self
                    .connectors
                    .iter()
                    .find(|c| starts_with_word(rest, c))
                    .or(plain)
                {
                    let body = rest[c.len()..].trim_matches(is_sep);
                    if body.chars().count() >= 2 {
                        cuts.push(i + skip);
                        i += skip + c.chars().count();
                        continue;
                    }
                }
            }
            i += 1;
        }
        if cuts.is_empty() {
            return vec![text.trim().to_owned()];
        }
        let mut parts = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([orig.len()]) {
            let part: String = orig[start..cut].iter().collect();
            let part = part.trim_matches(is_sep).trim();
            if !part.is_empty() {
                parts.push(part.to_owned());
            }
            start = cut;
        }
        parts
    }
}

/// The length in characters of a list marker past the first ("2)", "3.", "2、", "②",
/// "(2)") opening `rest`, when one does.
fn second_item(rest: &str) -> Option<usize> {
    let mut chars = rest.chars();
    let first = chars.next()?;
    if ('②'..='⑨').contains(&first) {
        return Some(1);
    }
    let (open, digit) = match first {
        '(' | '（' => (1, chars.next()?),
        c => (0, c),
    };
    if !('2'..='9').contains(&digit) {
        return None;
    }
    let close = chars.next()?;
    // "2. how do I", "2.我们单元门禁": a full stop then a space, or then Chinese ("2.5米"
    // is a number).
    let spaced = || {
        chars
            .clone()
            .next()
            .is_none_or(|c| c.is_whitespace() || crate::understanding::is_cjk(c))
    };
    match close {
        ')' | '）' | '、' => Some(open + 2),
        '.' if open == 0 && spaced() => Some(2),
        _ => None,
    }
}

/// A message's length for "short": Chinese characters, and an English word as two of them.
pub fn weight(text: &str) -> usize {
    let cjk = text.chars().filter(|c| !c.is_ascii()).count();
    let words = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .count();
    cjk + 2 * words
}

/// The strongest of several whole-message readings ("好的谢谢" is thanks that says yes).
fn resolve(found: &BTreeSet<Intent>) -> Option<Intent> {
    let has = |i| found.contains(&i);
    if has(Intent::Deny) && has(Intent::Thanks) {
        return Some(Intent::Cancel);
    }
    // "早上好呀 管家辛苦了": a greeting with a courtesy (and the concierge named) is a
    // greeting.
    let courtesy = has(Intent::Thanks) || !has(Intent::Handoff);
    let only_courtesies = found
        .iter()
        .all(|i| matches!(i, Intent::Greeting | Intent::Thanks | Intent::Handoff));
    if has(Intent::Greeting) && courtesy && only_courtesies {
        return Some(Intent::Greeting);
    }
    if has(Intent::Thanks) && !has(Intent::Cancel) && !has(Intent::Done) {
        return Some(Intent::Thanks);
    }
    // "係,我要投訴" answering a complaint's read-back: the yes, restating the request.
    if has(Intent::Confirm) && (has(Intent::StartComplaint) || has(Intent::StartRepair)) {
        return Some(Intent::Confirm);
    }
    found.iter().next().copied()
}

/// `w` at the start of `text`; an English word must end there too ("no" is not "now").
fn starts_with_word(text: &str, w: &str) -> bool {
    text.starts_with(w)
        && (!w.ends_with(|c: char| c.is_ascii_alphanumeric())
            || !text[w.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
}

/// `w` in `text`; English words only as whole words ("no" is not in "know").
fn contains_word(text: &str, w: &str) -> bool {
    if w.chars().all(|c| c.is_ascii_digit()) {
        // "119" is not in room "1190".
        return text.match_indices(w).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + w.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_digit())
                && !after.is_some_and(|c| c.is_ascii_digit())
        });
    }
    if !w.is_ascii() {
        return text.contains(w);
    }
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + w.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Whether the message says any of `words` (each as a word, in the normalised text).
fn mentions(words: &impl WordList, text: &str) -> bool {
    words.said_in(&norm(text))
}

/// A list asked whether a text says any of its words ([`contains_word`]).
trait WordList {
    fn said_in(&self, text: &str) -> bool;
}

impl WordList for [String] {
    fn said_in(&self, text: &str) -> bool {
        self.iter().any(|w| contains_word(text, w))
    }
}

impl WordList for Vec<String> {
    fn said_in(&self, text: &str) -> bool {
        self.as_slice().said_in(text)
    }
}

impl WordList for Words {
    fn said_in(&self, text: &str) -> bool {
        Words::said_in(self, text)
    }
}

/// A word list searched in one pass: one automaton over all its words, built with the
/// list, instead of one substring search per word per call. It answers exactly what
/// [`contains_word`] over each word in turn would (`tests::lists_match_as_word_by_word`).
#[derive(Debug, Clone, Default)]
struct Words {
    list: Vec<String>,
    /// `None` for an empty list.
    automaton: Option<AhoCorasick>,
    /// For each word, what must surround it for it to count ([`contains_word`]).
    bounds: Vec<Bound>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// Anywhere (a word with Chinese in it).
    None,
    /// Not inside a longer number ("119" is not in room "1190").
    Digits,
    /// Not inside a longer English word ("no" is not in "know").
    Letters,
    /// Either of the two above, for a word that can overlap itself ("1 1", "haha"):
    /// `contains_word` only tries the occurrences left after each one found, so such a
    /// word is asked of it directly.
    Itself,
}

impl Words {
    fn new(list: Vec<String>) -> anyhow::Result<Self> {
        let bounds = list
            .iter()
            .map(|w| {
                let bytes = w.as_bytes();
                let overlaps = (1..bytes.len()).any(|k| bytes[..k] == bytes[bytes.len() - k..]);
                if w.is_ascii() {
                    if overlaps {
                        Bound::Itself
                    } else if w.chars().all(|c| c.is_ascii_digit()) {
                        Bound::Digits
                    } else {
                        Bound::Letters
                    }
                } else {
                    Bound::None
                }
            })
            .collect();
        let automaton = if list.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&list).context("building a word list's automaton")?)
        };
        Ok(Words {
            list,
            automaton,
            bounds,
        })
    }

    /// Whether `text` says any of the words, as [`contains_word`] reads each.
    fn said_in(&self, text: &str) -> bool {
        self.matching(text, true).is_some()
    }

    /// The first word in the list's order that `text` says.
    fn first_said_in(&self, text: &str) -> Option<&String> {
        self.matching(text, false).map(|i| &self.list[i])
    }

    /// Whether any of the words occurs in `text` at all, as a plain substring.
    fn appears_in(&self, text: &str) -> bool {
        self.automaton.as_ref().is_some_and(|a| a.is_match(text))
    }

    /// The index of a word `text` says: the first one found when `any`, else the lowest.
    fn matching(&self, text: &str, any: bool) -> Option<usize> {
        let automaton = self.automaton.as_ref()?;
        let mut lowest: Option<usize> = None;
        for m in automaton.find_overlapping_iter(text) {
            let i = m.pattern().as_usize();
            if lowest.is_some_and(|l| l <= i) {
                continue;
            }
            let outside = |ok: fn(char) -> bool| {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(ok) && !after.is_some_and(ok)
            };
            let said = match self.bounds[i] {
                Bound::None => true,
                Bound::Digits => outside(|c| c.is_ascii_digit()),
                Bound::Letters => outside(|c| c.is_ascii_alphanumeric()),
                Bound::Itself => contains_word(text, &self.list[i]),
            };
            if said {
                if any {
                    return Some(i);
                }
                lowest = Some(i);
            }
        }
        lowest
    }
}

impl std::ops::Deref for Words {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Words {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// (new, old) from "是卫生间不是厨房", "卫生间不是厨房", "不是厨房是卫生间",
/// "not the kitchen, the bathroom", "the bathroom not the kitchen".
fn swap(text: &str) -> Option<(String, String)> {
    let clean = |s: &str| -> Option<String> {
        let s = s
            .trim_matches(is_sep)
            .trim_start_matches("是")
            .trim_start_matches("而是")
            .trim_start_matches("应该是")
            .trim_end_matches(['了', '的', '啊', '呀', '吧'])
            // "是C棟才對": "才对" only stresses it.
            .trim_end_matches("才对")
            .trim_end_matches("才對")
            .trim_start_matches("the ")
            .trim_start_matches("it's ")
            .trim_start_matches("its ")
            .trim_start_matches("but ")
            .trim_start_matches("the ")
            .trim_matches(is_sep);
        let n = s.chars().count();
        (n > 0 && n <= 12 && !s.contains("不是")).then(|| s.to_owned())
    };
    if let Some(i) = text.find("不是") {
        let before = &text[..i];
        let after = &text[i + "不是".len()..];
        if before.trim_matches(is_sep).is_empty() {
            // 不是Y(，)是X
            // X ends at its clause: "是9号楼 我老花眼看错了" says why after it.
            let j = after.find('是')?;
            let x = after[j..].split(is_sep).next()?;
            return Some((clean(x)?, clean(&after[..j])?));
        }
        // (是)X不是Y: X is the last clause of what comes before.
        let x = before
            .rsplit(|c: char| is_sep(c) && !c.is_whitespace())
            .next()?;
        let y = after.split(is_sep).next()?;
        return Some((clean(x)?, clean(y)?));
    }
    if let Some(rest) = text.strip_prefix("not ") {
        let (y, x) = rest.split_once([',', ';'])?;
        return Some((clean(x)?, clean(y)?));
    }
    if let Some(i) = text.find(", not ").or_else(|| text.find(" not the ")) {
        let x = &text[..i];
        let y = text[i..]
            .trim_start_matches(',')
            .trim_start()
            .strip_prefix("not ")?;
        return Some((clean(x)?, clean(y)?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every resident's line the repository holds (the conversations' turns, the labelled
    /// NLU lines) and every listed word with what may stand around it.
    fn many_texts() -> Vec<String> {
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x.as_str()) {
                            ("say" | "text", Some(t)) => out.push(t.to_owned()),
                            _ => walk(x, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let root = env!("CARGO_MANIFEST_DIR");
        let mut out = Vec::new();
        for dir in ["tests/conversations", "tests/data", "data/nlu/fresh"] {
            let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                if path.extension().is_some_and(|x| x == "jsonl") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for line in text.lines() {
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                            walk(&v, &mut out);
                        }
                    }
                }
            }
        }
        assert!(out.len() > 1000, "only {} texts found", out.len());
        let words = include_str!("../../config/intents.toml");
        for w in words.split('"').skip(1).step_by(2) {
            out.push(format!("{w}{w}"));
            for (a, b) in [("x", "x"), ("1", "1"), ("我", "了"), ("no ", "?")] {
                out.push(format!("{a}{w}{b}"));
            }
        }
        out.extend(
            [
                "1 1 1", "x1 1 1", "haha ha", "119119", "1191", "no no", "nono no",
            ]
            .map(String::from),
        );
        out
    }

    fn lists(i: &Intents) -> Vec<&Words> {
        let mut all: Vec<&Words> = i.contains.iter().map(|(_, w)| w).collect();
        all.extend([
            &i.cancel_opening,
            &i.cancel_anywhere,
            &i.handoff_anywhere,
            &i.identity_anywhere,
            &i.question,
            &i.what_to_do,
            &i.ask_openers,
            &i.laughing,
            &i.home,
            &i.estate,
            &i.news,
            &i.come,
            &i.reschedule,
            &i.complain_anywhere,
            &i.false_alarm,
            &i.not_fixed,
            &i.pleased,
            &i.pleased_hold,
            &i.confirm_loose,
            &i.confirm_hold,
            &i.done_anywhere,
            &i.done_hold,
            &i.venting,
            &i.thankful,
            &i.still,
            &i.stopped,
            &i.announcements,
        ]);
        all
    }

    /// `whole_message` as it was written before the phrases were indexed by first character.
    fn whole_message_phrase_by_phrase(i: &Intents, core: &str) -> Option<BTreeSet<Intent>> {
        let mut found = BTreeSet::new();
        let mut rest = core;
        while !rest.is_empty() {
            rest = rest.trim_start_matches(is_sep);
            if rest.is_empty() {
                break;
            }
            let phrase = i
                .whole
                .iter()
                .filter(|(w, _)| starts_with_word(rest, w))
                .map(|(w, i)| (w.as_str(), Some(*i)))
                .chain(
                    i.fillers
                        .iter()
                        .filter(|w| starts_with_word(rest, w))
                        .map(|w| (w.as_str(), None)),
                )
                .max_by_key(|(w, _)| w.len())?;
            if let Some(i) = phrase.1 {
                found.insert(i);
            }
            rest = &rest[phrase.0.len()..];
        }
        (!found.is_empty()).then_some(found)
    }

    #[test]
    fn an_opening_clause_that_only_withdraws_withdraws_a_long_message() {
        let i = Intents::default();
        let r = i.read("啊唔使喇,我老公頭先倒咗支通渠水,而家得返喇😂 取消吖,唔好意思");
        assert_eq!(r.intent, Some(Intent::Cancel));
        // "算了" may open a complaint.
        let r = i.read("算了，跟你们说也没用，楼上每天半夜装修，你们一次都没管过");
        assert_ne!(r.intent, Some(Intent::Cancel));
    }

    #[test]
    fn a_yes_in_pinyin_and_a_person_asked_for_at_length() {
        let i = Intents::default();
        for yes in ["dui dui, correct", "shi de", "这回对了"] {
            assert_eq!(i.read(yes).intent, Some(Intent::Confirm), "{yes}");
        }
        let r = i.read(
            "I'm afraid these automatic things confuse me. Could I speak to an actual human being please?",
        );
        assert_eq!(r.intent, Some(Intent::Handoff));
    }

    #[test]
    fn only_short_steering_messages_skip_the_model() {
        let i = Intents::default();
        for steers in ["1", "好的谢谢", "对", "ok thanks", "取消", "👍"] {
            assert!(i.only_steers(steers), "{steers}");
        }
        for tells in [
            "刚下班回来，8栋2单元6楼楼道里好像有点煤气味，不知道是不是我闻错了",
            "厨房水管漏水",
            "",
        ] {
            assert!(!i.only_steers(tells), "{tells}");
        }
    }

    #[test]
    fn whole_messages_read_as_phrase_by_phrase() {
        let i = Intents::default();
        for raw in many_texts() {
            let n = norm(&raw);
            let core = n.trim_matches(is_sep);
            let clauses = core.split(|c: char| ",，.。!！;；".contains(c));
            for text in [raw.as_str(), n.as_str(), core].into_iter().chain(clauses) {
                assert_eq!(
                    i.whole_message(text),
                    whole_message_phrase_by_phrase(&i, text),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn lists_match_as_word_by_word() {
        let i = Intents::default();
        let lists = lists(&i);
        // Lists with words that overlap themselves and digit words, beside the shipped ones.
        let extra = Words::new(
            ["1 1", "haha", "no", "119", "aa", "漏水", "no no", "1"]
                .map(String::from)
                .to_vec(),
        )
        .expect("builds");
        let mut checked = 0;
        for raw in many_texts() {
            for text in [raw.clone(), norm(&raw)] {
                for words in lists.iter().copied().chain([&extra]) {
                    assert_eq!(
                        words.said_in(&text),
                        words.iter().any(|w| contains_word(&text, w)),
                        "{text:?} in {:?}",
                        words.list
                    );
                    assert_eq!(
                        words.first_said_in(&text),
                        words.iter().find(|w| contains_word(&text, w)),
                        "{text:?}"
                    );
                    assert_eq!(
                        words.appears_in(&text),
                        words.iter().any(|w| text.contains(w.as_str())),
                        "{text:?}"
                    );
                    checked += 1;
                }
            }
            assert_eq!(norm(&raw), norm_afresh(&raw), "{raw:?}");
        }
        assert!(checked > 50_000, "{checked}");
    }

    fn read(text: &str) -> Reading {
        Intents::default().read(text)
    }

    #[test]
    fn a_question_following_on_and_a_turn_to_something_else() {
        let i = Intents::default();
        assert!(i.asks_following_on("那管理室禮拜六有人嗎 我平日要上班"));
        assert!(i.asks_following_on("那采暖费的事呢 还没回我"));
        assert!(i.asks_following_on("and how much was the pass again?"));
        assert!(!i.asks_following_on("那个灯又坏了吗"));
        assert!(!i.asks_following_on("那管理员态度太差了"));
        assert_eq!(
            i.after_contrast("冇再漏喇 不過依家成間屋冇水用").as_deref(),
            Some("依家成間屋冇水用")
        );
        assert_eq!(i.after_contrast("水停了"), None);
        assert_eq!(i.after_contrast("but"), None);
    }

    #[test]
    fn a_cry_said_laughing_is_no_call_for_help() {
        assert_eq!(intent("救命啊 电梯卡住了"), Some(Intent::Alarm));
        assert_ne!(
            intent("救命 我家猫把鱼缸撞翻了 水洒了一地 笑死 这个不用你们管哈"),
            Some(Intent::Alarm)
        );
        assert_ne!(
            intent("help! the ants are everywhere lol"),
            Some(Intent::Alarm)
        );
    }

    #[test]
    fn not_sure_opens_no_correction_and_right_is_a_yes() {
        assert_eq!(
            intent("Not sure if it's anything but there was a burning smell"),
            None
        );
        assert_eq!(intent("no, it's room 1203"), Some(Intent::Correct));
        assert!(read("係 冇錯 唔該快啲").yes_then.is_some());
        assert!(read("係呀 都唔係第一次").yes_then.is_some());
        assert!(read("係 唔係1203").yes_then.is_none());
        // "Wait" opens a correction like a "sorry".
        assert_eq!(
            read("等一下 不是708 是807 語音聽錯了 🙏").swap,
            Some(("807".to_owned(), "708".to_owned()))
        );
        assert_eq!(intent("tq!"), Some(Intent::Thanks));
        // A person asked for in so many words is no loose reading beside a problem.
        let r = read("我眼神不好 打字也费劲 能不能让管家直接给我打个电话 我是17号楼2单元的老张");
        assert_eq!((r.intent, r.loose), (Some(Intent::Handoff), false));
    }

    fn intent(text: &str) -> Option<Intent> {
        read(text).intent
    }

    #[test]
    fn a_thing_named_without_its_fault_is_a_piece_of_a_problem() {
        let i = Intents::default();
        for piece in ["我家厕所那个", "马桶", "the kitchen tap", "廚房個水喉"] {
            assert!(i.names_only(piece), "{piece}");
        }
        for whole in [
            "马桶堵了",
            "the kitchen tap drips",
            "我家卫生间漏水",
            "你好",
        ] {
            assert!(!i.names_only(whole), "{whole}");
        }
    }

    #[test]
    fn a_withdrawal_may_close_a_long_message() {
        let i = Intents::default();
        let long = "啊等等,好似係燈膽燒咗咋,我自己換得,唔使喇";
        assert_eq!(intent(long), Some(Intent::Cancel));
        assert!(i.withdraws(long));
        assert!(i.withdraws("the light came back on by itself after a while, never mind"));
        // Resignation closing a complaint is no withdrawal.
        assert!(!i.withdraws("修了三次都没修好，你们到底行不行，算了"));
    }

    #[test]
    fn a_repair_that_did_not_hold_in_three_scripts() {
        let i = Intents::default();
        for said in [
            "灯是换了 今天晚上又不亮了 你们师傅是不是没修好",
            "話修好咗?明明仲係滴緊水!你哋有冇上嚟睇過㗎?",
            "這也叫修好了? 還是在漏",
            "the tap is leaking again since this morning",
        ] {
            assert!(i.not_fixed(said), "{said}");
        }
        for said in [
            "修好了 谢谢师傅",
            "已经好了",
            "thanks, all fixed",
            "厨房水管漏水",
        ] {
            assert!(!i.not_fixed(said), "{said}");
        }
    }

    #[test]
    fn a_status_question_may_open_a_long_message_but_a_complaint_is_told() {
        assert_eq!(
            intent("师傅出发了没有 我爸耳朵背门铃听不见 让师傅到了使劲敲门"),
            Some(Intent::Status)
        );
        assert_ne!(
            intent("都快5点了还没人来 我老头子在家等了一下午 菜都没去买"),
            Some(Intent::Status)
        );
        let r = read("any update? still can't use it");
        assert_eq!((r.intent, r.loose), (Some(Intent::Status), false));
    }

    #[test]
    fn a_yes_in_a_hurry_is_a_yes_but_a_hurry_alone_is_a_call_for_help() {
        let r = read("係呀 快啲嚟");
        assert_ne!(r.intent, Some(Intent::Alarm));
        assert!(r.yes_then.is_some(), "{r:?}");
        assert_eq!(intent("快啲嚟呀 有人暈低咗"), Some(Intent::Alarm));
        assert_eq!(intent("对 快来人 要打119吗"), Some(Intent::Alarm));
    }

    #[test]
    fn a_greeting_with_small_talk_is_a_greeting() {
        assert_eq!(intent("早上好呀 管家辛苦了"), Some(Intent::Greeting));
        assert_eq!(intent("哈囉管家 食咗飯未呀 😂"), Some(Intent::Greeting));
        assert_eq!(intent("管家"), Some(Intent::Handoff));
        assert_eq!(intent("你好 转人工"), Some(Intent::Handoff));
        assert_eq!(intent("any update?"), Some(Intent::Status));
        assert_eq!(intent("谢谢 再见"), Some(Intent::Thanks));
    }

    #[test]
    fn a_yes_that_restates_the_request_is_a_yes() {
        assert_eq!(intent("係,我要投訴"), Some(Intent::Confirm));
        assert_eq!(intent("我要投訴"), Some(Intent::StartComplaint));
    }

    #[test]
    fn numbered_needs_are_split_at_their_numbers() {
        let i = Intents::default();
        let parts = i.split_needs(
            "Two things, sorry. 1) the flat above us drags furniture around every night. 2) how do I get an extra access card?",
        );
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[1].starts_with("2)"), "{parts:?}");
        assert_eq!(i.split_needs("天花板漏水 大概2.5米高那里").len(), 1);
        assert_eq!(i.split_needs("1、厨房水管漏水 2、物业费怎么交").len(), 2);
        assert_eq!(
            i.split_needs("两个事：1.纸箱堆成山了 2.单元门禁刷卡没反应")
                .len(),
            2
        );
    }

    #[test]
    fn a_plain_and_parts_needs_only_once_several_are_announced() {
        let i = Intents::default();
        let parts = i.split_needs(
            "Hi! Two things – the bathroom tap at 9栋402 won't stop dripping, and my reno guys need those worker entry passes, how much is it per person?",
        );
        assert!(
            parts.last().is_some_and(|p| p.starts_with("and my reno")),
            "{parts:?}"
        );
        assert!(parts.iter().any(|p| p.contains("dripping")), "{parts:?}");
        assert_eq!(
            i.split_needs("the tap is dripping, and the sink is slow to drain too")
                .len(),
            1
        );
        assert_eq!(
            i.split_needs("两件事 厨房灯不亮了，然后门禁卡怎么补办")
                .len(),
            2
        );
    }

    #[test]
    fn a_request_named_with_where_the_resident_lives() {
        let i = Intents::default();
        let rest = crate::understanding::without_address("喂,我住澳門皇朝廣場第1座2312,有樣嘢壞咗");
        assert_eq!(i.starts_request(&rest), Some(Intent::StartRepair), "{rest}");
        assert_eq!(i.starts_request("我要报修"), Some(Intent::StartRepair));
        let rest = crate::understanding::without_address("我住3栋1101 厨房水管漏了 有东西坏了");
        assert_eq!(i.starts_request(&rest), None, "{rest}");
    }

    #[test]
    fn a_correction_opens_with_its_longest_softener() {
        let r = read("哎呀不是6号楼 是9号楼 我老花眼看错了");
        assert_eq!(r.intent, Some(Intent::Correct));
        assert_eq!(
            r.swap,
            Some(("9号楼".to_owned(), "6号楼".to_owned())),
            "{r:?}"
        );
    }

    #[test]
    fn a_yes_then_a_question_is_still_a_yes() {
        assert!(read("係 今日可唔可以嚟?").yes_then.is_some());
        assert!(read("对 能不能今天来").yes_then.is_some());
        assert!(read("对 不过地址不对").yes_then.is_none());
    }

    #[test]
    fn a_stressed_correction_swaps_the_value_alone() {
        let r = read("不對 是C棟才對 不是B棟");
        assert_eq!(r.intent, Some(Intent::Correct));
        assert_eq!(r.swap, Some(("c栋".to_owned(), "b栋".to_owned())));
    }

    #[test]
    fn asking_for_a_person_wins_at_any_length() {
        assert_eq!(
            intent("你还是让我们楼的管家直接跟我说吧 机器人讲不清楚"),
            Some(Intent::Handoff)
        );
        assert_eq!(
            intent("我这个情况有点复杂 跟房东还有车位都有关系 能不能找个真人跟我聊"),
            Some(Intent::Handoff)
        );
    }

    #[test]
    fn a_long_message_that_opens_by_withdrawing_the_request_is_a_cancel() {
        for text in [
            "Actually please cancel that, I cleaned the fan and it works fine now.",
            "取消刚才那个报修吧，我老公下班回来自己换了个灯泡就好了",
            "唔使派人上嚟喇，我哋自己搵咗師傅整好咗個水龍頭",
        ] {
            assert_eq!(intent(text), Some(Intent::Cancel), "{text}");
        }
        // "算了" opens a complaint as often as a withdrawal; a problem told after a
        // withdrawal word further in is not one.
        let intents = Intents::default();
        for text in [
            "算了，跟你们说也没用，垃圾房三天没人清理了，臭得要命",
            "厨房水龙头一直在滴水，能不能派人来看看，不要取消上次的预约",
        ] {
            assert!(!intents.withdraws(text), "{text}");
        }
        for text in [
            "取消",
            "never mind",
            "Actually please cancel that, it works now.",
            "oh wait my husband flipped the breaker and it works now lol can you cancel that ticket pls",
            "唔好意思,原來係裝修師傅用緊天拿水,唔係煤氣,唔使派人喇",
        ] {
            assert!(intents.withdraws(text), "{text}");
        }
    }

    #[test]
    fn a_yes_with_words_after_it_keeps_the_words_unless_they_take_it_back() {
        for (text, then) in [
            ("嗯对 就是这个 尽快哈", "就是这个 尽快哈"),
            (
                "对 就是这个 赶紧弄一下 别摔着人",
                "就是这个 赶紧弄一下 别摔着人",
            ),
            ("yes, please come after 6pm", "please come after 6pm"),
            ("对 快点 晚上不安全", "快点 晚上不安全"),
        ] {
            assert_eq!(read(text).yes_then.as_deref(), Some(then), "{text}");
        }
        // A yes in so many words, whole.
        assert_eq!(read("对了 这回对了").intent, Some(Intent::Confirm));
        for text in [
            "对，不过地址不对",
            "yes, the address is wrong",
            "是卫生间",
            "对 地址写错了",
            "对 不过房号不对",
        ] {
            assert_eq!(read(text).yes_then, None, "{text}");
        }
    }

    #[test]
    fn the_same_meaning_in_three_scripts() {
        use Intent::*;
        let cases: &[(&str, Option<Intent>)] = &[
            ("1", Some(Digit(1))),
            ("２", Some(Digit(2))),
            ("对", Some(Confirm)),
            ("嗯嗯", Some(Confirm)),
            ("係", Some(Confirm)),
            ("確認", Some(Confirm)),
            ("好的呀", Some(Confirm)),
            ("Yes please", Some(Confirm)),
            ("OK.", Some(Confirm)),
            ("不对", Some(Deny)),
            ("唔啱", Some(Deny)),
            ("nope", Some(Deny)),
            ("算了不用了", Some(Cancel)),
            ("取消", Some(Cancel)),
            ("唔使了", Some(Cancel)),
            ("never mind", Some(Cancel)),
            ("no thanks", Some(Cancel)),
            ("叫个真人来", Some(Handoff)),
            ("轉人工", Some(Handoff)),
            ("I want to talk to a real person", Some(Handoff)),
            ("你是机器人吗？", Some(Identity)),
            ("你是機器人嗎", Some(Identity)),
            ("are you a robot?", Some(Identity)),
            ("what's happening with my repair?", Some(Status)),
            ("我之前报的修怎么样了", Some(Status)),
            ("師傅幾時到", Some(Status)),
            ("进度", Some(Status)),
            ("你好", Some(Greeting)),
            ("hello!", Some(Greeting)),
            ("👋", Some(Greeting)),
            ("😊😊", Some(Greeting)),
            ("谢谢", Some(Thanks)),
            ("唔该晒", Some(Thanks)),
            ("thank you!", Some(Thanks)),
            ("没事了", Some(Done)),
            ("人已经出来了谢谢", Some(Done)),
            ("冇事了", Some(Done)),
            ("it's fixed now, thanks", Some(Done)),
            ("你们物业太差了！", Some(Venting)),
            ("this is terrible", Some(Venting)),
            ("我该打119吗", Some(Alarm)),
            ("should I call 119?", Some(Alarm)),
            ("结束", Some(End)),
            ("我要报修", Some(StartRepair)),
            ("I want to make a complaint", Some(StartComplaint)),
            ("厨房水管漏水", None),
            ("谢谢保安小李帮我搬东西", None),
            ("你们物业太差了，垃圾三天没人收", None),
            // Anger in other words, still naming nothing.
            (
                "你们物业到底干啥吃的！！！一天天啥也不管，物业费白交了😡",
                Some(Venting),
            ),
            (
                "Honestly this management is useless. Nothing ever gets done around here 😡😡",
                Some(Venting),
            ),
            ("ugh 😤 this place is driving me nuts", Some(Venting)),
            ("👍", Some(Thanks)),
            ("你们师傅来拧了两下就走了 现在还在漏 这也叫修好了?", None),
            ("師傅說修好了,可是水還是很小,根本沒辦法洗澡", None),
            (
                "你哋管理處真係離晒大譜，講極都冇人理，交咁貴管理費㗎 😤",
                Some(Venting),
            ),
            ("楼上天天装修噪音 你们干什么吃的", None),
            (
                "this is driving me nuts, the lift has been broken for a week",
                None,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(intent(text), *want, "{text}");
        }
    }

    #[test]
    fn a_yes_that_goes_on() {
        assert_eq!(
            read("对，麻烦尽快来").yes_then.as_deref(),
            Some("麻烦尽快来")
        );
        assert_eq!(
            read("ok, please come after 6pm").yes_then.as_deref(),
            Some("please come after 6pm")
        );
        assert_eq!(read("对，不过地址错了").yes_then, None);
        assert_eq!(read("是卫生间").yes_then, None);
    }

    #[test]
    fn thanks_that_say_yes() {
        let r = read("好的谢谢");
        assert_eq!(r.intent, Some(Intent::Thanks));
        assert!(r.yes_too);
        assert!(!read("谢谢").yes_too);
    }

    #[test]
    fn corrections_carry_their_new_value() {
        let r = read("不对 是1203室");
        assert_eq!(r.intent, Some(Intent::Correct));
        assert_eq!(r.correction.as_deref(), Some("1203室"));
        let r = read("不对，是卫生间不是厨房");
        assert_eq!(r.intent, Some(Intent::Correct));
        assert_eq!(r.swap, Some(("卫生间".into(), "厨房".into())));
        let r = read("不是厨房，是卫生间");
        assert_eq!(r.swap, Some(("卫生间".into(), "厨房".into())));
        let r = read("not the kitchen, the bathroom");
        assert_eq!(r.swap, Some(("bathroom".into(), "kitchen".into())));
        let r = read("No, it's room 1203");
        assert_eq!(r.intent, Some(Intent::Correct));
        assert_eq!(r.correction.as_deref(), Some("room 1203"));
        let r = read("唔啱，係1203");
        assert_eq!(r.intent, Some(Intent::Correct));
    }

    #[test]
    fn still_happening_or_not() {
        assert_eq!(read("还在漏").still, Some(true));
        assert_eq!(read("仲有味").still, Some(true));
        assert_eq!(read("yes still smoking").still, Some(true));
        assert_eq!(read("不漏了").still, Some(false));
        assert_eq!(read("没有了").still, Some(false));
        assert_eq!(read("no it stopped").still, Some(false));
    }

    #[test]
    fn several_needs_are_split_at_their_joining_words() {
        let i = Intents::default();
        assert_eq!(
            i.split_needs("阳台晾衣架掉了一半，另外停车月卡怎么续"),
            vec!["阳台晾衣架掉了一半", "另外停车月卡怎么续"]
        );
        assert_eq!(
            i.split_needs("The kitchen tap leaks. Also, how do I pay the fee?")
                .len(),
            2
        );
        assert_eq!(i.split_needs("厨房还有水在漏").len(), 1);
        assert_eq!(i.split_needs("3栋1101 厨房水管漏水").len(), 1);
    }
}
