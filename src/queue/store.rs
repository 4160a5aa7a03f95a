//! The Redis side of the queues. Every change that must not interleave with a claim is one
//! Lua script over the two keys of a department (same hash tag, same slot).

use std::collections::HashMap;
use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::Script;
use uuid::Uuid;

use super::keys;
use crate::ticket::{Department, Ticket};

/// Takes the first member and records who took it.
static TAKE_FIRST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local m = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        if #m == 0 then return false end
        redis.call('ZREM', KEYS[1], m[1])
        redis.call('HSET', KEYS[2], m[1], ARGV[1])
        return {m[1], m[2]}
        ",
    )
});

/// Takes a named ticket unless someone else holds it. Replies {outcome, holder, score}:
/// `held` (by holder), `taken` (was queued, score given) or `absent` (not queued, nobody
/// holds it: the caller asks the database, and the holder slot is reserved meanwhile).
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local holder = redis.call('HGET', KEYS[2], ARGV[1])
        if holder and holder ~= ARGV[2] then return {'held', holder, ''} end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if score then
            redis.call('ZREM', KEYS[1], ARGV[1])
            return {'taken', ARGV[2], score}
        end
        return {'absent', ARGV[2], ''}
        ",
    )
});

/// (Re)queues a ticket: nobody holds it any more.
static PUSH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        return 1
        ",
    )
});

/// Queues each (member, score) pair that nobody holds; returns how many were new. Used by
/// reconciliation, which must not re-queue a ticket claimed since it read the database.
static ADD_UNLESS_HELD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local added = 0
        for i = 1, #ARGV, 2 do
            if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
                added = added + redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
            end
        end
        return added
        ",
    )
});

/// Forgets a holder only if it is still the one the caller saw.
static DROP_HOLDER_IF: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
            return redis.call('HDEL', KEYS[1], ARGV[1])
        end
        return 0
        ",
    )
});

/// What a named claim found in Redis.
#[derive(Debug, Clone, PartialEq)]
pub enum Named {
    Taken { score: f64 },
    HeldBy(String),
    Absent,
}

#[derive(Clone)]
pub struct Store {
    redis: ConnectionManager,
    prefix: String,
}

impl Store {
    pub fn new(redis: ConnectionManager, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
        }
    }

    fn keys(&self, d: Department) -> (String, String) {
        (keys::queue(&self.prefix, d), keys::claims(&self.prefix, d))
    }

    pub async fn push(&self, ticket: &Ticket) -> redis::RedisResult<()> {
        let score = keys::score(ticket.urgency, ticket.due_at);
        self.put_back(ticket.department, ticket.id, score).await
    }

    pub async fn put_back(&self, d: Department, id: Uuid, score: f64) -> redis::RedisResult<()> {
        let (q, c) = self.keys(d);
        let mut conn = self.redis.clone();
        PUSH.key(q)
            .key(c)
            .arg(id.to_string())
            .arg(score)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
    }

    /// Pops the first ticket of the queue for `staff`: (member, score).
    pub async fn take_first(
        &self,
        d: Department,
        staff: Uuid,
    ) -> redis::RedisResult<Option<(String, f64)>> {
        let (q, c) = self.keys(d);
        let mut conn = self.redis.clone();
        let got: Option<(String, f64)> = TAKE_FIRST
            .key(q)
            .key(c)
            .arg(staff.to_string())
            .invoke_async(&mut conn)
            .await?;
        Ok(got)
    }

    pub async fn take(&self, d: Department, id: Uuid, staff: Uuid) -> redis::RedisResult<Named> {
        let (q, c) = self.keys(d);
        let mut conn = self.redis.clone();
        let (outcome, holder, score): (String, String, String) = TAKE
            .key(q)
            .key(c)
            .arg(id.to_string())
            .arg(staff.to_string())
            .invoke_async(&mut conn)
            .await?;
        Ok(match outcome.as_str() {
            "held" => Named::HeldBy(holder),
            "taken" => Named::Taken {
                score: score.parse().unwrap_or(f64::MAX),
            },
            _ => Named::Absent,
        })
    }

    pub async fn set_holder(&self, d: Department, id: Uuid, staff: Uuid) -> redis::RedisResult<()> {
        let (_, c) = self.keys(d);
        let mut conn = self.redis.clone();
        redis::cmd("HSET")
            .arg(c)
            .arg(id.to_string())
            .arg(staff.to_string())
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
    }

    /// Forgets that `holder` holds `id` (a no-op if someone else took it since).
    pub async fn drop_holder(
        &self,
        d: Department,
        id: &str,
        holder: &str,
    ) -> redis::RedisResult<()> {
        let (_, c) = self.keys(d);
        let mut conn = self.redis.clone();
        DROP_HOLDER_IF
            .key(c)
            .arg(id)
            .arg(holder)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
    }

    pub async fn remove(&self, d: Department, id: &str) -> redis::RedisResult<()> {
        let (q, _) = self.keys(d);
        let mut conn = self.redis.clone();
        redis::cmd("ZREM")
            .arg(q)
            .arg(id)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
    }

    /// The queue in the order it should be taken.
    pub async fn members(&self, d: Department) -> redis::RedisResult<Vec<String>> {
        let (q, _) = self.keys(d);
        let mut conn = self.redis.clone();
        redis::cmd("ZRANGE")
            .arg(q)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
    }

    pub async fn holders(&self, d: Department) -> redis::RedisResult<HashMap<String, String>> {
        let (_, c) = self.keys(d);
        let mut conn = self.redis.clone();
        redis::cmd("HGETALL").arg(c).query_async(&mut conn).await
    }

    pub async fn add_unless_held(
        &self,
        d: Department,
        items: &[(Uuid, f64)],
    ) -> redis::RedisResult<u64> {
        let (q, c) = self.keys(d);
        let mut conn = self.redis.clone();
        let mut added = 0;
        // Chunked so no single script blocks Redis for long.
        for chunk in items.chunks(500) {
            let mut inv = ADD_UNLESS_HELD.key(&q);
            inv.key(&c);
            for (id, score) in chunk {
                inv.arg(id.to_string()).arg(*score);
            }
            added += inv.invoke_async::<u64>(&mut conn).await?;
        }
        Ok(added)
    }
}

impl Store {
    pub async fn forget_holder(&self, d: Department, id: &str) -> redis::RedisResult<()> {
        let (_, c) = self.keys(d);
        let mut conn = self.redis.clone();
        redis::cmd("HDEL")
            .arg(c)
            .arg(id)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
    }
}
