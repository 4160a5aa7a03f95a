//! The one place that records a message for a resident or staff member. Rows are written in
//! the caller's transaction (the outbox) and delivered by `delivery`'s worker.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// What kind of message, as the webhook callback's `kind` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Status,
    Survey,
    Reply,
    Alert,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Status => "status",
            NoticeKind::Survey => "survey",
            NoticeKind::Reply => "reply",
            NoticeKind::Alert => "alert",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub kind: NoticeKind,
    pub ticket_id: Option<Uuid>,
    pub text: &'a str,
    /// Makes writing the same notice twice a no-op (e.g. `survey:<ticket>:<round>`).
    pub dedup_key: Option<String>,
}

/// Records a message to a resident. Returns the outbox id, or `None` when a notice with the
/// same dedup key already exists.
pub async fn to_resident(
    conn: &mut PgConnection,
    resident_id: Uuid,
    notice: Notice<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    insert(conn, "resident", Some(resident_id), None, notice, now).await
}

/// Records a message to a staff member (alerts, escalations).
pub async fn to_staff(
    conn: &mut PgConnection,
    staff_id: Option<Uuid>,
    notice: Notice<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    insert(conn, "staff", None, staff_id, notice, now).await
}

async fn insert(
    conn: &mut PgConnection,
    recipient_kind: &str,
    resident_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    notice: Notice<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    let id = Uuid::now_v7();
    let row: Option<(Uuid,)> = sqlx::query_as(
        "INSERT INTO outbox (id, recipient_kind, resident_id, staff_id, ticket_id, kind, text,
                             dedup_key, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (dedup_key) DO NOTHING
         RETURNING id",
    )
    .bind(id)
    .bind(recipient_kind)
    .bind(resident_id)
    .bind(staff_id)
    .bind(notice.ticket_id)
    .bind(notice.kind.as_str())
    .bind(notice.text)
    .bind(notice.dedup_key)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// One message to a resident, for [`to_residents`].
pub struct ResidentNotice {
    pub resident_id: Uuid,
    pub ticket_id: Uuid,
    pub text: String,
    pub dedup_key: String,
}

/// [`to_resident`] for many notices in one statement (same columns, same
/// `ON CONFLICT (dedup_key) DO NOTHING`), so a batch costs one round trip, not one per row.
pub async fn to_residents(
    conn: &mut PgConnection,
    kind: NoticeKind,
    notices: Vec<ResidentNotice>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if notices.is_empty() {
        return Ok(0);
    }
    let n = notices.len();
    let (mut ids, mut residents, mut tickets, mut texts, mut keys) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for notice in notices {
        ids.push(Uuid::now_v7());
        residents.push(notice.resident_id);
        tickets.push(notice.ticket_id);
        texts.push(notice.text);
        keys.push(notice.dedup_key);
    }
    let done = sqlx::query(
        "INSERT INTO outbox (id, recipient_kind, resident_id, ticket_id, kind, text, dedup_key,
                             next_attempt_at, created_at)
         SELECT u.id, 'resident', u.resident_id, u.ticket_id, $6, u.text, u.dedup_key, $7, $7
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])
              AS u (id, resident_id, ticket_id, text, dedup_key)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&ids)
    .bind(&residents)
    .bind(&tickets)
    .bind(&texts)
    .bind(&keys)
    .bind(kind.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
