//! Server configuration, read from flags and environment by the CLI (see `main.rs`).

use std::fmt;

/// What `run` needs to serve.
#[derive(Clone)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// The first token of a fresh database (`SCIM_BOOTSTRAP_TOKEN`); random when unset.
    pub bootstrap_token: Option<String>,
    /// Largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// Seconds a request waits for a database connection before 503.
    pub pool_timeout_secs: u64,
    /// Page size when a list request gives no `count`.
    pub default_count: u64,
    /// Largest page served (`filter.maxResults`).
    pub max_results: u64,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Most operations in one `/Bulk` request (`bulk.maxOperations`).
    pub bulk_max_operations: usize,
    /// `/Bulk` requests processed at once by this process; more wait their turn. Each holds its
    /// whole request and results in memory, so this bounds the memory bulk loads can take.
    /// 0 chooses: 1 on SQLite, whose single writer would leave a second bulk waiting while
    /// holding its memory, and 2 on PostgreSQL, where two bulks write in parallel.
    pub bulk_concurrency: usize,
    /// On SIGTERM or SIGINT, how long `/readyz` answers 503 while requests are still served,
    /// so that a load balancer stops sending new ones before the listener closes.
    pub shutdown_grace_secs: u64,
    /// JWT bearer tokens, when configured (opaque tokens work either way).
    pub jwt: Option<crate::jwt::JwtConfig>,
}

impl Config {
    /// `bulk_concurrency` with 0 resolved for the configured database.
    pub fn bulk_turns(&self) -> usize {
        let postgres = scim_store::DbUrl::parse(&self.database_url).is_ok_and(|u| u.is_postgres());
        match self.bulk_concurrency {
            0 if postgres => 2,
            0 => 1,
            n => n,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://scim.db".into(),
            bootstrap_token: None,
            max_body_bytes: 1024 * 1024,
            pool_size: 16,
            pool_timeout_secs: 5,
            default_count: 100,
            max_results: 1000,
            workers: 0,
            bulk_max_operations: 1000,
            bulk_concurrency: 0,
            shutdown_grace_secs: 5,
            jwt: None,
        }
    }
}

impl fmt::Debug for Config {
    /// Secrets are redacted: the bootstrap token and any database password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &scim_store::connection::redact(&self.database_url),
            )
            .field(
                "bootstrap_token",
                &self.bootstrap_token.as_ref().map(|_| "***"),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .field("pool_size", &self.pool_size)
            .field("pool_timeout_secs", &self.pool_timeout_secs)
            .field("default_count", &self.default_count)
            .field("max_results", &self.max_results)
            .field("workers", &self.workers)
            .field("bulk_max_operations", &self.bulk_max_operations)
            .field("bulk_concurrency", &self.bulk_concurrency)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("jwt", &self.jwt)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_redacts_secrets() {
        let c = super::Config {
            database_url: "postgres://u:pw@h/db".into(),
            bootstrap_token: Some("scim_secret".into()),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("pw@") && !s.contains("scim_secret"), "{s}");
    }

    #[test]
    fn bulk_turns_follow_the_backend_unless_set() {
        let on = |url: &str, n: usize| super::Config {
            database_url: url.into(),
            bulk_concurrency: n,
            ..Default::default()
        };
        assert_eq!(on("sqlite://x.db", 0).bulk_turns(), 1);
        assert_eq!(on("postgres://h/db", 0).bulk_turns(), 2);
        assert_eq!(on("sqlite://x.db", 3).bulk_turns(), 3);
    }
}
