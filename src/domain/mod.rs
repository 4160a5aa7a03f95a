//! Small value types shared by every layer: parse, don't validate.

pub mod locale;
pub mod privacy;

pub use locale::Locale;
