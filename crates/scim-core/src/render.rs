//! Rendering a stored record as its SCIM representation: `schemas`, `id`, the attributes, the
//! derived `groups` or `members`, and `meta` (RFC 7643 §3.1).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::etag;
use crate::resource::{GroupRef, Member, Record};

/// The fixed-width UTC form used for `meta` timestamps and their stored columns, so that text
/// order is time order on both backends.
pub fn timestamp(t: &DateTime<Utc>) -> String {
    // `%Y-%m-%dT%H:%M:%S%.6fZ`, without parsing a format string each time (two per rendered
    // resource); the same text for years 0 to 9999.
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Attributes derived at read time from the membership table.
#[derive(Debug, Clone, Default)]
pub enum Derived {
    /// Not computed (not requested).
    #[default]
    None,
    /// `User.groups`
    Groups(Vec<GroupRef>),
    /// `Group.members`
    Members(Vec<Member>),
}

/// The resource's `meta.location`.
pub fn location(base_url: &str, record: &Record) -> String {
    format!("{base_url}{}/{}", record.kind.endpoint(), record.id)
}

/// The full representation, before projection.
pub fn resource(record: &Record, derived: Derived, base_url: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!(record.schemas));
    out.insert("id".into(), json!(record.id));
    for (k, v) in &record.data {
        out.insert(k.clone(), v.clone());
    }
    match derived {
        Derived::None => {}
        Derived::Groups(groups) if !groups.is_empty() => {
            let groups = groups
                .into_iter()
                .map(|g| {
                    let mut v = json!({
                        "value": g.value,
                        "$ref": format!("{base_url}/Groups/{}", g.value),
                        "type": if g.direct { "direct" } else { "indirect" },
                    });
                    if let (Some(d), Some(obj)) = (g.display, v.as_object_mut()) {
                        obj.insert("display".into(), json!(d));
                    }
                    v
                })
                .collect();
            out.insert("groups".into(), Value::Array(groups));
        }
        Derived::Members(members) if !members.is_empty() => {
            let members = members
                .into_iter()
                .map(|m| {
                    json!({
                        "value": m.value,
                        "$ref": format!("{base_url}{}/{}", m.kind.endpoint(), m.value),
                        "type": m.kind.name(),
                    })
                })
                .collect();
            out.insert("members".into(), Value::Array(members));
        }
        Derived::Groups(_) | Derived::Members(_) => {}
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": record.kind.name(),
            "created": timestamp(&record.created),
            "lastModified": timestamp(&record.last_modified),
            "location": location(base_url, record),
            "version": etag::format(record.version),
        }),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_keep_their_fixed_width_text() {
        let at = |y, mo, d, h, mi, s, micros| {
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
                .single()
                .map(|t| t + chrono::Duration::microseconds(micros))
                .unwrap()
        };
        for (t, text) in [
            (at(2026, 12, 7, 19, 2, 3, 0), "2026-12-07T19:02:03.000000Z"),
            (at(2026, 1, 2, 3, 4, 5, 60), "2026-01-02T03:04:05.000060Z"),
            (at(1, 1, 1, 0, 0, 0, 999_999), "0001-01-01T00:00:00.999999Z"),
            (
                at(9999, 12, 31, 23, 59, 59, 1),
                "9999-12-31T23:59:59.000001Z",
            ),
        ] {
            assert_eq!(timestamp(&t), text);
            // The format the stored columns were written with before.
            assert_eq!(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), text);
        }
        // Nanoseconds are cut, not rounded, as before.
        let t = at(2026, 12, 7, 0, 0, 0, 0) + chrono::Duration::nanoseconds(999);
        assert_eq!(timestamp(&t), "2026-12-07T00:00:00.000000Z");
    }
}
