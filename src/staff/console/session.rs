//! Console sign-in: a staff API token typed into a form becomes a server-side session.
//! The cookie (HttpOnly, SameSite=Strict, path `/console`) holds a random id; the
//! database keeps only its SHA-256, the owner, the expiry and the session's CSRF token,
//! which every console form carries back.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Duration, Utc};

use super::error::ConsoleError;
use super::viewer::Console;
use crate::staff::auth::{self, hash_token, new_token, StaffUser};
use crate::state::AppState;

pub const COOKIE: &str = "guanjia_console";
/// A working shift and then some; signing in again is cheap.
pub const LIFETIME_HOURS: i64 = 12;

/// Starts a session for the holder of `token`; `None` when the token is unknown.
pub async fn sign_in(
    state: &AppState,
    token: &str,
) -> Result<Option<(StaffUser, String)>, ConsoleError> {
    let Some(user) = auth::by_token(&state.db, token.trim()).await? else {
        return Ok(None);
    };
    let id = new_token();
    let now = state.clock.now();
    sqlx::query(
        "INSERT INTO staff_sessions (id_hash, staff_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_token(&id))
    .bind(user.id)
    .bind(new_token())
    .bind(now)
    .bind(expiry(now))
    .execute(&state.db)
    .await?;
    // Expired sessions are of no use to anyone; signing in is a fine moment to sweep.
    sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(&state.db)
        .await?;
    Ok(Some((user, id)))
}

pub fn expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::hours(LIFETIME_HOURS)
}

pub async fn sign_out(state: &AppState, session_id: &str) -> Result<(), ConsoleError> {
    sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1")
        .bind(hash_token(session_id))
        .execute(&state.db)
        .await?;
    Ok(())
}

/// The session cookie; it lives as long as the browser session, the server-side row
/// decides when it stops working. `Secure` when the request reached us over HTTPS through a proxy;
/// plain-HTTP development on localhost still works.
pub fn cookie(id: String, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE, id))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

pub fn removal() -> Cookie<'static> {
    Cookie::build((COOKIE, "")).path("/console").build()
}

pub fn behind_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub fn session_id(jar: &CookieJar) -> Option<String> {
    jar.get(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Console {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let id = session_id(&jar).ok_or(ConsoleError::SignIn)?;
        let row: Option<(uuid::Uuid, String)> = sqlx::query_as(
            "SELECT staff_id, csrf_token FROM staff_sessions
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(hash_token(&id))
        .bind(state.clock.now())
        .fetch_optional(&state.db)
        .await?;
        let (staff_id, csrf) = row.ok_or(ConsoleError::SignIn)?;
        // A deactivated member's sessions stop working at once, like their token.
        let user = auth::by_id(&state.db, staff_id)
            .await?
            .ok_or(ConsoleError::SignIn)?;
        Ok(Console { user, csrf })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_must_match_exactly() {
        assert!(super::super::viewer::csrf_matches("abc", "abc"));
        assert!(!super::super::viewer::csrf_matches("abc", "abd"));
        assert!(!super::super::viewer::csrf_matches("abc", ""));
        assert!(!super::super::viewer::csrf_matches("", ""));
        assert!(!super::super::viewer::csrf_matches("abc", "abcd"));
    }

    #[test]
    fn the_cookie_is_strict_and_http_only() {
        let c = cookie("id".into(), false).to_string();
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Strict"), "{c}");
        assert!(c.contains("Path=/console"), "{c}");
        assert!(!c.contains("Secure"), "{c}");
        assert!(cookie("id".into(), true).to_string().contains("Secure"));
    }

    #[test]
    fn https_is_read_from_the_proxy_header() {
        let mut h = HeaderMap::new();
        assert!(!behind_https(&h));
        h.insert("x-forwarded-proto", "HTTPS".parse().unwrap());
        assert!(behind_https(&h));
    }
}
