//! Reading what residents write: kind, urgency, department, category and the slots
//! (address, phone, time). Pure functions over text and a configurable lexicon; no I/O
//! beyond loading the lexicon once.
//!
//! The path of a message: [`normalize`] folds width, case and script and applies the
//! lexicon's dialect/typo table; [`scoring`] matches the lexicon's terms (one
//! Aho-Corasick pass) and weighs them; [`slots`] scans the place, phone and time.

mod lexicon;
mod normalize;
mod scoring;
mod script;
mod slots;

#[cfg(test)]
mod eval;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::ticket::model::{Category, Department, Kind, Urgency};

pub use lexicon::Lexicon;
pub use script::{detect_locale, to_simplified};

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
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Slots {
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub phone: Option<String>,
    pub time: Option<String>,
}

impl Slots {
    pub fn has_place(&self) -> bool {
        self.building.is_some() || self.room.is_some()
    }
}

/// The classifier with its lexicon loaded and compiled.
#[derive(Debug, Clone)]
pub struct Classifier {
    lexicon: Lexicon,
}

impl Default for Classifier {
    /// The shipped `config/lexicon.toml`, embedded at build time (for tests and tools
    /// that have no configuration); a unit test proves it compiles.
    fn default() -> Self {
        let lexicon = Lexicon::parse(include_str!("../../config/lexicon.toml"))
            .expect("the shipped config/lexicon.toml compiles");
        Self { lexicon }
    }
}

impl Classifier {
    /// Reads and compiles the lexicon; a malformed file is an error that names the file
    /// and what is wrong with it.
    pub fn load(lexicon: &std::path::Path) -> anyhow::Result<Self> {
        let lexicon = Lexicon::load(lexicon)?;
        // The script converter builds its tables on first use; pay that here, not on
        // the first resident's message.
        to_simplified("預熱");
        Ok(Self { lexicon })
    }

    pub fn classify(&self, text: &str) -> Classification {
        let head = head(text);
        // Width, case and script are folded once and shared by the scorer and the slots.
        let prepared = normalize::prepare(head);
        let canonical = normalize::canonical_prepared(&prepared, &self.lexicon.replacer);
        let reading = scoring::read(&self.lexicon, &canonical);
        Classification {
            text: text.to_owned(),
            kind: reading.kind,
            urgency: reading.urgency,
            department: reading.department,
            category: reading.category,
            confidence: reading.confidence,
            slots: self.lexicon.slots.extract_prepared(head, &prepared),
        }
    }

    /// The decision with the names of the cues that made it, for tuning the lexicon.
    pub fn explain(&self, text: &str) -> (String, Vec<String>) {
        let canonical = normalize::canonical(head(text), &self.lexicon.replacer);
        let reading = scoring::read(&self.lexicon, &canonical);
        (canonical, reading.cues)
    }
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
