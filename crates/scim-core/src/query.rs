//! List requests (RFC 7644 §3.4.2): the filter and `sortBy` resolved against the schema, and
//! `startIndex`/`count` paging. The result names either a column the store indexes or an
//! attribute of the stored JSON document, with its type and case rule; values compared with
//! `caseExact: false` attributes are folded here, so the store compares them with folded text.

use scim_filter_parser::{AttrPath, CompValue, CompareOp, Filter};

use crate::error::{Error, Result};
use crate::schema::{AttrType, Attribute, Registry, ResourceKind, Uniqueness};

/// Columns a store keeps indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `id`, case-exact.
    Id,
    /// `externalId`, case-exact.
    ExternalId,
    /// `userName`, folded.
    UserName,
    /// `displayName`, folded.
    DisplayName,
    /// Any `emails.value`, folded; matches when one value matches.
    Email,
    /// `active`.
    Active,
    /// `meta.created`, as a fixed-width UTC timestamp.
    Created,
    /// `meta.lastModified`, as a fixed-width UTC timestamp.
    LastModified,
    /// Any `members.value` of a group (case-exact ids).
    Member,
    /// Any `groups.value` of a user: the groups it is a direct member of.
    Group,
    /// `meta.resourceType`: constant per table, compared case-insensitively (useful at the
    /// root `.search`, where one filter covers Users and Groups).
    ResourceType,
}

/// An attribute kept in the stored JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonField {
    /// The extension URN holding it, if not the core schema.
    pub ext: Option<String>,
    /// The attribute's name as the schema spells it.
    pub attr: String,
    /// The sub-attribute of a singular complex attribute.
    pub sub: Option<String>,
    /// The compared value's type.
    pub kind: AttrType,
    /// Whether strings compare case-sensitively.
    pub case_exact: bool,
}

/// A sub-attribute of one element of a multi-valued attribute, inside `Expr::Any`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementField {
    /// The sub-attribute's name.
    pub sub: String,
    /// Its type.
    pub kind: AttrType,
    /// Whether strings compare case-sensitively.
    pub case_exact: bool,
}

/// An attribute of a tenant-defined extension, held in its own typed column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtField {
    /// The store's table for the extension.
    pub table: String,
    /// The attribute's column in it.
    pub column: String,
    /// The attribute's type.
    pub kind: AttrType,
    /// Whether strings compare case-sensitively (else the column holds folded text).
    pub case_exact: bool,
    /// A multi-valued attribute: `table` holds one row per value, and a condition holds
    /// when it holds for one of them.
    pub multi_valued: bool,
    /// Whether `table` holds each resource's `meta.created` and its index on `column` orders
    /// by it (`Schema::ordered`): never for a multi-valued attribute's own table, nor for a
    /// unique attribute, whose index holds its value alone (and finds one resource).
    pub ordered: bool,
}

/// What a condition compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// An indexed column.
    Column(Column),
    /// A singular attribute in the JSON document.
    Json(JsonField),
    /// A sub-attribute of the element being tested by the enclosing `Expr::Any`.
    Element(ElementField),
    /// A tenant extension attribute's column.
    Ext(ExtField),
}

impl Field {
    /// Whether strings of this field compare case-sensitively.
    pub fn case_exact(&self) -> bool {
        match self {
            Field::Column(c) => matches!(
                c,
                Column::Id | Column::ExternalId | Column::Member | Column::Group
            ),
            Field::Json(j) => j.case_exact,
            Field::Element(e) => e.case_exact,
            Field::Ext(e) => e.case_exact,
        }
    }
}

/// A literal to compare with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Text (already folded for case-insensitive fields).
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A whole number compared with an `integer` attribute, kept exact past 2^53.
    Int(i64),
}

/// A filter, resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `field op value`
    Compare(Field, CompareOp, Operand),
    /// `field pr`
    Present(Field),
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Must not hold.
    Not(Box<Expr>),
    /// Some element of a multi-valued attribute satisfies `filter` (any element at all when
    /// `None`): `emails[type eq "work" and value co "@x"]`, and `emails.type eq "work"`.
    Any {
        /// The extension URN holding the attribute, if not the core schema.
        ext: Option<String>,
        /// The multi-valued attribute.
        attr: String,
        /// The condition on one element, over `Field::Element`s.
        filter: Option<Box<Expr>>,
    },
}

/// Sort direction (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// `ascending` (the default)
    Ascending,
    /// `descending`
    Descending,
}

/// What to sort by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// An indexed column.
    Column(Column),
    /// A singular attribute.
    Json(JsonField),
    /// A tenant extension attribute's column.
    Ext(ExtField),
    /// A multi-valued attribute: its primary (else first) value's `sub`.
    Primary {
        /// The extension URN holding the attribute, if not the core schema.
        ext: Option<String>,
        /// The multi-valued attribute.
        attr: String,
        /// The sub-attribute compared (`value` unless the path names another).
        sub: ElementField,
    },
}

/// What a store needs to answer a list request.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreQuery {
    /// The condition, if any.
    pub filter: Option<Expr>,
    /// The order, if any; a store always breaks ties by id so pages never overlap.
    pub sort: Option<(SortKey, SortOrder)>,
    /// Keyset position: only resources after this one in the default order (creation time,
    /// then id), so walking a whole table costs the same per page however deep it goes.
    pub after: Option<After>,
    /// 1-based index of the first result.
    pub start_index: u64,
    /// Page size; 0 asks for the total only.
    pub count: u64,
    /// Whether `Page::total` is wanted; counting every match is skipped when not.
    pub total: bool,
}

/// A position in the default order: the `meta.created` column text and the id of a resource
/// already read. The page wanted follows it, or with `backward` precedes it (a
/// `previousCursor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    /// `meta.created` in the stored fixed-width form.
    pub created: String,
    /// The resource id.
    pub id: String,
    /// Whether the page wanted ends just before this position instead of starting after it.
    pub backward: bool,
}

impl After {
    /// The position of `record`: after it, or with `backward` before it.
    pub fn of(record: &crate::resource::Record, backward: bool) -> After {
        After {
            created: crate::render::timestamp(&record.created),
            id: record.id.clone(),
            backward,
        }
    }

    /// The RFC 9865 cursor naming this position and direction: opaque to clients, and made of
    /// unreserved URL characters only (hex). A backward cursor starts with `<`.
    pub fn cursor(&self) -> String {
        let mark = if self.backward { "<" } else { "" };
        format!("{mark}{}~{}", self.created, self.id)
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Reads a cursor made by `cursor`; anything else is `invalidCursor`.
    pub fn from_cursor(cursor: &str) -> Result<After> {
        let invalid = || {
            Error::InvalidCursor(
                "the cursor is invalid: send an empty cursor for the first page, then each \
                 page's nextCursor"
                    .into(),
            )
        };
        if !cursor.len().is_multiple_of(2) || cursor.len() > 400 {
            return Err(invalid());
        }
        let bytes = (0..cursor.len())
            .step_by(2)
            .map(|i| {
                cursor
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(invalid)?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (backward, text) = match text.strip_prefix('<') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (created, id) = text.split_once('~').ok_or_else(invalid)?;
        let canonical = chrono::DateTime::parse_from_rfc3339(created)
            .map(|t| crate::render::timestamp(&t.with_timezone(&chrono::Utc)))
            .map_err(|_| invalid())?;
        // Ids are UUIDs (`resource::new_id`).
        let uuid = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if canonical != created || !uuid {
            return Err(invalid());
        }
        Ok(After {
            created: canonical,
            id: id.to_owned(),
            backward,
        })
    }
}

/// The folded form of a `caseExact: false` string, as stored in folded columns.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Paging limits of the server, advertised in `/ServiceProviderConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Page size when the client gives none.
    pub default_count: u64,
    /// Largest page served (`filter.maxResults`).
    pub max_results: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            default_count: 100,
            max_results: 1000,
        }
    }
}

impl Paging {
    /// RFC 7644 §3.4.2.4: `startIndex` below 1 is taken as 1, a negative `count` as 0, and a
    /// `count` above the maximum is capped at it.
    pub fn page(&self, start_index: Option<i64>, count: Option<i64>) -> (u64, u64) {
        let start = start_index.map_or(1, |s| u64::try_from(s).unwrap_or(1).max(1));
        let count = count.map_or(self.default_count, |c| u64::try_from(c).unwrap_or(0));
        (start, count.min(self.max_results))
    }
}

/// Parses and resolves a filter for a resource type, within the request limits.
pub fn resolve_filter(
    registry: &Registry,
    kind: ResourceKind,
    text: &str,
    limits: &crate::limits::Limits,
) -> Result<Expr> {
    limits.check_filter(text)?;
    let filter = scim_filter_parser::parse_filter_with(text, limits.parser())
        .map_err(|e| Error::InvalidFilter(format!("invalid filter: {e}")))?;
    Resolver { registry, kind }.filter(&filter)
}

/// Resolves `sortBy` and `sortOrder`.
pub fn resolve_sort(
    registry: &Registry,
    kind: ResourceKind,
    sort_by: &str,
    sort_order: Option<&str>,
) -> Result<(SortKey, SortOrder)> {
    let order = match sort_order.map(str::to_ascii_lowercase).as_deref() {
        None | Some("ascending") => SortOrder::Ascending,
        Some("descending") => SortOrder::Descending,
        Some(other) => {
            return Err(Error::InvalidValue(format!(
                "sortOrder must be \"ascending\" or \"descending\", not \"{other}\""
            )));
        }
    };
    let path = scim_filter_parser::parse_attr_path(sort_by)
        .map_err(|e| Error::InvalidValue(format!("invalid sortBy \"{sort_by}\": {e}")))?;
    let r = Resolver { registry, kind };
    let key = match r.locate(&path)? {
        // Sorting by a multi-valued attribute uses its primary value (RFC 7644 §3.4.2.3).
        Located::Column(Column::Email, _) => {
            let emails = registry
                .core(kind)
                .attribute("emails")
                .ok_or_else(|| Error::InvalidValue("emails is not defined".into()))?;
            SortKey::Primary {
                ext: None,
                attr: emails.name.clone(),
                sub: r.element(emails, "value")?,
            }
        }
        Located::Column(Column::Member | Column::Group, _) => {
            return Err(Error::InvalidValue(format!("cannot sort by \"{sort_by}\"")));
        }
        Located::Column(c, _) => SortKey::Column(c),
        Located::Json(j) => SortKey::Json(j),
        Located::Ext(e) if e.multi_valued => {
            return Err(Error::InvalidValue(format!(
                "cannot sort by \"{sort_by}\": it has many values and no primary one"
            )));
        }
        Located::Ext(e) => SortKey::Ext(e),
        Located::Multi { ext, attr, sub } => {
            let sub = match sub {
                Some(s) => s,
                None => r.element(attr, "value")?,
            };
            SortKey::Primary {
                ext,
                attr: attr.name.clone(),
                sub,
            }
        }
    };
    Ok((key, order))
}

/// Where an attribute path leads.
enum Located<'r> {
    Column(Column, AttrType),
    Json(JsonField),
    Ext(ExtField),
    Multi {
        ext: Option<String>,
        attr: &'r Attribute,
        sub: Option<ElementField>,
    },
}

struct Resolver<'r> {
    registry: &'r Registry,
    kind: ResourceKind,
}

impl<'r> Resolver<'r> {
    fn filter(&self, f: &Filter) -> Result<Expr> {
        Ok(match f {
            Filter::And(items) => Expr::And(
                items
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<_>>()?,
            ),
            Filter::Or(items) => Expr::Or(
                items
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<_>>()?,
            ),
            Filter::Not(inner) => Expr::Not(Box::new(self.filter(inner)?)),
            Filter::Present(path) => match self.locate(path)? {
                Located::Column(c, _) => Expr::Present(Field::Column(c)),
                Located::Json(j) => Expr::Present(Field::Json(j)),
                Located::Ext(e) => Expr::Present(Field::Ext(e)),
                Located::Multi { ext, attr, sub } => Expr::Any {
                    ext,
                    attr: attr.name.clone(),
                    filter: sub.map(|s| Box::new(Expr::Present(Field::Element(s)))),
                },
            },
            Filter::Compare { path, op, value } => match self.locate(path)? {
                Located::Column(c, t) => compare(path, Field::Column(c), t, *op, value)?,
                Located::Json(j) => {
                    let t = j.kind;
                    compare(path, Field::Json(j), t, *op, value)?
                }
                Located::Ext(e) => {
                    let t = e.kind;
                    compare(path, Field::Ext(e), t, *op, value)?
                }
                Located::Multi { ext, attr, sub } => {
                    // RFC 7644 §3.4.2.2: a complex multi-valued attribute without a
                    // sub-attribute compares its "value".
                    let sub = match sub {
                        Some(s) => s,
                        None => self.element(attr, "value")?,
                    };
                    let t = sub.kind;
                    Expr::Any {
                        ext,
                        attr: attr.name.clone(),
                        filter: Some(Box::new(compare(path, Field::Element(sub), t, *op, value)?)),
                    }
                }
            },
            Filter::ValuePath { attr, filter } => match self.locate(attr)? {
                Located::Multi {
                    ext,
                    attr: def,
                    sub: None,
                } => Expr::Any {
                    ext,
                    attr: def.name.clone(),
                    filter: Some(Box::new(self.element_filter(def, filter)?)),
                },
                // `emails[value eq "x"]` on the indexed email column.
                Located::Column(Column::Email, _) => self.element_on_column(filter)?,
                _ => {
                    return Err(Error::InvalidFilter(format!(
                        "'{}' is not a multi-valued complex attribute",
                        attr.name
                    )));
                }
            },
        })
    }

    /// `emails[...]` where only `value` conditions are used can run on the email index.
    fn element_on_column(&self, filter: &Filter) -> Result<Expr> {
        let core = self.registry.core(self.kind);
        let Some(emails) = core.attribute("emails") else {
            return Err(Error::InvalidFilter("emails is not defined".into()));
        };
        Ok(Expr::Any {
            ext: None,
            attr: emails.name.clone(),
            filter: Some(Box::new(self.element_filter(emails, filter)?)),
        })
    }

    /// A value filter's inner condition: paths are sub-attributes of one element.
    fn element_filter(&self, attr: &Attribute, f: &Filter) -> Result<Expr> {
        Ok(match f {
            Filter::And(items) => Expr::And(
                items
                    .iter()
                    .map(|f| self.element_filter(attr, f))
                    .collect::<Result<_>>()?,
            ),
            Filter::Or(items) => Expr::Or(
                items
                    .iter()
                    .map(|f| self.element_filter(attr, f))
                    .collect::<Result<_>>()?,
            ),
            Filter::Not(inner) => Expr::Not(Box::new(self.element_filter(attr, inner)?)),
            Filter::Present(path) => Expr::Present(Field::Element(self.element(attr, &path.name)?)),
            Filter::Compare { path, op, value } => {
                let e = self.element(attr, &path.name)?;
                let t = e.kind;
                compare(path, Field::Element(e), t, *op, value)?
            }
            Filter::ValuePath { .. } => {
                return Err(Error::InvalidFilter(
                    "value filters cannot be nested".into(),
                ));
            }
        })
    }

    fn element(&self, attr: &Attribute, name: &str) -> Result<ElementField> {
        let sub = attr.sub(name).ok_or_else(|| {
            Error::InvalidFilter(format!("'{}' has no sub-attribute '{name}'", attr.name))
        })?;
        Ok(ElementField {
            sub: sub.name.clone(),
            kind: sub.kind,
            case_exact: sub.case_exact,
        })
    }

    /// Finds what an attribute path names: an indexed column, a JSON attribute, or a
    /// multi-valued attribute (with the sub-attribute, if one was named).
    fn locate(&self, path: &AttrPath) -> Result<Located<'r>> {
        let core = self.registry.core(self.kind);
        let ext = match &path.urn {
            None => None,
            Some(urn) if urn.eq_ignore_ascii_case(&core.id) => None,
            Some(urn) => Some(self.registry.extension(self.kind, urn).ok_or_else(|| {
                Error::InvalidFilter(format!(
                    "the schema \"{urn}\" is not used by {} resources",
                    self.kind.name()
                ))
            })?),
        };
        let name = path.name.as_str();
        let sub = path.sub_attr.as_deref();
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if ext.is_none() {
            let column = match (self.kind, sub) {
                (_, None) if eq(name, "id") => Some((Column::Id, AttrType::String)),
                (_, None) if eq(name, "externalId") => Some((Column::ExternalId, AttrType::String)),
                (_, Some(s)) if eq(name, "meta") && eq(s, "resourceType") => {
                    Some((Column::ResourceType, AttrType::String))
                }
                (_, Some(s)) if eq(name, "meta") && eq(s, "created") => {
                    Some((Column::Created, AttrType::DateTime))
                }
                (_, Some(s)) if eq(name, "meta") && eq(s, "lastModified") => {
                    Some((Column::LastModified, AttrType::DateTime))
                }
                (_, None) if eq(name, "displayName") => {
                    Some((Column::DisplayName, AttrType::String))
                }
                (ResourceKind::User, None) if eq(name, "userName") => {
                    Some((Column::UserName, AttrType::String))
                }
                (ResourceKind::User, None) if eq(name, "active") => {
                    Some((Column::Active, AttrType::Boolean))
                }
                (ResourceKind::User, Some(s)) if eq(name, "emails") && eq(s, "value") => {
                    Some((Column::Email, AttrType::String))
                }
                (ResourceKind::User, Some(s)) if eq(name, "groups") && eq(s, "value") => {
                    Some((Column::Group, AttrType::String))
                }
                (ResourceKind::Group, Some(s)) if eq(name, "members") && eq(s, "value") => {
                    Some((Column::Member, AttrType::String))
                }
                _ => None,
            };
            if let Some((c, t)) = column {
                return Ok(Located::Column(c, t));
            }
            if eq(name, "meta") || eq(name, "id") || eq(name, "externalId") {
                return Err(Error::InvalidFilter(format!(
                    "filtering on '{}' is not supported",
                    display(path)
                )));
            }
        }
        let schema = ext.unwrap_or(core);
        let attr = schema.attribute(name).ok_or_else(|| {
            Error::InvalidFilter(format!(
                "the attribute '{}' is not defined for {} resources",
                display(path),
                self.kind.name()
            ))
        })?;
        if matches!(attr.returned, crate::schema::Returned::Never) {
            return Err(Error::InvalidFilter(format!(
                "'{}' cannot be filtered",
                attr.name
            )));
        }
        if ext.is_none()
            && ((self.kind == ResourceKind::User && attr.name == "groups")
                || (self.kind == ResourceKind::Group && attr.name == "members"))
        {
            return Err(Error::InvalidFilter(format!(
                "'{}' can be filtered by its value only: {}.value eq \"id\"",
                attr.name, attr.name
            )));
        }
        if let (Some(table), Some(column), None) = (
            ext.and_then(|e| e.table.as_ref()),
            attr.column.as_ref(),
            sub,
        ) {
            // A multi-valued attribute's values are rows of their own table.
            let (table, column) = if attr.multi_valued {
                (column.clone(), "value".to_owned())
            } else {
                (table.clone(), column.clone())
            };
            return Ok(Located::Ext(ExtField {
                table,
                column,
                kind: attr.kind,
                case_exact: attr.case_exact,
                multi_valued: attr.multi_valued,
                ordered: ext.is_some_and(|e| e.ordered)
                    && !attr.multi_valued
                    && attr.uniqueness != Uniqueness::Server,
            }));
        }
        let ext_id = ext.map(|e| e.id.clone());
        if attr.multi_valued {
            let sub = sub.map(|s| self.element(attr, s)).transpose()?;
            return Ok(Located::Multi {
                ext: ext_id,
                attr,
                sub,
            });
        }
        let (kind, case_exact, sub_name) = match sub {
            Some(s) => {
                let d = attr.sub(s).ok_or_else(|| {
                    Error::InvalidFilter(format!("'{}' has no sub-attribute '{s}'", attr.name))
                })?;
                (d.kind, d.case_exact, Some(d.name.clone()))
            }
            None if attr.kind == AttrType::Complex => match attr.sub("value") {
                Some(d) => (d.kind, d.case_exact, Some(d.name.clone())),
                None => {
                    return Err(Error::InvalidFilter(format!(
                        "'{}' is complex: name one of its sub-attributes",
                        attr.name
                    )));
                }
            },
            None => (attr.kind, attr.case_exact, None),
        };
        Ok(Located::Json(JsonField {
            ext: ext_id,
            attr: attr.name.clone(),
            sub: sub_name,
            kind,
            case_exact,
        }))
    }
}

fn display(path: &AttrPath) -> String {
    match &path.sub_attr {
        Some(s) => format!("{}.{s}", path.name),
        None => path.name.clone(),
    }
}

/// Builds one comparison, checking the operator and the literal against the attribute's type
/// (RFC 7644 §3.4.2.2: `gt`/`ge`/`lt`/`le` on booleans or binaries are `invalidFilter`).
fn compare(
    path: &AttrPath,
    field: Field,
    attr_type: AttrType,
    op: CompareOp,
    value: &CompValue,
) -> Result<Expr> {
    let ordering = matches!(
        op,
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    );
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    let bad = |why: &str| Error::InvalidFilter(format!("'{}': {why}", display(path)));
    if let CompValue::Null = value {
        // RFC 7643 §2.5: null is unassigned, so `eq null` is "not present".
        return match op {
            CompareOp::Eq => Ok(Expr::Not(Box::new(present(field)))),
            CompareOp::Ne => Ok(present(field)),
            _ => Err(bad("null compares only with eq or ne")),
        };
    }
    let operand = match (attr_type, value) {
        (AttrType::Boolean, CompValue::Bool(b)) if !ordering && !substring => Operand::Bool(*b),
        (AttrType::Boolean, _) => {
            return Err(bad(
                "a boolean compares only with eq or ne and true or false",
            ));
        }
        (AttrType::Binary | AttrType::Complex, _) => {
            return Err(bad("binary and complex values cannot be compared"));
        }
        (AttrType::Integer, CompValue::Number(n)) if !substring => integer(n)
            .map(Operand::Int)
            .or_else(|| n.parse::<f64>().ok().map(Operand::Num))
            .ok_or_else(|| bad("expects a number"))?,
        (AttrType::Decimal, CompValue::Number(n)) if !substring => {
            Operand::Num(n.parse::<f64>().map_err(|_| bad("expects a number"))?)
        }
        (AttrType::Integer | AttrType::Decimal, _) => {
            return Err(bad(
                "a number compares with eq, ne, gt, ge, lt or le and a number",
            ));
        }
        (AttrType::DateTime, CompValue::Str(s)) if !substring => {
            if let Field::Column(_) | Field::Ext(_) = field {
                // Columns hold fixed-width UTC text, so the operand takes the same form.
                let t = crate::validate::parse_datetime(s)
                    .ok_or_else(|| bad("expects an RFC 3339 dateTime"))?;
                Operand::Str(crate::render::timestamp(&t))
            } else {
                Operand::Str(s.clone())
            }
        }
        (AttrType::DateTime, _) => return Err(bad("a dateTime compares with a quoted dateTime")),
        (AttrType::String | AttrType::Reference, CompValue::Str(s)) => {
            if field.case_exact() {
                Operand::Str(s.clone())
            } else {
                Operand::Str(fold(s))
            }
        }
        (AttrType::String | AttrType::Reference, _) => return Err(bad("expects a quoted string")),
    };
    Ok(Expr::Compare(field, op, operand))
}

/// A literal compared with an `integer` attribute as a whole number when it is one (`10` and
/// `10.0` alike), so it stays exact past 2^53 and an index on a bigint column can serve it.
fn integer(literal: &str) -> Option<i64> {
    literal.parse::<i64>().ok().or_else(|| {
        let n = literal.parse::<f64>().ok()?;
        // Well inside i64, so the conversion below is exact.
        (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
    })
}

fn present(field: Field) -> Expr {
    Expr::Present(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE_USER;

    fn user(f: &str) -> Result<Expr> {
        resolve_filter(
            Registry::builtin(),
            ResourceKind::User,
            f,
            &crate::limits::Limits::default(),
        )
    }

    fn s(v: &str) -> Operand {
        Operand::Str(v.into())
    }

    #[test]
    fn integer_literals_stay_exact() {
        assert_eq!(integer("10"), Some(10));
        assert_eq!(integer("10.0"), Some(10));
        assert_eq!(integer("9007199254740993"), Some(9_007_199_254_740_993));
        assert_eq!(integer("1.5"), None);
        assert_eq!(integer("1e300"), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_what_was_not_issued() {
        let at = After {
            created: "2026-11-23T14:33:00.123456Z".into(),
            id: "6f1c2a9e-0000-4000-8000-000000000001".into(),
            backward: false,
        };
        let cursor = at.cursor();
        assert!(cursor.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(After::from_cursor(&cursor).unwrap(), at);
        let back = After {
            backward: true,
            ..at.clone()
        };
        assert_ne!(back.cursor(), cursor);
        assert_eq!(After::from_cursor(&back.cursor()).unwrap(), back);
        for bad in ["", "0", "zz", "41", &cursor[..cursor.len() - 2]] {
            assert!(
                matches!(After::from_cursor(bad), Err(Error::InvalidCursor(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn indexed_attributes_use_columns_with_case_rules() {
        assert_eq!(
            user("userName eq \"BJensen\"").unwrap(),
            Expr::Compare(Field::Column(Column::UserName), CompareOp::Eq, s("bjensen"))
        );
        assert_eq!(
            user("externalId eq \"AbC\"").unwrap(),
            Expr::Compare(Field::Column(Column::ExternalId), CompareOp::Eq, s("AbC"))
        );
        assert_eq!(
            user("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"B\"").unwrap(),
            Expr::Compare(Field::Column(Column::UserName), CompareOp::Sw, s("b"))
        );
        assert_eq!(
            user("emails.value eq \"A@X.org\"").unwrap(),
            Expr::Compare(Field::Column(Column::Email), CompareOp::Eq, s("a@x.org"))
        );
    }

    #[test]
    fn other_attributes_are_json_fields() {
        let title = JsonField {
            ext: None,
            attr: "title".into(),
            sub: None,
            kind: AttrType::String,
            case_exact: false,
        };
        assert_eq!(
            user("TITLE co \"Lead\"").unwrap(),
            Expr::Compare(Field::Json(title), CompareOp::Co, s("lead"))
        );
        let dept = user(&format!("{ENTERPRISE_USER}:department eq \"R&D\"")).unwrap();
        assert!(matches!(
            dept,
            Expr::Compare(Field::Json(JsonField { ext: Some(_), .. }), _, _)
        ));
        let manager = user(&format!("{ENTERPRISE_USER}:manager.value eq \"m\"")).unwrap();
        assert!(matches!(
            manager,
            Expr::Compare(Field::Json(JsonField { sub: Some(ref v), .. }), _, _) if v == "value"
        ));
    }

    #[test]
    fn multi_valued_attributes_match_any_element() {
        let e = user("emails[type eq \"work\" and value co \"@X\"]").unwrap();
        let Expr::Any {
            attr,
            filter: Some(inner),
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(attr, "emails");
        let Expr::And(items) = *inner else { panic!() };
        assert_eq!(
            items[1],
            Expr::Compare(
                Field::Element(ElementField {
                    sub: "value".into(),
                    kind: AttrType::String,
                    case_exact: false
                }),
                CompareOp::Co,
                s("@x")
            )
        );
        assert!(matches!(
            user("phoneNumbers.type eq \"work\"").unwrap(),
            Expr::Any { .. }
        ));
        assert!(matches!(
            user("ims pr").unwrap(),
            Expr::Any { filter: None, .. }
        ));
    }

    #[test]
    fn errors_are_invalid_filter() {
        for f in [
            "userName eq",
            "shoeSize eq 3",
            "active gt true",
            "userName eq 3",
            "x509Certificates.value eq \"x\"",
            "name eq \"x\"",
            "password eq \"x\"",
            "emails[type eq \"work\"].value eq \"x\"",
            "urn:example:nope:attr eq \"x\"",
        ] {
            assert!(matches!(user(f), Err(Error::InvalidFilter(_))), "{f}");
        }
    }

    #[test]
    fn sort_keys() {
        let r = Registry::builtin();
        assert_eq!(
            resolve_sort(r, ResourceKind::User, "userName", None).unwrap(),
            (SortKey::Column(Column::UserName), SortOrder::Ascending)
        );
        assert!(matches!(
            resolve_sort(r, ResourceKind::User, "emails", Some("descending")).unwrap(),
            (SortKey::Primary { .. }, SortOrder::Descending)
        ));
        assert!(resolve_sort(r, ResourceKind::User, "userName", Some("up")).is_err());
    }

    #[test]
    fn paging_edges_follow_rfc_7644_3_4_2_4() {
        let p = Paging {
            default_count: 100,
            max_results: 1000,
        };
        assert_eq!(p.page(None, None), (1, 100));
        assert_eq!(p.page(Some(0), Some(-5)), (1, 0));
        assert_eq!(p.page(Some(-3), Some(5000)), (1, 1000));
        assert_eq!(p.page(Some(7), Some(0)), (7, 0));
    }
}
