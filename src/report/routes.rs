//! `GET /api/v1/reports/monthly?month=YYYY-MM` (JSON, as contract.md says), with `.csv`
//! and `.html` siblings for people. Handlers only parse, call `monthly_as_of` with the
//! app's clock, and render.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{monthly_as_of, render, Format, Month};
use crate::staff::auth::StaffUser;
use crate::staff::error::ApiError;
use crate::state::AppState;
use crate::ticket::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/monthly", get(monthly_json))
        .route("/api/v1/reports/monthly.csv", get(monthly_csv))
        .route("/api/v1/reports/monthly.html", get(monthly_html))
}

/// The query string. `month` is optional here only so that its absence gets the same JSON
/// 400 as a malformed value instead of axum's plain-text rejection.
#[derive(Debug, Deserialize)]
pub struct MonthQuery {
    pub month: Option<String>,
}

pub async fn monthly_json(
    user: StaffUser,
    state: State<AppState>,
    query: Query<MonthQuery>,
) -> Response {
    respond(user, state, query, Format::Json).await
}

pub async fn monthly_csv(
    user: StaffUser,
    state: State<AppState>,
    query: Query<MonthQuery>,
) -> Response {
    respond(user, state, query, Format::Csv).await
}

pub async fn monthly_html(
    user: StaffUser,
    state: State<AppState>,
    query: Query<MonthQuery>,
) -> Response {
    respond(user, state, query, Format::Html).await
}

/// Managers, supervisors and concierges read the report; front-line workers live in their
/// queue and do not.
async fn respond(
    user: StaffUser,
    State(state): State<AppState>,
    Query(query): Query<MonthQuery>,
    format: Format,
) -> Response {
    if user.role == Role::Worker {
        return ApiError::Forbidden(
            "the monthly report is for concierges, supervisors and managers".into(),
        )
        .into_response();
    }
    let month = match query.month.as_deref().map(Month::parse) {
        Some(Ok(month)) => month,
        Some(Err(e)) => return bad_request(&e.to_string()),
        None => return bad_request("missing query parameter `month` (YYYY-MM)"),
    };
    let report = match monthly_as_of(&state.db, &state.settings, month, state.clock.now()).await {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), %month, "monthly report failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "the report could not be computed"})),
            )
                .into_response();
        }
    };
    if format == Format::Json {
        return Json(report).into_response();
    }
    match render(&report, format) {
        Ok(body) => {
            let mut response =
                ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
            if format == Format::Csv {
                let disposition = format!("attachment; filename=\"guanjia-report-{month}.csv\"");
                if let Ok(value) = header::HeaderValue::from_str(&disposition) {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_DISPOSITION, value);
                }
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), %month, "rendering the monthly report failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "the report could not be rendered"})),
            )
                .into_response()
        }
    }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}
