//! Validation of a resource body (POST and PUT) against the schemas: types, mutability, required
//! attributes, `primary` rules, unknown attributes and schema URNs. The result is a normalised
//! document: attribute names in the schema's case, booleans sent as strings converted, readOnly
//! input dropped, nulls and empty values removed (RFC 7643 §2.5 treats them as unassigned).

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::resource::Record;
use crate::schema::{AttrType, Attribute, Mutability, Registry, ResourceKind, Schema};

/// A validated resource body, split into what is stored as attributes and what is kept elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The `schemas` list, core first, with every extension present in `data`.
    pub schemas: Vec<String>,
    /// Normalised attributes, extensions keyed by their URN.
    pub data: Map<String, Value>,
    /// The clear-text password, for hashing (Users only).
    pub password: Option<String>,
    /// The member list (Groups only); `None` when the body has no `members`.
    pub members: Option<Vec<MemberInput>>,
}

/// A group member as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInput {
    /// The member's id.
    pub value: String,
    /// The type, when the client named it.
    pub kind: Option<ResourceKind>,
}

/// Refuses U+0000 in any string or key of a resource: PostgreSQL text cannot store it, so
/// neither backend accepts it (a filter value holding it is refused by the store).
fn refuse_nul(body: &Map<String, Value>) -> Result<()> {
    fn holds_nul(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(holds_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
            _ => false,
        }
    }
    if body.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)) {
        return Err(Error::InvalidValue(
            "strings may not contain the NUL character (U+0000)".into(),
        ));
    }
    Ok(())
}

/// Validates a full resource representation (RFC 7644 §3.3 create, §3.5.1 replace).
/// `existing` is the current record on replace, used to refuse changes to immutable values.
pub fn resource(
    registry: &Registry,
    kind: ResourceKind,
    body: Value,
    existing: Option<&Record>,
) -> Result<Validated> {
    let Value::Object(body) = body else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".into(),
        ));
    };
    refuse_nul(&body)?;
    let core = registry.core(kind);
    let mut schemas = declared_schemas(registry, kind, &body)?;
    let mut data = Map::new();
    let mut password = None;
    let mut members = None;

    for (key, value) in body {
        if key.eq_ignore_ascii_case("schemas")
            || key.eq_ignore_ascii_case("id")
            || key.eq_ignore_ascii_case("meta")
        {
            // RFC 7643 §3.1: id and meta are readOnly; clients (Entra, Okta) echo them back.
            continue;
        }
        if key.eq_ignore_ascii_case("externalId") {
            match value {
                Value::Null => {}
                Value::String(s) => {
                    data.insert("externalId".into(), Value::String(s));
                }
                _ => return Err(Error::InvalidValue("externalId must be a string".into())),
            }
            continue;
        }
        if let Some(ext) = registry.extension(kind, &key) {
            let obj = match value {
                Value::Null => continue,
                Value::Object(obj) => obj,
                _ => {
                    return Err(Error::InvalidValue(format!(
                        "the extension '{}' must be a JSON object",
                        ext.id
                    )));
                }
            };
            let ext_data = attributes(ext, obj)?;
            if !ext_data.is_empty() {
                if !schemas.iter().any(|s| s == &ext.id) {
                    schemas.push(ext.id.clone());
                }
                data.insert(ext.id.clone(), Value::Object(ext_data));
            }
            continue;
        }
        // A core attribute, possibly written with its schema URN as prefix.
        let name = strip_urn(&key, &core.id).unwrap_or(&key);
        let Some(attr) = core.attribute(name) else {
            return Err(unknown(&key, core));
        };
        if kind == ResourceKind::User && attr.name == "password" {
            password = match value {
                Value::Null => None,
                Value::String(s) => Some(s),
                _ => return Err(Error::InvalidValue("password must be a string".into())),
            };
            continue;
        }
        if kind == ResourceKind::Group && attr.name == "members" {
            members = Some(member_list(value)?);
            continue;
        }
        if let Some(v) = normalize(attr, value, &attr.name)? {
            data.insert(attr.name.clone(), v);
        }
    }
    schemas.retain(|s| s == &core.id || data.contains_key(s));

    required(&core.attributes, &data, "")?;
    for ext in registry.extensions(kind) {
        if let Some(Value::Object(ext_data)) = data.get(&ext.id) {
            required(&ext.attributes, ext_data, &format!("{}:", ext.id))?;
        }
    }
    if let Some(existing) = existing {
        immutable(&core.attributes, &existing.data, &data)?;
        let empty = Map::new();
        for ext in registry.extensions(kind) {
            immutable(
                &ext.attributes,
                object(&existing.data, &ext.id, &empty),
                object(&data, &ext.id, &empty),
            )?;
        }
    }
    Ok(Validated {
        schemas,
        data,
        password,
        members,
    })
}

/// Reads `schemas`: it must name the core schema; every other entry must be a known extension.
fn declared_schemas(
    registry: &Registry,
    kind: ResourceKind,
    body: &Map<String, Value>,
) -> Result<Vec<String>> {
    let core = registry.core(kind);
    let Some(list) = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v)
    else {
        return Err(Error::InvalidSyntax(format!(
            "the attribute 'schemas' is required and must contain \"{}\"",
            core.id
        )));
    };
    let Value::Array(list) = list else {
        return Err(Error::InvalidSyntax(
            "'schemas' must be an array of URNs".into(),
        ));
    };
    let mut out = vec![core.id.clone()];
    let mut has_core = false;
    for urn in list {
        let Value::String(urn) = urn else {
            return Err(Error::InvalidSyntax(
                "'schemas' must be an array of URNs".into(),
            ));
        };
        if urn.eq_ignore_ascii_case(&core.id) {
            has_core = true;
        } else if let Some(ext) = registry.extension(kind, urn) {
            if !out.contains(&ext.id) {
                out.push(ext.id.clone());
            }
        } else {
            return Err(Error::InvalidValue(format!(
                "the schema \"{urn}\" is not supported for {} resources",
                kind.name()
            )));
        }
    }
    if !has_core {
        return Err(Error::InvalidSyntax(format!(
            "'schemas' must contain \"{}\"",
            core.id
        )));
    }
    Ok(out)
}

/// `urn:...:User:userName` -> `userName` when the prefix is `urn`.
fn strip_urn<'a>(key: &'a str, urn: &str) -> Option<&'a str> {
    let prefix = key.get(..urn.len())?;
    if !prefix.eq_ignore_ascii_case(urn) {
        return None;
    }
    key.get(urn.len()..)?.strip_prefix(':')
}

fn unknown(key: &str, schema: &Schema) -> Error {
    Error::InvalidSyntax(format!(
        "the attribute '{key}' is not defined by the schema {} (or by an extension it declares)",
        schema.id
    ))
}

/// Validates the attributes of an extension object.
fn attributes(schema: &Schema, obj: Map<String, Value>) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (key, value) in obj {
        let attr = schema
            .attribute(&key)
            .ok_or_else(|| unknown(&key, schema))?;
        if let Some(v) = normalize(attr, value, &format!("{}:{}", schema.id, attr.name))? {
            out.insert(attr.name.clone(), v);
        }
    }
    Ok(out)
}

/// Checks and normalises one attribute value. `None` means unassigned (null, empty, or readOnly).
pub fn normalize(attr: &Attribute, value: Value, path: &str) -> Result<Option<Value>> {
    if attr.mutability == Mutability::ReadOnly {
        return Ok(None);
    }
    if attr.multi_valued {
        let items = match value {
            Value::Null => return Ok(None),
            Value::Array(items) => items,
            // A lone value where an array belongs: wrap it rather than fail a provisioning run.
            single => vec![single],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = single(attr, item, path)? {
                out.push(v);
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        let primaries = out
            .iter()
            .filter(|v| v.get("primary").and_then(Value::as_bool) == Some(true))
            .count();
        if primaries > 1 {
            // RFC 7643 §2.4: the primary value "true" MUST appear no more than once.
            return Err(Error::InvalidValue(format!(
                "at most one value of '{path}' may have \"primary\": true"
            )));
        }
        return Ok(Some(Value::Array(out)));
    }
    if value.is_array() {
        return Err(Error::InvalidValue(format!(
            "'{path}' is single-valued, not an array"
        )));
    }
    single(attr, value, path)
}

/// Checks one value of an attribute against its type.
fn single(attr: &Attribute, value: Value, path: &str) -> Result<Option<Value>> {
    let wrong = |what: &str| Error::InvalidValue(format!("'{path}' must be {what}"));
    Ok(Some(match (attr.kind, value) {
        (_, Value::Null) => return Ok(None),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(s)) => {
            Value::String(s)
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => {
            return Err(wrong("a string"));
        }
        (AttrType::Boolean, Value::Bool(b)) => Value::Bool(b),
        // Okta and Entra send booleans as "True"/"False" strings.
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Value::Bool(true)
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Value::Bool(false)
        }
        (AttrType::Boolean, _) => return Err(wrong("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() => Value::Number(n),
        (AttrType::Integer, _) => return Err(wrong("an integer")),
        (AttrType::Decimal, Value::Number(n)) => Value::Number(n),
        (AttrType::Decimal, _) => return Err(wrong("a number")),
        (AttrType::DateTime, Value::String(s)) if is_datetime(&s) => Value::String(s),
        (AttrType::DateTime, _) => return Err(wrong("an xsd:dateTime string")),
        (AttrType::Complex, Value::Object(obj)) => {
            let mut out = Map::new();
            for (key, v) in obj {
                let Some(sub) = attr.sub(&key) else {
                    return Err(Error::InvalidSyntax(format!(
                        "'{path}' has no sub-attribute '{key}'"
                    )));
                };
                if let Some(v) = normalize(sub, v, &format!("{path}.{}", sub.name))? {
                    out.insert(sub.name.clone(), v);
                }
            }
            if out.is_empty() {
                return Ok(None);
            }
            required(&attr.sub_attributes, &out, &format!("{path}."))?;
            Value::Object(out)
        }
        (AttrType::Complex, _) => return Err(wrong("an object")),
    }))
}

/// xsd:dateTime as RFC 7643 §2.3.5 uses it: RFC 3339, with or without an offset.
pub fn is_datetime(s: &str) -> bool {
    parse_datetime(s).is_some()
}

/// An xsd:dateTime as a UTC instant; one without an offset is taken as UTC.
pub fn parse_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Every required, client-settable attribute must have a value.
fn required(attrs: &[Attribute], data: &Map<String, Value>, prefix: &str) -> Result<()> {
    for attr in attrs {
        if attr.required
            && attr.mutability != Mutability::ReadOnly
            && !data.contains_key(&attr.name)
        {
            return Err(Error::InvalidValue(format!(
                "the attribute '{prefix}{}' is required",
                attr.name
            )));
        }
    }
    Ok(())
}

/// The object of an extension in a document, or `empty`.
fn object<'a>(
    data: &'a Map<String, Value>,
    urn: &str,
    empty: &'a Map<String, Value>,
) -> &'a Map<String, Value> {
    match data.get(urn) {
        Some(Value::Object(o)) => o,
        _ => empty,
    }
}

/// RFC 7643 §7: an immutable attribute may be set once, then never changed.
fn immutable(
    attrs: &[Attribute],
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<()> {
    for attr in attrs
        .iter()
        .filter(|a| a.mutability == Mutability::Immutable)
    {
        if let (Some(before), after) = (old.get(&attr.name), new.get(&attr.name))
            && after != Some(before)
        {
            return Err(Error::Mutability(format!(
                "the attribute '{}' is immutable and cannot be changed",
                attr.name
            )));
        }
    }
    Ok(())
}

/// Reads `members`: each needs a `value`; `type` must be `User` or `Group` when given.
fn member_list(value: Value) -> Result<Vec<MemberInput>> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(member(item)?);
    }
    Ok(out)
}

/// One member object. `$ref` is derived by the server; `display`, which clients such as Okta
/// send though RFC 7643 §8.7.1 does not define it for members, is ignored.
pub fn member(item: Value) -> Result<MemberInput> {
    let Value::Object(obj) = item else {
        return Err(Error::InvalidValue(
            "each member must be an object with a 'value'".into(),
        ));
    };
    let mut value = None;
    let mut kind = None;
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("value") {
            match v {
                Value::String(s) if !s.is_empty() => value = Some(s),
                _ => {
                    return Err(Error::InvalidValue(
                        "members.value must be a resource id".into(),
                    ));
                }
            }
        } else if k.eq_ignore_ascii_case("type") {
            kind = match v.as_str() {
                Some(t) if t.eq_ignore_ascii_case("User") => Some(ResourceKind::User),
                Some(t) if t.eq_ignore_ascii_case("Group") => Some(ResourceKind::Group),
                None if v.is_null() => None,
                _ => {
                    return Err(Error::InvalidValue(
                        "members.type must be \"User\" or \"Group\"".into(),
                    ));
                }
            };
        } else if !(k.eq_ignore_ascii_case("$ref") || k.eq_ignore_ascii_case("display")) {
            return Err(Error::InvalidSyntax(format!(
                "members has no sub-attribute '{k}'"
            )));
        }
    }
    let value = value.ok_or_else(|| Error::InvalidValue("members.value is required".into()))?;
    Ok(MemberInput { value, kind })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER, USER};

    fn user(body: Value) -> Result<Validated> {
        resource(Registry::builtin(), ResourceKind::User, body, None)
    }

    /// A decimal is stored as JSON text and must read back bit for bit. serde_json's default
    /// float parsing read this one back one ulp off; scim-core enables `float_roundtrip`
    /// (found by tests/patch_properties.rs, on a tenant extension's decimal attribute).
    #[test]
    fn a_decimal_reads_back_from_its_json_text_bit_for_bit() {
        let stored = json!({"ratio": -7.400661784774998e-47});
        let text = serde_json::to_string(&stored).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), stored);
    }

    #[test]
    fn normalises_names_drops_read_only_and_nulls() {
        let v = user(json!({
            "schemas": [USER],
            "USERNAME": "bjensen",
            "id": "client-chosen",
            "meta": {"resourceType": "User"},
            "groups": [{"value": "x"}],
            "nickName": null,
            "active": "False",
            "emails": [{"value": "b@example.com", "type": "work", "primary": "true"}],
            "password": "s3cret"
        }))
        .unwrap();
        assert_eq!(v.data.get("userName"), Some(&json!("bjensen")));
        assert_eq!(v.data.get("active"), Some(&json!(false)));
        assert_eq!(v.data["emails"][0]["primary"], json!(true));
        assert!(!v.data.contains_key("groups"));
        assert!(!v.data.contains_key("nickName"));
        assert!(!v.data.contains_key("id"));
        assert_eq!(v.password.as_deref(), Some("s3cret"));
        assert_eq!(v.schemas, vec![USER.to_string()]);
    }

    #[test]
    fn required_user_name() {
        let e = user(json!({"schemas": [USER], "displayName": "x"})).unwrap_err();
        assert!(matches!(e, Error::InvalidValue(m) if m.contains("userName")));
    }

    #[test]
    fn schemas_must_name_the_core_schema_and_known_extensions() {
        assert!(matches!(
            user(json!({"userName": "a"})),
            Err(Error::InvalidSyntax(_))
        ));
        assert!(matches!(
            user(json!({"schemas": [USER, "urn:example:unknown"], "userName": "a"})),
            Err(Error::InvalidValue(_))
        ));
    }

    #[test]
    fn unknown_attribute_is_refused() {
        let e = user(json!({"schemas": [USER], "userName": "a", "shoeSize": 42})).unwrap_err();
        assert!(matches!(e, Error::InvalidSyntax(m) if m.contains("shoeSize")));
        let e =
            user(json!({"schemas": [USER], "userName": "a", "name": {"nick": "x"}})).unwrap_err();
        assert!(matches!(e, Error::InvalidSyntax(_)));
    }

    #[test]
    fn wrong_types_are_invalid_value() {
        for body in [
            json!({"schemas": [USER], "userName": 7}),
            json!({"schemas": [USER], "userName": "a", "active": "maybe"}),
            json!({"schemas": [USER], "userName": "a", "name": "Barbara"}),
            json!({"schemas": [USER], "userName": "a", "displayName": ["x"]}),
        ] {
            assert!(matches!(user(body), Err(Error::InvalidValue(_))));
        }
    }

    #[test]
    fn two_primaries_are_refused() {
        let e = user(json!({"schemas": [USER], "userName": "a", "emails": [
            {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}))
        .unwrap_err();
        assert!(matches!(e, Error::InvalidValue(_)));
    }

    #[test]
    fn enterprise_extension_is_validated_and_declared() {
        let v = user(json!({"schemas": [USER], "userName": "a",
            ENTERPRISE_USER: {"department": "R&D", "manager": {"value": "m1"}}}))
        .unwrap();
        assert_eq!(
            v.schemas,
            vec![USER.to_string(), ENTERPRISE_USER.to_string()]
        );
        assert_eq!(v.data[ENTERPRISE_USER]["manager"]["value"], json!("m1"));
        let e = user(json!({"schemas": [USER], "userName": "a",
            ENTERPRISE_USER: {"department": 5}}))
        .unwrap_err();
        assert!(matches!(e, Error::InvalidValue(_)));
    }

    #[test]
    fn group_members_are_read_apart() {
        let v = resource(
            Registry::builtin(),
            ResourceKind::Group,
            json!({"schemas": [crate::schema::GROUP], "displayName": "g",
                   "members": [{"value": "u1", "type": "user"}, {"value": "g2"}]}),
            None,
        )
        .unwrap();
        assert_eq!(
            v.members.unwrap(),
            vec![
                MemberInput {
                    value: "u1".into(),
                    kind: Some(ResourceKind::User)
                },
                MemberInput {
                    value: "g2".into(),
                    kind: None
                }
            ]
        );
        assert!(!v.data.contains_key("members"));
    }
}
