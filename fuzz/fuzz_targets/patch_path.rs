//! PATCH paths (RFC 7644 §3.5.2) and bare attribute paths (`sortBy`, `attributes`) from
//! arbitrary UTF-8: no panic, errors point inside the input, a sub-attribute after `]` only
//! with a filter, and the printed form parses back to the same path.
//!
//! `cargo +nightly fuzz run patch_path` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_filter_parser::{Filter, ParseError, parse_attr_path, parse_patch_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_patch_path(text) {
        Ok(path) => {
            assert!(
                path.sub_attr.is_none() || path.filter.is_some(),
                "{text:?}: {path:?}"
            );
            if let Some(filter) = &path.filter {
                assert!(path.attr.sub_attr.is_none(), "{text:?}: {path:?}");
                assert!(!has_brackets(filter), "{text:?}: nested brackets");
            }
            let printed = path.to_string();
            assert_eq!(
                parse_patch_path(&printed).as_ref(),
                Ok(&path),
                "{text:?} printed as {printed:?}"
            );
        }
        Err(e) => in_bounds(text, &e),
    }
    match parse_attr_path(text) {
        Ok(path) => {
            let printed = path.to_string();
            assert_eq!(
                parse_attr_path(&printed).as_ref(),
                Ok(&path),
                "{text:?} printed as {printed:?}"
            );
            // Every attribute path is also a PATCH path, the same one.
            let as_patch = parse_patch_path(text);
            assert_eq!(
                as_patch.map(|p| (p.attr, p.filter.is_none(), p.sub_attr)),
                Ok((path, true, None)),
                "{text:?}"
            );
        }
        Err(e) => in_bounds(text, &e),
    }
});

fn in_bounds(text: &str, e: &ParseError) {
    assert!(
        e.offset <= text.len() && text.is_char_boundary(e.offset),
        "{text:?}: {e:?}"
    );
    let _ = e.to_string();
}

fn has_brackets(filter: &Filter) -> bool {
    match filter {
        Filter::ValuePath { .. } => true,
        Filter::And(items) | Filter::Or(items) => items.iter().any(has_brackets),
        Filter::Not(inner) => has_brackets(inner),
        Filter::Compare { .. } | Filter::Present(_) => false,
    }
}
