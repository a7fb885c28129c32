//! Tenant-defined extensions in the database: the catalog (`extensions`), the DDL that gives
//! each declared attribute a typed, indexed column in the extension's own table, and the rows
//! holding each resource's values. Table and column names are generated here (`ext_<hex>`,
//! `c<N>`), never taken from tenant input.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Text;
use scim_core::Error;
use scim_core::extension::{self, Merge};
use scim_core::resource::{ColumnValue, ExtensionRow};
use scim_core::schema::{AttrType, Attribute, Registry, ResourceKind, Schema, Uniqueness};
use scim_core::store::{AuditEvent, Author, Tx};

use crate::connection::AnyConnection;
use crate::error::{Error as StoreError, db};
use crate::schema::{extensions, tenants};
use crate::sql_filter::{Dialect, Part, Sql, json_path, name, pg_path};
use crate::tx::DieselTx;

/// Columns one extension table may ever have been given, removed ones included.
const MAX_COLUMNS: i64 = 1000;
/// Values per multi-row INSERT, well below SQLite's bound-parameter limit.
const CHUNK: usize = 300;
/// Bound values per multi-row INSERT of extension rows, under SQLite's limit of 32,766.
const MAX_PARAMS: usize = 30_000;

/// The catalog's `layout` of tables that hold each resource's `meta.created` and order their
/// non-unique indexes by it (migration 000009); older tables are brought to it by `upgrade`.
const ORDERED: i64 = 2;

/// A catalog row: resource type, table, next column number, document, columns, layout.
type CatalogRow = (String, String, i64, String, String, i64);

/// One declared extension as the catalog holds it.
struct Declared {
    kind: ResourceKind,
    schema: Schema,
    next_column: i64,
}

fn kind_of(name: &str) -> Result<ResourceKind, Error> {
    match name {
        "User" => Ok(ResourceKind::User),
        "Group" => Ok(ResourceKind::Group),
        other => Err(Error::internal_msg(format!(
            "unknown resource type '{other}' in the extension catalog"
        ))),
    }
}

fn table_of(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "users",
        ResourceKind::Group => "groups",
    }
}

fn declared(row: CatalogRow) -> Result<Declared, Error> {
    let (kind, table, next_column, document, columns, layout) = row;
    let document: serde_json::Value = serde_json::from_str(&document).map_err(Error::internal)?;
    let columns: BTreeMap<String, String> =
        serde_json::from_str(&columns).map_err(Error::internal)?;
    let mut schema = Schema::from_document(document)?;
    schema.table = Some(table);
    schema.ordered = layout >= ORDERED;
    for attr in &mut schema.attributes {
        attr.column = columns.get(&attr.name).cloned();
    }
    Ok(Declared {
        kind: kind_of(&kind)?,
        schema,
        next_column,
    })
}

fn catalog(conn: &mut AnyConnection, tenant: &str) -> Result<Vec<Declared>, Error> {
    let rows: Vec<CatalogRow> = extensions::table
        .filter(extensions::tenant_id.eq(tenant))
        .order(extensions::urn_folded.asc())
        .select((
            extensions::resource_type,
            extensions::table_name,
            extensions::next_column,
            extensions::document,
            extensions::column_names,
            extensions::layout,
        ))
        .load(conn)
        .map_err(db)?;
    rows.into_iter().map(declared).collect()
}

/// A tenant's extensions, each with its table and columns.
pub fn load(conn: &mut AnyConnection, tenant: &str) -> Result<Vec<(ResourceKind, Schema)>, Error> {
    Ok(catalog(conn, tenant)?
        .into_iter()
        .map(|d| (d.kind, d.schema))
        .collect())
}

/// Serialises schema changes of one tenant across server processes on PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already holds the database's write lock.
fn lock(conn: &mut AnyConnection, tenant: &str) -> Result<(), Error> {
    if let AnyConnection::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<Text, _>(tenant)
            .execute(c)
            .map_err(db)?;
    }
    Ok(())
}

fn exec(conn: &mut AnyConnection, sql: &str) -> Result<(), Error> {
    diesel::sql_query(sql).execute(conn).map_err(db)?;
    Ok(())
}

fn sql_type(dialect: Dialect, kind: AttrType) -> &'static str {
    match (kind, dialect) {
        (AttrType::Boolean, _) => "BOOLEAN",
        (AttrType::Integer, _) => "BIGINT",
        (AttrType::Decimal, _) => "DOUBLE PRECISION",
        (AttrType::DateTime, Dialect::Postgres) => "TIMESTAMPTZ",
        // Byte order, as SQLite compares: only then may a B-tree serve a prefix there
        // (`bytewise` brings older columns to it).
        (_, Dialect::Postgres) => "TEXT COLLATE \"C\"",
        // SQLite has no time type: fixed-width UTC text sorts in time order.
        (_, Dialect::Sqlite) => "TEXT",
    }
}

fn column_of(attr: &Attribute) -> Result<&str, Error> {
    attr.column
        .as_deref()
        .ok_or_else(|| Error::internal_msg(format!("'{}' has no column", attr.name)))
        .and_then(name)
}

/// The (tenant, value) index of a column: unique for `uniqueness: server`, else, in an
/// `ordered` table, followed by the default order (created, id), so that a page of the
/// resources holding a value is the index's first entries for it. Folded values make it the
/// case-folded index of a `caseExact: false` string.
fn index(
    conn: &mut AnyConnection,
    table: &str,
    attr: &Attribute,
    ordered: bool,
) -> Result<(), Error> {
    let column = column_of(attr)?;
    let (unique, order) = match (attr.uniqueness == Uniqueness::Server, ordered) {
        (true, _) => ("UNIQUE ", ""),
        (false, true) => ("", ", created, id"),
        (false, false) => ("", ""),
    };
    diesel::sql_query(format!(
        "CREATE {unique}INDEX {table}_{column} ON {table} (tenant_id, {column}{order})"
    ))
    .execute(conn)
    .map_err(|e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            Error::Uniqueness(format!(
                "'{}' cannot become unique: resources already share values of it",
                attr.name
            ))
        }
        other => db(other),
    })?;
    Ok(())
}

/// The trigger that fills `created` in rows written without it, by server processes older than
/// the column, which run beside new ones while a release rolls out. New processes write it
/// themselves, so for them the trigger stops at its `WHEN`.
fn fill_created(conn: &mut AnyConnection, table: &str, parent: &str) -> Result<(), Error> {
    let trigger = format!("{table}_created");
    match Dialect::of(conn) {
        Dialect::Sqlite => exec(
            conn,
            &format!(
                "CREATE TRIGGER IF NOT EXISTS {trigger} AFTER INSERT ON {table} WHEN NEW.created IS NULL \
                 BEGIN UPDATE {table} SET created = (SELECT created FROM {parent} \
                 WHERE tenant_id = NEW.tenant_id AND id = NEW.id) \
                 WHERE tenant_id = NEW.tenant_id AND id = NEW.id; END"
            ),
        ),
        // Not `CREATE OR REPLACE TRIGGER`, which PostgreSQL 13 and older lack.
        Dialect::Postgres => {
            exec(
                conn,
                &format!("DROP TRIGGER IF EXISTS {trigger} ON {table}"),
            )?;
            exec(
                conn,
                &format!(
                    "CREATE TRIGGER {trigger} BEFORE INSERT ON {table} FOR EACH ROW \
                     WHEN (NEW.created IS NULL) \
                     EXECUTE FUNCTION scim_extension_created('{parent}')"
                ),
            )
        }
    }
}

/// Brings the extension tables made before migration 000009 to its layout, each in its own
/// transaction under its tenant's schema lock: adds `created`, copies it from the resources,
/// adds `fill_created`'s trigger, and rebuilds the non-unique indexes to end in (created, id).
/// A process that finds a table already done (another one starting at the same moment) leaves
/// it. Runs when the store opens, before anything is served; returns how many it upgraded.
///
/// On PostgreSQL the copy leaves a dead version of every row, and until a vacuum marks the
/// table's pages all-visible, counts through the new index visit the table too: at a million
/// rows `costCenter eq` answered 270 requests a second right after the upgrade, 420 after
/// `ANALYZE`, 940 after `VACUUM`. So each upgraded table is vacuumed and analysed at once (2 s
/// at a million rows) rather than whenever autovacuum comes by.
pub fn upgrade(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    let old: Vec<(String, String)> = extensions::table
        .filter(extensions::layout.lt(ORDERED))
        .select((extensions::tenant_id, extensions::urn_folded))
        .load(conn)?;
    let mut upgraded = 0;
    for (tenant, urn) in &old {
        let done = crate::connection::transaction(conn, true, None, |c| {
            upgrade_table(c, tenant, urn).map_err(|e| {
                StoreError::Migration(format!("extension table of {urn} (tenant {tenant}): {e}"))
            })
        })?;
        let Some(table) = done else { continue };
        upgraded += 1;
        if let AnyConnection::Postgres(c) = conn {
            // Outside the transaction, as VACUUM must be.
            diesel::sql_query(format!("VACUUM (ANALYZE) {table}")).execute(c)?;
        }
    }
    Ok(upgraded)
}

/// Upgrades one extension's table; returns its name, or `None` when it was done already.
fn upgrade_table(
    conn: &mut AnyConnection,
    tenant: &str,
    urn: &str,
) -> Result<Option<String>, Error> {
    lock(conn, tenant)?;
    let Some(current) = catalog(conn, tenant)?
        .into_iter()
        .find(|d| d.schema.id.eq_ignore_ascii_case(urn) && !d.schema.ordered)
    else {
        return Ok(None);
    };
    let table = current
        .schema
        .table
        .as_deref()
        .ok_or_else(|| Error::internal_msg("extension without a table"))
        .and_then(name)?;
    let parent = table_of(current.kind);
    // Present already when the migration was reverted and run again.
    if !has_created(conn, table)? {
        exec(
            conn,
            &format!("ALTER TABLE {table} ADD COLUMN created TEXT"),
        )?;
    }
    exec(
        conn,
        &format!(
            "UPDATE {table} SET created = (SELECT created FROM {parent} \
             WHERE {parent}.tenant_id = {table}.tenant_id AND {parent}.id = {table}.id)"
        ),
    )?;
    fill_created(conn, table, parent)?;
    for attr in current
        .schema
        .attributes
        .iter()
        .filter(|a| !a.multi_valued && a.uniqueness != Uniqueness::Server)
    {
        exec(
            conn,
            &format!("DROP INDEX IF EXISTS {table}_{}", column_of(attr)?),
        )?;
        index(conn, table, attr, true)?;
    }
    diesel::update(
        extensions::table
            .filter(extensions::tenant_id.eq(tenant))
            .filter(extensions::urn_folded.eq(urn)),
    )
    .set(extensions::layout.eq(ORDERED))
    .execute(conn)
    .map_err(db)?;
    changed_catalog(conn, tenant)?;
    Ok(Some(table.to_owned()))
}

#[derive(QueryableByName)]
struct TextColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The text columns of extension tables (values of single-valued attributes, and the `value`
/// of a multi-valued attribute's table) not yet in byte order, of `table` or of all tables.
fn collated_columns(
    conn: &mut diesel::PgConnection,
    table: Option<&str>,
) -> Result<Vec<TextColumn>, DieselError> {
    diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name ~ '^ext_[0-9a-f]{16}(_c[0-9]+)?$' AND ($1 IS NULL OR table_name = $1) \
         AND data_type = 'text' AND column_name ~ '^(c[0-9]+|value)$' \
         AND collation_name IS DISTINCT FROM 'C' ORDER BY table_name, column_name",
    )
    .bind::<diesel::sql_types::Nullable<Text>, _>(table)
    .load(conn)
}

/// On PostgreSQL, brings the text columns of extension tables made in the database's collation
/// (before byte order, or by an older process while a release rolls out) to byte order, as
/// `sql_type` makes new ones, rebuilding their indexes: in the database's collation (`C.UTF-8`
/// here) PostgreSQL reads no prefix from a B-tree, and `costCenter sw "cc-01"` read the whole
/// table. Each table in its own transaction, locked first, so that reads of other tables go
/// on and two processes starting together convert it once. A table that cannot be converted
/// (removed meanwhile, say) is logged and left: filters on it stay right, only slower. Runs
/// when the store opens; returns how many tables it converted.
pub fn bytewise(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    let AnyConnection::Postgres(pg) = conn else {
        return Ok(0);
    };
    let mut tables: Vec<String> = collated_columns(pg, None)?
        .into_iter()
        .map(|c| c.table_name)
        .collect();
    // In table order (the query's), so each table once.
    tables.dedup();
    let mut converted = 0;
    // The names are generated ones (`ext_<hex>`, `c<N>`, `value`), as the query's patterns
    // check.
    for table in &tables {
        let done = pg.transaction(|pg| {
            diesel::sql_query(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                .execute(pg)?;
            let columns = collated_columns(pg, Some(table))?;
            for c in &columns {
                diesel::sql_query(format!(
                    "ALTER TABLE {table} ALTER COLUMN {} TYPE TEXT COLLATE \"C\"",
                    c.column_name
                ))
                .execute(pg)?;
            }
            Ok::<_, DieselError>(!columns.is_empty())
        });
        match done {
            Ok(changed) => converted += usize::from(changed),
            Err(e) => tracing::warn!(table, error = %e, "extension text columns left as they are"),
        }
    }
    Ok(converted)
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn has_created(conn: &mut AnyConnection, table: &str) -> Result<bool, Error> {
    let sql = match Dialect::of(conn) {
        Dialect::Sqlite => "SELECT COUNT(*) AS n FROM pragma_table_info(?) WHERE name = 'created'",
        Dialect::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.columns WHERE \
             table_schema = current_schema() AND table_name = $1 AND column_name = 'created'"
        }
    };
    let found: Found = diesel::sql_query(sql)
        .bind::<Text, _>(table)
        .get_result(conn)
        .map_err(db)?;
    Ok(found.n > 0)
}

fn save(
    conn: &mut AnyConnection,
    tenant: &str,
    kind: ResourceKind,
    schema: &Schema,
    next_column: i64,
    new: bool,
) -> Result<(), Error> {
    let table = schema
        .table
        .as_deref()
        .ok_or_else(|| Error::internal_msg("extension without a table"))?;
    let columns: BTreeMap<&str, &str> = schema
        .attributes
        .iter()
        .filter_map(|a| Some((a.name.as_str(), a.column.as_deref()?)))
        .collect();
    let document = serde_json::to_string(&schema.document).map_err(Error::internal)?;
    let columns = serde_json::to_string(&columns).map_err(Error::internal)?;
    let urn = schema.id.to_lowercase();
    if new {
        diesel::insert_into(extensions::table)
            .values((
                extensions::tenant_id.eq(tenant),
                extensions::urn_folded.eq(&urn),
                extensions::resource_type.eq(kind.name()),
                extensions::table_name.eq(table),
                extensions::next_column.eq(next_column),
                extensions::document.eq(&document),
                extensions::column_names.eq(&columns),
                extensions::layout.eq(ORDERED),
            ))
            .execute(conn)
            .map_err(db)?;
    } else {
        diesel::update(
            extensions::table
                .filter(extensions::tenant_id.eq(tenant))
                .filter(extensions::urn_folded.eq(&urn)),
        )
        .set((
            extensions::next_column.eq(next_column),
            extensions::document.eq(&document),
            extensions::column_names.eq(&columns),
        ))
        .execute(conn)
        .map_err(db)?;
    }
    Ok(())
}

/// Raises the tenant's catalog version, so every process reloads its schemas.
fn changed_catalog(conn: &mut AnyConnection, tenant: &str) -> Result<(), Error> {
    diesel::update(tenants::table.filter(tenants::id.eq(tenant)))
        .set(tenants::catalog_version.eq(tenants::catalog_version + 1))
        .execute(conn)
        .map_err(db)?;
    Ok(())
}

fn audit(
    conn: &mut AnyConnection,
    tenant: &str,
    by: &Author<'_>,
    event: (&str, &str, Vec<String>),
) -> Result<(), Error> {
    let (action, urn, attributes) = event;
    // An audit row only: no search needs the store's trigram counts.
    let plans = crate::tx::Plans::default();
    let mut tx = DieselTx::new(conn, tenant, true, &plans);
    tx.audit(&AuditEvent {
        id: scim_core::resource::new_id(),
        at: scim_core::render::timestamp(&by.at),
        actor: by.actor.to_owned(),
        action: action.to_owned(),
        resource_type: "Schema".into(),
        resource_id: urn.to_owned(),
        attributes,
    })?;
    tx.flush()
}

/// Declares or extends an extension: new attributes get a column and an index, changed
/// uniqueness rebuilds the index, and the catalog row changes, all in the caller's transaction.
pub fn apply(
    conn: &mut AnyConnection,
    tenant: &str,
    kind: ResourceKind,
    declared: Schema,
    by: &Author<'_>,
) -> Result<(Schema, bool), Error> {
    lock(conn, tenant)?;
    let all = catalog(conn, tenant)?;
    let registry =
        Registry::with_extensions(all.iter().map(|d| (d.kind, d.schema.clone())).collect());
    let current = all
        .iter()
        .find(|d| d.kind == kind && d.schema.id.eq_ignore_ascii_case(&declared.id));
    let Merge {
        mut schema,
        added,
        reindexed,
    } = extension::merge(&registry, kind, current.map(|d| &d.schema), declared)?;
    let dialect = Dialect::of(conn);
    // A table made by an older server process and not yet upgraded has no `created`.
    let ordered = current.is_none_or(|d| d.schema.ordered);
    let (table, mut next_column) = match current {
        Some(d) => (
            d.schema
                .table
                .clone()
                .ok_or_else(|| Error::internal_msg("extension without a table"))?,
            d.next_column,
        ),
        None => {
            let hex: String = scim_core::resource::new_id()
                .chars()
                .filter(char::is_ascii_hexdigit)
                .take(16)
                .collect();
            let table = format!("ext_{hex}");
            let parent = table_of(kind);
            // Deleting a resource deletes its row here (one index probe).
            exec(
                conn,
                &format!(
                    "CREATE TABLE {table} (tenant_id TEXT NOT NULL, id TEXT NOT NULL, \
                     created TEXT, PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, id) \
                     REFERENCES {parent} (tenant_id, id) ON DELETE CASCADE)"
                ),
            )?;
            fill_created(conn, &table, parent)?;
            (table, 1)
        }
    };
    if next_column + i64::try_from(added.len()).unwrap_or(i64::MAX) > MAX_COLUMNS {
        // Dropped columns still count against PostgreSQL's 1,600 per table.
        return Err(Error::InvalidValue(format!(
            "the extension \"{}\" has used up its {MAX_COLUMNS} columns (removed attributes \
             count); remove the extension and declare it again",
            schema.id
        )));
    }
    schema.table = Some(table.clone());
    schema.ordered = ordered;
    let parent = table_of(kind);
    for attr in &mut schema.attributes {
        if !added.contains(&attr.name) {
            continue;
        }
        let column = format!("c{next_column}");
        next_column += 1;
        let kind = sql_type(dialect, attr.kind);
        if attr.multi_valued {
            // One row per value in a table of its own; the attribute names that table.
            let values = format!("{table}_{column}");
            exec(
                conn,
                &format!(
                    "CREATE TABLE {values} (tenant_id TEXT NOT NULL, id TEXT NOT NULL, \
                     value {kind} NOT NULL, PRIMARY KEY (tenant_id, id, value), \
                     FOREIGN KEY (tenant_id, id) REFERENCES {parent} (tenant_id, id) \
                     ON DELETE CASCADE)"
                ),
            )?;
            exec(
                conn,
                &format!("CREATE INDEX {values}_value ON {values} (tenant_id, value)"),
            )?;
            attr.column = Some(values);
            continue;
        }
        exec(
            conn,
            &format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"),
        )?;
        attr.column = Some(column);
        index(conn, &table, attr, ordered)?;
    }
    for attr in schema
        .attributes
        .iter()
        .filter(|a| reindexed.contains(&a.name) && !a.multi_valued)
    {
        exec(
            conn,
            &format!("DROP INDEX IF EXISTS {table}_{}", column_of(attr)?),
        )?;
        index(conn, &table, attr, ordered)?;
    }
    let new = current.is_none();
    save(conn, tenant, kind, &schema, next_column, new)?;
    changed_catalog(conn, tenant)?;
    let mut changed = added;
    changed.extend(reindexed);
    audit(conn, tenant, by, ("declare", &schema.id, changed))?;
    Ok((schema, new))
}

/// Removes an extension (`attribute` `None`) or one attribute of it, with every value it held:
/// the values leave the resources' documents (whose versions change), an extension left empty
/// leaves them too, then the column or tables are dropped. `false` when there is no such
/// extension or attribute.
pub fn remove(
    conn: &mut AnyConnection,
    tenant: &str,
    kind: ResourceKind,
    urn: &str,
    attribute: Option<&str>,
    by: &Author<'_>,
) -> Result<bool, Error> {
    lock(conn, tenant)?;
    let Some(current) = catalog(conn, tenant)?
        .into_iter()
        .find(|d| d.kind == kind && d.schema.id.eq_ignore_ascii_case(urn))
    else {
        return Ok(false);
    };
    let schema = current.schema;
    let table = schema
        .table
        .clone()
        .ok_or_else(|| Error::internal_msg("extension without a table"))?;
    let table = name(&table)?;
    let strip = Strip {
        dialect: Dialect::of(conn),
        tenant,
        resources: table_of(kind),
        urn: &schema.id,
        at: scim_core::render::timestamp(&by.at),
    };
    let lists = |attrs: &[Attribute]| -> Result<Vec<String>, Error> {
        attrs
            .iter()
            .filter(|a| a.multi_valued)
            .map(|a| column_of(a).map(str::to_owned))
            .collect()
    };
    let Some(attribute) = attribute else {
        let mut holders = vec![format!("SELECT id FROM {table}")];
        let lists = lists(&schema.attributes)?;
        holders.extend(lists.iter().map(|l| format!("SELECT id FROM {l}")));
        strip.run(conn, None, &holders.join(" UNION "))?;
        for l in &lists {
            exec(conn, &format!("DROP TABLE {l}"))?;
        }
        exec(conn, &format!("DROP TABLE {table}"))?;
        diesel::delete(
            extensions::table
                .filter(extensions::tenant_id.eq(tenant))
                .filter(extensions::urn_folded.eq(schema.id.to_lowercase())),
        )
        .execute(conn)
        .map_err(db)?;
        changed_catalog(conn, tenant)?;
        audit(conn, tenant, by, ("remove", &schema.id, Vec::new()))?;
        return Ok(true);
    };
    let Some((mut rest, gone)) = extension::without(&schema, attribute) else {
        return Ok(false);
    };
    let column = column_of(&gone)?;
    let holders = if gone.multi_valued {
        format!("SELECT id FROM {column}")
    } else {
        format!("SELECT id FROM {table} WHERE {column} IS NOT NULL")
    };
    strip.run(conn, Some(&gone.name), &holders)?;
    strip.run_emptied(conn, &holders)?;
    if gone.multi_valued {
        exec(conn, &format!("DROP TABLE {column}"))?;
    } else {
        exec(conn, &format!("DROP INDEX IF EXISTS {table}_{column}"))?;
        exec(conn, &format!("ALTER TABLE {table} DROP COLUMN {column}"))?;
        // Rows left without any value go, as writes leave none.
        let singular: Vec<String> = rest
            .attributes
            .iter()
            .filter(|a| !a.multi_valued)
            .map(|a| column_of(a).map(|c| format!("{c} IS NULL")))
            .collect::<Result<_, _>>()?;
        let empty = if singular.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", singular.join(" AND "))
        };
        exec(conn, &format!("DELETE FROM {table}{empty}"))?;
    }
    rest.table = Some(table.to_owned());
    save(conn, tenant, kind, &rest, current.next_column, false)?;
    changed_catalog(conn, tenant)?;
    audit(
        conn,
        tenant,
        by,
        ("remove", &schema.id, vec![gone.name.clone()]),
    )?;
    Ok(true)
}

/// Takes an extension, or one of its attributes, out of stored resource documents; each
/// changed resource gets a new version and `lastModified`, so delta syncs see the change.
struct Strip<'a> {
    dialect: Dialect,
    tenant: &'a str,
    resources: &'static str,
    urn: &'a str,
    at: String,
}

impl Strip<'_> {
    /// Updates the resources whose ids `ids` (a subquery) selects.
    fn run(
        &self,
        conn: &mut AnyConnection,
        attribute: Option<&str>,
        ids: &str,
    ) -> Result<(), Error> {
        let t = self.resources;
        let urn = name(self.urn)?;
        let set = match (self.dialect, attribute) {
            (Dialect::Sqlite, None) => format!(
                "data = json_remove(data, '{}'), {}",
                json_path(None, urn, None)?,
                self.without_urn()?
            ),
            (Dialect::Sqlite, Some(a)) => {
                format!(
                    "data = json_remove(data, '{}')",
                    json_path(Some(urn), a, None)?
                )
            }
            (Dialect::Postgres, None) => format!(
                "data = (data::jsonb #- '{}')::text, {}",
                pg_path(None, urn, None)?,
                self.without_urn()?
            ),
            (Dialect::Postgres, Some(a)) => {
                format!(
                    "data = (data::jsonb #- '{}')::text",
                    pg_path(Some(urn), a, None)?
                )
            }
        };
        let mut sql = Sql::default();
        sql.push(&format!(
            "UPDATE {t} SET {set}, version = version + 1, last_modified = "
        ))
        .bind(Part::Str(self.at.clone()))
        .push(" WHERE tenant_id = ")
        .bind(Part::Str(self.tenant.to_owned()))
        .push(&format!(" AND id IN ({ids})"));
        sql.execute(conn).map_err(db)?;
        Ok(())
    }

    /// Of the resources `ids` selects, those whose extension object is now empty lose it and
    /// its URN in `schemas` (their version already moved with the value).
    fn run_emptied(&self, conn: &mut AnyConnection, ids: &str) -> Result<(), Error> {
        let t = self.resources;
        let urn = name(self.urn)?;
        let (drop, empty) = match self.dialect {
            Dialect::Sqlite => {
                let path = json_path(None, urn, None)?;
                (
                    format!("data = json_remove(data, '{path}')"),
                    format!("json_extract(data, '{path}') = '{{}}'"),
                )
            }
            Dialect::Postgres => {
                let path = pg_path(None, urn, None)?;
                (
                    format!("data = (data::jsonb #- '{path}')::text"),
                    format!("data::jsonb #> '{path}' = '{{}}'::jsonb"),
                )
            }
        };
        let mut sql = Sql::default();
        sql.push(&format!(
            "UPDATE {t} SET {drop}, {} WHERE tenant_id = ",
            self.without_urn()?
        ))
        .bind(Part::Str(self.tenant.to_owned()))
        .push(&format!(" AND id IN ({ids}) AND {empty}"));
        sql.execute(conn).map_err(db)?;
        Ok(())
    }

    /// `schemas = ` the list without the extension's URN.
    fn without_urn(&self) -> Result<String, Error> {
        let t = self.resources;
        let urn = name(self.urn)?;
        Ok(match self.dialect {
            Dialect::Sqlite => format!(
                "schemas = (SELECT json_group_array(value) FROM json_each({t}.schemas) \
                 WHERE value <> '{urn}')"
            ),
            Dialect::Postgres => format!(
                "schemas = (SELECT COALESCE(jsonb_agg(v), '[]'::jsonb) FROM \
                 jsonb_array_elements_text({t}.schemas::jsonb) v WHERE v <> '{urn}')::text"
            ),
        })
    }
}

/// New resources' extension rows by table and columns (one multi-row INSERT each): each with
/// its resource's id and `meta.created`.
type Shapes<'r> = BTreeMap<(&'r str, Vec<&'r str>), Vec<(&'r str, &'r str, &'r ExtensionRow)>>;

/// A new resource's extension rows: its id, its `meta.created` as the store writes it, and
/// the rows.
pub type NewRows<'r> = (&'r str, &'r str, &'r [ExtensionRow]);

/// Writes the extension rows of new resources, many a statement: the rows of one table with
/// the same columns go into one multi-row INSERT (a resource without a singular value gets no
/// row). Multi-valued attributes' rows are written per resource.
pub fn insert_new(
    conn: &mut AnyConnection,
    tenant: &str,
    kind: ResourceKind,
    resources: &[NewRows<'_>],
) -> Result<(), Error> {
    let dialect = Dialect::of(conn);
    let mut by_shape = Shapes::new();
    for (id, created, rows) in resources {
        for row in *rows {
            for (values, items) in &row.lists {
                write_list(conn, dialect, tenant, id, name(values)?, items, true)?;
            }
            if row.values.iter().all(|(_, v)| *v == ColumnValue::Null) {
                continue;
            }
            let columns = row
                .values
                .iter()
                .map(|(c, _)| name(c))
                .collect::<Result<Vec<_>, _>>()?;
            by_shape
                .entry((name(&row.table)?, columns))
                .or_default()
                .push((id, created, row));
        }
    }
    for ((table, columns), rows) in &by_shape {
        // Counting `created` whether or not the table has it: a few rows fewer at most.
        let per_statement = (MAX_PARAMS / (3 + columns.len())).clamp(1, CHUNK);
        // Every row of a table has its layout.
        let ordered = rows.first().is_some_and(|(_, _, row)| row.ordered);
        for chunk in rows.chunks(per_statement) {
            let mut sql = Sql::default();
            sql.push(&format!("INSERT INTO {table} (tenant_id, id"));
            if ordered {
                sql.push(", created");
            }
            for c in columns {
                sql.push(&format!(", {c}"));
            }
            sql.push(") VALUES ");
            for (i, (id, created, row)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .bind(Part::Str(tenant.to_owned()))
                    .push(", ")
                    .bind(Part::Str((*id).to_owned()));
                if ordered {
                    sql.push(", ").bind(Part::Str((*created).to_owned()));
                }
                for (_, value) in &row.values {
                    sql.push(", ");
                    push_value(&mut sql, dialect, value);
                }
                sql.push(")");
            }
            let urn = chunk.first().map(|(_, _, row)| row.urn.as_str());
            sql.execute(conn)
                .map_err(|e| unique_value(e, kind, urn.unwrap_or_default()))?;
        }
    }
    Ok(())
}

/// A refused write of extension values: a unique attribute's value taken, or another failure.
fn unique_value(e: DieselError, kind: ResourceKind, urn: &str) -> Error {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            Error::Uniqueness(format!(
                "another {} already has this value of a unique attribute of {urn}",
                kind.name(),
            ))
        }
        other => db(other),
    }
}

/// Replaces a resource's extension rows: each multi-valued attribute's rows, and an upsert of
/// every singular column, or, when the resource holds no singular value, no row at all.
/// `created` is the resource's `meta.created` as the store writes it.
pub fn write_rows(
    conn: &mut AnyConnection,
    tenant: &str,
    kind: ResourceKind,
    (id, created, rows): NewRows<'_>,
) -> Result<(), Error> {
    let dialect = Dialect::of(conn);
    for row in rows {
        for (values, items) in &row.lists {
            write_list(conn, dialect, tenant, id, name(values)?, items, false)?;
        }
        let table = name(&row.table)?;
        let assigned = row.values.iter().any(|(_, v)| *v != ColumnValue::Null);
        let mut sql = Sql::default();
        if !assigned {
            sql.push(&format!("DELETE FROM {table} WHERE tenant_id = "))
                .bind(Part::Str(tenant.to_owned()))
                .push(" AND id = ")
                .bind(Part::Str(id.to_owned()));
        } else {
            let columns = row
                .values
                .iter()
                .map(|(c, _)| name(c))
                .collect::<Result<Vec<_>, _>>()?;
            sql.push(&format!("INSERT INTO {table} (tenant_id, id"));
            if row.ordered {
                sql.push(", created");
            }
            for c in &columns {
                sql.push(&format!(", {c}"));
            }
            sql.push(") VALUES (")
                .bind(Part::Str(tenant.to_owned()))
                .push(", ")
                .bind(Part::Str(id.to_owned()));
            if row.ordered {
                sql.push(", ").bind(Part::Str(created.to_owned()));
            }
            for (_, value) in &row.values {
                sql.push(", ");
                push_value(&mut sql, dialect, value);
            }
            sql.push(") ON CONFLICT (tenant_id, id) DO ");
            if columns.is_empty() {
                sql.push("NOTHING");
            } else {
                let set: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                sql.push(&format!("UPDATE SET {}", set.join(", ")));
            }
        }
        sql.execute(conn)
            .map_err(|e| unique_value(e, kind, &row.urn))?;
    }
    Ok(())
}

/// Replaces a resource's rows in a multi-valued attribute's table.
fn write_list(
    conn: &mut AnyConnection,
    dialect: Dialect,
    tenant: &str,
    id: &str,
    values: &str,
    items: &[ColumnValue],
    new: bool,
) -> Result<(), Error> {
    if !new {
        let mut sql = Sql::default();
        sql.push(&format!("DELETE FROM {values} WHERE tenant_id = "))
            .bind(Part::Str(tenant.to_owned()))
            .push(" AND id = ")
            .bind(Part::Str(id.to_owned()));
        sql.execute(conn).map_err(db)?;
    }
    for chunk in items.chunks(CHUNK) {
        let mut sql = Sql::default();
        sql.push(&format!(
            "INSERT INTO {values} (tenant_id, id, value) VALUES "
        ));
        for (i, item) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind(Part::Str(tenant.to_owned()))
                .push(", ")
                .bind(Part::Str(id.to_owned()))
                .push(", ");
            push_value(&mut sql, dialect, item);
            sql.push(")");
        }
        sql.execute(conn).map_err(db)?;
    }
    Ok(())
}

/// A typed value, bound (NULL as SQL text, so its type comes from the column).
fn push_value(sql: &mut Sql, dialect: Dialect, value: &ColumnValue) {
    match value {
        ColumnValue::Null => sql.push("NULL"),
        ColumnValue::Text(s) => sql.bind(Part::Str(s.clone())),
        ColumnValue::Bool(b) => sql.bind(Part::Bool(*b)),
        ColumnValue::Int(n) => sql.bind(Part::Int(*n)),
        ColumnValue::Real(n) => sql.bind(Part::Num(*n)),
        ColumnValue::Time(t) if dialect == Dialect::Postgres => sql
            .push("CAST(")
            .bind(Part::Str(t.clone()))
            .push(" AS timestamptz)"),
        ColumnValue::Time(t) => sql.bind(Part::Str(t.clone())),
    };
}
