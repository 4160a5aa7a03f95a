//! SLA escalation (逐级升级) and what late tickets tell residents.
//!
//! A ticket is late when its response deadline passes while nobody has claimed it, or its
//! resolution deadline passes while it is unresolved. It then climbs one level per
//! `escalation.level_interval`: 1 = the building's concierge and the department's
//! supervisor, 2 = the customer-service supervisor, 3 = the project manager. When the
//! resolution deadline passes the resident is told of the delay, its reason and a new
//! expected time; open complaints get a progress message at least every
//! `escalation.progress_every`.
//!
//! The rules themselves (late since when, which level, who hears) are pure and live beside
//! the SLA clocks in `ticket::escalation`; this module finds late tickets, records the
//! climb and sends the notices.

use chrono::{DateTime, FixedOffset, Utc};
use uuid::Uuid;

use crate::domain::Locale;
use crate::state::AppState;
use crate::ticket::model::{Department, EscalationLevel, Kind, Status};
use crate::ticket::notify::{self, Notice, NoticeKind};
use crate::ticket::repository::{record, Actor, Event};
use crate::ticket::revisit::find_staff;

pub use crate::ticket::escalation::{breach, recipients, target_level, Reason, Scope, TOP_LEVEL};

const BATCH: i64 = 100;

#[derive(sqlx::FromRow)]
struct Late {
    id: Uuid,
    number: String,
    summary: String,
    status: String,
    department: String,
    building: Option<String>,
    locale: Locale,
    resident_id: Uuid,
    reopen_count: i32,
    escalation_level: i16,
    respond_due_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
}

const LATE_COLUMNS: &str = "id, number, summary, status, department, building, locale, resident_id,
                            reopen_count, escalation_level, respond_due_at, due_at";

pub async fn escalate_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let interval = state.settings.escalation.level_interval;
    let candidates: Vec<(Uuid,)> = sqlx::query_as(
        "WITH c AS (
             SELECT id, escalation_level,
                    LEAST(CASE WHEN status = ANY($5) THEN respond_due_at END,
                          due_at) AS since
             FROM tickets
             WHERE status = ANY($6)
               AND escalation_level < $3)
         SELECT id FROM c
         WHERE since <= $1 AND since + make_interval(secs => escalation_level * $2) <= $1
         ORDER BY since LIMIT $4",
    )
    .bind(now)
    .bind(interval.num_seconds() as f64)
    .bind(TOP_LEVEL)
    .bind(BATCH)
    .bind(Status::QUEUED)
    .bind(Status::WORKING)
    .fetch_all(&state.db)
    .await?;
    let mut fired = 0;
    for (id,) in candidates {
        match escalate_one(state, id, now).await {
            Ok(n) => fired += n,
            Err(e) => tracing::warn!(ticket = %id, error = %e, "escalation failed"),
        }
    }
    Ok(fired)
}

async fn escalate_one(state: &AppState, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut tx = state.db.begin().await?;
    let ticket: Option<Late> = sqlx::query_as(&format!(
        "SELECT {LATE_COLUMNS} FROM tickets WHERE id = $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(t) = ticket else { return Ok(0) };
    let Some(status) = Status::parse(&t.status) else {
        return Ok(0);
    };
    let Some((since, reason)) = breach(status, t.respond_due_at, t.due_at, now) else {
        return Ok(0);
    };
    let target = target_level(since, now, state.settings.escalation.level_interval);
    if target <= t.escalation_level {
        return Ok(0);
    }
    let staff_locale = state.settings.locale.default;
    let department = Department::parse(&t.department);
    let reason_text = state.prompts.get(staff_locale, reason.prompt()).to_owned();
    for level in (t.escalation_level + 1)..=target {
        let text = state.prompts.render(
            staff_locale,
            &format!("escalation.level{level}"),
            &[
                ("number", &t.number),
                ("summary", &t.summary),
                ("reason", &reason_text),
            ],
        );
        for (role, scope) in recipients(level) {
            let (dept, building) = match scope {
                Scope::Building => (Some(Department::CustomerService), t.building.as_deref()),
                Scope::Department => (department, None),
                Scope::CustomerService => (Some(Department::CustomerService), None),
                Scope::Anyone => (None, None),
            };
            let staff = find_staff(&mut tx, *role, dept, building).await?;
            notify::to_staff(
                &mut tx,
                staff,
                Notice {
                    kind: NoticeKind::Alert,
                    ticket_id: Some(t.id),
                    text: &text,
                    dedup_key: Some(format!(
                        "escalate:{}:{}:{level}:{}",
                        t.id,
                        t.reopen_count,
                        role.as_str()
                    )),
                },
                now,
            )
            .await?;
        }
        record(
            &mut tx,
            t.id,
            now,
            Actor::System,
            Event::Escalated {
                level: EscalationLevel(level),
                reason: &reason_text,
            },
        )
        .await?;
        tracing::warn!(ticket = %t.number, level, ?reason, "ticket escalated");
        metrics::counter!("guanjia_escalations_total", "level" => level.to_string()).increment(1);
    }
    sqlx::query("UPDATE tickets SET escalation_level = $2, updated_at = $3 WHERE id = $1")
        .bind(t.id)
        .bind(target)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(usize::from((target - t.escalation_level) as u8))
}

/// "11月24日 18:00" / "24 Nov 18:00", in the property's time zone.
pub fn format_time(t: DateTime<Utc>, offset: FixedOffset, locale: Locale) -> String {
    let local = t.with_timezone(&offset);
    match locale {
        Locale::En => local.format("%-d %b %H:%M").to_string(),
        Locale::ZhHans | Locale::ZhHant => local.format("%-m月%-d日 %H:%M").to_string(),
    }
}

/// Writes the delay notice (the reason and a new expected time) and the timer that checks
/// again at that time. `dedup_key` makes it once per deadline; returns whether it was new.
pub(crate) async fn send_delay_notice(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    ticket_id: Uuid,
    dedup_key: String,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let t: Option<Late> =
        sqlx::query_as(&format!("SELECT {LATE_COLUMNS} FROM tickets WHERE id = $1"))
            .bind(ticket_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(t) = t else { return Ok(false) };
    let Some(status) = Status::parse(&t.status) else {
        return Ok(false);
    };
    if !matches!(
        status,
        Status::Queued | Status::Reopened | Status::Claimed | Status::InProgress
    ) {
        return Ok(false);
    }
    let locale = t.locale;
    let promised = now + state.settings.escalation.delay_extension;
    let reason_key = if status.is_queued() {
        "escalation.delay_reason_waiting"
    } else {
        "escalation.delay_reason_working"
    };
    let reason = state.prompts.get(locale, reason_key).to_owned();
    let time = format_time(promised, state.settings.locale.offset(), locale);
    let text = state.prompts.render(
        locale,
        "escalation.delay",
        &[("number", &t.number), ("reason", &reason), ("time", &time)],
    );
    let sent = notify::to_resident(
        conn,
        t.resident_id,
        Notice {
            kind: NoticeKind::Status,
            ticket_id: Some(t.id),
            text: &text,
            dedup_key: Some(dedup_key.clone()),
        },
        now,
    )
    .await?;
    if sent.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO timers (id, kind, ticket_id, due_at, payload, dedup_key)
         VALUES ($1, 'delay_followup', $2, $3, $4, $5)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(t.id)
    .bind(promised)
    .bind(serde_json::json!({"promised": promised}))
    .bind(format!("followup:{dedup_key}"))
    .execute(&mut *conn)
    .await?;
    record(
        conn,
        t.id,
        now,
        Actor::System,
        Event::DelayNotified { new_time: &time },
    )
    .await?;
    Ok(true)
}

/// Residents whose resolution deadline has just passed hear of the delay.
pub async fn delay_notices_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let due: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT t.id, t.due_at FROM tickets t
         WHERE t.status = ANY($3) AND t.due_at <= $1
           AND NOT EXISTS (SELECT 1 FROM outbox o
                           WHERE o.dedup_key = 'delay:' || t.id || ':' || floor(extract(epoch FROM t.due_at))::bigint)
         ORDER BY t.due_at LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .bind(Status::WORKING)
    .fetch_all(&state.db)
    .await?;
    let mut fired = 0;
    for (id, due_at) in due {
        let mut tx = state.db.begin().await?;
        let key = format!("delay:{id}:{}", due_at.timestamp());
        if send_delay_notice(&mut tx, state, id, key, now).await? {
            fired += 1;
        }
        tx.commit().await?;
    }
    Ok(fired)
}

/// Open complaints whose resident has heard nothing for `escalation.progress_every`.
pub async fn progress_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let every = state.settings.escalation.progress_every;
    let due: Vec<Late> = sqlx::query_as(&format!(
        "SELECT {LATE_COLUMNS} FROM tickets t
         WHERE t.kind = $3 AND t.status = ANY($4)
           AND t.created_at <= $1
           AND NOT EXISTS (SELECT 1 FROM outbox o
                           WHERE o.ticket_id = t.id AND o.recipient_kind = 'resident'
                             AND o.created_at > $1)
         ORDER BY t.created_at LIMIT $2"
    ))
    .bind(now - every)
    .bind(BATCH)
    .bind(Kind::Complaint)
    .bind(Status::WORKING)
    .fetch_all(&state.db)
    .await?;
    let mut fired = 0;
    let mut conn = state.db.acquire().await?;
    for t in due {
        let Some(status) = Status::parse(&t.status) else {
            continue;
        };
        let locale = t.locale;
        let status_key = if status.is_queued() {
            "escalation.status_waiting"
        } else {
            "escalation.status_working"
        };
        let status_text = state.prompts.get(locale, status_key).to_owned();
        let text = state.prompts.render(
            locale,
            "escalation.progress",
            &[
                ("number", &t.number),
                ("summary", &t.summary),
                ("status", &status_text),
            ],
        );
        let sent = notify::to_resident(
            &mut conn,
            t.resident_id,
            Notice {
                kind: NoticeKind::Status,
                ticket_id: Some(t.id),
                text: &text,
                dedup_key: Some(format!(
                    "progress:{}:{}",
                    t.id,
                    now.timestamp() / every.num_seconds().max(1)
                )),
            },
            now,
        )
        .await?;
        fired += usize::from(sent.is_some());
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_local_and_in_the_residents_language() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        assert_eq!(format_time(t, offset, Locale::ZhHans), "11月24日 18:00");
        assert_eq!(format_time(t, offset, Locale::En), "24 Nov 18:00");
    }
}
