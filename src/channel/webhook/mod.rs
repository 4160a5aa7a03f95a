//! The signed JSON webhook for any other messaging platform or a web chat widget.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
