//! The `/api/v1` handlers: each reads the caller and the request, checks scope, and calls
//! `queue::Queues` or the ticket repository. Status codes follow contract.md.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::actions::{self, find};
use super::auth::StaffUser;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use super::scope;
use super::view::{AttachmentJson, EventJson, TicketDetail, TicketJson};
use crate::state::AppState;
use crate::ticket::repository;
use crate::ticket::{Department, Kind, Status, Ticket};

fn ticket_response(t: &Ticket) -> Response {
    Json(TicketJson::from(t)).into_response()
}

pub async fn queue_list(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(dept): ApiPath<String>,
) -> Result<Response, ApiError> {
    let tickets = actions::queue(&state, &user, actions::department(&dept)?).await?;
    Ok(Json(tickets.iter().map(TicketJson::from).collect::<Vec<_>>()).into_response())
}

pub async fn queue_claim(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(dept): ApiPath<String>,
) -> Result<Response, ApiError> {
    match actions::claim_first(&state, &user, actions::department(&dept)?).await? {
        Some(t) => Ok(ticket_response(&t)),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

pub async fn ticket_claim(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    let t = find(&state, &user, &key).await?;
    let t = actions::claim(&state, &user, &t).await?;
    Ok(ticket_response(&t))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

pub async fn ticket_status(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, ApiError> {
    let to = Status::parse(&body.status)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown status `{}`", body.status)))?;
    let t = find(&state, &user, &key).await?;
    let t = actions::change_status(&state, &user, &t, to, body.note.as_deref()).await?;
    Ok(ticket_response(&t))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    text: String,
}

pub async fn ticket_reply(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> Result<Response, ApiError> {
    if body.text.trim().is_empty() {
        return Err(ApiError::BadRequest("`text` is empty".into()));
    }
    let t = find(&state, &user, &key).await?;
    let replied = actions::reply(&state, &user, &t, &body.text).await?;
    Ok(
        Json(
            json!({ "outbox_id": replied.outbox_id, "ticket": t.number, "text": replied.message }),
        )
        .into_response(),
    )
}

pub async fn ticket_release(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    let t = find(&state, &user, &key).await?;
    let t = actions::release(&state, &user, &t).await?;
    Ok(ticket_response(&t))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    staff_id: Uuid,
}

pub async fn ticket_assign(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Response, ApiError> {
    let t = find(&state, &user, &key).await?;
    let t = actions::assign(&state, &user, &t, body.staff_id).await?;
    Ok(ticket_response(&t))
}

pub async fn ticket_get(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    let t = find(&state, &user, &key).await?;
    let events: Vec<EventJson> = sqlx::query_as(
        "SELECT at, actor_kind, actor_id, action, from_status, to_status, note
         FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
    )
    .bind(t.id)
    .fetch_all(&state.db)
    .await?;
    let attachments: Vec<AttachmentJson> = sqlx::query_as(
        "SELECT kind, url, media_id, created_at FROM ticket_attachments
         WHERE ticket_id = $1 ORDER BY created_at, id",
    )
    .bind(t.id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(TicketDetail {
        ticket: TicketJson::from(&t),
        events,
        attachments,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
    department: Option<String>,
    since: Option<String>,
    limit: Option<i64>,
}

/// `since` as RFC 3339 or a plain date (start of that day in the property's time zone).
fn parse_since(s: &str, offset: chrono::FixedOffset) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(offset)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn ticket_list(
    State(state): State<AppState>,
    user: StaffUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let status = nonempty(&q.status)
        .map(|s| {
            Status::parse(&s).ok_or_else(|| ApiError::BadRequest(format!("unknown status `{s}`")))
        })
        .transpose()?;
    let kind = nonempty(&q.kind)
        .map(|s| Kind::parse(&s).ok_or_else(|| ApiError::BadRequest(format!("unknown kind `{s}`"))))
        .transpose()?;
    let dept = nonempty(&q.department)
        .map(|s| {
            Department::parse(&s)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown department `{s}`")))
        })
        .transpose()?;
    let since = nonempty(&q.since)
        .map(|s| {
            parse_since(&s, state.settings.locale.offset()).ok_or_else(|| {
                ApiError::BadRequest(format!("`since` is not a date or RFC 3339 time: `{s}`"))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let filter = repository::Filter {
        statuses: status.as_ref().map(std::slice::from_ref),
        kind,
        department: dept,
        since,
        order: repository::Order::Newest,
        limit,
    };
    let rows = repository::list(&state.db, &filter, &scope::tickets(&user)).await?;
    Ok(Json(rows.iter().map(TicketJson::from).collect::<Vec<_>>()).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReclassifyBody {
    #[serde(default)]
    note: String,
    kind: Option<String>,
    urgency: Option<String>,
    department: Option<String>,
    category: Option<String>,
}

pub async fn ticket_reclassify(
    State(state): State<AppState>,
    user: StaffUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ReclassifyBody>,
) -> Result<Response, ApiError> {
    let t = find(&state, &user, &key).await?;
    let asked = actions::Relabel {
        kind: body.kind.as_deref(),
        urgency: body.urgency.as_deref(),
        department: body.department.as_deref(),
        category: body.category.as_deref(),
    };
    let t = actions::reclassify(&state, &user, &t, asked, &body.note).await?;
    Ok(ticket_response(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_times_and_local_dates() {
        let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            parse_since("2026-11-01", cst).unwrap().to_rfc3339(),
            "2026-10-31T16:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-01T10:00:00Z", cst)
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T10:00:00+00:00"
        );
        assert!(parse_since("last week", cst).is_none());
    }
}
