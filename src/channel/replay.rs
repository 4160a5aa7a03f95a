//! Pushes signed by a platform are accepted inside a time window, and a signed request is
//! accepted once: what a proxy or access log leaked cannot be posted again later, nor within
//! the window with another body. The memory lives in Redis for as long as a timestamp can
//! pass the window, then is forgotten; losing it (a flushed Redis) reopens at most one
//! window.

use sha2::{Digest, Sha256};

/// Whether a request signed at `timestamp` (unix seconds) is fresh at `now`: neither older
/// nor further in the future than `max_skew_secs`.
pub fn fresh(timestamp: &str, now: i64, max_skew_secs: i64) -> bool {
    match timestamp.trim().parse::<i64>() {
        Ok(ts) => (now - ts).abs() <= max_skew_secs,
        Err(_) => false,
    }
}

/// How long a signature must be remembered: as long as its timestamp stays fresh, on either
/// side of now.
pub fn memory_secs(max_skew_secs: i64) -> i64 {
    max_skew_secs.saturating_mul(2).saturating_add(1).max(1)
}

/// What the memory knew of a signed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Never seen: remembered now.
    First,
    /// Seen with this very body: the platform retrying, answered from the dedup record.
    Retry,
    /// Seen with another body: a replay of the signature, refused.
    Replayed,
}

/// Remembers `key` with the digest of `body` unless it is known, and says what was known.
pub async fn remember(
    redis: &mut redis::aio::ConnectionManager,
    key: &str,
    body: &[u8],
    ttl_secs: i64,
) -> Result<Seen, redis::RedisError> {
    let digest = hex::encode(Sha256::digest(body));
    let set: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(&digest)
        .arg("NX")
        .arg("EX")
        .arg(ttl_secs)
        .query_async(redis)
        .await?;
    if set.is_some() {
        return Ok(Seen::First);
    }
    let known: Option<String> = redis::cmd("GET").arg(key).query_async(redis).await?;
    Ok(match known {
        Some(d) if d == digest => Seen::Retry,
        // Forgotten between the two commands: its window is over.
        None => Seen::Replayed,
        Some(_) => Seen::Replayed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_window() {
        assert!(fresh("1000", 1000, 300));
        assert!(fresh("700", 1000, 300));
        assert!(fresh("1300", 1000, 300));
        assert!(!fresh("699", 1000, 300));
        assert!(!fresh("1301", 1000, 300));
        assert!(!fresh("not a number", 1000, 300));
        assert!(!fresh("", 1000, 300));
    }

    #[test]
    fn remembered_for_the_window_on_both_sides() {
        assert_eq!(memory_secs(300), 601);
        assert_eq!(memory_secs(0), 1);
        assert!(memory_secs(i64::MAX) > 0);
    }
}
