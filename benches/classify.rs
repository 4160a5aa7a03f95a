//! `cargo bench --bench classify`: classifies every dev-set message many times and prints
//! the mean time per message. Plain `std::time`, no harness.

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
    Ok(())
}
