//! Server configuration, read from flags, environment and a settings file by the CLI (see
//! `main.rs` and `config_file.rs`).

use std::fmt;
use std::path::PathBuf;

use scim_core::limits::Limits;

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
    /// What one request may ask (filter length and depth, PATCH operations, attribute lists).
    pub limits: Limits,
    /// Requests per token and second.
    pub rate_limit: RateLimit,
    /// HTTPS instead of HTTP, when set.
    pub tls: Option<Tls>,
    /// Where `/metrics` is served; nowhere when unset.
    pub metrics_listen: Option<String>,
}

/// Per-token request rate, per process: a token bucket that holds `burst` requests and
/// refills at `per_second`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second; 0 means no limit.
    pub per_second: u32,
    /// Requests allowed at once after a pause; 0 means `per_second`.
    pub burst: u32,
}

/// The PEM files of an HTTPS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
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
            limits: Limits::default(),
            rate_limit: RateLimit::default(),
            tls: None,
            metrics_listen: None,
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
            .field("limits", &self.limits)
            .field("rate_limit", &self.rate_limit)
            .field("tls", &self.tls)
            .field("metrics_listen", &self.metrics_listen)
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
