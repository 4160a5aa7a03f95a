//! The revisit (回访) timers: ask after `survey.delay`, remind once after
//! `survey.reminder_after`, then hand a manual revisit task to the concierge after
//! `survey.manual_after`, so every resolved ticket is revisited.
//!
//! Each timer works in batches, one transaction per batch: the due rows are locked with
//! `FOR UPDATE SKIP LOCKED` (so a second scheduler, should two ever run, takes other rows),
//! marked, and their notices written with multi-row statements, all in the same
//! transaction. A few round trips and one durable commit per batch, instead of several
//! round trips and a commit per ticket, is what lets a backlog of thousands go out in
//! seconds. A pass handles at most `MAX_PER_PASS` rows of each kind (asking finds its
//! candidates once per pass, reminders and manual tasks take batches while they come back
//! full) and then tells the scheduler there may be more (`Progress::more`).
//!
//! The outbox rows are written here with one multi-row statement per batch rather than
//! through `ticket::notify` (`to_residents`: many notices in one statement).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{Acquire, PgConnection};
use uuid::Uuid;

use crate::domain::Locale;
use crate::state::AppState;
use crate::ticket::lifecycle::transition;
use crate::ticket::model::{Department, Role, Status};
use crate::ticket::notify::{self, Notice, NoticeKind};
use crate::ticket::repository::Actor;
use crate::ticket::revisit::find_staff;

/// Tickets asked, or surveys reminded or handed over, per transaction.
pub const BATCH: usize = 200;
/// Most rows of one kind handled in one scheduler pass, so that a backlog (an import of
/// old tickets, a scheduler that was down for a day) does not hold up escalations behind
/// it; the scheduler comes straight back for the rest.
pub const MAX_PER_PASS: usize = 2_000;

/// What one timer's pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Timers fired.
    pub fired: usize,
    /// The pass stopped at `MAX_PER_PASS` with rows possibly still due.
    pub more: bool,
}

/// Runs `batch` until one comes back short of `BATCH` rows or `MAX_PER_PASS` is reached.
/// `batch` returns (fired, rows taken). Reminders and manual tasks use it; their queries
/// sort all due rows for every batch (not measured at backlog sizes; asking, which did
/// the same, spent ~16 ms per sort of 10,000).
async fn in_batches<F, Fut>(mut batch: F) -> anyhow::Result<Progress>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(usize, usize)>>,
{
    let mut progress = Progress::default();
    let mut taken = 0;
    loop {
        let (fired, rows) = batch().await?;
        progress.fired += fired;
        taken += rows;
        if rows < BATCH {
            return Ok(progress);
        }
        if taken >= MAX_PER_PASS {
            progress.more = true;
            return Ok(progress);
        }
    }
}

#[derive(sqlx::FromRow)]
struct Resolved {
    id: Uuid,
    number: String,
    summary: String,
    locale: Locale,
    resident_id: Uuid,
    reopen_count: i32,
    satisfied_on_spot: bool,
}

/// Resolved tickets past the delay whose current round has no survey yet.
const DUE_FOR_SURVEY: &str = "FROM tickets t
     WHERE t.status = $3 AND t.resolved_at <= $1
       AND NOT EXISTS (SELECT 1 FROM surveys s
                       WHERE s.ticket_id = t.id AND s.round = t.reopen_count + 1)";

/// Surveys resolved tickets whose delay has passed (round = reopen count + 1); tickets the
/// resident confirmed on the spot are closed without one.
///
/// The due tickets are found once per pass (up to `MAX_PER_PASS`, oldest first), then
/// locked and asked `BATCH` at a time by id. Finding them means sorting every due ticket
/// (there is no index on `resolved_at`), so doing that once per pass rather than once per
/// batch keeps a large backlog from costing time quadratic in its size.
pub async fn ask_due(state: &AppState) -> anyhow::Result<Progress> {
    let now = state.clock.now();
    let cutoff = now - state.settings.survey.delay;
    let candidates: Vec<Uuid> = sqlx::query_scalar(&format!(
        "SELECT t.id {DUE_FOR_SURVEY} ORDER BY t.resolved_at LIMIT $2"
    ))
    .bind(cutoff)
    .bind(MAX_PER_PASS as i64)
    .bind(Status::Resolved)
    .fetch_all(&state.db)
    .await?;
    let mut fired = 0;
    for batch in candidates.chunks(BATCH) {
        match ask_batch(state, cutoff, now, batch).await {
            Ok(n) => fired += n,
            Err(e) => {
                // One bad ticket must not hold up the others: this batch again, one
                // ticket at a time.
                tracing::warn!(error = %e, "asking a batch of revisit surveys failed; asking one by one");
                for id in batch {
                    match ask_batch(state, cutoff, now, std::slice::from_ref(id)).await {
                        Ok(n) => fired += n,
                        Err(e) => {
                            tracing::warn!(ticket = %id, error = %e, "revisit survey not sent")
                        }
                    }
                }
            }
        }
    }
    Ok(Progress {
        fired,
        more: candidates.len() == MAX_PER_PASS,
    })
}

/// Locks those of `ids` that are still due and not locked by another pass (which is
/// asking them), surveys or closes them, commits. Returns how many fired.
async fn ask_batch(
    state: &AppState,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    ids: &[Uuid],
) -> anyhow::Result<usize> {
    let mut tx = state.db.begin().await?;
    // Due is checked again under the lock: another pass may have asked, or staff closed,
    // a ticket since the candidates were read.
    let due: Vec<Resolved> = sqlx::query_as(&format!(
        "SELECT t.id, t.number, t.summary, t.locale, t.resident_id, t.reopen_count,
                t.satisfied_on_spot
         {DUE_FOR_SURVEY} AND t.id = ANY ($2)
         FOR UPDATE OF t SKIP LOCKED"
    ))
    .bind(cutoff)
    .bind(ids)
    .bind(Status::Resolved)
    .fetch_all(&mut *tx)
    .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let (on_spot, to_ask): (Vec<Resolved>, Vec<Resolved>) =
        due.into_iter().partition(|t| t.satisfied_on_spot);
    let mut fired = 0;
    for t in &on_spot {
        // A savepoint each: a ticket the rules refuse to close is left for a person to
        // look at, without undoing the rest of the batch.
        let mut savepoint = tx.begin().await?;
        match close_on_spot(&mut savepoint, state, t, now).await {
            Ok(()) => {
                savepoint.commit().await?;
                fired += 1;
            }
            Err(e) => {
                savepoint.rollback().await?;
                tracing::warn!(ticket = %t.id, error = %e, "ticket confirmed on the spot not closed");
            }
        }
    }
    match ask(&mut tx, state, &to_ask, now).await {
        Ok(asked) => {
            tx.commit().await?;
            Ok(fired + asked)
        }
        Err(e) => {
            // Rolled back here, not on drop: a dropped transaction's rollback waits for
            // its connection's next use, and until then its row locks make the
            // one-by-one retry skip (SKIP LOCKED) the very tickets it should ask.
            if let Err(r) = tx.rollback().await {
                tracing::warn!(error = %r, "rolling back a failed survey batch");
            }
            Err(e)
        }
    }
}

/// Recorded as a revisit done on the spot, so the revisit rate counts it.
async fn close_on_spot(
    conn: &mut PgConnection,
    state: &AppState,
    t: &Resolved,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO surveys (id, ticket_id, round, answered_at, answered_by)
         VALUES ($1, $2, $3, $4, 'on_spot') ON CONFLICT (ticket_id, round) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(t.id)
    .bind(t.reopen_count + 1)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    transition(
        conn,
        &state.ticket_context(),
        t.id,
        Actor::System,
        Status::Closed,
        Some("satisfaction confirmed on the spot: no revisit needed"),
    )
    .await?;
    Ok(())
}

/// Inserts the surveys of `tickets` (locked by the caller) and, for each one that was not
/// there already, the question to the resident. Returns how many were asked.
async fn ask(
    conn: &mut PgConnection,
    state: &AppState,
    tickets: &[Resolved],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if tickets.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = tickets.iter().map(|_| Uuid::now_v7()).collect();
    let ticket_ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let rounds: Vec<i32> = tickets.iter().map(|t| t.reopen_count + 1).collect();
    // A conflict means another pass asked this round already: that pass wrote the
    // question, so this one must not.
    let inserted: Vec<(Uuid,)> = sqlx::query_as(
        "INSERT INTO surveys (id, ticket_id, round, asked_at)
         SELECT u.id, u.ticket_id, u.round, $4
         FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[]) AS u (id, ticket_id, round)
         ON CONFLICT (ticket_id, round) DO NOTHING
         RETURNING ticket_id",
    )
    .bind(&ids)
    .bind(&ticket_ids)
    .bind(&rounds)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let inserted: HashSet<Uuid> = inserted.into_iter().map(|(id,)| id).collect();
    let notices: Vec<notify::ResidentNotice> = tickets
        .iter()
        .filter(|t| inserted.contains(&t.id))
        .map(|t| notify::ResidentNotice {
            resident_id: t.resident_id,
            ticket_id: t.id,
            text: state.prompts.render(
                t.locale,
                "survey.ask",
                &[("number", &t.number), ("summary", &t.summary)],
            ),
            dedup_key: format!("survey:{}:{}", t.id, t.reopen_count + 1),
        })
        .collect();
    notify::to_residents(conn, NoticeKind::Survey, notices, now).await?;
    Ok(inserted.len())
}

#[derive(sqlx::FromRow)]
struct Open {
    id: Uuid,
    ticket_id: Uuid,
    round: i32,
    number: String,
    summary: String,
    locale: Locale,
    resident_id: Uuid,
    building: Option<String>,
}

const OPEN_SURVEYS: &str = "SELECT s.id, s.ticket_id, s.round, t.number, t.summary, t.locale,
                                   t.resident_id, t.building
                            FROM surveys s JOIN tickets t ON t.id = s.ticket_id
                            WHERE t.status = $3 AND s.answered_at IS NULL";

/// One reminder for a survey left unanswered for `survey.reminder_after`.
pub async fn remind_due(state: &AppState) -> anyhow::Result<Progress> {
    let now = state.clock.now();
    let cutoff = now - state.settings.survey.reminder_after;
    in_batches(|| remind_batch(state, cutoff, now)).await
}

async fn remind_batch(
    state: &AppState,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<(usize, usize)> {
    let mut tx = state.db.begin().await?;
    let due: Vec<Open> = sqlx::query_as(&format!(
        "{OPEN_SURVEYS} AND s.reminded_at IS NULL AND s.manual_task_at IS NULL AND s.asked_at <= $1
         ORDER BY s.asked_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED"
    ))
    .bind(cutoff)
    .bind(BATCH as i64)
    .bind(Status::Resolved)
    .fetch_all(&mut *tx)
    .await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let ids: Vec<Uuid> = due.iter().map(|s| s.id).collect();
    sqlx::query("UPDATE surveys SET reminded_at = $2 WHERE id = ANY ($1)")
        .bind(&ids)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let notices = due
        .iter()
        .map(|s| notify::ResidentNotice {
            resident_id: s.resident_id,
            ticket_id: s.ticket_id,
            text: state.prompts.render(
                s.locale,
                "survey.reminder",
                &[("number", &s.number), ("summary", &s.summary)],
            ),
            dedup_key: format!("survey-reminder:{}:{}", s.ticket_id, s.round),
        })
        .collect();
    notify::to_residents(&mut tx, NoticeKind::Survey, notices, now).await?;
    tx.commit().await?;
    Ok((due.len(), due.len()))
}

/// A manual revisit task for the building's concierge when the reminder went unanswered for
/// `survey.manual_after`.
pub async fn manual_due(state: &AppState) -> anyhow::Result<Progress> {
    let now = state.clock.now();
    let cutoff = now - state.settings.survey.manual_after;
    in_batches(|| manual_batch(state, cutoff, now)).await
}

async fn manual_batch(
    state: &AppState,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<(usize, usize)> {
    let staff_locale = state.settings.locale.default;
    let mut tx = state.db.begin().await?;
    let due: Vec<Open> = sqlx::query_as(&format!(
        "{OPEN_SURVEYS} AND s.manual_task_at IS NULL AND s.reminded_at <= $1
         ORDER BY s.reminded_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED"
    ))
    .bind(cutoff)
    .bind(BATCH as i64)
    .bind(Status::Resolved)
    .fetch_all(&mut *tx)
    .await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let ids: Vec<Uuid> = due.iter().map(|s| s.id).collect();
    sqlx::query("UPDATE surveys SET manual_task_at = $2 WHERE id = ANY ($1)")
        .bind(&ids)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // The concierge depends only on the building (`find_staff` is deterministic), so one
    // look-up per building in the batch.
    let mut concierges: HashMap<Option<String>, Option<Uuid>> = HashMap::new();
    for s in &due {
        let concierge = match concierges.get(&s.building) {
            Some(c) => *c,
            None => {
                let c = find_staff(
                    &mut tx,
                    Role::Concierge,
                    Some(Department::CustomerService),
                    s.building.as_deref(),
                )
                .await?;
                concierges.insert(s.building.clone(), c);
                c
            }
        };
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
    Ok((due.len(), due.len()))
}
