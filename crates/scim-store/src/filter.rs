//! Core filter expressions (`scim_core::query::Expr`) as diesel expressions with bound
//! parameters. Substring operators become `LIKE` patterns with `%`, `_` and `\` escaped, so a
//! client's value always matches literally.

use diesel::dsl::not;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use scim_core::query::{Column, Expr, Operand};
use scim_filter_parser::CompareOp;

use crate::connection::AnyConnection;
use crate::schema::{groups, user_emails, users};

type Db = <AnyConnection as Connection>::Backend;
/// A boxed condition on the users table.
pub type UserCond = Box<dyn BoxableExpression<users::table, Db, SqlType = Bool>>;
/// A boxed condition on the groups table.
pub type GroupCond = Box<dyn BoxableExpression<groups::table, Db, SqlType = Bool>>;

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

/// One text comparison on a non-null column.
macro_rules! text_cmp {
    ($table:ty, $col:expr, $op:expr, $v:expr) => {{
        let c = $col;
        let v: String = $v;
        let b: Box<dyn BoxableExpression<$table, Db, SqlType = Bool>> = match $op {
            CompareOp::Eq => Box::new(c.eq(v)),
            CompareOp::Ne => Box::new(c.ne(v)),
            CompareOp::Co => Box::new(c.like(format!("%{}%", escape_like(&v))).escape('\\')),
            CompareOp::Sw => Box::new(c.like(format!("{}%", escape_like(&v))).escape('\\')),
            CompareOp::Ew => Box::new(c.like(format!("%{}", escape_like(&v))).escape('\\')),
            CompareOp::Gt => Box::new(c.gt(v)),
            CompareOp::Ge => Box::new(c.ge(v)),
            CompareOp::Lt => Box::new(c.lt(v)),
            CompareOp::Le => Box::new(c.le(v)),
        };
        b
    }};
}

/// A comparison on a nullable column: an absent value matches nothing (and `ne` is "present and
/// different"), so `not` around it behaves as SCIM expects instead of SQL's unknown.
macro_rules! nullable_cmp {
    ($table:ty, $col:expr, $op:expr, $v:expr) => {{
        let b: Box<dyn BoxableExpression<$table, Db, SqlType = Bool>> = Box::new(
            $col.is_not_null()
                .and(text_cmp!($table, $col.assume_not_null(), $op, $v)),
        );
        b
    }};
}

fn text(op: CompareOp, value: &Operand) -> Option<String> {
    let _ = op;
    match value {
        Operand::Str(s) => Some(s.clone()),
        Operand::Bool(_) => None,
    }
}

/// A condition nobody satisfies, for type mismatches the core already refuses.
fn never<T>() -> Box<dyn BoxableExpression<T, Db, SqlType = Bool>>
where
    diesel::dsl::AsExprOf<bool, Bool>: BoxableExpression<T, Db, SqlType = Bool>,
{
    Box::new(false.into_sql::<Bool>())
}

/// Translates a filter on Users.
pub fn users(expr: &Expr, tenant: &str) -> UserCond {
    match expr {
        Expr::And(items) => fold(items.iter().map(|e| users(e, tenant)), true),
        Expr::Or(items) => fold(items.iter().map(|e| users(e, tenant)), false),
        Expr::Not(inner) => Box::new(not(users(inner, tenant))),
        Expr::Present(col) => match col {
            Column::Id | Column::UserName | Column::Created | Column::LastModified => {
                Box::new(true.into_sql::<Bool>())
            }
            Column::ExternalId => Box::new(users::external_id.is_not_null()),
            Column::DisplayName => Box::new(users::display_name_folded.is_not_null()),
            Column::Active => Box::new(users::active.is_not_null()),
            Column::Email => Box::new(
                users::id.eq_any(
                    user_emails::table
                        .filter(user_emails::tenant_id.eq(tenant.to_owned()))
                        .select(user_emails::user_id),
                ),
            ),
        },
        Expr::Compare(col, op, value) => {
            if let (Column::Active, Operand::Bool(b)) = (col, value) {
                let b = *b;
                return match op {
                    CompareOp::Ne => Box::new(
                        users::active
                            .is_not_null()
                            .and(users::active.assume_not_null().ne(b)),
                    ),
                    _ => Box::new(
                        users::active
                            .is_not_null()
                            .and(users::active.assume_not_null().eq(b)),
                    ),
                };
            }
            let Some(v) = text(*op, value) else {
                return never();
            };
            match col {
                Column::Id => text_cmp!(users::table, users::id, *op, v),
                Column::UserName => text_cmp!(users::table, users::user_name_folded, *op, v),
                Column::Created => text_cmp!(users::table, users::created, *op, v),
                Column::LastModified => text_cmp!(users::table, users::last_modified, *op, v),
                Column::ExternalId => nullable_cmp!(users::table, users::external_id, *op, v),
                Column::DisplayName => {
                    nullable_cmp!(users::table, users::display_name_folded, *op, v)
                }
                Column::Active => never(),
                Column::Email => email(tenant, *op, v),
            }
        }
    }
}

/// Users with an email value matching: an `IN` over the indexed email table. Each operator is
/// spelled out because diesel cannot put a boxed condition inside a subquery.
fn email(tenant: &str, op: CompareOp, v: String) -> UserCond {
    let emails = || {
        user_emails::table
            .filter(user_emails::tenant_id.eq(tenant.to_owned()))
            .select(user_emails::user_id)
    };
    let col = user_emails::value_folded;
    match op {
        CompareOp::Eq => Box::new(users::id.eq_any(emails().filter(col.eq(v)))),
        CompareOp::Ne => Box::new(users::id.eq_any(emails().filter(col.ne(v)))),
        CompareOp::Co => Box::new(
            users::id
                .eq_any(emails().filter(col.like(format!("%{}%", escape_like(&v))).escape('\\'))),
        ),
        CompareOp::Sw => Box::new(
            users::id
                .eq_any(emails().filter(col.like(format!("{}%", escape_like(&v))).escape('\\'))),
        ),
        CompareOp::Ew => Box::new(
            users::id
                .eq_any(emails().filter(col.like(format!("%{}", escape_like(&v))).escape('\\'))),
        ),
        CompareOp::Gt => Box::new(users::id.eq_any(emails().filter(col.gt(v)))),
        CompareOp::Ge => Box::new(users::id.eq_any(emails().filter(col.ge(v)))),
        CompareOp::Lt => Box::new(users::id.eq_any(emails().filter(col.lt(v)))),
        CompareOp::Le => Box::new(users::id.eq_any(emails().filter(col.le(v)))),
    }
}

/// Translates a filter on Groups.
pub fn groups(expr: &Expr) -> GroupCond {
    match expr {
        Expr::And(items) => fold(items.iter().map(groups), true),
        Expr::Or(items) => fold(items.iter().map(groups), false),
        Expr::Not(inner) => Box::new(not(groups(inner))),
        Expr::Present(col) => match col {
            Column::ExternalId => Box::new(groups::external_id.is_not_null()),
            Column::Id | Column::DisplayName | Column::Created | Column::LastModified => {
                Box::new(true.into_sql::<Bool>())
            }
            Column::UserName | Column::Email | Column::Active => never(),
        },
        Expr::Compare(col, op, value) => {
            let Some(v) = text(*op, value) else {
                return never();
            };
            match col {
                Column::Id => text_cmp!(groups::table, groups::id, *op, v),
                Column::DisplayName => {
                    text_cmp!(groups::table, groups::display_name_folded, *op, v)
                }
                Column::Created => text_cmp!(groups::table, groups::created, *op, v),
                Column::LastModified => text_cmp!(groups::table, groups::last_modified, *op, v),
                Column::ExternalId => nullable_cmp!(groups::table, groups::external_id, *op, v),
                Column::UserName | Column::Email | Column::Active => never(),
            }
        }
    }
}

/// Joins conditions with `and` (`all`) or `or`.
fn fold<T: 'static>(
    items: impl Iterator<Item = Box<dyn BoxableExpression<T, Db, SqlType = Bool>>>,
    all: bool,
) -> Box<dyn BoxableExpression<T, Db, SqlType = Bool>>
where
    diesel::dsl::AsExprOf<bool, Bool>: BoxableExpression<T, Db, SqlType = Bool>,
{
    let mut acc: Option<Box<dyn BoxableExpression<T, Db, SqlType = Bool>>> = None;
    for item in items {
        acc = Some(match acc {
            None => item,
            Some(prev) if all => Box::new(prev.and(item)),
            Some(prev) => Box::new(prev.or(item)),
        });
    }
    acc.unwrap_or_else(|| Box::new(all.into_sql::<Bool>()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(super::escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
