//! WeChat Official Account (公众号): URL verification, plain and safe-mode pushes, passive
//! replies. See `shared/wechat.md`.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
