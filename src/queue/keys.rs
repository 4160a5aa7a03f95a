//! Redis key names and queue order.
//!
//! A department's queue is one sorted set; the tickets taken from it are a hash next to it
//! (ticket → staff). Both keys share the hash tag `{<prefix>:q:<department>}`, so a claim
//! script touches a single Redis Cluster slot.
//!
//! Order: the score encodes urgency, then the due time; ties (same urgency, same due
//! millisecond) fall back to Redis's lexicographic order of members, and members are UUIDv7
//! strings, whose text order is their creation order — so equal tickets go oldest first.

use chrono::{DateTime, Utc};

use crate::ticket::{Department, Urgency};

/// Due times are milliseconds since the epoch, capped here (year 2286): urgency steps are
/// larger than any due time, and every score stays below 2^53, where f64 is still exact.
const MAX_DUE_MS: i64 = 9_999_999_999_999;
const URGENCY_STEP: f64 = 10_000_000_000_000.0;

pub fn queue(prefix: &str, department: Department) -> String {
    format!("{{{prefix}:q:{department}}}")
}

pub fn claims(prefix: &str, department: Department) -> String {
    format!("{{{prefix}:q:{department}}}:claims")
}

/// Lower scores are taken first. A ticket without a due time goes after every dated one of
/// the same urgency.
pub fn score(urgency: Urgency, due_at: Option<DateTime<Utc>>) -> f64 {
    let due = due_at
        .map(|d| d.timestamp_millis())
        .unwrap_or(MAX_DUE_MS)
        .clamp(0, MAX_DUE_MS);
    f64::from(urgency.rank()) * URGENCY_STEP + due as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn keys_share_one_hash_tag() {
        let q = queue("gj", Department::Engineering);
        let c = claims("gj", Department::Engineering);
        assert_eq!(q, "{gj:q:engineering}");
        assert_eq!(c, "{gj:q:engineering}:claims");
        assert!(c.starts_with(&q));
    }

    #[test]
    fn urgency_outranks_any_due_time_and_due_time_orders_within() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let far = now + Duration::days(3650);
        assert!(score(Urgency::Emergency, Some(far)) < score(Urgency::Urgent, Some(now)));
        assert!(score(Urgency::Urgent, None) < score(Urgency::Normal, Some(now)));
        assert!(
            score(Urgency::Normal, Some(now))
                < score(Urgency::Normal, Some(now + Duration::milliseconds(1)))
        );
        assert!(score(Urgency::Normal, Some(far)) < score(Urgency::Normal, None));
    }

    #[test]
    fn scores_are_exact() {
        let s = score(Urgency::Normal, None);
        assert!(s < 9_007_199_254_740_992.0);
        assert_eq!(s as i64 as f64, s);
    }

    #[test]
    fn uuid_v7_text_sorts_by_creation() {
        let a = uuid::Uuid::now_v7().to_string();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = uuid::Uuid::now_v7().to_string();
        assert!(a < b);
    }
}
