//! Timers: revisit surveys, their reminder and manual follow-up, SLA escalation, delay and
//! progress notices. Business timers are rows or queries over ticket columns, never sleeps
//! in memory, so a restart loses none; each fires once because its mark (a survey row, an
//! escalation level, a dedup key, `timers.fired_at`) is written in the same transaction as
//! its effect. Only the instance holding the scheduler lock (`leader`) runs them, but every
//! pass is also safe to run concurrently (`FOR UPDATE SKIP LOCKED`, unique dedup keys).

pub mod escalation;
pub mod leader;
pub mod survey;
pub mod timers;

use std::time::Duration;

use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub async fn scheduler(state: AppState, shutdown: CancellationToken) {
    let url = state.settings.database.url.expose_secret().to_owned();
    let tick = state.settings.schedule.tick;
    let retry = state.settings.schedule.leader_retry;
    while !shutdown.is_cancelled() {
        match leader::try_lead(&url).await {
            Ok(Some(mut lead)) => {
                tracing::info!("this instance now runs the scheduler");
                loop {
                    let more = match run_pass(&state).await {
                        Ok(pass) => pass.more,
                        Err(e) => {
                            tracing::warn!(error = %e, "scheduler pass failed");
                            false
                        }
                    };
                    // A pass that stopped at its cap goes again at once: a backlog is
                    // worked off at full speed, and the other timers still get their turn
                    // between rounds.
                    let pause = if more { Duration::ZERO } else { tick };
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                    if !lead.still_leading().await {
                        tracing::warn!("lost the scheduler lock's connection");
                        break;
                    }
                }
                lead.resign().await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not try for the scheduler lock"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(retry) => {}
        }
    }
}

/// What one scheduler pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Timers fired.
    pub fired: usize,
    /// Some timer stopped at its per-pass cap with more still due.
    pub more: bool,
}

/// One pass over everything that is due at `state.clock.now()`; returns how many timers
/// fired. The scheduler loop calls it every tick; tests call it after moving the clock.
/// Each kind of timer handles at most `survey::MAX_PER_PASS` (or its own cap) per pass.
pub async fn run_due(state: &AppState) -> anyhow::Result<usize> {
    Ok(run_pass(state).await?.fired)
}

/// `run_due`, also saying whether a timer left work for another pass.
pub async fn run_pass(state: &AppState) -> anyhow::Result<Pass> {
    let mut fired = 0;
    let mut more = false;
    for progress in [
        survey::ask_due(state).await?,
        survey::remind_due(state).await?,
        survey::manual_due(state).await?,
    ] {
        fired += progress.fired;
        more |= progress.more;
    }
    fired += escalation::escalate_due(state).await?;
    fired += escalation::delay_notices_due(state).await?;
    fired += escalation::progress_due(state).await?;
    fired += timers::fire_due(state).await?;
    fired += raise_overdue_complaints(state).await?;
    if fired > 0 {
        metrics::counter!("guanjia_timers_fired_total").increment(fired as u64);
    }
    Ok(Pass { fired, more })
}

/// Complaints still unresolved after `severity.unresolved_days` become level 3 (domain.md).
async fn raise_overdue_complaints(state: &AppState) -> anyhow::Result<usize> {
    let mut tx = state.db.begin().await?;
    let raised = crate::ticket::severity::raise_overdue(&mut tx, &state.ticket_context()).await?;
    tx.commit().await?;
    Ok(raised as usize)
}
