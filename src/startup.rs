//! Puts the process together: pools, the router, background workers, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::prompts::Prompts;
use crate::state::AppState;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn connect_db(settings: &Settings) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(settings.database.max_connections)
        // sqlx pings every connection it hands out by default: one extra round trip per
        // acquire, two per message. A connection that died is reported by the statement
        // that uses it instead, and the pool drops it.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(3))
        .connect(settings.database.url.expose_secret())
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")
}

pub async fn migrate(db: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(db).await.context("applying migrations")
}

pub async fn connect_redis(settings: &Settings) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(settings.redis.url.expose_secret()).context("REDIS_URL")?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(2))
        .set_response_timeout(Duration::from_secs(2))
        // Every command waits on a reconnect in progress, and redis 0.32 feeds `factor`
        // (default 100) to a backoff starting at 1 s: 1 s, then 60 s, 60 s — a Redis blip
        // stalled every caller for two minutes (scripts/faults/redis.sh). Retry each
        // second instead; the response timeout bounds each attempt.
        .set_factor(1)
        .set_max_delay(1000)
        .set_number_of_retries(3);
    redis::aio::ConnectionManager::new_with_config(client, config)
        .await
        .context("connecting to Redis (REDIS_URL)")
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    shutdown: CancellationToken,
    workers: Vec<JoinHandle<()>>,
}

/// What `build` starts besides the HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub run_migrations: bool,
    /// Recovery, queue reconciliation and delivery.
    pub workers: bool,
    /// The timer loop (surveys, reminders, escalation). Apart from `workers` so that a test
    /// which counts what a timer pass did can run the passes itself, with no second pass
    /// racing it.
    pub scheduler: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            run_migrations: true,
            workers: true,
            scheduler: true,
        }
    }
}

impl Application {
    pub async fn build(
        settings: Settings,
        clock: SharedClock,
        options: Options,
    ) -> anyhow::Result<Self> {
        Self::build_with_dialogue(settings, clock, options, None).await
    }

    /// [`Application::build`] with the dialogue replaced (tests that need a slow or failing
    /// one); `None` builds the real dialogue.
    pub async fn build_with_dialogue(
        settings: Settings,
        clock: SharedClock,
        options: Options,
        dialogue: Option<Arc<dyn crate::channel::Dialogue>>,
    ) -> anyhow::Result<Self> {
        // Settings may have been changed in code since they were loaded: a bad value stops
        // the start here, named by its key, before anything is connected.
        settings.validate().context("invalid configuration")?;
        let settings = Arc::new(settings);
        let db = connect_db(&settings).await?;
        if options.run_migrations {
            migrate(&db).await?;
        }
        let redis = connect_redis(&settings).await?;
        let prompts = Arc::new(Prompts::load(&settings.understanding.prompts_dir)?);
        let queue = crate::queue::build(&settings, redis.clone(), db.clone(), clock.clone());
        let dialogue = match dialogue {
            Some(dialogue) => dialogue,
            None => crate::dialogue::build(crate::dialogue::Deps {
                settings: settings.clone(),
                redis: redis.clone(),
                clock: clock.clone(),
                prompts: prompts.clone(),
                queue: queue.clone(),
                db: db.clone(),
            })?,
        };
        let (batcher, ingest_jobs) = crate::channel::ingest::Batcher::new(settings.ingest.queue);
        let ingest = crate::channel::ingest::Deps {
            settings: settings.clone(),
            db: db.clone(),
            clock: clock.clone(),
            dialogue: dialogue.clone(),
            ingest: batcher,
        };
        let shutdown = CancellationToken::new();
        let state = AppState {
            ingest: ingest.clone(),
            shutdown: shutdown.clone(),
            settings: settings.clone(),
            db,
            redis,
            clock,
            prompts,
            dialogue,
            queue,
            metrics: crate::telemetry::metrics_handle(),
        };
        tokio::spawn(crate::channel::ingest::batch::run(
            ingest,
            ingest_jobs,
            crate::channel::ingest::Limits {
                max_batch: settings.ingest.max_batch,
                in_flight: settings.ingest.in_flight,
            },
        ));
        let router = router(state.clone());
        let listener = TcpListener::bind(&settings.server.addr)
            .await
            .with_context(|| format!("binding {}", settings.server.addr))?;
        let mut workers = Vec::new();
        if options.workers {
            workers.extend(spawn_workers(&state, &shutdown));
        }
        if options.scheduler {
            workers.push(tokio::spawn(crate::schedule::scheduler(
                state.clone(),
                shutdown.clone(),
            )));
        }
        Ok(Self {
            listener,
            router,
            state,
            shutdown,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Cancel this to stop the server (in-flight requests finish) and the workers.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let token = self.shutdown.clone();
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            token.cancelled().await;
        });
        server.await.context("HTTP server")?;
        self.shutdown.cancel();
        for worker in self.workers {
            let _ = worker.await;
        }
        Ok(())
    }
}

pub fn router(state: AppState) -> Router {
    let max_body = state.settings.server.max_body_bytes;
    Router::new()
        .merge(crate::operations::router())
        .merge(crate::channel::wechat::router())
        .merge(crate::channel::webhook::router())
        .merge(crate::staff::router())
        .merge(crate::report::routes::router())
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Background work: each module owns its loop and stops when the token is cancelled.
fn spawn_workers(state: &AppState, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(crate::channel::ingest::recovery_worker(
            state.ingest.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(crate::queue::reconciler(state.queues(), shutdown.clone())),
        tokio::spawn(crate::delivery::worker(
            crate::delivery::Deps {
                settings: state.settings.clone(),
                db: state.db.clone(),
                redis: state.redis.clone(),
                clock: state.clock.clone(),
            },
            shutdown.clone(),
        )),
    ]
}

/// Cancels `token` on SIGINT or SIGTERM.
pub async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
    token.cancel();
}
