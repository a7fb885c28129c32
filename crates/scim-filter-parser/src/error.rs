//! The one error type of this crate, and the internal nom error it is built from.
//!
//! Every failure carries a byte offset into the caller's input and a short "expected …" phrase, so that
//! scim-core can put a precise `detail` into its `invalidFilter` / `invalidPath` response. This module
//! knows nothing about SCIM status codes: mapping to RFC 7644 §3.12 errors is scim-core's job.

use std::fmt;

/// Why and where a filter, PATCH path or attribute path failed to parse.
///
/// `offset` is a byte offset into the string given to the `parse_*` function (not into a trimmed copy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}: expected {expected}")]
pub struct ParseError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// Byte offset into the input where parsing failed.
    pub offset: usize,
    /// A short phrase naming what would have been accepted there, e.g. `"closing parenthesis"`.
    pub expected: &'static str,
}

/// The class of a [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input does not follow the grammar.
    Syntax,
    /// The input ended in the middle of a production (including empty input).
    UnexpectedEnd,
    /// A complete filter or path was read, but more input follows it.
    TrailingInput,
    /// The nesting depth or the number of comparisons exceeded the [`Limits`](crate::Limits).
    TooDeep,
    /// A string or number literal is malformed (bad escape, lone surrogate, `01`, `1.`, …).
    BadValue,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "syntax error",
            Self::UnexpectedEnd => "unexpected end of input",
            Self::TrailingInput => "unexpected trailing input",
            Self::TooDeep => "nesting too deep",
            Self::BadValue => "bad value",
        })
    }
}

/// The nom error type used by every production.
///
/// It remembers the *remaining* input rather than an offset: nom parsers over `&str` always hand back
/// suffixes of the original input, so the offset is recovered at the very end as
/// `input.len() - rest.len()` without threading the original string through every function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail<'a> {
    /// The input that was left when the failure happened.
    pub(crate) rest: &'a str,
    /// The public error class.
    pub(crate) kind: ErrorKind,
    /// What would have been accepted at `rest`.
    pub(crate) expected: &'static str,
}

impl<'a> Fail<'a> {
    /// A failure of an explicit kind.
    pub(crate) fn new(rest: &'a str, kind: ErrorKind, expected: &'static str) -> Self {
        Self {
            rest,
            kind,
            expected,
        }
    }

    /// A grammar failure; it becomes [`ErrorKind::UnexpectedEnd`] when no input is left, because
    /// "expected X" at the end of the string means the client stopped too early.
    pub(crate) fn syntax(rest: &'a str, expected: &'static str) -> Self {
        let kind = if rest.is_empty() {
            ErrorKind::UnexpectedEnd
        } else {
            ErrorKind::Syntax
        };
        Self::new(rest, kind, expected)
    }

    /// Converts to the public error, given the full input the parse started from.
    pub(crate) fn into_error(self, input: &str) -> ParseError {
        ParseError {
            kind: self.kind,
            offset: input.len().saturating_sub(self.rest.len()),
            expected: self.expected,
        }
    }
}

impl<'a> nom::error::ParseError<&'a str> for Fail<'a> {
    // nom's own primitives (`char`, `tag_no_case`, …) only ever produce soft errors here; every place
    // that commits wraps them with a phrase of its own, so the nom ErrorKind is not worth keeping.
    fn from_error_kind(input: &'a str, _kind: nom::error::ErrorKind) -> Self {
        Self::syntax(input, "valid syntax")
    }

    fn append(_input: &'a str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_display_is_lowercase_words() {
        let table = [
            (ErrorKind::Syntax, "syntax error"),
            (ErrorKind::UnexpectedEnd, "unexpected end of input"),
            (ErrorKind::TrailingInput, "unexpected trailing input"),
            (ErrorKind::TooDeep, "nesting too deep"),
            (ErrorKind::BadValue, "bad value"),
        ];
        for (kind, text) in table {
            assert_eq!(kind.to_string(), text);
        }
    }

    #[test]
    fn error_display_names_kind_offset_and_expectation() {
        let e = ParseError {
            kind: ErrorKind::Syntax,
            offset: 9,
            expected: "comparison operator",
        };
        assert_eq!(
            e.to_string(),
            "syntax error at offset 9: expected comparison operator"
        );
    }

    #[test]
    fn fail_offset_is_measured_from_the_end() {
        let input = "userName xx";
        let rest = input.get(9..).unwrap();
        let e = Fail::syntax(rest, "comparison operator").into_error(input);
        assert_eq!(
            e,
            ParseError {
                kind: ErrorKind::Syntax,
                offset: 9,
                expected: "comparison operator"
            }
        );
        // Nothing left: the same phrase becomes an unexpected end.
        let e = Fail::syntax("", "comparison operator").into_error(input);
        assert_eq!((e.kind, e.offset), (ErrorKind::UnexpectedEnd, 11));
    }
}
