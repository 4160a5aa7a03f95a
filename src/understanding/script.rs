//! Scripts: which one a resident writes in (replies go back in it) and the conversion of
//! traditional characters to simplified ones, so that one lexicon serves both.

use zhconv::{zhconv, Variant};

use crate::domain::Locale;

/// Characters that only Cantonese writing uses; a message with any of them is read as
/// Hong Kong wording even when every other character is shared by both scripts.
const CANTONESE_CHARS: &[char] = &[
    '冇', '咗', '唔', '嚟', '啲', '嘅', '喺', '睇', '瞓', '嘈', '佢', '咩', '乜', '嘢', '噉', '冚',
    '搵', '攰', '嗰', '咁', '啱', '揾', '俾', '嘥', '屌', '撚', '餸', '晏',
];

/// Words only Cantonese uses whose characters both scripts share: "早晨" is a Hong Kong
/// "good morning" (Mandarin says 早上好).
const CANTONESE_WORDS: &[&str] = &["早晨", "早唞", "早抖"];

/// Converts traditional characters to simplified ones; everything else is left as it is.
pub fn to_simplified(text: &str) -> String {
    if text.chars().all(|c| !is_cjk(c)) {
        return text.to_owned();
    }
    zhconv(text, Variant::ZhHans)
}

/// The script of a message: traditional when it has traditional-only characters or
/// Cantonese wording, English when it has Latin letters and no Chinese at all, simplified
/// otherwise (mixed Chinese and English, emoji, punctuation).
pub fn detect_locale(text: &str) -> Locale {
    let has_cjk = text.chars().any(is_cjk);
    if !has_cjk {
        return if text.chars().any(|c| c.is_ascii_alphabetic()) {
            Locale::En
        } else {
            Locale::ZhHans
        };
    }
    // Characters only one script has, counted one by one: Cantonese written in simplified
    // characters ("唔该帮我搵人嚟整个厕所") is answered in simplified even when a character
    // or two of it (搵) is traditional.
    let (mut traditional, mut simplified) = (0, 0);
    let mut buf = [0u8; 4];
    // Cantonese "晒" ("all") is written so in Hong Kong too.
    for c in text.chars().filter(|c| is_cjk(*c) && *c != '晒') {
        let one: &str = c.encode_utf8(&mut buf);
        if zhconv(one, Variant::ZhHans) != one {
            traditional += 1;
        } else if zhconv(one, Variant::ZhHant) != one {
            simplified += 1;
        }
    }
    let cantonese = text.chars().any(|c| CANTONESE_CHARS.contains(&c))
        || CANTONESE_WORDS.iter().any(|w| text.contains(w));
    match traditional.cmp(&simplified) {
        std::cmp::Ordering::Greater => Locale::ZhHant,
        std::cmp::Ordering::Less => Locale::ZhHans,
        std::cmp::Ordering::Equal if cantonese => Locale::ZhHant,
        std::cmp::Ordering::Equal => Locale::ZhHans,
    }
}

/// Han ideographs, including the extension blocks residents' phones can produce.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Full-width ASCII (Ｂ座１２楼, ＃) typed by Chinese input methods, folded to half-width.
/// Keeps one char per char so positions stay comparable with the original text.
pub fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplified_chinese_is_zh_hans() {
        assert_eq!(detect_locale("电梯坏了"), Locale::ZhHans);
        assert_eq!(detect_locale("你好"), Locale::ZhHans);
    }

    #[test]
    fn traditional_characters_are_zh_hant() {
        assert_eq!(detect_locale("大堂有煤氣味,好濃"), Locale::ZhHant);
        assert_eq!(detect_locale("請問管理費點樣交"), Locale::ZhHant);
    }

    #[test]
    fn a_hong_kong_good_morning_is_zh_hant() {
        assert_eq!(detect_locale("早晨"), Locale::ZhHant);
        assert_eq!(detect_locale("早晨😀"), Locale::ZhHant);
        assert_eq!(detect_locale("早上好"), Locale::ZhHans);
    }

    #[test]
    fn cantonese_wording_with_shared_characters_is_zh_hant() {
        assert_eq!(detect_locale("冇水"), Locale::ZhHant);
        assert_eq!(detect_locale("快啲嚟"), Locale::ZhHant);
    }

    #[test]
    fn cantonese_in_simplified_characters_is_zh_hans() {
        assert_eq!(
            detect_locale("我屋企厕所个水箱一直漏水啊，唔该帮我搵人嚟整"),
            Locale::ZhHans
        );
        assert_eq!(detect_locale("系呀，仲好大阵味"), Locale::ZhHans);
    }

    #[test]
    fn latin_only_is_english() {
        assert_eq!(detect_locale("hello"), Locale::En);
        assert_eq!(detect_locale("No water in 15-3!"), Locale::En);
    }

    #[test]
    fn mixed_and_symbols_fall_back_to_simplified() {
        assert_eq!(detect_locale("lift困人了"), Locale::ZhHans);
        assert_eq!(detect_locale("👍"), Locale::ZhHans);
        assert_eq!(detect_locale("?"), Locale::ZhHans);
        assert_eq!(detect_locale(""), Locale::ZhHans);
    }

    #[test]
    fn to_simplified_converts_only_the_script() {
        assert_eq!(to_simplified("確認"), "确认");
        assert_eq!(to_simplified("升降機壞咗"), "升降机坏咗");
        assert_eq!(to_simplified("ok 1101"), "ok 1101");
    }

    #[test]
    fn full_width_folds_to_ascii() {
        let folded: String = "Ｂ座１２楼＃".chars().map(fold_width).collect();
        assert_eq!(folded, "B座12楼#");
    }
}
