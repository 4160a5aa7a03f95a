//! Small value types shared by every layer: parse, don't validate.

pub mod labels;
pub mod locale;
pub mod privacy;

pub use labels::{Category, Department, EscalationLevel, Kind, Role, Severity, Status, Urgency};
pub use locale::Locale;
