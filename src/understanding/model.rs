//! The statistical backoff: a binarised multinomial naive Bayes over hashed character
//! 1–3-grams (Chinese) and word uni/bigrams (English) of the canonical text, trained at
//! load time from labelled lines shipped as configuration. The lexicon reads the wording
//! it knows; this model carries the rest, so a message in words the lexicon has never seen
//! still lands on the kind (and complaint department) its neighbours in the training data
//! had. It never decides urgency: emergencies stay with the lexicon's explicit rules.

use crate::ticket::model::{Department, Kind};

/// Buckets in the hashed feature table; collisions are rare at a few thousand training
/// lines and the tables stay small (a few hundred KB).
const BUCKETS: usize = 1 << 16;
/// Additive smoothing: small, because the texts are short and a feature seen once is
/// already telling.
const ALPHA: f32 = 0.3;

/// One labelled line as the model sees it: canonical text and its labels.
#[derive(Debug, Clone)]
pub struct Sample {
    pub canonical: String,
    pub kind: Kind,
    pub department: Department,
}

/// A trained naive Bayes over `C` classes.
#[derive(Debug, Clone)]
struct NaiveBayes<const C: usize> {
    log_prior: [f32; C],
    /// `BUCKETS × C` log-likelihoods, zero for buckets no training line had (an unseen
    /// feature then says nothing rather than favouring the class with fewer features).
    table: Vec<f32>,
    trained: bool,
}

impl<const C: usize> NaiveBayes<C> {
    fn train(docs: &[(Vec<u32>, usize)]) -> Self {
        let mut counts = vec![0f32; BUCKETS * C];
        let mut totals = [0f32; C];
        let mut docs_per_class = [0f32; C];
        let mut seen = vec![false; BUCKETS];
        for (features, class) in docs {
            docs_per_class[*class] += 1.0;
            for &b in features {
                counts[b as usize * C + class] += 1.0;
                totals[*class] += 1.0;
                seen[b as usize] = true;
            }
        }
        let vocabulary = seen.iter().filter(|s| **s).count().max(1) as f32;
        let n = docs.len().max(1) as f32;
        let mut log_prior = [0f32; C];
        for c in 0..C {
            log_prior[c] = ((docs_per_class[c] + 1.0) / (n + C as f32)).ln();
        }
        let mut table = vec![0f32; BUCKETS * C];
        for b in (0..BUCKETS).filter(|&b| seen[b]) {
            for c in 0..C {
                table[b * C + c] =
                    ((counts[b * C + c] + ALPHA) / (totals[c] + ALPHA * vocabulary)).ln();
            }
        }
        Self {
            log_prior,
            table,
            trained: !docs.is_empty(),
        }
    }

    /// Posterior probabilities (softmax of the log scores).
    fn posterior(&self, features: &[u32]) -> Option<[f32; C]> {
        if !self.trained {
            return None;
        }
        let mut score = self.log_prior;
        for &b in features {
            let row = &self.table[b as usize * C..b as usize * C + C];
            for c in 0..C {
                score[c] += row[c];
            }
        }
        let max = score.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for s in &mut score {
            *s = (*s - max).exp();
            sum += *s;
        }
        for s in &mut score {
            *s /= sum;
        }
        Some(score)
    }
}

/// What the model reads in one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    /// Probability per kind, in [`Kind::ALL`] order.
    pub kind: [f32; 5],
    /// Probability per department if the message is a complaint, in [`Department::ALL`]
    /// order (the other kinds have a fixed department).
    pub complaint_department: Option<[f32; 4]>,
}

impl Guess {
    pub fn best_kind(&self) -> (Kind, f32) {
        best(Kind::ALL, &self.kind)
    }
    pub fn best_complaint_department(&self) -> Option<(Department, f32)> {
        self.complaint_department.map(|p| best(Department::ALL, &p))
    }
}

fn best<T: Copy>(all: &[T], p: &[f32]) -> (T, f32) {
    let mut i = 0;
    for j in 1..p.len() {
        if p[j] > p[i] {
            i = j;
        }
    }
    (all[i], p[i])
}

/// The kind model and the complaint-department model.
#[derive(Debug, Clone)]
pub struct Model {
    kind: NaiveBayes<5>,
    department: NaiveBayes<4>,
}

impl Model {
    pub fn train(samples: &[Sample]) -> Self {
        let kind_docs: Vec<(Vec<u32>, usize)> = samples
            .iter()
            .map(|s| (features(&s.canonical), position(Kind::ALL, s.kind)))
            .collect();
        let department_docs: Vec<(Vec<u32>, usize)> = samples
            .iter()
            .filter(|s| s.kind == Kind::Complaint)
            .map(|s| {
                (
                    features(&s.canonical),
                    position(Department::ALL, s.department),
                )
            })
            .collect();
        Self {
            kind: NaiveBayes::train(&kind_docs),
            department: NaiveBayes::train(&department_docs),
        }
    }

    /// `None` when the model has no training data or the text has no feature at all.
    pub fn guess(&self, canonical: &str) -> Option<Guess> {
        let f = features(canonical);
        if f.is_empty() {
            return None;
        }
        Some(Guess {
            kind: self.kind.posterior(&f)?,
            complaint_department: self.department.posterior(&f),
        })
    }
}

fn position<T: PartialEq>(all: &[T], x: T) -> usize {
    all.iter().position(|a| *a == x).unwrap_or(0)
}

/// FNV-1a over a tagged feature, folded into the table.
fn bucket(tag: u8, parts: &[&[u8]]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(tag);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            eat(0xff);
        }
        p.iter().for_each(|&b| eat(b));
    }
    (h % BUCKETS as u64) as u32
}

/// The set of hashed features of a canonical text: each run of Chinese characters gives
/// its character 1-, 2- and 3-grams; English words give unigrams and adjacent bigrams.
/// Digits and punctuation carry addresses and noise, not meaning, so they only break runs.
pub fn features(canonical: &str) -> Vec<u32> {
    let mut out = Vec::with_capacity(canonical.len() * 2);
    let mut run: Vec<char> = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<u32>| {
        let mut buf = [0u8; 12];
        for n in 1..=3usize {
            for w in run.windows(n) {
                let mut len = 0;
                for c in w {
                    len += c.encode_utf8(&mut buf[len..]).len();
                }
                out.push(bucket(n as u8, &[&buf[..len]]));
            }
        }
        run.clear();
    };
    let flush_words = |words: &mut Vec<&str>, out: &mut Vec<u32>| {
        for w in words.iter() {
            out.push(bucket(4, &[w.as_bytes()]));
        }
        for pair in words.windows(2) {
            out.push(bucket(5, &[pair[0].as_bytes(), pair[1].as_bytes()]));
        }
        words.clear();
    };
    let mut rest = canonical;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphabetic() {
            flush_run(&mut run, &mut out);
            let end = rest
                .find(|x: char| !(x.is_ascii_alphanumeric() || x == '\''))
                .unwrap_or(rest.len());
            words.push(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if c.is_alphabetic() && !c.is_ascii() {
            flush_words(&mut words, &mut out);
            run.push(c);
        } else if !c.is_whitespace() {
            // Digits and punctuation end a run and a phrase; spaces only end a run.
            flush_run(&mut run, &mut out);
            flush_words(&mut words, &mut out);
        } else {
            flush_run(&mut run, &mut out);
        }
        rest = &rest[c.len_utf8()..];
    }
    flush_run(&mut run, &mut out);
    flush_words(&mut words, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, kind: Kind, department: Department) -> Sample {
        Sample {
            canonical: text.to_owned(),
            kind,
            department,
        }
    }

    #[test]
    fn chinese_runs_give_one_two_and_three_grams() {
        // 3 + 2 + 1 grams of a three-character run.
        assert_eq!(features("漏水了").len(), 6);
        // Digits break runs: two one-character runs.
        assert_eq!(features("漏3水").len(), 2);
        assert_eq!(features("漏水"), features("漏水 12-3"));
    }

    #[test]
    fn english_words_give_unigrams_and_bigrams() {
        assert_eq!(features("pipe burst").len(), 3);
        assert_eq!(features("pipe, burst").len(), 2);
        assert!(features("").is_empty());
        assert!(features("123 !!").is_empty());
    }

    #[test]
    fn features_are_a_set() {
        assert_eq!(features("漏漏漏漏"), features("漏漏漏"));
    }

    #[test]
    fn an_untrained_model_guesses_nothing() {
        assert!(Model::train(&[]).guess("漏水").is_none());
    }

    #[test]
    fn learns_which_words_go_with_which_kind() {
        let m = Model::train(&[
            sample("水管漏水", Kind::Repair, Department::Engineering),
            sample("水龙头漏水", Kind::Repair, Department::Engineering),
            sample(
                "请问物业费怎么交",
                Kind::Inquiry,
                Department::CustomerService,
            ),
            sample("请问停车费多少", Kind::Inquiry, Department::CustomerService),
            sample("垃圾没人清理", Kind::Complaint, Department::Environment),
            sample("半夜噪音扰民", Kind::Complaint, Department::Security),
        ]);
        let g = m.guess("厨房漏水").unwrap();
        assert_eq!(g.best_kind().0, Kind::Repair);
        let g = m.guess("请问电费怎么交").unwrap();
        assert_eq!(g.best_kind().0, Kind::Inquiry);
        let total: f32 = g.kind.iter().sum();
        assert!((total - 1.0).abs() < 1e-4);
        let g = m.guess("楼道垃圾").unwrap();
        assert_eq!(
            g.best_complaint_department().unwrap().0,
            Department::Environment
        );
        // Nothing the model has seen: it says nothing useful, but still sums to one.
        assert!(m.guess("zzz").is_some_and(|g| g.best_kind().1 < 0.9));
    }
}
