//! Reading what residents write: kind, urgency, department, category and the slots
//! (address, phone, time). Pure functions over text and a configurable lexicon; no I/O
//! beyond loading the lexicon once.

use serde::{Deserialize, Serialize};

use crate::domain::Locale;
use crate::ticket::model::{Category, Department, Kind, Urgency};

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

/// The classifier with its lexicon loaded.
#[derive(Debug, Clone, Default)]
pub struct Classifier {}

impl Classifier {
    pub fn load(_lexicon: &std::path::Path) -> anyhow::Result<Self> {
        Ok(Self {})
    }

    pub fn classify(&self, text: &str) -> Classification {
        Classification {
            text: text.to_owned(),
            kind: Kind::Other,
            urgency: Urgency::Normal,
            department: Department::CustomerService,
            category: Category::Other,
            confidence: 0.0,
            slots: Slots::default(),
        }
    }
}

/// The script of a message: replies go back in it.
pub fn detect_locale(_text: &str) -> Locale {
    Locale::ZhHans
}
