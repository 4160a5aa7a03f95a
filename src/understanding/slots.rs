//! Slots: the place (building, unit, room), a phone number and a preferred time, read from
//! the message with a small hand-written scanner. The words that mark each part (栋, 单元,
//! block, 明天, after…) come from the lexicon's `[slots]` table; the code only knows the
//! shapes: number + marker, marker + number, `5-1-702`, mobile and landline numbers.

use serde::Deserialize;

use super::normalize::prepare;
use super::Slots;

/// The `[slots]` table of the lexicon, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotWords {
    pub building_suffixes: Vec<String>,
    pub building_prefixes: Vec<String>,
    pub unit_suffixes: Vec<String>,
    pub room_suffixes: Vec<String>,
    pub room_prefixes: Vec<String>,
    pub floor_suffixes: Vec<String>,
    pub floor_prefixes: Vec<String>,
    /// Words after a number that make it a quantity, not a room (元, 年, days…).
    pub number_units: Vec<String>,
    /// Words that open with a unit but are not one ("1702 次卧", "1101 天花板漏水").
    #[serde(default)]
    pub not_units: Vec<String>,
    pub time_words: Vec<String>,
    pub time_prefixes: Vec<String>,
    pub time_suffixes: Vec<String>,
    pub clock_marks: Vec<String>,
    /// Words that name a parking space ("车位", "parking space"); the number beside them is
    /// the space, not a building or a room.
    #[serde(default)]
    pub parking_words: Vec<String>,
    /// Words that name a shop ("商铺", "shop"), read like parking words.
    #[serde(default)]
    pub shop_words: Vec<String>,
    /// Shared places named as they are (大堂, lobby, club house, playground).
    #[serde(default)]
    pub public_areas: Vec<String>,
    /// Shared places that every building has its own of (楼道, stairwell): without a
    /// building they say where in a building, not which one, so the place is still asked.
    #[serde(default)]
    pub in_building_areas: Vec<String>,
    /// Words that make a time a time to visit ("来修", "家里有人", "come"): without one,
    /// "凌晨一点还在唱K" says when something happens, not when to come.
    #[serde(default)]
    pub visit_words: Vec<String>,
    /// Building words read back as the resident wrote them ("5座", not "5棟").
    #[serde(default)]
    pub kept_building_marks: Vec<String>,
    /// The last character of a named block ("泰和樓", "明恩閣"), and the estate words a
    /// named block follows ("富泰邨泰和樓"); names that are no block ("写字楼").
    #[serde(default)]
    pub named_block_marks: Vec<String>,
    #[serde(default)]
    pub estate_marks: Vec<String>,
    #[serde(default)]
    pub not_block_names: Vec<String>,
    /// Words before the resident's own flat ("我係6座1502" after "樓下1402…"): that flat is
    /// theirs, whatever other flat the message names first.
    #[serde(default)]
    pub own_place_words: Vec<String>,
}

/// [`SlotWords`] in the scanner's form: prepared like the text, longest first.
#[derive(Debug, Clone)]
pub struct SlotGrammar {
    building_suffixes: Vec<Vec<char>>,
    building_prefixes: Vec<Vec<char>>,
    unit_suffixes: Vec<Vec<char>>,
    room_suffixes: Vec<Vec<char>>,
    room_prefixes: Vec<Vec<char>>,
    floor_suffixes: Vec<Vec<char>>,
    floor_prefixes: Vec<Vec<char>>,
    number_units: Vec<Vec<char>>,
    not_units: Vec<Vec<char>>,
    time_words: Vec<Vec<char>>,
    time_prefixes: Vec<Vec<char>>,
    time_suffixes: Vec<Vec<char>>,
    clock_marks: Vec<Vec<char>>,
    parking_words: Vec<Vec<char>>,
    shop_words: Vec<Vec<char>>,
    public_areas: Vec<Vec<char>>,
    in_building_areas: Vec<Vec<char>>,
    visit_words: Vec<Vec<char>>,
    kept_building_marks: Vec<Vec<char>>,
    named_block_marks: Vec<Vec<char>>,
    estate_marks: Vec<Vec<char>>,
    not_block_names: Vec<Vec<char>>,
    own_place_words: Vec<Vec<char>>,
}

impl SlotGrammar {
    pub fn compile(words: &SlotWords) -> anyhow::Result<Self> {
        let list = |name: &str, v: &[String]| -> anyhow::Result<Vec<Vec<char>>> {
            let mut out = Vec::with_capacity(v.len());
            for w in v {
                let p: Vec<char> = prepare(w).chars().collect();
                if p.iter().all(|c| c.is_whitespace()) {
                    anyhow::bail!("slots.{name}: empty word");
                }
                out.push(p);
            }
            out.sort_by_key(|w| std::cmp::Reverse(w.len()));
            Ok(out)
        };
        Ok(Self {
            building_suffixes: list("building_suffixes", &words.building_suffixes)?,
            building_prefixes: list("building_prefixes", &words.building_prefixes)?,
            unit_suffixes: list("unit_suffixes", &words.unit_suffixes)?,
            room_suffixes: list("room_suffixes", &words.room_suffixes)?,
            room_prefixes: list("room_prefixes", &words.room_prefixes)?,
            floor_suffixes: list("floor_suffixes", &words.floor_suffixes)?,
            floor_prefixes: list("floor_prefixes", &words.floor_prefixes)?,
            number_units: list("number_units", &words.number_units)?,
            not_units: list("not_units", &words.not_units)?,
            time_words: list("time_words", &words.time_words)?,
            time_prefixes: list("time_prefixes", &words.time_prefixes)?,
            time_suffixes: list("time_suffixes", &words.time_suffixes)?,
            clock_marks: list("clock_marks", &words.clock_marks)?,
            parking_words: list("parking_words", &words.parking_words)?,
            shop_words: list("shop_words", &words.shop_words)?,
            public_areas: list("public_areas", &words.public_areas)?,
            in_building_areas: list("in_building_areas", &words.in_building_areas)?,
            visit_words: list("visit_words", &words.visit_words)?,
            kept_building_marks: list("kept_building_marks", &words.kept_building_marks)?,
            named_block_marks: list("named_block_marks", &words.named_block_marks)?,
            estate_marks: list("estate_marks", &words.estate_marks)?,
            not_block_names: list("not_block_names", &words.not_block_names)?,
            own_place_words: list("own_place_words", &words.own_place_words)?,
        })
    }

    /// Reads every slot it can find; what it cannot find stays `None`.
    pub fn extract(&self, original: &str) -> Slots {
        self.extract_prepared(original, &prepare(original))
    }

    /// [`Self::extract`] when the caller already has `prepare(original)`.
    pub fn extract_prepared(&self, original: &str, prepared: &str) -> Slots {
        let chars: Vec<char> = prepared.chars().collect();
        let orig: Vec<char> = original.chars().collect();
        let mut used = vec![false; chars.len()];
        let phone = find_phone(&chars, &mut used);
        mark_service_numbers(&chars, &mut used);
        let quote = |s: usize, e: usize| -> String {
            let src = if orig.len() == chars.len() {
                &orig
            } else {
                &chars
            };
            src[s..e].iter().collect::<String>().trim().to_owned()
        };
        // A parking space or shop number is not an address: "B2-136" is no building 2.
        let numbered = self.find_numbered_spot(&chars, &used);
        if let Some((s, e)) = numbered {
            used[s..e].iter_mut().for_each(|u| *u = true);
        }
        let named = self.find_named_block(&chars, &used);
        if let Some((s, e)) = named {
            used[s..e].iter_mut().for_each(|u| *u = true);
        }
        let mut slots = self.find_place(&chars, &used);
        if let Some((s, e)) = named.filter(|_| slots.building.is_none()) {
            slots.building = Some(quote(s, e - 1));
            slots.building_mark = Some(quote(e - 1, e));
        }
        // "B1车库", "地下二层车库": a level before the area says which one.
        let level_before = |s: usize| {
            chars[s.saturating_sub(4)..s]
                .iter()
                .any(|c| c.is_ascii_digit() || chinese_digit(*c).is_some())
        };
        // "小区大堂", "屋苑大堂": the estate's own, of which there is one.
        let estate_before = |s: usize| {
            let before: String = chars[s.saturating_sub(4)..s].iter().collect();
            ["小区", "社区", "屋苑", "苑", "estate", "main"]
                .iter()
                .any(|w| before.contains(w))
        };
        let area = self.find_public_area(&chars, |(s, e)| {
            slots.building.is_some()
                || slots.floor.is_some()
                || level_before(*s)
                || basement_level(&chars, &used, *e).is_some()
                || zone_after(&chars, *e).is_some()
                || estate_before(*s)
                || !self
                    .in_building_areas
                    .iter()
                    .any(|w| w[..] == chars[*s..*e])
        });
        // The level goes with the area it names: "B1车库", "地下二层停车场", "B2 carpark";
        // and an area right after it says which part ("东门花园" is the garden by the east
        // gate, not the gate).
        let area = area.map(|(mut s, mut e)| {
            while s > 0
                && (chars[s - 1].is_ascii_alphanumeric()
                    || chinese_digit(chars[s - 1]).is_some()
                    || "地下负层".contains(chars[s - 1]))
                && !used[s - 1]
            {
                s -= 1;
            }
            if s >= 3
                && chars[s - 1] == ' '
                && basement_level(&chars, &used, s - 3) == Some((s - 3, s - 1))
            {
                s -= 3;
            }
            while let Some(len) = match_any(&chars, e, &self.public_areas, true) {
                e += len;
            }
            (s, e)
        });
        // ...and so does one told after it ("地下车库B2", "停車場 B1"); a basement level alone
        // ("B2 near the lifts") is a place too.
        let area = area
            .map(|(s, e)| {
                let e = basement_level(&chars, &used, e).map_or(e, |(_, end)| end);
                (s, zone_after(&chars, e).unwrap_or(e))
            })
            .or_else(|| {
                (0..chars.len()).find_map(|i| {
                    basement_level(&chars, &used, i)
                        .filter(|_| i == 0 || !chars[i - 1].is_ascii_alphanumeric())
                })
            });
        // "the car park … on B2 next to the Block 6 lifts": a level told apart from its area
        // still says which.
        let level_apart = area.filter(|_| numbered.is_none()).and_then(|(s, e)| {
            let told_with = chars[s..e].iter().any(|c| c.is_ascii_digit());
            (0..chars.len())
                .filter(|i| *i < s || *i >= e)
                .find_map(|i| {
                    basement_level(&chars, &used, i).filter(|(ls, _)| {
                        *ls == i && (i == 0 || !chars[i - 1].is_ascii_alphanumeric())
                    })
                })
                .filter(|_| !told_with)
        });
        slots.spot = numbered.or(area).map(|(s, e)| match level_apart {
            Some((ls, le)) => format!("{} {}", quote(s, e), quote(ls, le)),
            None => quote(s, e),
        });
        slots.phone = phone;
        slots.time = self
            .find_time(&chars, &used)
            .filter(|(s, e)| self.is_visit(&chars, *s, *e))
            // Script conversion almost always keeps one char per char; when it does, the
            // time (and a spot) is quoted in the resident's own script.
            .map(|(s, e)| quote(s, e));
        slots
    }

    /// "B2-136车位", "地下二层136车位", "parking space B2-136", "12号商铺", "shop 12": the
    /// span from the first number-like character to the end of the marker (or the marker
    /// and the number after it).
    fn find_numbered_spot(&self, c: &[char], used: &[bool]) -> Option<(usize, usize)> {
        let spotlike = |ch: char| {
            ch.is_ascii_alphanumeric()
                || matches!(ch, '-' | '#' | '号' | '负' | '地' | '下' | '层')
                || chinese_digit(ch).is_some()
        };
        for i in 0..c.len() {
            if used[i] {
                continue;
            }
            let Some(len) = match_any(c, i, &self.parking_words, true)
                .or_else(|| match_any(c, i, &self.shop_words, true))
            else {
                continue;
            };
            if is_alpha(prev(c, i)) {
                continue;
            }
            // The number before the marker ("B2-136车位", "B2-136 車位", "12号商铺")...
            let mut number_end = i;
            while number_end > 0 && c[number_end - 1].is_whitespace() {
                number_end -= 1;
            }
            let mut s = number_end;
            while s > 0 && spotlike(c[s - 1]) && !used[s - 1] {
                s -= 1;
            }
            if c[s..number_end]
                .iter()
                .any(|ch| ch.is_ascii_digit() || chinese_digit(*ch).is_some())
            {
                return Some((s, i + len));
            }
            // ...or after it ("车位号136", "parking space B2-136", "shop 12").
            let mut j = i + len;
            while matches!(c.get(j), Some('号' | ':' | '：')) {
                j += 1;
            }
            // "the shop at G-12"
            let k = skip_spaces(c, j);
            if c[k..].starts_with(&['a', 't', ' ']) {
                j = k + 3;
            }
            if let Some((_, end)) = token_after(c, j, true) {
                return Some((i, end));
            }
        }
        None
    }

    /// A Hong Kong block named, not numbered: two characters and a block word ("泰和樓"),
    /// after an estate's name ("富泰邨泰和樓"), before the flat ("翠華樓0812") or opening the
    /// message ("美景樓 地下大堂").
    fn find_named_block(&self, c: &[char], used: &[bool]) -> Option<(usize, usize)> {
        let is_name =
            |ch: char| ('\u{4e00}'..='\u{9fff}').contains(&ch) && chinese_digit(ch).is_none();
        (0..c.len().saturating_sub(2)).find_map(|i| {
            if used[i..i + 3].iter().any(|u| *u) || !is_name(c[i]) || !is_name(c[i + 1]) {
                return None;
            }
            let len = match_any(c, i + 2, &self.named_block_marks, false)?;
            let end = i + 2 + len;
            if self.not_block_names.iter().any(|w| w[..] == c[i..i + 2]) {
                return None;
            }
            let estate_before = self
                .estate_marks
                .iter()
                .any(|w| i >= w.len() && c[i - w.len()..i] == w[..]);
            let flat_after = c.get(end).is_some_and(char::is_ascii_digit);
            let opens = i == 0 && c.get(end).is_none_or(|ch| ch.is_whitespace());
            (estate_before || flat_after || opens).then_some((i, end))
        })
    }

    /// The first shared place named that `enough` takes as a place on its own ("the
    /// garage barrier at the south entrance" is at the south entrance).
    fn find_public_area(
        &self,
        c: &[char],
        enough: impl Fn(&(usize, usize)) -> bool,
    ) -> Option<(usize, usize)> {
        (0..c.len()).find_map(|i| {
            if is_alpha(prev(c, i)) {
                return None;
            }
            match_any(c, i, &self.public_areas, true)
                .map(|len| (i, i + len))
                .filter(&enough)
        })
    }

    /// Whether the time at `s..e` is when to visit rather than when something happens.
    fn is_visit(&self, c: &[char], s: usize, e: usize) -> bool {
        if self.visit_words.is_empty() {
            return true;
        }
        let outside = c[..s]
            .iter()
            .chain(&c[e..])
            .filter(|ch| ch.is_alphanumeric())
            .count();
        if outside <= 3 {
            // The message is a time and nothing else: the answer to "when suits you?".
            return true;
        }
        let next = skip_spaces(c, e);
        if matches!(c.get(next), Some('来')) {
            return true;
        }
        (0..c.len()).any(|i| match_any(c, i, &self.visit_words, true).is_some())
    }

    fn find_place(&self, c: &[char], used: &[bool]) -> Slots {
        let mut slots = Slots::default();
        let mut floor: Option<String> = None;
        let mut bare_room: Option<String> = None;
        let mut own_room: Option<String> = None;
        let mut unit_word: Option<String> = None;
        let mut i = 0;
        while i < c.len() {
            if used[i] {
                i += 1;
                continue;
            }
            // Marker first: "block 3", "flat 1203", "#11-02", "floor 6".
            if !is_alpha(prev(c, i)) {
                if let Some(len) = match_any(c, i, &self.building_prefixes, true) {
                    if let Some((tok, end)) = token_after(c, i + len, false) {
                        set(&mut slots.building, tok);
                        i = end;
                        continue;
                    }
                }
                if let Some(len) = match_any(c, i, &self.room_prefixes, true) {
                    if let Some((tok, end)) = token_after(c, i + len, true) {
                        // "Unit" is a flat in Hong Kong English but the 单元 in "Building 8,
                        // Unit 1, Room 2003": decided once the whole address is read.
                        if c[i..i + len] == ['u', 'n', 'i', 't'] {
                            unit_word.get_or_insert(tok);
                        } else {
                            set(&mut slots.room, tok);
                        }
                        i = end;
                        continue;
                    }
                }
                if let Some(len) = match_any(c, i, &self.floor_prefixes, true) {
                    if let Some((tok, end)) = token_after(c, i + len, false) {
                        set(&mut slots.floor, tok.clone());
                        floor.get_or_insert(tok);
                        i = end;
                        continue;
                    }
                }
            }
            // Number first: "3栋", "2单元", "1101室", "12楼", "5-1-702", "B座".
            let Some((tok, end)) = number_or_letter(c, i) else {
                i += 1;
                continue;
            };
            if c.get(end) == Some(&'f') {
                set(&mut slots.floor, tok.clone());
                floor.get_or_insert(tok);
                i = end + 1;
                continue;
            }
            if c.get(end) == Some(&'-') {
                if let Some((parts, dash_end)) = dashed(c, i) {
                    match parts.as_slice() {
                        [b, u, r] => {
                            set(&mut slots.building, b.clone());
                            set(&mut slots.unit, u.clone());
                            set(&mut slots.room, r.clone());
                        }
                        [b, r] if r.len() >= 3 => {
                            set(&mut slots.building, b.clone());
                            set(&mut slots.room, r.clone());
                        }
                        _ => {}
                    }
                    i = dash_end;
                    continue;
                }
            }
            let after = skip_spaces(c, end);
            if let Some(len) = match_any(c, after, &self.building_suffixes, false) {
                if slots.building.is_none()
                    && self
                        .kept_building_marks
                        .iter()
                        .any(|m| m[..] == c[after..after + len])
                {
                    slots.building_mark = Some(c[after..after + len].iter().collect());
                }
                set(&mut slots.building, tok);
                i = after + len;
            } else if let Some(len) = match_any(c, after, &self.unit_suffixes, false) {
                set(&mut slots.unit, tok);
                i = after + len;
            } else if let Some(len) = match_any(c, after, &self.room_suffixes, false) {
                let is_letter = tok.chars().all(|ch| ch.is_ascii_alphabetic());
                if tok.len() >= 3 || is_letter {
                    let room = match (&floor, is_letter) {
                        (Some(f), true) => format!("{f}{tok}"),
                        _ => tok,
                    };
                    set(&mut slots.room, room);
                }
                i = after + len;
            } else if let Some(len) = match_any(c, after, &self.floor_suffixes, false)
                // "15栋401 楼上装修": upstairs of the flat, not a 401st floor.
                .filter(|len| !(after > end && matches!(c.get(after + len), Some('上' | '下'))))
            {
                // The first storey named is the resident's ("3楼到5楼" is read as 3); the
                // latest one still pairs with a letter room right after it (12楼B室).
                set(&mut slots.floor, tok.clone());
                floor = Some(tok.clone());
                i = after + len;
                // "7樓之2": flat 2 on the seventh floor, as Taiwan writes it.
                if c.get(i) == Some(&'之') {
                    if let Some((n, n_end)) = number_or_letter(c, i + 1) {
                        set(&mut slots.room, format!("{tok}之{n}"));
                        i = n_end;
                    }
                }
            } else if let Some(len) = self.ordinal_floor(c, end) {
                set(&mut slots.floor, tok.clone());
                floor = Some(tok);
                i = end + len;
            } else {
                let digits = tok.chars().all(|ch| ch.is_ascii_digit());
                // An English unit is a whole word ("1804 keeps dripping" has no "k"); a full
                // stop after the number is no decimal point ("I'm at 6座1806.").
                let is_quantity = (match_any(c, after, &self.number_units, true).is_some()
                    && match_any(c, skip_spaces(c, after), &self.not_units, false).is_none())
                    || matches!(prev(c, i), Some('¥' | '$' | '.' | ':'))
                    || (matches!(c.get(end), Some('.' | ':'))
                        && c.get(end + 1).is_some_and(char::is_ascii_digit));
                if digits
                    && (3..=4).contains(&tok.len())
                    && !is_quantity
                    && number_started_here(c, i)
                {
                    if self.said_as_own(c, i) {
                        own_room.get_or_insert(tok.clone());
                    }
                    bare_room.get_or_insert(tok);
                }
                i = end;
            }
        }
        if slots.room.is_none() {
            slots.room = bare_room;
        }
        if own_room.is_some() {
            slots.room = own_room;
        }
        if let Some(u) = unit_word {
            if slots.room.is_none() {
                slots.room = Some(u);
            } else {
                set(&mut slots.unit, u);
            }
        }
        slots
    }

    /// Whether the clause before `i` says the place is the resident's own ("我係6座1502",
    /// "I live in 2206").
    fn said_as_own(&self, c: &[char], i: usize) -> bool {
        let start = c[..i]
            .iter()
            .rposition(|ch| ",，.。!！?？;；".contains(*ch))
            .map_or(0, |p| p + 1)
            .max(i.saturating_sub(12));
        // Only the address may stand between ("我家楼上1502" is the flat upstairs).
        let address = |ch: &char| {
            ch.is_ascii_alphanumeric()
                || ch.is_whitespace()
                || chinese_digit(*ch).is_some()
                || "-#,，栋幢座号楼单元层室第期区阁轩苑村邨".contains(*ch)
        };
        (start..i).any(|j| {
            match_any(c, j, &self.own_place_words, true)
                .is_some_and(|len| c[j + len..i].iter().all(address))
        })
    }

    /// "25th floor", "3rd level": an English ordinal suffix right after the digits, then
    /// one of the floor words. Returns the length from the end of the digits.
    fn ordinal_floor(&self, c: &[char], end: usize) -> Option<usize> {
        let suffix: String = c.get(end..end + 2)?.iter().collect();
        if !matches!(suffix.as_str(), "st" | "nd" | "rd" | "th")
            || is_alpha(c.get(end + 2).copied())
        {
            return None;
        }
        let word = skip_spaces(c, end + 2);
        match_any(c, word, &self.floor_prefixes, true).map(|len| word + len - end)
    }

    fn find_time(&self, c: &[char], used: &[bool]) -> Option<(usize, usize)> {
        let mut atoms: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < c.len() {
            if used[i] {
                i += 1;
                continue;
            }
            let start = i;
            let mut j = i;
            let mut found = false;
            if let Some(len) = match_any(c, j, &self.time_prefixes, true) {
                let k = skip_spaces(c, j + len);
                if let Some(end) = self.time_core(c, k, true) {
                    j = end;
                    found = true;
                }
            }
            if !found {
                if let Some(end) = self.time_core(c, j, false) {
                    j = end;
                    found = true;
                }
            }
            if !found {
                i += 1;
                continue;
            }
            if let Some(len) = match_any(c, skip_spaces(c, j), &self.time_suffixes, true) {
                j = skip_spaces(c, j) + len;
            }
            atoms.push((start, j));
            i = j;
        }
        let (mut s, mut e) = *atoms.first()?;
        for &(a, b) in &atoms[1..] {
            let gap: String = c[e..a].iter().collect();
            let joins = gap.chars().count() <= 2
                && gap
                    .chars()
                    .all(|ch| matches!(ch, ' ' | '的' | '-' | '~' | '到' | '至' | ','));
            if !joins {
                break;
            }
            e = b;
        }
        while s < e && c[s].is_whitespace() {
            s += 1;
        }
        Some((s, e))
    }

    /// A time word (明天, tonight) or a clock time (3点, 7pm, 19:30) at `i`; after a
    /// prefix like "after", a bare hour counts too.
    fn time_core(&self, c: &[char], i: usize, after_prefix: bool) -> Option<usize> {
        if let Some(len) = match_any(c, i, &self.time_words, true) {
            return Some(i + len);
        }
        let (tok, end) = number_or_letter(c, i)?;
        if tok.chars().any(|ch| ch.is_ascii_alphabetic()) || tok.len() > 2 {
            return None;
        }
        if c.get(end) == Some(&':')
            && c.get(end + 1).is_some_and(|d| d.is_ascii_digit())
            && c.get(end + 2).is_some_and(|d| d.is_ascii_digit())
        {
            let mut j = end + 3;
            if let Some(len) = match_any(c, skip_spaces(c, j), &self.clock_marks, true) {
                j = skip_spaces(c, j) + len;
            }
            return Some(j);
        }
        if let Some(len) = match_any(c, skip_spaces(c, end), &self.clock_marks, true) {
            return Some(skip_spaces(c, end) + len);
        }
        (after_prefix && !is_alpha(c.get(end).copied())).then_some(end)
    }
}

fn set(slot: &mut Option<String>, value: String) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

fn prev(c: &[char], i: usize) -> Option<char> {
    i.checked_sub(1).and_then(|p| c.get(p).copied())
}

fn is_alpha(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphabetic())
}

fn skip_spaces(c: &[char], mut i: usize) -> usize {
    while c.get(i).is_some_and(|ch| ch.is_whitespace()) {
        i += 1;
    }
    i
}

/// Length of the longest word of `words` at `i`; an English word must end at a word edge.
/// A basement level starting at `i` after optional spaces: "B1" … "B5" standing alone (not
/// "B2-136", a space, nor "B12"), the span from `i` to its end.
fn basement_level(c: &[char], used: &[bool], i: usize) -> Option<(usize, usize)> {
    let s = skip_spaces(c, i);
    let (b, d) = (*c.get(s)?, *c.get(s + 1)?);
    if !matches!(b, 'b' | 'B') || !('1'..='5').contains(&d) || used[s] || used[s + 1] {
        return None;
    }
    let next = c.get(s + 2).copied();
    if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '-') {
        return None;
    }
    Some((s, s + 2))
}

/// "地下车库B区", "停车场 3区": the zone of a car park or garden told right after it says
/// which one, as a level does. Returns where the zone ends.
fn zone_after(c: &[char], e: usize) -> Option<usize> {
    let i = skip_spaces(c, e);
    let len = c[i.min(c.len())..]
        .iter()
        .take_while(|ch| ch.is_ascii_alphanumeric() || chinese_digit(**ch).is_some())
        .count();
    ((1..=2).contains(&len) && c.get(i + len) == Some(&'区')).then_some(i + len + 1)
}

fn match_any(c: &[char], i: usize, words: &[Vec<char>], edge: bool) -> Option<usize> {
    words.iter().find_map(|w| {
        let hit = c.len() >= i + w.len() && c[i..i + w.len()] == w[..];
        let english_end = w.last().is_some_and(|l| l.is_ascii_alphabetic());
        let clean_edge = !edge || !english_end || !is_alpha(c.get(i + w.len()).copied());
        (hit && clean_edge).then_some(w.len())
    })
}

/// The token after a marker: `block 3`, `flat 1203`, `unit 15-3`, `#11-02`, `tower a`.
fn token_after(c: &[char], i: usize, allow_dash: bool) -> Option<(String, usize)> {
    let mut j = skip_spaces(c, i);
    while matches!(c.get(j), Some('#' | '.' | ':' | '：')) {
        // "the floor. I closed the valve": a full stop ends the sentence.
        if c[j] == '.' && c.get(j + 1).is_none_or(|n| n.is_whitespace()) {
            return None;
        }
        j = skip_spaces(c, j + 1);
    }
    if c.get(j) == Some(&'n')
        && c.get(j + 1) == Some(&'o')
        && matches!(c.get(j + 2), Some('.' | ' '))
    {
        j = skip_spaces(c, j + 3);
    }
    let start = j;
    while let Some(&ch) = c.get(j) {
        let dash_ok =
            allow_dash && ch == '-' && c.get(j + 1).is_some_and(|d| d.is_ascii_alphanumeric());
        if ch.is_ascii_alphanumeric() || dash_ok {
            j += 1;
        } else {
            break;
        }
    }
    let tok: String = c[start..j].iter().collect();
    let has_digit = tok.chars().any(|ch| ch.is_ascii_digit());
    let single_letter = tok.len() == 1 && tok.chars().all(|ch| ch.is_ascii_alphabetic());
    (has_digit && tok.len() <= 8 || single_letter).then(|| (tok.to_uppercase(), j))
}

/// A number (ASCII digits or Chinese numerals, converted) or a lone Latin letter at `i`.
fn number_or_letter(c: &[char], i: usize) -> Option<(String, usize)> {
    let ch = *c.get(i)?;
    if ch.is_ascii_digit() {
        let mut j = i;
        while c.get(j).is_some_and(|d| d.is_ascii_digit()) {
            j += 1;
        }
        if is_alpha(c.get(j).copied()) && !is_alpha(c.get(j + 1).copied()) {
            // "23F" is the 23rd floor, as lift buttons and English addresses write it...
            if c.get(j) == Some(&'f') && j - i <= 3 && number_started_here(c, i) {
                return Some((c[i..j].iter().collect(), j));
            }
            // ...but "12b" style flat numbers stay whole, "3pm" does not start with a room.
            return None;
        }
        return Some((c[i..j].iter().collect(), j));
    }
    if ch.is_ascii_alphabetic() {
        let lone = !is_alpha(prev(c, i)) && !is_alpha(c.get(i + 1).copied());
        return lone.then(|| (ch.to_ascii_uppercase().to_string(), i + 1));
    }
    let mut j = i;
    while c.get(j).is_some_and(|d| chinese_digit(*d).is_some()) {
        j += 1;
    }
    if j == i {
        return None;
    }
    let run = &c[i..j];
    // Spoken numbers from voice input are read digit by digit: 六零二 → 602, 幺零零三 → 1003.
    if run.len() >= 2 && !run.contains(&'十') {
        let digits: String = run
            .iter()
            .filter_map(|&ch| chinese_digit(ch))
            .filter_map(|d| char::from_digit(d, 10))
            .collect();
        return Some((digits, j));
    }
    chinese_number(run).map(|n| (n.to_string(), j))
}

fn number_started_here(c: &[char], i: usize) -> bool {
    !prev(c, i).is_some_and(|p| p.is_ascii_alphanumeric() || p == '-')
}

fn chinese_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '幺' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        '十' => 10,
        _ => return None,
    })
}

/// 五 → 5, 十二 → 12, 二十 → 20, 二十三 → 23; longer forms are not addresses.
fn chinese_number(c: &[char]) -> Option<u32> {
    let d: Vec<u32> = c.iter().filter_map(|&ch| chinese_digit(ch)).collect();
    match d.as_slice() {
        [n] => Some(*n),
        [10, n] if *n < 10 => Some(10 + n),
        [t, 10] if *t < 10 => Some(t * 10),
        [t, 10, n] if *t < 10 && *n < 10 => Some(t * 10 + n),
        _ => None,
    }
}

/// `5-1-702`, `12-2-1801`, `3-1101`: up to three dash-joined numbers.
fn dashed(c: &[char], i: usize) -> Option<(Vec<String>, usize)> {
    let mut parts = Vec::new();
    let mut j = i;
    loop {
        let s = j;
        while c.get(j).is_some_and(|d| d.is_ascii_digit()) {
            j += 1;
        }
        if j == s || j - s > 4 {
            return None;
        }
        parts.push(c[s..j].iter().collect::<String>());
        if c.get(j) == Some(&'-') && c.get(j + 1).is_some_and(|d| d.is_ascii_digit()) {
            j += 1;
        } else {
            break;
        }
    }
    let valid =
        (2..=3).contains(&parts.len()) && !c.get(j).is_some_and(|d| d.is_ascii_alphanumeric());
    valid.then_some((parts, j))
}

/// Mainland mobiles (1[3-9] + 9 digits, optionally after +86) and landlines with an area
/// code (0 + 2–3 digits, optional dash, 7–8 digits). Marks the digits as used so the
/// place scanner does not read them as a room.
fn find_phone(c: &[char], used: &mut [bool]) -> Option<String> {
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() || prev(c, i).is_some_and(|p| p.is_ascii_digit()) {
            i += 1;
            continue;
        }
        let pure = digit_run(c, i, false);
        for (end, digits) in [pure.clone(), digit_run(c, i, true)] {
            if let Some(phone) = phone_shape(&digits, &c[i..end]) {
                for u in used.iter_mut().take(end).skip(i) {
                    *u = true;
                }
                return Some(phone);
            }
        }
        i = pure.0.max(i + 1);
    }
    None
}

/// "要不要打119", "should I ring 119": a public emergency number after a call verb is a
/// number to call, never a room.
fn mark_service_numbers(c: &[char], used: &mut [bool]) {
    const NUMBERS: &[&str] = &["110", "119", "120", "122", "999", "911", "112"];
    const VERBS: &[&str] = &["打", "拨", "报", "call", "ring", "dial", "phone"];
    let text: String = c.iter().collect::<String>().to_lowercase();
    let lower: Vec<char> = text.chars().collect();
    if lower.len() != c.len() {
        return;
    }
    let mut i = 0;
    while i + 3 <= lower.len() {
        let standalone = prev(&lower, i).is_none_or(|p| !p.is_ascii_digit())
            && lower.get(i + 3).is_none_or(|n| !n.is_ascii_digit());
        let number: String = lower[i..i + 3].iter().collect();
        if standalone && NUMBERS.contains(&number.as_str()) {
            let before: String = lower[i.saturating_sub(8)..i].iter().collect();
            if VERBS.iter().any(|v| before.contains(v)) {
                used[i..i + 3].iter_mut().for_each(|u| *u = true);
            }
        }
        i += 1;
    }
}

/// Digits from `i`, optionally across single dashes or spaces between digits.
fn digit_run(c: &[char], i: usize, separators: bool) -> (usize, String) {
    let mut j = i;
    let mut digits = String::new();
    while let Some(&ch) = c.get(j) {
        if ch.is_ascii_digit() {
            digits.push(ch);
            j += 1;
        } else if separators
            && matches!(ch, '-' | ' ')
            && c.get(j + 1).is_some_and(|d| d.is_ascii_digit())
        {
            j += 1;
        } else {
            break;
        }
    }
    (j, digits)
}

fn phone_shape(digits: &str, written: &[char]) -> Option<String> {
    let national = digits
        .strip_prefix("86")
        .filter(|d| d.len() == 11)
        .unwrap_or(digits);
    let b = national.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Some(national.to_owned());
    }
    if b.first() == Some(&b'0') && (10..=12).contains(&b.len()) {
        return Some(written.iter().filter(|ch| !ch.is_whitespace()).collect());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{Lexicon, Slots};

    fn slots(text: &str) -> Slots {
        let lexicon = Lexicon::parse(include_str!("../../config/lexicon.toml"))
            .expect("the shipped lexicon compiles");
        lexicon.slots.extract(text)
    }

    fn place(text: &str) -> (Option<String>, Option<String>, Option<String>) {
        let s = slots(text);
        (s.building, s.floor, s.room)
    }

    fn some(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn hong_kong_blocks_by_name_and_by_number_keep_their_word() {
        let block = |t: &str| {
            let s = slots(t);
            (s.building, s.building_mark, s.room)
        };
        assert_eq!(
            block("富泰邨泰和樓 部𨋢卡咗"),
            (some("泰和"), some("樓"), None)
        );
        assert_eq!(
            block("污水湧上嚟!! 翠華樓0812"),
            (some("翠華"), some("樓"), some("0812"))
        );
        assert_eq!(
            block("怡明邨明恩閣2209"),
            (some("明恩"), some("閣"), some("2209"))
        );
        assert_eq!(block("5座大堂入口道閘壞咗").1, some("座"));
        assert_eq!(block("3栋2单元1101").1, None);
        // Words before 楼 that name no block.
        for t in [
            "隔壁楼 很吵",
            "写字楼 1203",
            "整栋楼停电了",
            "我们楼 电梯坏了",
        ] {
            assert_eq!(block(t).0, None, "{t}");
        }
        let s = slots("美景樓 地下大堂 近信箱嗰度");
        assert_eq!((s.building, s.spot), (some("美景"), some("地下大堂")));
    }

    #[test]
    fn the_residents_own_flat_wins_over_one_named_before_it() {
        let room = |t: &str| slots(t).room;
        assert_eq!(
            room("樓下1402話佢廚房天花滲水 話係我哋漏落去 我係6座1502"),
            some("1502")
        );
        assert_eq!(room("我家楼上1502漏水到我家1402"), some("1402"));
        assert_eq!(room("楼上1502漏水到我家"), some("1502"));
    }

    #[test]
    fn upstairs_after_a_flat_is_no_storey() {
        assert_eq!(
            place("15栋401 楼上装修天天砸墙"),
            (some("15"), None, some("401"))
        );
        assert_eq!(place("5栋12楼上面在装修").1, some("12"));
    }

    #[test]
    fn a_full_stop_after_a_place_word_ends_it() {
        let s = slots("there's water all over the floor. I closed the valve. 507, Block 2");
        assert_eq!((s.floor, s.room), (None, some("507")));
        assert_eq!(slots("room no. 1203").room, some("1203"));
    }

    #[test]
    fn a_zone_or_an_entrance_says_which_shared_place() {
        let spot = |t: &str| slots(t).spot;
        assert_eq!(
            spot("地下车库B区进水了 还在从坡道往下灌"),
            some("地下车库B区")
        );
        assert_eq!(spot("停车场 3区 有积水"), some("停车场 3区"));
        assert_eq!(
            spot("garage barrier at the south entrance won't lift"),
            some("south entrance")
        );
        assert_eq!(spot("地下车库进水了"), None);
        assert_eq!(
            spot("the big ventilation fan in the car park on B2 next to the Block 6 lifts"),
            some("car park B2")
        );
    }

    #[test]
    fn a_basement_level_told_after_the_car_park_or_alone_is_the_place() {
        let spot = |t: &str| slots(t).spot;
        assert_eq!(spot("地下车库B2靠电梯那边一排灯全灭了"), some("地下车库B2"));
        assert_eq!(spot("停車場 B1 個 barrier 壞咗"), some("停車場 B1"));
        assert_eq!(spot("B2 near the lifts"), some("B2"));
        assert_eq!(spot("B1车库灯坏了"), some("B1车库"));
        // A parking space and a longer code are no level.
        assert_eq!(spot("B2-136车位被占"), some("B2-136车位"));
        assert_eq!(spot("my car B12 is fine"), None);
        assert_eq!(
            spot("I run the shop at G-12 on the ground floor"),
            some("shop at G-12")
        );
    }

    #[test]
    fn an_english_sentence_ends_and_goes_on_after_the_room() {
        assert_eq!(place("I'm at 6座1806."), (some("6"), None, some("1806")));
        assert_eq!(
            place("the tap in 11栋1804 keeps dripping"),
            (some("11"), None, some("1804"))
        );
        assert_eq!(slots("price 12.50").room, None);
    }

    #[test]
    fn a_building_letter_then_a_storey() {
        assert_eq!(
            place("B座12楼 的 sensor灯不亮"),
            (some("B"), some("12"), None)
        );
        assert_eq!(place("b座12樓走廊燈壞咗"), (some("B"), some("12"), None));
        assert_eq!(place("A座 3层 电梯厅的灯"), (some("A"), some("3"), None));
    }

    #[test]
    fn a_storey_then_a_building_letter() {
        assert_eq!(
            place("12楼B座的消防门关不上"),
            (some("B"), some("12"), None)
        );
        assert_eq!(place("十二楼B座"), (some("B"), some("12"), None));
    }

    #[test]
    fn hong_kong_and_english_storeys() {
        assert_eq!(
            place("lift lobby on 14/F is flooded"),
            (None, some("14"), None)
        );
        assert_eq!(
            place("Flat 1203, 12/F, Block 5"),
            (some("5"), some("12"), some("1203"))
        );
        assert_eq!(place("we live on the 25th floor"), (None, some("25"), None));
        assert_eq!(
            place("tower 2, floor 6, no light"),
            (some("2"), some("6"), None)
        );
        assert_eq!(place("3rd level car park"), (None, some("3"), None));
        assert_eq!(
            place("the lift lobby on 23F of 10栋 is dark"),
            (some("10"), some("23"), None)
        );
        assert_eq!(place("flat 12b is leaking"), (None, None, some("12B")));
    }

    #[test]
    fn the_first_storey_named_is_kept_and_a_letter_room_still_joins_it() {
        assert_eq!(
            place("楼道灯不亮了 3楼到5楼都是黑的"),
            (None, some("3"), None)
        );
        assert_eq!(place("12樓B室 冷氣機滴水"), (None, some("12"), some("12B")));
    }

    #[test]
    fn a_level_told_before_its_area_and_an_area_within_another() {
        assert_eq!(
            slots("Eh the lights at B2 carpark all spoil already")
                .spot
                .as_deref(),
            Some("B2 carpark")
        );
        assert_eq!(
            slots("东门花园的垃圾桶三天没人倒了").spot.as_deref(),
            Some("东门花园")
        );
    }

    #[test]
    fn a_level_goes_with_its_area() {
        assert_eq!(slots("B1车库靠近电梯那边").spot, some("B1车库"));
        assert_eq!(
            slots("地下二层停车场灯坏了").spot.as_deref(),
            Some("地下二层停车场")
        );
        assert_eq!(slots("小区大堂的灯坏了").spot, some("大堂"));
    }

    #[test]
    fn a_room_before_a_word_that_opens_like_a_unit() {
        assert_eq!(place("5栋1702 次卧窗户关不严").2, some("1702"));
        assert_eq!(place("3栋1101天花板漏水").2, some("1101"));
        assert_eq!(place("交了1702次").2, None);
    }

    #[test]
    fn numbers_to_call_are_not_rooms() {
        for text in [
            "要不要打119啊？",
            "Should I ring 119 myself?",
            "我已经拨了120",
            "call 110 now?",
        ] {
            assert_eq!(place(text), (None, None, None), "{text}");
        }
        assert_eq!(place("Room 119 toilet blocked").2, some("119"));
        assert_eq!(place("3栋119室 漏水").2, some("119"));
    }

    #[test]
    fn numbers_that_are_not_storeys() {
        assert_eq!(slots("3号楼1101马桶堵了").floor, None);
        assert_eq!(slots("等了3个月").floor, None);
        assert_eq!(slots("the 5th time this month").floor, None);
        assert_eq!(slots("rated 4th best estate").floor, None);
    }

    #[test]
    fn english_forms_spoken_numbers_and_places_that_are_not_homes() {
        let s = slots("Building 8, Unit 1, Room 2003 bathroom tap dripping");
        assert_eq!(
            (s.building.as_deref(), s.unit.as_deref(), s.room.as_deref()),
            (Some("8"), Some("1"), Some("2003"))
        );
        assert_eq!(slots("Unit 12C, no hot water").room.as_deref(), Some("12C"));
        let s = slots("五栋二单元六零二 厨房漏水");
        assert_eq!(
            (s.building.as_deref(), s.unit.as_deref(), s.room.as_deref()),
            (Some("5"), Some("2"), Some("602"))
        );
        assert_eq!(slots("３栋１１０２ 漏水").room.as_deref(), Some("1102"));
        let s = slots("B2-136车位被占了");
        assert_eq!(s.spot.as_deref(), Some("B2-136车位"));
        assert_eq!((s.building, s.room), (None, None));
        assert_eq!(
            slots("地下二层136车位被人占了").spot.as_deref(),
            Some("地下二层136车位")
        );
        assert_eq!(
            slots("parking space B2-136 is blocked").spot.as_deref(),
            Some("parking space B2-136")
        );
        assert_eq!(
            slots("12号商铺门口有垃圾").spot.as_deref(),
            Some("12号商铺")
        );
        let s = slots("3栋大堂的灯坏了");
        assert_eq!(
            (s.building.as_deref(), s.spot.as_deref()),
            (Some("3"), Some("大堂"))
        );
        assert_eq!(
            slots("the club house light is broken").spot.as_deref(),
            Some("club house")
        );
        assert_eq!(
            slots("playground swing broken").spot.as_deref(),
            Some("playground")
        );
    }

    #[test]
    fn when_it_happens_is_not_when_to_visit() {
        assert_eq!(slots("凌晨一点还在唱K 3栋").time, None);
        assert_eq!(slots("楼上每天晚上十点后还在装修").time, None);
        assert_eq!(slots("the noise starts at 11pm every night").time, None);
        assert_eq!(slots("明天下午来修").time.as_deref(), Some("明天下午"));
        // A reply that is only a time answers "when suits you?".
        assert_eq!(slots("明天下午3点").time.as_deref(), Some("明天下午3点"));
    }
}
