//! `cargo bench --bench classify`: classifies every dev-set message many times and prints
//! the mean time per message, for the lexicon alone and, when the local encoder answers
//! (`scripts/ensure-encoder.sh`), for the semantic tier: the encoder's call per message
//! (one at a time and in batches of 16) and the heads' reading given the vector. Plain
//! `std::time`, no harness.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use guanjia::understanding::Classifier;

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let load_started = Instant::now();
    let classifier = Classifier::load(&root.join("config/lexicon.toml"))?;
    let load = load_started.elapsed();
    let data = std::fs::read_to_string(root.join("tests/data/nlu-dev.jsonl"))?;
    let texts: Vec<String> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .map(|v| v["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect::<Result<_, _>>()?;

    // Warm up: the script converter builds its tables on first use.
    for t in &texts {
        black_box(classifier.classify(t));
    }
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        for t in &texts {
            black_box(classifier.classify(black_box(t)));
        }
    }
    let elapsed = started.elapsed();
    let n = (rounds * texts.len()) as f64;
    let per = elapsed.as_nanos() as f64 / n;
    println!("lexicon load: {:.1} ms", load.as_secs_f64() * 1e3);
    println!(
        "classify: {} messages x {} rounds in {:.2} s = {:.0} ns/message ({:.0} messages/s)",
        texts.len(),
        rounds,
        elapsed.as_secs_f64(),
        per,
        1e9 / per
    );
    semantic(root, &classifier, &texts)
}

fn semantic(root: &Path, classifier: &Classifier, texts: &[String]) -> anyhow::Result<()> {
    use guanjia::understanding::encoder::{Encoder, EncoderSettings};
    let settings = EncoderSettings {
        url: std::env::var("GUANJIA_UNDERSTANDING__ENCODER__URL")
            .unwrap_or_else(|_| "http://127.0.0.1:8765/v1/embeddings".into()),
        model: "multilingual-e5-small".into(),
        timeout: std::time::Duration::from_secs(30),
        ..EncoderSettings::default()
    };
    let Some(encoder) = Encoder::new(&settings)? else {
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let inputs: Vec<String> = texts
        .iter()
        .map(|t| guanjia::understanding::semantic_text(t))
        .collect();
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let Ok(vectors) = runtime.block_on(encoder.embed(&refs[..1], settings.timeout)) else {
        println!("semantic tier: the encoder does not answer; skipped");
        return Ok(());
    };
    drop(vectors);
    let started = Instant::now();
    let mut vectors = Vec::with_capacity(refs.len());
    for t in &refs {
        vectors.extend(runtime.block_on(encoder.embed(&[t], settings.timeout))?);
    }
    let single = started.elapsed().as_secs_f64() * 1e3 / refs.len() as f64;
    let started = Instant::now();
    for chunk in refs.chunks(16) {
        black_box(runtime.block_on(encoder.embed(chunk, settings.timeout))?);
    }
    let batched = started.elapsed().as_secs_f64() * 1e3 / refs.len() as f64;
    println!("encoder: {single:.2} ms/message one at a time, {batched:.2} ms/message in batches of 16 (wall clock, HTTP included)");

    let load_started = Instant::now();
    let both = classifier
        .clone()
        .with_heads_file(&root.join("config/nlu-heads.json"))?;
    println!(
        "heads load: {:.1} ms",
        load_started.elapsed().as_secs_f64() * 1e3
    );
    // `cargo test --all-targets` runs this as a smoke test in a debug build: one round
    // there, twenty under `cargo bench`.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        20
    } else {
        1
    };
    let started = Instant::now();
    for _ in 0..rounds {
        for (t, v) in texts.iter().zip(&vectors) {
            black_box(both.classify_with(black_box(t), Some(v)));
        }
    }
    let per = started.elapsed().as_nanos() as f64 / (rounds * texts.len()) as f64;
    println!("classify_with (lexicon + heads, vector given): {per:.0} ns/message");
    Ok(())
}
