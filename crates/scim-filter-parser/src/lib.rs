#![doc = include_str!("../README.md")]

mod ast;
mod error;
mod filter;
mod lex;
mod path;
mod value;

pub use ast::*;
pub use error::*;

use crate::filter::{Budget, Scope};
use crate::lex::{PResult, wsp0};

/// Resource limits for one parse. Filters arrive from unauthenticated-looking query strings and
/// `.search` bodies, so both recursion and total size are bounded before any tree is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of parentheses, `not (…)` and value-path brackets. Each level costs a few
    /// stack frames, so keep this small (the default is 32).
    pub max_depth: usize,
    /// Maximum number of comparison and presence leaves in the whole filter (default 1000).
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_terms: 1000,
        }
    }
}

/// Parses a SCIM filter (RFC 7644 §3.4.2.2) with [`Limits::default`].
///
/// Leading and trailing spaces and tabs are ignored. Keywords and operators are case-insensitive;
/// attribute names keep the case the client wrote.
pub fn parse_filter(input: &str) -> Result<Filter, ParseError> {
    parse_filter_with(input, Limits::default())
}

/// Parses a SCIM filter with explicit [`Limits`]. Exceeding them is [`ErrorKind::TooDeep`], reported
/// as soon as the limit is crossed, without reading the rest of the input.
pub fn parse_filter_with(input: &str, limits: Limits) -> Result<Filter, ParseError> {
    let budget = Budget::new(limits);
    complete(input, |i| filter::filter(&budget, 0, Scope::Filter, i))
}

/// Parses a PATCH operation path (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`, e.g.
/// `members[value eq "2819c223"].display`. The value filter obeys [`Limits::default`].
pub fn parse_patch_path(input: &str) -> Result<PatchPath, ParseError> {
    parse_patch_path_with(input, Limits::default())
}

/// Parses a PATCH operation path whose value filter obeys `limits`.
pub fn parse_patch_path_with(input: &str, limits: Limits) -> Result<PatchPath, ParseError> {
    let budget = Budget::new(limits);
    complete(input, |i| path::patch_path(&budget, i))
}

/// Parses a bare attribute path, as used by `sortBy`, `attributes` and `excludedAttributes`
/// (RFC 7644 §3.4.2.3, §3.4.2.5). Surrounding whitespace is ignored.
pub fn parse_attr_path(input: &str) -> Result<AttrPath, ParseError> {
    complete(input, lex::expect(path::EXPECTED_ATTR, path::attr_path))
}

/// Runs `parser` over the whole input: optional surrounding whitespace, then nothing left over.
/// This is the one place where internal nom errors become public [`ParseError`]s with offsets.
fn complete<'a, T>(
    input: &'a str,
    mut parser: impl FnMut(&'a str) -> PResult<'a, T>,
) -> Result<T, ParseError> {
    let mut whole = |i: &'a str| -> PResult<'a, T> {
        let (i, _) = wsp0(i)?;
        let (i, value) = parser(i)?;
        let (i, _) = wsp0(i)?;
        Ok((i, value))
    };
    match whole(input) {
        Ok(("", value)) => Ok(value),
        Ok((rest, _)) => Err(ParseError {
            kind: ErrorKind::TrailingInput,
            offset: input.len().saturating_sub(rest.len()),
            expected: "end of input",
        }),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.into_error(input)),
        // Only streaming parsers report `Incomplete`; every parser here is a `complete` one.
        Err(nom::Err::Incomplete(_)) => Err(ParseError {
            kind: ErrorKind::UnexpectedEnd,
            offset: input.len(),
            expected: "more input",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- builders: keep the tables readable ----

    fn p(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.to_owned(),
            sub_attr: None,
        }
    }

    fn ps(name: &str, sub: &str) -> AttrPath {
        AttrPath {
            sub_attr: Some(sub.to_owned()),
            ..p(name)
        }
    }

    fn pu(urn: &str, name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: Some(urn.to_owned()),
            name: name.to_owned(),
            sub_attr: sub.map(str::to_owned),
        }
    }

    fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn eq_s(path: AttrPath, s: &str) -> Filter {
        cmp(path, CompareOp::Eq, CompValue::Str(s.to_owned()))
    }

    fn s(text: &str) -> CompValue {
        CompValue::Str(text.to_owned())
    }

    fn n(text: &str) -> CompValue {
        CompValue::Number(text.to_owned())
    }

    fn pr(path: AttrPath) -> Filter {
        Filter::Present(path)
    }

    fn and(operands: impl Into<Vec<Filter>>) -> Filter {
        Filter::And(operands.into())
    }

    fn or(operands: impl Into<Vec<Filter>>) -> Filter {
        Filter::Or(operands.into())
    }

    fn not(inner: Filter) -> Filter {
        Filter::Not(Box::new(inner))
    }

    fn vp(attr: AttrPath, inner: Filter) -> Filter {
        Filter::ValuePath {
            attr,
            filter: Box::new(inner),
        }
    }

    fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
        ParseError {
            kind,
            offset,
            expected,
        }
    }

    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    /// The example filters of RFC 7644 §3.4.2.2, in the order the RFC lists them.
    fn rfc_examples() -> Vec<(&'static str, Filter)> {
        let last_modified = || ps("meta", "lastModified");
        let ts = || s("2011-05-13T04:42:34Z");
        let emails_or = || {
            or([
                cmp(p("emails"), CompareOp::Co, s("example.com")),
                cmp(ps("emails", "value"), CompareOp::Co, s("example.org")),
            ])
        };
        vec![
            (r#"userName eq "bjensen""#, eq_s(p("userName"), "bjensen")),
            (
                r#"name.familyName co "O'Malley""#,
                cmp(ps("name", "familyName"), CompareOp::Co, s("O'Malley")),
            ),
            (
                r#"userName sw "J""#,
                cmp(p("userName"), CompareOp::Sw, s("J")),
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
                cmp(pu(CORE_USER, "userName", None), CompareOp::Sw, s("J")),
            ),
            ("title pr", pr(p("title"))),
            (
                r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
                cmp(last_modified(), CompareOp::Gt, ts()),
            ),
            (
                r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
                cmp(last_modified(), CompareOp::Ge, ts()),
            ),
            (
                r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
                cmp(last_modified(), CompareOp::Lt, ts()),
            ),
            (
                r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
                cmp(last_modified(), CompareOp::Le, ts()),
            ),
            (
                r#"title pr and userType eq "Employee""#,
                and([pr(p("title")), eq_s(p("userType"), "Employee")]),
            ),
            (
                r#"title pr or userType eq "Intern""#,
                or([pr(p("title")), eq_s(p("userType"), "Intern")]),
            ),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                eq_s(p("schemas"), ENTERPRISE),
            ),
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                and([eq_s(p("userType"), "Employee"), emails_or()]),
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                and([
                    cmp(p("userType"), CompareOp::Ne, s("Employee")),
                    not(emails_or()),
                ]),
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                and([
                    eq_s(p("userType"), "Employee"),
                    eq_s(ps("emails", "type"), "work"),
                ]),
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                and([
                    eq_s(p("userType"), "Employee"),
                    vp(
                        p("emails"),
                        and([
                            eq_s(p("type"), "work"),
                            cmp(p("value"), CompareOp::Co, s("@example.com")),
                        ]),
                    ),
                ]),
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                or([
                    vp(
                        p("emails"),
                        and([
                            eq_s(p("type"), "work"),
                            cmp(p("value"), CompareOp::Co, s("@example.com")),
                        ]),
                    ),
                    vp(
                        p("ims"),
                        and([
                            eq_s(p("type"), "xmpp"),
                            cmp(p("value"), CompareOp::Co, s("@foo.com")),
                        ]),
                    ),
                ]),
            ),
        ]
    }

    /// Known answers beyond the RFC list: precedence, case, whitespace, URNs, values, nesting.
    fn more_filters() -> Vec<(&'static str, Filter)> {
        let a1 = || cmp(p("a"), CompareOp::Eq, n("1"));
        let b2 = || cmp(p("b"), CompareOp::Eq, n("2"));
        let c3 = || cmp(p("c"), CompareOp::Eq, n("3"));
        vec![
            // Precedence: and binds tighter than or, wherever it appears.
            ("a eq 1 or b eq 2 and c eq 3", or([a1(), and([b2(), c3()])])),
            ("a eq 1 and b eq 2 or c eq 3", or([and([a1(), b2()]), c3()])),
            (
                "(a eq 1 or b eq 2) and c eq 3",
                and([or([a1(), b2()]), c3()]),
            ),
            // Chains flatten; parenthesised groups stay nodes of their own.
            ("a eq 1 and b eq 2 and c eq 3", and([a1(), b2(), c3()])),
            ("a eq 1 or b eq 2 or c eq 3", or([a1(), b2(), c3()])),
            (
                "(a eq 1 and b eq 2) and c eq 3",
                and([and([a1(), b2()]), c3()]),
            ),
            ("a eq 1 or (b eq 2 or c eq 3)", or([a1(), or([b2(), c3()])])),
            ("((a eq 1))", a1()),
            // Case-insensitive keywords; names keep their case.
            (r#"userName EQ "x""#, eq_s(p("userName"), "x")),
            ("title PR", pr(p("title"))),
            (r#"A Eq "x" AND b pr"#, and([eq_s(p("A"), "x"), pr(p("b"))])),
            ("a pr OR b pr", or([pr(p("a")), pr(p("b"))])),
            ("NoT (a pr)", not(pr(p("a")))),
            (
                "a eq TRUE",
                cmp(p("a"), CompareOp::Eq, CompValue::Bool(true)),
            ),
            (
                "a ne False",
                cmp(p("a"), CompareOp::Ne, CompValue::Bool(false)),
            ),
            ("a eq Null", cmp(p("a"), CompareOp::Eq, CompValue::Null)),
            // Whitespace: tabs, runs of spaces, padding inside groups and around the filter.
            ("a\teq\t1", a1()),
            ("  a   eq   1  ", a1()),
            ("a pr  and\tb pr", and([pr(p("a")), pr(p("b"))])),
            ("( a eq 1 )", a1()),
            ("not(a eq 1)", not(a1())),
            ("not   (a eq 1)", not(a1())),
            ("emails[ type pr ]", vp(p("emails"), pr(p("type")))),
            // Every operator.
            ("a ne 1", cmp(p("a"), CompareOp::Ne, n("1"))),
            ("a co 1", cmp(p("a"), CompareOp::Co, n("1"))),
            ("a sw 1", cmp(p("a"), CompareOp::Sw, n("1"))),
            ("a ew 1", cmp(p("a"), CompareOp::Ew, n("1"))),
            ("a gt 1", cmp(p("a"), CompareOp::Gt, n("1"))),
            ("a ge 1", cmp(p("a"), CompareOp::Ge, n("1"))),
            ("a lt 1", cmp(p("a"), CompareOp::Lt, n("1"))),
            ("a le 1", cmp(p("a"), CompareOp::Le, n("1"))),
            // Numbers.
            ("a gt -1.5e3", cmp(p("a"), CompareOp::Gt, n("-1.5e3"))),
            ("a eq 0", cmp(p("a"), CompareOp::Eq, n("0"))),
            ("(a eq 7)", cmp(p("a"), CompareOp::Eq, n("7"))),
            // Strings: empty, escapes, surrogate pairs, keywords and brackets inside quotes.
            (r#"a eq """#, eq_s(p("a"), "")),
            (r#"a eq "say \"hi\"""#, eq_s(p("a"), "say \"hi\"")),
            (r#"a eq "C:\\dir\/x""#, eq_s(p("a"), "C:\\dir/x")),
            (r#"a eq "\b\f\n\r\t""#, eq_s(p("a"), "\u{8}\u{c}\n\r\t")),
            (r#"a eq "\u00e9\ud83d\ude00""#, eq_s(p("a"), "é😀")),
            ("a eq \"é😀\"", eq_s(p("a"), "é😀")),
            (r#"a eq "x) or (b pr""#, eq_s(p("a"), "x) or (b pr")),
            (r#"a eq "]""#, eq_s(p("a"), "]")),
            // URN-prefixed paths.
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                eq_s(pu(ENTERPRISE, "employeeNumber", None), "701984"),
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
                eq_s(
                    pu(ENTERPRISE, "manager", Some("value")),
                    "26118915-6090-4610-87e4-49d8ca9f808d",
                ),
            ),
            (
                "URN:IETF:params:scim:schemas:core:2.0:User:emails[type pr]",
                vp(
                    pu("URN:IETF:params:scim:schemas:core:2.0:User", "emails", None),
                    pr(p("type")),
                ),
            ),
            // $ref and odd-but-legal names, including names that look like keywords.
            (
                r#"members.$ref eq "https://x/Users/1""#,
                eq_s(ps("members", "$ref"), "https://x/Users/1"),
            ),
            ("x-y_z9 pr", pr(p("x-y_z9"))),
            ("not pr", pr(p("not"))),
            ("and pr and or pr", and([pr(p("and")), pr(p("or"))])),
            (
                "pr pr or eq eq 1",
                or([pr(p("pr")), cmp(p("eq"), CompareOp::Eq, n("1"))]),
            ),
            // Value paths combine like any other term and may hold not/parentheses/or.
            (
                r#"emails[type eq "work"] and userName sw "a""#,
                and([
                    vp(p("emails"), eq_s(p("type"), "work")),
                    cmp(p("userName"), CompareOp::Sw, s("a")),
                ]),
            ),
            (
                r#"emails[not (type eq "work") or (primary eq true)]"#,
                vp(
                    p("emails"),
                    or([
                        not(eq_s(p("type"), "work")),
                        cmp(p("primary"), CompareOp::Eq, CompValue::Bool(true)),
                    ]),
                ),
            ),
            (
                r#"not (emails[type eq "work"])"#,
                not(vp(p("emails"), eq_s(p("type"), "work"))),
            ),
            (
                r#"members[value eq "2819c223"]"#,
                vp(p("members"), eq_s(p("value"), "2819c223")),
            ),
        ]
    }

    #[test]
    fn rfc_7644_examples() {
        for (input, expected) in rfc_examples() {
            assert_eq!(parse_filter(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn filter_known_answers() {
        for (input, expected) in more_filters() {
            assert_eq!(parse_filter(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn malformed_filters() {
        use ErrorKind::*;
        const TERM: &str = "attribute name, \"(\" or \"not\"";
        const OP: &str = "comparison operator";
        const VALUE: &str = "string, number, true, false or null";
        let table: Vec<(&str, ParseError)> = vec![
            // Empty and truncated input.
            ("", err(UnexpectedEnd, 0, TERM)),
            ("   ", err(UnexpectedEnd, 3, TERM)),
            ("userName", err(UnexpectedEnd, 8, OP)),
            ("userName ", err(UnexpectedEnd, 9, OP)),
            ("userName eq", err(UnexpectedEnd, 11, VALUE)),
            ("userName eq ", err(UnexpectedEnd, 12, VALUE)),
            (
                r#"userName eq "bjensen"#,
                err(UnexpectedEnd, 20, "closing quote"),
            ),
            ("a pr and", err(UnexpectedEnd, 8, TERM)),
            ("a pr and ", err(UnexpectedEnd, 9, TERM)),
            ("(a pr", err(UnexpectedEnd, 5, "closing parenthesis")),
            ("not (a pr", err(UnexpectedEnd, 9, "closing parenthesis")),
            (
                r#"emails[type eq "work""#,
                err(UnexpectedEnd, 21, "closing bracket"),
            ),
            ("emails[", err(UnexpectedEnd, 7, TERM)),
            // Structure.
            (r#"userName = "x""#, err(Syntax, 9, OP)),
            (r#"userName=="x""#, err(Syntax, 8, OP)),
            (r#"userName equals "x""#, err(Syntax, 9, OP)),
            (r#"userName eq"x""#, err(Syntax, 11, "whitespace")),
            ("a pr and(b pr)", err(Syntax, 8, "whitespace")),
            ("()", err(Syntax, 1, TERM)),
            ("emails[]", err(Syntax, 7, TERM)),
            (") a pr", err(Syntax, 0, TERM)),
            ("a pr and or", err(UnexpectedEnd, 11, OP)),
            ("not a pr", err(Syntax, 4, OP)),
            ("9a pr", err(Syntax, 0, TERM)),
            ("a eq bjensen", err(Syntax, 5, VALUE)),
            ("a eq 'x'", err(Syntax, 5, VALUE)),
            ("a eq nulls", err(Syntax, 5, VALUE)),
            ("(a pr]", err(Syntax, 5, "closing parenthesis")),
            ("emails[type pr)", err(Syntax, 14, "closing bracket")),
            (
                r#"emails[type[value eq "x"] pr]"#,
                err(Syntax, 11, "comparison operator; value filters cannot nest"),
            ),
            (
                r#"emails[(type[value eq "x"])]"#,
                err(Syntax, 12, "comparison operator; value filters cannot nest"),
            ),
            (
                r#"name.givenName[value eq "x"]"#,
                err(Syntax, 14, "no value filter after a sub-attribute"),
            ),
            ("urn:x:", err(UnexpectedEnd, 6, "attribute name")),
            (
                "urn:userName eq 1",
                err(Syntax, 0, "schema URN followed by \":\" and attribute name"),
            ),
            ("name. pr", err(Syntax, 5, "sub-attribute name")),
            // Trailing input after a complete filter.
            ("a pr b pr", err(TrailingInput, 5, "end of input")),
            ("a pr)", err(TrailingInput, 4, "end of input")),
            ("a pr )", err(TrailingInput, 5, "end of input")),
            ("a pr andy", err(TrailingInput, 5, "end of input")),
            (r#"a eq "x"and b pr"#, err(TrailingInput, 8, "end of input")),
            (
                r#"emails[type eq "work"].value"#,
                err(TrailingInput, 22, "end of input"),
            ),
            ("(a pr) x", err(TrailingInput, 7, "end of input")),
            // Bad values.
            ("a eq 01", err(BadValue, 6, "JSON number")),
            ("a eq 1.", err(BadValue, 7, "digit after decimal point")),
            ("a eq 1x", err(BadValue, 6, "JSON number")),
            ("a eq -", err(BadValue, 6, "JSON number")),
            (r#"a eq "\x""#, err(BadValue, 6, "escape sequence")),
            (r#"a eq "\u12""#, err(BadValue, 6, "four hex digits")),
            (
                r#"a eq "\ud800""#,
                err(BadValue, 12, "low surrogate escape"),
            ),
            (
                "a eq \"\u{1}\"",
                err(BadValue, 6, "escaped control character"),
            ),
        ];
        for (input, expected) in table {
            assert_eq!(parse_filter(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn patch_path_known_answers() {
        let table = vec![
            (
                r#"members[value eq "2819c223"]"#,
                PatchPath {
                    attr: p("members"),
                    filter: Some(eq_s(p("value"), "2819c223")),
                    sub_attr: None,
                },
            ),
            (
                r#"members[value eq "x"].display"#,
                PatchPath {
                    attr: p("members"),
                    filter: Some(eq_s(p("value"), "x")),
                    sub_attr: Some("display".into()),
                },
            ),
            (
                r#"emails[type eq "work"].value"#,
                PatchPath {
                    attr: p("emails"),
                    filter: Some(eq_s(p("type"), "work")),
                    sub_attr: Some("value".into()),
                },
            ),
            (
                r#"addresses[type eq "work" and primary eq true].streetAddress"#,
                PatchPath {
                    attr: p("addresses"),
                    filter: Some(and([
                        eq_s(p("type"), "work"),
                        cmp(p("primary"), CompareOp::Eq, CompValue::Bool(true)),
                    ])),
                    sub_attr: Some("streetAddress".into()),
                },
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                PatchPath {
                    attr: pu(ENTERPRISE, "manager", None),
                    filter: None,
                    sub_attr: None,
                },
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
                PatchPath {
                    attr: pu(ENTERPRISE, "manager", Some("displayName")),
                    filter: None,
                    sub_attr: None,
                },
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value"#,
                PatchPath {
                    attr: pu(CORE_USER, "emails", None),
                    filter: Some(eq_s(p("type"), "work")),
                    sub_attr: Some("value".into()),
                },
            ),
            (
                "name.givenName",
                PatchPath {
                    attr: ps("name", "givenName"),
                    filter: None,
                    sub_attr: None,
                },
            ),
            (
                "userName",
                PatchPath {
                    attr: p("userName"),
                    filter: None,
                    sub_attr: None,
                },
            ),
            (
                r#"members[$ref eq "https://x/Users/1"].$ref"#,
                PatchPath {
                    attr: p("members"),
                    filter: Some(eq_s(p("$ref"), "https://x/Users/1")),
                    sub_attr: Some("$ref".into()),
                },
            ),
            (
                " name.givenName ",
                PatchPath {
                    attr: ps("name", "givenName"),
                    filter: None,
                    sub_attr: None,
                },
            ),
        ];
        for (input, expected) in table {
            assert_eq!(parse_patch_path(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn malformed_patch_paths() {
        use ErrorKind::*;
        let table = [
            ("", err(UnexpectedEnd, 0, "attribute name")),
            ("[value pr]", err(Syntax, 0, "attribute name")),
            (
                "members[",
                err(UnexpectedEnd, 8, "attribute name, \"(\" or \"not\""),
            ),
            (
                r#"members[value eq "x""#,
                err(UnexpectedEnd, 20, "closing bracket"),
            ),
            (
                r#"members[value eq "x"]."#,
                err(UnexpectedEnd, 22, "sub-attribute name"),
            ),
            (
                r#"members[value eq "x"].display.x"#,
                err(TrailingInput, 29, "end of input"),
            ),
            (
                r#"members[value eq "x"]x"#,
                err(TrailingInput, 21, "end of input"),
            ),
            (
                r#"name.givenName[value eq "x"]"#,
                err(Syntax, 14, "no value filter after a sub-attribute"),
            ),
            (
                r#"emails[type[value pr] pr]"#,
                err(Syntax, 11, "comparison operator; value filters cannot nest"),
            ),
            ("userName eq \"x\"", err(TrailingInput, 9, "end of input")),
            ("a.b.c", err(TrailingInput, 3, "end of input")),
        ];
        for (input, expected) in table {
            assert_eq!(parse_patch_path(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn attr_path_entry_point() {
        let table = [
            ("userName", Ok(p("userName"))),
            ("  name.familyName\t", Ok(ps("name", "familyName"))),
            ("meta.lastModified", Ok(ps("meta", "lastModified"))),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                Ok(pu(ENTERPRISE, "manager", Some("value"))),
            ),
            ("", Err(err(ErrorKind::UnexpectedEnd, 0, "attribute name"))),
            (" ", Err(err(ErrorKind::UnexpectedEnd, 1, "attribute name"))),
            ("1x", Err(err(ErrorKind::Syntax, 0, "attribute name"))),
            ("a,b", Err(err(ErrorKind::TrailingInput, 1, "end of input"))),
            ("a b", Err(err(ErrorKind::TrailingInput, 2, "end of input"))),
            (
                "emails[type pr]",
                Err(err(ErrorKind::TrailingInput, 6, "end of input")),
            ),
        ];
        for (input, expected) in table {
            assert_eq!(parse_attr_path(input), expected, "{input:?}");
        }
    }

    #[test]
    fn depth_limit_is_exact() {
        let nested = |levels: usize| format!("{}a pr{}", "(".repeat(levels), ")".repeat(levels));
        assert_eq!(parse_filter(&nested(32)), Ok(pr(p("a"))));
        assert_eq!(
            parse_filter(&nested(33)),
            Err(err(ErrorKind::TooDeep, 32, "less deeply nested filter"))
        );
        let nots = |levels: usize| format!("{}a pr{}", "not (".repeat(levels), ")".repeat(levels));
        assert!(parse_filter(&nots(32)).is_ok());
        assert_eq!(
            parse_filter(&nots(33)).map_err(|e| (e.kind, e.offset)),
            Err((ErrorKind::TooDeep, 32 * 5 + 4))
        );
        // Brackets count as a level too.
        let tight = Limits {
            max_depth: 1,
            max_terms: 10,
        };
        assert!(parse_filter_with("emails[type pr]", tight).is_ok());
        assert_eq!(
            parse_filter_with("emails[(type pr)]", tight),
            Err(err(ErrorKind::TooDeep, 7, "less deeply nested filter"))
        );
        assert_eq!(
            parse_filter_with("(emails[type pr])", tight).map_err(|e| (e.kind, e.offset)),
            Err((ErrorKind::TooDeep, 7))
        );
    }

    #[test]
    fn term_limit_is_exact() {
        let chain = |terms: usize| vec!["a pr"; terms].join(" or ");
        let limits = Limits {
            max_depth: 32,
            max_terms: 3,
        };
        assert!(parse_filter_with(&chain(3), limits).is_ok());
        assert_eq!(
            parse_filter_with(&chain(4), limits),
            Err(err(ErrorKind::TooDeep, 24, "fewer comparisons"))
        );
        // Leaves inside value paths count as well.
        assert_eq!(
            parse_filter_with("a pr and x[b pr or c pr and d pr]", limits)
                .map_err(|e| (e.kind, e.offset)),
            Err((ErrorKind::TooDeep, 28))
        );
        assert_eq!(parse_filter(&chain(1000)).map(|_| ()), Ok(()));
        assert!(parse_filter(&chain(1001)).is_err());
    }

    #[test]
    fn hostile_inputs_fail_fast_without_overflowing_the_stack() {
        let open = "(".repeat(100_000);
        assert_eq!(
            parse_filter(&open).map_err(|e| e.kind),
            Err(ErrorKind::TooDeep)
        );
        let nested = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(
            parse_filter(&nested).map_err(|e| e.kind),
            Err(ErrorKind::TooDeep)
        );
        let nots = "not (".repeat(100_000);
        assert_eq!(
            parse_filter(&nots).map_err(|e| e.kind),
            Err(ErrorKind::TooDeep)
        );
        let brackets = format!("{}a pr", "a[".repeat(100_000));
        assert!(parse_filter(&brackets).is_err());
        let chain = vec![r#"userName eq "x""#; 100_000].join(" or ");
        assert_eq!(
            parse_filter(&chain).map_err(|e| e.kind),
            Err(ErrorKind::TooDeep)
        );
        let and_chain = vec!["a pr"; 100_000].join(" and ");
        assert_eq!(
            parse_filter(&and_chain).map_err(|e| e.kind),
            Err(ErrorKind::TooDeep)
        );
    }

    #[test]
    fn long_chains_stay_flat() {
        // 10,000 terms with a raised limit: one node with 10,000 children, not a deep tree.
        let limits = Limits {
            max_depth: 32,
            max_terms: 20_000,
        };
        let chain = vec!["a pr"; 10_000].join(" and ");
        match parse_filter_with(&chain, limits) {
            Ok(Filter::And(operands)) => assert_eq!(operands.len(), 10_000),
            other => panic!("expected a flat And, got {other:?}"),
        }
        let chain = vec!["a pr and b pr"; 5_000].join(" or ");
        match parse_filter_with(&chain, limits) {
            Ok(Filter::Or(operands)) => {
                assert_eq!(operands.len(), 5_000);
                assert!(
                    operands
                        .iter()
                        .all(|o| matches!(o, Filter::And(v) if v.len() == 2))
                );
            }
            other => panic!("expected a flat Or, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_filters() {
        for (input, parsed) in rfc_examples().into_iter().chain(more_filters()) {
            let printed = parsed.to_string();
            assert_eq!(
                parse_filter(&printed).as_ref(),
                Ok(&parsed),
                "{input} printed as {printed}"
            );
        }
    }

    #[test]
    fn round_trip_is_canonical() {
        // Printing normalises case, whitespace, escapes and redundant parentheses.
        let table = [
            ("A Eq \"x\" AND b PR", r#"A eq "x" and b pr"#),
            ("((a  pr))\tOR\tNOT(b pr)", "a pr or not (b pr)"),
            (r#"a eq "\u0041\/\ud83d\ude00""#, "a eq \"A/😀\""),
            ("a eq TRUE or b eq NULL", "a eq true or b eq null"),
            ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
            ("a pr or (b pr and c pr)", "a pr or b pr and c pr"),
            ("emails[ type pr ]", "emails[type pr]"),
        ];
        for (input, canonical) in table {
            let parsed = parse_filter(input).unwrap();
            assert_eq!(parsed.to_string(), canonical, "{input}");
            assert_eq!(parse_filter(canonical), Ok(parsed), "{input}");
        }
    }

    #[test]
    fn round_trip_values_with_every_escape() {
        let nasty: String = (0u32..0x80)
            .filter_map(char::from_u32)
            .chain(['é', '😀', '\u{2028}', '\u{FFFF}'])
            .collect();
        let filter = eq_s(p("a"), &nasty);
        assert_eq!(parse_filter(&filter.to_string()), Ok(filter));
    }

    #[test]
    fn round_trip_patch_and_attr_paths() {
        let patch_inputs = [
            r#"members[value eq "2819c223"]"#,
            r#"members[value eq "x"].display"#,
            r#"emails[type eq "work" or not (primary eq false)].value"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "name.givenName",
        ];
        for input in patch_inputs {
            let parsed = parse_patch_path(input).unwrap();
            assert_eq!(parsed.to_string(), input);
            assert_eq!(parse_patch_path(&parsed.to_string()), Ok(parsed));
        }
        let attr_inputs = [
            "userName",
            "name.familyName",
            "members.$ref",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ];
        for input in attr_inputs {
            let parsed = parse_attr_path(input).unwrap();
            assert_eq!(parsed.to_string(), input);
        }
    }

    #[test]
    fn limits_default() {
        assert_eq!(
            Limits::default(),
            Limits {
                max_depth: 32,
                max_terms: 1000
            }
        );
    }
}

/// Property: any tree the grammar can express prints to text that parses back to the same tree.
/// Trees come from a small seeded generator (no extra dependency), thousands per run.
#[cfg(test)]
mod round_trip {
    use super::*;

    /// xorshift64*: deterministic, good enough to vary trees.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[usize::try_from(self.below(items.len() as u64)).unwrap()]
        }
    }

    fn path(rng: &mut Rng, relative: bool) -> AttrPath {
        let name = rng.pick(&["userName", "emails", "name", "a-b_c9", "$ref", "Not", "and"]);
        let urn = (!relative && rng.below(5) == 0).then(|| {
            rng.pick(&[
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:x:y:2.0:Ext",
            ])
        });
        let sub =
            (!relative && rng.below(3) == 0).then(|| rng.pick(&["value", "givenName", "type"]));
        AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub.map(str::to_owned),
        }
    }

    fn value(rng: &mut Rng) -> CompValue {
        match rng.below(5) {
            0 => CompValue::Null,
            1 => CompValue::Bool(rng.below(2) == 0),
            2 => CompValue::Number(rng.pick(&["0", "-12", "3.25", "1e9", "-0.5E-3"]).to_owned()),
            _ => {
                let pieces = [
                    "a", "\"", "\\", "/", "\n", "\t", "\u{1}", "é", "😀", " and ", ")", "]", "",
                ];
                let n = rng.below(5);
                CompValue::Str((0..n).map(|_| rng.pick(&pieces)).collect())
            }
        }
    }

    fn filter(rng: &mut Rng, depth: u32, relative: bool) -> Filter {
        let leaf = depth == 0 || rng.below(3) == 0;
        let choice = if leaf {
            rng.below(2)
        } else {
            2 + rng.below(if relative { 3 } else { 4 })
        };
        match choice {
            0 => Filter::Present(path(rng, relative)),
            1 => {
                let ops = [
                    CompareOp::Eq,
                    CompareOp::Ne,
                    CompareOp::Co,
                    CompareOp::Sw,
                    CompareOp::Ew,
                    CompareOp::Gt,
                    CompareOp::Ge,
                    CompareOp::Lt,
                    CompareOp::Le,
                ];
                let op = ops[usize::try_from(rng.below(9)).unwrap()];
                Filter::Compare {
                    path: path(rng, relative),
                    op,
                    value: value(rng),
                }
            }
            2 | 3 => {
                let n = 2 + rng.below(3);
                let items = (0..n).map(|_| filter(rng, depth - 1, relative)).collect();
                if choice == 2 {
                    Filter::And(items)
                } else {
                    Filter::Or(items)
                }
            }
            4 => Filter::Not(Box::new(filter(rng, depth - 1, relative))),
            _ => {
                let mut attr = path(rng, false);
                attr.sub_attr = None;
                Filter::ValuePath {
                    attr,
                    filter: Box::new(filter(rng, depth - 1, true)),
                }
            }
        }
    }

    /// The parser flattens `a and (b and c)` written without parentheses only; a generated
    /// tree may nest same-kind operators, which print with parentheses and parse back as such.
    #[test]
    fn printed_filters_parse_back_to_the_same_tree() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let f = filter(&mut rng, 4, false);
            let text = f.to_string();
            assert_eq!(parse_filter(&text), Ok(f), "{text}");
        }
    }

    #[test]
    fn printed_patch_paths_parse_back() {
        let mut rng = Rng(7);
        for _ in 0..2000 {
            let mut attr = path(&mut rng, false);
            let with_filter = rng.below(2) == 0;
            if with_filter {
                attr.sub_attr = None;
            }
            let p = PatchPath {
                attr,
                filter: with_filter.then(|| filter(&mut rng, 2, true)),
                sub_attr: (with_filter && rng.below(2) == 0).then(|| "display".to_owned()),
            };
            let text = p.to_string();
            assert_eq!(parse_patch_path(&text), Ok(p), "{text}");
        }
    }
}
