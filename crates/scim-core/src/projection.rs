//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5) together with each attribute's
//! `returned` characteristic (RFC 7643 §7): `always` survives exclusion, `never` is never sent,
//! `request` only when asked for, `default` unless excluded or not among those asked for.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::schema::{Attribute, Registry, ResourceKind, Returned, Schema};

/// One entry of an `attributes` or `excludedAttributes` list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selector {
    /// The schema URN it was qualified with, if any.
    schema: Option<String>,
    /// The attribute; `None` selects a whole extension by its URN.
    name: Option<String>,
    /// The sub-attribute, if any.
    sub: Option<String>,
}

/// A parsed projection request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    attributes: Vec<Selector>,
    excluded: Vec<Selector>,
}

/// Where an attribute sits: its schema and definition.
struct Site<'a> {
    schema: &'a str,
    attr: &'a Attribute,
}

impl Projection {
    /// Parses the two comma-separated lists (either may be absent or empty).
    pub fn parse(
        registry: &Registry,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection> {
        Ok(Projection {
            attributes: selectors(registry, attributes)?,
            excluded: selectors(registry, excluded)?,
        })
    }

    /// Whether the top-level core attribute `name` may appear in the output, so derived values
    /// (`groups`, `members`) are computed only when they will be sent.
    pub fn wants(&self, registry: &Registry, kind: ResourceKind, name: &str) -> bool {
        let core = registry.core(kind);
        let Some(attr) = core.attribute(name) else {
            return false;
        };
        let site = Site {
            schema: &core.id,
            attr,
        };
        match decide(self, &site) {
            Decision::Drop => false,
            Decision::Keep | Decision::Subs(_) | Decision::Without(_) => true,
        }
    }

    /// Removes from a rendered resource what the request and `returned` rules leave out.
    pub fn apply(&self, registry: &Registry, kind: ResourceKind, resource: &mut Value) {
        let Value::Object(obj) = resource else { return };
        let core = registry.core(kind);
        let keys: Vec<String> = obj.keys().cloned().collect();
        for key in keys {
            if key == "schemas" || key == "id" {
                continue; // RFC 7643 §3.1: always returned.
            }
            if let Some(ext) = registry.extension(kind, &key) {
                if let Some(Value::Object(inner)) = obj.get_mut(&key) {
                    self.apply_schema(ext, inner);
                    if inner.is_empty() {
                        obj.remove(&key);
                    }
                }
                continue;
            }
            let attr = crate::schema::common(&key).or_else(|| core.attribute(&key));
            let Some(attr) = attr else { continue };
            let site = Site {
                schema: &core.id,
                attr,
            };
            let decision = decide(self, &site);
            apply_decision(obj, &key, decision);
        }
        // An extension projected away entirely leaves the `schemas` list too.
        let remaining: Vec<String> = obj.keys().cloned().collect();
        if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
            schemas.retain(|s| {
                s.as_str().is_some_and(|s| {
                    s.eq_ignore_ascii_case(&core.id) || remaining.iter().any(|k| k == s)
                })
            });
        }
    }

    fn apply_schema(&self, schema: &Schema, obj: &mut Map<String, Value>) {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for key in keys {
            let Some(attr) = schema.attribute(&key) else {
                continue;
            };
            let site = Site {
                schema: &schema.id,
                attr,
            };
            let decision = decide(self, &site);
            apply_decision(obj, &key, decision);
        }
    }
}

/// What to do with one attribute.
enum Decision {
    Keep,
    Drop,
    /// Keep only these sub-attributes.
    Subs(Vec<String>),
    /// Keep all but these sub-attributes.
    Without(Vec<String>),
}

fn selectors(registry: &Registry, list: Option<&str>) -> Result<Vec<Selector>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(schema) = registry.schema(item) {
            out.push(Selector {
                schema: Some(schema.id.clone()),
                name: None,
                sub: None,
            });
            continue;
        }
        let path = scim_filter_parser::parse_attr_path(item).map_err(|e| {
            Error::InvalidSyntax(format!(
                "invalid attribute name '{item}' in attribute list: {e}"
            ))
        })?;
        out.push(Selector {
            schema: path.urn,
            name: Some(path.name),
            sub: path.sub_attr,
        });
    }
    Ok(out)
}

impl Selector {
    /// Whether this selector names the attribute at `site` (or its whole schema).
    fn hits(&self, site: &Site<'_>) -> bool {
        let schema_ok = self
            .schema
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(site.schema));
        match &self.name {
            None => schema_ok,
            Some(n) => schema_ok && n.eq_ignore_ascii_case(&site.attr.name),
        }
    }
}

fn decide(p: &Projection, site: &Site<'_>) -> Decision {
    match site.attr.returned {
        Returned::Never => return Decision::Drop,
        Returned::Always => return Decision::Keep,
        Returned::Default | Returned::Request => {}
    }
    if !p.attributes.is_empty() {
        let hits: Vec<&Selector> = p.attributes.iter().filter(|s| s.hits(site)).collect();
        if hits.iter().any(|s| s.sub.is_none()) {
            return Decision::Keep;
        }
        if hits.is_empty() {
            return Decision::Drop;
        }
        return Decision::Subs(hits.iter().filter_map(|s| s.sub.clone()).collect());
    }
    if site.attr.returned == Returned::Request {
        return Decision::Drop;
    }
    let hits: Vec<&Selector> = p.excluded.iter().filter(|s| s.hits(site)).collect();
    if hits.iter().any(|s| s.sub.is_none()) {
        return Decision::Drop;
    }
    if hits.is_empty() {
        return Decision::Keep;
    }
    Decision::Without(hits.iter().filter_map(|s| s.sub.clone()).collect())
}

fn apply_decision(obj: &mut Map<String, Value>, key: &str, decision: Decision) {
    let (keep, names) = match decision {
        Decision::Keep => return,
        Decision::Drop => {
            obj.remove(key);
            return;
        }
        Decision::Subs(names) => (true, names),
        Decision::Without(names) => (false, names),
    };
    let Some(value) = obj.get_mut(key) else {
        return;
    };
    let filter = |o: &mut Map<String, Value>| {
        o.retain(|k, _| names.iter().any(|n| n.eq_ignore_ascii_case(k)) == keep);
    };
    match value {
        Value::Object(o) => filter(o),
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(o) = item {
                    filter(o);
                }
            }
            items.retain(|v| !matches!(v, Value::Object(o) if o.is_empty()));
        }
        _ => {}
    }
    let empty = match obj.get(key) {
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    if empty {
        obj.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER, USER};

    fn user() -> Value {
        json!({
            "schemas": [USER, ENTERPRISE_USER],
            "id": "1",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@x", "type": "work"}],
            ENTERPRISE_USER: {"department": "R&D"},
            "meta": {"resourceType": "User"}
        })
    }

    fn project(attrs: Option<&str>, excluded: Option<&str>) -> Value {
        let r = Registry::builtin();
        let p = Projection::parse(r, attrs, excluded).unwrap();
        let mut v = user();
        p.apply(r, ResourceKind::User, &mut v);
        v
    }

    #[test]
    fn nothing_asked_returns_defaults() {
        assert_eq!(project(None, None), user());
    }

    #[test]
    fn attributes_keep_always_and_asked() {
        let v = project(Some("name.givenName,EMAILS"), None);
        assert_eq!(
            v,
            json!({"schemas": [USER], "id": "1", "name": {"givenName": "Barbara"},
                   "emails": [{"value": "b@x", "type": "work"}]})
        );
        let v = project(Some(&format!("{ENTERPRISE_USER}:department")), None);
        assert_eq!(
            v,
            json!({"schemas": [USER, ENTERPRISE_USER], "id": "1",
                   ENTERPRISE_USER: {"department": "R&D"}})
        );
    }

    #[test]
    fn excluded_removes_but_never_always() {
        let v = project(
            None,
            Some(&format!("id,emails.type,meta,{ENTERPRISE_USER}")),
        );
        assert_eq!(
            v,
            json!({"schemas": [USER], "id": "1", "userName": "bjensen",
                   "name": {"givenName": "Barbara", "familyName": "Jensen"},
                   "emails": [{"value": "b@x"}]})
        );
    }

    #[test]
    fn wants_tells_whether_derived_values_are_needed() {
        let r = Registry::builtin();
        let p = Projection::parse(r, None, Some("groups")).unwrap();
        assert!(!p.wants(r, ResourceKind::User, "groups"));
        let p = Projection::parse(r, Some("userName"), None).unwrap();
        assert!(!p.wants(r, ResourceKind::User, "groups"));
        let p = Projection::default();
        assert!(p.wants(r, ResourceKind::User, "groups"));
    }

    #[test]
    fn bad_names_are_invalid_syntax() {
        assert!(Projection::parse(Registry::builtin(), Some("a b"), None).is_err());
    }
}
