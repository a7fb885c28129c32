//! The filter grammar of RFC 7644 §3.4.2.2 (figure 1, with erratum 7319), rewritten for precedence.
//!
//! Figure 1 is ambiguous (`logExp = FILTER SP ("and" / "or") SP FILTER`) and left-recursive; the
//! prose says `and` binds tighter than `or` and parentheses group. So, as in nom's
//! `tests/arithmetic_ast.rs`, the grammar is layered:
//!
//! ```abnf
//! FILTER  = orExp
//! orExp   = andExp *(1*WSP "or" 1*WSP andExp)
//! andExp  = term *(1*WSP "and" 1*WSP term)
//! term    = group / notExp / attrExp / valuePath
//! ```
//!
//! Chains are loops, never recursion, and produce one flattened n-ary node, so a 100,000-term `or`
//! costs no stack. Recursion happens only at `(`, `not (` and `[`, and each of those spends one unit
//! of the [`Limits::max_depth`] budget first; running out is an `Err::Failure`, which nom never
//! retries. This module knows only syntax: which attributes exist is scim-core's business.

use std::cell::Cell;

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::take_while1;
use nom::character::complete::char;
use nom::combinator::opt;

use crate::Limits;
use crate::ast::{CompareOp, Filter};
use crate::error::{ErrorKind, Fail};
use crate::lex::{
    EXPECTED_TERM, PResult, expect, failure, is_name_char, keyword, required_wsp, wsp0, wsp1,
};
use crate::path::{EXPECTED_NO_FILTER, attr_path};
use crate::value::{EXPECTED_VALUE, comp_value};

/// What a missing or unknown operator after an attribute path is reported as.
pub(crate) const EXPECTED_OP: &str = "comparison operator";

/// The resource budget of one parse: the limits plus the number of leaves seen so far.
///
/// Depth is passed down the recursion by value (it unwinds by itself); the leaf count is global to
/// the parse, so it lives in a `Cell` shared by reference.
pub(crate) struct Budget {
    limits: Limits,
    terms: Cell<usize>,
}

impl Budget {
    /// A fresh budget for one call of a `parse_*` function.
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            terms: Cell::new(0),
        }
    }

    /// Spends one nesting level for the group opening at `at`; fails hard past `max_depth`.
    fn nest<'a>(&self, depth: usize, at: &'a str) -> Result<usize, nom::Err<Fail<'a>>> {
        let depth = depth.saturating_add(1);
        if depth > self.limits.max_depth {
            return Err(nom::Err::Failure(Fail::new(
                at,
                ErrorKind::TooDeep,
                "less deeply nested filter",
            )));
        }
        Ok(depth)
    }

    /// Counts one comparison or presence test starting at `at`; fails hard past `max_terms`.
    fn count_term<'a>(&self, at: &'a str) -> Result<(), nom::Err<Fail<'a>>> {
        let terms = self.terms.get().saturating_add(1);
        self.terms.set(terms);
        if terms > self.limits.max_terms {
            return Err(nom::Err::Failure(Fail::new(
                at,
                ErrorKind::TooDeep,
                "fewer comparisons",
            )));
        }
        Ok(())
    }
}

/// Where a filter is being parsed. Inside `[...]` paths are relative and brackets may not nest
/// (figure 1: `valFilter` has no `valuePath` alternative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A top-level filter (or one inside parentheses at top level).
    Filter,
    /// The `valFilter` inside a value path's brackets.
    ValFilter,
}

/// What an attribute path followed directly by `[` inside brackets is reported as.
const EXPECTED_NO_NESTING: &str = "comparison operator; value filters cannot nest";

/// ```abnf
/// FILTER    = attrExp / logExp / valuePath / *1("not" *WSP) "(" FILTER ")"     ; erratum 7319
/// valFilter = attrExp / logExp / *1("not" *WSP) "(" valFilter ")"
/// ```
/// Both are parsed as `orExp`; `scope` tells them apart.
pub(crate) fn filter<'a>(
    budget: &Budget,
    depth: usize,
    scope: Scope,
    i: &'a str,
) -> PResult<'a, Filter> {
    or_exp(budget, depth, scope, i)
}

/// ```abnf
/// orExp = andExp *(1*WSP "or" 1*WSP andExp)
/// ```
fn or_exp<'a>(budget: &Budget, depth: usize, scope: Scope, i: &'a str) -> PResult<'a, Filter> {
    let (mut rest, first) = and_exp(budget, depth, scope, i)?;
    let mut operands = vec![first];
    while let (after_or, Some(())) = opt(connective("or")).parse(rest)? {
        let (after_operand, operand) = and_exp(budget, depth, scope, after_or)?;
        operands.push(operand);
        rest = after_operand;
    }
    Ok((rest, collapse(operands, Filter::Or)))
}

/// ```abnf
/// andExp = term *(1*WSP "and" 1*WSP term)
/// ```
fn and_exp<'a>(budget: &Budget, depth: usize, scope: Scope, i: &'a str) -> PResult<'a, Filter> {
    let (mut rest, first) = term(budget, depth, scope, i)?;
    let mut operands = vec![first];
    while let (after_and, Some(())) = opt(connective("and")).parse(rest)? {
        let (after_operand, operand) = term(budget, depth, scope, after_and)?;
        operands.push(operand);
        rest = after_operand;
    }
    Ok((rest, collapse(operands, Filter::And)))
}

/// A chain of one operand is just that operand; longer chains become one n-ary node.
fn collapse(operands: Vec<Filter>, node: fn(Vec<Filter>) -> Filter) -> Filter {
    match <[Filter; 1]>::try_from(operands) {
        Ok([only]) => only,
        Err(operands) => node(operands),
    }
}

/// ```abnf
/// 1*WSP ("and" / "or") 1*WSP
/// ```
/// Soft until the keyword is seen, so `a pr` followed by trailing text ends the chain. Once the
/// keyword is there, whitespace and an operand are mandatory: `a pr and` is an error, not
/// trailing input.
fn connective<'a>(kw: &'static str) -> impl Fn(&'a str) -> PResult<'a, ()> {
    move |i| {
        let (rest, _) = wsp1(i)?;
        let (rest, _) = keyword(kw)(rest)?;
        let (rest, _) = required_wsp(rest, EXPECTED_TERM, "whitespace")?;
        Ok((rest, ()))
    }
}

/// ```abnf
/// term = group / notExp / attrExp / valuePath
/// ```
/// Each alternative is soft only when it consumed nothing, so `alt` tries at most one in earnest.
fn term<'a>(budget: &Budget, depth: usize, scope: Scope, i: &'a str) -> PResult<'a, Filter> {
    expect(
        EXPECTED_TERM,
        alt((
            |i| group(budget, depth, scope, i),
            |i| not_exp(budget, depth, scope, i),
            |i| attr_exp(budget, depth, scope, i),
        )),
    )
    .parse(i)
}

/// ```abnf
/// group = "(" *WSP FILTER *WSP ")"
/// ```
/// Whitespace just inside the parentheses is not in figure 1 but is common and unambiguous.
/// A group yields its inner filter; it adds no node of its own.
fn group<'a>(budget: &Budget, depth: usize, scope: Scope, i: &'a str) -> PResult<'a, Filter> {
    let (rest, _) = char('(').parse(i)?;
    let depth = budget.nest(depth, i)?;
    let (rest, _) = wsp0(rest)?;
    let (rest, inner) = filter(budget, depth, scope, rest)?;
    let (rest, _) = wsp0(rest)?;
    let (rest, _) = expect("closing parenthesis", char(')')).parse(rest)?;
    Ok((rest, inner))
}

/// ```abnf
/// notExp = "not" *WSP group
/// ```
/// Figure 1 allows no space after `not`, yet the RFC's own example is `not (emails co …)`; erratum
/// 7319 (reported) proposes `"not" SP` or, for compatibility, an optional space, which is what this
/// accepts. Soft until the `(` is seen: `not pr` and `not eq 1` test an attribute *named* `not`.
fn not_exp<'a>(budget: &Budget, depth: usize, scope: Scope, i: &'a str) -> PResult<'a, Filter> {
    let (rest, _) = keyword("not")(i)?;
    let (rest, _) = wsp0(rest)?;
    if !rest.starts_with('(') {
        return Err(nom::Err::Error(Fail::syntax(rest, "opening parenthesis")));
    }
    let (rest, inner) = group(budget, depth, scope, rest)?;
    Ok((rest, Filter::Not(Box::new(inner))))
}

/// The word after an attribute path: `pr` or a comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `pr`
    Present,
    /// Any operator that takes a value.
    Compare(CompareOp),
}

/// ```abnf
/// compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"     ; or "pr"
/// ```
/// Case-insensitive (RFC 7644 §3.4.2.2: "attribute names and attribute operators used in filters
/// are case insensitive"). Reads a whole word first so that `eqx` is rejected rather than split.
fn operator(i: &str) -> PResult<'_, Operator> {
    let (rest, word) = expect(EXPECTED_OP, take_while1(is_name_char)).parse(i)?;
    if word.eq_ignore_ascii_case("pr") {
        return Ok((rest, Operator::Present));
    }
    match CompareOp::ALL
        .iter()
        .find(|(_, kw)| kw.eq_ignore_ascii_case(word))
    {
        Some(&(op, _)) => Ok((rest, Operator::Compare(op))),
        None => failure(i, ErrorKind::Syntax, EXPECTED_OP),
    }
}

/// ```abnf
/// attrExp   = (attrPath 1*WSP "pr") / (attrPath 1*WSP compareOp 1*WSP compValue)
/// valuePath = attrPath "[" valFilter "]"
/// ```
/// The two share the leading `attrPath`, so they are one function that decides on the next
/// character instead of parsing the path twice.
fn attr_exp<'a>(budget: &Budget, depth: usize, scope: Scope, i: &'a str) -> PResult<'a, Filter> {
    let (rest, path) = attr_path(i)?;
    if rest.starts_with('[') {
        if scope == Scope::ValFilter {
            return failure(rest, ErrorKind::Syntax, EXPECTED_NO_NESTING);
        }
        if path.sub_attr.is_some() {
            return failure(rest, ErrorKind::Syntax, EXPECTED_NO_FILTER);
        }
        let (rest, inner) = value_filter(budget, depth, rest)?;
        return Ok((
            rest,
            Filter::ValuePath {
                attr: path,
                filter: Box::new(inner),
            },
        ));
    }
    // Counted before the value is read, so an overlong chain stops at the first extra leaf.
    budget.count_term(i)?;
    let (rest, _) = required_wsp(rest, EXPECTED_OP, EXPECTED_OP)?;
    let (rest, op) = operator(rest)?;
    let op = match op {
        Operator::Present => return Ok((rest, Filter::Present(path))),
        Operator::Compare(op) => op,
    };
    let (rest, _) = required_wsp(rest, EXPECTED_VALUE, "whitespace")?;
    let (rest, value) = comp_value(rest)?;
    Ok((rest, Filter::Compare { path, op, value }))
}

/// ```abnf
/// "[" *WSP valFilter *WSP "]"        ; the bracketed part of valuePath
/// ```
/// Shared with PATCH paths (`members[value eq "x"].display`). Soft only without the `[`.
pub(crate) fn value_filter<'a>(budget: &Budget, depth: usize, i: &'a str) -> PResult<'a, Filter> {
    let (rest, _) = char('[').parse(i)?;
    let depth = budget.nest(depth, i)?;
    let (rest, _) = wsp0(rest)?;
    let (rest, inner) = filter(budget, depth, Scope::ValFilter, rest)?;
    let (rest, _) = wsp0(rest)?;
    let (rest, _) = expect("closing bracket", char(']')).parse(rest)?;
    Ok((rest, inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{AttrPath, CompValue};

    fn p(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.to_owned(),
            sub_attr: None,
        }
    }

    fn run(input: &str) -> PResult<'_, Filter> {
        filter(&Budget::new(Limits::default()), 0, Scope::Filter, input)
    }

    #[test]
    fn operator_known_answers() {
        let mut table: Vec<(String, Operator)> = CompareOp::ALL
            .iter()
            .flat_map(|&(op, kw)| {
                [
                    (kw.to_owned(), Operator::Compare(op)),
                    (kw.to_ascii_uppercase(), Operator::Compare(op)),
                ]
            })
            .collect();
        table.push(("pr".into(), Operator::Present));
        table.push(("PR".into(), Operator::Present));
        table.push(("Pr".into(), Operator::Present));
        for (input, expected) in &table {
            assert_eq!(operator(input), Ok(("", *expected)), "{input:?}");
        }
        for bad in ["eqx", "equals", "=", "", "and"] {
            assert!(
                matches!(operator(bad), Err(nom::Err::Failure(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn connective_is_soft_until_the_keyword() {
        let and = connective("and");
        assert_eq!(and(" and b"), Ok(("b", ())));
        assert_eq!(and("\tAND\t\tb"), Ok(("b", ())));
        for soft in ["and b", " or b", " andy", " )", ""] {
            assert!(matches!(and(soft), Err(nom::Err::Error(_))), "{soft:?}");
        }
        for hard in [" and", " and(b pr)"] {
            assert!(matches!(and(hard), Err(nom::Err::Failure(_))), "{hard:?}");
        }
    }

    #[test]
    fn term_alternatives() {
        let table = [
            ("title pr", Filter::Present(p("title"))),
            ("(title pr)", Filter::Present(p("title"))),
            ("( title pr )", Filter::Present(p("title"))),
            (
                "not (title pr)",
                Filter::Not(Box::new(Filter::Present(p("title")))),
            ),
            (
                "NOT(title pr)",
                Filter::Not(Box::new(Filter::Present(p("title")))),
            ),
            ("not pr", Filter::Present(p("not"))),
            (
                "not eq 1",
                Filter::Compare {
                    path: p("not"),
                    op: CompareOp::Eq,
                    value: CompValue::Number("1".into()),
                },
            ),
            (
                "emails[type pr]",
                Filter::ValuePath {
                    attr: p("emails"),
                    filter: Box::new(Filter::Present(p("type"))),
                },
            ),
        ];
        for (input, expected) in table {
            assert_eq!(run(input), Ok(("", expected)), "{input:?}");
        }
    }

    #[test]
    fn chains_stop_before_trailing_text() {
        // The chain loops give back unconsumed text; deciding that it is an error is the caller's job.
        assert_eq!(run("a pr xyz"), Ok((" xyz", Filter::Present(p("a")))));
        assert_eq!(run("a pr )"), Ok((" )", Filter::Present(p("a")))));
        assert_eq!(run("a pr andy"), Ok((" andy", Filter::Present(p("a")))));
    }

    #[test]
    fn budget_counts_depth_and_terms() {
        let budget = Budget::new(Limits {
            max_depth: 1,
            max_terms: 2,
        });
        assert_eq!(budget.nest(0, "("), Ok(1));
        assert!(budget.nest(1, "(").is_err());
        assert!(budget.count_term("a").is_ok());
        assert!(budget.count_term("b").is_ok());
        assert_eq!(
            budget.count_term("c"),
            Err(nom::Err::Failure(Fail::new(
                "c",
                ErrorKind::TooDeep,
                "fewer comparisons"
            )))
        );
    }
}
