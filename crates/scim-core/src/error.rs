//! The one error type of the SCIM core. Each variant is one outcome that RFC 7644 section 3.12
//! names, so the transport can render it without knowing where it came from.

use std::fmt;

/// Result alias used throughout the core and by every `Store` implementation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A SCIM outcome other than success. `status()` and `scim_type()` give the RFC 7644 §3.12 fields.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The filter is malformed or names something that cannot be filtered.
    #[error("{0}")]
    InvalidFilter(String),
    /// The request would return more results than the server is willing to.
    #[error("{0}")]
    TooMany(String),
    /// The request body or a parameter is not a valid SCIM message.
    #[error("{0}")]
    InvalidSyntax(String),
    /// A PATCH path is malformed or names nothing the schema defines.
    #[error("{0}")]
    InvalidPath(String),
    /// A PATCH path matched no value where the RFC requires one.
    #[error("{0}")]
    NoTarget(String),
    /// A value has the wrong type, breaks a required rule or a canonical value list.
    #[error("{0}")]
    InvalidValue(String),
    /// The request tries to change a readOnly or immutable attribute.
    #[error("{0}")]
    Mutability(String),
    /// A unique attribute already holds this value in the tenant.
    #[error("{0}")]
    Uniqueness(String),
    /// The version given is not understood.
    #[error("{0}")]
    InvalidVersion(String),
    /// An RFC 9865 cursor that this server did not issue.
    #[error("{0}")]
    InvalidCursor(String),
    /// An RFC 9865 page size out of range.
    #[error("{0}")]
    InvalidCount(String),
    /// The request carries sensitive data where it must not (e.g. in a URL).
    #[error("{0}")]
    Sensitive(String),
    /// No such resource in this tenant.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the state of other resources (RFC 7644 §3.7.1: bulkId
    /// references that cannot be resolved).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` named a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the needed scope.
    #[error("{0}")]
    Forbidden(String),
    /// The request body is larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The caller made more requests than its rate allows; it may retry after this long.
    #[error("too many requests: retry after {} s", retry_after_secs(*.0))]
    RateLimited(std::time::Duration),
    /// The endpoint or feature is not offered by this server.
    #[error("{0}")]
    NotImplemented(String),
    /// A dependency (the database) cannot serve the request now; the client may retry.
    #[error("service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A server-side fault. The source is logged, never shown to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// RFC 7644 §3.12 `scimType` keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// `invalidFilter`
    InvalidFilter,
    /// `tooMany`
    TooMany,
    /// `uniqueness`
    Uniqueness,
    /// `mutability`
    Mutability,
    /// `invalidSyntax`
    InvalidSyntax,
    /// `invalidPath`
    InvalidPath,
    /// `noTarget`
    NoTarget,
    /// `invalidValue`
    InvalidValue,
    /// `invalidVers`
    InvalidVersion,
    /// `sensitive`
    Sensitive,
    /// `invalidCursor` (RFC 9865)
    InvalidCursor,
    /// `invalidCount` (RFC 9865)
    InvalidCount,
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVersion => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::InvalidCount => "invalidCount",
        })
    }
}

impl Error {
    /// Wraps any error as an internal fault.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal(Box::new(e))
    }

    /// Wraps a plain message as an internal fault.
    pub fn internal_msg(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into().into())
    }

    /// The HTTP status code RFC 7644 §3.12 assigns to this outcome.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidFilter(_)
            | Error::TooMany(_)
            | Error::InvalidSyntax(_)
            | Error::InvalidPath(_)
            | Error::NoTarget(_)
            | Error::InvalidValue(_)
            | Error::Mutability(_)
            | Error::InvalidVersion(_)
            | Error::InvalidCursor(_)
            | Error::InvalidCount(_)
            | Error::Sensitive(_) => 400,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::Uniqueness(_) | Error::Conflict(_) => 409,
            Error::PreconditionFailed(_) => 412,
            Error::PayloadTooLarge(_) => 413,
            Error::RateLimited(_) => 429,
            Error::NotImplemented(_) => 501,
            Error::Unavailable(_) => 503,
            Error::Internal(_) => 500,
        }
    }

    /// The `scimType` keyword, where the RFC names one for this outcome.
    pub fn scim_type(&self) -> Option<ScimType> {
        Some(match self {
            Error::InvalidFilter(_) => ScimType::InvalidFilter,
            Error::TooMany(_) => ScimType::TooMany,
            Error::InvalidSyntax(_) => ScimType::InvalidSyntax,
            Error::InvalidPath(_) => ScimType::InvalidPath,
            Error::NoTarget(_) => ScimType::NoTarget,
            Error::InvalidValue(_) => ScimType::InvalidValue,
            Error::Mutability(_) => ScimType::Mutability,
            Error::Uniqueness(_) => ScimType::Uniqueness,
            Error::InvalidVersion(_) => ScimType::InvalidVersion,
            Error::Sensitive(_) => ScimType::Sensitive,
            Error::InvalidCursor(_) => ScimType::InvalidCursor,
            Error::InvalidCount(_) => ScimType::InvalidCount,
            _ => return None,
        })
    }

    /// The text safe to show a client: internal causes are never exposed.
    pub fn detail(&self) -> String {
        match self {
            Error::Internal(_) => "internal server error".to_owned(),
            Error::Unavailable(_) => {
                "the service is temporarily unavailable; retry later".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// A wait as HTTP's `Retry-After` gives it: whole seconds, rounded up, at least 1.
pub fn retry_after_secs(wait: std::time::Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        use std::time::Duration;
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
        let e = Error::RateLimited(Duration::from_millis(1500));
        assert_eq!((e.status(), e.scim_type()), (429, None));
        assert_eq!(e.detail(), "too many requests: retry after 2 s");
    }

    #[test]
    fn statuses_and_types_follow_rfc_7644_3_12() {
        let e = Error::Uniqueness("taken".into());
        assert_eq!(e.status(), 409);
        assert_eq!(
            e.scim_type().map(|t| t.to_string()).as_deref(),
            Some("uniqueness")
        );
        let e = Error::InvalidVersion("x".into());
        assert_eq!(
            e.scim_type().map(|t| t.to_string()).as_deref(),
            Some("invalidVers")
        );
        assert_eq!(Error::NotFound("x".into()).status(), 404);
        assert!(Error::NotFound("x".into()).scim_type().is_none());
    }

    #[test]
    fn internal_detail_hides_the_cause() {
        let e = Error::internal_msg("relation \"users\" does not exist");
        assert_eq!(e.status(), 500);
        assert_eq!(e.detail(), "internal server error");
    }
}
