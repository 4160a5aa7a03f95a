//! The commands of the `guanjia` binary.

pub mod chat;
pub mod classify;
pub mod report;
pub mod serve;
pub mod staff;
pub mod train;
