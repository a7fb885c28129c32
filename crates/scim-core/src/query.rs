//! List requests (RFC 7644 §3.4.2): the filter resolved against the schema into conditions on
//! the columns a store indexes, and `startIndex`/`count` paging. Case rules come from the schema:
//! values compared with `caseExact: false` attributes are folded here, and the store compares
//! them with folded columns.

use scim_filter_parser::{AttrPath, CompValue, CompareOp, Filter};

use crate::error::{Error, Result};
use crate::schema::{AttrType, Attribute, Registry, ResourceKind};

/// Columns a store can filter on.
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
}

/// A literal to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// Text (already folded for case-insensitive columns).
    Str(String),
    /// A boolean.
    Bool(bool),
}

/// A filter over store columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `column op value`
    Compare(Column, CompareOp, Operand),
    /// `column pr`
    Present(Column),
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Must not hold.
    Not(Box<Expr>),
}

/// What a store needs to answer a list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreQuery {
    /// The condition, if any.
    pub filter: Option<Expr>,
    /// 1-based index of the first result.
    pub start_index: u64,
    /// Page size; 0 asks for the total only.
    pub count: u64,
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

/// Parses and resolves a filter for a resource type.
pub fn resolve_filter(registry: &Registry, kind: ResourceKind, text: &str) -> Result<Expr> {
    let filter = scim_filter_parser::parse_filter(text)
        .map_err(|e| Error::InvalidFilter(format!("invalid filter: {e}")))?;
    resolve(registry, kind, &filter)
}

fn resolve(registry: &Registry, kind: ResourceKind, filter: &Filter) -> Result<Expr> {
    Ok(match filter {
        Filter::And(items) => Expr::And(
            items
                .iter()
                .map(|f| resolve(registry, kind, f))
                .collect::<Result<_>>()?,
        ),
        Filter::Or(items) => Expr::Or(
            items
                .iter()
                .map(|f| resolve(registry, kind, f))
                .collect::<Result<_>>()?,
        ),
        Filter::Not(inner) => Expr::Not(Box::new(resolve(registry, kind, inner)?)),
        Filter::Present(path) => Expr::Present(column(registry, kind, path)?.0),
        Filter::Compare { path, op, value } => {
            let (col, attr_type) = column(registry, kind, path)?;
            compare(path, col, attr_type, *op, value)?
        }
        Filter::ValuePath { attr, filter } => value_path(registry, kind, attr, filter)?,
    })
}

/// `emails[value eq "x"]` and the like, for the sub-attributes that are indexed.
fn value_path(
    registry: &Registry,
    kind: ResourceKind,
    attr: &AttrPath,
    filter: &Filter,
) -> Result<Expr> {
    let rebase = |path: &AttrPath| AttrPath {
        urn: attr.urn.clone(),
        name: attr.name.clone(),
        sub_attr: Some(path.name.clone()),
    };
    let inner = match filter {
        Filter::Compare { path, op, value } => Filter::Compare {
            path: rebase(path),
            op: *op,
            value: value.clone(),
        },
        Filter::Present(path) => Filter::Present(rebase(path)),
        _ => {
            return Err(Error::InvalidFilter(format!(
                "value filters on '{}' with several conditions are not supported yet",
                attr.name
            )));
        }
    };
    resolve(registry, kind, &inner)
}

/// Maps an attribute path to an indexed column and its type.
fn column(registry: &Registry, kind: ResourceKind, path: &AttrPath) -> Result<(Column, AttrType)> {
    let core = registry.core(kind);
    if let Some(urn) = &path.urn
        && !urn.eq_ignore_ascii_case(&core.id)
    {
        if registry.schema(urn).is_none() {
            return Err(Error::InvalidFilter(format!(
                "unknown schema \"{urn}\" in filter"
            )));
        }
        return Err(not_yet(path));
    }
    let name = path.name.as_str();
    let sub = path.sub_attr.as_deref();
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let col = match (kind, sub) {
        (_, None) if eq(name, "id") => (Column::Id, AttrType::String),
        (_, None) if eq(name, "externalId") => (Column::ExternalId, AttrType::String),
        (_, Some(s)) if eq(name, "meta") && eq(s, "created") => {
            (Column::Created, AttrType::DateTime)
        }
        (_, Some(s)) if eq(name, "meta") && eq(s, "lastModified") => {
            (Column::LastModified, AttrType::DateTime)
        }
        (ResourceKind::User, None) if eq(name, "userName") => (Column::UserName, AttrType::String),
        (ResourceKind::User, None) if eq(name, "active") => (Column::Active, AttrType::Boolean),
        (ResourceKind::User, None) if eq(name, "emails") => (Column::Email, AttrType::String),
        (ResourceKind::User, Some(s)) if eq(name, "emails") && eq(s, "value") => {
            (Column::Email, AttrType::String)
        }
        (_, None) if eq(name, "displayName") => (Column::DisplayName, AttrType::String),
        _ => {
            let attr: Option<&Attribute> = core.attribute(name);
            let known = match (attr, sub) {
                (Some(a), Some(s)) => a.sub(s).is_some(),
                (Some(_), None) => true,
                (None, _) => eq(name, "meta"),
            };
            return Err(if known {
                not_yet(path)
            } else {
                Error::InvalidFilter(format!(
                    "the attribute '{}' is not defined for {} resources",
                    display(path),
                    kind.name()
                ))
            });
        }
    };
    Ok(col)
}

fn display(path: &AttrPath) -> String {
    match &path.sub_attr {
        Some(s) => format!("{}.{s}", path.name),
        None => path.name.clone(),
    }
}

fn not_yet(path: &AttrPath) -> Error {
    Error::InvalidFilter(format!(
        "filtering on '{}' is not supported yet; supported: id, externalId, userName, \
         displayName, emails.value, active, meta.created, meta.lastModified",
        display(path)
    ))
}

/// Builds one comparison, checking the operator against the attribute's type.
fn compare(
    path: &AttrPath,
    col: Column,
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
    let operand = match (attr_type, value) {
        (AttrType::Boolean, CompValue::Bool(b)) if !ordering && !substring => Operand::Bool(*b),
        (AttrType::Boolean, _) => {
            return Err(bad(
                "a boolean compares only with eq or ne and true or false",
            ));
        }
        (AttrType::DateTime, CompValue::Str(s)) if !substring => {
            let t = chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|_| bad("expects an RFC 3339 dateTime"))?;
            Operand::Str(crate::render::timestamp(&t.with_timezone(&chrono::Utc)))
        }
        (AttrType::DateTime, _) => return Err(bad("a dateTime compares with a quoted dateTime")),
        (_, CompValue::Str(s)) => match col {
            Column::Id | Column::ExternalId => Operand::Str(s.clone()),
            _ => Operand::Str(fold(s)),
        },
        (_, CompValue::Null) if matches!(op, CompareOp::Eq | CompareOp::Ne) => {
            // `attr eq null` is "not present" (RFC 7644 §3.4.2.2 treats null as unassigned).
            let absent = Expr::Not(Box::new(Expr::Present(col)));
            return Ok(if op == CompareOp::Eq {
                absent
            } else {
                Expr::Present(col)
            });
        }
        _ => return Err(bad("expects a quoted string")),
    };
    Ok(Expr::Compare(col, op, operand))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(f: &str) -> Result<Expr> {
        resolve_filter(Registry::builtin(), ResourceKind::User, f)
    }

    #[test]
    fn the_filters_idps_start_with() {
        assert_eq!(
            user("userName eq \"BJensen\"").unwrap(),
            Expr::Compare(
                Column::UserName,
                CompareOp::Eq,
                Operand::Str("bjensen".into())
            )
        );
        assert_eq!(
            user("externalId eq \"AbC\"").unwrap(),
            Expr::Compare(
                Column::ExternalId,
                CompareOp::Eq,
                Operand::Str("AbC".into())
            )
        );
        assert_eq!(
            user("emails[value eq \"A@X.org\"]").unwrap(),
            Expr::Compare(Column::Email, CompareOp::Eq, Operand::Str("a@x.org".into()))
        );
        assert_eq!(
            user("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"b\"").unwrap(),
            Expr::Compare(Column::UserName, CompareOp::Sw, Operand::Str("b".into()))
        );
    }

    #[test]
    fn errors_are_invalid_filter() {
        for f in [
            "userName eq",
            "shoeSize eq 3",
            "active gt true",
            "userName eq 3",
            "title pr",
        ] {
            assert!(matches!(user(f), Err(Error::InvalidFilter(_))), "{f}");
        }
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
