//! `guanjia train`: the semantic heads from the labelled corpus, and `guanjia evaluate`:
//! both tiers scored on labelled batches. Both need the encoder, not the database.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use futures::StreamExt as _;

use crate::configuration::Settings;
use crate::understanding::corpus::{self, Line};
use crate::understanding::encoder::Encoder;
use crate::understanding::heads::{Heads, Recall};
use crate::understanding::score::Score;
use crate::understanding::train::{self, Example};
use crate::understanding::{semantic_text, Classifier};

#[derive(clap::Args)]
pub struct TrainArgs {
    /// The corpus manifest.
    #[arg(long, default_value = "data/nlu/corpus.toml")]
    pub corpus: PathBuf,
    /// Where to write the heads (default: `understanding.heads` from the configuration).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write nothing; fail unless training reproduces the heads file.
    #[arg(long)]
    pub check: bool,
    /// Keep the vectors in this local file between runs (development only).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// With `--check`: train from the vectors the heads file remembers instead of asking
    /// the encoder for every line again. The corpus must be the one the file was trained
    /// on (its texts' digest), and the encoder must still give those vectors for a sample
    /// of one line in `SAMPLE_EVERY`.
    #[arg(long, requires = "check")]
    pub remembered_vectors: bool,
    /// Write the out-of-fold mistakes here, one JSON line each.
    #[arg(long)]
    pub misses: Option<PathBuf>,
    /// Also learn from staff corrections (`reclassify`) kept in the database
    /// (`DATABASE_URL`). The shipped heads are trained without them, so `--check` ignores
    /// this.
    #[arg(long)]
    pub corrections: bool,
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Labelled JSON-lines files, each scored on its own and in total.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Keep the vectors in this local file between runs (development only).
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

/// Inputs per call to the encoder while training.
const CHUNK: usize = 32;
/// Encoder calls in flight at once while training.
const IN_FLIGHT: usize = 2;
/// `--remembered-vectors` asks the encoder again for one line in this many.
const SAMPLE_EVERY: u64 = 16;
/// How far a sampled vector may move (after rounding to 1e-4) between machines: one
/// rounding step, when the encoder's last bits fall on the other side of a half.
const SAMPLE_TOLERANCE: f32 = 1.5e-4;

fn setup() -> anyhow::Result<(Settings, Classifier, Encoder)> {
    let settings = Settings::load().context("loading the configuration")?;
    let classifier = Classifier::load(&settings.understanding.lexicon)?;
    let encoder = Encoder::new(&settings.understanding.encoder)?
        .context("no encoder configured ([understanding.encoder] url)")?;
    Ok((settings, classifier, encoder))
}

async fn embed_all(
    encoder: &Encoder,
    texts: &[&str],
    cache: Option<&Path>,
) -> anyhow::Result<Vec<Vec<f32>>> {
    let mut known: HashMap<String, Vec<f32>> = HashMap::new();
    if let Some(path) = cache {
        if let Ok(text) = std::fs::read_to_string(path) {
            for line in text.lines() {
                if let Ok((t, v)) = serde_json::from_str::<(String, Vec<f32>)>(line) {
                    known.insert(t, v);
                }
            }
        }
    }
    let missing: Vec<&str> = {
        let mut seen = std::collections::HashSet::new();
        texts
            .iter()
            .copied()
            .filter(|t| !known.contains_key(*t) && seen.insert(*t))
            .collect()
    };
    let mut done = 0;
    // Two calls in flight: while one chunk's vectors travel back and are parsed, the
    // encoder is already working on the next (one at a time left it a third idle).
    let mut calls = futures::stream::iter(missing.chunks(CHUNK))
        .map(|chunk| async move { (chunk, encoder.embed(chunk, Duration::from_secs(120)).await) })
        .buffered(IN_FLIGHT);
    while let Some((chunk, vectors)) = calls.next().await {
        let vectors = vectors
            .context("is the encoder running? (scripts/ensure-encoder.sh starts the local one)")?;
        for (t, v) in chunk.iter().zip(vectors) {
            known.insert((*t).to_owned(), v);
        }
        done += chunk.len();
        eprint!("\rembedded {done}/{}", missing.len());
    }
    if !missing.is_empty() {
        eprintln!();
        if let Some(path) = cache {
            let mut out = String::new();
            for t in &missing {
                out.push_str(&serde_json::to_string(&(t, &known[*t]))?);
                out.push('\n');
            }
            use std::io::Write as _;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(out.as_bytes()))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    texts
        .iter()
        .map(|t| {
            known
                .get(*t)
                .cloned()
                .context("a text the encoder left out")
        })
        .collect()
}

pub async fn train(args: TrainArgs) -> anyhow::Result<()> {
    let (settings, classifier, encoder) = setup()?;
    let mut lines = corpus::load(&args.corpus, Path::new("."))?;
    if args.corrections && !args.check {
        lines.extend(corrections(&settings).await?);
    }
    let inputs: Vec<String> = lines.iter().map(|l| semantic_text(&l.text)).collect();
    let texts: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let digest = corpus_digest(&texts);
    let out = args.out.unwrap_or(settings.understanding.heads);
    let vectors = if args.remembered_vectors {
        remembered(&Heads::load(&out)?, &digest, &encoder, &texts).await?
    } else {
        embed_all(&encoder, &texts, args.cache.as_deref())
            .await?
            .iter()
            .map(|v| train::rounded(v))
            .collect()
    };
    let examples: Vec<Example> = lines
        .iter()
        .zip(vectors)
        .map(|(l, embedding)| Example {
            id: l.id.clone(),
            kind: l.kind,
            urgency: l.urgency,
            department: l.department,
            category: l.category,
            unseen_by_lexicon: !l.lexicon_seen,
            embedding,
            ngrams: Classifier::ngram_features(&l.text),
            lexicon: classifier.lexicon_vote(&l.text),
        })
        .collect();
    let (mut heads, report) = train::train(&examples, encoder.model());
    heads.corpus = digest;
    print!("{}", train::render_report(&report));
    if let Some(path) = &args.misses {
        let mut out = String::new();
        for (i, label, truth, guess) in &report.misses {
            let l = &lines[*i];
            out.push_str(&serde_json::to_string(&serde_json::json!({
                "id": l.id, "text": l.text, "label": label, "truth": truth, "guess": guess,
            }))?);
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.check {
        let shipped = Heads::load(&out)?;
        match heads.difference(&shipped) {
            None => println!("\n{} reproduced", out.display()),
            Some(what) => bail!("training does not reproduce {}: {what}", out.display()),
        }
    } else {
        let json = serde_json::to_string(&heads)?;
        std::fs::write(&out, json + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
        println!("\nwrote {} ({} lines)", out.display(), heads.trained_on);
    }
    Ok(())
}

/// SHA-256 over the encoder's inputs, in order, each ended by a newline.
fn corpus_digest(texts: &[&str]) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for t in texts {
        h.update(t.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The training vectors the heads file remembers, after checking that they belong to
/// these texts and that the encoder still gives them (on a sample).
async fn remembered(
    shipped: &Heads,
    digest: &str,
    encoder: &Encoder,
    texts: &[&str],
) -> anyhow::Result<Vec<Vec<f32>>> {
    if shipped.corpus != digest {
        bail!("the corpus is not the one the heads file was trained on: run `guanjia train`");
    }
    let recall = Recall::decode(&shipped.memory, shipped.dim)?;
    if recall.len() != texts.len() {
        bail!(
            "the heads file remembers {} lines, the corpus has {}",
            recall.len(),
            texts.len()
        );
    }
    let vectors = (0..texts.len())
        .map(|i| recall.row(i).and_then(train::from_memory_row))
        .collect::<Option<Vec<_>>>()
        .context("a remembered vector is not what training keeps for a line")?;
    let sample: Vec<usize> = (0..texts.len())
        .filter(|i| fnv(texts[*i]).is_multiple_of(SAMPLE_EVERY))
        .collect();
    let asked: Vec<&str> = sample.iter().map(|i| texts[*i]).collect();
    let fresh = embed_all(encoder, &asked, None).await?;
    for (i, v) in sample.iter().zip(&fresh) {
        let worst = train::rounded(v)
            .iter()
            .zip(&vectors[*i])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        if worst > SAMPLE_TOLERANCE {
            bail!(
                "the encoder no longer gives the remembered vector of line {} (off by {worst})",
                i + 1
            );
        }
    }
    eprintln!(
        "{} remembered vectors; the encoder gave {} sampled ones again",
        vectors.len(),
        sample.len()
    );
    Ok(vectors)
}

/// FNV-1a: a sample that is the same on every machine.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Staff corrections as labelled lines, the lexicon never having seen them.
async fn corrections(settings: &Settings) -> anyhow::Result<Vec<Line>> {
    use secrecy::ExposeSecret;
    let db = sqlx::PgPool::connect(settings.database.url.expose_secret())
        .await
        .context("connecting to the database for the corrections")?;
    let rows = crate::ticket::repository::corrections(&db).await?;
    eprintln!("{} staff corrections", rows.len());
    Ok(rows
        .into_iter()
        .map(|(id, text, kind, urgency, department, category)| Line {
            id: format!("correction-{id}"),
            text,
            kind,
            urgency,
            department,
            category: Some(category),
            lexicon_seen: false,
        })
        .collect())
}

pub async fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let (settings, classifier, encoder) = setup()?;
    let classifier = classifier.with_heads_file(&settings.understanding.heads)?;
    println!("{}", Score::header());
    let (mut lexicon_total, mut fused_total) = (Score::default(), Score::default());
    for file in &args.files {
        let lines: Vec<Line> = corpus::read_lines(file)?;
        let inputs: Vec<String> = lines.iter().map(|l| semantic_text(&l.text)).collect();
        let texts: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let vectors = embed_all(&encoder, &texts, args.cache.as_deref()).await?;
        let (mut lexicon, mut fused) = (Score::default(), Score::default());
        for (line, v) in lines.iter().zip(&vectors) {
            lexicon.add(line, &classifier.classify(&line.text));
            fused.add(line, &classifier.classify_with(&line.text, Some(v)));
        }
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        println!("{}", lexicon.row(&format!("{name} lexicon")));
        println!("{}", fused.row(&format!("{name} both tiers")));
        lexicon_total.merge(&lexicon);
        fused_total.merge(&fused);
    }
    println!("{}", lexicon_total.row("all: lexicon"));
    println!("{}", fused_total.row("all: both tiers"));
    Ok(())
}
