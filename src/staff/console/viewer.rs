//! Who is looking at a console page: the signed-in staff member and the CSRF token of
//! their session. Pages render for a `Console`; `session` makes one from the cookie.

use subtle::ConstantTimeEq;

use crate::staff::auth::StaffUser;

/// A signed-in console user and the CSRF token of their session.
#[derive(Debug, Clone)]
pub struct Console {
    pub user: StaffUser,
    pub csrf: String,
}

/// A form whose CSRF token is not its session's (refused with 403).
#[derive(Debug, Clone, Copy)]
pub struct CsrfMismatch;

impl Console {
    /// Whether a submitted form carries this session's token (compared in constant time).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), CsrfMismatch> {
        if csrf_matches(&self.csrf, submitted) {
            Ok(())
        } else {
            Err(CsrfMismatch)
        }
    }
}

pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}
