//! The few words that steer a conversation whatever the classifier thinks: confirm, correct,
//! cancel, menu digits, "status", "human", and the kind of an emergency. Pure functions over
//! the simplified text, so traditional 確認/對 match as 确认/对.

use crate::domain::Locale;
use crate::understanding::is_cjk;

/// A steering word, recognised only when it is (nearly) the whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    Digit(u8),
    Yes,
    No,
    Cancel,
    Status,
    Human,
    End,
    Greeting,
    Thanks,
    Continue,
    Problem,
    Place,
}

const YES: &[&str] = &[
    "是", "对", "确认", "好", "好的", "是的", "对的", "确定", "没错", "可以", "嗯", "嗯嗯", "行",
    "yes", "y", "ok", "okay", "confirm", "sure", "yep", "correct", "right",
];
const NO: &[&str] = &[
    "修改", "改", "不对", "不是", "错了", "no", "n", "change", "edit", "wrong", "modify",
];
const CANCEL: &[&str] = &[
    "取消",
    "算了",
    "不用了",
    "不用",
    "放弃",
    "cancel",
    "never mind",
    "nevermind",
    "forget it",
    "abort",
];
const STATUS: &[&str] = &[
    "进度",
    "我的工单",
    "工单",
    "查进度",
    "查询进度",
    "工单进度",
    "报修进度",
    "status",
    "my tickets",
    "my requests",
    "progress",
];
const HUMAN: &[&str] = &[
    "人工",
    "转人工",
    "人工客服",
    "找管家",
    "管家",
    "客服",
    "human",
    "agent",
    "concierge",
    "talk to a person",
    "real person",
];
const END: &[&str] = &["结束", "结束对话", "end", "bye", "再见"];
const GREETING: &[&str] = &[
    "你好",
    "您好",
    "在吗",
    "在不在",
    "哈喽",
    "嗨",
    "hi",
    "hello",
    "hey",
    "菜单",
    "帮助",
    "help",
    "menu",
    "?",
    "？",
    "有人吗",
    "早上好",
    "下午好",
    "晚上好",
    "good morning",
    "good afternoon",
    "good evening",
];
const THANKS: &[&str] = &[
    "谢谢",
    "谢谢你",
    "谢谢您",
    "多谢",
    "感谢",
    "thanks",
    "thank you",
    "thx",
    "ty",
];
const CONTINUE: &[&str] = &["继续", "continue", "resume", "go on"];
const PROBLEM: &[&str] = &[
    "问题",
    "描述",
    "问题描述",
    "内容",
    "problem",
    "description",
    "issue",
];
const PLACE: &[&str] = &[
    "地点", "地址", "位置", "房号", "place", "address", "location", "room",
];

/// The steering word `simplified` consists of, if any.
pub fn word(simplified: &str) -> Option<Word> {
    let w = normalise(simplified);
    if w.is_empty() {
        return None;
    }
    if w.chars().count() == 1 {
        if let Some(d) = w.chars().next().and_then(|c| c.to_digit(10)) {
            return Some(Word::Digit(d as u8));
        }
    }
    let lists: [(&[&str], Word); 11] = [
        (YES, Word::Yes),
        (NO, Word::No),
        (CANCEL, Word::Cancel),
        (STATUS, Word::Status),
        (HUMAN, Word::Human),
        (END, Word::End),
        (GREETING, Word::Greeting),
        (THANKS, Word::Thanks),
        (CONTINUE, Word::Continue),
        (PROBLEM, Word::Problem),
        (PLACE, Word::Place),
    ];
    lists
        .iter()
        .find(|(list, _)| list.contains(&w.as_str()))
        .map(|(_, word)| *word)
        .or_else(|| is_bare_thanks(&w).then_some(Word::Thanks))
}

/// Courtesies that make up a whole message such as "好的，辛苦了" or "收到谢谢": thanks that
/// close a conversation. They are answered, not recorded as praise: praise worth passing on
/// names someone or something ("谢谢保安小李帮我搬东西").
const COURTESIES: &[&str] = &[
    "好的",
    "好",
    "嗯",
    "嗯嗯",
    "收到",
    "ok",
    "okay",
    "了解",
    "明白",
    "知道了",
    "行",
    "辛苦了",
    "辛苦啦",
    "辛苦晒",
    "辛苦",
    "麻烦了",
    "麻烦你了",
    "麻烦你们了",
    "师傅",
    "谢谢",
    "谢谢你",
    "谢谢您",
    "谢谢你们",
    "谢啦",
    "多谢",
    "多谢晒",
    "唔该晒",
    "唔该",
    "感谢",
    "thanks",
    "thank you",
    "thx",
];
const GRATEFUL: &[&str] = &["辛苦", "麻烦", "谢", "唔该", "感谢", "thank", "thx"];

fn is_bare_thanks(w: &str) -> bool {
    let mut rest = w;
    let mut grateful = false;
    while !rest.is_empty() {
        rest = rest.trim_start_matches(|c: char| {
            c.is_whitespace()
                || matches!(c, ',' | '，' | '、' | '!' | '！' | '~' | '～' | '.' | '。')
        });
        if rest.is_empty() {
            break;
        }
        // Longest courtesy first, so "谢谢你们" is not read as "谢谢" + "你们".
        let Some(c) = COURTESIES
            .iter()
            .filter(|c| rest.starts_with(**c))
            .max_by_key(|c| c.len())
        else {
            return false;
        };
        grateful |= GRATEFUL.iter().any(|g| c.contains(g));
        rest = &rest[c.len()..];
    }
    grateful
}

/// Lower case, without surrounding spaces and punctuation, so `好的!` and `OK.` match.
fn normalise(text: &str) -> String {
    let trimmed = text.trim().to_lowercase();
    let stripped = trimmed.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '。' | '！' | '!' | '.' | ',' | '，' | '~' | '～' | '…' | '、' | ';' | '；'
            )
    });
    // A lone question mark is a cry for help, not punctuation to strip.
    if stripped.is_empty() && (trimmed.contains('?') || trimmed.contains('？')) {
        return "?".into();
    }
    stripped.to_owned()
}

/// Which emergency a message describes, for the matching safety guidance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emergency {
    Fire,
    Gas,
    Lift,
    Injury,
    Flood,
    Power,
    General,
}

impl Emergency {
    pub fn as_str(self) -> &'static str {
        match self {
            Emergency::Fire => "fire",
            Emergency::Gas => "gas",
            Emergency::Lift => "lift",
            Emergency::Injury => "injury",
            Emergency::Flood => "flood",
            Emergency::Power => "power",
            Emergency::General => "general",
        }
    }
}

/// Most life-threatening first: a fire with a burst pipe is guided as a fire.
const EMERGENCY_WORDS: &[(Emergency, &[&str])] = &[
    (
        Emergency::Fire,
        &[
            "着火",
            "起火",
            "失火",
            "火灾",
            "冒烟",
            "浓烟",
            "烧起来",
            "fire",
            "smoke",
            "burning",
        ],
    ),
    (
        Emergency::Gas,
        &["煤气", "燃气", "天然气", "漏气", "气味", "gas"],
    ),
    (
        Emergency::Lift,
        &[
            "电梯", "困在", "被困", "关在", "lift", "elevator", "trapped", "stuck",
        ],
    ),
    (
        Emergency::Injury,
        &[
            "受伤",
            "摔倒",
            "摔伤",
            "流血",
            "晕倒",
            "昏迷",
            "骨折",
            "injur",
            "hurt",
            "bleed",
            "fainted",
            "unconscious",
        ],
    ),
    (
        Emergency::Flood,
        &[
            "爆管",
            "水管爆",
            "爆了",
            "淹",
            "水漫",
            "漫水",
            "漏水",
            "跑水",
            "积水",
            "flood",
            "burst",
            "leak",
            "pipe",
        ],
    ),
    (
        Emergency::Power,
        &[
            "停电",
            "断电",
            "没电",
            "跳闸",
            "power",
            "outage",
            "blackout",
            "electricity",
        ],
    ),
];

pub fn emergency_of(simplified: &str) -> Emergency {
    let lower = simplified.to_lowercase();
    EMERGENCY_WORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(e, _)| *e)
        .unwrap_or(Emergency::General)
}

/// The script to answer in. Text without any Chinese character and with letters is English;
/// digits, punctuation, the bare `ok`/`y` a Chinese writer also types, and Chinese written
/// the same in both scripts keep the conversation's script.
pub fn reply_locale(text: &str, detected: Locale, current: Locale) -> Locale {
    if mostly_english(text) {
        return Locale::En;
    }
    if text.chars().any(is_cjk) {
        // The characters decide, not the dialect: Cantonese written in simplified (唔该,
        // 冇热水) is answered in simplified. Words written the same in both scripts (修改,
        // 好, 人工) say nothing about which one the resident uses.
        // Cantonese "晒" ("all": "浸晒", "冇晒電") is written so in Hong Kong too: it says
        // nothing about the script.
        let text = &text.replace('晒', "");
        let traditional = zhconv::zhconv(text, zhconv::Variant::ZhHans) != *text;
        let simplified = zhconv::zhconv(text, zhconv::Variant::ZhHant) != *text;
        return match (traditional, simplified, current) {
            (true, false, _) => Locale::ZhHant,
            (false, true, _) => Locale::ZhHans,
            // "早晨": Cantonese wording in characters both scripts share.
            (false, false, _) if detected == Locale::ZhHant => Locale::ZhHant,
            (false, false, Locale::ZhHans | Locale::ZhHant) => current,
            _ => detected,
        };
    }
    let w = normalise(text);
    if matches!(w.as_str(), "ok" | "okay" | "y" | "n") {
        return current;
    }
    if text.chars().any(|c| c.is_ascii_alphabetic()) {
        return Locale::En;
    }
    current
}

/// English that quotes a Chinese address ("Building 3, 3栋1101, the kitchen pipe leaks"):
/// the English words far outweigh the Chinese ones once the address marks are left out.
/// Counted in words against characters, since a Chinese character carries about what an
/// English word does: "好的谢谢 appreciate it" is Chinese with an English afterthought.
fn mostly_english(text: &str) -> bool {
    const ADDRESS: &str = "栋棟幢座号號楼樓单單元室层層区區期苑园園村阁閣厦廈";
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2)
        .collect();
    let letters: usize = words.iter().map(|w| w.len()).sum();
    let chinese = text
        .chars()
        .filter(|c| is_cjk(*c) && !ADDRESS.contains(*c))
        .count();
    letters >= 6 && words.len() >= 2 * chinese.max(1)
}

/// Simplified form of `text` for matching.
// NOTE: replace with `crate::understanding::to_simplified` once the classifier work lands;
// it does the same with the same crate.
pub fn to_simplified(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steering_words_in_every_script() {
        let cases: &[(&str, Option<Word>)] = &[
            ("1", Some(Word::Digit(1))),
            (" 2 ", Some(Word::Digit(2))),
            ("是", Some(Word::Yes)),
            ("对", Some(Word::Yes)),
            ("确认", Some(Word::Yes)),
            ("好", Some(Word::Yes)),
            ("好的!", Some(Word::Yes)),
            ("yes", Some(Word::Yes)),
            ("Y", Some(Word::Yes)),
            ("OK.", Some(Word::Yes)),
            ("修改", Some(Word::No)),
            ("no", Some(Word::No)),
            ("取消", Some(Word::Cancel)),
            ("Cancel", Some(Word::Cancel)),
            ("进度", Some(Word::Status)),
            ("我的工单", Some(Word::Status)),
            ("status", Some(Word::Status)),
            ("人工", Some(Word::Human)),
            ("转人工", Some(Word::Human)),
            ("human", Some(Word::Human)),
            ("结束", Some(Word::End)),
            ("end", Some(Word::End)),
            ("你好", Some(Word::Greeting)),
            ("？", Some(Word::Greeting)),
            ("谢谢", Some(Word::Thanks)),
            ("好的,辛苦了", Some(Word::Thanks)),
            ("收到谢谢！", Some(Word::Thanks)),
            ("好的 谢谢 辛苦了", Some(Word::Thanks)),
            ("ok thanks", Some(Word::Thanks)),
            ("唔该晒", Some(Word::Thanks)),
            ("好的", Some(Word::Yes)),
            ("好的好的", None),
            ("谢谢保安小李帮我搬东西", None),
            ("辛苦师傅把电梯修好了", None),
            ("厨房漏水", None),
            ("", None),
            ("12", None),
        ];
        for (text, want) in cases {
            assert_eq!(word(&to_simplified(text)), *want, "{text}");
        }
    }

    #[test]
    fn traditional_words_match_after_simplifying() {
        assert_eq!(word(&to_simplified("確認")), Some(Word::Yes));
        assert_eq!(word(&to_simplified("對")), Some(Word::Yes));
        assert_eq!(word(&to_simplified("我的工單")), Some(Word::Status));
        assert_eq!(word(&to_simplified("轉人工")), Some(Word::Human));
        assert_eq!(word(&to_simplified("結束")), Some(Word::End));
    }

    #[test]
    fn emergencies_are_told_apart() {
        let cases = [
            ("电梯停了我被困在里面", Emergency::Lift),
            ("厨房有煤气味", Emergency::Gas),
            ("楼道着火了好多烟", Emergency::Fire),
            ("水管爆了水漫出来了", Emergency::Flood),
            ("整栋楼停电了", Emergency::Power),
            ("有老人摔倒受伤了", Emergency::Injury),
            ("I'm trapped in the lift", Emergency::Lift),
            ("gas smell in the kitchen", Emergency::Gas),
            ("救命", Emergency::General),
        ];
        for (text, want) in cases {
            assert_eq!(emergency_of(text), want, "{text}");
        }
    }

    #[test]
    fn reply_script_follows_the_resident() {
        use Locale::*;
        assert_eq!(reply_locale("厨房漏水", ZhHans, En), ZhHans);
        assert_eq!(reply_locale("廚房漏水", ZhHant, ZhHans), ZhHant);
        assert_eq!(reply_locale("kitchen pipe leaking", ZhHans, ZhHans), En);
        assert_eq!(reply_locale("1", ZhHans, ZhHant), ZhHant);
        assert_eq!(reply_locale("ok", ZhHans, ZhHant), ZhHant);
        assert_eq!(reply_locale("yes", ZhHans, ZhHans), En);
        assert_eq!(reply_locale("修改", ZhHans, ZhHant), ZhHant);
        assert_eq!(reply_locale("修改", ZhHans, En), ZhHans);
        assert_eq!(reply_locale("确认", ZhHans, ZhHant), ZhHans);
        // Cantonese wording in characters both scripts share.
        assert_eq!(reply_locale("早晨", ZhHant, ZhHans), ZhHant);
        assert_eq!(reply_locale("修改", ZhHans, ZhHant), ZhHant);
        // Cantonese in simplified characters is answered in simplified.
        assert_eq!(reply_locale("厨房冇热水啊，唔该", ZhHant, ZhHans), ZhHans);
        assert_eq!(reply_locale("廚房冇熱水，唔該", ZhHant, ZhHans), ZhHant);
        // English quoting a Chinese address is answered in English.
        assert_eq!(
            reply_locale("3栋2单元1101 the kitchen pipe is leaking", ZhHans, ZhHans),
            En
        );
        assert_eq!(reply_locale("3栋1102 sink漏水", ZhHans, En), ZhHans);
        // Chinese with an English afterthought stays Chinese.
        assert_eq!(reply_locale("好的谢谢 appreciate it", ZhHans, En), ZhHans);
        assert_eq!(
            reply_locale(
                "4座有水喉爆咗呀!! 啲水射晒出嚟 成條走廊浸晒水",
                ZhHans,
                ZhHans
            ),
            ZhHant
        );
        assert_eq!(
            reply_locale("好的謝謝 thank you so much", ZhHant, En),
            ZhHant
        );
        assert_eq!(
            reply_locale(
                "My address is 幸福花园 3栋, the lift is broken",
                ZhHans,
                ZhHans
            ),
            En
        );
    }
}
