//! Parser throughput on the filters IdPs send and on the worst inputs the limits allow.
//! Run with `cargo bench -p scim-filter-parser`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scim_filter_parser::{parse_filter, parse_patch_path};

fn filters(c: &mut Criterion) {
    let cases = [
        ("userName eq", r#"userName eq "bjensen@example.com""#),
        (
            "rfc example with value filters",
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ),
        (
            "urn path and precedence",
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D" and (title pr or not (active eq false))"#,
        ),
    ];
    for (name, text) in cases {
        c.bench_function(&format!("filter/{name}"), |b| {
            b.iter(|| parse_filter(black_box(text)))
        });
    }
    let long_or: String = (0..999)
        .map(|i| format!(r#"userName eq "u{i}""#))
        .collect::<Vec<_>>()
        .join(" or ");
    c.bench_function("filter/999-term or chain", |b| {
        b.iter(|| parse_filter(black_box(&long_or)))
    });
    let deep = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
    c.bench_function("filter/100k nested parens (rejected)", |b| {
        b.iter(|| parse_filter(black_box(&deep)))
    });
}

fn paths(c: &mut Criterion) {
    c.bench_function("patch path/value filter with sub-attribute", |b| {
        b.iter(|| parse_patch_path(black_box(r#"emails[type eq "work"].value"#)))
    });
}

criterion_group!(benches, filters, paths);
criterion_main!(benches);
