//! Residents' phone numbers never reach a log or a report in full.

/// Masks every run of 7 or more digits (allowing `-` and spaces inside), keeping the first
/// three and the last two: `13812345678` → `138******78`.
pub fn mask_phones(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // Digits right after a letter belong to an identifier (a ticket number like
        // R2611220001), not a phone number.
        if chars[i].is_ascii_alphabetic() {
            let letters = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let mut end = i + letters;
            // One or two letters glued to digits make an identifier (a ticket number like
            // R2611220001), not a phone number; a longer word ("tel13812345678") does not.
            if letters <= 2 {
                end += chars[end..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
            }
            out.extend(&chars[i..end]);
            i = end;
        } else if chars[i].is_ascii_digit() {
            let start = i;
            let mut j = i;
            let mut digits = 0;
            while j < chars.len()
                && (chars[j].is_ascii_digit()
                    || ((chars[j] == '-' || chars[j] == ' ')
                        && j + 1 < chars.len()
                        && chars[j + 1].is_ascii_digit()))
            {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            if digits >= 7 {
                let mut seen = 0;
                for &c in &chars[start..j] {
                    if c.is_ascii_digit() {
                        seen += 1;
                        out.push(if seen <= 3 || seen > digits - 2 {
                            c
                        } else {
                            '*'
                        });
                    } else {
                        out.push(c);
                    }
                }
            } else {
                out.extend(&chars[start..j]);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mask_phones;

    #[test]
    fn masks_mobile_numbers_and_keeps_room_numbers() {
        assert_eq!(mask_phones("电话13812345678"), "电话138******78");
        assert_eq!(
            mask_phones("3栋1102 call 138-1234-5678"),
            "3栋1102 call 138-****-**78"
        );
        assert_eq!(mask_phones("5-1-702"), "5-1-702");
        assert_eq!(mask_phones("工单R2611220001"), "工单R2611220001");
        assert_eq!(mask_phones("tel13812345678"), "tel138******78");
    }
}
