//! Which trigrams of a `co`/`ew` value to look up in a SQLite FTS5 trigram index. FTS5 answers
//! `LIKE '%0512345@corp%'` by intersecting the doclists of all ten trigrams, and `@co`, `cor`
//! and `orp` are in a million emails each: 25-30 ms however rare the value. Intersecting the
//! rarest few and checking the candidates with LIKE gives the same rows in 1-3 ms.
//!
//! How common a trigram is comes from the index's own layout, which the FTS5 source documents
//! (`fts5_index.c`): `<table>_idx` holds, per segment, the first term of each leaf page with the
//! page number shifted left by one, and `<table>_data` holds the pages under rowids
//! `segment << 37 | page`. The pages between the one a term starts on and the next one that
//! starts a term hold its doclist, so their number grows with the documents holding the term.
//! The estimate only chooses the plan: rows always pass the LIKE, so a wrong guess costs time,
//! never a wrong answer, and an index whose layout differs falls back to LIKE alone.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};

/// At most this many trigrams are intersected: each one more costs seeks for every candidate.
const TERMS: usize = 4;

/// A trigram this many times as common as the rarest one would cost more to intersect than its
/// candidates cost to check.
const SPREAD: i64 = 4;

/// If even the rarest trigram's doclist spans more leaf pages than this (about 100,000
/// documents), the whole pattern is left to FTS5's LIKE.
const COMMON: i64 = 400;

#[derive(QueryableByName)]
struct Span {
    #[diesel(sql_type = Binary)]
    term: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    pages: i64,
}

/// The distinct trigrams (three characters, as FTS5's trigram tokenizer cuts them) of `value`.
fn trigrams(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut out: Vec<String> = Vec::new();
    for w in chars.windows(3) {
        let t: String = w.iter().collect();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The FTS5 query (rare trigrams, each a quoted phrase in `column`, joined by AND) to find the
/// candidate rows for `value` in `table`, or `None` when LIKE alone is as good: every trigram
/// is common, or the index cannot be read as expected. `table` is one of the store's own
/// trigram tables, never client input.
pub fn rare_match(
    conn: &mut SqliteConnection,
    table: &str,
    column: &str,
    value: &str,
) -> Option<String> {
    let terms = trigrams(&value.to_lowercase());
    if terms.is_empty() {
        return None;
    }
    let keys = vec!["(?)"; terms.len()].join(", ");
    // Per segment (walked by seeks on the primary key) and trigram: the page the trigram's
    // doclist starts on, and the next page that starts a term or, after the segment's last
    // term, the page after its last.
    let sql = format!(
        "WITH RECURSIVE seg(id) AS (
             SELECT min(segid) FROM {table}_idx
             UNION ALL SELECT (SELECT min(segid) FROM {table}_idx WHERE segid > seg.id)
             FROM seg WHERE seg.id IS NOT NULL),
         key(term) AS (VALUES {keys})
         SELECT key.term AS term, CAST(sum(
             coalesce((SELECT pgno >> 1 FROM {table}_idx i
                       WHERE i.segid = seg.id AND i.term > key.term ORDER BY i.term LIMIT 1),
                      (SELECT max(id) FROM {table}_data
                       WHERE id BETWEEN seg.id << 37 AND (seg.id << 37) + 2147483647)
                      % 2147483648 + 1)
             - coalesce((SELECT pgno >> 1 FROM {table}_idx i
                         WHERE i.segid = seg.id AND i.term <= key.term
                         ORDER BY i.term DESC LIMIT 1), 0)) AS BIGINT) AS pages
         FROM key, seg WHERE seg.id IS NOT NULL GROUP BY key.term"
    );
    let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
    for t in &terms {
        // Index 0 (the terms, not a prefix index) is the key's first byte.
        let mut key = b"0".to_vec();
        key.extend_from_slice(t.as_bytes());
        query = query.bind::<Binary, _>(key);
    }
    let spans: Vec<Span> = query
        .load(conn)
        .inspect_err(|e| tracing::debug!(error = %e, table, "trigram statistics unreadable"))
        .ok()?;
    choose(
        spans
            .into_iter()
            .filter_map(|s| {
                let term = String::from_utf8(s.term.get(1..)?.to_vec()).ok()?;
                Some((term, s.pages))
            })
            .collect(),
        column,
    )
}

/// The AND of the rarest trigrams of `spans` (trigram, pages), as an FTS5 query on `column`.
fn choose(mut spans: Vec<(String, i64)>, column: &str) -> Option<String> {
    spans.sort_by_key(|(_, pages)| *pages);
    let rarest = spans.first()?.1;
    if rarest > COMMON {
        return None;
    }
    let phrases: Vec<String> = spans
        .iter()
        .take(TERMS)
        .take_while(|(_, pages)| *pages <= rarest.max(1) * SPREAD)
        .map(|(t, _)| format!("{column} : \"{}\"", t.replace('"', "\"\"")))
        .collect();
    Some(phrases.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigrams_are_characters_not_bytes() {
        assert_eq!(trigrams("ab"), Vec::<String>::new());
        assert_eq!(trigrams("abcab"), ["abc", "bca", "cab"]);
        assert_eq!(trigrams("zoë@x"), ["zoë", "oë@", "ë@x"]);
    }

    #[test]
    fn the_rarest_few_are_intersected_and_common_ones_left_out() {
        let spans = |s: &[(&str, i64)]| s.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
        assert_eq!(
            choose(
                spans(&[
                    ("cor", 745),
                    ("051", 23),
                    ("512", 16),
                    ("5@c", 77),
                    ("123", 17)
                ]),
                "value_folded"
            ),
            Some(
                r#"value_folded : "512" AND value_folded : "123" AND value_folded : "051""#
                    .to_owned()
            )
        );
        assert_eq!(
            choose(
                spans(&[("a\"b", 2), ("abc", 3), ("bcd", 4), ("cde", 5), ("def", 6)]),
                "c"
            ),
            Some(r#"c : "a""b" AND c : "abc" AND c : "bcd" AND c : "cde""#.to_owned())
        );
        assert_eq!(choose(spans(&[("cor", 745), ("orp", 747)]), "c"), None);
        assert_eq!(choose(Vec::new(), "c"), None);
    }
}
