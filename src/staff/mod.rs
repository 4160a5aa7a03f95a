//! The staff API (`/api/v1`): queues, claims, status changes, replies and ticket history,
//! behind bearer tokens, and the browser console (`console`) over the same `actions`.
//! `auth::StaffUser` is the extractor the API and reports use.

pub mod actions;
pub mod auth;
pub mod console;
pub mod error;
pub mod routes;
pub mod scope;
pub mod view;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use auth::StaffUser;
pub use error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/queue/{department}", get(routes::queue_list))
        .route(
            "/api/v1/queue/{department}/claim",
            post(routes::queue_claim),
        )
        .route("/api/v1/tickets", get(routes::ticket_list))
        .route("/api/v1/tickets/{id}", get(routes::ticket_get))
        .route("/api/v1/tickets/{id}/claim", post(routes::ticket_claim))
        .route("/api/v1/tickets/{id}/status", post(routes::ticket_status))
        .route("/api/v1/tickets/{id}/reply", post(routes::ticket_reply))
        .route("/api/v1/tickets/{id}/release", post(routes::ticket_release))
        .route("/api/v1/tickets/{id}/assign", post(routes::ticket_assign))
        .route(
            "/api/v1/tickets/{id}/reclassify",
            post(routes::ticket_reclassify),
        )
        .merge(console::router())
}
