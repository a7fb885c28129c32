//! Which trigrams of a `co`/`ew` value to look up in a trigram index. On SQLite, FTS5 answers
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
//!
//! PostgreSQL's pg_trgm GIN index reads the posting lists of every trigram of a pattern too:
//! 33 ms for `%0512345@corp%`, against 1.7 ms for `%0512345%` with the whole pattern checked
//! on the one row it finds. pg_trgm cuts words at characters other than letters and digits, so
//! the choice is a run of rare trigrams within one of the value's words, judged by how often
//! they occur in a page sample of the tenant's rows (what ANALYZE does for the planner), which
//! each process keeps a while (`Samples`).

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Text};

/// At most this many trigrams are intersected: each one more costs seeks for every candidate.
const TERMS: usize = 4;

/// A trigram this many times as common as the rarest one would cost more to intersect than its
/// candidates cost to check.
const SPREAD: i64 = 4;

/// If even the rarest trigram's doclist spans more leaf pages than this (about 100,000
/// documents), the whole pattern is left to FTS5's LIKE.
const COMMON: i64 = 400;

/// Rows the PostgreSQL page sample aims at, and the fewest it must hold to be read at all.
const SAMPLE: i64 = 20_000;
const SAMPLE_MIN: usize = 100;

/// How long a process keeps a column's trigram counts, and how many columns it keeps at most:
/// a column's counts take up to a few MB (one entry per distinct trigram of 20,000 values).
const KEEP: Duration = Duration::from_secs(600);
const COLUMNS: usize = 16;

/// The trigram-indexed columns on PostgreSQL, each with the resource type whose count tells how
/// large a tenant's column is.
const INDEXED: [(&str, &str, &str); 4] = [
    ("User", "users", "user_name_folded"),
    ("User", "users", "display_name_folded"),
    ("User", "user_emails", "value_folded"),
    ("Group", "groups", "display_name_folded"),
];

/// Tenants with fewer resources of a type than this are not sampled when a process starts: the
/// whole pattern costs them little, and their first `co` samples quickly.
const WARM_MIN: i64 = 10_000;

/// A part of the value is searched alone when its trigrams occur at most a quarter as often as
/// the whole pattern's: less than that saving does not pay for checking its extra candidates.
const SAVING: usize = 4;

/// A trigram in at most one sampled row in this many counts as rare.
const RARE: usize = 50;

/// How many rows of a sample hold each trigram.
#[derive(Debug, Default)]
pub struct Counts {
    rows: usize,
    of: HashMap<String, usize>,
}

impl Counts {
    fn of_rows(rows: &[String]) -> Counts {
        let mut of: HashMap<String, usize> = HashMap::new();
        for row in rows {
            for t in trigrams(row) {
                *of.entry(t).or_default() += 1;
            }
        }
        Counts {
            rows: rows.len(),
            of,
        }
    }

    fn of(&self, trigram: &str) -> usize {
        self.of.get(trigram).copied().unwrap_or_default()
    }
}

/// A tenant's column: (tenant, table, column).
type Column = (String, &'static str, &'static str);

/// Trigram counts of tenants' columns on PostgreSQL, each kept by the process for `KEEP`. A
/// sample a single query could afford (500 rows) is a few heap pages, whose neighbouring rows
/// share trigrams, so a rare trigram could look common and the whole pattern be searched (1 to
/// 3% of `co` requests took 20 to 40 ms instead of about 5). A sample 40 times larger, read once in
/// `KEEP`, judges better, and small tenants no longer pay a sample per request. Processes may
/// hold different counts without harm: they only choose a plan, never which rows match.
#[derive(Debug, Default)]
pub struct Samples {
    kept: Mutex<HashMap<Column, (Instant, Arc<Counts>)>>,
}

impl Samples {
    /// The counts of `column`, sampled afresh when none are kept or they are older than
    /// `KEEP`. While one request samples, the others go on with the old counts, or with none
    /// (the whole pattern) the first time: with every first request sampling, the first 10
    /// seconds of a new process at 8 connections had a p99 of 374 ms, with one 187 ms.
    fn counts(
        &self,
        conn: &mut PgConnection,
        tenant: &str,
        table: &'static str,
        column: &'static str,
    ) -> Option<Arc<Counts>> {
        let key: Column = (tenant.to_owned(), table, column);
        {
            let mut kept = self.kept.lock();
            match kept.get_mut(&key) {
                Some((at, counts)) if at.elapsed() < KEEP => return Some(Arc::clone(counts)),
                Some((at, _)) => *at = Instant::now(),
                None => {
                    if kept.len() >= COLUMNS {
                        let oldest = kept
                            .iter()
                            .min_by_key(|(_, (at, _))| *at)
                            .map(|(k, _)| k.clone());
                        if let Some(oldest) = oldest {
                            kept.remove(&oldest);
                        }
                    }
                    kept.insert(key.clone(), (Instant::now(), Arc::default()));
                }
            }
        }
        let Some(rows) = sample(conn, tenant, table, column) else {
            // The next request tries again.
            self.kept.lock().remove(&key);
            return None;
        };
        let counts = Arc::new(Counts::of_rows(&rows));
        self.kept
            .lock()
            .insert(key, (Instant::now(), Arc::clone(&counts)));
        Some(counts)
    }
}

/// A tenant's count of one resource type.
#[derive(QueryableByName)]
struct Size {
    #[diesel(sql_type = Text)]
    tenant_id: String,
    #[diesel(sql_type = Text)]
    resource_type: String,
}

impl Samples {
    /// Samples the indexed columns of the largest tenants (at least `WARM_MIN` resources, at
    /// most `COLUMNS` columns, largest first), as a new process starts. Otherwise the first
    /// `co` requests on a large tenant run without a plan or wait for the sample (40 to 200 ms
    /// at a million users), and at 8 connections the first 10 seconds of a new process had a
    /// p99 of 187 ms against about 45 ms once the counts were held. Returns how many columns
    /// it sampled.
    pub fn warm(&self, conn: &mut PgConnection) -> Result<usize, diesel::result::Error> {
        // The month rows of `created_counts` sum to each tenant's count of each type.
        let sizes: Vec<Size> = diesel::sql_query(
            "SELECT tenant_id, resource_type FROM created_counts
             WHERE level = $1 GROUP BY tenant_id, resource_type HAVING sum(n) >= $2
             ORDER BY sum(n) DESC, tenant_id LIMIT $3",
        )
        .bind::<BigInt, _>(i64::try_from(crate::tx::MONTH).unwrap_or_default())
        .bind::<BigInt, _>(WARM_MIN)
        .bind::<BigInt, _>(i64::try_from(COLUMNS).unwrap_or(i64::MAX))
        .load(conn)?;
        let columns = sizes.iter().flat_map(|size| {
            INDEXED
                .iter()
                .filter(move |(kind, _, _)| *kind == size.resource_type)
                .map(move |(_, table, column)| (size.tenant_id.as_str(), *table, *column))
        });
        let mut sampled = 0;
        for (tenant, table, column) in columns.take(COLUMNS) {
            if self.counts(conn, tenant, table, column).is_some() {
                sampled += 1;
            }
        }
        Ok(sampled)
    }
}

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

#[derive(QueryableByName)]
struct Sampled {
    #[diesel(sql_type = Text)]
    value: String,
}

/// The words of `value` as pg_trgm cuts them (letters and digits), lower-cased, of three
/// characters or more: the ones that have trigrams of their own.
fn words(value: &str) -> Vec<String> {
    value
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_owned)
        .collect()
}

/// The part of `value` to find candidate rows by on PostgreSQL (`LIKE '%part%'` on the trigram
/// index, then the whole pattern on the rows), or `None` when the whole pattern reads about as
/// little. `table` and `column` are the store's own names, never client input.
pub fn rare_part(
    conn: &mut PgConnection,
    samples: &Samples,
    tenant: &str,
    table: &'static str,
    column: &'static str,
    value: &str,
) -> Option<String> {
    let counts = samples.counts(conn, tenant, table, column)?;
    choose_part(&words(value), &counts)
}

/// About `SAMPLE` of the tenant's values of `column`, lower-cased.
fn sample(conn: &mut PgConnection, tenant: &str, table: &str, column: &str) -> Option<Vec<String>> {
    // SYSTEM sampling reads whole pages at random: the fraction is set from the planner's row
    // estimate so that about SAMPLE rows come back whatever the table's size. A table never
    // analyzed has no estimate (-1): its size in pages, at 20 rows a page, stands in for it.
    let sql = format!(
        "SELECT {column} AS value FROM {table} TABLESAMPLE SYSTEM ((
             SELECT LEAST(100, 100.0 * {SAMPLE} / GREATEST(reltuples, 20.0
                 * pg_relation_size(oid) / current_setting('block_size')::real, 1)) FROM pg_class
             WHERE oid = '{table}'::regclass)::real)
         WHERE tenant_id = $1 AND {column} IS NOT NULL"
    );
    let sample: Vec<Sampled> = diesel::sql_query(sql)
        .bind::<Text, _>(tenant)
        .load(conn)
        .inspect_err(|e| tracing::debug!(error = %e, table, "trigram sample failed"))
        .ok()?;
    Some(sample.into_iter().map(|s| s.value.to_lowercase()).collect())
}

fn choose_part(words: &[String], counts: &Counts) -> Option<String> {
    if counts.rows < SAMPLE_MIN {
        return None;
    }
    let rare = (counts.rows / RARE).max(10);
    let mut whole = 0;
    // (trigrams, rows read, part)
    let mut best: Option<(usize, usize, String)> = None;
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        let counts: Vec<usize> = chars
            .windows(3)
            .map(|t| counts.of(&t.iter().collect::<String>()))
            .collect();
        whole += counts.iter().sum::<usize>();
        let mut start = 0;
        // A common trigram (or the word's end) closes the run before it.
        for end in 0..=counts.len() {
            if counts.get(end).is_some_and(|n| *n <= rare) {
                continue;
            }
            let run = counts.get(start..end).unwrap_or_default();
            let read: usize = run.iter().sum();
            let better = best
                .as_ref()
                .is_none_or(|(k, r, _)| (run.len(), Reverse(read)) > (*k, Reverse(*r)));
            if run.len() >= 2 && better {
                let part: String = chars
                    .get(start..end + 2)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                best = Some((run.len(), read, part));
            }
            start = end + 1;
        }
    }
    let (_, read, part) = best?;
    (read * SAVING <= whole).then_some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PostgreSQL connection inside a schema of its own holding a `user_emails` table, and the
    /// schema's name; `None` without `SCIM_TEST_POSTGRES_URL` (CI must set it).
    fn postgres() -> Option<(PgConnection, String)> {
        use diesel::connection::SimpleConnection;
        let url = match std::env::var("SCIM_TEST_POSTGRES_URL") {
            Ok(u) if !u.is_empty() => u,
            _ if std::env::var("CI").is_ok() => panic!("CI needs SCIM_TEST_POSTGRES_URL"),
            _ => return None,
        };
        let mut conn = PgConnection::establish(&url).unwrap();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        conn.batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path = {schema};
             CREATE TABLE user_emails (tenant_id TEXT NOT NULL, value_folded TEXT NOT NULL);"
        ))
        .unwrap();
        Some((conn, schema))
    }

    /// Counts are sampled once and then kept (the same counts come back), a tenant with too few
    /// rows gets no plan, and no more than `COLUMNS` columns are kept.
    #[test]
    fn counts_are_kept_per_tenant_column_and_bounded() {
        use diesel::connection::SimpleConnection;
        let Some((mut conn, schema)) = postgres() else {
            return;
        };
        conn.batch_execute(
            "INSERT INTO user_emails SELECT 'big', 'p' || lpad(i::text, 5, '0') || '@corp.example'
                 FROM generate_series(0, 2999) i;
             INSERT INTO user_emails SELECT 'small', 'x' || i || '@corp.example'
                 FROM generate_series(0, 9) i;
             ANALYZE user_emails;",
        )
        .unwrap();
        let samples = Samples::default();
        let first = samples
            .counts(&mut conn, "big", "user_emails", "value_folded")
            .unwrap();
        assert_eq!(first.rows, 3_000);
        assert_eq!(first.of("p01"), 1_000);
        let again = samples
            .counts(&mut conn, "big", "user_emails", "value_folded")
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(
            rare_part(
                &mut conn,
                &samples,
                "big",
                "user_emails",
                "value_folded",
                "p01234@corp"
            ),
            Some("1234".to_owned())
        );
        assert_eq!(
            rare_part(
                &mut conn,
                &samples,
                "small",
                "user_emails",
                "value_folded",
                "x1@corp"
            ),
            None
        );
        for t in 0..COLUMNS + 5 {
            samples.counts(&mut conn, &format!("t{t}"), "user_emails", "value_folded");
        }
        assert_eq!(samples.kept.lock().len(), COLUMNS);
        conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    }

    /// A new process samples the indexed columns of the tenants with at least `WARM_MIN`
    /// resources of a type (by the month rows of `created_counts`), largest first, up to
    /// `COLUMNS` columns.
    #[test]
    fn a_new_process_samples_the_largest_tenants_columns() {
        use diesel::connection::SimpleConnection;
        let Some((mut conn, schema)) = postgres() else {
            return;
        };
        conn.batch_execute(
            "CREATE TABLE users (tenant_id TEXT NOT NULL, user_name_folded TEXT,
                 display_name_folded TEXT);
             CREATE TABLE groups (tenant_id TEXT NOT NULL, display_name_folded TEXT);
             CREATE TABLE created_counts (tenant_id TEXT NOT NULL, resource_type TEXT NOT NULL,
                 level BIGINT NOT NULL, prefix TEXT NOT NULL, shard BIGINT NOT NULL,
                 n BIGINT NOT NULL);
             INSERT INTO users SELECT 't1', 'u' || i, 'd' || i FROM generate_series(0, 999) i;
             -- Shards of a month add up; day rows are not counted again.
             INSERT INTO created_counts VALUES
                 ('t1', 'User', 7, '2026-12', 0, 60000), ('t1', 'User', 7, '2026-12', 1, 40000),
                 ('t2', 'User', 7, '2026-12', 0, 90000), ('t3', 'User', 7, '2026-11', 0, 80000),
                 ('t4', 'User', 7, '2026-12', 0, 70000), ('t5', 'Group', 7, '2026-12', 0, 60000),
                 ('t6', 'User', 7, '2026-12', 0, 50000), ('t7', 'User', 7, '2026-12', 0, 40000),
                 ('small', 'User', 7, '2026-12', 0, 9999),
                 ('small', 'User', 10, '2026-12-07', 0, 9999);
             ANALYZE;",
        )
        .unwrap();
        let samples = Samples::default();
        assert_eq!(samples.warm(&mut conn).unwrap(), COLUMNS);
        let kept = samples.kept.lock().keys().cloned().collect::<Vec<_>>();
        assert_eq!(kept.len(), COLUMNS);
        let user_columns = [
            ("users", "user_name_folded"),
            ("users", "display_name_folded"),
            ("user_emails", "value_folded"),
        ];
        for tenant in ["t1", "t2", "t3", "t4", "t6"] {
            for (table, column) in user_columns {
                assert!(
                    kept.contains(&(tenant.to_owned(), table, column)),
                    "{tenant}"
                );
            }
        }
        assert!(kept.contains(&("t5".to_owned(), "groups", "display_name_folded")));
        // Counts taken at start are the ones requests use.
        let t1 = samples.kept.lock()[&("t1".to_owned(), "users", "user_name_folded")]
            .1
            .clone();
        assert_eq!(t1.rows, 1_000);
        let again = samples
            .counts(&mut conn, "t1", "users", "user_name_folded")
            .unwrap();
        assert!(Arc::ptr_eq(&t1, &again));
        conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    }

    /// The statistics query reads a real FTS5 index, and its plan finds the row.
    #[test]
    fn an_fts5_index_yields_a_plan_that_finds_the_rows() {
        use diesel::connection::SimpleConnection;
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE VIRTUAL TABLE t_trigram USING fts5(v, tokenize = 'trigram');
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999)
             INSERT INTO t_trigram (v) SELECT printf('user%05d@corp.example', i) FROM n;",
        )
        .unwrap();
        let plan = rare_match(&mut conn, "t_trigram", "v", "01234@corp").unwrap();
        assert!(plan.starts_with("v : \""), "{plan}");
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            v: String,
        }
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT v FROM t_trigram WHERE t_trigram MATCH ? AND v LIKE '%01234@corp%'",
        )
        .bind::<Text, _>(&plan)
        .load(&mut conn)
        .unwrap();
        assert_eq!(
            rows.into_iter().map(|r| r.v).collect::<Vec<_>>(),
            ["user01234@corp.example"]
        );
        // No trigram index of that name: no plan, and LIKE alone answers.
        assert_eq!(rare_match(&mut conn, "missing_trigram", "v", "01234"), None);
    }

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
        assert_eq!(
            choose(spans(&[("cor", 745), ("orp", 747), ("rp.", 800)]), "c"),
            None
        );
        assert_eq!(choose(Vec::new(), "c"), None);
    }

    #[test]
    fn the_longest_run_of_rare_trigrams_is_searched_for() {
        assert_eq!(words("0512345@Corp.x"), ["0512345", "corp"]);
        assert_eq!(words("zoë-ab"), ["zoë"]);
        let rows: Vec<String> = (0..3_000)
            .map(|i| format!("p{i:05}@corp.example"))
            .chain((0..100).map(|i| format!("x000{i}@corp.example")))
            .collect();
        let w = |s: &[&str]| s.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let counts = Counts::of_rows(&rows);
        let part = |words: &[&str]| choose_part(&w(words), &counts);
        // `p01` and `012` are in a hundred rows and more: `1234` is what is rare.
        assert_eq!(part(&["p01234", "corp"]), Some("1234".to_owned()));
        // `000` is in the 100 `x000` rows, over the 62 that make a trigram common here.
        assert_eq!(part(&["x00031", "corp"]), None);
        assert_eq!(part(&["p02000", "p01230", "corp"]), Some("1230".to_owned()));
        assert_eq!(part(&["p01234"]), Some("1234".to_owned()));
        // Common words only, or a part no rarer than the whole: the whole pattern it is.
        assert_eq!(part(&["corp", "example"]), None);
        assert_eq!(part(&["1234"]), None);
    }
}
