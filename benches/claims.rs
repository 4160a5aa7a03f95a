//! Claim throughput and latency under contention, against the real Redis and a fresh
//! PostgreSQL database of its own: N queued tickets, C concurrent claimers taking from one
//! department queue until it is empty (each claim = Lua script + guarded DB transaction).
//!
//! `cargo bench --bench claims` (env: CLAIMS_TICKETS, default 5000; CLAIMS_CLAIMERS, default
//! 50; DATABASE_URL / REDIS_URL as usual).

use std::sync::Arc;
use std::time::{Duration, Instant};

use guanjia::clock::SystemClock;
use guanjia::configuration::Settings;
use guanjia::domain::Locale;
use guanjia::startup::{Application, Options};
use guanjia::ticket::{self, Category, Department, Kind, NewTicket, Urgency};
use secrecy::ExposeSecret;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tickets = env_usize("CLAIMS_TICKETS", 5000);
    let claimers = env_usize("CLAIMS_CLAIMERS", 50);

    let mut settings = Settings::load_from(std::path::Path::new("config/default.toml"))?;
    settings.server.addr = "127.0.0.1:0".into();
    settings.redis.key_prefix = format!("bench{}", Uuid::new_v4().simple());
    settings.database.max_connections = 20;
    let base = settings.database.url.expose_secret().to_owned();
    let (server, _) = base
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("DATABASE_URL has no path"))?;
    let name = format!("gj_bench_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{server}/postgres")).await?;
    admin
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await?;
    admin.close().await?;
    settings.database.url = format!("{server}/{name}").into();

    let app = Application::build(
        settings,
        Arc::new(SystemClock),
        Options {
            run_migrations: true,
            workers: false,
            scheduler: false,
        },
    )
    .await?;
    let state = app.state();

    let resident = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO residents (id, channel, external_id) VALUES ($1, 'webhook:bench', 'bench')",
    )
    .bind(resident)
    .execute(&state.db)
    .await?;
    let mut staff = Vec::with_capacity(claimers);
    for i in 0..claimers {
        let new = guanjia::cli::staff::NewStaff::parse(
            &format!("worker{i}"),
            "engineering",
            "worker",
            &[],
        )
        .map_err(anyhow::Error::msg)?;
        staff.push(guanjia::cli::staff::add(&state.db, &new).await?.0);
    }
    let ctx = state.ticket_context();
    let seeded = Instant::now();
    let mut tx = state.db.begin().await?;
    let mut filed = Vec::with_capacity(tickets);
    for i in 0..tickets {
        let new = NewTicket {
            resident_id: resident,
            kind: Kind::Repair,
            category: Category::Equipment,
            urgency: [Urgency::Normal, Urgency::Urgent, Urgency::Emergency][i % 3],
            department: Department::Engineering,
            summary: format!("bench {i}"),
            description: String::new(),
            building: Some("1".into()),
            unit: None,
            room: None,
            location: None,
            contact_phone: None,
            preferred_time: None,
            locale: Locale::ZhHans,
            source_message_id: None,
            attachments: vec![],
        };
        filed.push(ticket::create(&mut tx, &ctx, new).await?);
    }
    tx.commit().await?;
    guanjia::queue::reconcile(&state.queues()).await?;
    println!("seeded {tickets} tickets in {:.2?}", seeded.elapsed());

    let queues = state.queues();
    let started = Instant::now();
    let mut handles = vec![];
    for id in staff {
        let q = queues.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = vec![];
            loop {
                let t0 = Instant::now();
                match q.claim_first(id, Department::Engineering).await {
                    Ok(Some(_)) => latencies.push(t0.elapsed()),
                    Ok(None) => return Ok::<_, anyhow::Error>(latencies),
                    Err(e) => return Err(anyhow::anyhow!("claim failed: {e}")),
                }
            }
        }));
    }
    let mut latencies = vec![];
    for h in handles {
        latencies.extend(h.await??);
    }
    let wall = started.elapsed();
    latencies.sort_unstable();

    let (claimed,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM tickets WHERE status = 'claimed'")
            .fetch_one(&state.db)
            .await?;
    println!(
        "claims: {} ok, {claimed} claimed in the database, {claimers} concurrent claimers",
        latencies.len()
    );
    println!(
        "wall {:.2?}, throughput {:.0} claims/s",
        wall,
        latencies.len() as f64 / wall.as_secs_f64()
    );
    println!(
        "latency p50 {:.2?}, p90 {:.2?}, p99 {:.2?}, max {:.2?}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    if latencies.len() != tickets || claimed as usize != tickets {
        anyhow::bail!("expected {tickets} claims");
    }

    drop(queues);
    let db = state.db.clone();
    drop(state);
    drop(app);
    db.close().await;
    // Best effort, bounded: the pool's connections may still be closing.
    let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
    let mut admin = PgConnection::connect(&format!("{server}/postgres")).await?;
    let drop_db = admin.execute(sql.as_str());
    if tokio::time::timeout(Duration::from_secs(120), drop_db)
        .await
        .is_err()
    {
        eprintln!("could not drop {name} in time; drop it by hand");
    }
    Ok(())
}
