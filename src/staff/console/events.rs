//! `/console/events`: server-sent events that tell an open page its board changed. The
//! stream polls a cheap fingerprint of the user's tickets and conversations every two
//! seconds and sends `change` when it moves; the page then refetches itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream};

use super::data;
use super::viewer::Console;
use crate::state::AppState;

const POLL: Duration = Duration::from_secs(2);
/// Streams end after this long and the browser reconnects on its own (and at once when the
/// server stops).
const STREAM_FOR: Duration = Duration::from_secs(60);

pub async fn stream(
    State(state): State<AppState>,
    console: Console,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let started = tokio::time::Instant::now();
    let user = console.user;
    let events = stream::unfold(
        (state, user, None::<String>),
        move |(state, user, last)| async move {
            loop {
                if last.is_some() {
                    if started.elapsed() >= STREAM_FOR {
                        return None;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {}
                        // The graceful shutdown waits for open responses: end now.
                        _ = state.shutdown.cancelled() => return None,
                    }
                }
                let current = match data::fingerprint(&state.db, &user).await {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!("console events: {e}");
                        return None;
                    }
                };
                // The first event tells the page the stream is live; later ones that
                // something changed.
                let name = match &last {
                    None => "ready",
                    Some(prev) if *prev != current => "change",
                    Some(_) => continue,
                };
                let event = Event::default().event(name).data(current.clone());
                return Some((Ok(event), (state, user, Some(current))));
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}
