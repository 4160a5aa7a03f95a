//! The revisit (回访) timers: ask after `survey.delay`, remind once after
//! `survey.reminder_after`, then hand a manual revisit task to the concierge after
//! `survey.manual_after`, so every resolved ticket is revisited.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Locale;
use crate::state::AppState;
use crate::ticket::lifecycle::transition;
use crate::ticket::model::{Department, Role, Status};
use crate::ticket::notify::{self, Notice, NoticeKind};
use crate::ticket::repository::Actor;
use crate::ticket::revisit::find_staff;

const BATCH: i64 = 100;

fn chrono(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn locale_of(s: &str) -> Locale {
    Locale::parse(s).unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct Resolved {
    id: Uuid,
    number: String,
    summary: String,
    locale: String,
    resident_id: Uuid,
    reopen_count: i32,
    satisfied_on_spot: bool,
}

/// Surveys resolved tickets whose delay has passed (round = reopen count + 1); tickets the
/// resident confirmed on the spot are closed without one.
pub async fn ask_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let cutoff = now - chrono(state.settings.survey.delay);
    let candidates: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT t.id FROM tickets t
         WHERE t.status = 'resolved' AND t.resolved_at <= $1
           AND NOT EXISTS (SELECT 1 FROM surveys s
                           WHERE s.ticket_id = t.id AND s.round = t.reopen_count + 1)
         ORDER BY t.resolved_at
         LIMIT $2",
    )
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(&state.db)
    .await?;
    let mut fired = 0;
    for (id,) in candidates {
        match ask_one(state, id, cutoff, now).await {
            Ok(true) => fired += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(ticket = %id, error = %e, "revisit survey not sent"),
        }
    }
    Ok(fired)
}

async fn ask_one(
    state: &AppState,
    id: Uuid,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut tx = state.db.begin().await?;
    let ticket: Option<Resolved> = sqlx::query_as(
        "SELECT id, number, summary, locale, resident_id, reopen_count, satisfied_on_spot
         FROM tickets WHERE id = $1 AND status = 'resolved' AND resolved_at <= $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(id)
    .bind(cutoff)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(t) = ticket else { return Ok(false) };
    let round = t.reopen_count + 1;
    if t.satisfied_on_spot {
        // Recorded as a revisit done on the spot, so the revisit rate counts it.
        sqlx::query(
            "INSERT INTO surveys (id, ticket_id, round, answered_at, answered_by)
             VALUES ($1, $2, $3, $4, 'on_spot') ON CONFLICT (ticket_id, round) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(t.id)
        .bind(round)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let ctx = state.ticket_context();
        transition(
            &mut tx,
            &ctx,
            t.id,
            Actor::System,
            Status::Closed,
            Some("satisfaction confirmed on the spot: no revisit needed"),
        )
        .await?;
        tx.commit().await?;
        return Ok(true);
    }
    let inserted: Option<(Uuid,)> = sqlx::query_as(
        "INSERT INTO surveys (id, ticket_id, round, asked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (ticket_id, round) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(t.id)
    .bind(round)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        return Ok(false);
    }
    let text = state.prompts.render(
        locale_of(&t.locale),
        "survey.ask",
        &[("number", &t.number), ("summary", &t.summary)],
    );
    notify::to_resident(
        &mut tx,
        t.resident_id,
        Notice {
            kind: NoticeKind::Survey,
            ticket_id: Some(t.id),
            text: &text,
            dedup_key: Some(format!("survey:{}:{round}", t.id)),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct Open {
    id: Uuid,
    ticket_id: Uuid,
    round: i32,
    number: String,
    summary: String,
    locale: String,
    resident_id: Uuid,
    building: Option<String>,
}

const OPEN_SURVEYS: &str = "SELECT s.id, s.ticket_id, s.round, t.number, t.summary, t.locale,
                                   t.resident_id, t.building
                            FROM surveys s JOIN tickets t ON t.id = s.ticket_id
                            WHERE t.status = 'resolved' AND s.answered_at IS NULL";

/// One reminder for a survey left unanswered for `survey.reminder_after`.
pub async fn remind_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let cutoff = now - chrono(state.settings.survey.reminder_after);
    let mut tx = state.db.begin().await?;
    let due: Vec<Open> = sqlx::query_as(&format!(
        "{OPEN_SURVEYS} AND s.reminded_at IS NULL AND s.manual_task_at IS NULL AND s.asked_at <= $1
         ORDER BY s.asked_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED"
    ))
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for s in &due {
        sqlx::query("UPDATE surveys SET reminded_at = $2 WHERE id = $1")
            .bind(s.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let text = state.prompts.render(
            locale_of(&s.locale),
            "survey.reminder",
            &[("number", &s.number), ("summary", &s.summary)],
        );
        notify::to_resident(
            &mut tx,
            s.resident_id,
            Notice {
                kind: NoticeKind::Survey,
                ticket_id: Some(s.ticket_id),
                text: &text,
                dedup_key: Some(format!("survey-reminder:{}:{}", s.ticket_id, s.round)),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// A manual revisit task for the building's concierge when the reminder went unanswered for
/// `survey.manual_after`.
pub async fn manual_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let cutoff = now - chrono(state.settings.survey.manual_after);
    let staff_locale = locale_of(&state.settings.locale.default);
    let mut tx = state.db.begin().await?;
    let due: Vec<Open> = sqlx::query_as(&format!(
        "{OPEN_SURVEYS} AND s.manual_task_at IS NULL AND s.reminded_at <= $1
         ORDER BY s.reminded_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED"
    ))
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for s in &due {
        sqlx::query("UPDATE surveys SET manual_task_at = $2 WHERE id = $1")
            .bind(s.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let concierge = find_staff(
            &mut tx,
            Role::Concierge,
            Some(Department::CustomerService),
            s.building.as_deref(),
        )
        .await?;
        let text = state.prompts.render(
            staff_locale,
            "survey.manual_task",
            &[("number", &s.number), ("summary", &s.summary)],
        );
        notify::to_staff(
            &mut tx,
            concierge,
            Notice {
                kind: NoticeKind::Alert,
                ticket_id: Some(s.ticket_id),
                text: &text,
                dedup_key: Some(format!("survey-manual:{}:{}", s.ticket_id, s.round)),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
