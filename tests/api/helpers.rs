#![allow(dead_code)] // each test module uses a different part
//! `spawn_app()` and friends.

use std::sync::Arc;

use chrono::Utc;
use guanjia::channel::{AcknowledgeOnly, Dialogue};
use guanjia::clock::ManualClock;
use guanjia::configuration::Settings;
use guanjia::startup::{Application, Options};
use guanjia::state::AppState;
use secrecy::ExposeSecret;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db: PgPool,
    pub settings: Settings,
    pub state: AppState,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Test configuration: the shipped defaults with a random port, a fresh database and a
/// Redis prefix of its own.
pub fn test_settings() -> Settings {
    let mut settings = Settings::load_from(std::path::Path::new("config/default.toml"))
        .expect("config/default.toml loads");
    settings.server.addr = "127.0.0.1:0".into();
    settings.redis.key_prefix = format!("test{}", Uuid::new_v4().simple());
    settings.database.max_connections = 10;
    // The suite reads with the lexicon alone, so that no test's outcome hangs on a model
    // or its timing; tests of the semantic tier switch it on (`with_encoder`).
    settings.understanding.encoder.url = String::new();
    settings
}

/// Points the semantic tier at the local encoder (`scripts/ensure-encoder.sh`), with a
/// budget generous enough for a loaded CI machine.
pub fn with_encoder(settings: &mut Settings) {
    let port = std::env::var("GUANJIA_ENCODER_PORT").unwrap_or_else(|_| "8765".into());
    settings.understanding.encoder.url = format!("http://127.0.0.1:{port}/v1/embeddings");
    settings.understanding.encoder.timeout = std::time::Duration::from_secs(10);
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    guanjia::telemetry::init_tracing(&std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()));
    let mut settings = test_settings();
    settings.database.url = create_database(settings.database.url.expose_secret())
        .await
        .into();
    customise(&mut settings);
    start(
        settings,
        ManualClock::new(Utc::now()),
        None,
        Workers::AllButScheduler,
    )
    .await
}

/// Starts another instance with exactly these settings (same database and Redis prefix as
/// an earlier app, say) and this clock: a restart, or a second instance beside the first.
pub async fn spawn_app_on(settings: Settings, clock: ManualClock) -> TestApp {
    start(settings, clock, None, Workers::AllButScheduler).await
}

/// `spawn_app_with`, with the timer loop running too: only for tests of the loop itself
/// (leadership, ticks). Every other test drives timers with `run_due`, so that no background
/// pass races the one it counts.
pub async fn spawn_app_with_scheduler(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    settings.database.url = create_database(settings.database.url.expose_secret())
        .await
        .into();
    customise(&mut settings);
    start(settings, ManualClock::new(Utc::now()), None, Workers::All).await
}

/// `spawn_app_on`, with the timer loop running.
pub async fn spawn_app_on_with_scheduler(settings: Settings, clock: ManualClock) -> TestApp {
    start(settings, clock, None, Workers::All).await
}

/// Which background loops a test app runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    None,
    /// Recovery, reconciliation and delivery, but no timer loop.
    AllButScheduler,
    All,
}

/// `spawn_app_with`, but with the dialogue replaced and the background workers off (so a
/// test decides when recovery runs and outbox rows stay where they were written).
pub async fn spawn_app_with_dialogue(
    dialogue: Arc<dyn Dialogue>,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_app_with_dialogue_and_workers(dialogue, false, customise).await
}

pub async fn spawn_app_with_dialogue_and_workers(
    dialogue: Arc<dyn Dialogue>,
    workers: bool,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings();
    settings.database.url = create_database(settings.database.url.expose_secret())
        .await
        .into();
    customise(&mut settings);
    let workers = if workers {
        Workers::AllButScheduler
    } else {
        Workers::None
    };
    start(
        settings,
        ManualClock::new(Utc::now()),
        Some(dialogue),
        workers,
    )
    .await
}

/// An app whose dialogue only acknowledges: for tests of the doors themselves, whose
/// replies must not depend on what the dialogue makes of the words.
pub async fn spawn_channel_app() -> TestApp {
    spawn_app_with_dialogue_and_workers(Arc::new(AcknowledgeOnly), true, |_| {}).await
}

async fn start(
    settings: Settings,
    clock: ManualClock,
    dialogue: Option<Arc<dyn Dialogue>>,
    workers: Workers,
) -> TestApp {
    guanjia::telemetry::init_tracing(&std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()));
    let options = Options {
        run_migrations: true,
        workers: workers != Workers::None,
        scheduler: workers == Workers::All,
    };
    let app = Application::build_with_dialogue(
        settings.clone(),
        Arc::new(clock.clone()),
        options,
        dialogue,
    )
    .await
    .expect("app builds");
    let port = app.port();
    let state = app.state();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        db: state.db.clone(),
        settings,
        state,
        clock,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        shutdown,
    }
}

/// Creates `gj_test_<uuid>` on the server named by `base_url` and returns its URL.
pub async fn create_database(base_url: &str) -> String {
    let name = format!("gj_test_{}", Uuid::new_v4().simple());
    let (server, _) = base_url.rsplit_once('/').expect("database URL has a path");
    let mut conn = PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL is reachable (run scripts/ensure-services.sh)");
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create test database");
    format!("{server}/{name}")
}
