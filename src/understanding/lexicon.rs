//! The lexicon: every word the classifier knows, with what it means, read from
//! `config/lexicon.toml` and compiled once into a single Aho-Corasick automaton. A
//! deployment extends the vocabulary by editing the file, never the code.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use anyhow::Context;
use serde::Deserialize;

use super::normalize::{canonical_term, prepare, Replacer};
use super::slots::{SlotGrammar, SlotWords};
use crate::ticket::model::{Category, Department, Kind, Urgency};

/// Separates the parts of a term that may have a few words between them: `怎么…报修`.
pub const GAP: char = '…';
/// Separates parts that may be anywhere later in the message: `煤气……气味`.
pub const WIDE_GAP: &str = "……";
const MAX_PARTS: usize = 4;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    settings: Settings,
    kinds: BTreeMap<Kind, KindRule>,
    #[serde(default)]
    replace: BTreeMap<String, String>,
    cues: Vec<CueFile>,
    slots: SlotWords,
    #[serde(default)]
    timing: Timing,
    #[serde(default)]
    hazard: Hazard,
}

/// Words that show a hazard at all (a smell, smoke, sparks, someone stuck, water pouring,
/// an injury). The semantic tier's "possible emergency" needs one: a message with none is
/// an ordinary repair however close its wording sits to an emergency's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hazard {
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The resident is unsure of what they noticed ("好像有一点瓦斯味?", "not sure if it's
    /// still there"): asked whether it is still happening rather than filed at once.
    #[serde(default)]
    pub hedges: Vec<String>,
    /// The resident cannot tell whether it is still happening ("现在又闻不太出来了",
    /// "不知道还有没有"): asked, even when the message also says "now".
    #[serde(default)]
    pub fading: Vec<String>,
    /// Names of things that hold an evidence word but show no hazard ("fire door", "灭火器",
    /// "the shutter is stuck"): taken out before the evidence is looked for.
    #[serde(default)]
    pub not_evidence: Vec<String>,
    /// Words that ask where a hazard comes from ("那里", "where", "邊度"): a hedge followed
    /// by them is unsure of the source, not of the hazard.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Water that only drips or seeps ("天花板在滴水", "the pipe is leaking, small only"):
    /// a repair, not a flood, unless the message shows a hazard word or one of `rising`
    /// ("越滴越快", "家具全泡了", "spreading fast").
    #[serde(default)]
    pub seeping: Vec<String>,
    #[serde(default)]
    pub rising: Vec<String>,
}

impl Hazard {
    /// Whether the message (already `normalize::prepare`d) shows any hazard.
    pub fn evident(&self, prepared: &str) -> bool {
        let mut rest = prepared.to_owned();
        for phrase in &self.not_evidence {
            rest = rest.replace(phrase.as_str(), " ");
        }
        self.evidence.iter().any(|t| contains_term(&rest, t))
    }

    /// Whether the message (already `normalize::prepare`d) says the resident is unsure of
    /// the hazard: a hedge with the hazard told after it ("好像有一点瓦斯味"). A hedge that
    /// only follows it is about something else ("有煤气味 好像是灶台那里": sure of the
    /// smell, unsure where from).
    ///
    /// A hedge on a number is about a detail, not the hazard ("stopped between floors, maybe
    /// 12 and 13", "spreading into the hallway, maybe 2cm deep").
    pub fn hedged(&self, prepared: &str) -> bool {
        self.hedges.iter().any(|h| {
            find_terms(prepared, h).any(|at| {
                let after = &prepared[at + h.len()..];
                let on_a_number = after.trim_start().starts_with(|c: char| c.is_ascii_digit());
                !on_a_number && (self.evident(after) || !self.about_source(after))
            })
        })
    }

    /// What follows a hedge asks where a hazard comes from, not whether it is there ("好像是
    /// 灶台那里", "not sure where it's coming from").
    fn about_source(&self, after_hedge: &str) -> bool {
        let clause = after_hedge
            .split(|c: char| ",，.。!！;；?？".contains(c))
            .next()
            .unwrap_or_default();
        self.sources.iter().any(|w| contains_term(clause, w))
    }

    /// Whether the message (already `normalize::prepare`d) tells water that only drips or
    /// seeps, and nothing worse.
    pub fn only_seeping(&self, prepared: &str) -> bool {
        self.seeping.iter().any(|t| contains_term(prepared, t))
            && !self.rising.iter().any(|t| contains_term(prepared, t))
            && !self.evident(prepared)
    }

    /// Whether the message (already `normalize::prepare`d) says the hazard may have stopped.
    pub fn fading(&self, prepared: &str) -> bool {
        self.fading.iter().any(|t| contains_term(prepared, t))
    }
}

/// When a hazard happens: over (上周, yesterday), imagined (万一, if I ever) or going on now
/// (还在, still). A hazard that is over or imagined is not an emergency unless the message
/// also says it is going on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    #[serde(default)]
    pub past: Vec<String>,
    #[serde(default)]
    pub hypothetical: Vec<String>,
    #[serde(default)]
    pub ongoing: Vec<String>,
    /// Said to be over now ("it's gone now", "水已经退了"): their "now" is no sign that it
    /// goes on.
    #[serde(default)]
    pub over: Vec<String>,
    /// Phrases with an ongoing word that do not say the hazard goes on ("到现在也没人来",
    /// "现在是好了", "still no reply"): taken out before the ongoing words are looked for.
    #[serde(default)]
    pub not_ongoing: Vec<String>,
}

/// Terms in the form messages are matched in.
fn prepared_terms(v: Vec<String>) -> Vec<String> {
    v.iter()
        .map(|t| super::normalize::prepare(t.trim()))
        .filter(|t| !t.is_empty())
        .collect()
}

impl Timing {
    fn prepared(self) -> Self {
        let fold = prepared_terms;
        Self {
            past: fold(self.past),
            hypothetical: fold(self.hypothetical),
            ongoing: fold(self.ongoing),
            over: fold(self.over),
            not_ongoing: fold(self.not_ongoing),
        }
    }

    /// Whether the message (already `normalize::prepare`d) places its hazard in the past
    /// or in a question about "what if", and says nothing of it going on now.
    pub fn not_now(&self, prepared: &str) -> bool {
        let has = |terms: &[String]| terms.iter().any(|t| contains_term(prepared, t));
        let over = has(&self.over);
        (over || has(&self.past) || has(&self.hypothetical)) && (over || !self.ongoing(prepared))
    }

    /// Whether the message (already `normalize::prepare`d) says the hazard goes on now.
    pub fn ongoing(&self, prepared: &str) -> bool {
        let mut rest = prepared.to_owned();
        for phrase in &self.not_ongoing {
            rest = rest.replace(phrase.as_str(), " ");
        }
        self.ongoing.iter().any(|t| contains_term(&rest, t))
    }
}

/// Chinese terms match anywhere; English ones as whole words.
fn contains_term(text: &str, term: &str) -> bool {
    find_terms(text, term).next().is_some()
}

/// Where `term` occurs in `text`; an English term only as whole words.
fn find_terms<'a>(text: &'a str, term: &'a str) -> impl Iterator<Item = usize> + 'a {
    let bytes = text.as_bytes();
    let ascii = term.is_ascii();
    text.match_indices(term)
        .map(|(at, _)| at)
        .filter(move |&at| {
            if !ascii {
                return true;
            }
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + term.len()).copied();
            !before.is_some_and(|b| b.is_ascii_alphanumeric())
                && !after.is_some_and(|b| b.is_ascii_alphanumeric())
        })
}

/// Global knobs of the scoring engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Below this total a message is `other`…
    pub min_score: f32,
    /// …unless it is at least `backoff_length` characters/words long and its best kind
    /// has at least this much evidence (a named appliance, a question word): a real
    /// sentence with weak evidence is more likely that kind than chit-chat.
    pub backoff_score: f32,
    pub backoff_length: usize,
    /// How far (in Chinese characters or English words) a negation reaches forward.
    pub negation_window: usize,
    /// How far apart the parts of a `A…B` term may be.
    pub gap_window: usize,
    /// What is left of a repair cue's weight when the message says it is already fixed.
    pub resolved_factor: f32,
    /// Who wins a tie, first first.
    pub kind_priority: Vec<Kind>,
    /// The statistical model overrules weak lexicon evidence (best kind below
    /// `min_score`) only when it is at least this sure of its kind.
    #[serde(default = "default_model_min_probability")]
    pub model_min_probability: f32,
    /// Lexicon kinds within this much of the best one are a close call, settled by the
    /// model's probabilities.
    #[serde(default = "default_model_margin")]
    pub model_margin: f32,
    /// At this probability the model's kind wins over any lexicon reading that is not
    /// authoritative (an emergency, an "already fixed"); above 1 it never does.
    #[serde(default = "default_model_override_probability")]
    pub model_override_probability: f32,
}

fn default_model_override_probability() -> f32 {
    1.1
}

fn default_model_min_probability() -> f32 {
    0.5
}

fn default_model_margin() -> f32 {
    1.0
}

/// What a kind implies when no cue says otherwise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    pub department: Department,
    pub category: Category,
    /// Whether urgency cues count for this kind (inquiries are never urgent).
    pub urgency: bool,
    /// Whether department cues choose the department (complaints) or the default stands.
    pub department_cues: bool,
    pub category_cues: bool,
}

/// What a cue does besides adding weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Adds weight to a kind, a department, a category; may set urgency.
    #[default]
    Feature,
    /// Cancels the feature right after it: 没/不/no/not.
    Negation,
    /// The problem is over: 修好了, fixed. Repair cues lose most of their weight.
    Resolved,
    /// The problem is back: 又, again. Overrides `resolved`.
    Recurrence,
    /// The problem is small: 有点, a bit. Urgent becomes normal; emergencies stay.
    Minor,
    /// Does nothing but shadow the shorter terms inside it: 不停 is not a negation.
    Neutral,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CueFile {
    name: String,
    #[serde(default)]
    role: Role,
    kind: Option<Kind>,
    weight: Option<f32>,
    urgency: Option<Urgency>,
    department: Option<Department>,
    department_weight: Option<f32>,
    category: Option<Category>,
    negatable: Option<bool>,
    resolvable: Option<bool>,
    terms: Vec<String>,
}

/// One group of terms that mean the same thing to the engine.
#[derive(Debug, Clone)]
pub struct Cue {
    pub name: String,
    pub role: Role,
    pub kind: Option<Kind>,
    pub weight: f32,
    pub urgency: Option<Urgency>,
    pub department: Option<Department>,
    pub department_weight: f32,
    pub category: Option<Category>,
    pub negatable: bool,
    pub resolvable: bool,
}

/// Which cue a pattern of the automaton belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Usage {
    Whole { cue: u32 },
    Part { phrase: u32, part: u8 },
}

/// A term written `A…B`: its parts must appear in order, close together. Written `A……B`
/// they may be anywhere later in the message, across clauses: "煤气炉熄了火，但还有好大
/// 一阵气味" names the gas and the smell far apart.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub cue: u32,
    pub parts: u8,
    pub anywhere: bool,
}

#[derive(Debug, Clone)]
pub struct Lexicon {
    pub settings: Settings,
    pub kinds: HashMap<Kind, KindRule>,
    pub replacer: Replacer,
    pub cues: Vec<Cue>,
    pub automaton: AhoCorasick,
    pub usages: Vec<Vec<Usage>>,
    pub phrases: Vec<Phrase>,
    pub slots: SlotGrammar,
    pub timing: Timing,
    pub hazard: Hazard,
}

impl Lexicon {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the lexicon {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("malformed lexicon {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: LexiconFile = toml::from_str(text)?;
        Self::compile(file)
    }

    fn compile(file: LexiconFile) -> anyhow::Result<Self> {
        let settings = file.settings;
        for kind in Kind::ALL {
            anyhow::ensure!(
                file.kinds.contains_key(kind),
                "[kinds.{kind}] is missing: every kind needs its defaults"
            );
            anyhow::ensure!(
                settings.kind_priority.contains(kind),
                "settings.kind_priority must list every kind; `{kind}` is missing"
            );
        }
        anyhow::ensure!(
            (0.0..=1.0).contains(&settings.resolved_factor),
            "settings.resolved_factor must be between 0 and 1"
        );

        let mut pairs = Vec::with_capacity(file.replace.len());
        for (from, to) in &file.replace {
            let from = prepare(from);
            anyhow::ensure!(!from.trim().is_empty(), "[replace] has an empty key");
            pairs.push((from, prepare(to)));
        }
        let replacer = Replacer::new(pairs).context("cannot build the [replace] table")?;

        let mut cues = Vec::with_capacity(file.cues.len());
        let mut patterns: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut usages: Vec<Vec<Usage>> = Vec::new();
        let mut phrases = Vec::new();
        for (n, c) in file.cues.into_iter().enumerate() {
            let label = if c.name.is_empty() {
                format!("#{}", n + 1)
            } else {
                c.name.clone()
            };
            anyhow::ensure!(!c.terms.is_empty(), "cue `{label}` has no terms");
            let weight = c.weight.unwrap_or(1.0);
            anyhow::ensure!(
                weight.is_finite() && weight >= 0.0,
                "cue `{label}`: weight must be a non-negative number"
            );
            let is_feature = c.role == Role::Feature;
            anyhow::ensure!(
                is_feature
                    || (c.kind.is_none()
                        && c.urgency.is_none()
                        && c.department.is_none()
                        && c.category.is_none()),
                "cue `{label}`: a {:?} cue cannot carry a kind, urgency, department or category",
                c.role
            );
            anyhow::ensure!(
                !is_feature
                    || c.kind.is_some()
                    || c.department.is_some()
                    || c.category.is_some()
                    || c.urgency.is_some(),
                "cue `{label}` does nothing: give it a kind, urgency, department or category"
            );
            let cue_id = cues.len() as u32;
            for term in &c.terms {
                let anywhere = term.contains(WIDE_GAP);
                let parts: Vec<String> = term
                    .replace(WIDE_GAP, &GAP.to_string())
                    .split(GAP)
                    .map(|p| canonical_term(p, &replacer))
                    .collect();
                anyhow::ensure!(
                    parts.iter().all(|p| !p.trim().is_empty()),
                    "cue `{label}`: term `{term}` is empty or has an empty part"
                );
                anyhow::ensure!(
                    parts.len() <= MAX_PARTS,
                    "cue `{label}`: term `{term}` has more than {MAX_PARTS} parts"
                );
                let phrase = (parts.len() > 1).then(|| {
                    phrases.push(Phrase {
                        cue: cue_id,
                        parts: parts.len() as u8,
                        anywhere,
                    });
                    phrases.len() as u32 - 1
                });
                for (k, part) in parts.into_iter().enumerate() {
                    let id = *index.entry(part.clone()).or_insert_with(|| {
                        patterns.push(part);
                        usages.push(Vec::new());
                        patterns.len() - 1
                    });
                    usages[id].push(match phrase {
                        Some(p) => Usage::Part {
                            phrase: p,
                            part: k as u8,
                        },
                        None => Usage::Whole { cue: cue_id },
                    });
                }
            }
            cues.push(Cue {
                name: label,
                role: c.role,
                kind: c.kind,
                weight,
                urgency: c.urgency,
                department: c.department,
                department_weight: c.department_weight.unwrap_or(weight),
                category: c.category,
                negatable: c
                    .negatable
                    .unwrap_or(is_feature && c.kind == Some(Kind::Repair)),
                resolvable: c.resolvable.unwrap_or(c.kind == Some(Kind::Repair)),
            });
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .context("cannot compile the lexicon terms")?;
        let slots = SlotGrammar::compile(&file.slots)?;
        Ok(Self {
            settings,
            kinds: file.kinds.into_iter().collect(),
            replacer,
            cues,
            automaton,
            usages,
            phrases,
            slots,
            timing: file.timing.prepared(),
            hazard: Hazard {
                evidence: prepared_terms(file.hazard.evidence),
                hedges: prepared_terms(file.hazard.hedges),
                fading: prepared_terms(file.hazard.fading),
                not_evidence: prepared_terms(file.hazard.not_evidence),
                sources: prepared_terms(file.hazard.sources),
                seeping: prepared_terms(file.hazard.seeping),
                rising: prepared_terms(file.hazard.rising),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[settings]
min_score = 2.0
backoff_score = 1.0
backoff_length = 5
negation_window = 2
gap_window = 6
resolved_factor = 0.1
kind_priority = ["repair", "complaint", "inquiry", "suggestion", "other"]

[kinds.repair]
department = "engineering"
category = "equipment"
urgency = true
department_cues = false
category_cues = true
[kinds.complaint]
department = "customer_service"
category = "services"
urgency = true
department_cues = true
category_cues = true
[kinds.inquiry]
department = "customer_service"
category = "services"
urgency = false
department_cues = false
category_cues = false
[kinds.suggestion]
department = "customer_service"
category = "services"
urgency = false
department_cues = false
category_cues = false
[kinds.other]
department = "customer_service"
category = "other"
urgency = false
department_cues = false
category_cues = false

[[cues]]
name = "leak"
kind = "repair"
weight = 3
terms = ["漏水"]

[slots]
building_suffixes = ["栋"]
building_prefixes = []
unit_suffixes = []
room_suffixes = []
room_prefixes = []
floor_suffixes = []
floor_prefixes = []
number_units = []
time_words = []
time_prefixes = []
time_suffixes = []
clock_marks = []
"#;

    #[test]
    fn a_minimal_lexicon_compiles() {
        let lex = Lexicon::parse(MINIMAL).unwrap();
        assert_eq!(lex.cues.len(), 1);
        assert!(lex.cues[0].resolvable);
    }

    #[test]
    fn the_shipped_lexicon_compiles() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/lexicon.toml");
        Lexicon::load(&path).unwrap();
    }

    #[test]
    fn syntax_errors_are_reported() {
        let err = Lexicon::parse("[settings\nmin_score = 1").unwrap_err();
        assert!(err.to_string().contains("TOML") || !err.to_string().is_empty());
    }

    #[test]
    fn unknown_labels_are_rejected() {
        let bad = MINIMAL.replace("kind = \"repair\"", "kind = \"fix\"");
        assert!(Lexicon::parse(&bad).is_err());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let bad = MINIMAL.replace("weight = 3", "wieght = 3");
        assert!(Lexicon::parse(&bad).is_err());
    }

    #[test]
    fn a_missing_kind_is_rejected() {
        let bad = MINIMAL.replace("[kinds.other]", "[kinds.unused]");
        assert!(Lexicon::parse(&bad).is_err());
    }

    #[test]
    fn empty_terms_are_rejected() {
        let bad = MINIMAL.replace("terms = [\"漏水\"]", "terms = [\"漏水\", \" \"]");
        let err = Lexicon::parse(&bad).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let bad = MINIMAL.replace("terms = [\"漏水\"]", "terms = [\"怎么…\"]");
        assert!(Lexicon::parse(&bad).is_err());
    }

    #[test]
    fn a_cue_that_does_nothing_is_rejected() {
        let bad = MINIMAL.replace("kind = \"repair\"\n", "");
        assert!(Lexicon::parse(&bad).is_err());
    }

    #[test]
    fn loading_a_missing_file_names_it() {
        let err = Lexicon::load(Path::new("/nonexistent/lexicon.toml")).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/lexicon.toml"));
    }
}
