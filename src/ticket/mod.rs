//! The shared domain: tickets, their lifecycle, SLA clocks and complaint severity, and the
//! repository that stores them. Every other layer may import from here.

pub mod context;
pub mod escalation;
pub mod lifecycle;
pub mod model;
pub mod notify;
pub mod repository;
pub mod residents;
pub mod revisit;
pub mod service;
pub mod severity;
pub mod sla;

use async_trait::async_trait;

pub use context::TicketContext;
pub use model::{
    Category, Department, EscalationLevel, Kind, Role, Severity, Status, Ticket, Urgency,
};
pub use repository::NewTicket;
pub use service::create;

/// Where a ticket goes once it is committed and waiting for staff. Implemented by `queue`,
/// injected into the layers before it so they never import it.
#[async_trait]
pub trait TicketQueue: Send + Sync {
    async fn push(&self, ticket: &Ticket) -> anyhow::Result<()>;
}

/// For tests and tools that run without Redis queues.
pub struct NoQueue;

#[async_trait]
impl TicketQueue for NoQueue {
    async fn push(&self, _: &Ticket) -> anyhow::Result<()> {
        Ok(())
    }
}
