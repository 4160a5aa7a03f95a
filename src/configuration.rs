//! Typed configuration: `config/default.toml` (or the file named by `GUANJIA_CONFIG`),
//! overridden by `GUANJIA_<SECTION>__<KEY>` variables and by `DATABASE_URL` / `REDIS_URL`.
//!
//! Everything a deployment changes lives here, so the rest of the code never reads the
//! environment itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    #[serde(default)]
    pub ingest: IngestSettings,
    pub redis: RedisSettings,
    pub locale: LocaleSettings,
    pub service: ServiceSettings,
    #[serde(default)]
    pub wechat: WechatSettings,
    #[serde(default)]
    pub webhook: WebhookSettings,
    pub dialogue: DialogueSettings,
    pub understanding: UnderstandingSettings,
    pub queue: QueueSettings,
    pub survey: SurveySettings,
    pub delivery: DeliverySettings,
    pub schedule: ScheduleSettings,
    pub escalation: EscalationSettings,
    /// kind → urgency → limits, e.g. `sla.repair.emergency.respond = "15m"`.
    #[serde(default)]
    pub sla: BTreeMap<String, BTreeMap<String, SlaSettings>>,
    pub severity: SeveritySettings,
    #[serde(default)]
    pub buildings: Vec<BuildingSettings>,
}

/// How inbound messages are grouped for storing and processing (group commit).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IngestSettings {
    /// At most this many messages share one commit.
    pub max_batch: usize,
    /// Batches in flight at once; each holds a database connection while it runs.
    pub in_flight: usize,
    /// Arrivals that may wait for a batch before requests wait to hand theirs over.
    pub queue: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            max_batch: 64,
            in_flight: 4,
            queue: 4096,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub addr: String,
    pub max_body_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub reply_budget: Duration,
    pub public_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: SecretString,
    pub key_prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LocaleSettings {
    pub utc_offset_hours: i32,
    pub default: String,
}

impl LocaleSettings {
    pub fn offset(&self) -> chrono::FixedOffset {
        chrono::FixedOffset::east_opt(self.utc_offset_hours * 3600)
            .unwrap_or_else(|| chrono::Utc.fix())
    }
}

use chrono::Offset;

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    pub company: String,
    pub duty_phone: String,
    pub desk_hours: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WechatSettings {
    #[serde(default)]
    pub accounts: BTreeMap<String, WechatAccount>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WechatAccount {
    pub token: SecretString,
    pub appid: String,
    pub secret: SecretString,
    #[serde(default)]
    pub encoding_aes_key: Option<SecretString>,
    #[serde(default)]
    pub previous_encoding_aes_key: Option<SecretString>,
    pub api_base: String,
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    #[serde(with = "humantime_serde", default = "default_skew")]
    pub max_skew: Duration,
    #[serde(default)]
    pub channels: BTreeMap<String, WebhookChannel>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_skew: default_skew(),
            channels: BTreeMap::new(),
        }
    }
}

fn default_skew() -> Duration {
    Duration::from_secs(300)
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookChannel {
    pub secret: SecretString,
    pub callback_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DialogueSettings {
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub draft_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub handoff_idle_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UnderstandingSettings {
    pub lexicon: PathBuf,
    pub faq: PathBuf,
    pub prompts_dir: PathBuf,
    /// The semantic tier's heads (`guanjia train` writes them); read only when an encoder
    /// is configured.
    #[serde(default = "default_heads")]
    pub heads: PathBuf,
    #[serde(default)]
    pub encoder: crate::understanding::encoder::EncoderSettings,
}

fn default_heads() -> PathBuf {
    PathBuf::from("config/nlu-heads.json")
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueueSettings {
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    #[serde(with = "humantime_serde")]
    pub reconcile_every: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SurveySettings {
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
    #[serde(with = "humantime_serde")]
    pub reminder_after: Duration,
    #[serde(with = "humantime_serde")]
    pub manual_after: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliverySettings {
    #[serde(with = "humantime_serde")]
    pub poll_every: Duration,
    pub max_attempts: i32,
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    #[serde(with = "humantime_serde")]
    pub http_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduleSettings {
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    /// How often an instance that is not the scheduler tries to become it.
    #[serde(with = "humantime_serde", default = "default_leader_retry")]
    pub leader_retry: Duration,
}

fn default_leader_retry() -> Duration {
    Duration::from_secs(5)
}

#[derive(Debug, Clone, Deserialize)]
pub struct EscalationSettings {
    pub channel: String,
    #[serde(default)]
    pub webhook_url: String,
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    #[serde(default)]
    pub wecom_api_base: String,
    #[serde(default)]
    pub wecom_corpid: String,
    #[serde(default)]
    pub wecom_secret: Option<SecretString>,
    #[serde(default)]
    pub wecom_agentid: i64,
    /// Time between one escalation level and the next while the ticket stays late.
    #[serde(with = "humantime_serde", default = "default_level_interval")]
    pub level_interval: Duration,
    /// The new expected time promised to a resident when a resolution deadline passes.
    #[serde(with = "humantime_serde", default = "default_delay_extension")]
    pub delay_extension: Duration,
    /// Open complaints get a progress message at least this often.
    #[serde(with = "humantime_serde", default = "default_progress_every")]
    pub progress_every: Duration,
}

fn default_level_interval() -> Duration {
    Duration::from_secs(2 * 3600)
}

fn default_delay_extension() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn default_progress_every() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

/// Limits as written in the file: `"30m"`, `"7d"`, `"15wd"` (working days) or `"same_day"`.
/// `ticket::sla` gives them meaning.
#[derive(Debug, Clone, Deserialize)]
pub struct SlaSettings {
    pub respond: String,
    pub resolve: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeveritySettings {
    #[serde(with = "humantime_serde")]
    pub group_window: Duration,
    pub group_min_residents: i64,
    #[serde(with = "humantime_serde")]
    pub hot_window: Duration,
    pub hot_min_residents: i64,
    pub unresolved_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BuildingSettings {
    pub id: String,
    pub concierge: String,
    #[serde(default)]
    pub concierge_phone: String,
}

impl Settings {
    /// Loads the file named by `GUANJIA_CONFIG` (default `config/default.toml`), then the
    /// environment.
    pub fn load() -> Result<Self, config::ConfigError> {
        let path = std::env::var("GUANJIA_CONFIG").unwrap_or_else(|_| "config/default.toml".into());
        Self::load_from(Path::new(&path))
    }

    pub fn load_from(path: &Path) -> Result<Self, config::ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from(path))
            .add_source(
                config::Environment::with_prefix("GUANJIA")
                    .prefix_separator("_")
                    .separator("__"),
            );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        if let Ok(url) = std::env::var("REDIS_URL") {
            builder = builder.set_override("redis.url", url)?;
        }
        builder.build()?.try_deserialize()
    }

    pub fn concierge_for(&self, building: &str) -> Option<&BuildingSettings> {
        self.buildings.iter().find(|b| b.id == building)
    }
}
