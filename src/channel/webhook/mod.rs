//! The signed JSON webhook for any other messaging platform or a web chat widget:
//! `POST /webhook/{channel}` (see `shared/contract.md`). `signature` is the HMAC scheme
//! shared with the callbacks we send; `message` parses the body; `routes` is the handler.

pub mod message;
pub mod routes;
pub mod signature;

use axum::routing::post;
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhook/{channel}", post(routes::receive))
}
