//! Typed configuration: `config/default.toml` (or the file named by `GUANJIA_CONFIG`),
//! overridden by `GUANJIA_<SECTION>__<KEY>` variables and by `DATABASE_URL` / `REDIS_URL`.
//!
//! Everything a deployment changes lives here, so the rest of the code never reads the
//! environment itself.
//!
//! Parsed once, at boot, into the types the code works with: the default locale is a
//! `Locale`, the SLA table an `SlaTable`, spans of time `chrono::Duration`s and the staff
//! alert channel an enum. A value that does not parse or fit stops `load` (and so `serve`)
//! with an error naming its key (`sla.repair.urgent.resolve`, `locale.default`, …); nothing
//! later falls back to a default of its own.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::FixedOffset;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::domain::Locale;
use crate::ticket::sla::SlaTable;

/// A bad value, named by its key: `locale.default: unknown locale`.
fn bad(key: &str, why: impl std::fmt::Display) -> config::ConfigError {
    config::ConfigError::Message(format!("{key}: {why}"))
}

/// A span of time as the file writes it (`"30m"`, `"7d"`) for the clock arithmetic the code
/// does (`now - delay`): out of range is an error at load, not a fallback at use.
fn span<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::Duration, D::Error> {
    let s = String::deserialize(d)?;
    let std = humantime::parse_duration(&s)
        .map_err(|e| serde::de::Error::custom(format!("bad duration `{s}`: {e}")))?;
    chrono::Duration::from_std(std)
        .map_err(|_| serde::de::Error::custom(format!("duration `{s}` is too long")))
}

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
    pub sla: SlaTable,
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
    /// The property's time zone, written as whole hours east of UTC (`utc_offset_hours`).
    #[serde(rename = "utc_offset_hours", deserialize_with = "utc_offset")]
    pub utc_offset: FixedOffset,
    /// The staff's language, and a new resident's until they write.
    pub default: Locale,
}

impl LocaleSettings {
    pub fn offset(&self) -> FixedOffset {
        self.utc_offset
    }
}

fn utc_offset<'de, D: Deserializer<'de>>(d: D) -> Result<FixedOffset, D::Error> {
    let hours = i32::deserialize(d)?;
    (-12..=14)
        .contains(&hours)
        .then(|| FixedOffset::east_opt(hours * 3600))
        .flatten()
        .ok_or_else(|| serde::de::Error::custom(format!("{hours} is not a UTC offset (-12 to 14)")))
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    pub company: String,
    pub duty_phone: String,
    pub desk_hours: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WechatSettings {
    /// Pushes signed longer ago (or further ahead) than this are refused, and a signature
    /// is remembered for as long as it could pass (a replayed one is refused).
    #[serde(with = "humantime_serde", default = "default_skew")]
    pub max_skew: Duration,
    #[serde(default)]
    pub accounts: BTreeMap<String, WechatAccount>,
}

impl Default for WechatSettings {
    fn default() -> Self {
        Self {
            max_skew: default_skew(),
            accounts: BTreeMap::new(),
        }
    }
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
    /// Refuse plain-mode pushes when the account has a key: the plain signature covers no
    /// body, only token, timestamp and nonce.
    #[serde(default)]
    pub safe_mode_only: bool,
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
    #[serde(deserialize_with = "span")]
    pub lease: chrono::Duration,
    #[serde(with = "humantime_serde")]
    pub reconcile_every: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SurveySettings {
    #[serde(deserialize_with = "span")]
    pub delay: chrono::Duration,
    #[serde(deserialize_with = "span")]
    pub reminder_after: chrono::Duration,
    #[serde(deserialize_with = "span")]
    pub manual_after: chrono::Duration,
    /// A resolved ticket the resident says is broken again within this long is reopened
    /// from the chat rather than filed anew.
    #[serde(deserialize_with = "span")]
    pub reopen_within: chrono::Duration,
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

/// `[escalation]`: where staff alerts go and how late tickets climb.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawEscalation")]
pub struct EscalationSettings {
    /// `channel = "log" | "webhook" | "wecom"`, with that channel's keys.
    pub channel: AlertChannel,
    /// Time between one escalation level and the next while the ticket stays late.
    pub level_interval: chrono::Duration,
    /// The new expected time promised to a resident when a resolution deadline passes.
    pub delay_extension: chrono::Duration,
    /// Open complaints get a progress message at least this often.
    pub progress_every: chrono::Duration,
}

/// Where staff alerts go, tagged by `escalation.channel`.
#[derive(Debug, Clone)]
pub enum AlertChannel {
    /// Written to the log (the demo).
    Log,
    /// Posted, signed, to `escalation.webhook_url`.
    Webhook(WebhookAlerts),
    /// Sent as WeCom (企业微信) application messages.
    Wecom(WecomAlerts),
}

#[derive(Debug, Clone)]
pub struct WebhookAlerts {
    pub url: String,
    pub secret: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct WecomAlerts {
    pub api_base: String,
    pub corpid: String,
    pub secret: Option<SecretString>,
    pub agentid: i64,
}

/// `[escalation]` as the file writes it: one flat table, whichever channel is chosen.
#[derive(Deserialize)]
struct RawEscalation {
    channel: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    webhook_secret: Option<SecretString>,
    #[serde(default)]
    wecom_api_base: String,
    #[serde(default)]
    wecom_corpid: String,
    #[serde(default)]
    wecom_secret: Option<SecretString>,
    #[serde(default)]
    wecom_agentid: i64,
    #[serde(deserialize_with = "span", default = "default_level_interval")]
    level_interval: chrono::Duration,
    #[serde(deserialize_with = "span", default = "default_delay_extension")]
    delay_extension: chrono::Duration,
    #[serde(deserialize_with = "span", default = "default_progress_every")]
    progress_every: chrono::Duration,
}

impl TryFrom<RawEscalation> for EscalationSettings {
    type Error = String;

    fn try_from(r: RawEscalation) -> Result<Self, String> {
        let channel = match r.channel.as_str() {
            "log" => AlertChannel::Log,
            "webhook" => AlertChannel::Webhook(WebhookAlerts {
                url: r.webhook_url,
                secret: r.webhook_secret,
            }),
            "wecom" => AlertChannel::Wecom(WecomAlerts {
                api_base: r.wecom_api_base,
                corpid: r.wecom_corpid,
                secret: r.wecom_secret,
                agentid: r.wecom_agentid,
            }),
            other => {
                return Err(format!(
                    "escalation.channel: unknown alert channel `{other}` (log, webhook or wecom)"
                ))
            }
        };
        let settings = EscalationSettings {
            channel,
            level_interval: r.level_interval,
            delay_extension: r.delay_extension,
            progress_every: r.progress_every,
        };
        settings.check().map_err(|e| e.to_string())?;
        Ok(settings)
    }
}

impl EscalationSettings {
    /// What the alert channel needs to work.
    fn check(&self) -> Result<(), config::ConfigError> {
        let needed = |key: &str, channel: &str| {
            Err(bad(
                key,
                format!("needed when escalation.channel = \"{channel}\""),
            ))
        };
        match &self.channel {
            AlertChannel::Log => {}
            AlertChannel::Webhook(w) => {
                if w.url.trim().is_empty() {
                    return needed("escalation.webhook_url", "webhook");
                }
            }
            AlertChannel::Wecom(w) => {
                if w.api_base.trim().is_empty() {
                    return needed("escalation.wecom_api_base", "wecom");
                }
                if w.corpid.trim().is_empty() {
                    return needed("escalation.wecom_corpid", "wecom");
                }
            }
        }
        if self.level_interval <= chrono::Duration::zero() {
            return Err(bad("escalation.level_interval", "must be longer than zero"));
        }
        Ok(())
    }
}

fn default_level_interval() -> chrono::Duration {
    chrono::Duration::hours(2)
}

fn default_delay_extension() -> chrono::Duration {
    chrono::Duration::hours(24)
}

fn default_progress_every() -> chrono::Duration {
    chrono::Duration::days(7)
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeveritySettings {
    #[serde(deserialize_with = "span")]
    pub group_window: chrono::Duration,
    pub group_min_residents: i64,
    #[serde(deserialize_with = "span")]
    pub hot_window: chrono::Duration,
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
        Self::load_with_env(path, None)
    }

    /// [`Settings::load_from`] with these variables instead of the process environment
    /// (`None`: the process environment), so a test can try a bad override without
    /// changing the environment every other test reads.
    pub fn load_with_env(
        path: &Path,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, config::ConfigError> {
        let var = |name: &str| match &env {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        let mut builder = config::Config::builder()
            .add_source(config::File::from(path))
            .add_source(
                config::Environment::with_prefix("GUANJIA")
                    .prefix_separator("_")
                    .separator("__")
                    .source(env.clone()),
            );
        if let Some(url) = var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        if let Some(url) = var("REDIS_URL") {
            builder = builder.set_override("redis.url", url)?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// The checks a value's type cannot make alone. Run at load and again by
    /// `Application::build`, which may be handed settings changed in code.
    pub fn validate(&self) -> Result<(), config::ConfigError> {
        if self.database.max_connections == 0 {
            return Err(bad("database.max_connections", "must be at least 1"));
        }
        for (key, n) in [
            ("ingest.max_batch", self.ingest.max_batch),
            ("ingest.in_flight", self.ingest.in_flight),
            ("ingest.queue", self.ingest.queue),
        ] {
            if n == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        if self.delivery.max_attempts < 1 {
            return Err(bad("delivery.max_attempts", "must be at least 1"));
        }
        if self.schedule.tick.is_zero() {
            return Err(bad("schedule.tick", "must be longer than zero"));
        }
        self.escalation.check()
    }

    pub fn concierge_for(&self, building: &str) -> Option<&BuildingSettings> {
        self.buildings.iter().find(|b| b.id == building)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, config::ConfigError> {
        let env = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load_with_env(Path::new("config/default.toml"), Some(env))
    }

    #[test]
    fn the_shipped_file_loads_into_typed_values() {
        let s = load(&[]).unwrap();
        assert_eq!(s.locale.default, Locale::ZhHans);
        assert_eq!(s.locale.offset(), FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(s.queue.lease, chrono::Duration::minutes(30));
        assert!(matches!(s.escalation.channel, AlertChannel::Log));
    }

    #[test]
    fn a_bad_value_is_refused_and_named_by_its_key() {
        for (key, var, value) in [
            (
                "sla.repair.urgent.resolve",
                "GUANJIA_SLA__REPAIR__URGENT__RESOLVE",
                "soon",
            ),
            ("locale.default", "GUANJIA_LOCALE__DEFAULT", "fr"),
            (
                "locale.utc_offset_hours",
                "GUANJIA_LOCALE__UTC_OFFSET_HOURS",
                "99",
            ),
            ("queue.lease", "GUANJIA_QUEUE__LEASE", "a while"),
            (
                "escalation.channel",
                "GUANJIA_ESCALATION__CHANNEL",
                "pigeon",
            ),
            ("ingest.max_batch", "GUANJIA_INGEST__MAX_BATCH", "0"),
        ] {
            let err = load(&[(var, value)])
                .err()
                .unwrap_or_else(|| panic!("{var} accepted"));
            assert!(err.to_string().contains(key), "{var}: {err}");
        }
        let err = load(&[("GUANJIA_ESCALATION__CHANNEL", "webhook")])
            .expect_err("a webhook channel without a URL");
        assert!(err.to_string().contains("escalation.webhook_url"), "{err}");
    }

    #[test]
    fn an_sla_for_an_unknown_kind_is_refused() {
        let err = load(&[("GUANJIA_SLA__REPIAR__NORMAL__RESPOND", "1h")]).expect_err("refused");
        assert!(err.to_string().contains("sla"), "{err}");
    }
}
