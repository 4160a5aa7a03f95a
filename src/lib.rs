//! guanjia (管家), the concierge: a property-management customer-service centre over chat.
//!
//! A message's path reads in the module list: `channel` (the doors) → `dialogue` (the
//! conversation, using `understanding`) → `ticket` (the shared domain) → `queue` (staff
//! claim work) → `delivery` (messages back to residents) → `schedule` (timers, surveys,
//! escalation) → `staff` (API and console) → `report`.

pub mod channel;
pub mod cli;
pub mod clock;
pub mod configuration;
pub mod delivery;
pub mod dialogue;
pub mod domain;
pub mod operations;
pub mod prompts;
pub mod queue;
pub mod report;
pub mod schedule;
pub mod staff;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod ticket;
pub mod understanding;
