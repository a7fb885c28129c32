//! Which filtered statements SQLite connections keep prepared. diesel keeps every statement it
//! may cache on the connection that ran it, without bound, and a filter's shape (its
//! attributes, operators and nesting, not its values) is the client's choice: 3,000 filters of
//! 30 comparisons each, sent four times over 16 connections, grew a server to 740 MB
//! (`bench/shapes.py`; 41 MB with the budget). So shapes share a budget, counted in bytes of SQL
//! text: a shape seen before, or a new one while the budget lasts, stays prepared; later new
//! shapes are prepared for each request, which costs time but no memory. The shapes that
//! clients repeat (an identity provider's few lookups) come first and keep their place.

use std::collections::HashSet;

use parking_lot::Mutex;

/// How much SQL text (filter and sort) the kept shapes may hold together: some 700 shapes of
/// one comparison, 350 of two. Each costs about twenty times its text on every connection that
/// ran it (two-comparison shapes: about 180 bytes of text, 3.7 KB a connection).
const BUDGET: usize = 64 * 1024;

/// The statement shapes kept prepared, and the budget they draw on.
#[derive(Debug)]
pub struct Prepared {
    budget: usize,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    shapes: HashSet<Box<str>>,
    bytes: usize,
    /// A shape was refused already (the warning is logged once).
    refused: bool,
}

impl Default for Prepared {
    fn default() -> Self {
        Prepared::with_budget(BUDGET)
    }
}

impl Prepared {
    /// Shapes up to `budget` bytes of SQL text in all.
    pub fn with_budget(budget: usize) -> Prepared {
        Prepared {
            budget,
            kept: Mutex::default(),
        }
    }

    /// Whether statements of `shape` may stay prepared: a shape already kept, or a new one
    /// that fits in what is left of the budget (and is kept from now on).
    pub fn keep(&self, shape: &str) -> bool {
        let mut kept = self.kept.lock();
        if kept.shapes.contains(shape) {
            return true;
        }
        if kept.bytes + shape.len() > self.budget {
            if !kept.refused {
                kept.refused = true;
                tracing::warn!(
                    shapes = kept.shapes.len(),
                    bytes = kept.bytes,
                    "the budget of prepared filter shapes is spent: new shapes are prepared for \
                     each request"
                );
            }
            return false;
        }
        kept.bytes += shape.len();
        kept.shapes.insert(shape.into());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_stay_prepared_while_the_budget_lasts_and_kept_ones_stay_after() {
        let prepared = Prepared::with_budget(10);
        assert!(prepared.keep("aaaa"));
        assert!(prepared.keep("bbbb"));
        assert!(!prepared.keep("ccc"), "4 + 4 + 3 bytes exceed 10");
        assert!(prepared.keep("cc"), "a shape that still fits");
        assert!(prepared.keep("aaaa"), "a kept shape is not charged again");
        assert!(!prepared.keep("d"));
        assert!(prepared.keep("bbbb"));
    }
}
