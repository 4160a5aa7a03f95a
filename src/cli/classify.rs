//! `guanjia classify`: one JSON line out per line in. Needs no database.

use std::io::{BufRead, Write};

use crate::configuration::Settings;
use crate::understanding::Classifier;

pub fn run() -> anyhow::Result<()> {
    let lexicon = Settings::load()
        .map(|s| s.understanding.lexicon)
        .unwrap_or_else(|_| "config/lexicon.toml".into());
    let classifier = Classifier::load(&lexicon)?;
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().split(b'\n') {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\r');
        serde_json::to_writer(&mut out, &classifier.classify(text))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
