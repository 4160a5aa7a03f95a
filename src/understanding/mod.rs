//! Reading what residents write: kind, urgency, department, category and the slots
//! (address, phone, time). Pure functions over text and a configurable lexicon; no I/O
//! beyond loading the lexicon once.
//!
//! The path of a message: [`normalize`] folds width, case and script and applies the
//! lexicon's dialect/typo table; [`scoring`] matches the lexicon's terms (one
//! Aho-Corasick pass) and weighs them; [`model`], a naive Bayes trained at load time on
//! labelled lines shipped beside the lexicon, settles the kind (and a complaint's
//! department) where the lexicon's evidence is weak or close; [`slots`] scans the place,
//! phone and time.

pub mod corpus;
pub mod encoder;
pub mod heads;
pub mod intent;
mod lexicon;
mod linalg;
mod mask;
mod model;
mod ngrams;
mod normalize;
pub mod score;
mod scoring;
mod script;
mod slots;
pub mod train;

#[cfg(test)]
mod eval;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::ticket::model::{Category, Department, Kind, Urgency};

use anyhow::Context;

pub use heads::{Evidence, Heads};
pub use lexicon::Lexicon;
pub use mask::{semantic_text, without_address};
use model::Model;
pub use script::{detect_locale, is_cjk, to_simplified};

/// What the classifier read in one message (contract.md's `classify` line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub text: String,
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Category,
    pub confidence: f32,
    pub slots: Slots,
    /// Hazard evidence short of a sure emergency: the dialogue gives the safety guidance
    /// and asks one yes/no question before filing (contract.md's `possible_emergency`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub possible_emergency: bool,
    /// The hazard the message tells of is over, in the past or imagined ("昨晚被困电梯",
    /// "如果闻到煤气味"), and nothing in it says it goes on: its "119" is a story, not a call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hazard_over: bool,
    /// The resident is unsure of the hazard or whether it goes on ("好像有一点瓦斯味",
    /// "现在好像又没事了"): asked about, never made sure by another need in the message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsure: bool,
    /// The message shows a hazard in its own words (a hazard word, or the lexicon's own
    /// emergency): a place given when asked for one ("停車場B2嗰層,近電梯大堂嗰度") that
    /// shows none is a place, whatever the encoder makes of its words.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub evident: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Slots {
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub phone: Option<String>,
    pub time: Option<String>,
    /// The storey (`12楼`, `B座12楼`, `12/F`, `floor 6`, `25th floor`): staff need it to find
    /// a corridor or lift-lobby fault that has no room number.
    #[serde(default)]
    pub floor: Option<String>,
    /// A place that is not a home, as the resident named it: a parking space (`B2-136车位`),
    /// a shop, a shared area (`大堂`, `club house`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<String>,
    /// The word the resident named the building with where it is theirs to keep: Hong Kong's
    /// "5座", or the "樓"/"閣" of a named block ("泰和樓"), read back as they wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_mark: Option<String>,
}

impl Slots {
    pub fn has_place(&self) -> bool {
        self.building.is_some() || self.room.is_some() || self.spot.is_some()
    }
}

/// The classifier with its lexicon loaded and compiled, and the semantic heads when a
/// heads file is configured.
#[derive(Debug, Clone)]
pub struct Classifier {
    lexicon: Lexicon,
    model: Model,
    semantic: Option<std::sync::Arc<Semantic>>,
}

/// The heads with their memory decoded once.
#[derive(Debug)]
struct Semantic {
    heads: Heads,
    recall: heads::Recall,
    /// Both tiers' reading of texts read before: the nearest-lines search is most of the
    /// tier's own cost, and a reading depends only on the text (its vector too).
    readings: std::sync::Mutex<lru::LruCache<String, Classification>>,
}

/// Readings kept, as many as the encoder keeps vectors by default.
const READINGS_KEPT: usize = 20_000;

/// The training file's name, looked for beside the lexicon.
pub const TRAINING_FILE: &str = "nlu-training.jsonl";

#[derive(Deserialize)]
struct TrainingLine {
    text: String,
    kind: Kind,
    department: Department,
}

impl Default for Classifier {
    /// The shipped `config/lexicon.toml`, embedded at build time (for tests and tools
    /// that have no configuration); a unit test proves it compiles.
    fn default() -> Self {
        let lexicon = Lexicon::parse(include_str!("../../config/lexicon.toml"))
            .expect("the shipped config/lexicon.toml compiles");
        Self::with_training(lexicon, include_str!("../../config/nlu-training.jsonl"))
            .expect("the shipped config/nlu-training.jsonl parses")
    }
}

impl Classifier {
    /// Reads and compiles the lexicon and trains the model on `nlu-training.jsonl` in the
    /// same folder (without that file the lexicon works alone); a malformed file is an
    /// error that names the file and what is wrong with it.
    pub fn load(lexicon: &std::path::Path) -> anyhow::Result<Self> {
        // The script converter builds its tables on first use; pay that here, not on
        // the first resident's message.
        to_simplified("預熱");
        let training_path = lexicon.with_file_name(TRAINING_FILE);
        let lexicon = Lexicon::load(lexicon)?;
        let training = match std::fs::read_to_string(&training_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read {}", training_path.display())))
            }
        };
        Self::with_training(lexicon, &training)
            .with_context(|| format!("malformed {}", training_path.display()))
    }

    /// The lexicon plus a model trained on JSON lines `{"text","kind","department",…}`.
    pub fn with_training(lexicon: Lexicon, jsonl: &str) -> anyhow::Result<Self> {
        let mut samples = Vec::new();
        for (n, line) in jsonl.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let l: TrainingLine =
                serde_json::from_str(line).with_context(|| format!("line {}", n + 1))?;
            samples.push(model::Sample {
                canonical: normalize::canonical(head(&l.text), &lexicon.replacer),
                kind: l.kind,
                department: l.department,
            });
        }
        let model = Model::train(&samples);
        Ok(Self {
            lexicon,
            model,
            semantic: None,
        })
    }

    /// This classifier with the semantic heads read from `path`.
    pub fn with_heads_file(self, path: &std::path::Path) -> anyhow::Result<Self> {
        self.with_heads(Heads::load(path)?)
            .with_context(|| format!("malformed {}", path.display()))
    }

    pub fn with_heads(mut self, heads: Heads) -> anyhow::Result<Self> {
        let recall = heads::Recall::decode(&heads.memory, heads.dim)?;
        let kept =
            std::num::NonZeroUsize::new(READINGS_KEPT).unwrap_or(std::num::NonZeroUsize::MIN);
        let readings = std::sync::Mutex::new(lru::LruCache::new(kept));
        self.semantic = Some(std::sync::Arc::new(Semantic {
            heads,
            recall,
            readings,
        }));
        Ok(self)
    }

    pub fn heads(&self) -> Option<&Heads> {
        self.semantic.as_deref().map(|s| &s.heads)
    }

    /// Both tiers: the lexicon's reading fused with the heads' reading of `embedding`.
    /// Without heads or a vector (the encoder down or slow) the lexicon answers alone.
    pub fn classify_with(&self, text: &str, embedding: Option<&[f32]>) -> Classification {
        let (Some(semantic), Some(e)) = (self.semantic.as_deref(), embedding) else {
            return self.classify(text);
        };
        let kept = |cache: &std::sync::Mutex<lru::LruCache<String, Classification>>| {
            cache.lock().ok().and_then(|mut c| c.get(text).cloned())
        };
        if let Some(c) = kept(&semantic.readings) {
            return c;
        }
        let c = self.read_both(semantic, text, e);
        if let Ok(mut cache) = semantic.readings.lock() {
            cache.put(text.to_owned(), c.clone());
        }
        c
    }

    fn read_both(&self, semantic: &Semantic, text: &str, e: &[f32]) -> Classification {
        let mut c = self.classify(text);
        let lexicon_urgency = c.urgency;
        let heads = &semantic.heads;
        if e.len() != heads.dim {
            return c;
        }
        let near = semantic.recall.nearest(e, heads.memory.k);
        let grams = ngrams::features(
            &semantic_text(head(text)),
            heads.ngram_dim,
            heads.ngram_scale,
        );
        let vote = c.confidence;
        let (Some(kind), Some(urgency), Some(department), Some(category)) = (
            heads.read(e, &grams, &near, c.kind, vote),
            heads.read(e, &grams, &near, c.urgency, vote),
            heads.read(e, &grams, &near, c.department, vote),
            heads.read(e, &grams, &near, c.category, vote),
        ) else {
            return c;
        };
        let (k, p) = kind.best();
        c.kind = k;
        c.confidence = (p * 100.0).round() / 100.0;
        c.department = department.best().0;
        c.category = category.best().0;
        // A hazard that is over, or only imagined, is told, not raised: no emergency and no
        // question about it, unless the message also says it is still going on.
        let prepared = normalize::prepare(head(text));
        let emergency = if c.hazard_over {
            0.0
        } else {
            urgency.of(Urgency::Emergency)
        };
        let evidence = match self.evidence(&prepared, lexicon_urgency) {
            Evidence::None if heads.near_emergency(&near) >= heads::NEAR_EVIDENCE => Evidence::Near,
            v => v,
        };
        let evident = evidence >= Evidence::Hazard;
        c.evident = evident;
        // A resident unsure of what they noticed ("好像有一点瓦斯味?") is asked whether it
        // is still happening, with the guidance, rather than filed at once.
        // "一直冒煙…好像有人家裡失火了" is sure of the smoke and unsure only of its cause.
        // "现在又闻不太出来了" says "now" of a smell that may have gone: asked too, and so is a
        // hazard told in no hazard word of ours by a resident who cannot tell whether it goes
        // on ("好似由天花漏落嚟…冇睇清楚係咪仲漏緊"). A hedge on a detail of it is no doubt
        // of it ("spreading into the hallway, maybe 2cm deep").
        let unsure = self.lexicon.hazard.fading(&prepared)
            || evident
                && self.lexicon.hazard.hedged(&prepared)
                && !self.lexicon.timing.ongoing(&prepared);
        c.unsure = unsure;
        // Water that only drips or seeps is a repair, however near a flood's wording it
        // sits (the label scheme's emergency is a burst pipe or flooding).
        let short_of_emergency = if urgency.of(Urgency::Urgent) > urgency.of(Urgency::Normal) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        };
        if self.lexicon.hazard.only_seeping(&prepared) {
            c.urgency = short_of_emergency;
            c.possible_emergency = false;
        } else if emergency >= heads.emergency.sure && !unsure {
            c.urgency = Urgency::Emergency;
            c.possible_emergency = false;
        } else {
            c.urgency = short_of_emergency;
            // How near an emergency's wording must come before "is it still happening?" is
            // asked depends on what else the message shows (the lexicon's own emergency, a
            // hazard word; with neither it is never asked): training fits the bars together
            // under one cap on false alarms. Sure readings are not gated: measured on the
            // labelled emergencies, the hazard list would miss one in eight of them.
            c.possible_emergency = emergency >= heads.emergency.possible_for(evidence);
        }
        c
    }

    /// The character n-gram features training pairs with each line's embedding.
    pub fn ngram_features(text: &str) -> Vec<f32> {
        ngrams::features(
            &semantic_text(head(text)),
            train::NGRAM_DIM,
            train::NGRAM_SCALE,
        )
    }

    /// The lexicon's vote, as training sees it.
    pub fn lexicon_vote(&self, text: &str) -> train::LexiconVote {
        let c = self.classify(text);
        let prepared = normalize::prepare(head(text));
        train::LexiconVote {
            kind: c.kind,
            urgency: c.urgency,
            department: c.department,
            category: c.category,
            confidence: c.confidence,
            evidence: self.evidence(&prepared, c.urgency),
            not_now: c.hazard_over,
        }
    }

    /// What the message shows for an emergency beside the heads' reading.
    fn evidence(&self, prepared: &str, lexicon_urgency: Urgency) -> Evidence {
        if lexicon_urgency == Urgency::Emergency {
            Evidence::Lexicon
        } else if self.lexicon.hazard.evident(prepared) {
            Evidence::Hazard
        } else {
            Evidence::None
        }
    }

    pub fn classify(&self, text: &str) -> Classification {
        let head = head(text);
        // Width, case and script are folded once and shared by the scorer and the slots.
        let prepared = normalize::prepare(head);
        let canonical = normalize::canonical_prepared(&prepared, &self.lexicon.replacer);
        let guess = self.model.guess(&canonical);
        let reading = scoring::read(&self.lexicon, &canonical, guess.as_ref());
        let urgency = match reading.urgency {
            Urgency::Emergency if self.lexicon.hazard.only_seeping(&prepared) => Urgency::Urgent,
            u => u,
        };
        Classification {
            text: text.to_owned(),
            kind: reading.kind,
            urgency,
            department: reading.department,
            category: reading.category,
            confidence: reading.confidence,
            slots: self.lexicon.slots.extract_prepared(head, &prepared),
            possible_emergency: false,
            hazard_over: self.lexicon.timing.not_now(&prepared),
            unsure: false,
            evident: urgency == Urgency::Emergency || self.lexicon.hazard.evident(&prepared),
        }
    }

    /// The decision with the names of the cues that made it, for tuning the lexicon.
    pub fn explain(&self, text: &str) -> (String, Vec<String>) {
        let canonical = normalize::canonical(head(text), &self.lexicon.replacer);
        let guess = self.model.guess(&canonical);
        let mut reading = scoring::read(&self.lexicon, &canonical, guess.as_ref());
        if let Some(g) = guess {
            let (k, p) = g.best_kind();
            reading.cues.push(format!("model: {k} {p:.2}"));
        }
        (canonical, reading.cues)
    }
}

/// What the encoder is asked to read of a message (its `semantic_text`), or `None` when the
/// message is not worth a call: a digit, a one-character answer or bare punctuation and
/// emoji says nothing the lexicon and the dialogue state don't read.
pub fn semantic_input(text: &str) -> Option<String> {
    // An address alone ("Block 12, unit 806") answers "where?": nothing for the model to
    // read, and what it would find near it is whatever its neighbours' problems were.
    let rest = mask::without_address(text);
    let meaningful: Vec<char> = rest
        .chars()
        .filter(|c| c.is_alphanumeric() && !c.is_ascii_digit())
        .collect();
    let enough = if meaningful.iter().all(char::is_ascii) {
        meaningful.len() > 2
    } else {
        meaningful.len() > 1
    };
    // With something left, the stripped text is what `semantic_text` would give.
    enough.then_some(rest)
}

/// Chat messages are short; a pasted essay is read by its beginning, which keeps the cost
/// of one message bounded whatever a sender posts.
const MAX_CHARS: usize = 1000;

fn head(text: &str) -> &str {
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}
