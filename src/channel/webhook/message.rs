//! The webhook's message body, parsed into values that are known to be usable.

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

const MAX_ID_LEN: usize = 256;

#[derive(Debug, Deserialize)]
struct Wire {
    message_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    sent_at: Option<DateTime<FixedOffset>>,
}

/// A webhook message whose ids are non-empty and of sane length.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookMessage {
    pub message_id: String,
    pub user_id: String,
    pub text: String,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

impl WebhookMessage {
    /// Parses the raw body; the error says what is wrong, for the `{"error": ...}` reply.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let wire: Wire =
            serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))?;
        let message_id = id(wire.message_id, "message_id")?;
        let user_id = id(wire.user_id, "user_id")?;
        // PostgreSQL text cannot hold NUL: refuse it here (400), not at the insert (503).
        if wire.text.contains('\0') {
            return Err("text must not contain NUL characters".into());
        }
        Ok(Self {
            message_id,
            user_id,
            text: wire.text,
            sent_at: wire.sent_at,
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "message_id": self.message_id,
            "user_id": self.user_id,
            "text": self.text,
            "sent_at": self.sent_at,
        })
    }
}

fn id(value: String, name: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(format!("{name} must not be empty"));
    }
    if trimmed.len() > MAX_ID_LEN || trimmed.chars().any(char::is_control) {
        return Err(format!(
            "{name} must be at most {MAX_ID_LEN} bytes without control characters"
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_example_parses() {
        let m = WebhookMessage::parse(
            r#"{"message_id":"m-123","user_id":"resident-openid","text":"电梯坏了","sent_at":"2026-11-22T10:00:00+08:00"}"#.as_bytes(),
        )
        .unwrap();
        assert_eq!(m.message_id, "m-123");
        assert_eq!(m.user_id, "resident-openid");
        assert_eq!(m.text, "电梯坏了");
        assert!(m.sent_at.is_some());
    }

    #[test]
    fn sent_at_and_text_are_optional() {
        let m = WebhookMessage::parse(br#"{"message_id":"m","user_id":"u"}"#).unwrap();
        assert_eq!(m.text, "");
        assert_eq!(m.sent_at, None);
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(WebhookMessage::parse(b"not json")
            .unwrap_err()
            .contains("invalid JSON"));
        assert!(WebhookMessage::parse(br#"{"user_id":"u","text":"x"}"#)
            .unwrap_err()
            .contains("message_id"));
        assert!(
            WebhookMessage::parse(br#"{"message_id":" ","user_id":"u"}"#)
                .unwrap_err()
                .contains("message_id")
        );
        assert!(WebhookMessage::parse(br#"{"message_id":"m","user_id":""}"#)
            .unwrap_err()
            .contains("user_id"));
        let long = format!(r#"{{"message_id":"{}","user_id":"u"}}"#, "x".repeat(300));
        assert!(WebhookMessage::parse(long.as_bytes())
            .unwrap_err()
            .contains("message_id"));
        assert!(WebhookMessage::parse(
            br#"{"message_id":"m","user_id":"u","sent_at":"yesterday"}"#
        )
        .is_err());
    }

    #[test]
    fn nul_in_the_text_is_refused() {
        let err = WebhookMessage::parse(br#"{"message_id":"m","user_id":"u","text":"a\u0000b"}"#)
            .unwrap_err();
        assert!(err.contains("NUL"), "{err}");
    }
}
