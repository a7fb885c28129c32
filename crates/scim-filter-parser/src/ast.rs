//! The syntax tree of SCIM filters and PATCH paths, and its canonical printing.
//!
//! The tree is purely syntactic: names keep the case the client wrote, values are typed JSON literals
//! and nothing here knows a schema. `Display` prints a canonical form (lowercase keywords, single
//! spaces, minimal parentheses) that parses back to an equal value; scim-core relies on that to log
//! and echo filters.

use std::fmt;

/// An attribute path: `[URI ":"] ATTRNAME ["." subAttr]` (RFC 7644 §3.10).
///
/// `"name.familyName"` has `urn: None`, `name: "name"`, `sub_attr: Some("familyName")`.
/// `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"` has
/// `urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")`, `name: "manager"`,
/// `sub_attr: Some("value")`. Names keep the client's case; comparing them case-insensitively is the
/// caller's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, without the `:` that separates it from the attribute name.
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name, without the leading `.`.
    pub sub_attr: Option<String>,
}

/// A comparison operator (RFC 7644 §3.4.2.2, table 3). `pr` is not here: it takes no value and is
/// represented by [`Filter::Present`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// Every operator with its lowercase keyword; the parser and `Display` share this table so they
    /// cannot drift apart.
    pub(crate) const ALL: [(Self, &'static str); 9] = [
        (Self::Eq, "eq"),
        (Self::Ne, "ne"),
        (Self::Co, "co"),
        (Self::Sw, "sw"),
        (Self::Ew, "ew"),
        (Self::Gt, "gt"),
        (Self::Ge, "ge"),
        (Self::Lt, "lt"),
        (Self::Le, "le"),
    ];

    /// The lowercase keyword.
    fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }
}

/// A comparison value: a JSON literal (RFC 7644 §3.4.2.2 `compValue`, rules from RFC 8259).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A JSON number, kept as the literal text the client wrote (already validated), so that the
    /// caller chooses integer, decimal or date-free comparison without a lossy float round trip.
    Number(String),
    /// A JSON string, unescaped.
    Str(String),
}

/// A parsed filter (RFC 7644 §3.4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attrPath compareOp compValue`
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The literal compared against.
        value: CompValue,
    },
    /// `attrPath pr`
    Present(AttrPath),
    /// `a and b and c`: n-ary and flattened, so long chains stay shallow. Parenthesised groups are
    /// kept as nested nodes (`(a and b) and c` is `And[And[a, b], c]`), which keeps printing exact.
    And(Vec<Filter>),
    /// `a or b or c`: n-ary and flattened like [`Filter::And`].
    Or(Vec<Filter>),
    /// `not (filter)`
    Not(Box<Filter>),
    /// `emails[type eq "work" and value co "@x"]`: `attr` has no `sub_attr`; the paths inside
    /// `filter` are relative to it (sub-attributes of `attr`).
    ValuePath {
        /// The multi-valued (or complex) attribute being filtered.
        attr: AttrPath,
        /// The filter applied to each value, with relative paths.
        filter: Box<Filter>,
    },
}

/// A PATCH operation path (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`.
///
/// `members[value eq "x"].display` has `attr: members`, `filter: Some(value eq "x")` and
/// `sub_attr: Some("display")`. Without a filter, a sub-attribute stays inside `attr`
/// (`name.givenName`), so `sub_attr` is only ever set together with `filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    /// The targeted attribute.
    pub attr: AttrPath,
    /// The value filter selecting elements of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after the value filter's closing bracket.
    pub sub_attr: Option<String>,
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => f.write_str(n),
            Self::Str(s) => write_json_string(f, s),
        }
    }
}

/// Writes `s` as a JSON string: the escapes RFC 8259 §7 requires (quote, backslash, control
/// characters) and nothing else, so non-ASCII text stays readable in logs.
fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c < '\u{20}' => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl Filter {
    /// Writes the operands of an n-ary node, parenthesising those that would otherwise re-associate.
    ///
    /// `and` binds tighter than `or`, so an `Or` inside an `And` needs parentheses. A nested node of
    /// the same kind needs them too: without them it would be flattened on re-parse and the round trip
    /// would not give an equal tree. An `And` inside an `Or` needs none.
    fn write_operands(
        f: &mut fmt::Formatter<'_>,
        operands: &[Filter],
        keyword: &str,
        inside_and: bool,
    ) -> fmt::Result {
        for (n, operand) in operands.iter().enumerate() {
            if n > 0 {
                write!(f, " {keyword} ")?;
            }
            let group = match operand {
                Filter::Or(_) => true,
                Filter::And(_) => inside_and,
                _ => false,
            };
            if group {
                write!(f, "({operand})")?;
            } else {
                write!(f, "{operand}")?;
            }
        }
        Ok(())
    }
}

/// Prints the canonical form. An `And`/`Or` with fewer than two operands cannot be written in the
/// grammar; it prints as its single operand (or nothing) and does not round-trip.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Self::Present(path) => write!(f, "{path} pr"),
            Self::And(operands) => Self::write_operands(f, operands, "and", true),
            Self::Or(operands) => Self::write_operands(f, operands, "or", false),
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.to_owned(),
            sub_attr: None,
        }
    }

    fn present(name: &str) -> Filter {
        Filter::Present(path(name))
    }

    #[test]
    fn op_table_matches_keywords() {
        for (op, kw) in CompareOp::ALL {
            assert_eq!(op.to_string(), kw);
        }
    }

    #[test]
    fn attr_path_display() {
        let table = [
            (path("userName"), "userName"),
            (
                AttrPath {
                    urn: None,
                    name: "name".into(),
                    sub_attr: Some("familyName".into()),
                },
                "name.familyName",
            ),
            (
                AttrPath {
                    urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
                    name: "manager".into(),
                    sub_attr: Some("value".into()),
                },
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            ),
        ];
        for (p, text) in table {
            assert_eq!(p.to_string(), text);
        }
    }

    #[test]
    fn comp_value_display_escapes_json() {
        let table = [
            (CompValue::Null, "null"),
            (CompValue::Bool(true), "true"),
            (CompValue::Bool(false), "false"),
            (CompValue::Number("-1.5e3".into()), "-1.5e3"),
            (CompValue::Str(String::new()), "\"\""),
            (CompValue::Str("O'Malley".into()), "\"O'Malley\""),
            (CompValue::Str("a\"b\\c/d".into()), "\"a\\\"b\\\\c/d\""),
            (
                CompValue::Str("\n\r\t\u{8}\u{c}\u{1}".into()),
                "\"\\n\\r\\t\\b\\f\\u0001\"",
            ),
            (CompValue::Str("é😀".into()), "\"é😀\""),
        ];
        for (v, text) in table {
            assert_eq!(v.to_string(), text);
        }
    }

    #[test]
    fn filter_display_parenthesises_only_where_needed() {
        let table = [
            (
                Filter::And(vec![
                    present("a"),
                    Filter::Or(vec![present("b"), present("c")]),
                ]),
                "a pr and (b pr or c pr)",
            ),
            (
                Filter::Or(vec![
                    present("a"),
                    Filter::And(vec![present("b"), present("c")]),
                ]),
                "a pr or b pr and c pr",
            ),
            (
                Filter::And(vec![
                    Filter::And(vec![present("a"), present("b")]),
                    present("c"),
                ]),
                "(a pr and b pr) and c pr",
            ),
            (
                Filter::Or(vec![
                    Filter::Or(vec![present("a"), present("b")]),
                    present("c"),
                ]),
                "(a pr or b pr) or c pr",
            ),
            (Filter::Not(Box::new(present("a"))), "not (a pr)"),
            (
                Filter::ValuePath {
                    attr: path("emails"),
                    filter: Box::new(Filter::Or(vec![present("a"), present("b")])),
                },
                "emails[a pr or b pr]",
            ),
        ];
        for (filter, text) in table {
            assert_eq!(filter.to_string(), text);
        }
    }

    #[test]
    fn patch_path_display() {
        let p = PatchPath {
            attr: path("members"),
            filter: Some(Filter::Compare {
                path: path("value"),
                op: CompareOp::Eq,
                value: CompValue::Str("x".into()),
            }),
            sub_attr: Some("display".into()),
        };
        assert_eq!(p.to_string(), "members[value eq \"x\"].display");
    }
}
