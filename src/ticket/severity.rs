//! Complaint severity (投诉等级, levels 1–4 of domain.md) and the automatic detection of
//! group, hot and repeated complaints — the patterns a person reading one message at a time
//! misses. The rules are pure functions; `assess` and `raise_overdue` feed them from the
//! database and write the result.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::context::TicketContext;
use super::model::{Kind, Severity, Status, Ticket};
use super::notify::{self, Notice, NoticeKind};
use super::repository::{self, Actor, Event};
use crate::configuration::SeveritySettings;

/// Level 4 (一般): everything not raised by a rule.
pub const ORDINARY: Severity = Severity::ORDINARY;
/// A group this large is level 2 (二级) even without a money figure.
pub const LARGE_GROUP: i64 = 10;

/// The level a group complaint (several residents of one building, same category, close in
/// time) reaches: 3–9 residents → 3, 10 or more → 2. `min` is `group_min_residents`.
pub fn group_level(distinct_residents: i64, min: i64) -> Option<i16> {
    if distinct_residents >= LARGE_GROUP.max(min) {
        Some(2)
    } else if distinct_residents >= min.max(2) {
        Some(3)
    } else {
        None
    }
}

/// 3 or more different residents with the same kind of complaint within the hot window
/// make a hot issue (热点, level 3).
pub fn hot_level(distinct_residents: i64, min: i64) -> Option<i16> {
    (distinct_residents >= min.max(2)).then_some(3)
}

/// A complaint still open `unresolved_days` after it was made is level 3.
pub fn overdue(created_at: DateTime<Utc>, now: DateTime<Utc>, unresolved_days: i64) -> bool {
    now - created_at >= Duration::days(unresolved_days)
}

/// Lower is graver: raising never lowers a level already reached.
pub fn raise(current: i16, to: Option<i16>) -> i16 {
    to.map_or(current, |l| current.min(l))
}

/// A level the rules computed (always 1 to 4; the column's CHECK holds the same).
fn severity_of(level: i16) -> Severity {
    Severity::new(level).unwrap_or(Severity::ORDINARY)
}

/// Only complaints are graded; repairs and the rest are excluded from "same kind" counts.
pub fn graded(kind: Kind) -> bool {
    kind == Kind::Complaint
}

/// Grades a just-filed ticket in the caller's transaction: group and hot detection (linking
/// the tickets by `group_id` and raising all of them), and the important mark for a
/// complaint repeated after closure. Returns the ticket as stored afterwards.
pub async fn assess(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    ticket: Ticket,
) -> anyhow::Result<Ticket> {
    if !graded(ticket.kind) {
        return Ok(ticket);
    }
    let rules: &SeveritySettings = &ctx.settings.severity;
    let now = ctx.clock.now();

    let (repeated,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE resident_id = $1 AND category = $2
             AND kind = $4 AND status = $5 AND id <> $3)",
    )
    .bind(ticket.resident_id)
    .bind(ticket.category)
    .bind(ticket.id)
    .bind(Kind::Complaint)
    .bind(Status::Closed)
    .fetch_one(&mut *conn)
    .await?;
    if repeated {
        sqlx::query("UPDATE tickets SET important = TRUE WHERE id = $1")
            .bind(ticket.id)
            .execute(&mut *conn)
            .await?;
        repository::record(
            conn,
            ticket.id,
            now,
            Actor::System,
            Event::Important {
                reason: "repeated after closure",
            },
        )
        .await?;
    }

    if let Some(building) = &ticket.building {
        let window = rules.group_window;
        let peers = peers(conn, &ticket, Some(building), now - window).await?;
        let level = group_level(distinct(&peers), rules.group_min_residents);
        link(conn, ctx, &peers, level, "group complaint").await?;
    }
    let window = rules.hot_window;
    let peers = peers(conn, &ticket, None, now - window).await?;
    let level = hot_level(distinct(&peers), rules.hot_min_residents);
    link(conn, ctx, &peers, level, "hot issue").await?;

    Ok(repository::get(conn, ticket.id).await?.unwrap_or(ticket))
}

#[derive(Debug, sqlx::FromRow)]
struct Peer {
    id: Uuid,
    resident_id: Uuid,
    group_id: Option<Uuid>,
    severity: i16,
    number: String,
}

fn distinct(peers: &[Peer]) -> i64 {
    let mut residents: Vec<Uuid> = peers.iter().map(|p| p.resident_id).collect();
    residents.sort_unstable();
    residents.dedup();
    residents.len() as i64
}

/// Complaints of the same category since `since` (in one building if given), oldest first,
/// including `ticket` itself.
async fn peers(
    conn: &mut PgConnection,
    ticket: &Ticket,
    building: Option<&str>,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<Peer>> {
    sqlx::query_as(
        "SELECT id, resident_id, group_id, severity, number FROM tickets
         WHERE kind = $4 AND category = $1 AND created_at >= $2
           AND status = ANY($5) AND ($3::text IS NULL OR building = $3)
         ORDER BY created_at, id",
    )
    .bind(ticket.category)
    .bind(since)
    .bind(building)
    .bind(Kind::Complaint)
    .bind(Status::NOT_CANCELLED)
    .fetch_all(conn)
    .await
}

/// Gives every peer one group id (the oldest one already in use, or a new one) and raises
/// them to `level`; management hears of each ticket newly raised to 1–3.
async fn link(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    peers: &[Peer],
    level: Option<i16>,
    reason: &str,
) -> anyhow::Result<()> {
    let Some(level) = level else { return Ok(()) };
    let now = ctx.clock.now();
    let group = peers
        .iter()
        .find_map(|p| p.group_id)
        .unwrap_or_else(Uuid::now_v7);
    // Only the peers that change, locked in id order: two messages filing complaints of one
    // group in concurrent batches otherwise rewrite the whole group in opposite orders and
    // deadlock (found by the hot-path benchmark, where one group grew to hundreds).
    let ids: Vec<Uuid> = peers
        .iter()
        .filter(|p| p.group_id != Some(group) || p.severity > level)
        .map(|p| p.id)
        .collect();
    if !ids.is_empty() {
        sqlx::query(
            "UPDATE tickets SET group_id = $1, severity = LEAST(severity, $2)
             WHERE id IN (SELECT id FROM tickets WHERE id = ANY($3) ORDER BY id FOR UPDATE)",
        )
        .bind(group)
        .bind(level)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    }
    for p in peers
        .iter()
        .filter(|p| raise(p.severity, Some(level)) < p.severity)
    {
        repository::record(
            conn,
            p.id,
            now,
            Actor::System,
            Event::SeverityRaised {
                from: severity_of(p.severity),
                to: severity_of(level),
                reason,
            },
        )
        .await?;
        alert(conn, ctx, p.id, &p.number, level, reason, now).await?;
    }
    Ok(())
}

async fn alert(
    conn: &mut PgConnection,
    ctx: &TicketContext,
    ticket_id: Uuid,
    number: &str,
    level: i16,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let locale = ctx.settings.locale.default;
    let text = ctx.prompts.render(
        locale,
        "ticket.severity_raised",
        &[
            ("number", number),
            ("level", &level.to_string()),
            ("reason", reason),
        ],
    );
    notify::to_staff(
        conn,
        None,
        Notice {
            kind: NoticeKind::Alert,
            ticket_id: Some(ticket_id),
            text: &text,
            dedup_key: Some(format!("severity:{ticket_id}:{level}")),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Raises complaints still unresolved `unresolved_days` after they were made to level 3 and
/// tells management. For the scheduler; returns how many were raised.
pub async fn raise_overdue(conn: &mut PgConnection, ctx: &TicketContext) -> anyhow::Result<u64> {
    let now = ctx.clock.now();
    let cutoff = now - Duration::days(ctx.settings.severity.unresolved_days);
    let raised: Vec<(Uuid, String, i16)> = sqlx::query_as(
        "UPDATE tickets t SET severity = 3, updated_at = $2
         FROM (SELECT id, severity FROM tickets
               WHERE kind = $3 AND severity > 3 AND created_at <= $1
                 AND status = ANY($4)
               FOR UPDATE SKIP LOCKED) old
         WHERE t.id = old.id
         RETURNING t.id, t.number, old.severity",
    )
    .bind(cutoff)
    .bind(now)
    .bind(Kind::Complaint)
    .bind(Status::UNRESOLVED)
    .fetch_all(&mut *conn)
    .await?;
    let reason = format!(
        "unresolved after {} days",
        ctx.settings.severity.unresolved_days
    );
    for (id, number, before) in &raised {
        repository::record(
            conn,
            *id,
            now,
            Actor::System,
            Event::SeverityRaised {
                from: severity_of(*before),
                to: severity_of(3),
                reason: &reason,
            },
        )
        .await?;
        alert(conn, ctx, *id, number, 3, &reason, now).await?;
    }
    Ok(raised.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_sizes_map_to_levels() {
        let cases = [
            (0, None),
            (1, None),
            (2, None),
            (3, Some(3)),
            (9, Some(3)),
            (10, Some(2)),
            (40, Some(2)),
        ];
        for (n, want) in cases {
            assert_eq!(group_level(n, 3), want, "{n} residents");
        }
        // A deployment may ask for larger groups.
        assert_eq!(group_level(4, 5), None);
        assert_eq!(group_level(5, 5), Some(3));
        // A lone resident is never a group, whatever the setting says.
        assert_eq!(group_level(1, 1), None);
    }

    #[test]
    fn hot_issues_need_enough_different_residents() {
        assert_eq!(hot_level(2, 3), None);
        assert_eq!(hot_level(3, 3), Some(3));
        assert_eq!(hot_level(12, 3), Some(3));
    }

    #[test]
    fn overdue_after_the_configured_days() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!overdue(t0, t0 + Duration::days(14), 15));
        assert!(overdue(t0, t0 + Duration::days(15), 15));
        assert!(overdue(t0, t0 + Duration::days(30), 15));
    }

    #[test]
    fn raising_never_lowers() {
        assert_eq!(raise(4, Some(3)), 3);
        assert_eq!(raise(2, Some(3)), 2);
        assert_eq!(raise(4, None), 4);
        assert_eq!(raise(3, Some(2)), 2);
    }

    #[test]
    fn only_complaints_are_graded() {
        for k in Kind::ALL {
            assert_eq!(graded(*k), *k == Kind::Complaint);
        }
    }
}
