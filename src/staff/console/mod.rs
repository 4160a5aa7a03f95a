//! The staff console in the browser (`/console`): server-rendered pages over the same
//! actions as the JSON API. Sign in with a staff token, work a department's queue board
//! (live through server-sent events), open a ticket to reply, move it on, reassign or
//! reclassify it, answer residents' conversations as a concierge, and read the monthly
//! report.
//!
//! `session` signs people in and guards forms (CSRF) for a `viewer::Console`, `data` reads what pages show,
//! `pages` renders them (maud, escaped), `sla` is the clock on each ticket, `events` the
//! live stream, `routes` the handlers.

pub mod data;
pub mod error;
pub mod events;
pub mod pages;
pub mod routes;
pub mod session;
pub mod sla;
pub mod viewer;

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use error::ConsoleError;
pub use viewer::Console;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(routes::home))
        .route(
            "/console/sign-in",
            get(routes::sign_in_form).post(routes::sign_in),
        )
        .route("/console/sign-out", post(routes::sign_out))
        .route("/console/queue/{department}", get(routes::queue))
        .route(
            "/console/queue/{department}/claim-next",
            post(routes::claim_next),
        )
        .route("/console/tickets/{key}", get(routes::ticket))
        .route("/console/tickets/{key}/claim", post(routes::claim))
        .route("/console/tickets/{key}/release", post(routes::release))
        .route("/console/tickets/{key}/status", post(routes::status))
        .route("/console/tickets/{key}/reply", post(routes::reply))
        .route("/console/tickets/{key}/assign", post(routes::assign))
        .route(
            "/console/tickets/{key}/reclassify",
            post(routes::reclassify),
        )
        .route("/console/concierge", get(routes::concierge))
        .route("/console/handoffs/{id}/reply", post(routes::handoff_reply))
        .route("/console/handoffs/{id}/end", post(routes::handoff_end))
        .route("/console/report", get(routes::report))
        .route("/console/events", get(events::stream))
        .route("/console/assets/console.css", get(routes::stylesheet))
        .route("/console/assets/console.js", get(routes::script))
        .layer(axum::middleware::map_response(protect))
}

/// Console pages are private and never framed; scripts and styles come only from us.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; img-src 'self' http: https: data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
