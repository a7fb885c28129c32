//! Connections: one enum over SQLite and PostgreSQL, opened from a URL whose scheme we check
//! ourselves (diesel's derived `establish` would let SQLite take any string as a file name),
//! set up per connection, and pooled with r2d2.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, R2D2Connection};
use diesel::sqlite::SqliteConnection;

use crate::error::Error;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL.
    Postgres(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// `postgres://...` or `postgresql://...`, passed to libpq as is.
    Postgres(String),
    /// `sqlite://PATH` (or `sqlite:PATH`): a file, created if missing.
    Sqlite(String),
}

impl std::fmt::Debug for DbUrl {
    /// Redacts the password of a PostgreSQL URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Postgres(url) => write!(f, "Postgres({})", redact(url)),
            DbUrl::Sqlite(path) => write!(f, "Sqlite({path})"),
        }
    }
}

/// `postgres://user:secret@host/db?password=secret` -> `postgres://user:***@host/db?password=***`:
/// libpq takes the password from either place.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://").and_then(|(scheme, rest)| {
        let (auth, host) = rest.split_once('@')?;
        let (user, _) = auth.split_once(':')?;
        Some(format!("{scheme}://{user}:***@{host}"))
    }) {
        Some(redacted) => redacted,
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

impl DbUrl {
    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<DbUrl, Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                Error::Config(format!(
                    "'{}' is neither sqlite://PATH nor postgres://...",
                    redact(url)
                ))
            })?;
        if path.is_empty() {
            return Err(Error::Config("sqlite:// needs a file path".into()));
        }
        Ok(DbUrl::Sqlite(path.to_owned()))
    }

    /// Opens and sets up one connection.
    pub fn connect(&self) -> Result<AnyConnection, Error> {
        match self {
            DbUrl::Postgres(url) => Ok(AnyConnection::Postgres(PgConnection::establish(url)?)),
            DbUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // WAL lets readers run beside the writer. FULL sync fsyncs the WAL at every
                // commit, so a transaction answered 2xx survives a power loss too (NORMAL
                // survives only a process crash); it costs about a quarter of single-POST
                // throughput and nothing measurable in /Bulk (README, "Faults"). busy_timeout
                // makes concurrent
                // writers queue instead of failing. LIKE must be case-sensitive: folding is
                // done explicitly, and case-exact attributes must match exactly. Checkpoints
                // run in the background (`checkpoint`); a commit checkpoints by itself only
                // past 10,000 pages (40 MB) of WAL, should the background fall behind.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA busy_timeout = 10000;
                     PRAGMA foreign_keys = ON;
                     PRAGMA case_sensitive_like = ON;
                     PRAGMA wal_autocheckpoint = 10000;",
                )?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, DbUrl::Postgres(_))
    }
}

/// The r2d2 manager: opens connections from a checked URL.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
}

/// A PostgreSQL connection that went back to the pool in good order less than this long ago is
/// handed out again without a `SELECT 1` first (as HikariCP does, with half a second). The
/// check was a loopback round trip per checkout: two of the five a GET by id made. A connection
/// that died meanwhile fails the one statement that finds it dead, which leaves it broken
/// (`has_broken`), so the pool drops it.
const FRESH: Duration = Duration::from_secs(1);

/// A pooled connection, and when it last went back to the pool in good order.
pub struct Conn {
    conn: AnyConnection,
    returned: Instant,
}

impl Deref for Conn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = Error;

    fn connect(&self) -> Result<Conn, Error> {
        Ok(Conn {
            conn: self.url.connect()?,
            returned: Instant::now(),
        })
    }

    /// A SQLite connection is a file handle: nothing outside the process can close it, and
    /// `SELECT 1` would find no fault that the request's own statements would not.
    fn is_valid(&self, conn: &mut Conn) -> Result<(), Error> {
        match &mut conn.conn {
            AnyConnection::Postgres(c) if conn.returned.elapsed() >= FRESH => {
                c.ping().map_err(Error::from)
            }
            _ => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        let broken = conn.conn.is_broken();
        if !broken {
            conn.returned = Instant::now();
        }
        broken
    }
}

/// A pool of connections.
pub type Pool = r2d2::Pool<Manager>;

/// Builds a pool of at most `size` connections; a caller waits at most `timeout` for one.
pub fn pool(url: &DbUrl, size: u32, timeout: Duration) -> Result<Pool, Error> {
    // SQLite allows one writer at a time; more connections only queue on its lock.
    let size = if url.is_postgres() { size } else { size.min(8) };
    r2d2::Pool::builder()
        .max_size(size.max(1))
        // Open connections as load needs them, not all at start: many processes share one
        // PostgreSQL and its connection limit. A minimum above zero would also make r2d2 open
        // replacement connections in the background, which can race a short-lived CLI
        // process's exit (OpenSSL is torn down under the thread: SIGSEGV).
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .build(Manager { url: url.clone() })
        .map_err(Error::Pool)
}

/// Runs one statement on whichever concrete connection is inside: for the statements diesel's
/// multi-backend type cannot express (multi-row INSERT on SQLite), and for the hot ones. On
/// the multi-backend type diesel writes out every statement's SQL to find its prepared
/// statement (a tenth of a GET by id's CPU); on a concrete connection a statement whose type
/// fixes its SQL is found by that type.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::AnyConnection::Sqlite($c) => $body,
            $crate::connection::AnyConnection::Postgres($c) => $body,
        }
    };
}

/// Runs `f` in a transaction. Writes on SQLite take the write lock at `BEGIN IMMEDIATE`, so two
/// writers queue on `busy_timeout` instead of failing when a read turns into a write.
///
/// A PostgreSQL write for a tenant (`tenant` given) first takes that tenant's advisory lock in
/// shared mode, in the same round trip as `BEGIN`; a change to the tenant's extension columns
/// takes it exclusively. So such a change waits for the tenant's writes in flight, and writes
/// that start after it wait for it to commit: no write lands between stripping an attribute's
/// values and dropping its column, and lock order is the same everywhere (no deadlock).
pub fn transaction<T, E>(
    conn: &mut AnyConnection,
    write: bool,
    tenant: Option<&str>,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    let db = |e: diesel::result::Error| E::from(Error::from(e));
    match (&mut *conn, tenant) {
        // A PostgreSQL read runs without BEGIN and COMMIT: at READ COMMITTED each statement
        // sees its own snapshot inside a transaction too, so they would only add two round
        // trips. (A SQLite read keeps its transaction: it holds one WAL snapshot throughout.)
        (AnyConnection::Postgres(_), _) if !write => return f(conn),
        (AnyConnection::Sqlite(c), _) if write => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(db)?;
        }
        // Tenant ids are server-generated (UUIDs); anything else gets no lock text.
        (AnyConnection::Postgres(c), Some(t))
            if write && t.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') =>
        {
            let begin = format!("BEGIN; SELECT pg_advisory_xact_lock_shared(hashtext('{t}'))");
            AnsiTransactionManager::begin_transaction_sql(c, &begin).map_err(db)?;
        }
        (conn, _) => AnyConnection::begin_transaction(conn).map_err(db)?,
    }
    match f(conn) {
        Ok(value) => {
            AnyConnection::commit_transaction(conn).map_err(db)?;
            Ok(value)
        }
        Err(e) => {
            // The closure's error is what the caller needs; a failed rollback leaves the
            // connection broken, and r2d2 discards broken connections.
            let _ = AnyConnection::rollback_transaction(conn);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_redacted() {
        assert_eq!(
            DbUrl::parse("sqlite://scim.db").unwrap(),
            DbUrl::Sqlite("scim.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DbUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(DbUrl::parse("postgresql://h/db").unwrap().is_postgres());
        assert!(DbUrl::parse("mysql://h/db").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        let url = DbUrl::parse("postgres://scim:hunter2@db/scim").unwrap();
        assert_eq!(format!("{url:?}"), "Postgres(postgres://scim:***@db/scim)");
        assert_eq!(
            redact("postgres://scim@db/scim?sslmode=require&password=hunter2&options=-c%20x"),
            "postgres://scim@db/scim?sslmode=require&password=***&options=-c%20x"
        );
        assert_eq!(
            redact("postgres://scim:a@db/scim?PASSWORD=b"),
            "postgres://scim:***@db/scim?PASSWORD=***"
        );
        assert_eq!(redact("postgres://db/scim"), "postgres://db/scim");
    }
}
