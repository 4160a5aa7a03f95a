//! What ticket operations need besides a connection: the settings, the clock, the notice
//! texts and a pool for what must not wait for the caller's transaction. Its own module so
//! that the operations (`service`, `lifecycle`, `severity`, `revisit`) all depend on it and
//! not on one another.

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::prompts::Prompts;

/// What ticket operations need besides a connection.
#[derive(Clone)]
pub struct TicketContext {
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    /// The texts of notices that status changes send to residents and staff.
    pub prompts: Arc<Prompts>,
    /// For what must not wait for the caller's transaction (ticket numbers).
    pub db: sqlx::PgPool,
}
