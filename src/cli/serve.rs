//! `guanjia serve` and `guanjia migrate`.

use std::sync::Arc;

use crate::clock::SystemClock;
use crate::configuration::Settings;
use crate::startup::{self, Application, Options};

pub async fn run() -> anyhow::Result<()> {
    crate::telemetry::init_tracing("info,sqlx=warn,tower_http=info");
    let settings = Settings::load()?;
    let app = Application::build(settings, Arc::new(SystemClock), Options::default()).await?;
    tracing::info!(port = app.port(), "guanjia serving");
    tokio::spawn(startup::cancel_on_signal(app.shutdown_token()));
    app.run_until_stopped().await
}

pub async fn migrate_only() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let db = startup::connect_db(&settings).await?;
    startup::migrate(&db).await?;
    println!("migrations applied");
    Ok(())
}
