//! Attribute paths (`attrPath`, RFC 7644 §3.10 / figure 1) and PATCH paths (RFC 7644 §3.5.2).
//!
//! Paths are split syntactically only: a URN prefix, an attribute name and an optional
//! sub-attribute. Whether `manager` exists in the enterprise extension, or whether a name is
//! multi-valued, is a schema question for scim-core. Names keep the client's case.

use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::{opt, recognize};

use crate::ast::{AttrPath, PatchPath};
use crate::error::ErrorKind;
use crate::filter::{Budget, value_filter};
use crate::lex::{PResult, expect, failure, is_alpha, is_name_char, is_wsp, keyword};

/// What a missing attribute name is reported as.
pub(crate) const EXPECTED_ATTR: &str = "attribute name";

/// What a bracket after a sub-attribute is reported as: `name.givenName[...]` filters nothing.
pub(crate) const EXPECTED_NO_FILTER: &str = "no value filter after a sub-attribute";

/// ```abnf
/// ATTRNAME = ALPHA *(nameChar) / "$ref"
/// ```
/// `$ref` is not an ATTRNAME in RFC 7643 §2.1, yet it is a real sub-attribute of references
/// (`members.$ref`, RFC 7643 §4.2) and clients filter and patch on it. Soft on mismatch.
pub(crate) fn attr_name(i: &str) -> PResult<'_, &str> {
    let plain = recognize((satisfy(is_alpha), take_while(is_name_char)));
    nom::branch::alt((plain, keyword("$ref"))).parse(i)
}

/// ```abnf
/// subAttr = "." ATTRNAME
/// ```
/// Soft only when there is no `.`; after the dot a name is required.
pub(crate) fn sub_attr(i: &str) -> PResult<'_, &str> {
    let (rest, _) = char('.').parse(i)?;
    expect("sub-attribute name", attr_name).parse(rest)
}

/// Characters that may occur in the URN-ish token in front of an attribute name. Deliberately
/// generous (URNs allow much of RFC 3986), but it stops at whatever can legally follow an attribute
/// path: whitespace, brackets, parentheses and quotes.
fn is_urn_char(c: char) -> bool {
    !is_wsp(c) && !matches!(c, '[' | ']' | '(' | ')' | '"') && !c.is_control()
}

/// ```abnf
/// URI ":"          ; a schema URN, e.g. "urn:ietf:params:scim:schemas:core:2.0:User:"
/// ```
/// URNs contain dots (`2.0`) and colons, so the attribute starts after the *last* colon of the
/// token. Recognised only when the input starts with `urn:` (case-insensitive, RFC 8141 §3.1).
/// Returns the URN without its trailing colon; soft when the input does not start with `urn:`.
fn urn_prefix(i: &str) -> PResult<'_, &str> {
    if !i.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        return Err(nom::Err::Error(crate::error::Fail::syntax(i, "urn:")));
    }
    let (_, token) = take_while1(is_urn_char).parse(i)?;
    // "urn:" NID ":" NSS needs a colon after the NID; "urn:name" and "urn::name" have none.
    let Some(colon) = token.rfind(':').filter(|&c| c > "urn:".len()) else {
        return failure(
            i,
            ErrorKind::Syntax,
            "schema URN followed by \":\" and attribute name",
        );
    };
    match (i.get(..colon), i.get(colon + 1..)) {
        (Some(urn), Some(rest)) => Ok((rest, urn)),
        // Unreachable: `colon` is the byte index of an ASCII ':' inside `i`.
        _ => failure(i, ErrorKind::Syntax, "schema URN"),
    }
}

/// ```abnf
/// attrPath = [URI ":"] ATTRNAME *1subAttr
/// ```
/// Soft only when nothing could be consumed (the input starts with neither a name nor `urn:`).
pub(crate) fn attr_path(i: &str) -> PResult<'_, AttrPath> {
    let (rest, urn) = opt(urn_prefix).parse(i)?;
    let (rest, name) = if urn.is_some() {
        // After the URN the name is mandatory: "urn:…:User:" alone is an error.
        expect(EXPECTED_ATTR, attr_name).parse(rest)?
    } else {
        attr_name(rest)?
    };
    let (rest, sub) = opt(sub_attr).parse(rest)?;
    Ok((
        rest,
        AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub.map(str::to_owned),
        },
    ))
}

/// ```abnf
/// PATH = attrPath / valuePath [subAttr]      ; RFC 7644 §3.5.2
/// ```
/// The value filter is parsed with the same budget and rules as a `valuePath` in a filter.
pub(crate) fn patch_path<'a>(budget: &Budget, i: &'a str) -> PResult<'a, PatchPath> {
    let (rest, attr) = expect(EXPECTED_ATTR, attr_path).parse(i)?;
    if !rest.starts_with('[') {
        return Ok((
            rest,
            PatchPath {
                attr,
                filter: None,
                sub_attr: None,
            },
        ));
    }
    if attr.sub_attr.is_some() {
        return failure(rest, ErrorKind::Syntax, EXPECTED_NO_FILTER);
    }
    let (rest, filter) = value_filter(budget, 0, rest)?;
    let (rest, sub) = opt(sub_attr).parse(rest)?;
    Ok((
        rest,
        PatchPath {
            attr,
            filter: Some(filter),
            sub_attr: sub.map(str::to_owned),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use crate::ast::{CompValue, CompareOp, Filter};

    fn ap(urn: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub.map(str::to_owned),
        }
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn attr_name_known_answers() {
        let table: [(&str, Option<(&str, &str)>); 10] = [
            ("userName", Some(("userName", ""))),
            ("x", Some(("x", ""))),
            ("a-b_c9 eq", Some(("a-b_c9", " eq"))),
            ("name.familyName", Some(("name", ".familyName"))),
            ("emails[", Some(("emails", "["))),
            ("$ref", Some(("$ref", ""))),
            ("$ref eq", Some(("$ref", " eq"))),
            ("$refs", None),
            ("9lives", None),
            ("_x", None),
        ];
        for (input, expected) in table {
            assert_eq!(
                attr_name(input).ok().map(|(r, n)| (n, r)),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn attr_path_known_answers() {
        let urn_manager = format!("{ENTERPRISE}:manager.value");
        let urn_core = "urn:ietf:params:scim:schemas:core:2.0:User:userName sw";
        let table = [
            ("userName", ap(None, "userName", None), ""),
            ("name.familyName", ap(None, "name", Some("familyName")), ""),
            ("members.$ref eq", ap(None, "members", Some("$ref")), " eq"),
            ("emails[type", ap(None, "emails", None), "[type"),
            (
                "meta.lastModified gt",
                ap(None, "meta", Some("lastModified")),
                " gt",
            ),
            (
                urn_manager.as_str(),
                ap(Some(ENTERPRISE), "manager", Some("value")),
                "",
            ),
            (
                urn_core,
                ap(
                    Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                    "userName",
                    None,
                ),
                " sw",
            ),
            (
                "URN:Example:x:emails[type",
                ap(Some("URN:Example:x"), "emails", None),
                "[type",
            ),
            ("urn:a:b", ap(Some("urn:a"), "b", None), ""),
            // Not a URN: only "urn:" with the colon starts one.
            ("urnx", ap(None, "urnx", None), ""),
        ];
        for (input, expected, rest) in table {
            assert_eq!(attr_path(input), Ok((rest, expected)), "{input:?}");
        }
    }

    #[test]
    fn attr_path_errors() {
        let table = [
            ("urn:x:", ErrorKind::UnexpectedEnd, 6, EXPECTED_ATTR),
            ("urn:x:9", ErrorKind::Syntax, 6, EXPECTED_ATTR),
            (
                "urn:name",
                ErrorKind::Syntax,
                0,
                "schema URN followed by \":\" and attribute name",
            ),
            (
                "urn::name",
                ErrorKind::Syntax,
                0,
                "schema URN followed by \":\" and attribute name",
            ),
            ("name.", ErrorKind::UnexpectedEnd, 5, "sub-attribute name"),
            ("name.1", ErrorKind::Syntax, 5, "sub-attribute name"),
        ];
        for (input, kind, offset, expected) in table {
            let Err(nom::Err::Failure(e)) = attr_path(input) else {
                panic!("{input:?} should fail hard");
            };
            assert_eq!(
                e.into_error(input),
                crate::ParseError {
                    kind,
                    offset,
                    expected
                },
                "{input:?}"
            );
        }
        // Nothing consumed: soft, so a caller can try something else.
        assert!(matches!(attr_path("(x"), Err(nom::Err::Error(_))));
    }

    #[test]
    fn patch_path_production() {
        let budget = Budget::new(Limits::default());
        let (rest, p) = patch_path(&budget, "members[value eq \"x\"].display").unwrap();
        assert_eq!(rest, "");
        assert_eq!(
            p,
            PatchPath {
                attr: ap(None, "members", None),
                filter: Some(Filter::Compare {
                    path: ap(None, "value", None),
                    op: CompareOp::Eq,
                    value: CompValue::Str("x".into()),
                }),
                sub_attr: Some("display".into()),
            }
        );
        let (rest, p) = patch_path(&budget, "name.givenName").unwrap();
        assert_eq!(
            (rest, p.attr, p.filter),
            ("", ap(None, "name", Some("givenName")), None)
        );
    }
}
