//! Lexical helpers shared by every production: whitespace, case-insensitive keywords and the
//! "commit with a phrase" combinator.
//!
//! The grammar is parsed predictively: a production returns a soft `Err::Error` only when it consumed
//! nothing, and `Err::Failure` once it has recognised its first token. That keeps `alt` from retrying
//! alternatives (no exponential backtracking) and makes the first real mistake the reported one. This
//! module must not know about filters or paths; it only deals in characters.

use nom::bytes::complete::{tag_no_case, take_while, take_while1};
use nom::{Err, IResult, Parser};

use crate::error::{ErrorKind, Fail};

/// The result type of every production.
pub(crate) type PResult<'a, T> = IResult<&'a str, T, Fail<'a>>;

/// What may start a filter term; used wherever a term is missing.
pub(crate) const EXPECTED_TERM: &str = "attribute name, \"(\" or \"not\"";

/// `WSP = SP / HTAB` (RFC 5234). The ABNF of RFC 7644 says SP, but tabs cost nothing to accept.
pub(crate) fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `ALPHA = %x41-5A / %x61-7A` (ASCII only, RFC 5234 B.1).
pub(crate) fn is_alpha(c: char) -> bool {
    c.is_ascii_alphabetic()
}

/// `nameChar = "-" / "_" / DIGIT / ALPHA` (RFC 7643 §2.1).
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `*WSP`
pub(crate) fn wsp0(i: &str) -> PResult<'_, &str> {
    take_while(is_wsp).parse(i)
}

/// `1*WSP`, soft: used where missing whitespace just means "this production is over".
pub(crate) fn wsp1(i: &str) -> PResult<'_, &str> {
    take_while1(is_wsp).parse(i)
}

/// `1*WSP`, committed: the grammar requires whitespace here.
///
/// At the end of input the client simply stopped early, so the error names what should have come
/// *after* the whitespace (`at_end`); otherwise it names `otherwise` at the offending character.
pub(crate) fn required_wsp<'a>(
    i: &'a str,
    at_end: &'static str,
    otherwise: &'static str,
) -> PResult<'a, &'a str> {
    match wsp1(i) {
        Ok(ok) => Ok(ok),
        Err(_) if i.is_empty() => Err(Err::Failure(Fail::new(i, ErrorKind::UnexpectedEnd, at_end))),
        Err(_) => Err(Err::Failure(Fail::new(i, ErrorKind::Syntax, otherwise))),
    }
}

/// A case-insensitive keyword (`and`, `not`, `true`, …) that is not the prefix of a longer name:
/// `andy` is an attribute name, not `and` followed by `y`. Soft on mismatch.
pub(crate) fn keyword<'a>(kw: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i| {
        let (rest, word) = tag_no_case(kw).parse(i)?;
        if rest.starts_with(is_name_char) {
            return Err(Err::Error(Fail::syntax(i, kw)));
        }
        Ok((rest, word))
    }
}

/// Commits to `parser`: a soft error becomes a `Failure` at the position where `parser` started,
/// carrying `expected`. Failures from inside `parser` pass through untouched, because they already
/// point at the real culprit.
pub(crate) fn expect<'a, T>(
    expected: &'static str,
    mut parser: impl Parser<&'a str, Output = T, Error = Fail<'a>>,
) -> impl FnMut(&'a str) -> PResult<'a, T> {
    move |i| match parser.parse(i) {
        Err(Err::Error(_)) => Err(Err::Failure(Fail::syntax(i, expected))),
        other => other,
    }
}

/// A committed failure of an explicit kind at `rest`.
pub(crate) fn failure<'a, T>(
    rest: &'a str,
    kind: ErrorKind,
    expected: &'static str,
) -> PResult<'a, T> {
    Err(Err::Failure(Fail::new(rest, kind, expected)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nom::character::complete::char;

    #[test]
    fn character_classes() {
        let table = [
            ('a', true, true, false),
            ('Z', true, true, false),
            ('7', false, true, false),
            ('-', false, true, false),
            ('_', false, true, false),
            ('$', false, false, false),
            (' ', false, false, true),
            ('\t', false, false, true),
            ('é', false, false, false),
        ];
        for (c, alpha, name, wsp) in table {
            assert_eq!(
                (is_alpha(c), is_name_char(c), is_wsp(c)),
                (alpha, name, wsp),
                "{c:?}"
            );
        }
    }

    #[test]
    fn keyword_needs_a_word_boundary() {
        let table: [(&str, Option<&str>); 6] = [
            ("and x", Some(" x")),
            ("AND(", Some("(")),
            ("And", Some("")),
            ("andy", None),
            ("an", None),
            ("and_", None),
        ];
        for (input, rest) in table {
            assert_eq!(
                keyword("and")(input).ok().map(|(r, _)| r),
                rest,
                "{input:?}"
            );
        }
    }

    #[test]
    fn required_wsp_reports_end_or_offender() {
        assert_eq!(required_wsp(" \tx", "v", "ws").unwrap().0, "x");
        assert_eq!(
            required_wsp("", "value", "ws"),
            Err(Err::Failure(Fail::new(
                "",
                ErrorKind::UnexpectedEnd,
                "value"
            )))
        );
        assert_eq!(
            required_wsp("x", "value", "whitespace"),
            Err(Err::Failure(Fail::new(
                "x",
                ErrorKind::Syntax,
                "whitespace"
            )))
        );
    }

    #[test]
    fn expect_turns_soft_errors_into_failures() {
        let mut p = expect("closing parenthesis", char(')'));
        assert_eq!(p(") x").unwrap().0, " x");
        assert_eq!(
            p("]"),
            Err(Err::Failure(Fail::new(
                "]",
                ErrorKind::Syntax,
                "closing parenthesis"
            )))
        );
        assert_eq!(
            p(""),
            Err(Err::Failure(Fail::new(
                "",
                ErrorKind::UnexpectedEnd,
                "closing parenthesis"
            )))
        );
    }
}
