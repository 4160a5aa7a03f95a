//! WeChat Official Account (公众号): URL verification, plain and safe-mode pushes, passive
//! replies. See `shared/wechat.md`.
//!
//! `signature` and `crypto` are the platform's security scheme, `xml` reads its pushes,
//! `reply` writes our answers, and `routes` puts them in front of [`crate::channel::ingest`].

pub mod crypto;
pub mod reply;
pub mod routes;
pub mod signature;
pub mod xml;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/wechat/{account}",
        get(routes::verify_url).post(routes::push),
    )
}
