//! Turning a message (and every lexicon term) into the one canonical form the matcher
//! reads: half-width, lowercase, simplified script, dialect words and typos replaced by the
//! lexicon's table, English words stemmed and fenced by single spaces so that a term like
//! ` no water ` only matches whole words.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::script::{fold_width, to_simplified};

/// The lexicon's replacement table (dialect, homophones, typos), compiled once.
#[derive(Debug, Clone)]
pub struct Replacer {
    automaton: Option<AhoCorasick>,
    with: Vec<String>,
}

impl Replacer {
    /// `pairs` are already in canonical script and case (see [`prepare`]).
    pub fn new(pairs: Vec<(String, String)>) -> anyhow::Result<Self> {
        if pairs.is_empty() {
            return Ok(Self {
                automaton: None,
                with: Vec::new(),
            });
        }
        let (from, with): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&from)?;
        Ok(Self {
            automaton: Some(automaton),
            with,
        })
    }

    pub fn apply(&self, text: &str) -> String {
        match &self.automaton {
            Some(ac) => ac.replace_all(text, &self.with),
            None => text.to_owned(),
        }
    }
}

/// Half-width, lowercase, simplified: the form slots are read from. One char in, one
/// char out before the script conversion, so positions usually map back to the original.
pub fn prepare(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| fold_width(c).to_lowercase().next().unwrap_or(c))
        .collect();
    to_simplified(&folded)
}

/// The matcher's form of a whole message: prepared, replaced, tokenised.
pub fn canonical(text: &str, replacer: &Replacer) -> String {
    canonical_prepared(&prepare(text), replacer)
}

/// [`canonical`] from text that has already been through [`prepare`].
pub fn canonical_prepared(prepared: &str, replacer: &Replacer) -> String {
    tokenize(&replacer.apply(prepared))
}

/// The matcher's form of one lexicon term. A term that begins or ends with an English word
/// keeps the fencing space there, so it cannot match inside a longer word.
pub fn canonical_term(term: &str, replacer: &Replacer) -> String {
    let core = tokenize(&replacer.apply(&prepare(term)));
    fence(core.trim_matches(' '))
}

fn fence(core: &str) -> String {
    let mut out = String::with_capacity(core.len() + 2);
    if core.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        out.push(' ');
    }
    out.push_str(core);
    if core.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        out.push(' ');
    }
    out
}

/// English words (runs of ASCII letters and digits) are stemmed and surrounded by single
/// spaces; whitespace collapses to one space; everything else (Chinese, punctuation,
/// emoji) passes through untouched.
pub fn tokenize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || (c == '\'' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        flush_word(&mut out, &mut word);
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    flush_word(&mut out, &mut word);
    out
}

fn flush_word(out: &mut String, word: &mut String) {
    if word.is_empty() {
        return;
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    // "power's gone", "the lift's stuck": the clitic carries nothing a term needs.
    let trimmed = word.trim_end_matches("'s").trim_end_matches('\'');
    out.push_str(&stem(trimmed));
    out.push(' ');
    word.clear();
}

/// A deliberately small English stemmer: it only has to map the inflections residents
/// use (leaks, leaking, leaked) onto one form, and it runs on lexicon terms too, so
/// consistency matters more than linguistic accuracy.
pub fn stem(word: &str) -> String {
    let w = word;
    if w.len() <= 3 || !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return w.to_owned();
    }
    if let Some(base) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        return format!("{base}y");
    }
    if let Some(base) = w.strip_suffix("ied").filter(|b| b.len() >= 2) {
        return format!("{base}y");
    }
    if let Some(base) = w.strip_suffix("ing").filter(|b| b.len() >= 3) {
        return undouble(base);
    }
    if let Some(base) = w.strip_suffix("ed").filter(|b| b.len() >= 3) {
        return undouble(base);
    }
    if let Some(base) = w.strip_suffix("es") {
        if ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|s| base.ends_with(s))
        {
            return base.to_owned();
        }
    }
    if w.ends_with('s') && !["ss", "us", "is"].iter().any(|s| w.ends_with(s)) {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

/// `stopp` → `stop`, `clogg` → `clog`; `fill`, `pass` and `buzz` keep their pairs.
fn undouble(base: &str) -> String {
    let b = base.as_bytes();
    let n = b.len();
    if n >= 2 && b[n - 1] == b[n - 2] && !b"aeioulsz".contains(&b[n - 1]) {
        return base[..n - 1].to_owned();
    }
    base.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Replacer {
        Replacer::new(Vec::new()).unwrap()
    }

    #[test]
    fn english_words_are_fenced_and_stemmed() {
        assert_eq!(tokenize("pipes leaking!"), " pipe leak !");
        assert_eq!(tokenize("lift困人了"), " lift 困人了");
        assert_eq!(tokenize("门禁card刷不开"), "门禁 card 刷不开");
        assert_eq!(tokenize("power's gone"), " power gone ");
    }

    #[test]
    fn stemming_maps_inflections_together() {
        for (a, b) in [
            ("leaks", "leak"),
            ("leaking", "leak"),
            ("leaked", "leak"),
            ("clogged", "clog"),
            ("stopped", "stop"),
            ("flies", "fly"),
            ("boxes", "box"),
            ("pass", "pass"),
            ("gas", "gas"),
        ] {
            assert_eq!(stem(a), b, "{a}");
        }
    }

    #[test]
    fn terms_get_word_fences_only_at_english_edges() {
        let r = none();
        assert_eq!(canonical_term("No Water", &r), " no water ");
        assert_eq!(canonical_term("漏水", &r), "漏水");
        assert_eq!(canonical_term("lift困人", &r), " lift 困人");
    }

    #[test]
    fn canonical_text_is_simplified_lowercase_and_replaced() {
        let r = Replacer::new(vec![
            ("电题".into(), "电梯".into()),
            ("咗".into(), "了".into()),
        ])
        .unwrap();
        assert_eq!(canonical("電題壞咗", &r), "电梯坏了");
        assert_eq!(canonical("ＬＩＦＴ", &r), " lift ");
    }
}
