//! The labelled corpus: the manifest (`data/nlu/corpus.toml`) and its JSON lines.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::ticket::model::{Category, Department, Kind, Urgency};

#[derive(Debug, Deserialize)]
struct Manifest {
    source: Vec<Source>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub path: PathBuf,
    #[serde(default)]
    pub lexicon_seen: bool,
}

/// One labelled line.
#[derive(Debug, Clone, Deserialize)]
pub struct Line {
    pub id: String,
    pub text: String,
    pub kind: Kind,
    pub urgency: Urgency,
    pub department: Department,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(skip)]
    pub lexicon_seen: bool,
}

/// Reads a JSON-lines file of labelled lines; an error names the file and line.
pub fn read_lines(path: &Path) -> anyhow::Result<Vec<Line>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str::<Line>(l)
                .with_context(|| format!("{} line {}", path.display(), n + 1))
        })
        .collect()
}

/// Every line the manifest lists, paths relative to `root`; a text seen twice is kept once
/// (the first time), so a line copied between files does not weigh double.
pub fn load(manifest: &Path, root: &Path) -> anyhow::Result<Vec<Line>> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let manifest: Manifest =
        toml::from_str(&text).with_context(|| format!("malformed {}", manifest.display()))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for source in manifest.source {
        for mut line in read_lines(&root.join(&source.path))? {
            if seen.insert(line.text.trim().to_owned()) {
                line.lexicon_seen = source.lexicon_seen;
                out.push(line);
            }
        }
    }
    Ok(out)
}
