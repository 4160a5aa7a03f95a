//! The doors residents knock on. Each channel verifies and parses what its platform sends,
//! turns it into one channel-neutral [`InboundMessage`], stores it before acknowledging it
//! ([`ingest`]), and hands it to the [`Dialogue`] — the single entry point for
//! understanding. The channel knows nothing of what the dialogue does with it.

pub mod ingest;
pub mod replay;
pub mod webhook;
pub mod wechat;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::understanding::encoder::Embedding;

/// What the dialogue read from a batch before its transaction opened
/// ([`Dialogue::prepare`]): the encoder's vector for each message it answered for. A
/// message without one is read by the lexicon alone. The channel only carries it from one
/// step to the next; it lives here, beside the trait, so that the dialogue depends on the
/// channel and not the other way round.
#[derive(Default)]
pub struct Prepared {
    embeddings: HashMap<Uuid, Embedding>,
    /// The vectors of the needs of a message that holds several, by their place in it.
    parts: HashMap<(Uuid, usize), Embedding>,
}

impl Prepared {
    /// Keeps the vector of a message (`part` `None`) or of one of its needs.
    pub fn keep(&mut self, message: Uuid, part: Option<usize>, vector: Embedding) {
        match part {
            None => {
                self.embeddings.insert(message, vector);
            }
            Some(i) => {
                self.parts.insert((message, i), vector);
            }
        }
    }

    pub fn embedding(&self, message: Uuid) -> Option<&[f32]> {
        self.embeddings.get(&message).map(|v| &v[..])
    }

    pub fn part_embedding(&self, message: Uuid, part: usize) -> Option<&[f32]> {
        self.parts.get(&(message, part)).map(|v| &v[..])
    }
}

/// Which door a message came through: `wechat:<account>` or `webhook:<channel>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelRef {
    Wechat { account: String },
    Webhook { channel: String },
}

impl ChannelRef {
    /// The stored form, as in `residents.channel`.
    pub fn key(&self) -> String {
        match self {
            ChannelRef::Wechat { account } => format!("wechat:{account}"),
            ChannelRef::Webhook { channel } => format!("webhook:{channel}"),
        }
    }

    pub fn parse_key(key: &str) -> Option<Self> {
        let (kind, name) = key.split_once(':')?;
        match kind {
            "wechat" => Some(ChannelRef::Wechat {
                account: name.to_owned(),
            }),
            "webhook" => Some(ChannelRef::Webhook {
                channel: name.to_owned(),
            }),
            _ => None,
        }
    }
}

/// What the resident sent, whatever the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    Text {
        text: String,
    },
    /// A voice message; WeChat's speech recognition, when present, is used as text.
    Voice {
        media_id: Option<String>,
        recognition: Option<String>,
    },
    Image {
        url: Option<String>,
        media_id: Option<String>,
    },
    Video {
        media_id: Option<String>,
    },
    Location {
        lat: f64,
        lng: f64,
        label: Option<String>,
    },
    Link {
        title: Option<String>,
        description: Option<String>,
        url: Option<String>,
    },
    Event(PlatformEvent),
    /// A type we do not handle; acknowledged and stored, nothing else.
    Unsupported {
        msg_type: String,
    },
}

impl MessageBody {
    /// The text to understand, if the message carries any.
    pub fn text(&self) -> Option<&str> {
        match self {
            MessageBody::Text { text } => Some(text),
            MessageBody::Voice {
                recognition: Some(r),
                ..
            } => Some(r),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &str {
        match self {
            MessageBody::Text { .. } => "text",
            MessageBody::Voice { .. } => "voice",
            MessageBody::Image { .. } => "image",
            MessageBody::Video { .. } => "video",
            MessageBody::Location { .. } => "location",
            MessageBody::Link { .. } => "link",
            MessageBody::Event(_) => "event",
            MessageBody::Unsupported { msg_type } => msg_type,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PlatformEvent {
    Subscribe { scene: Option<String> },
    Unsubscribe,
    Click { key: String },
    View { url: String },
    Scan { key: Option<String> },
    Location { lat: f64, lng: f64 },
    Other { name: String },
}

/// A stored inbound message, as the dialogue receives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboundMessage {
    /// `inbound_messages.id`.
    pub id: Uuid,
    pub channel: ChannelRef,
    pub resident_id: Uuid,
    /// The platform's id of the resident (openid, user_id).
    pub external_user: String,
    pub received_at: DateTime<Utc>,
    pub body: MessageBody,
}

/// What the dialogue decided. `reply` is what the resident sees now (may be empty);
/// `after_commit` runs once the transaction that recorded it has committed (e.g. pushing a
/// new ticket onto its Redis queue).
#[derive(Default)]
pub struct Outcome {
    pub reply: String,
    /// What the reply does, in machine-readable words (`read_back`, `filed`, …), so a
    /// client or a test can tell without reading the text. Empty when it says nothing.
    pub acts: Vec<String>,
    pub after_commit: Vec<BoxFuture<'static, ()>>,
}

impl Outcome {
    pub fn reply(text: impl Into<String>) -> Self {
        Self {
            reply: text.into(),
            acts: Vec::new(),
            after_commit: Vec::new(),
        }
    }
}

/// The one entry point for understanding. `handle` runs inside the transaction that marks
/// the message processed, so whatever it writes (tickets, outbox rows) commits with it or
/// not at all; what needs no database is worked out before that transaction opens
/// (`prepare`).
#[async_trait]
pub trait Dialogue: Send + Sync {
    /// Called before the messages' transaction opens, so that a slow call outside
    /// PostgreSQL (the semantic encoder) holds no resident's lock and no pooled connection
    /// while it waits. The default prepares nothing.
    async fn prepare(&self, _msgs: &[InboundMessage]) -> Prepared {
        Prepared::default()
    }

    async fn handle(
        &self,
        conn: &mut sqlx::PgConnection,
        msg: &InboundMessage,
        prepared: &Prepared,
    ) -> anyhow::Result<Outcome>;

    /// Several messages in one transaction, stepped in order (one resident's messages keep
    /// their order). The default handles them one by one.
    async fn handle_many(
        &self,
        conn: &mut sqlx::PgConnection,
        msgs: &[InboundMessage],
        prepared: &Prepared,
    ) -> anyhow::Result<ManyOutcome> {
        let mut outcomes = Vec::with_capacity(msgs.len());
        for msg in msgs {
            outcomes.push(self.handle(conn, msg, prepared).await?);
        }
        Ok(ManyOutcome {
            outcomes,
            undo: None,
        })
    }
}

/// What [`Dialogue::handle_many`] produced: an outcome per message, in order.
#[derive(Default)]
pub struct ManyOutcome {
    pub outcomes: Vec<Outcome>,
    /// Puts back what the batch changed outside PostgreSQL (dialogue sessions in Redis);
    /// run when the transaction does not commit, before it releases its locks, so the
    /// messages can be handled again from where they started.
    pub undo: Option<BoxFuture<'static, ()>>,
}

/// Acknowledges every message. Used where no real dialogue is wired (some tests).
pub struct AcknowledgeOnly;

#[async_trait]
impl Dialogue for AcknowledgeOnly {
    async fn handle(
        &self,
        _: &mut sqlx::PgConnection,
        msg: &InboundMessage,
        _: &Prepared,
    ) -> anyhow::Result<Outcome> {
        Ok(match msg.body.text() {
            Some(_) => Outcome::reply("收到,我们会尽快处理。"),
            None => Outcome::default(),
        })
    }
}
