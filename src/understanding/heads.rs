//! The semantic tier's classification heads: one linear head per label (kind, urgency,
//! department, category) over a sentence embedding, fused with the lexicon's decision.
//!
//! Why linear heads: the encoder already places paraphrases near each other, so a linear
//! read-out generalises from a few thousand lines, trains in closed form (ridge regression,
//! the same answer on every run, which is what lets `guanjia train` reproduce the shipped
//! file) and costs a few thousand multiply-adds per message.
//!
//! Beside the linear read-out, a memory of the labelled lines' vectors: the labels of the
//! nearest few vote. Hazards come in many unrelated shapes (a hiss at the meter, water in a
//! light fitting, a bang and a dark lift); a line cannot separate them all from their
//! harmless look-alikes, and the nearest labelled paraphrase often can.
//!
//! Fusion: `score[c] = head[c] + lexicon_weight · lexicon[c] + memory_weight · memory[c]`,
//! then a softmax with a fitted temperature. The lexicon's vote is one-hot, scaled by its
//! confidence; the memory's is the neighbours' similarity-weighted share. The weights are
//! fitted on lines the lexicon was never tuned on, so they say how far the lexicon can be
//! trusted on new wording, not on its own training lines.

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
    /// Hashed character n-gram features after the embedding (`ngrams::features`): how many
    /// buckets, and the length they are scaled to.
    pub ngram_dim: usize,
    pub ngram_scale: f32,
    pub heads: BTreeMap<String, Head>,
    pub emergency: EmergencyThresholds,
    /// Lines the heads were trained on, for the record.
    pub trained_on: usize,
    /// SHA-256 of the texts the encoder read, one per line in corpus order: the memory's
    /// rows are those lines' vectors, so a check may train from them again.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub corpus: String,
    pub memory: Memory,
}

/// The labelled lines' vectors, unit length, and each label's class per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// How many nearest lines vote.
    pub k: usize,
    /// Similarities are raised to this power, so the closest paraphrase counts most.
    pub power: f32,
    /// Little-endian `f32`s, `dim` per line, base64.
    pub vectors: String,
    /// Per label: the class index (into the head's `classes`) of each line, or -1 for a
    /// line without that label.
    pub labels: BTreeMap<String, Vec<i8>>,
}

/// The nearest remembered lines to one message: (line, similarity).
#[derive(Debug, Clone, Default)]
pub struct Neighbours(pub Vec<(usize, f32)>);

/// A loaded memory: the vectors decoded once.
#[derive(Debug, Clone, Default)]
pub struct Recall {
    vectors: Vec<f32>,
    dim: usize,
}

impl Recall {
    pub fn decode(memory: &Memory, dim: usize) -> anyhow::Result<Self> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&memory.vectors)
            .context("memory vectors are not base64")?;
        if dim == 0 || bytes.len() % (4 * dim) != 0 {
            bail!("memory vectors are not a whole number of {dim}-long rows");
        }
        let vectors = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Self { vectors, dim })
    }

    pub fn encode(vectors: &[f32]) -> String {
        use base64::Engine as _;
        let bytes: Vec<u8> = vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    pub fn len(&self) -> usize {
        self.vectors.len() / self.dim.max(1)
    }

    /// The `i`th remembered line's vector.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.vectors.get(i * self.dim..(i + 1) * self.dim)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k` lines most similar to `embedding` (cosine; both sides unit length).
    pub fn nearest(&self, embedding: &[f32], k: usize) -> Neighbours {
        let norm = dot(embedding, embedding).sqrt().max(1e-12);
        let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
        for (i, row) in self.vectors.chunks_exact(self.dim).enumerate() {
            let s = dot(row, embedding) / norm;
            if best.len() < k || s > best[best.len() - 1].1 {
                let at = best.partition_point(|(_, b)| *b >= s);
                best.insert(at, (i, s));
                best.truncate(k);
            }
        }
        Neighbours(best)
    }
}

/// The neighbours' vote over `classes` classes: similarity^power-weighted shares.
pub fn vote(neighbours: &Neighbours, labels: &[i8], classes: usize, power: f32) -> Vec<f32> {
    let mut v = vec![0f32; classes];
    let mut total = 0f32;
    for &(i, s) in &neighbours.0 {
        let Some(&class) = labels.get(i) else {
            continue;
        };
        let Ok(class) = usize::try_from(class) else {
            continue;
        };
        if class < classes {
            let w = s.max(0.0).powf(power);
            v[class] += w;
            total += w;
        }
    }
    if total > 0.0 {
        for x in &mut v {
            *x /= total;
        }
    }
    v
}

/// The share of the neighbours' vote (`labels`: their urgency classes) that is emergencies.
pub fn emergency_share(neighbours: &Neighbours, labels: &[i8], power: f32) -> f32 {
    let at = Urgency::ALL
        .iter()
        .position(|u| *u == Urgency::Emergency)
        .unwrap_or(0);
    vote(neighbours, labels, Urgency::ALL.len(), power)
        .get(at)
        .copied()
        .unwrap_or(0.0)
}

/// One label's read-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Class names as contract.md spells them, in the order of `weights`.
    pub classes: Vec<String>,
    /// One row of `dim + ngram_dim` weights per class.
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    pub lexicon_weight: f32,
    pub memory_weight: f32,
    pub temperature: f32,
}

/// Where the fused probability of `emergency` turns a message into a sure emergency (filed
/// at once) or a possible one (guidance, then one yes/no question).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmergencyThresholds {
    pub sure: f32,
    /// A possible emergency when the message shows hazard evidence (a smell, smoke, water
    /// pouring, someone stuck).
    pub possible: f32,
    /// A possible emergency when the lexicon alone read a sure one: stronger evidence than
    /// a hazard word, so the bar may sit lower. Files without it use `possible`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_lexicon: Option<f32>,
    /// A possible emergency when no hazard word shows but most of the nearest labelled
    /// lines are emergencies ("門縫飄出灰灰的東西 很嗆": smoke told by what it does). Files
    /// without it never ask such a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_near: Option<f32>,
}

/// The share of the nearest labelled lines' vote that must be emergencies before they
/// count as evidence of one.
pub const NEAR_EVIDENCE: f32 = 0.5;

/// How much outside evidence a message shows for an emergency, beside the heads' reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Evidence {
    None,
    /// No hazard word, but the nearest labelled lines are mostly emergencies.
    Near,
    /// `Hazard::evident`: a hazard shown by what is seen, heard or smelled.
    Hazard,
    /// The lexicon alone read a sure emergency.
    Lexicon,
}

impl EmergencyThresholds {
    /// The fused probability from which a message with this evidence is asked about as a
    /// possible emergency. Never without evidence: "is it still leaking or smoking?" about
    /// a stuck shutter or a door that won't close makes no sense to the resident (tried:
    /// a fitted bar for these flagged such messages in the conversation sets).
    pub fn possible_for(&self, evidence: Evidence) -> f32 {
        match evidence {
            Evidence::Lexicon => self.possible_lexicon.unwrap_or(self.possible),
            Evidence::Hazard => self.possible,
            Evidence::Near => self.possible_near.unwrap_or(f32::INFINITY),
            Evidence::None => f32::INFINITY,
        }
    }
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
        let recall = Recall::decode(&heads.memory, heads.dim)?;
        for (name, labels) in &heads.memory.labels {
            if labels.len() != recall.len() {
                bail!(
                    "memory `{name}`: {} labels for {} lines",
                    labels.len(),
                    recall.len()
                );
            }
        }
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
        let width = self.dim + self.ngram_dim;
        if head.weights.iter().any(|w| w.len() != width) {
            bail!("`{}`: a weight row is not {width} long", L::NAME);
        }
        Ok(())
    }

    /// The share of the neighbours' vote that is emergencies (0 without a memory).
    pub fn near_emergency(&self, neighbours: &Neighbours) -> f32 {
        self.memory.labels.get(Urgency::NAME).map_or(0.0, |labels| {
            emergency_share(neighbours, labels, self.memory.power)
        })
    }

    /// The fused distribution over `L` for an embedding and the lexicon's vote; `None` when
    /// the vector is not the size the heads were trained on.
    pub fn read<L: Label>(
        &self,
        embedding: &[f32],
        ngrams: &[f32],
        neighbours: &Neighbours,
        lexicon: L,
        lexicon_confidence: f32,
    ) -> Option<Distribution<L>> {
        if embedding.len() != self.dim || ngrams.len() != self.ngram_dim {
            return None;
        }
        let head = self.heads.get(L::NAME)?;
        let memory = match self.memory.labels.get(L::NAME) {
            Some(labels) => vote(neighbours, labels, head.classes.len(), self.memory.power),
            None => vec![0.0; head.classes.len()],
        };
        let scores: Vec<f32> = head
            .weights
            .iter()
            .zip(&head.bias)
            .zip(&head.classes)
            .zip(&memory)
            .map(|(((w, b), class), m)| {
                let lexicon_vote = if class == lexicon.name() {
                    lexicon_confidence
                } else {
                    0.0
                };
                dot(&w[..self.dim], embedding)
                    + dot(&w[self.dim..], ngrams)
                    + b
                    + head.lexicon_weight * lexicon_vote
                    + head.memory_weight * m
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
        if self.dim != other.dim
            || self.encoder != other.encoder
            || self.ngram_dim != other.ngram_dim
            || self.ngram_scale != other.ngram_scale
        {
            return Some(format!(
                "encoder {} ({}) against {} ({})",
                self.encoder, self.dim, other.encoder, other.dim
            ));
        }
        if self.corpus != other.corpus {
            return Some("the corpus texts differ".into());
        }
        if self.trained_on != other.trained_on {
            return Some(format!(
                "{} lines against {}",
                self.trained_on, other.trained_on
            ));
        }
        if self.memory.labels != other.memory.labels || self.memory.k != other.memory.k {
            return Some("the remembered lines differ".into());
        }
        if let (Ok(a), Ok(b)) = (
            Recall::decode(&self.memory, self.dim),
            Recall::decode(&other.memory, other.dim),
        ) {
            let worst = a
                .vectors
                .iter()
                .zip(&b.vectors)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            if worst > 1e-3 {
                return Some(format!("a remembered vector differs by {worst}"));
            }
        }
        if self.emergency != other.emergency {
            return Some(format!(
                "emergency thresholds {:?} against {:?}",
                self.emergency, other.emergency
            ));
        }
        for (name, a) in &self.heads {
            let Some(b) = other.heads.get(name) else {
                return Some(format!("no `{name}` head in the other"));
            };
            if a.classes != b.classes
                || a.lexicon_weight != b.lexicon_weight
                || a.memory_weight != b.memory_weight
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

/// Eight running sums, so the compiler can keep them in vector registers: the
/// nearest-lines search runs this over every remembered line for each message.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let (xs, ys) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = xs
        .remainder()
        .iter()
        .zip(ys.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0f32; LANES];
    for (x, y) in xs.zip(ys) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
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
            memory_weight: 0.0,
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
            ngram_dim: 0,
            ngram_scale: 0.0,
            heads,
            emergency: EmergencyThresholds {
                sure: 0.5,
                possible: 0.2,
                possible_lexicon: None,
                possible_near: None,
            },
            trained_on: 0,
            corpus: String::new(),
            memory: Memory {
                k: 1,
                power: 1.0,
                vectors: Recall::encode(&[1.0, 0.0]),
                labels: BTreeMap::from([("kind".to_owned(), vec![1])]),
            },
        }
    }

    #[test]
    fn the_head_and_the_lexicon_vote_add_up() {
        let h = tiny();
        let toward_repair = h
            .read(
                &[1.0, 0.0],
                &[],
                &Neighbours::default(),
                Kind::Complaint,
                0.0,
            )
            .unwrap();
        assert_eq!(toward_repair.best().0, Kind::Repair);
        // The lexicon's confident vote outweighs a weak head.
        let weak = h
            .read(
                &[0.2, 0.0],
                &[],
                &Neighbours::default(),
                Kind::Complaint,
                1.0,
            )
            .unwrap();
        assert_eq!(weak.best().0, Kind::Complaint);
        let sum: f32 = weak.p.iter().map(|(_, p)| p).sum();
        assert!((sum - 1.0).abs() < 1e-5);
        assert_eq!(weak.of(Kind::Inquiry), 0.0, "a class the head lacks");
    }

    #[test]
    fn the_nearest_lines_vote_by_similarity() {
        let recall = Recall {
            vectors: vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8],
            dim: 2,
        };
        let n = recall.nearest(&[1.0, 0.1], 2);
        assert_eq!(n.0.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 2]);
        let v = vote(&n, &[0, 1, 1], 2, 1.0);
        assert!(v[0] > v[1] && (v[0] + v[1] - 1.0).abs() < 1e-5);
        assert_eq!(vote(&n, &[-1, -1, -1], 2, 1.0), vec![0.0, 0.0]);
        let mut h = tiny();
        h.heads.get_mut("kind").unwrap().memory_weight = 5.0;
        let near_complaint = Neighbours(vec![(0, 1.0)]);
        let d = h
            .read(&[1.0, 0.0], &[], &near_complaint, Kind::Repair, 0.0)
            .unwrap();
        assert_eq!(d.best().0, Kind::Complaint, "memory label 1 is complaint");
    }

    #[test]
    fn a_vector_of_another_size_is_not_read() {
        assert!(tiny()
            .read(&[1.0], &[], &Neighbours::default(), Kind::Repair, 1.0)
            .is_none());
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
