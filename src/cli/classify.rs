//! `guanjia classify`: one JSON line out per line in, read by both tiers. Needs no
//! database; without the encoder (or its heads) the lexicon reads alone, and stderr says
//! so once.

use std::io::{BufRead, Write};

use crate::configuration::Settings;
use crate::understanding::encoder::Encoder;
use crate::understanding::{semantic_input, Classifier};

pub async fn run() -> anyhow::Result<()> {
    let settings = Settings::load().ok();
    let lexicon = settings.as_ref().map_or_else(
        || "config/lexicon.toml".into(),
        |s| s.understanding.lexicon.clone(),
    );
    let mut classifier = Classifier::load(&lexicon)?;
    let mut encoder = None;
    if let Some(s) = &settings {
        // A command line can wait longer than a resident's reply, for a cold encoder.
        let mut encoder_settings = s.understanding.encoder.clone();
        encoder_settings.timeout = encoder_settings
            .timeout
            .max(std::time::Duration::from_secs(5));
        if let Some(e) = Encoder::new(&encoder_settings)? {
            match classifier.clone().with_heads_file(&s.understanding.heads) {
                Ok(c) => {
                    classifier = c;
                    encoder = Some(e);
                }
                Err(err) => eprintln!("guanjia classify: lexicon only ({err:#})"),
            }
        }
    }
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut warned = false;
    for line in stdin.lock().split(b'\n') {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\r');
        let embedding = match (&encoder, semantic_input(text)) {
            (Some(e), Some(input)) => {
                let v = e.embed_cached(&[&input]).await.pop().flatten();
                if v.is_none() && !warned {
                    eprintln!(
                        "guanjia classify: the encoder did not answer; the lexicon reads alone"
                    );
                    warned = true;
                }
                v
            }
            _ => None,
        };
        serde_json::to_writer(
            &mut out,
            &classifier.classify_with(text, embedding.as_deref()),
        )?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(())
}
