//! What the semantic tier reads: the message without its address and long numbers.
//!
//! Where a thing is says nothing about what it is, but the labelled lines that carry an
//! address are more often emergencies (people in a hurry give the flat first), so a model
//! that reads the address learns "an address means an emergency". The place goes to the
//! slots; the heads read the rest. Short numbers stay: 119 and "20分钟" carry meaning.

use std::sync::LazyLock;

use regex::Regex;

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // 3栋2单元1101, 5号楼602室, 七栋三单元五零二, B座12楼, 3棟1102室, 12F
        r"(?:[0-9０-９A-Za-zＡ-Ｚ零〇一二三四五六七八九十百两兩]+\s*(?:号楼|號樓|栋|棟|幢|座|号|號|楼|樓|单元|單元|室|层|層|户|戶|区|區|期|[Ff](?-u:\b))\s*)+[0-9０-９零〇一二三四五六七八九]*",
        // 12-2-1801, B2-136, #11-02
        r"#?(?-u:\b)[A-Za-z]?\d{1,3}\s*[-－—]\s*\d{1,4}(?:\s*[-－—]\s*\d{1,5})?(?-u:\b)",
        // Building 8, Unit 1, Room 2003; Blk 3; Tower 5 Flat 12C; #11-02
        r"(?i)(?-u:\b)(?:building|bldg|block|blk|tower|twr|unit|room|rm|flat|apt|apartment|floor|level|lot|space)\s*(?:no\.?\s*)?#?\s*[A-Za-z]?\d+[A-Za-z]?(?-u:\b)",
        // Rooms, phone numbers, years: four digits or more.
        r"[0-9０-９]{4,}",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// The message without its address and long numbers, spaces squeezed.
pub fn without_address(text: &str) -> String {
    let mut out = text.to_owned();
    for re in PATTERNS.iter() {
        out = re.replace_all(&out, " ").into_owned();
    }
    let squeezed: Vec<&str> = out.split_whitespace().collect();
    squeezed.join(" ")
}

/// The text the encoder and the n-gram features see.
pub fn semantic_text(text: &str) -> String {
    let joined = without_address(text);
    // A message that was nothing but an address is read as it was written.
    if joined.chars().any(char::is_alphanumeric) {
        joined
    } else {
        text.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_long_numbers_go_short_numbers_stay() {
        assert_eq!(semantic_text("3栋2单元1101 厨房水管漏水"), "厨房水管漏水");
        assert_eq!(semantic_text("五号楼602室 卫生间灯不亮"), "卫生间灯不亮");
        assert_eq!(semantic_text("七栋三单元五零二 有煤气味"), "有煤气味");
        assert_eq!(semantic_text("12-2-1801门口 煤气味"), "门口 煤气味");
        assert_eq!(
            semantic_text("Building 8, Unit 1, Room 2003 the tap drips"),
            ", , the tap drips"
        );
        assert_eq!(semantic_text("Blk 3 #11-02 no water"), "no water");
        assert_eq!(semantic_text("要不要打119"), "要不要打119");
        assert_eq!(
            semantic_text("电话13812345678 等了20分钟"),
            "电话 等了20分钟"
        );
        assert_eq!(semantic_text("楼下有人吵"), "楼下有人吵");
        assert_eq!(
            semantic_text("3栋2单元1101"),
            "3栋2单元1101",
            "an address alone stays"
        );
    }
}
