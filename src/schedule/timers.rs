//! Timer rows (`timers` table): one-off business timers that cannot be read off ticket
//! columns. Each due row is taken under `FOR UPDATE SKIP LOCKED` and marked fired in the
//! same transaction as its effect, so it fires once however many instances look.
//!
//! Kinds: `delay_followup` — the new time promised to a resident has come; if the ticket is
//! still not resolved, tell them again with another new time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::escalation::send_delay_notice;
use crate::state::AppState;

/// Most timers fired in one pass.
const MAX_PER_PASS: usize = 500;

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    kind: String,
    ticket_id: Option<Uuid>,
}

pub async fn fire_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let mut fired = 0;
    while fired < MAX_PER_PASS {
        let mut tx = state.db.begin().await?;
        let due: Option<Due> = sqlx::query_as(
            "SELECT id, kind, ticket_id FROM timers
             WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1
             ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(timer) = due else { break };
        fire(&mut tx, state, &timer, now).await?;
        sqlx::query("UPDATE timers SET fired_at = $2 WHERE id = $1")
            .bind(timer.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        fired += 1;
    }
    Ok(fired)
}

async fn fire(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    timer: &Due,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    match (timer.kind.as_str(), timer.ticket_id) {
        ("delay_followup", Some(ticket)) => {
            send_delay_notice(
                conn,
                state,
                ticket,
                format!("delay:{ticket}:followup:{}", timer.id),
                now,
            )
            .await?;
        }
        (kind, _) => tracing::warn!(timer = %timer.id, kind, "unknown timer kind; marked fired"),
    }
    Ok(())
}
