//! The revisit survey (回访) as the resident answers it.

use sqlx::PgConnection;
use uuid::Uuid;

use super::service::TicketContext;
use crate::domain::Locale;

/// If the resident has a survey waiting for an answer and `text` answers it, records the
/// answer (closing or reopening the ticket) and returns the reply. `None` lets the dialogue
/// handle the text as usual. (Implemented by the delivery work.)
pub async fn intercept(
    _conn: &mut PgConnection,
    _ctx: &TicketContext,
    _resident_id: Uuid,
    _text: &str,
    _locale: Locale,
) -> anyhow::Result<Option<String>> {
    Ok(None)
}
