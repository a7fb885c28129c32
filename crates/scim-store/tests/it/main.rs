//! Store tests on both backends: migrations up, down and up again; the hand-kept `schema.rs`
//! matching the migrated tables; the tenant-first rule for every unique index.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: helpers and macro-generated cases abort loudly on a failed step"
)]

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use scim_store::{AnyConnection, DbUrl, migrate};

mod deep_pages;
mod trigram_index;
mod updates;

/// A new tenant named `name` in `store`.
fn tenant(store: &scim_store::DieselStore, name: &str) -> scim_core::resource::TenantId {
    use scim_core::store::{Store, Tenant};
    let id = scim_core::resource::TenantId(scim_core::resource::new_id());
    store
        .create_tenant(&Tenant {
            id: id.clone(),
            name: name.into(),
            created: scim_core::clock::Clock::now(&scim_core::clock::SystemClock),
            catalog: 0,
        })
        .unwrap();
    id
}

/// The User extension `urn:example:acme:2.0:User` with `attributes`, declared in `tenant`.
fn declare(
    store: &scim_store::DieselStore,
    tenant: &scim_core::resource::TenantId,
    attributes: serde_json::Value,
) -> scim_core::schema::Schema {
    use scim_core::store::{Author, Store};
    let declared = scim_core::extension::declaration(
        "urn:example:acme:2.0:User",
        serde_json::json!({ "attributes": attributes }),
    )
    .unwrap();
    let by = Author {
        actor: "test",
        at: scim_core::clock::Clock::now(&scim_core::clock::SystemClock),
    };
    store
        .apply_extension(tenant, scim_core::schema::ResourceKind::User, declared, &by)
        .unwrap()
        .0
}

/// A fresh database: a temp SQLite file or a PostgreSQL schema (dropped afterwards).
struct Db {
    url: String,
    cleanup: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl Db {
    fn sqlite() -> Db {
        let dir =
            std::env::temp_dir().join(format!("scim-store-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Db {
            url: format!("sqlite://{}/t.db", dir.display()),
            cleanup: None,
            dir: Some(dir),
        }
    }

    fn postgres() -> Option<Db> {
        let base = match std::env::var("SCIM_TEST_POSTGRES_URL") {
            Ok(u) if !u.is_empty() => u,
            _ if std::env::var("CI").is_ok() => panic!("CI needs SCIM_TEST_POSTGRES_URL"),
            _ => return None,
        };
        static EXTENSION: std::sync::Once = std::sync::Once::new();
        EXTENSION.call_once(|| {
            connect(&base)
                .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
                .unwrap();
        });
        let schema = format!("s_{}", uuid::Uuid::new_v4().simple());
        connect(&base)
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Db {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
            cleanup: Some((base, schema)),
            dir: None,
        })
    }

    fn all() -> Vec<Db> {
        std::iter::once(Db::sqlite())
            .chain(Db::postgres())
            .collect()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.cleanup {
            let _ = connect(base).batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn connect(url: &str) -> AnyConnection {
    DbUrl::parse(url).unwrap().connect().unwrap()
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Table and column names, index definitions, triggers and (on PostgreSQL) functions: what
/// up/down/up must reproduce.
fn shape(conn: &mut AnyConnection) -> Vec<String> {
    let sql = match conn {
        AnyConnection::Sqlite(_) => {
            "SELECT m.name || '.' || p.name || ':' || p.type AS name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE '\\_\\_%' ESCAPE '\\' \
             UNION ALL SELECT 'index ' || name || ' ' || COALESCE(sql, '') AS name FROM sqlite_master \
             WHERE type = 'index' AND tbl_name NOT LIKE '\\_\\_%' ESCAPE '\\' \
             UNION ALL SELECT 'trigger ' || name AS name FROM sqlite_master WHERE type = 'trigger'"
        }
        AnyConnection::Postgres(_) => {
            "SELECT table_name || '.' || column_name || ':' || data_type AS name \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name NOT LIKE '\\_\\_%' \
             UNION ALL SELECT 'index ' || indexname || ' ' || indexdef AS name FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_\\_%' \
             UNION ALL SELECT 'trigger ' || t.tgname AS name FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND NOT t.tgisinternal \
             UNION ALL SELECT 'function ' || p.proname AS name FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
        }
    };
    let mut rows: Vec<Name> = diesel::sql_query(sql).load(conn).unwrap();
    rows.sort();
    rows.into_iter().map(|n| n.name).collect()
}

#[test]
fn migrations_run_up_down_up_to_the_same_schema() {
    for db in Db::all() {
        let mut conn = connect(&db.url);
        migrate::run(&mut conn).unwrap();
        let first = shape(&mut conn);
        assert!(
            first
                .iter()
                .any(|c| c.starts_with("users.user_name_folded")),
            "{first:?}"
        );
        migrate::revert_all(&mut conn).unwrap();
        assert!(shape(&mut conn).is_empty(), "down leaves nothing behind");
        migrate::run(&mut conn).unwrap();
        assert_eq!(shape(&mut conn), first);
    }
}

#[test]
fn every_unique_index_starts_with_tenant_id() {
    for db in Db::all() {
        let mut conn = connect(&db.url);
        migrate::run(&mut conn).unwrap();
        let unique: Vec<String> = shape(&mut conn)
            .into_iter()
            .filter(|s| s.starts_with("index ") && s.to_uppercase().contains("UNIQUE"))
            .collect();
        for index in &unique {
            // Global tables are keyed by their own ids; tenants and token hashes are global.
            if index.contains("tenants") || index.contains("tokens") {
                continue;
            }
            let cols = index
                .split_once('(')
                .map(|(_, c)| c.trim())
                .unwrap_or_default();
            assert!(cols.starts_with("tenant_id"), "{index}");
        }
        assert!(unique.len() >= 2, "{unique:?}");
    }
}

#[test]
fn schema_rs_matches_the_migrated_tables() {
    for db in Db::all() {
        let store =
            scim_store::DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
        // Selecting every column of every table through diesel fails if schema.rs drifted.
        scim_store::check_schema(&store).unwrap();
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Commits reach the SQLite database file without a commit checkpointing them: the store's
/// background checkpoint copies the WAL within about a second. Read with `immutable=1`, the file
/// shows only what was checkpointed (the WAL is not consulted).
#[test]
fn sqlite_checkpoints_in_the_background() {
    let db = Db::sqlite();
    let store =
        scim_store::DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
    tenant(&store, "checkpointed");
    let path = db.url.strip_prefix("sqlite://").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut file_only =
            diesel::SqliteConnection::establish(&format!("file:{path}?immutable=1")).unwrap();
        let seen =
            diesel::sql_query("SELECT count(*) AS n FROM tenants WHERE name = 'checkpointed'")
                .get_result::<Count>(&mut file_only)
                .map(|c| c.n);
        if seen == Ok(1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not checkpointed within 10 s: {seen:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(store);
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut AnyConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Found>(conn).unwrap().n
}

/// Migration 000009 reverted and run again over an extension table that already holds
/// `created` (PostgreSQL's down drops the trigger function and with it every table's trigger;
/// SQLite's leaves the triggers): the next start brings the table back to the new layout,
/// trigger included, without adding the column twice.
#[test]
fn extension_tables_survive_the_created_migration_reverted_and_run_again() {
    use scim_store::DieselStore;
    for db in Db::all() {
        let open = || DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
        let store = open();
        let tenant = tenant(&store, "t");
        let schema = declare(
            &store,
            &tenant,
            serde_json::json!([{"name": "costCenter", "type": "string"}]),
        );
        let table = schema.table.unwrap();
        drop(store);
        let trigger = match db.url.starts_with("postgres") {
            true => {
                format!("SELECT COUNT(*) AS n FROM pg_trigger WHERE tgname = '{table}_created'")
            }
            false => format!(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' \
                 AND name = '{table}_created'"
            ),
        };
        let ordered = "SELECT COUNT(*) AS n FROM extensions WHERE layout = 2";
        let mut conn = connect(&db.url);
        assert_eq!(count(&mut conn, &trigger), 1);
        // Back to before 000009 (000010 and 000011 came after it).
        for _ in 0..3 {
            migrate::revert_last(&mut conn).unwrap();
        }
        migrate::run(&mut conn).unwrap();
        assert_eq!(
            count(&mut conn, ordered),
            0,
            "layout 1 after the migration ran again"
        );
        drop(open());
        assert_eq!(count(&mut conn, ordered), 1);
        assert_eq!(count(&mut conn, &trigger), 1);
    }
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// On PostgreSQL the text columns of extension tables are in byte order, as SQLite compares, so
/// that a prefix (`costCenter sw "cc-01"`) is read from their index: columns made now, and
/// columns made in the database's collation (by earlier releases), which the next start
/// converts.
#[test]
fn extension_text_columns_serve_prefixes_from_their_index_on_postgres() {
    use scim_store::DieselStore;
    let Some(db) = Db::postgres() else { return };
    let open = || DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
    let store = open();
    let tenant = tenant(&store, "t");
    let schema = declare(
        &store,
        &tenant,
        serde_json::json!([
            {"name": "costCenter", "type": "string"},
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "badge", "type": "integer"},
        ]),
    );
    drop(store);
    let table = schema.table.unwrap();
    let column = |name: &str| {
        schema
            .attributes
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.column.clone())
            .unwrap()
    };
    let (cost_center, tags) = (column("costCenter"), column("tags"));
    let bytewise = format!(
        "SELECT COUNT(*) AS n FROM information_schema.columns \
         WHERE table_schema = current_schema() AND collation_name = 'C' \
         AND ((table_name = '{table}' AND column_name = '{cost_center}') \
         OR (table_name = '{tags}' AND column_name = 'value'))"
    );
    let mut conn = connect(&db.url);
    assert_eq!(count(&mut conn, &bytewise), 2, "made in byte order");
    conn.batch_execute(&format!(
        "ALTER TABLE {table} ALTER COLUMN {cost_center} TYPE TEXT COLLATE \"default\"; \
         ALTER TABLE {tags} ALTER COLUMN value TYPE TEXT COLLATE \"default\""
    ))
    .unwrap();
    assert_eq!(
        count(&mut conn, &bytewise),
        0,
        "as earlier releases made them"
    );
    drop(open());
    assert_eq!(
        count(&mut conn, &bytewise),
        2,
        "converted at the next start"
    );
    // An empty table is cheaper to scan; the question is whether the index serves the prefix.
    conn.batch_execute("SET enable_seqscan = off").unwrap();
    for (table, column) in [(table.as_str(), cost_center.as_str()), (&tags, "value")] {
        let plan: Vec<PlanLine> = diesel::sql_query(format!(
            "EXPLAIN SELECT COUNT(*) FROM {table} WHERE tenant_id = 't' AND {column} LIKE 'cc-01%'"
        ))
        .load(&mut conn)
        .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|l| l.line).collect();
        assert!(
            plan.iter()
                .any(|l| l.contains("Index Cond") && l.contains(&format!("{column} >= 'cc-01'"))),
            "{plan:#?}"
        );
    }
}
