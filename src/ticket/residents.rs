//! The resident's side of the record: who they are and their unit on record, the request
//! they left unfinished (drafts), and their conversations with a concierge (handoffs).
//! Functions take the caller's connection so they commit with the message that caused them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::Ticket;
use crate::domain::Locale;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Resident {
    pub id: Uuid,
    pub channel: String,
    pub external_id: String,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub locale: String,
}

impl Resident {
    pub fn locale(&self) -> Locale {
        Locale::parse(&self.locale).unwrap_or_default()
    }
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Resident>> {
    sqlx::query_as(
        "SELECT id, channel, external_id, display_name, phone, building, unit, room, locale
         FROM residents WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Everything the dialogue reads about a resident before stepping: the resident, the
/// unfinished request and the open conversation with a concierge — one round trip instead
/// of three, as every message needs all of them.
#[derive(Debug, Clone)]
pub struct DialogueContext {
    pub resident: Resident,
    pub draft: Option<StoredDraft>,
    /// The open handoff's id and last activity.
    pub handoff: Option<(Uuid, DateTime<Utc>)>,
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    #[sqlx(flatten)]
    resident: Resident,
    draft_payload: Option<serde_json::Value>,
    draft_updated_at: Option<DateTime<Utc>>,
    handoff_id: Option<Uuid>,
    handoff_last_activity_at: Option<DateTime<Utc>>,
}

/// Per resident id in `$1`: LATERAL lookups with LIMIT are index probes whatever plan is
/// cached; as joins, a plan cached while the tables were small reads them whole.
const CONTEXTS: &str = "SELECT r.id, r.channel, r.external_id, r.display_name, r.phone,
        r.building, r.unit, r.room, r.locale,
        d.payload AS draft_payload, d.updated_at AS draft_updated_at,
        h.id AS handoff_id, h.last_activity_at AS handoff_last_activity_at
     FROM unnest($1::uuid[]) AS ids(id)
     CROSS JOIN LATERAL (SELECT * FROM residents WHERE id = ids.id LIMIT 1) r
     LEFT JOIN LATERAL (SELECT payload, updated_at FROM drafts
                        WHERE resident_id = ids.id LIMIT 1) d ON TRUE
     LEFT JOIN LATERAL (SELECT id, last_activity_at FROM handoffs
                        WHERE resident_id = ids.id AND ended_at IS NULL
                        ORDER BY last_activity_at DESC LIMIT 1) h ON TRUE";

impl From<ContextRow> for DialogueContext {
    fn from(r: ContextRow) -> Self {
        DialogueContext {
            resident: r.resident,
            draft: r
                .draft_payload
                .zip(r.draft_updated_at)
                .map(|(payload, updated_at)| StoredDraft {
                    payload,
                    updated_at,
                }),
            handoff: r.handoff_id.zip(r.handoff_last_activity_at),
        }
    }
}

pub async fn dialogue_context(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<DialogueContext>> {
    Ok(dialogue_contexts(conn, &[id]).await?.pop())
}

/// [`dialogue_context`] for several residents in one round trip (a batch of messages).
pub async fn dialogue_contexts(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<DialogueContext>> {
    let rows: Vec<ContextRow> = sqlx::query_as(CONTEXTS).bind(ids).fetch_all(conn).await?;
    Ok(rows.into_iter().map(DialogueContext::from).collect())
}

/// Records the resident's home unit, given once and used as the default place afterwards.
pub async fn remember_unit(
    conn: &mut PgConnection,
    id: Uuid,
    building: Option<&str>,
    unit: Option<&str>,
    room: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE residents SET building = $2, unit = $3, room = $4 WHERE id = $1")
        .bind(id)
        .bind(building)
        .bind(unit)
        .bind(room)
        .execute(conn)
        .await?;
    Ok(())
}

/// The script later messages (status updates, surveys) are written in.
pub async fn set_locale(conn: &mut PgConnection, id: Uuid, locale: Locale) -> sqlx::Result<()> {
    sqlx::query("UPDATE residents SET locale = $2 WHERE id = $1")
        .bind(id)
        .bind(locale.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDraft {
    pub payload: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

pub async fn load_draft(
    conn: &mut PgConnection,
    resident_id: Uuid,
) -> sqlx::Result<Option<StoredDraft>> {
    sqlx::query_as("SELECT payload, updated_at FROM drafts WHERE resident_id = $1")
        .bind(resident_id)
        .fetch_optional(conn)
        .await
}

pub async fn save_draft(
    conn: &mut PgConnection,
    resident_id: Uuid,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO drafts (resident_id, payload, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (resident_id) DO UPDATE SET payload = EXCLUDED.payload, updated_at = EXCLUDED.updated_at",
    )
    .bind(resident_id)
    .bind(payload)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_draft(conn: &mut PgConnection, resident_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM drafts WHERE resident_id = $1")
        .bind(resident_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Handoff {
    pub id: Uuid,
    pub resident_id: Uuid,
    pub building: Option<String>,
    pub staff_id: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The resident's conversation with a concierge that has not ended, if any.
pub async fn open_handoff(
    conn: &mut PgConnection,
    resident_id: Uuid,
) -> sqlx::Result<Option<Handoff>> {
    sqlx::query_as("SELECT * FROM handoffs WHERE resident_id = $1 AND ended_at IS NULL")
        .bind(resident_id)
        .fetch_optional(conn)
        .await
}

/// Opens a conversation with the concierge, or returns the one already open.
pub async fn start_handoff(
    conn: &mut PgConnection,
    resident_id: Uuid,
    building: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<Handoff> {
    let inserted: Option<Handoff> = sqlx::query_as(
        "INSERT INTO handoffs (id, resident_id, building, started_at, last_activity_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (resident_id) WHERE ended_at IS NULL DO NOTHING
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(resident_id)
    .bind(building)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(h) => Ok(h),
        None => open_handoff(conn, resident_id)
            .await?
            .ok_or(sqlx::Error::RowNotFound),
    }
}

/// Either side spoke: the idle timeout counts from now.
pub async fn touch_handoff(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE handoffs SET last_activity_at = GREATEST(last_activity_at, $2) WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn end_handoff(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE handoffs SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The ticket a message already created: a repeated delivery answers with it instead of
/// filing a second one.
pub async fn ticket_from_message(
    conn: &mut PgConnection,
    message_id: Uuid,
) -> sqlx::Result<Option<Ticket>> {
    sqlx::query_as("SELECT * FROM tickets WHERE source_message_id = $1")
        .bind(message_id)
        .fetch_optional(conn)
        .await
}
