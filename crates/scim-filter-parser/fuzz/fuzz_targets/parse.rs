//! Any input: no panic, no stack overflow, and whatever parses prints back to the same tree.
//! `cargo fuzz run parse` from crates/scim-filter-parser (needs cargo-fuzz).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_filter_parser::{parse_attr_path, parse_filter, parse_patch_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(filter) = parse_filter(text) {
        assert_eq!(parse_filter(&filter.to_string()), Ok(filter));
    }
    if let Ok(path) = parse_patch_path(text) {
        assert_eq!(parse_patch_path(&path.to_string()), Ok(path));
    }
    if let Ok(path) = parse_attr_path(text) {
        assert_eq!(parse_attr_path(&path.to_string()), Ok(path));
    }
});
