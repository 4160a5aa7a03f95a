//! Training the semantic heads from labelled lines: pure arithmetic over embeddings the
//! caller fetched, so the same lines and vectors always give the same file.
//!
//! Each head is ridge regression onto one-hot targets, solved in closed form. Five folds
//! (fixed by a hash of each line's id) give every line a prediction from a model that did
//! not see it; those out-of-fold scores choose the ridge strength, the lexicon's weight,
//! the temperature and the emergency thresholds, and they are the held-out figures that
//! `guanjia train` prints.

use std::collections::BTreeMap;

use super::heads::{
    emergency_share, softmax, vote, EmergencyThresholds, Evidence, Head, Heads, Label, Memory,
    Neighbours, Recall, NEAR_EVIDENCE, VERSION,
};
use super::linalg;
use crate::ticket::model::{Category, Department, Kind, Urgency};

/// One labelled line with its embedding and what the lexicon alone read in it.
#[derive(Debug, Clone)]
pub struct Example {
    pub id: String,
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Option<Category>,
    /// The lexicon was never tuned on this line, so its vote here is an honest sample of
    /// how it does on new wording; only such lines fit the fusion weights.
    pub unseen_by_lexicon: bool,
    pub embedding: Vec<f32>,
    /// `ngrams::features` of the text, `NGRAM_DIM` long.
    pub ngrams: Vec<f32>,
    pub lexicon: LexiconVote,
}

#[derive(Debug, Clone, Copy)]
pub struct LexiconVote {
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    pub category: Category,
    pub confidence: f32,
    /// What else the message shows for an emergency (the service sets each possible
    /// emergency bar by it).
    pub evidence: Evidence,
    /// The lexicon reads the hazard as over or imagined: the service raises nothing.
    pub not_now: bool,
}

pub const FOLDS: usize = 5;
const RIDGE: &[f64] = &[0.3, 1.0];
/// Buckets of character n-grams, and their length beside a unit embedding.
pub const NGRAM_DIM: usize = 2048;
pub const NGRAM_SCALE: f32 = 0.5;
/// Nearest remembered lines that vote, and how sharply closeness counts.
const MEMORY_K: usize = 5;
const MEMORY_POWER: f32 = 4.0;
/// Flag at least this share of true emergencies (as emergency or possible emergency) on
/// the out-of-fold lines, within `MAX_FALSE_FLAGS` of the others. The cap sits below the
/// 3 % the service may flag: on fresh batches false flags ran 1.5–2 points above the
/// out-of-fold figure (XF–XJ: 4.3 % against 2.7 %).
const EMERGENCY_RECALL: f32 = 0.99;
const MAX_FALSE_FLAGS: f32 = 0.02;

/// What training measured on lines each model had not seen.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: usize,
    /// Per label: (lines scored, lexicon right, head right, fused right).
    pub accuracy: BTreeMap<&'static str, (usize, usize, usize, usize)>,
    /// Per label: rows truth, columns fused prediction, in the label's `ALL` order.
    pub confusion: BTreeMap<&'static str, Vec<Vec<usize>>>,
    pub emergencies: usize,
    pub emergencies_flagged: usize,
    pub emergencies_sure: usize,
    pub others: usize,
    pub others_flagged: usize,
    /// Out-of-fold mistakes: (example, label, truth, fused guess) by class name, and
    /// emergencies left unflagged as label `emergency`.
    pub misses: Vec<(usize, &'static str, &'static str, &'static str)>,
}

/// Trains the four heads; `encoder` names the embedding model for the file.
pub fn train(examples: &[Example], encoder: &str) -> (Heads, Report) {
    let dim = examples.first().map_or(0, |e| e.embedding.len());
    let width = dim + examples.first().map_or(0, |e| e.ngrams.len());
    let folds: Vec<usize> = examples.iter().map(|e| fold_of(&e.id)).collect();
    let mut report = Report {
        lines: examples.len(),
        ..Report::default()
    };
    let mut heads = BTreeMap::new();
    let mut urgency_oof = Vec::new();
    let (unit, neighbours) = out_of_fold_neighbours(examples, &folds, dim);
    let mut memory_labels: BTreeMap<String, Vec<i8>> = BTreeMap::new();
    let mut designs: Vec<Design> = Vec::new();

    let mut fit_label = |name: &'static str,
                         classes: &[&'static str],
                         rows: Vec<(usize, usize, usize)>|
     -> Vec<(usize, Vec<f32>)> {
        // rows: (example index, true class, lexicon's class)
        let mut labels = vec![-1i8; examples.len()];
        for &(i, truth, _) in &rows {
            labels[i] = i8::try_from(truth).unwrap_or(-1);
        }
        let memory_votes: Vec<Vec<f32>> = neighbours
            .iter()
            .map(|n| vote(n, &labels, classes.len(), MEMORY_POWER))
            .collect();
        let lines: Vec<usize> = rows.iter().map(|r| r.0).collect();
        let at = match designs.iter().position(|d| d.lines == lines) {
            Some(at) => at,
            None => {
                designs.push(Design::new(examples, &folds, width + 1, lines));
                designs.len() - 1
            }
        };
        let (head, oof, acc, confusion) =
            fit(examples, &designs[at], classes, &rows, &memory_votes);
        for (i, p) in &oof {
            let truth = usize::try_from(labels[*i]).unwrap_or(0);
            let guess = argmax(p);
            if guess != truth {
                report
                    .misses
                    .push((*i, name, classes[truth], classes[guess]));
            }
        }
        memory_labels.insert(name.to_owned(), labels);
        report.accuracy.insert(name, acc);
        report.confusion.insert(name, confusion);
        heads.insert(name.to_owned(), head);
        oof
    };

    let rows = label_rows(examples, |e| Some((e.kind, e.lexicon.kind)));
    fit_label(Kind::NAME, &names::<Kind>(), rows);
    let rows = label_rows(examples, |e| Some((e.urgency, e.lexicon.urgency)));
    urgency_oof.extend(fit_label(Urgency::NAME, &names::<Urgency>(), rows));
    let rows = label_rows(examples, |e| Some((e.department, e.lexicon.department)));
    fit_label(Department::NAME, &names::<Department>(), rows);
    let rows = label_rows(examples, |e| e.category.map(|c| (c, e.lexicon.category)));
    fit_label(Category::NAME, &names::<Category>(), rows);

    // Out of fold, like the probabilities: how much of each line's nearest lines' vote
    // is emergencies.
    let near: Vec<f32> = memory_labels
        .get(Urgency::NAME)
        .map_or_else(Vec::new, |labels| {
            neighbours
                .iter()
                .map(|n| emergency_share(n, labels, MEMORY_POWER))
                .collect()
        });
    let emergency = emergency_thresholds(examples, &urgency_oof, &near, &mut report);
    (
        Heads {
            version: VERSION,
            encoder: encoder.to_owned(),
            dim,
            ngram_dim: width - dim,
            ngram_scale: NGRAM_SCALE,
            heads,
            emergency,
            trained_on: examples.len(),
            corpus: String::new(),
            memory: Memory {
                k: MEMORY_K,
                power: MEMORY_POWER,
                vectors: Recall::encode(&unit),
                labels: memory_labels,
            },
        },
        report,
    )
}

/// An encoder's vector as training reads it: rounded, so that float noise between
/// machines (thread counts, SIMD paths) in the encoder's last bits cannot move a training
/// choice.
pub fn rounded(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| (x * 1e4).round() / 1e4).collect()
}

/// The unit-length copy the memory keeps.
pub fn unit_length(v: &[f32]) -> impl Iterator<Item = f32> + '_ {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(move |x| x / norm)
}

/// A training vector back from the memory row it became, when the row is exactly what
/// training keeps for it: the encoder's vectors are unit length, so rounding the row again
/// lands on the training vector, and the check that it gives the row back is exact.
pub fn from_memory_row(row: &[f32]) -> Option<Vec<f32>> {
    let v = rounded(row);
    unit_length(&v).eq(row.iter().copied()).then_some(v)
}

/// Unit-length copies of every vector, and each line's nearest lines among the other
/// folds (so its memory vote comes from lines a model without it would remember).
fn out_of_fold_neighbours(
    examples: &[Example],
    folds: &[usize],
    dim: usize,
) -> (Vec<f32>, Vec<Neighbours>) {
    let mut unit = Vec::with_capacity(examples.len() * dim);
    for e in examples {
        unit.extend(unit_length(&e.embedding));
    }
    let wide: Vec<f64> = unit.iter().map(|v| f64::from(*v)).collect();
    let mut out = vec![Neighbours::default(); examples.len()];
    for f in 0..FOLDS {
        let test: Vec<usize> = (0..examples.len()).filter(|i| folds[*i] == f).collect();
        let train: Vec<usize> = (0..examples.len()).filter(|i| folds[*i] != f).collect();
        let rows = |ids: &[usize]| -> Vec<f64> {
            ids.iter()
                .flat_map(|&i| wide[i * dim..(i + 1) * dim].iter().copied())
                .collect()
        };
        let (a, b) = (rows(&test), rows(&train));
        // Cosine similarities, test × train.
        let bt = transpose(&b, train.len(), dim);
        let sims = linalg::a_b(&a, &bt, test.len(), dim, train.len());
        for (r, &i) in test.iter().enumerate() {
            let row = &sims[r * train.len()..(r + 1) * train.len()];
            let mut best: Vec<(usize, f32)> = Vec::with_capacity(MEMORY_K + 1);
            for (c, &s) in row.iter().enumerate() {
                let s = s as f32;
                if best.len() < MEMORY_K || s > best[best.len() - 1].1 {
                    let at = best.partition_point(|(_, b)| *b >= s);
                    best.insert(at, (train[c], s));
                    best.truncate(MEMORY_K);
                }
            }
            out[i] = Neighbours(best);
        }
    }
    (unit, out)
}

fn transpose(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0f64; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

fn names<L: Label>() -> Vec<&'static str> {
    L::all().iter().map(|l| l.name()).collect()
}

fn label_rows<L: Label>(
    examples: &[Example],
    pick: impl Fn(&Example) -> Option<(L, L)>,
) -> Vec<(usize, usize, usize)> {
    let index = |l: L| L::all().iter().position(|x| *x == l).unwrap_or(0);
    examples
        .iter()
        .enumerate()
        .filter_map(|(i, e)| pick(e).map(|(truth, lex)| (i, index(truth), index(lex))))
        .collect()
}

/// FNV-1a of the id: folds that do not move when lines are added elsewhere in the file.
pub fn fold_of(id: &str) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % FOLDS as u64) as usize
}

/// Out-of-fold scores: (example, one score per class).
type Scores = Vec<(usize, Vec<f32>)>;

type Fit = (
    Head,
    Vec<(usize, Vec<f32>)>,
    (usize, usize, usize, usize),
    Vec<Vec<usize>>,
);

/// What the ridge fits need that does not depend on the label: the design matrix of each
/// fold and its Gram matrix. Kind, urgency and department are fitted on the same lines, so
/// they share one; building it is most of training's arithmetic.
struct Design {
    lines: Vec<usize>,
    /// Columns: the features and the bias.
    p: usize,
    /// `XᵀX` over all the lines: the sum of the folds'.
    gram: Vec<f64>,
    /// Per fold: its lines (example indices, in order), its `XᵀX` and its `X`.
    folds: Vec<(Vec<usize>, Vec<f64>, Vec<f64>)>,
}

impl Design {
    fn new(examples: &[Example], folds: &[usize], p: usize, lines: Vec<usize>) -> Self {
        let mut gram = vec![0f64; p * p];
        let mut parts = Vec::with_capacity(FOLDS);
        for f in 0..FOLDS {
            let part: Vec<usize> = lines.iter().copied().filter(|i| folds[*i] == f).collect();
            let mut x = vec![0f64; part.len() * p];
            for (row, &i) in part.iter().enumerate() {
                let features = examples[i].embedding.iter().chain(&examples[i].ngrams);
                for (col, v) in features.enumerate() {
                    x[row * p + col] = f64::from(*v);
                }
                x[row * p + p - 1] = 1.0;
            }
            let g = linalg::at_b(&x, &x, part.len(), p, p);
            gram.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
            parts.push((part, g, x));
        }
        Design {
            lines,
            p,
            gram,
            folds: parts,
        }
    }
}

/// Fits one head on `rows`; returns it with the out-of-fold fused probabilities per row.
fn fit(
    examples: &[Example],
    design: &Design,
    classes: &[&'static str],
    rows: &[(usize, usize, usize)],
    memory_votes: &[Vec<f32>],
) -> Fit {
    let c = classes.len();
    let p = design.p;
    let dim = p - 1;
    let truth_of: BTreeMap<usize, (usize, usize)> =
        rows.iter().map(|&(i, t, l)| (i, (t, l))).collect();
    let gram = &design.gram;
    let mut xty = vec![0f64; p * c];
    let mut fold_parts = Vec::with_capacity(FOLDS);
    for (part, g, xf) in &design.folds {
        let mut yf = vec![0f64; part.len() * c];
        for (row, i) in part.iter().enumerate() {
            yf[row * c + truth_of[i].0] = 1.0;
        }
        let b = linalg::at_b(xf, &yf, part.len(), p, c);
        xty.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
        fold_parts.push((part, g, b, xf));
    }

    // Out-of-fold head scores for every ridge strength; keep the most accurate.
    let mut best: Option<(usize, f64, Scores)> = None;
    for &alpha in RIDGE {
        let mut oof = Vec::with_capacity(rows.len());
        let mut right = 0;
        for (part, g, b, xf) in &fold_parts {
            let rest_gram: Vec<f64> = gram.iter().zip(g.iter()).map(|(a, b)| a - b).collect();
            let rest_xty: Vec<f64> = xty.iter().zip(b).map(|(a, b)| a - b).collect();
            let Some(w) = solve(rest_gram, &rest_xty, alpha, dim, c) else {
                continue;
            };
            let scores = linalg::a_b(xf, &w, part.len(), p, c);
            for (row, &i) in part.iter().enumerate() {
                let truth = truth_of[&i].0;
                let s: Vec<f32> = (0..c).map(|k| scores[row * c + k] as f32).collect();
                right += usize::from(argmax(&s) == truth);
                oof.push((i, s));
            }
        }
        if best.as_ref().is_none_or(|(r, _, _)| right > *r) {
            best = Some((right, alpha, oof));
        }
    }
    let (_, alpha, oof) = best.unwrap_or((0, 1.0, Vec::new()));

    // The lexicon's weight and the temperature, on lines the lexicon never saw (all lines
    // when there are none).
    let honest: Vec<&(usize, Vec<f32>)> = {
        let h: Vec<_> = oof
            .iter()
            .filter(|(i, _)| examples[*i].unseen_by_lexicon)
            .collect();
        if h.is_empty() {
            oof.iter().collect()
        } else {
            h
        }
    };
    let fused = |i: usize, s: &[f32], (lw, mw): (f32, f32)| -> Vec<f32> {
        let (_, lex) = truth_of[&i];
        let vote = examples[i].lexicon.confidence;
        s.iter()
            .enumerate()
            .map(|(k, v)| v + if k == lex { lw * vote } else { 0.0 } + mw * memory_votes[i][k])
            .collect()
    };
    let mut weights = (0.0f32, 0.0f32);
    let mut best_right = 0usize;
    for l in 0..=20 {
        for m in 0..=15 {
            let w = (l as f32 * 0.05, m as f32 * 0.1);
            let right = honest
                .iter()
                .filter(|(i, s)| argmax(&fused(*i, s, w)) == truth_of[i].0)
                .count();
            if right > best_right {
                best_right = right;
                weights = w;
            }
        }
    }
    let (lexicon_weight, memory_weight) = weights;
    let mut temperature = 1.0f32;
    let mut best_nll = f32::INFINITY;
    for t in (1..=60).map(|t| t as f32 * 0.5) {
        let nll: f32 = honest
            .iter()
            .map(|(i, s)| {
                let p = softmax(&fused(*i, s, weights), t);
                -(p[truth_of[i].0].max(1e-6)).ln()
            })
            .sum();
        if nll < best_nll {
            best_nll = nll;
            temperature = t;
        }
    }

    let mut confusion = vec![vec![0usize; c]; c];
    let (mut lex_right, mut head_right, mut fused_right) = (0, 0, 0);
    let mut probs = Vec::with_capacity(oof.len());
    for (i, s) in &oof {
        let (truth, lex) = truth_of[i];
        let f = fused(*i, s, weights);
        let guess = argmax(&f);
        confusion[truth][guess] += 1;
        lex_right += usize::from(lex == truth);
        head_right += usize::from(argmax(s) == truth);
        fused_right += usize::from(guess == truth);
        probs.push((*i, softmax(&f, temperature)));
    }

    let solution = solve(gram.clone(), &xty, alpha, dim, c).unwrap_or_else(|| vec![0.0; p * c]);
    // Rounded so that the file is the same on machines whose float sums differ in the last
    // bits, and stays small.
    let round = |v: f64| ((v * 1e5).round() / 1e5) as f32;
    let head = Head {
        classes: classes.iter().map(|s| s.to_string()).collect(),
        weights: (0..c)
            .map(|k| (0..dim).map(|d| round(solution[d * c + k])).collect())
            .collect(),
        bias: (0..c).map(|k| round(solution[dim * c + k])).collect(),
        lexicon_weight,
        memory_weight,
        temperature,
    };
    (
        head,
        probs,
        (oof.len(), lex_right, head_right, fused_right),
        confusion,
    )
}

/// Ridge solution of `(G + αI) W = B` (`G` p×p, `B` p×c, row-major), the bias row left
/// unpenalised.
fn solve(mut gram: Vec<f64>, xty: &[f64], alpha: f64, dim: usize, c: usize) -> Option<Vec<f64>> {
    let p = dim + 1;
    for d in 0..dim {
        gram[d * p + d] += alpha;
    }
    // A tiny penalty on the bias keeps the system positive definite on degenerate folds.
    gram[dim * p + dim] += 1e-6;
    linalg::cholesky_solve(gram, xty, p, c)
}

fn argmax(s: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in s.iter().enumerate() {
        if *v > s[best] {
            best = i;
        }
    }
    best
}

/// The emergency thresholds from out-of-fold probabilities, as the service applies them:
/// `sure` where an emergency is more likely than not; below it, a "possible" bar for a
/// message whose hazard the lexicon reads as a sure emergency and one for a message that
/// shows a hazard word, never higher for the stronger evidence (a message with neither is
/// never asked). The bars are fitted together: the fewest false flags that still find
/// `EMERGENCY_RECALL` of the emergencies, or else the most emergencies found within
/// `MAX_FALSE_FLAGS` of the rest. A hazard the lexicon reads as over is never flagged.
fn emergency_thresholds(
    examples: &[Example],
    urgency_oof: &[(usize, Vec<f32>)],
    near: &[f32],
    report: &mut Report,
) -> EmergencyThresholds {
    let e = Urgency::ALL
        .iter()
        .position(|u| *u == Urgency::Emergency)
        .unwrap_or(0);
    let mut probability = vec![0.0f32; examples.len()];
    for (i, p) in urgency_oof {
        probability[*i] = p[e];
    }
    let seen = |i: usize| -> (bool, Evidence, f32) {
        let x = &examples[i];
        let p = if x.lexicon.not_now {
            0.0
        } else {
            probability[i]
        };
        let evidence = match x.lexicon.evidence {
            Evidence::None if near.get(i).is_some_and(|v| *v >= NEAR_EVIDENCE) => Evidence::Near,
            v => v,
        };
        (x.urgency == Urgency::Emergency, evidence, p)
    };
    let honest: Vec<usize> = {
        let pick = |only_unseen: bool| -> Vec<usize> {
            urgency_oof
                .iter()
                .map(|(i, _)| *i)
                .filter(|i| !only_unseen || examples[*i].unseen_by_lexicon)
                .collect()
        };
        let h = pick(true);
        if h.iter().any(|i| examples[*i].urgency == Urgency::Emergency) {
            h
        } else {
            pick(false)
        }
    };
    let sure = 0.5f32;
    // Candidate bars: 0.005 … 0.5 (the last one flags only sure readings).
    let steps: Vec<f32> = (1..=100).map(|k| k as f32 * 0.005).collect();
    let tier = |v: Evidence| match v {
        Evidence::Lexicon => Some(0),
        Evidence::Hazard => Some(1),
        Evidence::Near => Some(2),
        Evidence::None => None,
    };
    // flagged[tier][step] = (emergencies, others) flagged below `sure` at that bar.
    let mut flagged = vec![vec![(0usize, 0usize); steps.len()]; 3];
    let (mut pos, mut neg, mut sure_tp, mut sure_fp) = (0usize, 0usize, 0usize, 0usize);
    for &i in &honest {
        let (y, v, p) = seen(i);
        if y {
            pos += 1;
        } else {
            neg += 1;
        }
        if p >= sure {
            sure_tp += usize::from(y);
            sure_fp += usize::from(!y);
            continue;
        }
        let Some(tier) = tier(v) else {
            continue;
        };
        for (k, t) in steps.iter().enumerate() {
            if p >= *t {
                let cell = &mut flagged[tier][k];
                cell.0 += usize::from(y);
                cell.1 += usize::from(!y);
            }
        }
    }
    let (pos, neg) = (pos.max(1), neg.max(1));
    let mut best: Option<(bool, usize, usize, [usize; 3])> = None;
    let better = |a: (bool, usize, usize), b: (bool, usize, usize)| {
        // Reaching the recall target first; then fewer false flags if both reach it, more
        // emergencies found if neither does.
        match (a.0, b.0) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => a.2 < b.2 || (a.2 == b.2 && a.1 > b.1),
            (false, false) => a.1 > b.1 || (a.1 == b.1 && a.2 < b.2),
        }
    };
    let last = steps.len() - 1;
    for l in 0..steps.len() {
        for h in l..steps.len() {
            for n in h..steps.len() {
                let cells = [flagged[0][l], flagged[1][h], flagged[2][n]];
                let tp = sure_tp + cells.iter().map(|c| c.0).sum::<usize>();
                let fp = sure_fp + cells.iter().map(|c| c.1).sum::<usize>();
                if fp as f32 / neg as f32 > MAX_FALSE_FLAGS {
                    continue;
                }
                let reached = tp as f32 / pos as f32 >= EMERGENCY_RECALL;
                let candidate = (reached, tp, fp);
                if best.is_none_or(|(r, t, f, _)| better(candidate, (r, t, f))) {
                    best = Some((reached, tp, fp, [l, h, n]));
                }
            }
        }
    }
    let [l, h, n] = best.map(|b| b.3).unwrap_or([last, last, last]);
    let round = |t: f32| (t * 1000.0).round() / 1000.0;
    let thresholds = EmergencyThresholds {
        sure,
        possible: round(steps[h]),
        possible_lexicon: Some(round(steps[l])),
        // No bar when it finds no emergency (the top bar flags only what is sure anyway).
        possible_near: (n < last && flagged[2][n].0 > 0).then(|| round(steps[n])),
    };
    for (i, _) in urgency_oof {
        let (y, v, p) = seen(*i);
        if y && p < sure.min(thresholds.possible_for(v)) {
            report.misses.push((*i, "emergency", "flagged", "missed"));
        }
    }
    for &i in &honest {
        let (y, v, p) = seen(i);
        let flag = p >= sure.min(thresholds.possible_for(v));
        if y {
            report.emergencies += 1;
            report.emergencies_flagged += usize::from(flag);
            report.emergencies_sure += usize::from(p >= sure);
        } else {
            report.others += 1;
            report.others_flagged += usize::from(flag);
        }
    }
    thresholds
}

/// Out-of-fold scores printed as a table: accuracy per label for the lexicon alone, the
/// head alone and both, then the fused confusion tables.
pub fn render_report(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "held-out (5-fold, each line scored by a model that did not see it): {} lines",
        report.lines
    );
    let _ = writeln!(
        out,
        "{:<11} {:>6} {:>8} {:>8} {:>8}",
        "label", "lines", "lexicon", "head", "fused"
    );
    for (name, (n, lex, head, fused)) in &report.accuracy {
        let pct = |x: &usize| 100.0 * *x as f32 / (*n).max(1) as f32;
        let _ = writeln!(
            out,
            "{name:<11} {n:>6} {:>7.1}% {:>7.1}% {:>7.1}%",
            pct(lex),
            pct(head),
            pct(fused)
        );
    }
    let _ = writeln!(
        out,
        "emergencies (lines the lexicon never saw): {}/{} flagged, {} sure; others flagged {}/{} ({:.1}%)",
        report.emergencies_flagged,
        report.emergencies,
        report.emergencies_sure,
        report.others_flagged,
        report.others,
        100.0 * report.others_flagged as f32 / report.others.max(1) as f32
    );
    for (name, table) in &report.confusion {
        let classes: Vec<&str> = match *name {
            "kind" => names::<Kind>(),
            "urgency" => names::<Urgency>(),
            "department" => names::<Department>(),
            _ => names::<Category>(),
        };
        let _ = writeln!(out, "\n{name}: rows truth, columns fused prediction");
        let _ = write!(out, "{:<17}", "");
        for c in &classes {
            let _ = write!(out, "{:>8}", abbreviate(c));
        }
        let _ = writeln!(out);
        for (c, row) in classes.iter().zip(table) {
            let _ = write!(out, "{c:<17}");
            for v in row {
                let _ = write!(out, "{v:>8}");
            }
            let _ = writeln!(out);
        }
    }
    out
}

fn abbreviate(s: &str) -> &str {
    match s.char_indices().nth(7) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two clusters in two dimensions, labels by cluster: the head must learn them.
    fn examples(n: usize) -> Vec<Example> {
        (0..n)
            .map(|i| {
                let repair = i % 2 == 0;
                let jitter = (i as f32 * 0.37).sin() * 0.1;
                Example {
                    id: format!("t{i}"),
                    kind: if repair { Kind::Repair } else { Kind::Inquiry },
                    urgency: if repair && i % 4 == 0 {
                        Urgency::Emergency
                    } else {
                        Urgency::Normal
                    },
                    department: Department::Engineering,
                    category: None,
                    unseen_by_lexicon: true,
                    ngrams: vec![0.0; 4],
                    embedding: if repair {
                        vec![1.0 + jitter, 0.0, if i % 4 == 0 { 1.0 } else { 0.0 }]
                    } else {
                        vec![0.0, 1.0 + jitter, 0.0]
                    },
                    lexicon: LexiconVote {
                        kind: Kind::Other,
                        urgency: Urgency::Normal,
                        department: Department::Engineering,
                        category: Category::Other,
                        confidence: 0.3,
                        evidence: Evidence::None,
                        not_now: false,
                    },
                }
            })
            .collect()
    }

    #[test]
    fn heads_learn_separable_labels_and_ignore_a_lexicon_that_is_always_wrong() {
        let ex = examples(200);
        let (heads, report) = train(&ex, "test");
        let (n, _, head, fused) = report.accuracy["kind"];
        assert_eq!(head, n);
        assert_eq!(fused, n);
        assert_eq!(heads.heads["kind"].lexicon_weight, 0.0);
        let d = heads
            .read(
                &ex[0].embedding,
                &ex[0].ngrams,
                &Neighbours::default(),
                Kind::Other,
                0.3,
            )
            .expect("same dim");
        assert_eq!(d.best().0, Kind::Repair);
        assert_eq!(report.emergencies_flagged, report.emergencies);
        assert!(heads.emergency.possible <= heads.emergency.sure);
    }

    /// Lines whose out-of-fold emergency probability is `p`, with the given evidence.
    fn scored(lines: &[(bool, Evidence, bool, f32)]) -> (Vec<Example>, Vec<(usize, Vec<f32>)>) {
        let mut ex = examples(lines.len());
        let mut oof = Vec::new();
        for (i, (emergency, evidence, not_now, p)) in lines.iter().enumerate() {
            ex[i].urgency = if *emergency {
                Urgency::Emergency
            } else {
                Urgency::Normal
            };
            ex[i].lexicon.evidence = *evidence;
            ex[i].lexicon.not_now = *not_now;
            let mut probs = vec![0.0; Urgency::ALL.len()];
            let e = Urgency::ALL
                .iter()
                .position(|u| *u == Urgency::Emergency)
                .unwrap_or(0);
            probs[e] = *p;
            oof.push((i, probs));
        }
        (ex, oof)
    }

    #[test]
    fn a_memory_row_gives_back_the_training_vector_it_was_made_from() {
        // Unit length, as the encoder gives them, with components of every size.
        let raw: Vec<f32> = (0..384)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 1000.0)
            .collect();
        let v: Vec<f32> = unit_length(&raw).collect();
        let trained = rounded(&v);
        let row: Vec<f32> = unit_length(&trained).collect();
        assert_eq!(from_memory_row(&row), Some(trained));
        // A row changed after training is refused.
        let mut edited = row.clone();
        edited[3] += 0.01;
        assert_eq!(from_memory_row(&edited), None);
    }

    #[test]
    fn stronger_evidence_earns_a_lower_possible_emergency_bar() {
        let mut lines = Vec::new();
        // Emergencies the lexicon reads, at 0.1; emergencies shown by a hazard word at 0.2.
        lines.extend((0..50).map(|_| (true, Evidence::Lexicon, false, 0.1)));
        lines.extend((0..50).map(|_| (true, Evidence::Hazard, false, 0.2)));
        // Plenty of harmless lines with no evidence at 0.1–0.3: no bar reaches them.
        lines.extend((0..900).map(|i| (false, Evidence::None, false, 0.1 + (i % 3) as f32 * 0.1)));
        // An emergency with no evidence at all is left to the sure reading.
        lines.push((true, Evidence::None, false, 0.4));
        let (ex, oof) = scored(&lines);
        let mut report = Report::default();
        let t = emergency_thresholds(&ex, &oof, &[], &mut report);
        assert!(t.possible_for(Evidence::Lexicon) <= 0.1);
        assert!(t.possible_for(Evidence::Hazard) <= 0.2);
        assert!(t.possible_for(Evidence::None) > 0.5);
        assert_eq!(report.emergencies_flagged, 100);
        assert_eq!(report.others_flagged, 0);
    }

    #[test]
    fn emergencies_among_emergency_neighbours_earn_a_bar_without_a_hazard_word() {
        let mut lines = Vec::new();
        // Emergencies told by their effect (no hazard word) whose nearest lines are
        // emergencies, at 0.3; harmless lines at 0.3 too, whose nearest lines are not.
        lines.extend((0..40).map(|_| (true, Evidence::None, false, 0.3)));
        lines.extend((0..960).map(|_| (false, Evidence::None, false, 0.3)));
        let near: Vec<f32> = (0..lines.len())
            .map(|i| if i < 40 { 0.8 } else { 0.1 })
            .collect();
        let (ex, oof) = scored(&lines);
        let mut report = Report::default();
        let t = emergency_thresholds(&ex, &oof, &near, &mut report);
        assert!(t.possible_for(Evidence::Near) <= 0.3);
        assert!(t.possible_for(Evidence::None) > 0.5);
        assert_eq!(report.emergencies_flagged, 40);
        assert_eq!(report.others_flagged, 0);
        // Without neighbours' votes the same lines are never asked about.
        let mut report = Report::default();
        let t = emergency_thresholds(&ex, &oof, &[], &mut report);
        assert_eq!(t.possible_near, None);
        assert_eq!(report.emergencies_flagged, 0);
    }

    #[test]
    fn the_false_flag_cap_holds_and_a_hazard_that_is_over_is_never_flagged() {
        let mut lines = Vec::new();
        lines.extend((0..50).map(|_| (true, Evidence::Hazard, false, 0.3)));
        // Look-alikes with the same evidence and score: flagging the emergencies would
        // flag them too, far past the cap.
        lines.extend((0..100).map(|_| (false, Evidence::Hazard, false, 0.3)));
        lines.extend((0..850).map(|_| (false, Evidence::None, false, 0.0)));
        // Over ("已经不漏了") though the heads score it high.
        lines.push((true, Evidence::Lexicon, true, 0.9));
        let (ex, oof) = scored(&lines);
        let mut report = Report::default();
        let t = emergency_thresholds(&ex, &oof, &[], &mut report);
        assert!(t.possible_for(Evidence::Hazard) > 0.3);
        assert!(report.others_flagged as f32 / report.others as f32 <= MAX_FALSE_FLAGS);
        assert_eq!(report.emergencies_flagged, 0);
    }

    #[test]
    fn training_twice_gives_the_same_file() {
        let ex = examples(120);
        assert_eq!(train(&ex, "test").0, train(&ex, "test").0);
    }

    #[test]
    fn folds_depend_only_on_the_id() {
        assert_eq!(fold_of("wa-0001"), fold_of("wa-0001"));
        let spread: std::collections::BTreeSet<usize> =
            (0..50).map(|i| fold_of(&format!("x{i}"))).collect();
        assert_eq!(spread.len(), FOLDS);
    }
}
