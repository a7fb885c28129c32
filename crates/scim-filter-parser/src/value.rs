//! Comparison values: the JSON literals `false`, `null`, `true`, numbers and strings.
//!
//! RFC 7644 §3.4.2.2 says compValue follows "rules from JSON", so this module implements RFC 8259
//! §6 (numbers) and §7 (strings) exactly, including `\uXXXX` surrogate pairs and the empty string.
//! Malformed literals are [`ErrorKind::BadValue`], not syntax errors, so scim-core can tell a client
//! that its value, rather than its filter structure, is wrong. The keywords are case-insensitive
//! (`True`, `NULL`) because RFC 7644 makes the whole filter grammar case-insensitive.

use nom::bytes::complete::{tag, take_while, take_while_m_n, take_while1};
use nom::character::complete::{char, one_of, satisfy};
use nom::combinator::{opt, peek, recognize, value};
use nom::{Parser, branch::alt};

use crate::ast::CompValue;
use crate::error::{ErrorKind, Fail};
use crate::lex::{PResult, expect, failure, keyword};

/// What a missing or unrecognised value is reported as.
pub(crate) const EXPECTED_VALUE: &str = "string, number, true, false or null";

/// ```abnf
/// compValue = false / null / true / number / string
/// ```
/// Every alternative is soft only on its first character, so at most one of them does any work.
pub(crate) fn comp_value(i: &str) -> PResult<'_, CompValue> {
    expect(EXPECTED_VALUE, alt((string, number, literal))).parse(i)
}

/// ```abnf
/// false / null / true      ; case-insensitive in SCIM filters
/// ```
fn literal(i: &str) -> PResult<'_, CompValue> {
    alt((
        value(CompValue::Null, keyword("null")),
        value(CompValue::Bool(true), keyword("true")),
        value(CompValue::Bool(false), keyword("false")),
    ))
    .parse(i)
}

/// ```abnf
/// number = [ minus ] int [ frac ] [ exp ]      ; RFC 8259 §6
/// ```
/// Keeps the literal text. Anything glued to the number (`01`, `1x`, `1.5.3`) is a bad value rather
/// than trailing input, because the client clearly meant it as part of the number.
fn number(i: &str) -> PResult<'_, CompValue> {
    // Soft until the first character proves this is a number.
    peek(satisfy(|c| c == '-' || c.is_ascii_digit())).parse(i)?;
    let (rest, text) = recognize((opt(char('-')), int, opt(frac), opt(exp))).parse(i)?;
    if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')) {
        return failure(rest, ErrorKind::BadValue, "JSON number");
    }
    Ok((rest, CompValue::Number(text.to_owned())))
}

/// ```abnf
/// int = zero / ( digit1-9 *DIGIT )
/// ```
fn int(i: &str) -> PResult<'_, &str> {
    // `take_while`, not `digit0`: nom 8.0.0's `digit0` on `&str` returns a misplaced empty
    // remainder when the digits run to the end of input, which breaks `recognize` ("42" → "4").
    let parsed: PResult<'_, &str> = alt((
        tag("0"),
        recognize((satisfy(|c| matches!(c, '1'..='9')), digits0)),
    ))
    .parse(i);
    match parsed {
        Ok(ok) => Ok(ok),
        Err(_) => failure(i, ErrorKind::BadValue, "JSON number"),
    }
}

/// `DIGIT = %x30-39`
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// `*DIGIT`
fn digits0(i: &str) -> PResult<'_, &str> {
    take_while(is_digit).parse(i)
}

/// ```abnf
/// frac = decimal-point 1*DIGIT
/// ```
fn frac(i: &str) -> PResult<'_, &str> {
    let (rest, _) = char('.').parse(i)?;
    match take_while1::<_, _, Fail<'_>>(is_digit).parse(rest) {
        Ok((rest, _)) => Ok((rest, i)),
        Err(_) => failure(rest, ErrorKind::BadValue, "digit after decimal point"),
    }
}

/// ```abnf
/// exp = e [ minus / plus ] 1*DIGIT
/// ```
fn exp(i: &str) -> PResult<'_, &str> {
    let (rest, _) = one_of("eE").parse(i)?;
    let (rest, _) = opt(one_of("+-")).parse(rest)?;
    match take_while1::<_, _, Fail<'_>>(is_digit).parse(rest) {
        Ok((rest, _)) => Ok((rest, i)),
        Err(_) => failure(rest, ErrorKind::BadValue, "digit in exponent"),
    }
}

/// `unescaped = %x20-21 / %x23-5B / %x5D-10FFFF` (RFC 8259 §7).
fn is_unescaped(c: char) -> bool {
    c != '"' && c != '\\' && c >= '\u{20}'
}

/// ```abnf
/// string = quotation-mark *char quotation-mark
/// char   = unescaped / escape
/// ```
/// The empty string `""` is valid (a known bug of other SCIM parsers is to reject it).
fn string(i: &str) -> PResult<'_, CompValue> {
    let (mut rest, _) = char('"').parse(i)?;
    let mut out = String::new();
    loop {
        // Copy runs of plain characters in one go; only escapes need per-character work.
        let (after_run, run) = take_while(is_unescaped).parse(rest)?;
        out.push_str(run);
        rest = after_run;
        match rest.chars().next() {
            Some('"') => {
                let (rest, _) = char('"').parse(rest)?;
                return Ok((rest, CompValue::Str(out)));
            }
            Some('\\') => {
                let (after_escape, c) = escape(rest)?;
                out.push(c);
                rest = after_escape;
            }
            None => return failure(rest, ErrorKind::UnexpectedEnd, "closing quote"),
            // RFC 8259 §7: control characters must be escaped.
            Some(_) => return failure(rest, ErrorKind::BadValue, "escaped control character"),
        }
    }
}

/// ```abnf
/// escape = "\" ( %x22 / %x5C / %x2F / %x62 / %x66 / %x6E / %x72 / %x74 / %x75 4HEXDIG )
/// ```
/// Errors point at the backslash that starts the bad escape.
fn escape(i: &str) -> PResult<'_, char> {
    let (rest, _) = char('\\').parse(i)?;
    let Some(c) = rest.chars().next() else {
        return failure(rest, ErrorKind::UnexpectedEnd, "escape sequence");
    };
    let unescaped = match c {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => return unicode_escape(i),
        _ => return failure(i, ErrorKind::BadValue, "escape sequence"),
    };
    let (rest, _) = satisfy(|_| true).parse(rest)?;
    Ok((rest, unescaped))
}

/// `"\u" 4HEXDIG`, returning the UTF-16 code unit.
fn utf16_unit(i: &str) -> PResult<'_, u32> {
    let (rest, _) = tag("\\u").parse(i)?;
    let (rest, hex) = take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit()).parse(rest)?;
    match u32::from_str_radix(hex, 16) {
        Ok(unit) => Ok((rest, unit)),
        Err(_) => failure(i, ErrorKind::BadValue, "four hex digits"),
    }
}

/// A `\uXXXX` escape, or a UTF-16 surrogate pair written as two of them (RFC 8259 §7: characters
/// outside the BMP are escaped as a pair). A lone surrogate is not a character and is rejected.
fn unicode_escape(i: &str) -> PResult<'_, char> {
    let Ok((rest, high)) = utf16_unit(i) else {
        return failure(i, ErrorKind::BadValue, "four hex digits");
    };
    let code = match high {
        0xD800..=0xDBFF => {
            let Ok((after_low, low @ 0xDC00..=0xDFFF)) = utf16_unit(rest) else {
                return failure(rest, ErrorKind::BadValue, "low surrogate escape");
            };
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return match char::from_u32(code) {
                Some(c) => Ok((after_low, c)),
                None => failure(i, ErrorKind::BadValue, "surrogate pair"),
            };
        }
        code => code,
    };
    match char::from_u32(code) {
        Some(c) => Ok((rest, c)),
        // Only a lone low surrogate (DC00–DFFF) gets here.
        None => failure(
            i,
            ErrorKind::BadValue,
            "high surrogate before low surrogate",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> CompValue {
        CompValue::Str(text.to_owned())
    }

    fn n(text: &str) -> CompValue {
        CompValue::Number(text.to_owned())
    }

    /// Runs `comp_value` and returns the value plus what it left over.
    fn run(input: &str) -> Result<(CompValue, &str), (ErrorKind, usize, &'static str)> {
        match comp_value(input) {
            Ok((rest, v)) => Ok((v, rest)),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let Fail { kind, expected, .. } = e;
                Err((kind, e.into_error(input).offset, expected))
            }
            Err(nom::Err::Incomplete(_)) => unreachable!("complete parsers only"),
        }
    }

    #[test]
    fn literals_known_answers() {
        let table = [
            ("null", CompValue::Null, ""),
            ("NULL", CompValue::Null, ""),
            ("true", CompValue::Bool(true), ""),
            ("True )", CompValue::Bool(true), " )"),
            ("false]", CompValue::Bool(false), "]"),
            ("FaLsE", CompValue::Bool(false), ""),
        ];
        for (input, expected, rest) in table {
            assert_eq!(run(input), Ok((expected, rest)), "{input:?}");
        }
    }

    #[test]
    fn numbers_known_answers() {
        let table = [
            ("0", "0", ""),
            ("-0", "-0", ""),
            ("42", "42", ""),
            ("-17", "-17", ""),
            ("3.25", "3.25", ""),
            ("1e10", "1e10", ""),
            ("1E+2", "1E+2", ""),
            ("-2.5e-3", "-2.5e-3", ""),
            ("10 and", "10", " and"),
            ("7)", "7", ")"),
            ("7]", "7", "]"),
        ];
        for (input, text, rest) in table {
            assert_eq!(run(input), Ok((n(text), rest)), "{input:?}");
        }
    }

    #[test]
    fn bad_numbers() {
        let table = [
            ("01", 1, "JSON number"),
            ("-", 1, "JSON number"),
            ("-a", 1, "JSON number"),
            ("1.", 2, "digit after decimal point"),
            ("1.e5", 2, "digit after decimal point"),
            ("1e", 2, "digit in exponent"),
            ("1e+", 3, "digit in exponent"),
            ("1x", 1, "JSON number"),
            ("1.5.3", 3, "JSON number"),
            ("12abc", 2, "JSON number"),
            (".5", 0, EXPECTED_VALUE),
            ("+1", 0, EXPECTED_VALUE),
        ];
        for (input, offset, expected) in table {
            let kind = if expected == EXPECTED_VALUE {
                ErrorKind::Syntax
            } else {
                ErrorKind::BadValue
            };
            assert_eq!(run(input), Err((kind, offset, expected)), "{input:?}");
        }
    }

    #[test]
    fn strings_known_answers() {
        let table = [
            (r#""""#, ""),
            (r#""bjensen""#, "bjensen"),
            (r#""O'Malley""#, "O'Malley"),
            (r#""a\"b""#, "a\"b"),
            (r#""back\\slash""#, "back\\slash"),
            (r#""\/""#, "/"),
            (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
            (r#""\u0041\u00e9""#, "Aé"),
            (r#""\u00E9""#, "é"),
            (r#""\ud83d\ude00""#, "😀"),
            (r#""\uD83D\uDE00!""#, "😀!"),
            (r#""\u0000""#, "\0"),
            ("\"é😀 raw\"", "é😀 raw"),
            (r#""and or not ( ) [ ]""#, "and or not ( ) [ ]"),
        ];
        for (input, expected) in table {
            assert_eq!(run(input), Ok((s(expected), "")), "{input:?}");
        }
        assert_eq!(run(r#""x" and"#), Ok((s("x"), " and")));
    }

    #[test]
    fn bad_strings() {
        let table = [
            (r#""abc"#, ErrorKind::UnexpectedEnd, 4, "closing quote"),
            (r#"""#, ErrorKind::UnexpectedEnd, 1, "closing quote"),
            (r#""ab\"#, ErrorKind::UnexpectedEnd, 4, "escape sequence"),
            (r#""a\x""#, ErrorKind::BadValue, 2, "escape sequence"),
            (r#""a\'""#, ErrorKind::BadValue, 2, "escape sequence"),
            (r#""\u12""#, ErrorKind::BadValue, 1, "four hex digits"),
            (r#""\u12g4""#, ErrorKind::BadValue, 1, "four hex digits"),
            (r#""\U0041""#, ErrorKind::BadValue, 1, "escape sequence"),
            (
                r#""\ud83d""#,
                ErrorKind::BadValue,
                7,
                "low surrogate escape",
            ),
            (
                r#""\ud83dx""#,
                ErrorKind::BadValue,
                7,
                "low surrogate escape",
            ),
            (
                r#""\ud83d\u0041""#,
                ErrorKind::BadValue,
                7,
                "low surrogate escape",
            ),
            (
                r#""\ude00""#,
                ErrorKind::BadValue,
                1,
                "high surrogate before low surrogate",
            ),
            (
                "\"a\nb\"",
                ErrorKind::BadValue,
                2,
                "escaped control character",
            ),
            (
                "\"\t\"",
                ErrorKind::BadValue,
                1,
                "escaped control character",
            ),
        ];
        for (input, kind, offset, expected) in table {
            assert_eq!(run(input), Err((kind, offset, expected)), "{input:?}");
        }
    }

    #[test]
    fn non_values() {
        let table = [
            ("", ErrorKind::UnexpectedEnd, 0),
            ("nul", ErrorKind::Syntax, 0),
            ("nullx", ErrorKind::Syntax, 0),
            ("truely", ErrorKind::Syntax, 0),
            ("'x'", ErrorKind::Syntax, 0),
            ("bjensen", ErrorKind::Syntax, 0),
        ];
        for (input, kind, offset) in table {
            assert_eq!(run(input), Err((kind, offset, EXPECTED_VALUE)), "{input:?}");
        }
    }
}
