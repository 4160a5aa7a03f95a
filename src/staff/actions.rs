//! What staff do to tickets, whichever door they come in by: the JSON API (`routes`) and
//! the browser console (`console`) both call these, so scope checks, claims, replies and
//! status changes live in one place.

use uuid::Uuid;

use super::auth::StaffUser;
use super::error::ApiError;
use super::scope;
use crate::state::AppState;
use crate::ticket::notify::{self, Notice, NoticeKind};
use crate::ticket::repository::{self, Actor, Event, Labels};
use crate::ticket::{Category, Department, Kind, Status, Ticket, Urgency};

pub fn department(s: &str) -> Result<Department, ApiError> {
    Department::parse(s).ok_or_else(|| ApiError::NotFound(format!("no department `{s}`")))
}

/// A ticket by UUID or by number, visible to `user`; one they may not see is not found.
pub async fn find(state: &AppState, user: &StaffUser, key: &str) -> Result<Ticket, ApiError> {
    let mut conn = state.db.acquire().await?;
    let found = match Uuid::parse_str(key) {
        Ok(id) => repository::get(&mut conn, id).await?,
        Err(_) => repository::get_by_number(&mut conn, key).await?,
    };
    // Outside the caller's scope a ticket answers as if it did not exist: a 403 would tell
    // which numbers are real (contract.md: 403 is for a role that may not do a thing).
    found
        .filter(|t| scope::can_see_ticket(user, t))
        .ok_or_else(|| ApiError::NotFound(format!("no ticket `{key}`")))
}

fn check_queue(user: &StaffUser, d: Department) -> Result<(), ApiError> {
    if scope::can_use_queue(user, d) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("not your department: {d}")))
    }
}

/// The department's waiting tickets, in queue order.
pub async fn queue(
    state: &AppState,
    user: &StaffUser,
    d: Department,
) -> Result<Vec<Ticket>, ApiError> {
    check_queue(user, d)?;
    Ok(state.queues().list(d).await?)
}

/// Takes the first waiting ticket of the department; `None` when the queue is empty.
pub async fn claim_first(
    state: &AppState,
    user: &StaffUser,
    d: Department,
) -> Result<Option<Ticket>, ApiError> {
    check_queue(user, d)?;
    Ok(state.queues().claim_first(user.id, d).await?)
}

/// Takes a named ticket (抢单).
pub async fn claim(state: &AppState, user: &StaffUser, t: &Ticket) -> Result<Ticket, ApiError> {
    if !scope::can_use_queue(user, t.department) {
        return Err(ApiError::Forbidden(
            "only its department takes this ticket".into(),
        ));
    }
    Ok(state.queues().claim(user.id, t).await?)
}

/// Moves a ticket to `to` with an optional note; `claimed` on a waiting ticket is a claim.
pub async fn change_status(
    state: &AppState,
    user: &StaffUser,
    t: &Ticket,
    to: Status,
    note: Option<&str>,
) -> Result<Ticket, ApiError> {
    if to == Status::Claimed && t.status.is_queued() {
        return claim(state, user, t).await;
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    Ok(state
        .queues()
        .transition(t.id, Actor::Staff(user.id), to, note)
        .await?)
}

/// Puts a held ticket back in its queue.
pub async fn release(state: &AppState, user: &StaffUser, t: &Ticket) -> Result<Ticket, ApiError> {
    Ok(state
        .queues()
        .transition(
            t.id,
            Actor::Staff(user.id),
            Status::Queued,
            Some("released"),
        )
        .await?)
}

/// A reply written to the resident, as queued in the outbox.
#[derive(Debug, Clone)]
pub struct Replied {
    pub outbox_id: Option<Uuid>,
    /// The message as the resident receives it (the locale's reply template around `text`).
    pub message: String,
}

/// Writes to the ticket's resident through the outbox and records a `reply` event.
pub async fn reply(
    state: &AppState,
    user: &StaffUser,
    t: &Ticket,
    text: &str,
) -> Result<Replied, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::BadRequest("`text` is empty".into()));
    }
    if !scope::can_reply(user, t) {
        return Err(ApiError::Forbidden(
            "your role does not write to residents".into(),
        ));
    }
    let now = state.clock.now();
    let locale = t.locale;
    let message = state.prompts.render(
        locale,
        "ticket.reply",
        &[("number", &t.number), ("text", text)],
    );
    let mut tx = state.db.begin().await?;
    let outbox_id = notify::to_resident(
        &mut tx,
        t.resident_id,
        Notice {
            kind: NoticeKind::Reply,
            ticket_id: Some(t.id),
            text: &message,
            dedup_key: None,
        },
        now,
    )
    .await?;
    repository::record(
        &mut tx,
        t.id,
        now,
        Actor::Staff(user.id),
        Event::Reply { text },
    )
    .await?;
    tx.commit().await?;
    Ok(Replied { outbox_id, message })
}

/// Hands a ticket to another active member of its department (supervisors and managers).
pub async fn assign(
    state: &AppState,
    user: &StaffUser,
    t: &Ticket,
    staff_id: Uuid,
) -> Result<Ticket, ApiError> {
    if !scope::can_assign(user, t.department) {
        return Err(ApiError::Forbidden(
            "only a supervisor or manager assigns tickets".into(),
        ));
    }
    let target: Option<(String,)> =
        sqlx::query_as("SELECT department FROM staff WHERE id = $1 AND active")
            .bind(staff_id)
            .fetch_optional(&state.db)
            .await?;
    let Some((target_department,)) = target else {
        return Err(ApiError::BadRequest(format!(
            "no active staff member {staff_id}"
        )));
    };
    if target_department != t.department.as_str() {
        return Err(ApiError::BadRequest(format!(
            "staff {staff_id} is in {target_department}, the ticket in {}",
            t.department.as_str()
        )));
    }
    Ok(state.queues().assign(user.id, t, staff_id).await?)
}

/// A correction as asked for, in the words of a JSON body or a console form: `None` keeps
/// the ticket's label, anything else must be a label's spelling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relabel<'a> {
    pub kind: Option<&'a str>,
    pub urgency: Option<&'a str>,
    pub department: Option<&'a str>,
    pub category: Option<&'a str>,
}

impl Relabel<'_> {
    /// The labels `t` would have after the correction; 400 on a spelling no label has.
    pub fn over(&self, t: &Ticket) -> Result<Labels, ApiError> {
        Ok(Labels {
            kind: label(self.kind, t.kind, Kind::parse, "kind")?,
            urgency: label(self.urgency, t.urgency, Urgency::parse, "urgency")?,
            department: label(
                self.department,
                t.department,
                Department::parse,
                "department",
            )?,
            category: label(self.category, t.category, Category::parse, "category")?,
        })
    }
}

fn label<T>(
    given: Option<&str>,
    current: T,
    parse: fn(&str) -> Option<T>,
    name: &str,
) -> Result<T, ApiError> {
    match given.map(str::trim) {
        None => Ok(current),
        Some(s) => parse(s).ok_or_else(|| ApiError::BadRequest(format!("unknown {name} `{s}`"))),
    }
}

/// Corrects what the classifier read (kind, urgency, department, category) and moves the
/// ticket to its new department's queue; 409 when it is no longer open, or when a held
/// ticket would change department.
pub async fn reclassify(
    state: &AppState,
    user: &StaffUser,
    t: &Ticket,
    asked: Relabel<'_>,
    note: &str,
) -> Result<Ticket, ApiError> {
    // The role comes first, so a worker learns nothing about which labels exist.
    if !scope::can_reclassify(user, t) {
        return Err(ApiError::Forbidden(
            "only a concierge, supervisor or manager corrects a ticket's labels".into(),
        ));
    }
    let labels = asked.over(t)?;
    match state
        .queues()
        .reclassify(user.id, t, labels, note.trim())
        .await?
    {
        Some(t) => Ok(t),
        None => Err(ApiError::Conflict(format!(
            "ticket {} is no longer open",
            t.number
        ))),
    }
}
