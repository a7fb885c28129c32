//! What the PATCH property tests and the `patch_apply` fuzz target (which includes this file
//! with `#[path]`) share: a registry with typed tenant extensions, a full User and Group to
//! start from, the PATCH pipeline of `resources::Service::patch_in`, and an oracle for "this
//! resource is valid against its schemas" that does not reuse `validate`. It walks the schema
//! documents and checks what a write would store, so a result that `validate` wrongly lets
//! through is caught too.

use std::sync::OnceLock;

use scim_core::extension;
use scim_core::limits::Limits;
use scim_core::patch::{self, Patched};
use scim_core::render;
use scim_core::resource::Record;
use scim_core::schema::{
    AttrType, Attribute, ENTERPRISE_USER, GROUP, Mutability, Registry, ResourceKind, USER,
};
use scim_core::validate;
use serde_json::{Map, Value, json};

/// A tenant extension of User with one attribute of each type an extension may declare.
pub const ACME_USER: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
/// A tenant extension of Group.
pub const ACME_GROUP: &str = "urn:example:params:scim:schemas:extension:acme:2.0:Group";

/// The value a path expects, so that most generated operations are well-typed and get past
/// validation; the rest get arbitrary JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// A string.
    Str,
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A decimal.
    Decimal,
    /// An xsd:dateTime string.
    Date,
    /// A `name` object.
    Name,
    /// Values of `emails` (or another multi-valued complex attribute with `value`).
    Email,
    /// Values of `phoneNumbers`.
    Phone,
    /// Values of `addresses`.
    Address,
    /// The EnterpriseUser `manager` (an object, or Entra's bare id).
    Manager,
    /// Values of a multi-valued string.
    Tags,
    /// Group members.
    Members,
    /// The EnterpriseUser extension object.
    Enterprise,
    /// The User tenant extension object.
    AcmeUser,
    /// The Group tenant extension object.
    AcmeGroup,
    /// Read-only, unknown or malformed: the request must fail.
    Refused,
}

/// User paths (and no-path keys) with the values they take.
pub const USER_PATHS: &[(&str, Hint)] = &[
    ("userName", Hint::Str),
    ("USERNAME", Hint::Str),
    ("displayName", Hint::Str),
    ("nickName", Hint::Str),
    ("title", Hint::Str),
    ("locale", Hint::Str),
    ("profileUrl", Hint::Str),
    ("externalId", Hint::Str),
    ("active", Hint::Bool),
    ("password", Hint::Str),
    ("name", Hint::Name),
    ("name.givenName", Hint::Str),
    ("name.familyName", Hint::Str),
    ("Name.Formatted", Hint::Str),
    ("emails", Hint::Email),
    ("emails.value", Hint::Str),
    ("emails.primary", Hint::Bool),
    ("phoneNumbers", Hint::Phone),
    ("addresses", Hint::Address),
    ("addresses.locality", Hint::Str),
    ("roles", Hint::Email),
    (
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName",
        Hint::Str,
    ),
    (
        "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
        Hint::Str,
    ),
    (ENTERPRISE_USER, Hint::Enterprise),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        Hint::Str,
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        Hint::Str,
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        Hint::Manager,
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        Hint::Str,
    ),
    (ACME_USER, Hint::AcmeUser),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:User:badge",
        Hint::Int,
    ),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:User:ratio",
        Hint::Decimal,
    ),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:User:remote",
        Hint::Bool,
    ),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:User:hired",
        Hint::Date,
    ),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:User:tags",
        Hint::Tags,
    ),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:User:serial",
        Hint::Str,
    ),
    ("id", Hint::Refused),
    ("meta.created", Hint::Refused),
    ("groups", Hint::Refused),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
        Hint::Refused,
    ),
    ("shoeSize", Hint::Refused),
    ("name.nick", Hint::Refused),
    ("emails[type eq", Hint::Refused),
    ("urn:example:x:attr", Hint::Refused),
];

/// Group paths (and no-path keys) with the values they take.
pub const GROUP_PATHS: &[(&str, Hint)] = &[
    ("displayName", Hint::Str),
    ("externalId", Hint::Str),
    (
        "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
        Hint::Str,
    ),
    ("members", Hint::Members),
    ("members[value eq \"u1\"]", Hint::Members),
    ("members[value eq \"u1\" or value eq \"u2\"]", Hint::Members),
    ("members[type eq \"User\"]", Hint::Refused),
    ("members.value", Hint::Refused),
    (ACME_GROUP, Hint::AcmeGroup),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:Group:costCode",
        Hint::Str,
    ),
    (
        "urn:example:params:scim:schemas:extension:acme:2.0:Group:level",
        Hint::Int,
    ),
    ("id", Hint::Refused),
    ("meta.version", Hint::Refused),
    ("userName", Hint::Refused),
];

/// Multi-valued complex attributes of User and the filters and sub-attributes tried on them.
pub const FILTERED: &[&str] = &[
    "emails",
    "phoneNumbers",
    "addresses",
    "ims",
    "roles",
    "Emails",
];
/// Value filters.
pub const FILTERS: &[&str] = &[
    "type eq \"work\"",
    "type eq \"WORK\"",
    "type eq \"home\"",
    "type eq \"mobile\"",
    "primary eq true",
    "value co \"@\"",
    "value sw \"555\"",
    "value eq \"bjensen@example.com\"",
    "type eq \"work\" and primary eq true",
    "type eq \"work\" or type eq \"home\"",
    "not (type eq \"work\")",
    "type pr",
    "locality ew \"wood\"",
    "shoeSize eq 1",
];
/// What may follow the closing bracket.
pub const SUBS: &[&str] = &["", ".value", ".type", ".primary", ".display", ".locality"];

/// Strings worth having: the fixture's own values, types, dates, ids and troublemakers.
pub const STRINGS: &[&str] = &[
    "",
    "work",
    "home",
    "mobile",
    "True",
    "false",
    "bjensen@example.com",
    "x@example.org",
    "555-555-4444",
    "2024-02-29T12:00:00Z",
    "2024-02-30T12:00:00",
    "26118915-6090-4610-87e4-49d8ca9f808d",
    "S-1",
    "u1",
    "Ünïcode ✓",
    "nul\u{0}inside",
];

/// Object keys: sub-attributes, attribute names in several spellings, URNs and echoed keys.
pub const KEYS: &[&str] = &[
    "value",
    "Value",
    "type",
    "primary",
    "display",
    "givenName",
    "familyName",
    "locality",
    "department",
    "manager",
    "badge",
    "tags",
    "serial",
    "$ref",
    "displayName",
    "userName",
    "name.givenName",
    "id",
    "meta",
    "schemas",
    "shoeSize",
    ENTERPRISE_USER,
    ACME_USER,
];

/// The built-in schemas plus the two tenant extensions.
#[expect(
    clippy::panic,
    reason = "a fixture that does not build is a broken test"
)]
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let user = json!({"attributes": [
            {"name": "badge", "type": "integer"},
            {"name": "ratio", "type": "decimal"},
            {"name": "remote", "type": "boolean"},
            {"name": "hired", "type": "dateTime"},
            {"name": "homepage", "type": "reference", "referenceTypes": ["external"]},
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "serial", "type": "string", "mutability": "immutable", "caseExact": true},
        ]});
        let group = json!({"attributes": [
            {"name": "costCode", "type": "string"},
            {"name": "level", "type": "integer"},
        ]});
        let declare = |urn, doc| match extension::declaration(urn, doc) {
            Ok(schema) => schema,
            Err(e) => panic!("the fixture extension {urn} is refused: {e}"),
        };
        Registry::with_extensions(vec![
            (ResourceKind::User, declare(ACME_USER, user)),
            (ResourceKind::Group, declare(ACME_GROUP, group)),
        ])
    })
}

/// RFC 7643 §8.2's full User, with EnterpriseUser and the tenant extension, as stored.
pub fn user() -> Record {
    record(
        ResourceKind::User,
        json!({
            "schemas": [USER, ENTERPRISE_USER, ACME_USER],
            "userName": "bjensen",
            "externalId": "bjensen-1",
            "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
            "displayName": "Babs Jensen",
            "nickName": "Babs",
            "title": "Tour Guide",
            "locale": "en-US",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "phoneNumbers": [
                {"value": "555-555-5555", "type": "work"},
                {"value": "555-555-4444", "type": "mobile"}
            ],
            "addresses": [{
                "type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                "region": "CA", "postalCode": "91608", "country": "USA", "primary": true
            }],
            "roles": [{"value": "guide"}],
            ENTERPRISE_USER: {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            },
            ACME_USER: {
                "badge": 42, "ratio": 0.5, "remote": false, "hired": "2010-01-23T04:56:22Z",
                "tags": ["a", "b"], "serial": "S-1"
            }
        }),
    )
}

/// A Group with the tenant extension, as stored (members live in their own table).
pub fn group() -> Record {
    record(
        ResourceKind::Group,
        json!({
            "schemas": [GROUP, ACME_GROUP],
            "displayName": "Tour Guides",
            "externalId": "tg-1",
            ACME_GROUP: {"costCode": "CC-7", "level": 3}
        }),
    )
}

#[expect(
    clippy::panic,
    reason = "a fixture that does not build is a broken test"
)]
fn record(kind: ResourceKind, body: Value) -> Record {
    let v = match validate::resource(registry(), kind, body, None) {
        Ok(v) => v,
        Err(e) => panic!("the fixture {kind:?} is invalid: {e}"),
    };
    let Some(created) = validate::parse_datetime("2011-08-01T18:29:49Z") else {
        panic!("fixture timestamp")
    };
    Record {
        id: "2819c223-7f76-453a-919d-413861904646".into(),
        kind,
        schemas: v.schemas,
        data: v.data,
        version: 1,
        created,
        last_modified: created,
    }
}

/// A PATCH request as `resources::Service::patch_in` runs it, up to the store: parse, apply to
/// the current record, validate the result as a whole resource against the current record.
/// Returns the next stored record and what `apply` gave.
pub fn patch(
    kind: ResourceKind,
    current: &Record,
    body: Value,
) -> Result<(Record, Patched), String> {
    let ops = patch::parse(body, &Limits::default()).map_err(|e| format!("parse: {e}"))?;
    let patched = patch::apply(registry(), kind, current, &ops, &Limits::default())
        .map_err(|e| format!("apply: {e}"))?;
    let v = validate::resource(registry(), kind, patched.body.clone(), Some(current))
        .map_err(|e| format!("validate: {e}"))?;
    let next = Record {
        schemas: v.schemas,
        data: v.data,
        version: current.version + 1,
        ..current.clone()
    };
    Ok((next, patched))
}

/// "Applying and re-reading is consistent": the stored form survives the store's JSON text
/// column, the representation a GET renders survives serialisation, and sending that
/// representation back (a PUT of what was read) validates to exactly the stored form.
pub fn reread(kind: ResourceKind, stored: &Record) -> Result<(), String> {
    let text = serde_json::to_string(&stored.data).map_err(|e| format!("to_string: {e}"))?;
    let data: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    if data != stored.data {
        return Err(format!("stored {:?}, read back {data:?}", stored.data));
    }
    let rendered = render::resource(stored, render::Derived::None, "https://example.com/scim/v2");
    let text = serde_json::to_string(&rendered).map_err(|e| format!("to_string: {e}"))?;
    let read: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    if read != rendered {
        return Err(format!("rendered {rendered}, read back {read}"));
    }
    let again = validate::resource(registry(), kind, read, Some(stored))
        .map_err(|e| format!("what was read back is refused: {e}"))?;
    if again.schemas != stored.schemas || again.data != stored.data || again.password.is_some() {
        return Err(format!(
            "what was read back validates to {again:?}, not {:?} {:?}",
            stored.schemas, stored.data
        ));
    }
    Ok(())
}

/// A PatchOp body holding these operations.
pub fn body(operations: Vec<Value>) -> Value {
    json!({"schemas": [patch::PATCH_OP], "Operations": operations})
}

/// Checks a stored form of a resource; `Err` names the first violation.
pub fn check(
    registry: &Registry,
    kind: ResourceKind,
    schemas: &[String],
    data: &Map<String, Value>,
) -> Result<(), String> {
    let core = registry.core(kind);
    if schemas.first() != Some(&core.id) {
        return Err(format!("schemas {schemas:?} must start with {}", core.id));
    }
    for (n, urn) in schemas.iter().enumerate().skip(1) {
        if registry.extension(kind, urn).is_none_or(|e| e.id != *urn) {
            return Err(format!("schemas names {urn}, not an extension of {kind:?}"));
        }
        if !data.contains_key(urn) {
            return Err(format!(
                "schemas names {urn}, but the resource has no {urn}"
            ));
        }
        if schemas.iter().take(n).any(|s| s == urn) {
            return Err(format!("schemas names {urn} twice"));
        }
    }
    for (key, value) in data {
        if key == "externalId" {
            string(value, key)?;
            continue;
        }
        if let Some(ext) = registry.extensions(kind).iter().find(|e| e.id == *key) {
            if !schemas.contains(key) {
                return Err(format!("{key} holds values but is not in schemas"));
            }
            let Value::Object(obj) = value else {
                return Err(format!("{key} must be an object, not {value}"));
            };
            if obj.is_empty() {
                return Err(format!("{key} is an empty object"));
            }
            for (name, v) in obj {
                let attr = named(&ext.attributes, name)
                    .ok_or_else(|| format!("{key} has no attribute {name}"))?;
                attribute(attr, v, &format!("{key}:{name}"))?;
            }
            required(&ext.attributes, obj, key)?;
            continue;
        }
        let attr = named(&core.attributes, key)
            .ok_or_else(|| format!("{key} is not an attribute of {}", core.id))?;
        // These travel beside the data: the password as a hash, members as rows.
        let beside = match kind {
            ResourceKind::User => "password",
            ResourceKind::Group => "members",
        };
        if attr.name == beside {
            return Err(format!("{key} must not be stored with the attributes"));
        }
        attribute(attr, value, key)?;
    }
    required(&core.attributes, data, &core.id)
}

/// The attribute with exactly this name: stored data uses the schema's spelling.
fn named<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.name == name)
}

fn attribute(attr: &Attribute, value: &Value, path: &str) -> Result<(), String> {
    if attr.mutability == Mutability::ReadOnly {
        return Err(format!("{path} is readOnly and must not be stored"));
    }
    if !attr.multi_valued {
        return single(attr, value, path);
    }
    let Value::Array(items) = value else {
        return Err(format!("{path} is multi-valued, not {value}"));
    };
    if items.is_empty() {
        return Err(format!("{path} is an empty array"));
    }
    for item in items {
        single(attr, item, path)?;
    }
    let primaries = items
        .iter()
        .filter(|i| i.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(format!("{path} has {primaries} primary values"));
    }
    Ok(())
}

fn single(attr: &Attribute, value: &Value, path: &str) -> Result<(), String> {
    let ok = match (attr.kind, value) {
        (AttrType::String | AttrType::Reference | AttrType::Binary, v) => {
            return string(v, path);
        }
        (AttrType::Boolean, Value::Bool(_)) | (AttrType::Decimal, Value::Number(_)) => true,
        (AttrType::Integer, Value::Number(n)) => n.is_i64(),
        (AttrType::DateTime, Value::String(s)) => validate::is_datetime(s),
        (AttrType::Complex, Value::Object(obj)) => {
            if obj.is_empty() {
                return Err(format!("{path} is an empty object"));
            }
            for (name, v) in obj {
                let sub = named(&attr.sub_attributes, name)
                    .ok_or_else(|| format!("{path} has no sub-attribute {name}"))?;
                attribute(sub, v, &format!("{path}.{name}"))?;
            }
            required(&attr.sub_attributes, obj, path)?;
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{path} is {:?}, not {value}", attr.kind))
    }
}

fn string(value: &Value, path: &str) -> Result<(), String> {
    match value {
        Value::String(s) if !s.contains('\0') => Ok(()),
        _ => Err(format!("{path} must be a string without NUL, not {value}")),
    }
}

fn required(attrs: &[Attribute], data: &Map<String, Value>, path: &str) -> Result<(), String> {
    let missing = attrs.iter().find(|a| {
        a.required && a.mutability != Mutability::ReadOnly && !data.contains_key(&a.name)
    });
    match missing {
        Some(a) => Err(format!("{path} lacks the required {}", a.name)),
        None => Ok(()),
    }
}
