//! The generic scoring engine: find every lexicon term in the canonical text, let longer
//! terms override the shorter ones inside them, cancel negated ones, discount a problem
//! the resident says is already fixed, then add up the weights per kind, department and
//! category and take the strongest urgency cue. Knows no words of its own.

use std::collections::HashMap;

use super::lexicon::{Lexicon, Role, Usage};
use super::model::Guess;
use crate::ticket::model::{Category, Department, Kind, Urgency};

/// The labels the engine settled on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Category,
    pub confidence: f32,
    /// Names of the cues that counted, for explaining a decision.
    pub cues: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    cue: u32,
    start: usize,
    end: usize,
    dropped: bool,
    negated: bool,
}

/// Punctuation that ends a clause: a negation or a split term never reaches across it.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '，' | '。' | '！' | '？' | '；' | ',' | '.' | '!' | '?' | ';' | '\n' | '、' | '…'
    )
}

/// Distance in reading units: one per Chinese character or symbol, one per English word.
fn units(gap: &str) -> Option<usize> {
    let mut n = 0;
    let mut in_word = false;
    for c in gap.chars() {
        if is_clause_break(c) {
            return None;
        }
        if c.is_ascii_alphanumeric() || c == '\'' {
            if !in_word {
                n += 1;
            }
            in_word = true;
        } else {
            in_word = false;
            if !c.is_whitespace() {
                n += 1;
            }
        }
    }
    Some(n)
}

/// Length in reading units, punctuation and spaces left out.
fn length(text: &str) -> usize {
    text.split(is_clause_break).filter_map(units).sum()
}

fn trim_span(text: &str, mut s: usize, mut e: usize) -> (usize, usize) {
    let b = text.as_bytes();
    while s < e && b[s] == b' ' {
        s += 1;
    }
    while e > s && b[e - 1] == b' ' {
        e -= 1;
    }
    (s, e)
}

fn within(text: &str, from: usize, to: usize, window: usize) -> bool {
    from <= to && units(&text[from..to]).is_some_and(|n| n <= window)
}

fn find_hits(lex: &Lexicon, text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut parts: HashMap<u32, Vec<(u8, usize, usize)>> = HashMap::new();
    for m in lex.automaton.find_overlapping_iter(text) {
        let (s, e) = trim_span(text, m.start(), m.end());
        for usage in &lex.usages[m.pattern().as_usize()] {
            match *usage {
                Usage::Whole { cue } => hits.push(Hit {
                    cue,
                    start: s,
                    end: e,
                    dropped: false,
                    negated: false,
                }),
                Usage::Part { phrase, part } => parts.entry(phrase).or_default().push((part, s, e)),
            }
        }
    }
    // A part inside a longer neutral term belongs to that term (电梯 in 电梯厅). Only
    // neutral terms shadow parts: 堵 in 堵死 must still complete 消防通道…堵.
    for found in parts.values_mut() {
        found.retain(|&(_, s, e)| {
            !hits.iter().any(|h| {
                lex.cues[h.cue as usize].role == Role::Neutral
                    && h.start <= s
                    && e <= h.end
                    && (h.end - h.start) > (e - s)
            })
        });
    }
    let gap = lex.settings.gap_window;
    for (phrase, found) in parts {
        let p = &lex.phrases[phrase as usize];
        for &(_, s0, e0) in found.iter().filter(|f| f.0 == 0) {
            let mut end = e0;
            let mut complete = true;
            for k in 1..p.parts {
                let next = found
                    .iter()
                    .filter(|f| {
                        f.0 == k && f.1 >= end && (p.anywhere || within(text, end, f.1, gap))
                    })
                    .min_by_key(|f| f.1);
                match next {
                    Some(&(_, _, e)) => end = e,
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                hits.push(Hit {
                    cue: p.cue,
                    start: s0,
                    end,
                    dropped: false,
                    negated: false,
                });
                break;
            }
        }
    }
    hits
}

/// A term inside a longer matched term says less than the longer one: drop it. Sorted
/// sweep, so a long message costs n log n, not n².
fn drop_contained(hits: &mut [Hit]) {
    let mut order: Vec<usize> = (0..hits.len()).collect();
    order.sort_by_key(|&i| (hits[i].start, std::cmp::Reverse(hits[i].end)));
    let mut max_end: Option<usize> = None;
    let mut k = 0;
    while k < order.len() {
        let span = (hits[order[k]].start, hits[order[k]].end);
        let mut j = k;
        while j < order.len() && (hits[order[j]].start, hits[order[j]].end) == span {
            j += 1;
        }
        // Every earlier group starts no later and, when it starts at the same place,
        // ends later: reaching this end means it strictly contains this span.
        let inside = max_end.is_some_and(|m| m >= span.1);
        for &i in &order[k..j] {
            hits[i].dropped = inside;
        }
        max_end = Some(max_end.map_or(span.1, |m| m.max(span.1)));
        k = j;
    }
}

fn mark_negated(lex: &Lexicon, text: &str, hits: &mut [Hit]) {
    let mut negations: Vec<(usize, usize)> = hits
        .iter()
        .filter(|h| !h.dropped && lex.cues[h.cue as usize].role == Role::Negation)
        .map(|h| (h.start, h.end))
        .collect();
    if negations.is_empty() {
        return;
    }
    negations.sort_unstable_by_key(|&(_, end)| end);
    let window = lex.settings.negation_window;
    for h in hits.iter_mut().filter(|h| !h.dropped) {
        if lex.cues[h.cue as usize].negatable {
            // Only the nearest negation before the term can reach it: any earlier one is
            // further away or behind the same clause break.
            let before = negations.partition_point(|&(_, end)| end <= h.start);
            let nearest = before > 0 && within(text, negations[before - 1].1, h.start, window);
            // A term that begins inside a negation shares its first word with it: 没有人被困
            // holds the trapped cue 有人…困, and 没有 negates it.
            let overlapping = negations[before..]
                .iter()
                .any(|&(start, _)| start < h.start);
            h.negated = nearest || overlapping;
        }
    }
}

pub fn read(lex: &Lexicon, text: &str, guess: Option<&Guess>) -> Reading {
    let mut hits = find_hits(lex, text);
    drop_contained(&mut hits);
    mark_negated(lex, text, &mut hits);
    let live = |role: Role| {
        hits.iter()
            .filter(move |h| !h.dropped && !h.negated)
            .filter(move |h| lex.cues[h.cue as usize].role == role)
    };
    let resolved = live(Role::Resolved).next().is_some() && live(Role::Recurrence).next().is_none();
    let minor = live(Role::Minor).next().is_some();

    let mut kind_score = [0f32; 5];
    let mut dept_score = [0f32; 4];
    let mut cat_score = [0f32; 8];
    let mut urgencies: Vec<(Option<Kind>, Urgency)> = Vec::new();
    let mut seen: Vec<u32> = Vec::new();
    let mut cues = Vec::new();
    for h in live(Role::Feature) {
        // A cue counts once however often it is repeated ("漏水漏得…漏水").
        if seen.contains(&h.cue) {
            continue;
        }
        seen.push(h.cue);
        let cue = &lex.cues[h.cue as usize];
        let factor = if resolved && cue.resolvable {
            lex.settings.resolved_factor
        } else {
            1.0
        };
        if let Some(k) = cue.kind {
            kind_score[index(Kind::ALL, k)] += cue.weight * factor;
        }
        if let Some(d) = cue.department {
            dept_score[index(Department::ALL, d)] += cue.department_weight * factor;
        }
        if let Some(c) = cue.category {
            cat_score[index(Category::ALL, c)] += cue.weight.max(1.0) * factor;
        }
        if factor == 1.0 {
            if let Some(u) = cue.urgency {
                urgencies.push((cue.kind, u));
            }
        }
        cues.push(cue.name.clone());
    }

    let settings = &lex.settings;
    let score = |k: Kind| kind_score[index(Kind::ALL, k)];
    let mut best = settings.kind_priority[0];
    for &k in &settings.kind_priority {
        if score(k) > score(best) {
            best = k;
        }
    }
    let top = score(best);
    let second = Kind::ALL
        .iter()
        .filter(|&&k| k != best)
        .map(|&k| score(k))
        .fold(0f32, f32::max);
    let weak = top < settings.min_score
        && !(top >= settings.backoff_score && length(text) >= settings.backoff_length);
    let (lexicon_kind, lexicon_confidence) = if weak {
        (Kind::Other, 0.4)
    } else if top < settings.min_score {
        (best, 0.3)
    } else {
        (best, (top / (top + second + 1.0)).clamp(0.05, 0.99))
    };
    // The lexicon's explicit rules stay authoritative: an emergency cue or a "it's fixed
    // already" keep its reading whatever the model thinks.
    let authoritative = resolved || urgencies.iter().any(|(_, u)| *u == Urgency::Emergency);
    let (kind, confidence) = match guess {
        Some(g) if !authoritative => {
            let (model_kind, p) = g.best_kind();
            if p >= settings.model_override_probability {
                (model_kind, p.min(0.9))
            } else if top < settings.min_score {
                if p >= settings.model_min_probability {
                    (model_kind, p.min(0.9))
                } else {
                    (lexicon_kind, lexicon_confidence)
                }
            } else {
                // A close call between kinds the lexicon saw: the model picks among them.
                let mut pick = best;
                for &k in Kind::ALL {
                    let s = score(k);
                    if s > 0.0
                        && top - s < settings.model_margin
                        && g.kind[index(Kind::ALL, k)] > g.kind[index(Kind::ALL, pick)]
                    {
                        pick = k;
                    }
                }
                (pick, lexicon_confidence)
            }
        }
        _ => (lexicon_kind, lexicon_confidence),
    };

    let rule = &lex.kinds[&kind];
    // A cue's urgency speaks for its own kind (a broken heater makes a repair urgent, not
    // a complaint about the service); an emergency speaks for every kind.
    let urgency = urgencies
        .iter()
        .filter(|(k, u)| *u == Urgency::Emergency || k.is_none_or(|k| k == kind))
        .map(|&(_, u)| u)
        .min();
    let urgency = match urgency {
        Some(u) if rule.urgency => {
            if minor && u == Urgency::Urgent {
                Urgency::Normal
            } else {
                u
            }
        }
        _ => Urgency::Normal,
    };
    let department = if rule.department_cues {
        strongest(Department::ALL, &dept_score)
            .or_else(|| {
                (kind == Kind::Complaint)
                    .then(|| guess.and_then(Guess::best_complaint_department))
                    .flatten()
                    .map(|(d, _)| d)
            })
            .unwrap_or(rule.department)
    } else {
        rule.department
    };
    let category = if rule.category_cues {
        strongest(Category::ALL, &cat_score).unwrap_or(rule.category)
    } else {
        rule.category
    };
    Reading {
        kind,
        urgency,
        department,
        category,
        confidence: (confidence * 100.0).round() / 100.0,
        cues,
    }
}

fn index<T: PartialEq>(all: &[T], x: T) -> usize {
    all.iter().position(|a| *a == x).unwrap_or(0)
}

/// The label with the highest positive score; the first listed wins a tie.
fn strongest<T: Copy>(all: &[T], scores: &[f32]) -> Option<T> {
    let mut best: Option<(T, f32)> = None;
    for (&label, &s) in all.iter().zip(scores) {
        if s > 0.0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((label, s));
        }
    }
    best.map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_count_characters_and_words() {
        assert_eq!(units("水管"), Some(2));
        assert_eq!(units(" the water supply "), Some(3));
        assert_eq!(units(" "), Some(0));
        assert_eq!(units("，"), None);
    }

    #[test]
    fn only_strictly_longer_terms_shadow_shorter_ones() {
        let mk = |cue, start, end| Hit {
            cue,
            start,
            end,
            dropped: false,
            negated: false,
        };
        let mut hits = vec![
            mk(0, 0, 6),
            mk(1, 0, 3),
            mk(2, 3, 6),
            mk(3, 0, 6),
            mk(4, 2, 8),
        ];
        drop_contained(&mut hits);
        let dropped: Vec<bool> = hits.iter().map(|h| h.dropped).collect();
        assert_eq!(dropped, vec![false, true, true, false, false]);
    }

    #[test]
    fn strongest_takes_the_highest_positive_score() {
        let all = [Department::Engineering, Department::Security];
        assert_eq!(strongest(&all, &[0.0, 0.0]), None);
        assert_eq!(strongest(&all, &[1.0, 2.0]), Some(Department::Security));
        assert_eq!(strongest(&all, &[2.0, 2.0]), Some(Department::Engineering));
    }
}
