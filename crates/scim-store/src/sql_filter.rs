//! Core list queries (`scim_core::query`) as SQL: conditions and sort keys rendered as text with
//! bound parameters for every value a client sent. Attribute names in the text come from the
//! schema (checked to be plain names), never from the request. Indexed columns are used where
//! the core names one; other attributes are read from the stored JSON document with each
//! backend's JSON functions, and multi-valued ones match when any element matches.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types;
use scim_core::Error;
use scim_core::query::{Column, Expr, ExtField, Field, Operand, SortKey, SortOrder};
use scim_core::schema::{AttrType, ResourceKind};
use scim_filter_parser::CompareOp;

use std::collections::HashMap;

use crate::connection::AnyConnection;
use crate::prepared::Prepared;

pub(crate) type Db = <AnyConnection as diesel::Connection>::Backend;

/// Which SQL dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (JSON1 functions).
    Sqlite,
    /// PostgreSQL (jsonb operators).
    Postgres,
}

impl Dialect {
    /// The dialect of a connection.
    pub fn of(conn: &AnyConnection) -> Dialect {
        match conn {
            AnyConnection::Sqlite(_) => Dialect::Sqlite,
            AnyConnection::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// One piece of a statement: SQL text, or a value bound as a parameter.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    Text(String),
    Str(String),
    Bool(bool),
    Num(f64),
    Int(i64),
}

/// A piece of SQL with its bound values, usable as a diesel expression.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    parts: Vec<Part>,
    /// Whether statements holding this fragment are prepared afresh each time rather than kept
    /// in the connection's statement cache: on PostgreSQL to plan them with their values
    /// (`Renderer::filter`), on SQLite once the budget of shapes is spent (`prepared`).
    uncached: bool,
    /// The tables, columns and values this fragment matches with `co` or `ew` by a trigram
    /// index: `trigrams` may find each a faster plan (`Renderer::rare`).
    pub substrings: Vec<Substring>,
}

impl Sql {
    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.parts.push(Part::Text(text.to_owned()));
        self
    }

    /// Appends a bound value.
    pub(crate) fn bind(&mut self, value: Part) -> &mut Self {
        self.parts.push(value);
        self
    }

    /// Whether statements holding this fragment are prepared afresh each time.
    pub(crate) fn is_uncached(&self) -> bool {
        self.uncached
    }

    /// The SQL text with `?` for each value: what tells statements apart in the cache.
    fn shape(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Str(_) | Part::Bool(_) | Part::Num(_) | Part::Int(_) => "?",
            })
            .collect()
    }
}

impl Expression for Sql {
    type SqlType = sql_types::Bool;
}

impl<QS> AppearsOnTable<QS> for Sql {}
impl<QS> SelectableExpression<QS> for Sql {}

impl ValidGrouping<()> for Sql {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for Sql {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

// A whole statement can be an `Sql` too (extension rows and DDL-time data changes).
impl diesel::RunQueryDsl<AnyConnection> for Sql {}

impl QueryFragment<Db> for Sql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> diesel::QueryResult<()> {
        if self.uncached {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_sql(t),
                Part::Str(s) => out.push_bind_param::<sql_types::Text, String>(s)?,
                Part::Bool(b) => out.push_bind_param::<sql_types::Bool, bool>(b)?,
                Part::Num(n) => out.push_bind_param::<sql_types::Double, f64>(n)?,
                Part::Int(n) => out.push_bind_param::<sql_types::BigInt, i64>(n)?,
            }
        }
        Ok(())
    }
}

/// An FTS5 trigram index of a column: the table's rowid as the query names it, the index, the
/// column (the same name in both) and the table's name or alias.
struct Trigram<'q> {
    rowid: &'q str,
    table: &'static str,
    column: &'static str,
    qualifier: &'static str,
}

/// Renders filters and sort keys for one table.
pub struct Renderer<'a> {
    /// The dialect.
    pub dialect: Dialect,
    /// Users or Groups.
    pub kind: ResourceKind,
    /// The tenant, for subqueries on side tables.
    pub tenant: &'a str,
    /// Plans for `co`/`ew` values (`trigrams`): on SQLite an FTS5 query for the value's rarest
    /// trigrams, on PostgreSQL its longest run of rare trigrams within a word. A value without
    /// one is matched by LIKE on the trigram index alone.
    pub rare: &'a HashMap<Substring, String>,
}

/// A table, one of its columns, and a value to find in it.
pub type Substring = (&'static str, &'static str, String);

/// What a filter asks of an extension attribute: a comparison, or (`None`) presence.
type ExtTest<'v> = Option<(CompareOp, &'v Operand)>;

/// A page of resources matching an extension attribute, read through its index
/// (`Renderer::ext_page`): the condition selecting the page's resources, and the count.
#[derive(Debug)]
pub struct ExtPage {
    /// Selects the page's resources; they still need the default order.
    pub page: Sql,
    /// Counts all the matching resources.
    pub count: Count,
}

/// A whole statement that selects one count.
#[derive(Debug, Clone)]
pub struct Count(Sql);

impl diesel::query_builder::Query for Count {
    type SqlType = sql_types::BigInt;
}

impl QueryId for Count {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::RunQueryDsl<AnyConnection> for Count {}

impl QueryFragment<Db> for Count {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Db>) -> diesel::QueryResult<()> {
        self.0.walk_ast(out)
    }
}

/// The LIMIT written into a page's SQL for `limit` rows: rounded up to a power of two, so that a
/// client choosing every count from 1 to 1,000 makes at most eleven statements of a query (the
/// caller drops the extra rows). A literal, not a bound parameter: SQLite built without its
/// query planner stability guarantee read a bound LIMIT's value when it planned, and so
/// prepared the statement again each time one was bound; the build keeps the guarantee now
/// (`.cargo/config.toml`), and a literal depends on it in no way.
pub(crate) fn limit_literal(limit: i64) -> i64 {
    let limit = limit.max(1);
    u64::try_from(limit)
        .ok()
        .and_then(u64::checked_next_power_of_two)
        .and_then(|p| i64::try_from(p).ok())
        .unwrap_or(limit)
}

/// The least string above every string that starts with `prefix`, in code point order (which
/// is UTF-8's byte order); `None` when no string is (an empty prefix, or one of `char::MAX`
/// only).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // Skips the surrogates, which are no chars.
        if let Some(next) = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Attribute names are spliced into JSON paths, so they must be the plain names schemas use.
pub(crate) fn name(n: &str) -> Result<&str, Error> {
    if !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '$' | '_' | '-' | ':' | '.'))
    {
        Ok(n)
    } else {
        Err(Error::internal_msg(format!(
            "unexpected attribute name {n:?}"
        )))
    }
}

/// Whether `expr` is a lookup of at most one row through a unique index: `id`, a user's
/// `userName` or a group's `displayName` equal to a value. Every plan of it starts at that
/// index, so a generic plan is as good as one made for the value, and PostgreSQL may keep the
/// statement prepared: a `userName eq` lookup (how provisioning clients find a user) is then
/// neither parsed nor planned per request. Only the bare comparison: and-ed with other
/// conditions it would be planned as well, but every shape a client sent would stay prepared
/// on each connection it reached, without bound.
fn pins_one_row(kind: ResourceKind, expr: &Expr) -> bool {
    unique_key(kind, expr).is_some()
}

/// The unique key and value `expr` looks up, when it is such a lookup (`pins_one_row`).
pub(crate) fn unique_key(kind: ResourceKind, expr: &Expr) -> Option<(Column, &str)> {
    match expr {
        Expr::Compare(Field::Column(c), CompareOp::Eq, Operand::Str(value))
            if matches!(
                (kind, c),
                (_, Column::Id)
                    | (ResourceKind::User, Column::UserName)
                    | (ResourceKind::Group, Column::DisplayName)
            ) =>
        {
            Some((*c, value))
        }
        _ => None,
    }
}

impl Renderer<'_> {
    fn table(&self) -> &'static str {
        match self.kind {
            ResourceKind::User => "users",
            ResourceKind::Group => "groups",
        }
    }

    /// SQL for "this condition holds"; never NULL, so `NOT` behaves as SCIM expects.
    ///
    /// On PostgreSQL a filtered statement is not kept prepared: after five runs PostgreSQL may
    /// settle on a generic plan made without the values, and for `userName sw $1` sorted by
    /// userName that plan walked the whole userName index backwards looking for ten matches
    /// (1.5 s at a million users) where the plan for the actual prefix reads a thousand rows.
    /// Planning with the values costs about a millisecond. SQLite plans without looking at
    /// values, so its statements stay cached.
    pub fn filter(&self, expr: &Expr) -> Result<Sql, Error> {
        let mut sql = Sql::default();
        self.expr(&mut sql, expr, None)?;
        // No stored string holds U+0000 (writes refuse it), and PostgreSQL would fail on it.
        if sql
            .parts
            .iter()
            .any(|p| matches!(p, Part::Str(s) if s.contains('\0')))
        {
            return Err(Error::InvalidFilter(
                "filter values may not contain the NUL character (U+0000)".into(),
            ));
        }
        sql.uncached = self.dialect == Dialect::Postgres && !pins_one_row(self.kind, expr);
        Ok(sql)
    }

    /// SQLite keeps each statement prepared on every connection that ran it, so the shape of
    /// `filter` (rendered from `expr`), with its sort `order`, draws on the process's budget;
    /// past it, statements holding `filter` are prepared afresh each time. Lookups by a unique
    /// key are a handful of shapes and always stay.
    pub fn draw_on(&self, prepared: &Prepared, expr: &Expr, filter: &mut Sql, order: Option<&Sql>) {
        if self.dialect != Dialect::Sqlite || pins_one_row(self.kind, expr) {
            return;
        }
        if !prepared.keep(&shape_of(filter, order)) {
            filter.uncached = true;
        }
    }

    /// Whether migrations 000010 and 000011 index this attribute of the users' documents.
    fn indexed_in_document(&self, j: &scim_core::query::JsonField) -> bool {
        self.kind == ResourceKind::User
            && j.sub.is_none()
            && j.ext.as_deref() == Some(scim_core::schema::ENTERPRISE_USER)
            && ["employeeNumber", "department"].contains(&j.attr.as_str())
    }

    fn falsy(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "FALSE",
        }
    }

    /// `elem` is the alias of the JSON element inside an `Any`.
    fn expr(&self, sql: &mut Sql, expr: &Expr, elem: Option<&str>) -> Result<(), Error> {
        match expr {
            Expr::And(items) | Expr::Or(items) => {
                let joint = if matches!(expr, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                sql.push("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        sql.push(joint);
                    }
                    self.expr(sql, item, elem)?;
                }
                if items.is_empty() {
                    sql.push(if matches!(expr, Expr::And(_)) {
                        "1 = 1"
                    } else {
                        "1 = 0"
                    });
                }
                sql.push(")");
            }
            Expr::Not(inner) => {
                sql.push("(NOT ");
                self.expr(sql, inner, elem)?;
                sql.push(")");
            }
            Expr::Any { ext, attr, filter } => {
                let alias = if elem == Some("e1") { "e2" } else { "e1" };
                // The email index narrows `emails[type eq "work" and value eq "x"]` to the users
                // holding the value, and the elements decide: at a million users PostgreSQL
                // read every user's emails for it, for 10 s.
                let by_value = match (self.kind, ext, filter) {
                    (ResourceKind::User, None, Some(f)) if attr == "emails" => email_value(f),
                    _ => None,
                };
                if let Some((op, value)) = by_value {
                    sql.push("(");
                    self.compare(sql, &Field::Column(Column::Email), op, value, None)?;
                    sql.push(" AND ");
                }
                sql.push("EXISTS (SELECT 1 FROM ");
                self.elements(sql, ext.as_deref(), attr, alias)?;
                if let Some(filter) = filter {
                    sql.push(" WHERE ");
                    self.expr(sql, filter, Some(alias))?;
                }
                sql.push(")");
                if by_value.is_some() {
                    sql.push(")");
                }
            }
            // Conditions on columns are written never to be NULL (nullable columns are tested
            // with IS NOT NULL first) and stay bare, so an index can serve them. So are those
            // on the document attributes migration 000010 indexes (`x = ? AND x IS NOT NULL`,
            // which its partial indexes on the expression serve). Other JSON conditions may be
            // NULL, so they are wrapped to be false instead: written bare, PostgreSQL tests
            // `x IS NOT NULL` first and so reads the document twice a row when it scans (4.3 s
            // instead of 2.3 s for `name.familyName eq` over a million users).
            Expr::Compare(field @ Field::Json(j), op, value)
                if elem.is_none() && self.indexed_in_document(j) =>
            {
                let x = self.json_text(field, elem)?;
                sql.push("(");
                self.compare(sql, field, *op, value, elem)?;
                sql.push(&format!(" AND {x} IS NOT NULL)"));
            }
            Expr::Present(field @ (Field::Column(_) | Field::Ext(_))) => {
                sql.push("(");
                self.present(sql, field, elem)?;
                sql.push(")");
            }
            Expr::Compare(field @ (Field::Column(_) | Field::Ext(_)), op, value) => {
                sql.push("(");
                self.compare(sql, field, *op, value, elem)?;
                sql.push(")");
            }
            Expr::Present(field) => {
                sql.push("COALESCE((");
                self.present(sql, field, elem)?;
                sql.push("), ").push(self.falsy()).push(")");
            }
            Expr::Compare(field, op, value) => {
                sql.push("COALESCE((");
                self.compare(sql, field, *op, value, elem)?;
                sql.push("), ").push(self.falsy()).push(")");
            }
        }
        Ok(())
    }

    /// `json_each(...) alias` / `jsonb_array_elements(...) alias` over a multi-valued attribute.
    fn elements(
        &self,
        sql: &mut Sql,
        ext: Option<&str>,
        attr: &str,
        alias: &str,
    ) -> Result<(), Error> {
        let t = self.table();
        match self.dialect {
            Dialect::Sqlite => {
                let path = json_path(ext, attr, None)?;
                sql.push(&format!("json_each({t}.data, '{path}') {alias}"));
            }
            Dialect::Postgres => {
                let path = pg_path(ext, attr, None)?;
                sql.push(&format!(
                    "jsonb_array_elements(CASE WHEN jsonb_typeof({t}.data::jsonb #> '{path}') = 'array' \
                     THEN {t}.data::jsonb #> '{path}' ELSE '[]'::jsonb END) {alias}"
                ));
            }
        }
        Ok(())
    }

    /// The text value of a JSON field or element field.
    fn json_text(&self, field: &Field, elem: Option<&str>) -> Result<String, Error> {
        let t = self.table();
        Ok(match (field, self.dialect) {
            (Field::Json(j), Dialect::Sqlite) => {
                format!(
                    "json_extract({t}.data, '{}')",
                    json_path(j.ext.as_deref(), &j.attr, j.sub.as_deref())?
                )
            }
            (Field::Json(j), Dialect::Postgres) => {
                format!(
                    "({t}.data::jsonb #>> '{}')",
                    pg_path(j.ext.as_deref(), &j.attr, j.sub.as_deref())?
                )
            }
            (Field::Element(e), Dialect::Sqlite) => {
                let alias = elem.ok_or_else(|| Error::internal_msg("element outside Any"))?;
                format!("json_extract({alias}.value, '$.\"{}\"')", name(&e.sub)?)
            }
            (Field::Element(e), Dialect::Postgres) => {
                let alias = elem.ok_or_else(|| Error::internal_msg("element outside Any"))?;
                format!("({alias} ->> '{}')", name(&e.sub)?)
            }
            (Field::Column(_) | Field::Ext(_), _) => {
                return Err(Error::internal_msg("column is not JSON"));
            }
        })
    }

    fn present(&self, sql: &mut Sql, field: &Field, elem: Option<&str>) -> Result<(), Error> {
        let t = self.table();
        match field {
            Field::Column(c) => match c {
                Column::Id | Column::Created | Column::LastModified | Column::ResourceType => {
                    sql.push("1 = 1");
                }
                Column::UserName => {
                    sql.push("1 = 1");
                }
                Column::ExternalId => {
                    sql.push(&format!(
                        "{t}.external_id IS NOT NULL AND {t}.external_id <> ''"
                    ));
                }
                Column::DisplayName => {
                    sql.push(&format!(
                        "{t}.display_name_folded IS NOT NULL AND {t}.display_name_folded <> ''"
                    ));
                }
                Column::Active => {
                    sql.push(&format!("{t}.active IS NOT NULL"));
                }
                Column::Email | Column::Group | Column::Member => {
                    self.side_table(sql, *c);
                    sql.push(")");
                }
            },
            Field::Ext(e) => self.ext_subquery(sql, e, None)?,
            Field::Json(_) | Field::Element(_) => {
                let x = self.json_text(field, elem)?;
                sql.push(&format!("{x} IS NOT NULL AND {x} <> ''"));
            }
        }
        Ok(())
    }

    /// `id IN (SELECT id FROM ext_table WHERE ...)` for a test of a tenant extension attribute
    /// (`ext_where`).
    fn ext_subquery(&self, sql: &mut Sql, e: &ExtField, test: ExtTest<'_>) -> Result<(), Error> {
        let t = self.table();
        let table = name(&e.table)?;
        sql.push(&format!("{t}.id IN (SELECT id FROM {table} WHERE "));
        self.ext_where(sql, e, test)?;
        sql.push(")");
        Ok(())
    }

    /// `tenant_id = ? AND ` the test of an extension attribute's column: a comparison, or with
    /// `None` presence. The (tenant, column) index serves it.
    fn ext_where(&self, sql: &mut Sql, e: &ExtField, test: ExtTest<'_>) -> Result<(), Error> {
        let column = name(&e.column)?;
        sql.push("tenant_id = ")
            .bind(Part::Str(self.tenant.to_owned()))
            .push(" AND ");
        match test {
            None => {
                sql.push(&format!("{column} IS NOT NULL"));
            }
            // A timestamptz column compares with a timestamptz, not with text.
            Some((op, Operand::Str(s)))
                if e.kind == AttrType::DateTime && self.dialect == Dialect::Postgres =>
            {
                sql.push(&format!("{column} {} CAST(", symbol(op)))
                    .bind(Part::Str(s.clone()))
                    .push(" AS timestamptz)");
            }
            Some((op, value)) => {
                // On PostgreSQL LIKE, which the index of a column in byte order serves as well:
                // a column an older process added during a rollout may still be in the
                // database's collation until the next start converts it.
                let bytewise = self.dialect == Dialect::Sqlite
                    && matches!(
                        e.kind,
                        AttrType::String | AttrType::Reference | AttrType::DateTime
                    );
                self.operator(sql, column, bytewise, op, value);
            }
        }
        Ok(())
    }

    /// For a filter that is one comparison or presence test of an attribute of an ordered
    /// extension table (`ExtField::ordered`): the page in the default order, `limit` rows from
    /// `offset`, and the count, read from the attribute's index, whose entries for a value are
    /// in that order. The page is the resources whose ids are that range of entries, so only
    /// the page's resources are read, where the plain filter reads every matching resource to
    /// sort them; the count reads the index alone. `None` for any other filter. `uncached` as
    /// the plain filter's (`filter`, `draw_on`).
    pub fn ext_page(
        &self,
        expr: &Expr,
        (limit, offset): (i64, i64),
        uncached: bool,
    ) -> Result<Option<ExtPage>, Error> {
        let (e, test) = match expr {
            Expr::Compare(Field::Ext(e), op, value) => (e, Some((*op, value))),
            Expr::Present(Field::Ext(e)) => (e, None),
            _ => return Ok(None),
        };
        if !e.ordered {
            return Ok(None);
        }
        let t = self.table();
        let table = name(&e.table)?;
        let mut page = Sql::default();
        page.push(&format!("{t}.id IN (SELECT id FROM {table} WHERE "));
        self.ext_where(&mut page, e, test)?;
        page.push(&format!(
            " ORDER BY created, id LIMIT {} OFFSET ",
            limit_literal(limit)
        ))
        .bind(Part::Int(offset))
        .push(")");
        let mut count = Sql::default();
        count.push(&format!("SELECT COUNT(*) FROM {table} WHERE "));
        self.ext_where(&mut count, e, test)?;
        page.uncached = uncached;
        count.uncached = uncached;
        Ok(Some(ExtPage {
            page,
            count: Count(count),
        }))
    }

    /// Opens `id IN (SELECT ... FROM side table WHERE tenant_id = ?` for the multi-valued values
    /// kept in their own tables; returns the column holding the value compared.
    fn side_table(&self, sql: &mut Sql, column: Column) -> &'static str {
        let (selected, table, compared) = match column {
            Column::Group => ("member_id", "group_members", "group_id"),
            Column::Member => ("group_id", "group_members", "member_id"),
            _ => ("user_id", "user_emails", "value_folded"),
        };
        let t = self.table();
        sql.push(&format!(
            "{t}.id IN (SELECT {selected} FROM {table} WHERE tenant_id = "
        ))
        .bind(Part::Str(self.tenant.to_owned()));
        compared
    }

    fn compare(
        &self,
        sql: &mut Sql,
        field: &Field,
        op: CompareOp,
        value: &Operand,
        elem: Option<&str>,
    ) -> Result<(), Error> {
        let t = self.table();
        let (subject, kind) = match field {
            Field::Column(c) => {
                let col = match c {
                    Column::Id => format!("{t}.id"),
                    Column::ExternalId => format!("{t}.external_id"),
                    Column::UserName | Column::DisplayName
                        if self.trigram(
                            sql,
                            Trigram {
                                rowid: &format!("{t}.rowid"),
                                table: match self.kind {
                                    ResourceKind::User => "users_trigram",
                                    ResourceKind::Group => "groups_trigram",
                                },
                                column: if *c == Column::UserName {
                                    "user_name_folded"
                                } else {
                                    "display_name_folded"
                                },
                                qualifier: t,
                            },
                            op,
                            value,
                        ) =>
                    {
                        return Ok(());
                    }
                    Column::UserName => format!("{t}.user_name_folded"),
                    Column::DisplayName => format!("{t}.display_name_folded"),
                    Column::Created => format!("{t}.created"),
                    Column::LastModified => format!("{t}.last_modified"),
                    Column::Active => format!("{t}.active"),
                    Column::ResourceType => format!("'{}'", self.kind.name().to_lowercase()),
                    Column::Email | Column::Group | Column::Member => {
                        let compared = self.side_table(sql, *c);
                        sql.push(" AND ");
                        let indexed = *c == Column::Email
                            && self.trigram(
                                sql,
                                Trigram {
                                    rowid: "rowid",
                                    table: "user_emails_trigram",
                                    column: compared,
                                    qualifier: "user_emails",
                                },
                                op,
                                value,
                            );
                        if !indexed {
                            // Of the side tables' columns, only emails' folded values are in
                            // the "C" collation on PostgreSQL.
                            let bytewise =
                                self.dialect == Dialect::Sqlite || compared == "value_folded";
                            self.operator(sql, compared, bytewise, op, value);
                        }
                        sql.push(")");
                        return Ok(());
                    }
                };
                if matches!(c, Column::ExternalId | Column::DisplayName | Column::Active) {
                    sql.push(&format!("{col} IS NOT NULL AND "));
                }
                let kind = if *c == Column::Active {
                    AttrType::Boolean
                } else {
                    AttrType::String
                };
                (col, kind)
            }
            Field::Ext(e) => return self.ext_subquery(sql, e, Some((op, value))),
            Field::Json(j) => (self.json_text(field, elem)?, j.kind),
            Field::Element(e) => (self.json_text(field, elem)?, e.kind),
        };
        // A folded subject is text whatever the document holds: `lower()` makes it so.
        let folded = matches!(
            kind,
            AttrType::String | AttrType::Reference | AttrType::DateTime
        ) && !field.case_exact()
            && !matches!(field, Field::Column(_));
        let subject = match (kind, self.dialect) {
            _ if folded => self.folded(field, &subject)?,
            (AttrType::Boolean, Dialect::Postgres) if !matches!(field, Field::Column(_)) => {
                format!("({subject})::boolean")
            }
            (AttrType::Integer | AttrType::Decimal, Dialect::Postgres) => {
                format!("({subject})::double precision")
            }
            _ => subject,
        };
        let bytewise = match self.dialect {
            Dialect::Sqlite => folded || matches!(field, Field::Column(c) if *c != Column::Active),
            // The folded columns (000005) are in the "C" collation there, ids not. Folded
            // document values are too, but where no index holds them a range would parse each
            // row's document twice, where LIKE parses it once.
            Dialect::Postgres => match field {
                Field::Column(c) => matches!(c, Column::UserName | Column::DisplayName),
                Field::Json(j) => folded && self.indexed_in_document(j),
                _ => false,
            },
        };
        self.operator(sql, &subject, bytewise, op, value);
        Ok(())
    }

    /// The case-insensitive form of a document value. On PostgreSQL it is compared byte by
    /// byte (`COLLATE "C"`, as the folded columns are and as SQLite compares): only then may a
    /// B-tree index serve a prefix. `lower()` itself still folds in the database's collation,
    /// which the `COLLATE` after it does not change. An indexed attribute of the document is
    /// read there through `scim_folded` (migration 000011), which tells the planner what
    /// parsing a document costs, and is the expression of its index. Others are not: a filter
    /// on them reads the tenant anyway, and the function call made `name.familyName eq` at a
    /// million users take 7.1 s instead of 4.2-5.9.
    /// `text` is the value as `json_text` reads it.
    fn folded(&self, field: &Field, text: &str) -> Result<String, Error> {
        Ok(match (field, self.dialect) {
            (_, Dialect::Sqlite) => format!("lower({text})"),
            (Field::Json(j), Dialect::Postgres) if self.indexed_in_document(j) => format!(
                "(scim_folded({}.data, '{}') COLLATE \"C\")",
                self.table(),
                pg_path(j.ext.as_deref(), &j.attr, j.sub.as_deref())?
            ),
            (_, Dialect::Postgres) => format!("(lower({text}) COLLATE \"C\")"),
        })
    }

    /// A document value to sort by: folded where it is case-insensitive text.
    fn sorted(
        &self,
        field: &Field,
        elem: Option<&str>,
        kind: AttrType,
        case_exact: bool,
    ) -> Result<String, Error> {
        let text = self.json_text(field, elem)?;
        if matches!(kind, AttrType::String | AttrType::Reference) && !case_exact {
            self.folded(field, &text)
        } else {
            Ok(text)
        }
    }

    /// `subject op ?` with the value bound. `bytewise`: the subject is text compared byte by
    /// byte (on SQLite every text column, on PostgreSQL those in the "C" collation), so that a
    /// prefix is exactly the range it is written as.
    /// SQLite is built with its query planner stability guarantee (`.cargo/config.toml`), so
    /// it no longer prepares a statement with `LIKE ?` again for every new value (130,000
    /// instructions, a twelfth of a `userName sw` page), and with it no longer turns
    /// `LIKE 'ab%'` into a range of the index itself. PostgreSQL does, but then checks LIKE on
    /// every row of the range as well: for a document attribute, parsing each row's document
    /// again (`department sw "dept-1"`, 110,000 matches, was counted in 0.6 s with LIKE).
    fn operator(
        &self,
        sql: &mut Sql,
        subject: &str,
        bytewise: bool,
        op: CompareOp,
        value: &Operand,
    ) {
        if let (CompareOp::Sw, Operand::Str(prefix), true) = (op, value, bytewise) {
            sql.push(&format!("({subject} >= "))
                .bind(Part::Str(prefix.clone()));
            if let Some(end) = prefix_end(prefix) {
                sql.push(&format!(" AND {subject} < ")).bind(Part::Str(end));
            }
            sql.push(")");
            return;
        }
        let bound = match value {
            Operand::Str(s) => Part::Str(s.clone()),
            Operand::Bool(b) => Part::Bool(*b),
            Operand::Num(n) => Part::Num(*n),
            Operand::Int(n) => Part::Int(*n),
        };
        let pattern = match (op, value) {
            (CompareOp::Co, Operand::Str(s)) => Some(format!("%{}%", escape_like(s))),
            (CompareOp::Sw, Operand::Str(s)) => Some(format!("{}%", escape_like(s))),
            (CompareOp::Ew, Operand::Str(s)) => Some(format!("%{}", escape_like(s))),
            _ => None,
        };
        match pattern {
            Some(pattern) => {
                sql.push(&format!("{subject} LIKE "))
                    .bind(Part::Str(pattern));
                // PostgreSQL's LIKE escapes with a backslash by default; spelling it out there
                // would hide the pattern from the trigram index. SQLite has no default escape.
                if self.dialect == Dialect::Sqlite {
                    sql.push(" ESCAPE '\\'");
                }
            }
            _ => {
                sql.push(&format!("{subject} {} ", symbol(op))).bind(bound);
            }
        }
    }

    /// A `co`/`ew` pattern of three plain characters or more is answered by a trigram index.
    /// On SQLite: the rowids of the matching rows, found by LIKE on the FTS5 index, or with a
    /// `rare` plan by an FTS5 query for the value's rarest trigrams and LIKE on the rows it
    /// finds. On PostgreSQL only with a `rare` plan (otherwise the caller's LIKE, which pg_trgm
    /// serves): LIKE on the part of the value, then on the whole. Patterns with LIKE
    /// metacharacters keep the plain, escaped LIKE.
    fn trigram(&self, sql: &mut Sql, index: Trigram<'_>, op: CompareOp, value: &Operand) -> bool {
        let Trigram {
            rowid,
            table,
            column,
            qualifier,
        } = index;
        let Operand::Str(s) = value else { return false };
        let plain = !s.contains(['%', '_', '\\']) && s.chars().count() >= 3;
        if !plain || !matches!(op, CompareOp::Co | CompareOp::Ew) {
            return false;
        }
        let pattern = if op == CompareOp::Co {
            format!("%{s}%")
        } else {
            format!("%{s}")
        };
        let key = (qualifier, column, s.clone());
        let rare = self.rare.get(&key);
        sql.substrings.push(key);
        match (self.dialect, rare) {
            (Dialect::Sqlite, Some(query)) => sql
                .push(&format!(
                    "{rowid} IN (SELECT rowid FROM {table} WHERE {table} MATCH "
                ))
                .bind(Part::Str(query.clone()))
                .push(&format!(") AND {qualifier}.{column} LIKE "))
                .bind(Part::Str(pattern)),
            (Dialect::Sqlite, None) => sql
                .push(&format!(
                    "{rowid} IN (SELECT rowid FROM {table} WHERE {column} LIKE "
                ))
                .bind(Part::Str(pattern))
                .push(")"),
            // The word (letters and digits only) is what the index is searched for; the
            // pattern is checked on an expression the index does not cover, so that the
            // planner does not hand the index the pattern's common trigrams after all.
            (Dialect::Postgres, Some(word)) => {
                let c = format!("{qualifier}.{column}");
                sql.push(&format!("{c} IS NOT NULL AND {c} LIKE "))
                    .bind(Part::Str(format!("%{word}%")))
                    .push(&format!(" AND ({c} || '') LIKE "))
                    .bind(Part::Str(pattern))
            }
            (Dialect::Postgres, None) => return false,
        };
        true
    }

    /// Resources after (or, going backward, before) a keyset position in the default order
    /// (creation, then id); both backends compare row values, which the (tenant, created, id)
    /// index serves.
    pub fn after(&self, after: &scim_core::query::After) -> Sql {
        let t = self.table();
        let op = if after.backward { "<" } else { ">" };
        let mut sql = Sql::default();
        sql.push(&format!("({t}.created, {t}.id) {op} ("))
            .bind(Part::Str(after.created.clone()))
            .push(", ")
            .bind(Part::Str(after.id.clone()))
            .push(")");
        sql
    }

    /// `ORDER BY` terms: absent values last, then the value, then the id as a stable tie-breaker.
    pub fn order(&self, key: &SortKey, order: SortOrder) -> Result<Sql, Error> {
        let t = self.table();
        let value = match key {
            SortKey::Column(c) => match c {
                Column::Id => format!("{t}.id"),
                Column::ExternalId => format!("{t}.external_id"),
                Column::UserName => format!("{t}.user_name_folded"),
                Column::DisplayName => format!("{t}.display_name_folded"),
                Column::Created => format!("{t}.created"),
                Column::LastModified => format!("{t}.last_modified"),
                Column::Active => format!("{t}.active"),
                Column::ResourceType => format!("'{}'", self.kind.name().to_lowercase()),
                Column::Email | Column::Group | Column::Member => {
                    return Err(Error::InvalidValue("cannot sort by this attribute".into()));
                }
            },
            SortKey::Json(j) => self.sorted(&Field::Json(j.clone()), None, j.kind, j.case_exact)?,
            // Folded columns already hold the case-insensitive form.
            SortKey::Ext(e) => format!(
                "(SELECT x.{} FROM {} x WHERE x.tenant_id = {t}.tenant_id AND x.id = {t}.id)",
                name(&e.column)?,
                name(&e.table)?
            ),
            SortKey::Primary { ext, attr, sub } => {
                let mut inner = Sql::default();
                self.elements(&mut inner, ext.as_deref(), attr, "p")?;
                // `elements` binds no values: its shape is its text.
                let from = inner.shape();
                let primary = match self.dialect {
                    Dialect::Sqlite => "COALESCE(json_extract(p.value, '$.primary'), 0)".to_owned(),
                    Dialect::Postgres => "COALESCE((p ->> 'primary')::boolean, FALSE)".to_owned(),
                };
                let x = self.sorted(
                    &Field::Element(sub.clone()),
                    Some("p"),
                    sub.kind,
                    sub.case_exact,
                )?;
                format!("(SELECT {x} FROM {from} ORDER BY {primary} DESC LIMIT 1)")
            }
        };
        let dir = match order {
            SortOrder::Ascending => "ASC",
            SortOrder::Descending => "DESC",
        };
        let mut sql = Sql::default();
        match key {
            // Unique and never NULL: the index alone gives the order.
            SortKey::Column(Column::UserName | Column::Id) => sql.push(&format!("{value} {dir}")),
            SortKey::Column(Column::Created | Column::LastModified) => {
                sql.push(&format!("{value} {dir}, {t}.id {dir}"))
            }
            _ => sql.push(&format!("({value}) IS NULL, {value} {dir}, {t}.id {dir}")),
        };
        Ok(sql)
    }
}

/// A comparison of an email's `value` that every match of an `emails[...]` filter must meet:
/// the filter itself, or one of the conditions it and-s. The email index holds every email's
/// value folded as the comparison's value is (Rust's `to_lowercase`), while the elements are
/// folded by the database's `lower()` (ASCII only on SQLite, the database's collation on
/// PostgreSQL). So only equality and the pattern operators, which match the same bytes either
/// way, may narrow: with `ne`, `gt` and the like the index could drop a user the elements
/// match.
fn email_value(filter: &Expr) -> Option<(CompareOp, &Operand)> {
    match filter {
        Expr::Compare(
            Field::Element(e),
            op @ (CompareOp::Eq | CompareOp::Sw | CompareOp::Co | CompareOp::Ew),
            value @ Operand::Str(_),
        ) if e.sub == "value" => Some((*op, value)),
        Expr::And(items) => items.iter().find_map(email_value),
        _ => None,
    }
}

/// The SQL operator of a non-pattern comparison.
fn symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
    }
}

/// What tells the statements of a filtered page apart: the filter's shape and the sort's.
fn shape_of(filter: &Sql, order: Option<&Sql>) -> String {
    let sort = order.map(Sql::shape).unwrap_or_default();
    format!("{}\n{sort}", filter.shape())
}

/// A SQLite JSON path: `$."urn"."attr"."sub"`.
pub(crate) fn json_path(ext: Option<&str>, attr: &str, sub: Option<&str>) -> Result<String, Error> {
    let mut path = String::from("$");
    for part in ext.into_iter().chain(Some(attr)).chain(sub) {
        path.push_str(&format!(".\"{}\"", name(part)?));
    }
    Ok(path)
}

/// A PostgreSQL text-array path: `{"urn","attr","sub"}`.
pub(crate) fn pg_path(ext: Option<&str>, attr: &str, sub: Option<&str>) -> Result<String, Error> {
    let parts: Vec<String> = ext
        .into_iter()
        .chain(Some(attr))
        .chain(sub)
        .map(|p| name(p).map(|p| format!("\"{p}\"")))
        .collect::<Result<_, _>>()?;
    Ok(format!("{{{}}}", parts.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(diesel::QueryableByName)]
    struct SqlitePlan {
        #[diesel(sql_type = sql_types::Text)]
        detail: String,
    }

    #[derive(diesel::QueryableByName)]
    struct PostgresPlan {
        #[diesel(sql_type = sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }

    /// `expr` rendered for tenant `t`'s users.
    fn users_filter(dialect: Dialect, expr: &Expr) -> Sql {
        Renderer {
            dialect,
            kind: ResourceKind::User,
            tenant: "t",
            rare: &HashMap::new(),
        }
        .filter(expr)
        .unwrap()
    }

    /// The plan of counting a tenant's users that match `expr` as the store renders it (string
    /// values only).
    fn plan(conn: &mut AnyConnection, expr: &Expr) -> String {
        use diesel::RunQueryDsl;
        let dialect = Dialect::of(conn);
        let filter = users_filter(dialect, expr);
        let mut text = String::from("SELECT COUNT(*) FROM users WHERE tenant_id = 't' AND ");
        let mut values = Vec::new();
        for part in &filter.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Str(v) => {
                    values.push(v.clone());
                    match dialect {
                        Dialect::Sqlite => text.push('?'),
                        Dialect::Postgres => text.push_str(&format!("${}", values.len())),
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        let explain = match dialect {
            Dialect::Sqlite => "EXPLAIN QUERY PLAN ",
            Dialect::Postgres => "EXPLAIN ",
        };
        let sql = format!("{explain}{text}");
        match conn {
            AnyConnection::Sqlite(c) => {
                let mut query = diesel::sql_query(&sql).into_boxed();
                for v in &values {
                    query = query.bind::<sql_types::Text, _>(v.clone());
                }
                let rows: Vec<SqlitePlan> = query.load(c).unwrap();
                rows.into_iter()
                    .map(|r| r.detail)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            AnyConnection::Postgres(c) => {
                let mut query = diesel::sql_query(&sql).into_boxed();
                for v in &values {
                    query = query.bind::<sql_types::Text, _>(v.clone());
                }
                let rows: Vec<PostgresPlan> = query.load(c).unwrap();
                rows.into_iter()
                    .map(|r| r.line)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    }

    /// Whether a PostgreSQL plan reads `index` (as 000011 rebuilt it in byte order) by a
    /// condition on the folded value holding `op`, not just by the tenant.
    fn pg_served(plan: &str, index: &str, op: &str) -> bool {
        // An index scan or a bitmap one.
        (plan.contains(&format!("using {index}_bytes on users"))
            || plan.contains(&format!("Bitmap Index Scan on {index}_bytes")))
            && plan
                .lines()
                .any(|l| l.contains("Index Cond") && l.contains("scim_folded(") && l.contains(op))
    }

    /// PostgreSQL knows how many users a prefix of a department holds (statistics on the
    /// indexed expression, migration 000011): it takes none from a partial index, and with its
    /// guess (half a percent of the users) it walked a million users in creation order for a
    /// page of a prefix no one held (12.6 s). And it knows what a document's value costs to
    /// read (`scim_folded`), without which it counted a prefix of 110,000 users by reading all
    /// million documents (9.8 s).
    fn prefix_estimates(conn: &mut AnyConnection, url: &str) {
        use diesel::RunQueryDsl;
        use diesel::connection::SimpleConnection;
        #[derive(diesel::QueryableByName)]
        struct Version {
            #[diesel(sql_type = sql_types::Integer)]
            v: i32,
        }
        let AnyConnection::Postgres(pg) = &mut *conn else {
            return;
        };
        let version: Version =
            diesel::sql_query("SELECT current_setting('server_version_num')::int AS v")
                .get_result(pg)
                .unwrap();
        if version.v < 140_000 {
            // No statistics on expressions before PostgreSQL 14 (000011 makes none there).
            return;
        }
        conn.batch_execute(
            "INSERT INTO tenants VALUES ('t', 't', '2026-01-01T00:00:00Z', 0); \
             INSERT INTO users (tenant_id, id, user_name, user_name_folded, schemas, data, \
                 version, created, last_modified) \
             SELECT 't', 'id' || i, 'u' || i, 'u' || i, '[]', \
                 '{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": \
                 {\"department\": \"dept-' || (i % 100) || '\"}}', 1, \
                 to_char(i, 'FM0000000'), 'x' FROM generate_series(1, 20000) i; \
             ANALYZE users",
        )
        .unwrap();
        let rare = plan(conn, &enterprise("department", CompareOp::Sw, "zzz"));
        let estimate = rare
            .lines()
            .find(|l| l.contains("users_department_bytes"))
            .and_then(|l| l.split("rows=").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok());
        // Without the statistics: 100 (half a percent of 20,000).
        assert!(estimate.is_some_and(|n| n < 10), "{url}: {rare}");
        // Knowing that a prefix holds many users, it still counts them through the index: it
        // knows what reading a value from each document of the tenant would cost.
        // Random reads priced as at a million users, where 110,000 matches lie scattered over
        // a table larger than the cache; these 20,000 users fill a few hundred pages.
        conn.batch_execute("SET enable_seqscan = on; SET random_page_cost = 40")
            .unwrap();
        let plan = plan(conn, &enterprise("department", CompareOp::Sw, "dept-1"));
        assert!(plan.contains("users_department_bytes"), "{url}: {plan}");
    }

    /// A case-insensitive string attribute of the EnterpriseUser extension compared with
    /// `value`.
    fn enterprise(attr: &str, op: CompareOp, value: &str) -> Expr {
        compared(
            Some(scim_core::schema::ENTERPRISE_USER),
            attr,
            None,
            op,
            value,
        )
    }

    /// A case-insensitive string attribute of the users' documents compared with `value`.
    fn compared(
        ext: Option<&str>,
        attr: &str,
        sub: Option<&str>,
        op: CompareOp,
        value: &str,
    ) -> Expr {
        Expr::Compare(
            Field::Json(scim_core::query::JsonField {
                ext: ext.map(Into::into),
                attr: attr.into(),
                sub: sub.map(Into::into),
                kind: AttrType::String,
                case_exact: false,
            }),
            op,
            Operand::Str(value.into()),
        )
    }

    #[test]
    fn comparisons_of_indexed_document_attributes_use_their_indexes() {
        use diesel::connection::SimpleConnection;
        let dir = std::env::temp_dir().join(format!("scim-plan-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut urls = vec![format!("sqlite://{}/p.db", dir.display())];
        let schema = format!("plan_{}", uuid::Uuid::new_v4().simple());
        let base = std::env::var("SCIM_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty());
        assert!(
            base.is_some() || std::env::var("CI").is_err(),
            "CI needs SCIM_TEST_POSTGRES_URL"
        );
        if let Some(base) = &base {
            let mut admin = crate::DbUrl::parse(base).unwrap().connect().unwrap();
            admin
                .batch_execute(&format!(
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public; \
                     CREATE SCHEMA {schema}"
                ))
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            urls.push(format!("{base}{sep}options=-csearch_path%3D{schema}"));
        }
        for url in &urls {
            let mut conn = crate::DbUrl::parse(url).unwrap().connect().unwrap();
            crate::migrate::run(&mut conn).unwrap();
            if Dialect::of(&conn) == Dialect::Postgres {
                // An empty table is cheaper to scan; the question is whether the index fits.
                conn.batch_execute("SET enable_seqscan = off").unwrap();
            }
            for (attr, index) in [
                ("department", "users_department"),
                ("employeeNumber", "users_employee_number"),
            ] {
                // A prefix is a range of the index, written as one (SQLite's planner sees no
                // bound value; PostgreSQL would check LIKE on every row of it again).
                let sw = plan(&mut conn, &enterprise(attr, CompareOp::Sw, "x"));
                let served = match Dialect::of(&conn) {
                    Dialect::Sqlite => {
                        sw.contains(&format!("{index} (tenant_id=? AND <expr>>? AND <expr><?)"))
                    }
                    Dialect::Postgres => pg_served(&sw, index, ">= 'x'"),
                };
                assert!(served, "{url}: {sw}");
                let plan = plan(&mut conn, &enterprise(attr, CompareOp::Eq, "x"));
                // The index serves the value, not just the tenant.
                let served = match Dialect::of(&conn) {
                    Dialect::Sqlite => {
                        plan.contains(&format!("{index} (tenant_id=? AND <expr>=?)"))
                    }
                    Dialect::Postgres => pg_served(&plan, index, "= 'x'"),
                };
                assert!(served, "{url}: {plan}");
            }
            // Filters on other attributes never walk a tenant through them (partial indexes).
            let other = compared(None, "name", Some("familyName"), CompareOp::Eq, "x");
            let plan = plan(&mut conn, &other);
            assert!(
                !plan.contains("users_department") && !plan.contains("users_employee_number"),
                "{url}: {plan}"
            );
            if Dialect::of(&conn) == Dialect::Postgres {
                prefix_estimates(&mut conn, url);
            }
        }
        if let Some(base) = &base {
            let mut admin = crate::DbUrl::parse(base).unwrap().connect().unwrap();
            admin
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .unwrap();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn email_value_filters_narrow_through_the_index_only_where_it_holds_every_match() {
        let value = |op: CompareOp| {
            Expr::Compare(
                Field::Element(scim_core::query::ElementField {
                    sub: "value".into(),
                    kind: AttrType::String,
                    case_exact: false,
                }),
                op,
                Operand::Str("a@x".into()),
            )
        };
        let work = Expr::Compare(
            Field::Element(scim_core::query::ElementField {
                sub: "type".into(),
                kind: AttrType::String,
                case_exact: false,
            }),
            CompareOp::Eq,
            Operand::Str("work".into()),
        );
        let emails = |filter: Expr| Expr::Any {
            ext: None,
            attr: "emails".into(),
            filter: Some(Box::new(filter)),
        };
        let render = |kind, expr: &Expr| {
            Renderer {
                dialect: Dialect::Sqlite,
                kind,
                tenant: "t",
                rare: &HashMap::new(),
            }
            .filter(expr)
            .unwrap()
            .shape()
        };
        let narrowed = |expr: &Expr| render(ResourceKind::User, expr).contains("user_emails");
        for op in [CompareOp::Eq, CompareOp::Sw, CompareOp::Co, CompareOp::Ew] {
            let and = emails(Expr::And(vec![work.clone(), value(op)]));
            assert!(narrowed(&and), "{op:?}");
            assert!(
                render(ResourceKind::User, &and).contains(" AND EXISTS (SELECT 1 FROM json_each(")
            );
        }
        for op in [
            CompareOp::Ne,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ] {
            assert!(!narrowed(&emails(value(op))), "{op:?}");
        }
        // Only a condition every match meets.
        assert!(!narrowed(&emails(Expr::Or(vec![
            work.clone(),
            value(CompareOp::Eq)
        ]))));
        assert!(!narrowed(&emails(Expr::Not(Box::new(value(
            CompareOp::Eq
        ))))));
        assert!(!narrowed(&Expr::Any {
            ext: None,
            attr: "phoneNumbers".into(),
            filter: Some(Box::new(value(CompareOp::Eq))),
        }));
        assert!(
            !render(ResourceKind::Group, &emails(value(CompareOp::Eq))).contains("user_emails")
        );
    }

    #[test]
    fn a_bare_test_of_an_ordered_extension_attribute_pages_through_its_index() {
        let field = |ordered: bool| {
            Field::Ext(ExtField {
                table: "ext_ab".into(),
                column: "c1".into(),
                kind: AttrType::String,
                case_exact: false,
                multi_valued: false,
                ordered,
            })
        };
        let eq = |ordered| Expr::Compare(field(ordered), CompareOp::Eq, Operand::Str("x".into()));
        let renderer = Renderer {
            dialect: Dialect::Sqlite,
            kind: ResourceKind::User,
            tenant: "t",
            rare: &HashMap::new(),
        };
        let x = renderer
            .ext_page(&eq(true), (10, 30), false)
            .unwrap()
            .unwrap();
        assert_eq!(
            x.page.shape(),
            "users.id IN (SELECT id FROM ext_ab WHERE tenant_id = ? AND c1 = ? \
             ORDER BY created, id LIMIT 16 OFFSET ?)"
        );
        assert!(matches!(x.page.parts.last(), Some(Part::Text(_))));
        assert!(x.page.parts.iter().any(|p| matches!(p, Part::Int(30))));
        assert_eq!(
            x.count.0.shape(),
            "SELECT COUNT(*) FROM ext_ab WHERE tenant_id = ? AND c1 = ?"
        );
        let pr = Expr::Present(field(true));
        let x = renderer.ext_page(&pr, (1, 0), true).unwrap().unwrap();
        assert_eq!(
            x.count.0.shape(),
            "SELECT COUNT(*) FROM ext_ab WHERE tenant_id = ? AND c1 IS NOT NULL"
        );
        assert!(x.page.uncached && x.count.0.uncached);
        // A table without `created`, or anything but the bare test: the plain filter.
        for other in [
            eq(false),
            Expr::Not(Box::new(eq(true))),
            Expr::And(vec![eq(true), pr.clone()]),
        ] {
            assert!(renderer.ext_page(&other, (10, 0), false).unwrap().is_none());
        }
    }

    #[test]
    fn only_filters_pinning_one_row_stay_prepared_on_postgres() {
        let eq = |c: Column, v: &str| {
            Expr::Compare(Field::Column(c), CompareOp::Eq, Operand::Str(v.into()))
        };
        let active = Expr::Compare(
            Field::Column(Column::Active),
            CompareOp::Eq,
            Operand::Bool(true),
        );
        let sw = Expr::Compare(
            Field::Column(Column::UserName),
            CompareOp::Sw,
            Operand::Str("a".into()),
        );
        let cases = [
            (ResourceKind::User, eq(Column::UserName, "a"), false),
            (ResourceKind::User, eq(Column::Id, "a"), false),
            (ResourceKind::Group, eq(Column::DisplayName, "a"), false),
            // Not unique, not equality, or not the bare lookup: planned per value.
            (
                ResourceKind::User,
                Expr::And(vec![active.clone(), eq(Column::UserName, "a")]),
                true,
            ),
            (ResourceKind::User, eq(Column::DisplayName, "a"), true),
            (ResourceKind::User, eq(Column::ExternalId, "a"), true),
            (ResourceKind::User, sw.clone(), true),
            (ResourceKind::User, active.clone(), true),
            (
                ResourceKind::User,
                Expr::Or(vec![eq(Column::UserName, "a"), sw]),
                true,
            ),
            (
                ResourceKind::User,
                Expr::Not(Box::new(eq(Column::UserName, "a"))),
                true,
            ),
        ];
        for (kind, expr, uncached) in cases {
            for dialect in [Dialect::Postgres, Dialect::Sqlite] {
                let renderer = Renderer {
                    dialect,
                    kind,
                    tenant: "t",
                    rare: &HashMap::new(),
                };
                let sql = renderer.filter(&expr).unwrap();
                let expected = uncached && dialect == Dialect::Postgres;
                assert_eq!(sql.uncached, expected, "{kind:?} {dialect:?} {expr:?}");
            }
        }
    }

    #[test]
    fn on_sqlite_new_filter_shapes_stay_prepared_while_the_budget_lasts() {
        let compare = |c: Column, op: CompareOp, v: &str| {
            Expr::Compare(Field::Column(c), op, Operand::Str(v.into()))
        };
        let sw = compare(Column::UserName, CompareOp::Sw, "a");
        // The same statement as `sw`: the prefix is a value.
        let sw_other = compare(Column::UserName, CompareOp::Sw, "bc");
        let gt = compare(Column::UserName, CompareOp::Gt, "a");
        let co = compare(Column::ExternalId, CompareOp::Co, "a");
        let by_name = compare(Column::UserName, CompareOp::Eq, "a");
        let by_id = compare(Column::Id, CompareOp::Eq, "a");
        let none = HashMap::new();
        let renderer = |dialect| Renderer {
            dialect,
            kind: ResourceKind::User,
            tenant: "t",
            rare: &none,
        };
        let sqlite = renderer(Dialect::Sqlite);
        let sorted = sqlite
            .order(&SortKey::Column(Column::UserName), SortOrder::Ascending)
            .unwrap();
        let shape =
            |expr: &Expr, order: Option<&Sql>| shape_of(&sqlite.filter(expr).unwrap(), order);
        // Room for `sw` alone and `sw` sorted, not for a third shape.
        let budget = shape(&sw, None).len() + shape(&sw, Some(&sorted)).len() + 1;
        let prepared = Prepared::with_budget(budget);
        // Whether statements holding the filter stay prepared.
        let kept = |r: &Renderer<'_>, expr: &Expr, order: Option<&Sql>| {
            let mut sql = r.filter(expr).unwrap();
            r.draw_on(&prepared, expr, &mut sql, order);
            !sql.uncached
        };
        assert!(kept(&sqlite, &sw, None));
        assert!(
            kept(&sqlite, &sw, Some(&sorted)),
            "the sort makes another shape"
        );
        assert!(kept(&sqlite, &sw_other, None), "the same shape as `sw`");
        assert!(!kept(&sqlite, &gt, None), "the budget is spent");
        assert!(!kept(&sqlite, &co, None));
        assert!(kept(&sqlite, &sw, None), "a kept shape stays kept");
        assert!(kept(&sqlite, &sw, Some(&sorted)));
        assert!(
            kept(&sqlite, &by_name, None),
            "unique-key lookups always stay"
        );
        assert!(kept(&sqlite, &by_id, Some(&sorted)));
        // PostgreSQL keeps its own rule (`only_filters_pinning_one_row_stay_prepared...`).
        let postgres = renderer(Dialect::Postgres);
        assert!(!kept(&postgres, &sw, None));
        assert!(kept(&postgres, &by_name, None));
    }

    #[derive(diesel::QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = sql_types::Text)]
        compile_options: String,
    }

    #[test]
    fn on_sqlite_a_prefix_is_read_from_the_index_whatever_its_value() {
        use diesel::RunQueryDsl;
        let dir = std::env::temp_dir().join(format!("scim-sw-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/p.db", dir.display());
        let mut conn = crate::DbUrl::parse(&url).unwrap().connect().unwrap();
        crate::migrate::run(&mut conn).unwrap();
        let sw = Expr::Compare(
            Field::Column(Column::UserName),
            CompareOp::Sw,
            Operand::Str("jo".into()),
        );
        let plan = plan(&mut conn, &sw);
        assert!(
            plan.contains(
                "users_user_name (tenant_id=? AND user_name_folded>? AND user_name_folded<?)"
            ),
            "{plan}"
        );
        // Plans never depend on bound values, so no value prepares a statement again.
        let AnyConnection::Sqlite(c) = &mut conn else {
            panic!("not SQLite")
        };
        let options: Vec<CompileOption> =
            diesel::sql_query("PRAGMA compile_options").load(c).unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "SQLite built without SQLITE_ENABLE_QPSG"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn prefixes_end_where_their_last_character_is_passed() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("é").as_deref(), Some("ê"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn a_prefix_of_a_byte_ordered_column_is_a_range() {
        let sw = |c: Column, v: &str| {
            Expr::Compare(Field::Column(c), CompareOp::Sw, Operand::Str(v.into()))
        };
        let render = |dialect, expr: &Expr| {
            let text: String = users_filter(dialect, expr)
                .parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.clone(),
                    Part::Str(v) => format!("'{v}'"),
                    other => format!("{other:?}"),
                })
                .collect();
            text
        };
        let name = render(Dialect::Sqlite, &sw(Column::UserName, "jo%_"));
        assert!(
            name.contains("(users.user_name_folded >= 'jo%_' AND users.user_name_folded < 'jo%`')"),
            "{name}"
        );
        assert!(!name.contains("LIKE"), "{name}");
        let all = render(Dialect::Sqlite, &sw(Column::ExternalId, ""));
        assert!(all.contains("(users.external_id >= '')"), "{all}");
        // On PostgreSQL only the folded columns are in byte order; ids are not.
        let pg = render(Dialect::Postgres, &sw(Column::UserName, "jo"));
        assert!(
            pg.contains("(users.user_name_folded >= 'jo' AND users.user_name_folded < 'jp')"),
            "{pg}"
        );
        let pg = render(Dialect::Postgres, &sw(Column::ExternalId, "jo"));
        assert!(pg.contains("users.external_id LIKE 'jo%'"), "{pg}");
        // A folded attribute of the JSON document is text too (`lower()` makes it so); a
        // case-exact one keeps LIKE: a number there is no text to compare.
        let family = render(
            Dialect::Sqlite,
            &compared(None, "name", Some("familyName"), CompareOp::Sw, "jo"),
        );
        assert!(
            family
                .contains("(lower(json_extract(users.data, '$.\"name\".\"familyName\"')) >= 'jo'"),
            "{family}"
        );
        // On PostgreSQL a range only where an index holds the value: elsewhere it would
        // parse each row's document twice.
        let family = render(
            Dialect::Postgres,
            &compared(None, "name", Some("familyName"), CompareOp::Sw, "jo"),
        );
        assert!(
            family.contains(
                "(lower((users.data::jsonb #>> '{\"name\",\"familyName\"}')) COLLATE \"C\") LIKE 'jo%'"
            ),
            "{family}"
        );
        let department = render(
            Dialect::Postgres,
            &enterprise("department", CompareOp::Sw, "jo"),
        );
        assert!(
            department.contains(
                "((scim_folded(users.data, '{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\",\"department\"}') COLLATE \"C\") >= 'jo'"
            ),
            "{department}"
        );
        let exact = Expr::Compare(
            Field::Json(scim_core::query::JsonField {
                ext: None,
                attr: "nickName".into(),
                sub: None,
                kind: AttrType::String,
                case_exact: true,
            }),
            CompareOp::Sw,
            Operand::Str("jo".into()),
        );
        let exact = render(Dialect::Sqlite, &exact);
        assert!(exact.contains("LIKE 'jo%' ESCAPE"), "{exact}");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn paths_quote_urns_and_refuse_odd_names() {
        assert_eq!(
            json_path(Some("urn:a:2.0:User"), "manager", Some("value")).unwrap(),
            "$.\"urn:a:2.0:User\".\"manager\".\"value\""
        );
        assert_eq!(
            pg_path(None, "name", Some("givenName")).unwrap(),
            "{\"name\",\"givenName\"}"
        );
        assert!(json_path(None, "a'b", None).is_err());
    }
}
