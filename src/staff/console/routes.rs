//! The console's handlers: read the session and the form, call `staff::actions` (the same
//! functions the JSON API calls), and answer with a page or a redirect.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::Markup;
use serde::Deserialize;
use uuid::Uuid;

use super::data;
use super::error::ConsoleError;
use super::pages::{self, Frame};
use super::session;
use super::viewer::Console;
use crate::domain::Locale;
use crate::report::{self, Format, Month};
use crate::staff::{actions, scope, ApiError, StaffUser};
use crate::state::AppState;
use crate::ticket::notify::{self, Notice, NoticeKind};
use crate::ticket::{residents, Department, Role, Status, Ticket};

fn frame<'a>(state: &AppState, console: &'a Console) -> Frame<'a> {
    Frame {
        console,
        now: state.clock.now(),
        offset: state.settings.locale.offset(),
    }
}

pub async fn sign_in_form() -> Markup {
    pages::sign_in(None)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    token: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, ConsoleError> {
    match session::sign_in(&state, &form.token).await? {
        Some((_, id)) => {
            let jar = jar.add(session::cookie(id, session::behind_https(&headers)));
            Ok((jar, Redirect::to("/console")).into_response())
        }
        None => Ok((
            StatusCode::UNAUTHORIZED,
            pages::sign_in(Some("That token is unknown or has been revoked.")),
        )
            .into_response()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    console: Console,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    if let Some(id) = session::session_id(&jar) {
        session::sign_out(&state, &id).await?;
    }
    Ok((
        jar.remove(session::removal()),
        Redirect::to("/console/sign-in"),
    )
        .into_response())
}

/// The departments whose boards this person may open.
fn departments(user: &StaffUser) -> Vec<Department> {
    if user.role == Role::Manager {
        Department::ALL.to_vec()
    } else {
        vec![user.department]
    }
}

pub async fn home(state: State<AppState>, console: Console) -> Result<Markup, ConsoleError> {
    let d = console.user.department;
    show_board(state, console, d).await
}

pub async fn queue(
    state: State<AppState>,
    console: Console,
    Path(dept): Path<String>,
) -> Result<Markup, ConsoleError> {
    let d = actions::department(&dept)?;
    show_board(state, console, d).await
}

async fn show_board(
    State(state): State<AppState>,
    console: Console,
    d: Department,
) -> Result<Markup, ConsoleError> {
    let board = data::board(&state, &console.user, d).await?;
    Ok(pages::board(
        &frame(&state, &console),
        &board,
        &departments(&console.user),
    ))
}

pub async fn ticket(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
) -> Result<Markup, ConsoleError> {
    let detail = data::detail(&state, &console.user, &key).await?;
    Ok(pages::ticket(&frame(&state, &console), &detail, None))
}

/// An action on one ticket from a console form: `checked` (the form's input, already
/// read), then the ticket within the user's reach, then `act`. Afterwards back to where
/// the action leads, or the ticket page with the reason it did not work.
async fn on_ticket<T, F, Fut>(
    state: &AppState,
    console: &Console,
    key: &str,
    checked: Result<T, ApiError>,
    act: F,
) -> Result<Response, ConsoleError>
where
    F: FnOnce(Ticket, T) -> Fut,
    Fut: std::future::Future<Output = Result<String, ApiError>>,
{
    let outcome = async {
        let input = checked?;
        let t = actions::find(state, &console.user, key).await?;
        act(t, input).await
    }
    .await;
    after(state, console, key, outcome).await
}

/// After an action on a ticket: back to the ticket when it worked, or the ticket page with
/// the reason when it did not (an illegal move, someone else was faster, ...).
async fn after(
    state: &AppState,
    console: &Console,
    key: &str,
    outcome: Result<String, ApiError>,
) -> Result<Response, ConsoleError> {
    match outcome {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(ApiError::Internal(e)) => Err(ConsoleError::Api(ApiError::Internal(e))),
        Err(e) => {
            let status = e.status();
            let detail = data::detail(state, &console.user, key).await?;
            let message = format!("That did not work: {e}");
            Ok((
                status,
                pages::ticket(&frame(state, console), &detail, Some(&message)),
            )
                .into_response())
        }
    }
}

fn ticket_url(number: &str) -> String {
    format!("/console/tickets/{number}")
}

pub async fn claim(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let (s, user) = (&state, &console.user);
    on_ticket(s, &console, &key, Ok(()), move |t, ()| async move {
        let t = actions::claim(s, user, &t).await?;
        Ok(ticket_url(&t.number))
    })
    .await
}

pub async fn claim_next(
    State(state): State<AppState>,
    console: Console,
    Path(dept): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let d = actions::department(&dept)?;
    match actions::claim_first(&state, &console.user, d).await? {
        Some(t) => Ok(Redirect::to(&ticket_url(&t.number)).into_response()),
        None => Ok(Redirect::to(&format!("/console/queue/{}", d.as_str())).into_response()),
    }
}

pub async fn release(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let (s, user) = (&state, &console.user);
    on_ticket(s, &console, &key, Ok(()), move |t, ()| async move {
        let t = actions::release(s, user, &t).await?;
        Ok(format!("/console/queue/{}", t.department.as_str()))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn status(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let to = Status::parse(&form.status)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown status `{}`", form.status)));
    let (s, user, note) = (&state, &console.user, form.note.as_str());
    on_ticket(s, &console, &key, to, move |t, to| async move {
        let t = actions::change_status(s, user, &t, to, Some(note)).await?;
        Ok(ticket_url(&t.number))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct TextForm {
    csrf: String,
    text: String,
}

pub async fn reply(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
    Form(form): Form<TextForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let (s, user, text) = (&state, &console.user, form.text.as_str());
    on_ticket(s, &console, &key, Ok(()), move |t, ()| async move {
        actions::reply(s, user, &t, text).await?;
        Ok(ticket_url(&t.number))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    csrf: String,
    staff_id: String,
}

pub async fn assign(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let to = Uuid::parse_str(form.staff_id.trim())
        .map_err(|_| ApiError::BadRequest("choose a staff member".into()));
    let (s, user) = (&state, &console.user);
    on_ticket(s, &console, &key, to, move |t, to| async move {
        let t = actions::assign(s, user, &t, to).await?;
        Ok(ticket_url(&t.number))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ReclassifyForm {
    csrf: String,
    kind: Option<String>,
    urgency: Option<String>,
    department: Option<String>,
    category: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn reclassify(
    State(state): State<AppState>,
    console: Console,
    Path(key): Path<String>,
    Form(form): Form<ReclassifyForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let asked = actions::Relabel {
        kind: form.kind.as_deref(),
        urgency: form.urgency.as_deref(),
        department: form.department.as_deref(),
        category: form.category.as_deref(),
    };
    let (s, user, note) = (&state, &console.user, form.note.as_str());
    on_ticket(s, &console, &key, Ok(()), move |t, ()| async move {
        let t = actions::reclassify(s, user, &t, asked, note).await?;
        // A ticket sent to another department may have left this person's sight; their
        // board is then where they carry on.
        Ok(if scope::can_see_ticket(user, &t) {
            ticket_url(&t.number)
        } else {
            "/console".to_owned()
        })
    })
    .await
}

pub async fn concierge(
    State(state): State<AppState>,
    console: Console,
) -> Result<Markup, ConsoleError> {
    if !matches!(console.user.role, Role::Concierge | Role::Manager) {
        return Err(ApiError::Forbidden("this page is for concierges and managers".into()).into());
    }
    let tickets = data::building_tickets(&state.db, &console.user).await?;
    let conversations = data::conversations(&state.db, &console.user).await?;
    Ok(pages::concierge(
        &frame(&state, &console),
        &tickets,
        &conversations,
    ))
}

/// A concierge's answer in a handoff conversation: through the outbox like any reply,
/// and it keeps the conversation from timing out.
pub async fn handoff_reply(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<Uuid>,
    Form(form): Form<TextForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let text = form.text.trim();
    if text.is_empty() {
        return Err(ApiError::BadRequest("the reply is empty".into()).into());
    }
    let h = data::handoff_for(&state.db, &console.user, id).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    notify::to_resident(
        &mut tx,
        h.resident_id,
        Notice {
            kind: NoticeKind::Reply,
            ticket_id: None,
            text,
            dedup_key: None,
        },
        now,
    )
    .await?;
    residents::touch_handoff(&mut tx, h.id, now).await?;
    tx.commit().await?;
    Ok(Redirect::to("/console/concierge").into_response())
}

pub async fn handoff_end(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let h = data::handoff_for(&state.db, &console.user, id).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locale = residents::get(&mut tx, h.resident_id)
        .await?
        .map(|r| r.locale())
        .unwrap_or(Locale::default());
    residents::end_handoff(&mut tx, h.id, now).await?;
    // The resident hears the conversation ended, as when they end it themselves.
    let text = state.prompts.render(locale, "handoff.ended", &[]);
    notify::to_resident(
        &mut tx,
        h.resident_id,
        Notice {
            kind: NoticeKind::Reply,
            ticket_id: None,
            text: &text,
            dedup_key: Some(format!("handoff-ended:{}", h.id)),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/console/concierge").into_response())
}

#[derive(Debug, Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

/// The monthly report inside the console's session (the JSON API's twin needs a bearer
/// token, which a browser does not send).
pub async fn report(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<MonthQuery>,
) -> Result<Response, ConsoleError> {
    if console.user.role == Role::Worker {
        return Err(ApiError::Forbidden(
            "the monthly report is for concierges, supervisors and managers".into(),
        )
        .into());
    }
    let now = state.clock.now();
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        None => Month::containing(now, state.settings.locale.offset()),
    };
    let r = report::monthly_as_of(&state.db, &state.settings, month, now).await?;
    let body = report::render(&r, Format::Html)?;
    Ok((
        [
            (header::CONTENT_TYPE, Format::Html.content_type()),
            // The report carries its own stylesheet inline and no scripts.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../assets/console.css"),
    )
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../assets/console.js"),
    )
}
