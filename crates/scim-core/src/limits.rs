//! Bounds on what one request may ask of the server. A provisioning endpoint faces the
//! internet: each bound is checked before the work it guards starts, so hostile input is refused
//! in microseconds instead of costing a parse, a query plan or a transaction.

use crate::{Error, Result};

/// Per-request limits, set by the operator (`--max-filter-length` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest filter accepted, in bytes.
    pub filter_length: usize,
    /// Deepest nesting of parentheses, `not (…)` and value-path brackets in a filter. Each
    /// level costs the recursive parser a few stack frames.
    pub filter_depth: usize,
    /// Most operations in one PATCH request.
    pub patch_operations: usize,
    /// Most names in one `attributes` or `excludedAttributes` list.
    pub attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A connector looking up 100 ids at once (`id eq "…" or …`) needs about 6,000.
            filter_length: 10_000,
            filter_depth: 32,
            // Entra sends membership changes in PATCHes of a few hundred operations at most.
            patch_operations: 1_000,
            // The User schema with EnterpriseUser has about 60 attribute paths.
            attributes: 200,
        }
    }
}

impl Limits {
    /// Refuses a filter longer than `filter_length` (RFC 7644 §3.12 `invalidFilter`).
    pub fn check_filter(&self, filter: &str) -> Result<()> {
        self.check_length("filter", filter, Error::InvalidFilter)
    }

    /// Refuses a PATCH path longer than a filter may be: its value filter is one.
    pub fn check_path(&self, path: &str) -> Result<()> {
        self.check_length("path", path, Error::InvalidPath)
    }

    fn check_length(&self, what: &str, text: &str, error: fn(String) -> Error) -> Result<()> {
        if text.len() > self.filter_length {
            return Err(error(format!(
                "the {what} is {} bytes long; this server accepts at most {}",
                text.len(),
                self.filter_length
            )));
        }
        Ok(())
    }

    /// The parser's limits: this depth, and a term cap the length cannot reach (the shortest
    /// term with its joiner, `a pr or `, is 8 bytes), so the length alone bounds the terms.
    pub fn parser(&self) -> scim_filter_parser::Limits {
        scim_filter_parser::Limits {
            max_depth: self.filter_depth,
            max_terms: self.filter_length / 8 + 1,
        }
    }

    /// Refuses a PATCH request of more than `patch_operations` operations: like a `/Bulk`
    /// request over `maxOperations` (RFC 7644 §3.7.4), it is 413.
    pub fn check_patch_operations(&self, count: usize) -> Result<()> {
        if count > self.patch_operations {
            return Err(Error::PayloadTooLarge(format!(
                "the PATCH request has {count} operations; this server accepts at most {}",
                self.patch_operations
            )));
        }
        Ok(())
    }

    /// Refuses an `attributes` or `excludedAttributes` list of more than `attributes` names.
    pub fn check_attributes(&self, parameter: &str, list: Option<&str>) -> Result<()> {
        let count = list.map_or(0, |l| l.split(',').filter(|s| !s.trim().is_empty()).count());
        if count > self.attributes {
            return Err(Error::InvalidValue(format!(
                "{parameter} names {count} attributes; this server accepts at most {}",
                self.attributes
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;
    use crate::error::ScimType;

    #[test]
    fn each_bound_admits_its_limit_and_refuses_one_more() {
        let l = Limits {
            filter_length: 10,
            filter_depth: 2,
            patch_operations: 3,
            attributes: 2,
        };
        assert!(l.check_filter("0123456789").is_ok());
        let e = l.check_filter("0123456789a").unwrap_err();
        assert_eq!(e.scim_type(), Some(ScimType::InvalidFilter));
        assert!(l.check_path("0123456789").is_ok());
        let e = l.check_path("0123456789a").unwrap_err();
        assert_eq!(e.scim_type(), Some(ScimType::InvalidPath));
        assert!(l.check_patch_operations(3).is_ok());
        assert_eq!(l.check_patch_operations(4).unwrap_err().status(), 413);
        assert!(l.check_attributes("attributes", Some("a, b,,")).is_ok());
        let e = l.check_attributes("attributes", Some("a,b,c")).unwrap_err();
        assert_eq!(e.scim_type(), Some(ScimType::InvalidValue));
        assert!(l.check_attributes("attributes", None).is_ok());
    }

    #[test]
    fn the_parser_gets_the_depth() {
        let l = Limits {
            filter_depth: 1,
            ..Limits::default()
        };
        let f = "((userName eq \"a\"))";
        assert!(scim_filter_parser::parse_filter_with(f, l.parser()).is_err());
        assert!(scim_filter_parser::parse_filter_with(f, Limits::default().parser()).is_ok());
    }
}
