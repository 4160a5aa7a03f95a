//! What the console pages show, read from PostgreSQL: a department's board, a ticket with
//! its conversation, photos and history, a concierge's buildings and open conversations.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::staff::auth::StaffUser;
use crate::staff::{actions, scope, ApiError};
use crate::state::AppState;
use crate::ticket::repository::{self, Scope};
use crate::ticket::residents::Handoff;
use crate::ticket::{Department, Role, Status, Ticket};

pub struct Board {
    pub department: Department,
    /// Waiting, in the order they should be taken.
    pub queued: Vec<Ticket>,
    /// Claimed or in progress, soonest due first.
    pub held: Vec<Ticket>,
    pub names: HashMap<Uuid, String>,
}

/// One line of a resident's conversation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Message {
    pub at: DateTime<Utc>,
    /// `resident`, `bot` (the automatic answer) or `staff` (through the outbox).
    pub side: String,
    pub text: String,
    /// Delivery state of outgoing messages.
    pub status: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_name: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attachment {
    pub kind: String,
    pub url: Option<String>,
    pub media_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Colleague {
    pub id: Uuid,
    pub name: String,
    pub role: String,
}

pub struct Detail {
    pub ticket: Ticket,
    pub resident_name: Option<String>,
    pub conversation: Vec<Message>,
    pub attachments: Vec<Attachment>,
    pub events: Vec<Event>,
    /// Who the ticket may be handed to (shown to those who may assign).
    pub colleagues: Vec<Colleague>,
    pub names: HashMap<Uuid, String>,
}

pub struct Conversation {
    pub handoff: Handoff,
    pub resident_name: Option<String>,
    pub messages: Vec<Message>,
}

pub async fn names(db: &PgPool, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, name FROM staff WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn board(
    state: &AppState,
    user: &StaffUser,
    department: Department,
) -> Result<Board, ApiError> {
    let queued = actions::queue(state, user, department).await?;
    // The caller may use this queue (checked above), so the department is the scope.
    let held = repository::list(
        &state.db,
        &repository::Filter {
            statuses: Some(Status::HELD),
            department: Some(department),
            order: repository::Order::DueFirst,
            limit: 500,
            ..Default::default()
        },
        &Scope::Everything,
    )
    .await?;
    let ids: Vec<Uuid> = held.iter().filter_map(|t| t.assignee).collect();
    let names = names(&state.db, &ids).await?;
    Ok(Board {
        department,
        queued,
        held,
        names,
    })
}

/// A resident's messages both ways since `since`, oldest first.
pub async fn messages(
    db: &PgPool,
    resident_id: Uuid,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<Message>> {
    sqlx::query_as(
        "SELECT at, side, text, status FROM (
             SELECT received_at AS at, 0 AS ord, 'resident' AS side,
                    COALESCE(NULLIF(content, ''), '[' || msg_type || ']') AS text, NULL::text AS status
             FROM inbound_messages WHERE resident_id = $1 AND received_at >= $2
             UNION ALL
             SELECT received_at, 1, 'bot', reply, NULL
             FROM inbound_messages
             WHERE resident_id = $1 AND received_at >= $2 AND reply IS NOT NULL AND reply <> ''
             UNION ALL
             SELECT created_at, 2, 'staff', text, status
             FROM outbox WHERE recipient_kind = 'resident' AND resident_id = $1 AND created_at >= $2
         ) m ORDER BY at, ord LIMIT 300",
    )
    .bind(resident_id)
    .bind(since)
    .fetch_all(db)
    .await
}

async fn resident_name(db: &PgPool, id: Uuid) -> sqlx::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT display_name FROM residents WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(n,)| n))
}

pub async fn detail(state: &AppState, user: &StaffUser, key: &str) -> Result<Detail, ApiError> {
    let ticket = actions::find(state, user, key).await?;
    let db = &state.db;
    // The messages that led to the ticket come shortly before it.
    let since = ticket.created_at - Duration::hours(24);
    let conversation = messages(db, ticket.resident_id, since).await?;
    let attachments: Vec<Attachment> = sqlx::query_as(
        "SELECT kind, url, media_id FROM ticket_attachments
         WHERE ticket_id = $1 ORDER BY created_at, id",
    )
    .bind(ticket.id)
    .fetch_all(db)
    .await?;
    let events: Vec<Event> = sqlx::query_as(
        "SELECT e.at, e.actor_kind, s.name AS actor_name, e.action, e.from_status,
                e.to_status, e.note
         FROM ticket_events e LEFT JOIN staff s ON s.id = e.actor_id
         WHERE e.ticket_id = $1 ORDER BY e.id",
    )
    .bind(ticket.id)
    .fetch_all(db)
    .await?;
    let colleagues: Vec<Colleague> = sqlx::query_as(
        "SELECT id, name, role FROM staff
         WHERE department = $1 AND active AND role IN ('worker', 'supervisor')
         ORDER BY role DESC, name",
    )
    .bind(ticket.department.as_str())
    .fetch_all(db)
    .await?;
    let names = names(db, &ticket.assignee.into_iter().collect::<Vec<_>>()).await?;
    Ok(Detail {
        resident_name: resident_name(db, ticket.resident_id).await?,
        ticket,
        conversation,
        attachments,
        events,
        colleagues,
        names,
    })
}

/// Open tickets of the concierge's buildings (every open ticket for a manager).
pub async fn building_tickets(db: &PgPool, user: &StaffUser) -> sqlx::Result<Vec<Ticket>> {
    let filter = repository::Filter {
        statuses: Some(Status::OPEN),
        limit: 500,
        ..Default::default()
    };
    repository::list(db, &filter, &scope::buildings(user)).await
}

/// Open handoffs of residents in the concierge's buildings (all of them for a manager),
/// each with its messages since it began.
pub async fn conversations(db: &PgPool, user: &StaffUser) -> sqlx::Result<Vec<Conversation>> {
    let handoffs: Vec<Handoff> = sqlx::query_as(
        "SELECT h.* FROM handoffs h JOIN residents r ON r.id = h.resident_id
         WHERE h.ended_at IS NULL
           AND ($1 OR COALESCE(h.building, r.building) = ANY($2))
         ORDER BY h.last_activity_at DESC",
    )
    .bind(user.role == Role::Manager)
    .bind(&user.buildings)
    .fetch_all(db)
    .await?;
    // Names and messages of every conversation in two queries, not two per conversation.
    let ids: Vec<Uuid> = handoffs.iter().map(|h| h.id).collect();
    let names: HashMap<Uuid, Option<String>> = sqlx::query_as(
        "SELECT h.id, r.display_name FROM handoffs h JOIN residents r ON r.id = h.resident_id
         WHERE h.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    let lines: Vec<HandoffMessage> = sqlx::query_as(&format!(
        "SELECT h.id AS handoff_id, m.* FROM handoffs h
         CROSS JOIN LATERAL ({MESSAGES_SINCE}) m
         WHERE h.id = ANY($1)
         ORDER BY h.id, m.at, m.ord"
    ))
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut by_handoff: HashMap<Uuid, Vec<Message>> = HashMap::new();
    for l in lines {
        by_handoff.entry(l.handoff_id).or_default().push(l.message);
    }
    Ok(handoffs
        .into_iter()
        .map(|handoff| Conversation {
            resident_name: names.get(&handoff.id).cloned().flatten(),
            messages: by_handoff.remove(&handoff.id).unwrap_or_default(),
            handoff,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct HandoffMessage {
    handoff_id: Uuid,
    #[sqlx(flatten)]
    message: Message,
}

/// A handoff's resident's messages both ways since it began (for the lateral join above;
/// `h` is the handoff): the same lines as `messages`.
const MESSAGES_SINCE: &str = "
    SELECT at, ord, side, text, status FROM (
        SELECT received_at AS at, 0 AS ord, 'resident' AS side,
               COALESCE(NULLIF(content, ''), '[' || msg_type || ']') AS text, NULL::text AS status
        FROM inbound_messages WHERE resident_id = h.resident_id AND received_at >= h.started_at
        UNION ALL
        SELECT received_at, 1, 'bot', reply, NULL
        FROM inbound_messages
        WHERE resident_id = h.resident_id AND received_at >= h.started_at
          AND reply IS NOT NULL AND reply <> ''
        UNION ALL
        SELECT created_at, 2, 'staff', text, status
        FROM outbox WHERE recipient_kind = 'resident' AND resident_id = h.resident_id
          AND created_at >= h.started_at
    ) x ORDER BY at, ord LIMIT 300";

/// An open handoff the concierge may answer.
pub async fn handoff_for(db: &PgPool, user: &StaffUser, id: Uuid) -> Result<Handoff, ApiError> {
    let h: Handoff = sqlx::query_as("SELECT * FROM handoffs WHERE id = $1 AND ended_at IS NULL")
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::NotFound("this conversation has ended".into()))?;
    let resident_building: Option<(Option<String>,)> =
        sqlx::query_as("SELECT building FROM residents WHERE id = $1")
            .bind(h.resident_id)
            .fetch_optional(db)
            .await?;
    let resident_building = resident_building.and_then(|(b,)| b);
    let building = h.building.clone().or(resident_building);
    let mine = match user.role {
        Role::Manager => true,
        Role::Concierge => building.is_some_and(|b| user.buildings.contains(&b)),
        Role::Worker | Role::Supervisor => false,
    };
    if !mine {
        return Err(ApiError::Forbidden(
            "this conversation is not in your buildings".into(),
        ));
    }
    Ok(h)
}

/// Changes anything on a board or conversation list in the user's view: the console's
/// live stream sends an event when this changes.
pub async fn fingerprint(db: &PgPool, user: &StaffUser) -> sqlx::Result<String> {
    let tickets = repository::scope_summary(db, &scope::tickets(user)).await?;
    let handoffs: (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE ended_at IS NULL), max(last_activity_at) FROM handoffs",
    )
    .fetch_one(db)
    .await?;
    Ok(format!(
        "{}:{}:{}:{}",
        tickets.0,
        tickets.1.map(|t| t.timestamp_micros()).unwrap_or(0),
        handoffs.0,
        handoffs.1.map(|t| t.timestamp_micros()).unwrap_or(0)
    ))
}
