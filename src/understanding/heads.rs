//! The semantic tier's classification heads: one linear head per label (kind, urgency,
//! department, category) over a sentence embedding, fused with the lexicon's decision.
//!
//! Why linear heads: the encoder already places paraphrases near each other, so a linear
//! read-out generalises from a few thousand lines, trains in closed form (ridge regression,
//! the same answer on every run, which is what lets `guanjia train` reproduce the shipped
//! file) and costs a few thousand multiply-adds per message.
//!
//! Fusion: `score[c] = head[c] + lexicon_weight · lexicon[c]`, then a softmax with a fitted
//! temperature. The lexicon's vote is one-hot, scaled by its confidence. `lexicon_weight`
//! is fitted on lines the lexicon was never tuned on, so it says how far the lexicon can
//! be trusted on new wording, not on its own training lines.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::ticket::model::{Category, Department, Kind, Urgency};

/// The file `guanjia train` writes and the service loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heads {
    /// Bumped when the file's meaning changes.
    pub version: u32,
    /// Which encoder produced the embeddings the heads were trained on: heads from one
    /// model read nothing useful from another's vectors.
    pub encoder: String,
    pub dim: usize,
    pub heads: BTreeMap<String, Head>,
    pub emergency: EmergencyThresholds,
    /// Lines the heads were trained on, for the record.
    pub trained_on: usize,
}

/// One label's read-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Class names as contract.md spells them, in the order of `weights`.
    pub classes: Vec<String>,
    /// One row of `dim` weights per class.
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    pub lexicon_weight: f32,
    pub temperature: f32,
}

/// Where the fused probability of `emergency` turns a message into a sure emergency (filed
/// at once) or a possible one (guidance, then one yes/no question).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmergencyThresholds {
    pub sure: f32,
    pub possible: f32,
}

pub const VERSION: u32 = 1;

/// A label the heads can read: the four enums share `ALL`/`as_str`.
pub trait Label: Copy + PartialEq + 'static {
    const NAME: &'static str;
    fn all() -> &'static [Self];
    fn name(self) -> &'static str;
}

macro_rules! label {
    ($t:ty, $name:literal) => {
        impl Label for $t {
            const NAME: &'static str = $name;
            fn all() -> &'static [Self] {
                <$t>::ALL
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    };
}
label!(Kind, "kind");
label!(Urgency, "urgency");
label!(Department, "department");
label!(Category, "category");

/// A head's probabilities, in the order of the label's `ALL`.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution<L: Label> {
    pub p: Vec<(L, f32)>,
}

impl<L: Label> Distribution<L> {
    pub fn best(&self) -> (L, f32) {
        let mut best = self.p[0];
        for &(l, p) in &self.p[1..] {
            if p > best.1 {
                best = (l, p);
            }
        }
        best
    }

    pub fn of(&self, label: L) -> f32 {
        self.p
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(0.0, |(_, p)| *p)
    }
}

impl Heads {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("malformed {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let heads: Heads = serde_json::from_str(text)?;
        if heads.version != VERSION {
            bail!("version {} (this build reads {VERSION})", heads.version);
        }
        heads.check::<Kind>()?;
        heads.check::<Urgency>()?;
        heads.check::<Department>()?;
        heads.check::<Category>()?;
        Ok(heads)
    }

    fn check<L: Label>(&self) -> anyhow::Result<()> {
        let head = self
            .heads
            .get(L::NAME)
            .with_context(|| format!("no `{}` head", L::NAME))?;
        if head.classes.len() != head.weights.len() || head.classes.len() != head.bias.len() {
            bail!("`{}`: classes, weights and bias differ in length", L::NAME);
        }
        for c in &head.classes {
            if !L::all().iter().any(|l| l.name() == c) {
                bail!("`{}`: unknown class `{c}`", L::NAME);
            }
        }
        if head.weights.iter().any(|w| w.len() != self.dim) {
            bail!("`{}`: a weight row is not {} long", L::NAME, self.dim);
        }
        Ok(())
    }

    /// The fused distribution over `L` for an embedding and the lexicon's vote; `None` when
    /// the vector is not the size the heads were trained on.
    pub fn read<L: Label>(
        &self,
        embedding: &[f32],
        lexicon: L,
        lexicon_confidence: f32,
    ) -> Option<Distribution<L>> {
        if embedding.len() != self.dim {
            return None;
        }
        let head = self.heads.get(L::NAME)?;
        let scores: Vec<f32> = head
            .weights
            .iter()
            .zip(&head.bias)
            .zip(&head.classes)
            .map(|((w, b), class)| {
                let vote = if class == lexicon.name() {
                    lexicon_confidence
                } else {
                    0.0
                };
                dot(w, embedding) + b + head.lexicon_weight * vote
            })
            .collect();
        let probs = softmax(&scores, head.temperature);
        let p = L::all()
            .iter()
            .map(|&l| {
                let p = head
                    .classes
                    .iter()
                    .position(|c| c == l.name())
                    .map_or(0.0, |i| probs[i]);
                (l, p)
            })
            .collect();
        Some(Distribution { p })
    }
}

impl Heads {
    /// What differs between two trainings beyond float noise (weights within 1e-3, the
    /// last bits of sums that differ between machines), or `None`.
    pub fn difference(&self, other: &Heads) -> Option<String> {
        if self.dim != other.dim || self.encoder != other.encoder {
            return Some(format!(
                "encoder {} ({}) against {} ({})",
                self.encoder, self.dim, other.encoder, other.dim
            ));
        }
        if self.trained_on != other.trained_on {
            return Some(format!("{} lines against {}", self.trained_on, other.trained_on));
        }
        if self.emergency != other.emergency {
            return Some(format!("emergency thresholds {:?} against {:?}", self.emergency, other.emergency));
        }
        for (name, a) in &self.heads {
            let Some(b) = other.heads.get(name) else {
                return Some(format!("no `{name}` head in the other"));
            };
            if a.classes != b.classes
                || a.lexicon_weight != b.lexicon_weight
                || a.temperature != b.temperature
            {
                return Some(format!("`{name}`: classes or fitted weights differ"));
            }
            let rows = a.weights.iter().chain(std::iter::once(&a.bias));
            let other_rows = b.weights.iter().chain(std::iter::once(&b.bias));
            let worst = rows
                .zip(other_rows)
                .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
                .fold(0.0f32, f32::max);
            if worst > 1e-3 {
                return Some(format!("`{name}`: a weight differs by {worst}"));
            }
        }
        None
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn softmax(scores: &[f32], temperature: f32) -> Vec<f32> {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = scores
        .iter()
        .map(|s| ((s - max) * temperature).exp())
        .collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Heads {
        let head = |classes: &[&str]| Head {
            classes: classes.iter().map(|c| c.to_string()).collect(),
            weights: classes
                .iter()
                .enumerate()
                .map(|(i, _)| vec![if i == 0 { 1.0 } else { 0.0 }, 0.0])
                .collect(),
            bias: vec![0.0; classes.len()],
            lexicon_weight: 0.5,
            temperature: 10.0,
        };
        let mut heads = BTreeMap::new();
        heads.insert("kind".into(), head(&["repair", "complaint"]));
        heads.insert("urgency".into(), head(&["emergency", "normal"]));
        heads.insert("department".into(), head(&["engineering"]));
        heads.insert("category".into(), head(&["equipment"]));
        Heads {
            version: VERSION,
            encoder: "test".into(),
            dim: 2,
            heads,
            emergency: EmergencyThresholds {
                sure: 0.5,
                possible: 0.2,
            },
            trained_on: 0,
        }
    }

    #[test]
    fn the_head_and_the_lexicon_vote_add_up() {
        let h = tiny();
        let toward_repair = h.read(&[1.0, 0.0], Kind::Complaint, 0.0).unwrap();
        assert_eq!(toward_repair.best().0, Kind::Repair);
        // The lexicon's confident vote outweighs a weak head.
        let weak = h.read(&[0.2, 0.0], Kind::Complaint, 1.0).unwrap();
        assert_eq!(weak.best().0, Kind::Complaint);
        let sum: f32 = weak.p.iter().map(|(_, p)| p).sum();
        assert!((sum - 1.0).abs() < 1e-5);
        assert_eq!(weak.of(Kind::Inquiry), 0.0, "a class the head lacks");
    }

    #[test]
    fn a_vector_of_another_size_is_not_read() {
        assert!(tiny().read(&[1.0], Kind::Repair, 1.0).is_none());
    }

    #[test]
    fn a_file_with_a_wrong_shape_or_class_is_refused() {
        let mut h = tiny();
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(Heads::parse(&text).unwrap(), h);
        h.heads.get_mut("kind").unwrap().classes[0] = "fix".into();
        let err = Heads::parse(&serde_json::to_string(&h).unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains("unknown class `fix`"));
        let mut h = tiny();
        h.heads.get_mut("urgency").unwrap().weights[1].push(1.0);
        assert!(Heads::parse(&serde_json::to_string(&h).unwrap()).is_err());
        let mut h = tiny();
        h.heads.remove("category");
        assert!(Heads::parse(&serde_json::to_string(&h).unwrap()).is_err());
    }
}
