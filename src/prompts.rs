//! Reply texts, one TOML file per locale under `prompts/<locale>/`. Code names a message by
//! key and fills `{placeholders}`; wording is the deployment's to change.

use std::collections::HashMap;
use std::path::Path;

use crate::domain::Locale;

#[derive(Debug, Clone, Default)]
pub struct Prompts {
    by_locale: HashMap<Locale, HashMap<String, String>>,
}

impl Prompts {
    /// Reads every `*.toml` in `dir/<locale>/`; keys are `<file stem>.<key>`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut by_locale = HashMap::new();
        for locale in Locale::ALL {
            let mut map = HashMap::new();
            let folder = dir.join(locale.as_str());
            let mut files: Vec<_> = std::fs::read_dir(&folder)
                .map_err(|e| anyhow::anyhow!("reading prompts in {}: {e}", folder.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for file in files {
                let stem = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let text = std::fs::read_to_string(&file)?;
                let table: toml::Table = toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                flatten(&stem, &toml::Value::Table(table), &mut map);
            }
            by_locale.insert(locale, map);
        }
        Ok(Self { by_locale })
    }

    /// The template for `key`, falling back to simplified Chinese, then to the key itself so
    /// a missing text is visible rather than silent.
    pub fn get<'a>(&'a self, locale: Locale, key: &'a str) -> &'a str {
        self.by_locale
            .get(&locale)
            .and_then(|m| m.get(key))
            .or_else(|| self.by_locale.get(&Locale::ZhHans).and_then(|m| m.get(key)))
            .map(String::as_str)
            .unwrap_or(key)
    }

    pub fn has(&self, locale: Locale, key: &str) -> bool {
        self.by_locale
            .get(&locale)
            .is_some_and(|m| m.contains_key(key))
    }

    /// Renders `key` with `{name}` placeholders replaced.
    pub fn render(&self, locale: Locale, key: &str, vars: &[(&str, &str)]) -> String {
        fill(self.get(locale, key), vars)
    }

    /// All keys known for a locale (for checks that every locale has every text).
    pub fn keys(&self, locale: Locale) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .by_locale
            .get(&locale)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }
}

pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut HashMap<String, String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_prompts_cover_every_locale() {
        let prompts = Prompts::load(Path::new("prompts")).unwrap();
        let base = prompts.keys(Locale::ZhHans);
        assert!(!base.is_empty());
        for locale in [Locale::ZhHant, Locale::En] {
            assert_eq!(prompts.keys(locale), base, "{locale} lacks or adds keys");
        }
    }

    #[test]
    fn fills_placeholders() {
        assert_eq!(
            fill("工单{number}已受理", &[("number", "R1")]),
            "工单R1已受理"
        );
    }
}
