//! One access token per platform account, shared by every instance through Redis.
//!
//! WeChat invalidates the previous token shortly after a new one is fetched, so instances
//! must not each fetch their own: the token lives under one key with a TTL a few minutes
//! shorter than the platform's, and a `SET NX PX` lock lets one instance refresh while the
//! others wait briefly and read what it stored.

use std::future::Future;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use uuid::Uuid;

use super::failure::Failure;

/// Tokens are refreshed this long before the platform says they expire.
const EARLY: u64 = 300;
const LOCK_MS: u64 = 10_000;
const WAIT_STEP: Duration = Duration::from_millis(100);
const WAIT_STEPS: u32 = 50;

/// Deletes `KEYS[1]` only while it still holds `ARGV[1]`.
const COMPARE_AND_DELETE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// The cached token under `key`, or a fresh one from `fetch` (→ token, lifetime in seconds).
pub async fn get<F, Fut>(redis: &ConnectionManager, key: &str, fetch: F) -> Result<String, Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(String, u64), Failure>>,
{
    let mut conn = redis.clone();
    if let Some(token) = read(&mut conn, key).await? {
        return Ok(token);
    }
    let lock_key = format!("{key}:lock");
    let me = Uuid::new_v4().to_string();
    for _ in 0..WAIT_STEPS {
        let acquired: bool = redis::cmd("SET")
            .arg(&lock_key)
            .arg(&me)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_MS)
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(redis_failure)?
            .is_some();
        if acquired {
            let result = refresh(&mut conn, key, &fetch).await;
            let _: Result<i64, _> = redis::Script::new(COMPARE_AND_DELETE)
                .key(&lock_key)
                .arg(&me)
                .invoke_async(&mut conn)
                .await;
            return result;
        }
        tokio::time::sleep(WAIT_STEP).await;
        if let Some(token) = read(&mut conn, key).await? {
            return Ok(token);
        }
    }
    Err(Failure::Retry(
        "access token refresh still in progress".into(),
    ))
}

/// Forgets `failed` — unless another instance has already replaced it, in which case the
/// newer token is left alone.
pub async fn invalidate(redis: &ConnectionManager, key: &str, failed: &str) -> Result<(), Failure> {
    let mut conn = redis.clone();
    let _: i64 = redis::Script::new(COMPARE_AND_DELETE)
        .key(key)
        .arg(failed)
        .invoke_async(&mut conn)
        .await
        .map_err(redis_failure)?;
    Ok(())
}

async fn refresh<F, Fut>(
    conn: &mut ConnectionManager,
    key: &str,
    fetch: &F,
) -> Result<String, Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(String, u64), Failure>>,
{
    // Someone may have refreshed between our read and our lock.
    if let Some(token) = read(conn, key).await? {
        return Ok(token);
    }
    let (token, expires_in) = fetch().await?;
    let ttl = expires_in.saturating_sub(EARLY).max(60);
    let _: () = conn.set_ex(key, &token, ttl).await.map_err(redis_failure)?;
    Ok(token)
}

async fn read(conn: &mut ConnectionManager, key: &str) -> Result<Option<String>, Failure> {
    conn.get(key).await.map_err(redis_failure)
}

fn redis_failure(e: redis::RedisError) -> Failure {
    Failure::Retry(format!("redis: {e}"))
}
