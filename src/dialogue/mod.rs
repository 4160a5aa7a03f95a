//! The conversation with a resident: a pure state machine ([`machine::step`]) whose effects
//! are executed at the edge ([`engine::Engine`]), with sessions kept in Redis
//! ([`session`]), replies rendered from `prompts/<locale>/dialogue.toml` ([`render`]) and
//! common questions answered from `config/faq.toml` ([`faq`]).

pub mod effects;
pub mod engine;
pub mod faq;
pub mod machine;
pub mod prompt;
pub mod render;
pub mod request;
pub mod session;
pub mod words;

use std::sync::Arc;

use redis::aio::ConnectionManager;

use crate::channel::Dialogue;
use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::domain::Locale;
use crate::prompts::Prompts;
use crate::ticket::TicketQueue;
use anyhow::Context as _;

use crate::understanding::encoder::Encoder;
use crate::understanding::intent::Intents;
use crate::understanding::{detect_locale, Classification, Classifier};

pub use engine::Engine;

/// What the dialogue needs from the process.
pub struct Deps {
    pub settings: Arc<Settings>,
    pub redis: ConnectionManager,
    pub clock: SharedClock,
    pub prompts: Arc<Prompts>,
    pub queue: Arc<dyn TicketQueue>,
    /// For ticket numbers, which are taken outside the message's transaction.
    pub db: sqlx::PgPool,
}

/// Reading a message: what it asks for and which script it is written in. Production uses
/// the lexicon classifier; tests may hand the engine a small stand-in.
pub trait Understanding: Send + Sync {
    fn classify(&self, text: &str) -> Classification;
    fn locale(&self, text: &str) -> Locale;
    /// Both tiers, when the encoder answered for this text; a reader without a semantic
    /// tier reads the words alone.
    fn classify_with(&self, text: &str, embedding: Option<&[f32]>) -> Classification {
        let _ = embedding;
        self.classify(text)
    }
}

impl Understanding for Classifier {
    fn classify(&self, text: &str) -> Classification {
        Classifier::classify(self, text)
    }

    fn classify_with(&self, text: &str, embedding: Option<&[f32]>) -> Classification {
        Classifier::classify_with(self, text, embedding)
    }

    fn locale(&self, text: &str) -> Locale {
        detect_locale(text)
    }
}

pub fn build(deps: Deps) -> anyhow::Result<Arc<dyn Dialogue>> {
    let u = &deps.settings.understanding;
    let mut classifier = Classifier::load(&u.lexicon)?;
    let encoder = Encoder::new(&u.encoder)?;
    if encoder.is_some() {
        // An encoder without heads would be asked for nothing it can use: refuse to start
        // rather than quietly run on the lexicon alone.
        classifier = classifier
            .with_heads_file(&u.heads)
            .context("understanding.heads (needed because understanding.encoder.url is set)")?;
    }
    let engine = build_with(deps, Arc::new(classifier), encoder.map(Arc::new))?;
    Ok(engine)
}

/// The engine with a given reader of messages and, for its semantic tier, the encoder
/// (`None`: the reader reads the words alone).
pub fn build_with(
    deps: Deps,
    understanding: Arc<dyn Understanding>,
    encoder: Option<Arc<Encoder>>,
) -> anyhow::Result<Arc<Engine>> {
    let faq = faq::Faq::load(&deps.settings.understanding.faq)?;
    // Beside the FAQ: the words for what a reply means belong with the other word lists.
    let intents = Intents::load(
        &deps
            .settings
            .understanding
            .faq
            .with_file_name("intents.toml"),
    )?;
    Ok(Arc::new(Engine {
        settings: deps.settings,
        redis: deps.redis,
        clock: deps.clock,
        prompts: deps.prompts,
        queue: deps.queue,
        db: deps.db,
        understanding,
        encoder,
        faq: Arc::new(faq),
        intents: Arc::new(intents),
    }))
}
