//! Filters (RFC 7644 §3.4.2.2) from arbitrary UTF-8: the parser never panics or overflows the
//! stack, errors point inside the input, every tree it returns keeps the grammar's shape, and
//! the canonical printing parses back to the same tree (and prints the same again).
//!
//! `cargo +nightly fuzz run filter` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_filter_parser::{
    AttrPath, CompValue, Filter, Limits, ParseError, parse_filter, parse_filter_with,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_filter(text) {
        Ok(filter) => {
            well_formed(&filter, false);
            let printed = filter.to_string();
            let reparsed = parse_filter(&printed);
            assert_eq!(
                reparsed.as_ref(),
                Ok(&filter),
                "{text:?} printed as {printed:?}"
            );
            assert_eq!(filter.to_string(), printed);
        }
        Err(e) => error_in_bounds(text, &e),
    }
    // Tight limits reach the depth and term checks on short inputs.
    let tight = Limits {
        max_depth: 2,
        max_terms: 3,
    };
    match parse_filter_with(text, tight) {
        Ok(filter) => assert_eq!(parse_filter(text), Ok(filter), "{text:?}"),
        Err(e) => error_in_bounds(text, &e),
    }
});

fn error_in_bounds(text: &str, e: &ParseError) {
    assert!(
        e.offset <= text.len() && text.is_char_boundary(e.offset),
        "{text:?}: {e:?}"
    );
    let _ = e.to_string();
}

/// The shape the README promises: n-ary nodes have two or more operands, brackets do not nest,
/// the bracketed attribute has no sub-attribute, numbers are JSON numbers.
fn well_formed(filter: &Filter, in_brackets: bool) {
    match filter {
        Filter::Compare { path, value, .. } => {
            name(path);
            if let CompValue::Number(n) = value {
                assert!(json_number(n), "number literal {n:?}");
            }
        }
        Filter::Present(path) => name(path),
        Filter::And(items) | Filter::Or(items) => {
            assert!(items.len() >= 2, "{filter:?}");
            for item in items {
                well_formed(item, in_brackets);
            }
        }
        Filter::Not(inner) => well_formed(inner, in_brackets),
        Filter::ValuePath { attr, filter } => {
            assert!(!in_brackets, "nested brackets: {filter:?}");
            assert!(attr.sub_attr.is_none(), "{attr:?}");
            name(attr);
            well_formed(filter, true);
        }
    }
}

/// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. The grammar, not
/// serde_json's range: `1e400` is a JSON number that no f64 holds.
fn json_number(n: &str) -> bool {
    fn digits(s: &str) -> (&str, &str) {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        s.split_at(end)
    }
    let s = n.strip_prefix('-').unwrap_or(n);
    let (int, rest) = digits(s);
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return false;
    }
    let rest = match rest.strip_prefix('.') {
        Some(frac) => match digits(frac) {
            ("", _) => return false,
            (_, rest) => rest,
        },
        None => rest,
    };
    match rest.strip_prefix(['e', 'E']) {
        Some(exp) => {
            let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            matches!(digits(exp), (d, "") if !d.is_empty())
        }
        None => rest.is_empty(),
    }
}

/// ATTRNAME = ALPHA *(nameChar), or `$ref` (names are case-insensitive, RFC 7643 §2.1).
pub fn name(path: &AttrPath) {
    let ok = |n: &str| {
        n.eq_ignore_ascii_case("$ref")
            || (n.starts_with(|c: char| c.is_ascii_alphabetic())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    };
    assert!(ok(&path.name), "{path:?}");
    assert!(path.sub_attr.as_deref().is_none_or(ok), "{path:?}");
    assert!(
        path.urn
            .as_deref()
            .is_none_or(|u| u.len() > 4 && u[..4].eq_ignore_ascii_case("urn:")),
        "{path:?}"
    );
}
