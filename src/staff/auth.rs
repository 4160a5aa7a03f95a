//! Who is calling: `Authorization: Bearer <token>`, looked up by the token's SHA-256 in
//! `staff.token_hash`. `StaffUser` is the extractor every staff endpoint (API, console,
//! reports) takes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::ApiError;
use crate::state::AppState;
use crate::ticket::{Department, Role};

/// An authenticated, active staff member.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: Uuid,
    pub name: String,
    pub department: Department,
    pub role: Role,
    /// Buildings a concierge looks after.
    pub buildings: Vec<String>,
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token: 32 random bytes, hex.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The token of an `Authorization` header value, if it is a well-formed bearer token.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

type StaffRow = (Uuid, String, String, String, Vec<String>);

fn from_row((id, name, department, role, buildings): StaffRow) -> Result<StaffUser, ApiError> {
    let department = Department::parse(&department)
        .ok_or_else(|| anyhow::anyhow!("staff {id} has department {department}"))?;
    let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("staff {id} has role {role}"))?;
    Ok(StaffUser {
        id,
        name,
        department,
        role,
        buildings,
    })
}

/// The active staff member a token belongs to (the API's bearer token, the console's
/// sign-in form).
pub async fn by_token(db: &sqlx::PgPool, token: &str) -> Result<Option<StaffUser>, ApiError> {
    let row: Option<StaffRow> = sqlx::query_as(
        "SELECT id, name, department, role, buildings FROM staff WHERE token_hash = $1 AND active",
    )
    .bind(hash_token(token))
    .fetch_optional(db)
    .await?;
    row.map(from_row).transpose()
}

/// The active staff member with this id (a console session's owner).
pub async fn by_id(db: &sqlx::PgPool, id: Uuid) -> Result<Option<StaffUser>, ApiError> {
    let row: Option<StaffRow> = sqlx::query_as(
        "SELECT id, name, department, role, buildings FROM staff WHERE id = $1 AND active",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(from_row).transpose()
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        let token = bearer(header)
            .ok_or_else(|| ApiError::Unauthorized("malformed Authorization header".into()))?;
        by_token(&state.db, token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_strictly() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn tokens_are_random_and_hashed_to_hex() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
