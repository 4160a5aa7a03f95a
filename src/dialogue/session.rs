//! Conversation sessions in Redis, one JSON value per resident under
//! `<prefix>:session:<resident_id>`. The idle timeout is judged by the machine against the
//! injected clock (`last_activity`), so the Redis TTL only collects garbage.
//!
//! The session also remembers the last message it stepped and the session before it: a
//! repeated delivery of that message is stepped again from the earlier session, so it gets
//! the same answer whether or not the first attempt committed.

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::machine::Session;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stored {
    pub current: Option<Session>,
    pub last_message_id: Option<Uuid>,
    pub previous: Option<Session>,
}

impl Stored {
    /// The session to step `message_id` from.
    pub fn start_for(&self, message_id: Uuid) -> Option<Session> {
        if self.last_message_id == Some(message_id) {
            self.previous.clone()
        } else {
            self.current.clone()
        }
    }
}

pub fn key(prefix: &str, resident_id: Uuid) -> String {
    format!("{prefix}:session:{resident_id}")
}

/// Reads a stored session; an unreadable one (e.g. after a format change) is a fresh start,
/// not an error.
fn parse(raw: Option<&str>) -> Stored {
    raw.and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// The sessions under `keys` in one round trip, with the raw values as found (what
/// [`restore`] puts back).
pub async fn load_many(
    redis: &mut ConnectionManager,
    keys: &[String],
) -> anyhow::Result<Vec<(Stored, Option<String>)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // MGET with one key still answers with a list.
    let raw: Vec<Option<String>> = redis::cmd("MGET").arg(keys).query_async(redis).await?;
    Ok(raw.into_iter().map(|r| (parse(r.as_deref()), r)).collect())
}

/// Writes the sessions in one round trip.
pub async fn save_many(
    redis: &mut ConnectionManager,
    sessions: &[(String, Stored)],
    ttl: std::time::Duration,
) -> anyhow::Result<()> {
    let mut pipe = redis::pipe();
    for (key, stored) in sessions {
        pipe.cmd("SET")
            .arg(key)
            .arg(serde_json::to_string(stored)?)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .ignore();
    }
    let () = pipe.query_async(redis).await?;
    Ok(())
}

/// Puts raw session values back as [`load_many`] found them (`None`: there was none).
pub async fn restore(
    redis: &mut ConnectionManager,
    originals: &[(String, Option<String>)],
    ttl: std::time::Duration,
) -> anyhow::Result<()> {
    let mut pipe = redis::pipe();
    for (key, raw) in originals {
        match raw {
            Some(raw) => pipe
                .cmd("SET")
                .arg(key)
                .arg(raw)
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .ignore(),
            None => pipe.cmd("DEL").arg(key).ignore(),
        };
    }
    let () = pipe.query_async(redis).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::machine::State;
    use chrono::Utc;

    #[test]
    fn a_repeated_message_starts_from_the_session_before_it() {
        let id = Uuid::new_v4();
        let before = Session {
            state: State::Idle {
                clarified: true,
                emergency: None,
                placeless: false,
                asked: None,
                waiting: None,
            },
            last_activity: Utc::now(),
        };
        let after = Session {
            state: State::Idle {
                clarified: false,
                emergency: None,
                placeless: false,
                asked: None,
                waiting: None,
            },
            last_activity: Utc::now(),
        };
        let stored = Stored {
            current: Some(after.clone()),
            last_message_id: Some(id),
            previous: Some(before.clone()),
        };
        assert_eq!(stored.start_for(id), Some(before));
        assert_eq!(stored.start_for(Uuid::new_v4()), Some(after));
        let json = serde_json::to_string(&stored).unwrap();
        let back: Stored = serde_json::from_str(&json).unwrap();
        assert_eq!(back.start_for(id), stored.start_for(id));
    }

    #[test]
    fn keys_live_under_the_deployment_prefix() {
        let id = Uuid::nil();
        assert_eq!(key("gj", id), format!("gj:session:{id}"));
    }
}
