//! Tenant-defined schema extensions: reading and checking the RFC 7643 §7 schema document a
//! tenant admin declares, and merging it into the extension the tenant already has. The store
//! turns the result into typed columns; this module decides what is allowed.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::schema::{AttrType, Attribute, Mutability, Registry, ResourceKind, Returned, Schema};
use crate::schema::{ENTERPRISE_USER, GROUP, USER, Uniqueness};

/// Longest extension URN accepted.
const MAX_URN: usize = 200;
/// Longest attribute name accepted.
const MAX_NAME: usize = 64;
/// Most attributes one extension may hold: each is a column and an index.
pub const MAX_ATTRIBUTES: usize = 100;
/// Most extensions one tenant may declare: each is a table, read on every request.
pub const MAX_EXTENSIONS: usize = 20;

/// One attribute of a declaration, with RFC 7643 §2.2 defaults for what is left out.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttributeDecl {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    multi_valued: bool,
    #[serde(default)]
    description: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    case_exact: bool,
    #[serde(default = "read_write")]
    mutability: Mutability,
    #[serde(default = "returned_default")]
    returned: Returned,
    #[serde(default = "no_uniqueness")]
    uniqueness: Uniqueness,
    #[serde(default)]
    canonical_values: Vec<String>,
    #[serde(default)]
    reference_types: Vec<String>,
    #[serde(default)]
    sub_attributes: Vec<Value>,
}

fn read_write() -> Mutability {
    Mutability::ReadWrite
}

fn returned_default() -> Returned {
    Returned::Default
}

fn no_uniqueness() -> Uniqueness {
    Uniqueness::None
}

#[derive(Deserialize)]
struct DocumentDecl {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    attributes: Option<Vec<Value>>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidValue(msg.into())
}

/// Checks an extension URN: `urn:NID:NSS` in the characters attribute paths allow, and not one
/// of the namespaces RFC 7643 reserves for the standard schemas and messages.
pub fn check_urn(urn: &str) -> Result<()> {
    let lower = urn.to_ascii_lowercase();
    let parts: Vec<&str> = urn.splitn(3, ':').collect();
    let well_formed = parts.len() == 3
        && parts.first().is_some_and(|p| p.eq_ignore_ascii_case("urn"))
        && parts.iter().all(|p| !p.is_empty())
        && urn.len() <= MAX_URN
        && urn
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_'))
        && !urn.ends_with(':');
    if !well_formed {
        return Err(bad(format!(
            "\"{urn}\" is not a schema URN: expected urn:NID:NSS of letters, digits and \
             : . - _ (at most {MAX_URN} characters)"
        )));
    }
    let reserved = [USER, GROUP, ENTERPRISE_USER]
        .iter()
        .any(|u| u.eq_ignore_ascii_case(urn))
        || lower.starts_with("urn:ietf:params:scim:schemas:core:")
        || lower.starts_with("urn:ietf:params:scim:api:");
    if reserved {
        return Err(bad(format!(
            "\"{urn}\" is reserved for the standard SCIM schemas"
        )));
    }
    Ok(())
}

/// RFC 7643 §2.1: ATTRNAME = ALPHA *(nameChar); some names are the resource's own.
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        && name.len() <= MAX_NAME;
    if !well_formed {
        return Err(bad(format!(
            "\"{name}\" is not an attribute name: a letter, then letters, digits, - or _ \
             (at most {MAX_NAME} characters)"
        )));
    }
    if ["id", "externalId", "meta", "schemas"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(bad(format!("\"{name}\" is a reserved attribute name")));
    }
    Ok(())
}

fn attribute(value: Value) -> Result<Attribute> {
    let d: AttributeDecl = serde_json::from_value(value)
        .map_err(|e| bad(format!("invalid attribute definition: {e}")))?;
    check_name(&d.name)?;
    let kind = match d.kind.as_str() {
        "string" => AttrType::String,
        "boolean" => AttrType::Boolean,
        "integer" => AttrType::Integer,
        "decimal" => AttrType::Decimal,
        "dateTime" => AttrType::DateTime,
        "reference" => AttrType::Reference,
        "complex" | "binary" => {
            return Err(bad(format!(
                "'{}': {} extension attributes are not supported; declare string, boolean, \
                 integer, decimal, dateTime or reference attributes",
                d.name, d.kind
            )));
        }
        other => {
            return Err(bad(format!(
                "'{}': unknown type \"{other}\" (string, boolean, integer, decimal, dateTime or \
                 reference)",
                d.name
            )));
        }
    };
    if d.multi_valued && d.uniqueness != Uniqueness::None {
        return Err(bad(format!(
            "'{}': a multi-valued attribute cannot be unique",
            d.name
        )));
    }
    if !d.sub_attributes.is_empty() {
        return Err(bad(format!(
            "'{}': only complex attributes have subAttributes",
            d.name
        )));
    }
    if d.mutability == Mutability::ReadOnly {
        return Err(bad(format!(
            "'{}': readOnly attributes are set by the service provider, and nothing here sets \
             a tenant's attribute; use readWrite, immutable or writeOnly",
            d.name
        )));
    }
    if d.uniqueness == Uniqueness::Global {
        // Uniqueness across tenants would tell one tenant which values another holds.
        return Err(bad(format!(
            "'{}': uniqueness \"global\" is not offered; use \"server\" (unique in the tenant)",
            d.name
        )));
    }
    Ok(Attribute {
        name: d.name,
        kind,
        multi_valued: d.multi_valued,
        description: d.description,
        required: d.required,
        // Only strings have a case rule to choose; references compare exactly (RFC 7643 §2.3.7).
        case_exact: kind != AttrType::String || d.case_exact,
        mutability: d.mutability,
        // RFC 7643 §7: a writeOnly value is never returned.
        returned: if d.mutability == Mutability::WriteOnly {
            Returned::Never
        } else {
            d.returned
        },
        uniqueness: d.uniqueness,
        canonical_values: d.canonical_values,
        reference_types: if kind == AttrType::Reference {
            d.reference_types
        } else {
            Vec::new()
        },
        sub_attributes: Vec::new(),
        column: None,
    })
}

/// Reads a declaration: the schema document `PUT` to `/admin/v1/extensions/{type}/{urn}`.
/// `urn` comes from the path; the document's `id`, if given, must match it.
pub fn declaration(urn: &str, document: Value) -> Result<Schema> {
    check_urn(urn)?;
    let doc: DocumentDecl = serde_json::from_value(document)
        .map_err(|e| bad(format!("invalid schema document: {e}")))?;
    if let Some(id) = &doc.id
        && !id.eq_ignore_ascii_case(urn)
    {
        return Err(bad(format!(
            "the document's id \"{id}\" differs from the URN in the path \"{urn}\""
        )));
    }
    let Some(values) = doc.attributes else {
        return Err(bad("the schema document needs \"attributes\""));
    };
    let mut attributes: Vec<Attribute> = Vec::with_capacity(values.len());
    for value in values {
        let attr = attribute(value)?;
        if attributes
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(&attr.name))
        {
            return Err(bad(format!(
                "the attribute \"{}\" is declared twice",
                attr.name
            )));
        }
        attributes.push(attr);
    }
    let name = doc.name.unwrap_or_else(|| {
        urn.rsplit(':')
            .next()
            .map_or_else(String::new, str::to_owned)
    });
    let mut schema = Schema {
        id: urn.to_owned(),
        name,
        attributes,
        document: Value::Null,
        table: None,
        ordered: false,
    };
    schema.document = document_of(&schema, doc.description.as_deref());
    Ok(schema)
}

/// The RFC 7643 §7 document of an extension, as `/Schemas` serves it.
pub fn document_of(schema: &Schema, description: Option<&str>) -> Value {
    let description = description
        .map(str::to_owned)
        .or_else(|| {
            schema
                .document
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    json!({
        "id": schema.id,
        "name": schema.name,
        "description": description,
        "attributes": schema.attributes,
    })
}

/// What declaring `new` over the tenant's current extension changes.
#[derive(Debug, Clone)]
pub struct Merge {
    /// The extension after the change: existing attributes keep their columns; new ones have
    /// none yet, for the store to assign.
    pub schema: Schema,
    /// Names of attributes that are new (each needs a column and an index).
    pub added: Vec<String>,
    /// Names of existing attributes whose uniqueness changed (their index is rebuilt).
    pub reindexed: Vec<String>,
}

/// Merges a declaration into the current extension (`None` when it is new). Attributes not
/// named are kept (removal is `DELETE`); a named one may change its description, `required`,
/// mutability, `returned`, canonical values and uniqueness, but not its type or case rule,
/// which would change what its column holds.
pub fn merge(
    registry: &Registry,
    kind: ResourceKind,
    current: Option<&Schema>,
    new: Schema,
) -> Result<Merge> {
    if let Some(other) = registry.schema(&new.id)
        && other.table.is_none()
    {
        return Err(bad(format!("\"{}\" is a built-in schema", other.id)));
    }
    if current.is_none()
        && let Some(other) = registry.schema(&new.id)
    {
        // Same URN declared for the other resource type.
        return Err(Error::Conflict(format!(
            "\"{}\" is already declared for another resource type than {}",
            other.id,
            kind.name()
        )));
    }
    let Some(current) = current else {
        if new.attributes.is_empty() {
            return Err(bad("a new extension needs at least one attribute"));
        }
        let declared = [ResourceKind::User, ResourceKind::Group]
            .iter()
            .flat_map(|k| registry.extensions(*k))
            .filter(|s| s.table.is_some())
            .count();
        if declared >= MAX_EXTENSIONS {
            return Err(bad(format!(
                "a tenant declares at most {MAX_EXTENSIONS} extensions"
            )));
        }
        let added = new.attributes.iter().map(|a| a.name.clone()).collect();
        return check_size(Merge {
            schema: new,
            added,
            reindexed: Vec::new(),
        });
    };
    let mut schema = current.clone();
    schema.name = new.name.clone();
    let mut added = Vec::new();
    let mut reindexed = Vec::new();
    for attr in new.attributes {
        match schema
            .attributes
            .iter_mut()
            .find(|a| a.name.eq_ignore_ascii_case(&attr.name))
        {
            None => {
                added.push(attr.name.clone());
                schema.attributes.push(attr);
            }
            Some(old) => {
                if old.kind != attr.kind {
                    return Err(bad(format!(
                        "'{}' is of type {:?}; a column's type cannot change in place: delete \
                         the attribute, then declare it again",
                        old.name, old.kind
                    )));
                }
                if old.multi_valued != attr.multi_valued {
                    return Err(bad(format!(
                        "'{}' cannot change between single- and multi-valued in place: delete \
                         the attribute, then declare it again",
                        old.name
                    )));
                }
                if old.case_exact != attr.case_exact {
                    return Err(bad(format!(
                        "the caseExact rule of '{}' cannot change in place: delete the \
                         attribute, then declare it again",
                        old.name
                    )));
                }
                if old.uniqueness != attr.uniqueness {
                    reindexed.push(old.name.clone());
                }
                // Stored documents key values by the first spelling of the name; keep it.
                let column = old.column.take();
                let name = std::mem::take(&mut old.name);
                *old = Attribute {
                    column,
                    name,
                    ..attr
                };
            }
        }
    }
    let description = new.document.get("description").and_then(Value::as_str);
    schema.document = document_of(&schema, description);
    check_size(Merge {
        schema,
        added,
        reindexed,
    })
}

fn check_size(merge: Merge) -> Result<Merge> {
    if merge.schema.attributes.len() > MAX_ATTRIBUTES {
        return Err(bad(format!(
            "an extension holds at most {MAX_ATTRIBUTES} attributes"
        )));
    }
    Ok(merge)
}

/// The extension without one attribute (named case-insensitively); `None` when it has none
/// of that name.
pub fn without(schema: &Schema, name: &str) -> Option<(Schema, Attribute)> {
    let at = schema
        .attributes
        .iter()
        .position(|a| a.name.eq_ignore_ascii_case(name))?;
    let mut rest = schema.clone();
    let removed = rest.attributes.remove(at);
    rest.document = document_of(&rest, None);
    Some((rest, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URN: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

    fn decl(attrs: Value) -> Result<Schema> {
        declaration(URN, json!({ "attributes": attrs }))
    }

    #[test]
    fn defaults_follow_rfc_7643() {
        let s = decl(json!([{"name": "costCenter", "type": "string"}])).unwrap();
        let a = &s.attributes[0];
        assert_eq!(a.kind, AttrType::String);
        assert!(!a.multi_valued && !a.required && !a.case_exact);
        assert_eq!(a.mutability, Mutability::ReadWrite);
        assert_eq!(a.returned, Returned::Default);
        assert_eq!(a.uniqueness, Uniqueness::None);
        assert_eq!(s.name, "User");
        assert_eq!(s.document["attributes"][0]["name"], "costCenter");
        assert_eq!(s.document["id"], URN);
    }

    #[test]
    fn bad_documents_are_refused_with_reasons() {
        let cases = [
            (
                json!([{"name": "a b", "type": "string"}]),
                "not an attribute name",
            ),
            (
                json!([{"name": "1a", "type": "string"}]),
                "not an attribute name",
            ),
            (json!([{"name": "id", "type": "string"}]), "reserved"),
            (json!([{"name": "x", "type": "text"}]), "unknown type"),
            (json!([{"name": "x", "type": "complex"}]), "not supported"),
            (
                json!([{"name": "x", "type": "string", "multiValued": true, "uniqueness": "server"}]),
                "cannot be unique",
            ),
            (
                json!([{"name": "x", "type": "string", "uniqueness": "global"}]),
                "global",
            ),
            (
                json!([{"name": "x", "type": "string"}, {"name": "X", "type": "integer"}]),
                "twice",
            ),
            (json!([{"type": "string"}]), "invalid attribute"),
        ];
        for (attrs, why) in cases {
            let e = decl(attrs.clone()).unwrap_err();
            assert!(matches!(e, Error::InvalidValue(_)), "{attrs}");
            assert!(e.to_string().contains(why), "{attrs}: {e}");
        }
        assert!(declaration(URN, json!({})).is_err());
        assert!(declaration(URN, json!({"id": "urn:other:x", "attributes": []})).is_err());
    }

    #[test]
    fn urns_must_be_well_formed_and_not_reserved() {
        for urn in [
            "acme",
            "urn:x",
            "urn:x:",
            "urn:x:a b",
            "urn:x:a'b",
            USER,
            ENTERPRISE_USER,
        ] {
            assert!(check_urn(urn).is_err(), "{urn}");
        }
        assert!(check_urn("urn:ietf:params:scim:schemas:core:2.0:Device").is_err());
        assert!(check_urn(URN).is_ok());
    }

    #[test]
    fn merge_adds_keeps_and_refuses_type_changes() {
        let registry = Registry::builtin();
        let first = decl(json!([{"name": "badge", "type": "integer"}])).unwrap();
        let m = merge(registry, ResourceKind::User, None, first).unwrap();
        assert_eq!(m.added, ["badge"]);
        let mut current = m.schema;
        current.attributes[0].column = Some("c1".into());
        current.table = Some("ext_t".into());

        let more = decl(json!([
            {"name": "Badge", "type": "integer", "uniqueness": "server"},
            {"name": "hired", "type": "dateTime"}
        ]))
        .unwrap();
        let m = merge(registry, ResourceKind::User, Some(&current), more).unwrap();
        assert_eq!(m.added, ["hired"]);
        assert_eq!(m.reindexed, ["badge"]);
        assert_eq!(m.schema.attributes[0].name, "badge");
        assert_eq!(m.schema.attributes[0].column.as_deref(), Some("c1"));
        assert_eq!(m.schema.attributes[0].uniqueness, Uniqueness::Server);
        assert_eq!(m.schema.attributes.len(), 2);

        let retyped = decl(json!([{"name": "badge", "type": "string"}])).unwrap();
        let e = merge(registry, ResourceKind::User, Some(&current), retyped).unwrap_err();
        assert!(e.to_string().contains("cannot change in place"), "{e}");

        let (rest, gone) = without(&current, "BADGE").unwrap();
        assert_eq!(gone.column.as_deref(), Some("c1"));
        assert!(rest.attributes.is_empty());
        assert!(without(&current, "nope").is_none());
    }

    #[test]
    fn builtin_urns_cannot_be_redeclared() {
        let e = declaration(ENTERPRISE_USER, json!({"attributes": []})).unwrap_err();
        assert!(e.to_string().contains("reserved"), "{e}");
    }
}
