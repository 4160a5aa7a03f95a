//! One scheduler among many instances: whoever holds a PostgreSQL session advisory lock on
//! a dedicated connection runs the timers. If that process dies, its session ends, the lock
//! is released, and another instance takes over at its next try.

use sqlx::{Connection, PgConnection};

/// The advisory lock key ("guanjia" + 1). Advisory locks are per database, so separate
/// deployments (and test databases) do not contend.
const LOCK_KEY: i64 = 0x6775_616e_6a69_6101;

pub struct Leadership {
    conn: PgConnection,
}

/// Becomes the scheduler if nobody else is; `None` when another session holds the lock.
pub async fn try_lead(database_url: &str) -> anyhow::Result<Option<Leadership>> {
    let mut conn = PgConnection::connect(database_url).await?;
    let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(LOCK_KEY)
        .fetch_one(&mut conn)
        .await?;
    if got {
        Ok(Some(Leadership { conn }))
    } else {
        conn.close().await.ok();
        Ok(None)
    }
}

impl Leadership {
    /// The lock lives as long as the session: a broken connection means we lead no more.
    pub async fn still_leading(&mut self) -> bool {
        sqlx::query("SELECT 1")
            .execute(&mut self.conn)
            .await
            .is_ok()
    }

    pub async fn resign(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_KEY)
            .execute(&mut self.conn)
            .await;
        self.conn.close().await.ok();
    }
}
