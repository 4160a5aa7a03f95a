//! The revisit survey (回访) as the resident answers it: reading a rating out of whatever
//! they wrote, then closing the ticket (satisfied or neutral) or reopening it and alerting
//! the supervisor (dissatisfied — it counts as a repeat complaint).

use sqlx::PgConnection;
use uuid::Uuid;

use super::context::TicketContext;
use super::lifecycle::{transition, TransitionError};
use super::model::{Department, Role, Status};
use super::notify::{self, Notice, NoticeKind};
use super::repository::Actor;
use crate::domain::Locale;

/// A satisfaction rating, 1 (very dissatisfied) … 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rating(u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Satisfied,
    Neutral,
    Dissatisfied,
}

impl Rating {
    pub fn new(value: u8) -> Option<Self> {
        (1..=5).contains(&value).then_some(Rating(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn mood(self) -> Mood {
        match self.0 {
            4..=5 => Mood::Satisfied,
            3 => Mood::Neutral,
            _ => Mood::Dissatisfied,
        }
    }
}

/// Phrases that are a rating when they are the whole answer or found inside a short one.
/// Order matters: negated and intensified forms come before the plain words they contain.
const PHRASES: &[(&str, u8)] = &[
    // simplified and traditional Chinese
    ("非常不满意", 1),
    ("非常不滿意", 1),
    ("很不满意", 1),
    ("很不滿意", 1),
    ("极不满意", 1),
    ("極不滿意", 1),
    ("特别不满意", 1),
    ("特別不滿意", 1),
    ("十分不满意", 1),
    ("十分不滿意", 1),
    ("非常差", 1),
    ("很差", 1),
    ("太差", 1),
    ("极差", 1),
    ("極差", 1),
    ("垃圾", 1),
    ("糟糕", 1),
    ("差劲", 1),
    ("差勁", 1),
    ("不是很满意", 2),
    ("不是很滿意", 2),
    ("不是太满意", 2),
    ("不是太滿意", 2),
    ("不怎么满意", 2),
    ("不怎麼滿意", 2),
    ("不太满意", 2),
    ("不太滿意", 2),
    ("不满意", 2),
    ("不滿意", 2),
    ("不太好", 2),
    ("差评", 2),
    ("差評", 2),
    ("失望", 2),
    ("一般般", 3),
    ("一般", 3),
    ("还行", 3),
    ("還行", 3),
    ("还可以", 3),
    ("還可以", 3),
    ("凑合", 3),
    ("湊合", 3),
    ("马马虎虎", 3),
    ("馬馬虎虎", 3),
    ("过得去", 3),
    ("過得去", 3),
    ("非常满意", 5),
    ("非常滿意", 5),
    ("很满意", 5),
    ("很滿意", 5),
    ("特别满意", 5),
    ("特別滿意", 5),
    ("十分满意", 5),
    ("十分滿意", 5),
    ("超级满意", 5),
    ("超級滿意", 5),
    ("非常好", 5),
    ("五星好评", 5),
    ("五星好評", 5),
    ("好评", 5),
    ("好評", 5),
    ("太好了", 5),
    ("满意", 4),
    ("滿意", 4),
    ("不错", 4),
    ("不錯", 4),
    ("挺好", 4),
    ("很好", 4),
];

/// Words that count only when they are the whole answer (inside a longer text they mean
/// something else: "你好", "差不多").
const WHOLE_ONLY: &[(&str, u8)] = &[("好", 4), ("差", 2), ("赞", 5), ("讚", 5), ("棒", 5)];

/// English phrases, matched on word boundaries, negations first.
const ENGLISH: &[(&str, u8)] = &[
    ("very dissatisfied", 1),
    ("very unsatisfied", 1),
    ("extremely dissatisfied", 1),
    ("not satisfied at all", 1),
    ("very bad", 1),
    ("very poor", 1),
    ("terrible", 1),
    ("awful", 1),
    ("horrible", 1),
    ("worst", 1),
    ("not very satisfied", 2),
    ("not satisfied", 2),
    ("not happy", 2),
    ("not good", 2),
    ("dissatisfied", 2),
    ("unsatisfied", 2),
    ("unhappy", 2),
    ("not bad", 3),
    ("bad", 2),
    ("poor", 2),
    ("so so", 3),
    ("so-so", 3),
    ("average", 3),
    ("neutral", 3),
    ("okay", 3),
    ("ok", 3),
    ("fine", 3),
    ("alright", 3),
    ("very satisfied", 5),
    ("extremely satisfied", 5),
    ("very happy", 5),
    ("very good", 5),
    ("excellent", 5),
    ("perfect", 5),
    ("great", 5),
    ("awesome", 5),
    ("satisfied", 4),
    ("happy", 4),
    ("good", 4),
];

const EMOJI: &[(&str, u8)] = &[
    ("👎", 1),
    ("😡", 1),
    ("😠", 1),
    ("🤬", 1),
    ("😤", 2),
    ("😞", 2),
    ("😕", 2),
    ("🙁", 2),
    ("☹", 2),
    ("😐", 3),
    ("😑", 3),
    ("🙂", 4),
    ("😊", 5),
    ("😀", 5),
    ("😃", 5),
    ("😄", 5),
    ("😁", 5),
    ("❤", 5),
    ("👍", 5),
];

/// Words around a digit that still leave it a rating: "打5分", "5星", "rate 4", "5/5".
const DIGIT_AFFIXES: &[&str] = &[
    "outof5", "/5", "颗星", "顆星", "stars", "star", "points", "point", "pts", "rating", "rate",
    "score", "给个", "給個", "打个", "打個", "我选", "我選", "给", "給", "打", "评", "評", "选",
    "選", "分", "星", "give", "i",
];

/// Particles and punctuation that do not change an answer: "还行吧", "满意!", "5。".
fn is_filler(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation() && c != '/' && c != '-'
        || "。,、!?;:~…“”‘’()【】《》·!?,.~了的啊吧呢哦呀啦嘛哈".contains(c)
}

fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '／' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// Reads a satisfaction rating out of a resident's answer, or `None` if the text is not
/// one (then the dialogue handles it as an ordinary message). Pure.
pub fn parse_rating(text: &str) -> Option<Rating> {
    let normal: String = text
        .chars()
        .map(fullwidth_to_ascii)
        .collect::<String>()
        .to_lowercase();
    let trimmed = normal.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 40 {
        return None;
    }
    let core: String = trimmed.chars().filter(|c| !is_filler(*c)).collect();

    if let Some(r) = stars(&core) {
        return Rating::new(r);
    }
    if let Some(r) = digit(&core) {
        return Rating::new(r);
    }
    if let Some(r) = chinese_numeral(&core) {
        return Rating::new(r);
    }
    if let Some(&(_, r)) = WHOLE_ONLY.iter().find(|(w, _)| core == *w) {
        return Rating::new(r);
    }
    if core.chars().count() <= 20 {
        if let Some(&(_, r)) = PHRASES.iter().find(|(p, _)| core.contains(p)) {
            return Rating::new(r);
        }
    }
    let words = format!(
        " {} ",
        trimmed
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                ' '
            })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    if words.split_whitespace().count() <= 8 {
        if let Some(&(_, r)) = ENGLISH
            .iter()
            .find(|(p, _)| words.contains(&format!(" {p} ")))
        {
            return Rating::new(r);
        }
    }
    emoji(&core)
}

/// "⭐⭐⭐⭐" or "★★★☆☆": the filled stars, when the answer is nothing but stars.
fn stars(core: &str) -> Option<u8> {
    let mut filled = 0u8;
    let mut any = false;
    for c in core.chars() {
        match c {
            '⭐' | '★' | '🌟' => {
                filled = filled.saturating_add(1);
                any = true;
            }
            '☆' | '\u{fe0f}' => any = true,
            _ => return None,
        }
    }
    (any && (1..=5).contains(&filled)).then_some(filled)
}

/// A single digit 1–5, alone or with rating words around it.
fn digit(core: &str) -> Option<u8> {
    let mut rest = core.to_owned();
    for affix in DIGIT_AFFIXES {
        rest = rest.replace(affix, "");
    }
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ '1'..='5'), None) => c.to_digit(10).map(|d| d as u8),
        _ => None,
    }
}

/// "五星", "三分", "两颗星".
fn chinese_numeral(core: &str) -> Option<u8> {
    let mut chars = core.chars();
    let n = match chars.next()? {
        '一' => 1,
        '二' | '两' | '兩' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        _ => return None,
    };
    matches!(chars.as_str(), "星" | "分" | "颗星" | "顆星").then_some(n)
}

/// The answer is only emoji: the first one we know decides.
fn emoji(core: &str) -> Option<Rating> {
    if core.is_empty() || core.chars().any(|c| c.is_alphanumeric()) {
        return None;
    }
    let mut best: Option<(usize, u8)> = None;
    for (e, r) in EMOJI {
        if let Some(at) = core.find(e) {
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, *r));
            }
        }
    }
    best.and_then(|(_, r)| Rating::new(r))
}

/// The active staff member to notify for a role, preferring one of `department` who looks
/// after `building`, then one of `department`, then anyone in the role. `None` when nobody
/// holds it (the alert is still recorded, addressed to no one in particular).
pub async fn find_staff(
    conn: &mut PgConnection,
    role: Role,
    department: Option<Department>,
    building: Option<&str>,
) -> sqlx::Result<Option<Uuid>> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM staff
         WHERE active AND role = $1
         ORDER BY ($3::text IS NOT NULL AND $3 = ANY (buildings)) DESC,
                  ($2::text IS NOT NULL AND department = $2) DESC,
                  created_at, id
         LIMIT 1",
    )
    .bind(role.as_str())
    .bind(department.map(Department::as_str))
    .bind(building)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

#[derive(sqlx::FromRow)]
struct PendingSurvey {
    id: Uuid,
    ticket_id: Uuid,
    round: i32,
    number: String,
    department: String,
    building: Option<String>,
}

/// If the resident has a survey waiting for an answer and `text` answers it, records the
/// answer (closing or reopening the ticket) and returns the reply. `None` lets the dialogue
/// handle the text as usual.
pub async fn intercept(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    resident_id: Uuid,
    text: &str,
    locale: Locale,
) -> anyhow::Result<Option<String>> {
    let Some(rating) = parse_rating(text) else {
        return Ok(None);
    };
    let pending: Option<PendingSurvey> = sqlx::query_as(
        "SELECT s.id, s.ticket_id, s.round, t.number, t.department, t.building
         FROM surveys s JOIN tickets t ON t.id = s.ticket_id
         WHERE t.resident_id = $1 AND t.status = $2
           AND s.asked_at IS NOT NULL AND s.answered_at IS NULL
         ORDER BY s.asked_at DESC
         LIMIT 1
         FOR UPDATE OF s",
    )
    .bind(resident_id)
    .bind(Status::Resolved)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(survey) = pending else {
        return Ok(None);
    };
    let answer = Answer {
        rating,
        text,
        by: "resident",
        actor: Actor::Resident(resident_id),
    };
    record_answer(conn, ctx, &survey, answer).await?;
    let rating_text = rating.value().to_string();
    let vars = [
        ("number", survey.number.as_str()),
        ("rating", rating_text.as_str()),
    ];
    let key = match rating.mood() {
        Mood::Satisfied => "survey.thanks_satisfied",
        Mood::Neutral => "survey.thanks_neutral",
        Mood::Dissatisfied => "survey.sorry_reopened",
    };
    Ok(Some(ctx.prompts.render(locale, key, &vars)))
}

/// Records the result of a manual revisit (a concierge called or visited the resident) on
/// the ticket's open survey, with the same consequences as a resident's answer. `false` when
/// the ticket has no survey waiting (not resolved, or already answered). For the staff API.
pub async fn record_by_staff(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    ticket_id: Uuid,
    staff_id: Uuid,
    rating: Rating,
    note: &str,
) -> anyhow::Result<bool> {
    let pending: Option<PendingSurvey> = sqlx::query_as(
        "SELECT s.id, s.ticket_id, s.round, t.number, t.department, t.building
         FROM surveys s JOIN tickets t ON t.id = s.ticket_id
         WHERE s.ticket_id = $1 AND t.status = $2 AND s.answered_at IS NULL
         ORDER BY s.round DESC
         LIMIT 1
         FOR UPDATE OF s",
    )
    .bind(ticket_id)
    .bind(Status::Resolved)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(survey) = pending else {
        return Ok(false);
    };
    let answer = Answer {
        rating,
        text: note,
        by: "staff",
        actor: Actor::Staff(staff_id),
    };
    record_answer(conn, ctx, &survey, answer).await?;
    Ok(true)
}

struct Answer<'a> {
    rating: Rating,
    text: &'a str,
    /// `surveys.answered_by`: resident | staff.
    by: &'a str,
    actor: Actor,
}

/// Stores the rating on the survey and the ticket, then closes the ticket (satisfied or
/// neutral) or reopens it and alerts the supervisor (dissatisfied).
async fn record_answer(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    survey: &PendingSurvey,
    answer: Answer<'_>,
) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let rating = answer.rating;
    let value = i16::from(rating.value());
    sqlx::query(
        "UPDATE surveys SET answered_at = $2, rating = $3, answer_text = $4, answered_by = $5
         WHERE id = $1",
    )
    .bind(survey.id)
    .bind(now)
    .bind(value)
    .bind(answer.text)
    .bind(answer.by)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE tickets SET satisfaction = $2 WHERE id = $1")
        .bind(survey.ticket_id)
        .bind(value)
        .execute(&mut *conn)
        .await?;

    let rating_text = rating.value().to_string();
    let note = format!("revisit round {}: rating {}", survey.round, rating.value());
    match rating.mood() {
        Mood::Satisfied | Mood::Neutral => {
            let moved = transition(
                conn,
                ctx,
                survey.ticket_id,
                answer.actor,
                Status::Closed,
                Some(&note),
            )
            .await;
            settle(moved)?;
        }
        Mood::Dissatisfied => {
            let moved =
                super::lifecycle::reopen(conn, ctx, survey.ticket_id, answer.actor, &note).await;
            settle(moved)?;
            let staff_locale = ctx.settings.locale.default;
            let vars = [
                ("number", survey.number.as_str()),
                ("rating", rating_text.as_str()),
            ];
            let alert = ctx
                .prompts
                .render(staff_locale, "survey.dissatisfied_alert", &vars);
            let department = Department::parse(&survey.department);
            let supervisor = find_staff(
                conn,
                Role::Supervisor,
                department,
                survey.building.as_deref(),
            )
            .await?;
            notify::to_staff(
                conn,
                supervisor,
                Notice {
                    kind: NoticeKind::Alert,
                    ticket_id: Some(survey.ticket_id),
                    text: &alert,
                    dedup_key: Some(format!(
                        "survey-unhappy:{}:{}",
                        survey.ticket_id, survey.round
                    )),
                },
                now,
            )
            .await?;
        }
    }
    metrics::counter!("guanjia_survey_answers_total", "rating" => rating_text, "by" => answer.by.to_owned())
        .increment(1);
    Ok(())
}

/// A ticket someone else already moved on (staff closed it meanwhile) keeps the recorded
/// answer; anything else is an error that rolls the answer back.
fn settle(result: Result<super::model::Ticket, TransitionError>) -> anyhow::Result<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(e @ (TransitionError::Illegal { .. } | TransitionError::HeldByOther)) => {
            tracing::warn!(error = %e, "survey answer recorded, ticket not moved");
            Ok(false)
        }
        Err(e) => Err(anyhow::anyhow!(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Option<u8> {
        parse_rating(text).map(Rating::value)
    }

    #[test]
    fn digits_one_to_five() {
        for (t, v) in [("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5)] {
            assert_eq!(r(t), Some(v), "{t}");
        }
        assert_eq!(r(" 5 "), Some(5));
        assert_eq!(r("5。"), Some(5));
        assert_eq!(r("４"), Some(4), "full-width digit");
        assert_eq!(r("5分"), Some(5));
        assert_eq!(r("打4分"), Some(4));
        assert_eq!(r("给5星"), Some(5));
        assert_eq!(r("3颗星"), Some(3));
        assert_eq!(r("5/5"), Some(5));
        assert_eq!(r("4 stars"), Some(4));
        assert_eq!(r("rating: 2"), Some(2));
        assert_eq!(r("I give 5"), Some(5));
    }

    #[test]
    fn digits_that_are_not_ratings() {
        for t in [
            "0",
            "6",
            "10",
            "55",
            "12345",
            "3栋1102漏水",
            "1102",
            "13812345678",
            "5-1-702",
        ] {
            assert_eq!(r(t), None, "{t}");
        }
    }

    #[test]
    fn simplified_chinese_words() {
        assert_eq!(r("非常满意"), Some(5));
        assert_eq!(r("很满意"), Some(5));
        assert_eq!(r("满意"), Some(4));
        assert_eq!(r("满意!"), Some(4));
        assert_eq!(r("一般"), Some(3));
        assert_eq!(r("不满意"), Some(2));
        assert_eq!(r("非常不满意"), Some(1));
        assert_eq!(r("很差"), Some(1));
        assert_eq!(r("好"), Some(4));
        assert_eq!(r("差"), Some(2));
    }

    #[test]
    fn traditional_chinese_words() {
        assert_eq!(r("非常滿意"), Some(5));
        assert_eq!(r("滿意"), Some(4));
        assert_eq!(r("不滿意"), Some(2));
        assert_eq!(r("非常不滿意"), Some(1));
        assert_eq!(r("還行"), Some(3));
        assert_eq!(r("不錯"), Some(4));
    }

    #[test]
    fn english_words() {
        assert_eq!(r("Very satisfied"), Some(5));
        assert_eq!(r("satisfied"), Some(4));
        assert_eq!(r("not satisfied"), Some(2));
        assert_eq!(r("very dissatisfied"), Some(1));
        assert_eq!(r("bad"), Some(2));
        assert_eq!(r("very bad"), Some(1));
        assert_eq!(r("not bad"), Some(3));
        assert_eq!(r("OK"), Some(3));
        assert_eq!(r("excellent!"), Some(5));
        assert_eq!(r("Good job"), Some(4));
    }

    #[test]
    fn emoji_and_stars() {
        assert_eq!(r("👍"), Some(5));
        assert_eq!(r("👍👍"), Some(5));
        assert_eq!(r("😊"), Some(5));
        assert_eq!(r("😡"), Some(1));
        assert_eq!(r("👎"), Some(1));
        assert_eq!(r("😐"), Some(3));
        assert_eq!(r("⭐⭐⭐⭐"), Some(4));
        assert_eq!(r("⭐"), Some(1));
        assert_eq!(r("★★★☆☆"), Some(3));
        assert_eq!(r("⭐⭐⭐⭐⭐⭐"), None, "six stars is not a rating");
    }

    #[test]
    fn free_text() {
        assert_eq!(r("还行吧"), Some(3));
        assert_eq!(r("太差了"), Some(1));
        assert_eq!(r("师傅很专业,非常满意"), Some(5));
        assert_eq!(r("不是很满意"), Some(2));
        assert_eq!(r("不太满意,水还是有点漏"), Some(2));
        assert_eq!(r("挺好的"), Some(4));
        assert_eq!(r("五星"), Some(5));
        assert_eq!(r("两颗星"), Some(2));
        assert_eq!(r("一般般吧"), Some(3));
    }

    #[test]
    fn ordinary_messages_are_not_ratings() {
        for t in [
            "",
            "   ",
            "你好",
            "你好,我家水管又漏了",
            "电梯坏了",
            "3栋2单元1101 厨房水管漏水",
            "进度",
            "人工",
            "hello",
            "my sink is leaking again",
            "差不多几点能来?",
            "这个问题一直没有人来处理,楼道里的灯坏了两个星期了,物业到底管不管,我已经打了好几次电话都没有人接",
        ] {
            assert_eq!(r(t), None, "{t}");
        }
    }

    #[test]
    fn moods_split_the_scale() {
        assert_eq!(Rating::new(5).unwrap().mood(), Mood::Satisfied);
        assert_eq!(Rating::new(4).unwrap().mood(), Mood::Satisfied);
        assert_eq!(Rating::new(3).unwrap().mood(), Mood::Neutral);
        assert_eq!(Rating::new(2).unwrap().mood(), Mood::Dissatisfied);
        assert_eq!(Rating::new(1).unwrap().mood(), Mood::Dissatisfied);
        assert!(Rating::new(0).is_none());
        assert!(Rating::new(6).is_none());
    }
}
