//! The short knowledge base (`config/faq.toml`) that answers common questions at once:
//! each entry has keywords (simplified Chinese and English) and an answer per locale.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::domain::Locale;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Faq {
    #[serde(default, rename = "entry")]
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    id: String,
    keywords: Vec<String>,
    /// Topics this answer does not cover though its keywords are said ("车位" in "车位上装
    /// 充电桩"): a question naming one is not answered with it.
    #[serde(default)]
    unless: Vec<String>,
    answer: BTreeMap<String, String>,
    /// How the Chinese keywords sound (`sound`), filled at load: a voice-input typo
    /// ("装休" for 装修, "门今卡" for 门禁卡) sounds like the keyword it misspells.
    #[serde(skip)]
    sounds: Vec<String>,
}

impl Faq {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading FAQ {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut faq: Faq = toml::from_str(text)?;
        for entry in &mut faq.entries {
            entry.sounds = entry
                .keywords
                .iter()
                .filter(|k| !k.contains('…') && k.chars().filter(|c| is_han(*c)).count() >= 2)
                .map(|k| sound(k))
                .collect();
        }
        for entry in &faq.entries {
            for locale in Locale::ALL {
                if !entry.answer.contains_key(locale.as_str()) {
                    anyhow::bail!("FAQ entry `{}` has no answer in {locale}", entry.id);
                }
            }
        }
        Ok(faq)
    }

    /// The entry whose keywords best match the simplified text: most keywords found, then
    /// the longest matched keyword (the more specific one).
    /// When no keyword is written, one that sounds the same is taken.
    pub fn find(&self, simplified: &str) -> Option<&str> {
        let lower = simplified.to_lowercase();
        let best = |hits: &dyn Fn(&Entry) -> Vec<usize>| {
            self.entries
                .iter()
                .filter(|e| {
                    !e.unless
                        .iter()
                        .any(|k| contains_keyword(&lower, &k.to_lowercase()))
                })
                .filter_map(|e| {
                    let hits = hits(e);
                    let longest = hits.iter().copied().max()?;
                    Some(((hits.len(), longest), e.id.as_str()))
                })
                .max_by_key(|(score, _)| *score)
                .map(|(_, id)| id)
        };
        best(&|e: &Entry| {
            e.keywords
                .iter()
                .filter(|k| contains_keyword(&lower, &k.to_lowercase()))
                .map(|k| k.chars().count())
                .collect()
        })
        .or_else(|| {
            let heard = sound(&lower);
            best(&|e: &Entry| {
                e.sounds
                    .iter()
                    .filter(|k| heard.contains(k.as_str()))
                    .map(String::len)
                    .collect()
            })
        })
    }

    pub fn answer(&self, id: &str, locale: Locale) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.answer.get(locale.as_str()))
            .map(String::as_str)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.id.as_str())
    }
}

/// English keywords match whole words (`fee` is not in `coffee`); Chinese ones anywhere.
/// How many characters may stand between the two parts of an `A…B` keyword.
const GAP: usize = 10;

fn is_han(c: char) -> bool {
    use pinyin::ToPinyin;
    c.to_pinyin().is_some()
}

/// The text as it sounds: each Chinese character as its toneless syllable between bars
/// ("装修" → "|zhuang|xiu|"), anything else dropped, so that a sound matches only whole
/// syllables.
fn sound(text: &str) -> String {
    use pinyin::ToPinyin;
    let mut out = String::from("|");
    for c in text.chars() {
        if let Some(p) = c.to_pinyin() {
            out.push_str(p.plain());
            out.push('|');
        }
    }
    out
}

fn contains_keyword(text: &str, keyword: &str) -> bool {
    if keyword.is_empty() {
        return false;
    }
    // "报修…怎么": the first part, then the second within a few characters, so a keyword
    // covers "报修要怎么弄" and "报修应该怎么办" alike.
    if let Some((a, b)) = keyword.split_once('…') {
        return text.match_indices(a).any(|(i, _)| {
            let after = &text[i + a.len()..];
            let window: String = after.chars().take(GAP + b.chars().count()).collect();
            window.contains(b)
        });
    }
    if !keyword.is_ascii() {
        return text.contains(keyword);
    }
    text.match_indices(keyword).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + keyword.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Faq {
        Faq::load(Path::new("config/faq.toml")).unwrap()
    }

    #[test]
    fn shipped_faq_answers_the_usual_questions() {
        let faq = shipped();
        let cases = [
            ("物业费怎么交", "property_fee"),
            ("how do I pay the management fee", "property_fee"),
            ("装修要办什么手续", "renovation"),
            ("装修许可证能延期吗", "renovation"),
            ("搬家具出去要放行条吗", "release_pass"),
            ("装修工人出入证怎么办", "worker_pass"),
            ("门禁卡丢了怎么补办", "access_card"),
            ("明天停水吗", "outage"),
            ("快递放哪里了", "parcel"),
            ("客服中心几点上班", "desk_hours"),
            ("怎么报修", "how_to_report"),
            ("电费在哪里交", "utilities"),
            ("月租车位多少钱", "parking"),
            ("where can I park my car", "parking"),
        ];
        for (text, want) in cases {
            assert_eq!(faq.find(text), Some(want), "{text}");
        }
        assert_eq!(faq.find("今天天气不错"), None);
        assert_eq!(faq.find("I like coffee"), None);
    }

    #[test]
    fn a_topic_an_answer_does_not_cover_is_not_answered_with_it() {
        let faq = shipped();
        assert_eq!(
            faq.find("想问下我在自己车位上装个充电桩，要办什么手续？"),
            None
        );
        assert_eq!(
            faq.find("is it ok to install a wall-mounted EV charger at my parking spot in B2?"),
            None
        );
        assert_eq!(faq.find("月租车位多少钱"), Some("parking"));
    }

    #[test]
    fn a_voice_typo_is_heard_as_the_keyword_it_sounds_like() {
        let faq = shipped();
        assert_eq!(
            faq.find("我家准备装休，要先办什么手续吗"),
            Some("renovation")
        );
        assert_eq!(faq.find("门今卡丢了"), Some("access_card"));
        // Whole syllables only: "装" alone is no renovation.
        assert_eq!(faq.find("装箱"), None);
    }

    #[test]
    fn every_answer_exists_in_every_locale() {
        let faq = shipped();
        assert!(faq.ids().count() >= 11);
        for id in faq.ids() {
            for locale in Locale::ALL {
                assert!(
                    faq.answer(id, locale).is_some_and(|a| !a.is_empty()),
                    "{id} {locale}"
                );
            }
        }
    }

    #[test]
    fn an_entry_without_a_locale_is_refused() {
        let err = Faq::parse(
            "[[entry]]\nid = \"x\"\nkeywords = [\"a\"]\n[entry.answer]\nzh-Hans = \"甲\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("zh-Hant"));
    }
}
