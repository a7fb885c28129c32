//! The store's error type, and its one conversion into the core's error.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A persistence failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query failed.
    #[error("database error: {0}")]
    Diesel(#[from] DieselError),
    /// No connection could be had from the pool in time.
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// A connection could not be opened.
    #[error("connection: {0}")]
    Connection(#[from] diesel::ConnectionError),
    /// Running migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database URL is not usable.
    #[error("invalid database URL: {0}")]
    Config(String),
}

impl From<Error> for scim_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Diesel(DieselError::NotFound) => {
                scim_core::Error::NotFound("resource not found".into())
            }
            Error::Diesel(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                scim_core::Error::Uniqueness("a unique attribute already holds this value".into())
            }
            Error::Diesel(DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection,
                _,
            ))
            | Error::Pool(_)
            | Error::Connection(_) => scim_core::Error::Unavailable(Box::new(e)),
            // SQLite reports a writer it waited on too long as "database is locked". A missing
            // table or column can only be a tenant extension's, dropped by a schema change
            // that committed after this request read the catalog (the server's own tables are
            // checked at start): the request may simply be sent again.
            // PostgreSQL text cannot hold U+0000. Resources and filters refuse it before any
            // statement; any other value that reaches a statement with one (a member id, an id
            // in the path) is the client's error, not the server's.
            Error::Diesel(DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info))
                if info.message().contains("invalid byte sequence")
                    && info.message().contains("0x00") =>
            {
                scim_core::Error::InvalidValue(
                    "values may not contain the NUL character (U+0000)".into(),
                )
            }
            Error::Diesel(DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info))
                if [
                    "database is locked",
                    "no such column",
                    "no such table",
                    "has no column",
                ]
                .iter()
                .any(|m| info.message().contains(m))
                    || missing_relation(info.message()) =>
            {
                scim_core::Error::Unavailable(Box::new(e))
            }
            other => scim_core::Error::Internal(Box::new(other)),
        }
    }
}

/// PostgreSQL's `column "c3" does not exist` and `relation "ext_..." does not exist`; other
/// missing objects (a function, an extension) are faults, not a schema change to retry past.
fn missing_relation(message: &str) -> bool {
    (message.starts_with("column ") || message.starts_with("relation "))
        && message.ends_with("does not exist")
}

/// Converts a query failure into the core's error.
pub(crate) fn db(e: DieselError) -> scim_core::Error {
    Error::from(e).into()
}

/// Converts a query failure, naming the unique attribute when a unique index refused the write.
pub(crate) fn unique(what: &'static str) -> impl Fn(DieselError) -> scim_core::Error {
    move |e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            scim_core::Error::Uniqueness(what.to_owned())
        }
        other => db(other),
    }
}
