//! Versions as ETags (RFC 7644 §3.14): a weak tag over the resource's version counter.

use crate::error::{Error, Result};

/// The ETag and `meta.version` of a version counter.
pub fn format(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match` header value admits the current version: `*`, or a list of tags of
/// which one names it. Weak and strong forms of the same tag are treated alike, because clients
/// echo back what they were given and some strip the `W/`.
pub fn matches(header: &str, version: i64) -> bool {
    let current = version.to_string();
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag.strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(tag)
                == current
        }
    })
}

/// RFC 7644 §3.14: `If-Match` that does not name the current version gives 412.
pub fn check_if_match(header: Option<&str>, version: i64) -> Result<()> {
    match header {
        Some(h) if !matches(h, version) => Err(Error::PreconditionFailed(format!(
            "the resource has changed: its current version is {}",
            format(version)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_in_every_form() {
        assert_eq!(format(3), "W/\"3\"");
        for h in ["W/\"3\"", "\"3\"", "3", "*", "W/\"1\", W/\"3\""] {
            assert!(matches(h, 3), "{h}");
        }
        for h in ["W/\"4\"", "\"33\"", ""] {
            assert!(!matches(h, 3), "{h}");
        }
        assert!(matches!(
            check_if_match(Some("W/\"2\""), 3),
            Err(Error::PreconditionFailed(_))
        ));
        assert!(check_if_match(None, 3).is_ok());
    }
}
