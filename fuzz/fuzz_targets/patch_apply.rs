//! PATCH application (RFC 7644 §3.5.2) on a full User and a Group, run the way
//! `resources::Service::patch_in` runs it: `patch::parse`, `patch::apply`, then
//! `validate::resource` against the current record. Properties: no panic; an accepted result is
//! valid against its schemas (by the oracle in crates/scim-core/tests/support, which does not
//! reuse `validate`); re-reading it is consistent (it survives the store's JSON text and the
//! rendered GET body, and that body validates back to the same stored form).
//!
//! Input that is JSON is taken as a PatchOp body as a client sends it and applied to both
//! resources. Anything else drives a small grammar: real paths, value filters and no-path
//! objects from the same tables the property tests use, with typed or arbitrary values,
//! sent as one request or as one request per operation.
//!
//! `cargo +nightly fuzz run patch_apply` from the repository root.
#![no_main]

#[path = "../../crates/scim-core/tests/support/mod.rs"]
mod support;

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use scim_core::resource::Record;
use scim_core::schema::ResourceKind;
use serde_json::{Map, Value, json};

use support::{FILTERED, FILTERS, GROUP_PATHS, Hint, KEYS, STRINGS, SUBS, USER_PATHS};

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<Value>(data) {
        for kind in [ResourceKind::User, ResourceKind::Group] {
            request(kind, start(kind), body.clone());
        }
        return;
    }
    let _ = structured(&mut Unstructured::new(data));
});

fn start(kind: ResourceKind) -> &'static Record {
    static USER: OnceLock<Record> = OnceLock::new();
    static GROUP: OnceLock<Record> = OnceLock::new();
    match kind {
        ResourceKind::User => USER.get_or_init(support::user),
        ResourceKind::Group => GROUP.get_or_init(support::group),
    }
}

fn structured(u: &mut Unstructured<'_>) -> Result<()> {
    let kind = if u.arbitrary()? {
        ResourceKind::User
    } else {
        ResourceKind::Group
    };
    let one_request = u.arbitrary::<bool>()?;
    let n = u.int_in_range(1..=8)?;
    let mut ops = Vec::with_capacity(n);
    for _ in 0..n {
        ops.push(operation(u, kind)?);
    }
    if one_request {
        request(kind, start(kind), support::body(ops));
    } else {
        let mut current = start(kind).clone();
        for op in ops {
            if let Some(next) = request(kind, &current, support::body(vec![op])) {
                current = next;
            }
        }
    }
    Ok(())
}

/// Runs one request and checks the properties; returns the record a store would now hold.
fn request(kind: ResourceKind, current: &Record, body: Value) -> Option<Record> {
    let (next, _) = support::patch(kind, current, body.clone()).ok()?;
    let registry = support::registry();
    if let Err(e) = support::check(registry, kind, &next.schemas, &next.data) {
        panic!(
            "{body} on {:?} stored an invalid resource: {e}\n{:?}",
            current.data, next.data
        );
    }
    if let Err(e) = support::reread(kind, &next) {
        panic!("{body} on {:?}: {e}", current.data);
    }
    Some(next)
}

fn operation(u: &mut Unstructured<'_>, kind: ResourceKind) -> Result<Value> {
    let op = *u.choose(&[
        "add", "replace", "remove", "Add", "Replace", "Remove", "REMOVE", "move",
    ])?;
    let mut obj = Map::new();
    obj.insert("op".into(), json!(op));
    let table = match kind {
        ResourceKind::User => USER_PATHS,
        ResourceKind::Group => GROUP_PATHS,
    };
    let (path, value) = match u.int_in_range(0..=9)? {
        // No path: an object of attribute names (dotted or URN-qualified) and values.
        0 | 1 => {
            let mut value = Map::new();
            for _ in 0..u.int_in_range(0..=4)? {
                let (key, hint) = *u.choose(table)?;
                value.insert(key.to_owned(), typed(u, hint, 3)?);
            }
            (None, Value::Object(value))
        }
        2 | 3 if kind == ResourceKind::User => {
            let attr = u.choose(FILTERED)?;
            let filter = u.choose(FILTERS)?;
            let sub = *u.choose(SUBS)?;
            let hint = match sub {
                "" => Hint::Email,
                ".primary" => Hint::Bool,
                _ => Hint::Str,
            };
            (
                Some(json!(format!("{attr}[{filter}]{sub}"))),
                typed(u, hint, 3)?,
            )
        }
        // Any text as the path, and the oddities: null, empty, not a string.
        4 => {
            let path = match u.int_in_range(0..=3)? {
                0 => Value::Null,
                1 => json!(""),
                2 => json!(7),
                _ => json!(u.arbitrary::<&str>()?),
            };
            (Some(path), any_json(u, 3)?)
        }
        _ => {
            let (path, hint) = *u.choose(table)?;
            (Some(json!(path)), typed(u, hint, 3)?)
        }
    };
    if let Some(path) = path {
        obj.insert("path".into(), path);
    }
    // Removes mostly carry no value; the rest always do, except a few broken ones.
    let with_value = if op.eq_ignore_ascii_case("remove") {
        u.ratio(1, 4)?
    } else {
        !u.ratio(1, 32)?
    };
    if with_value {
        obj.insert("value".into(), value);
    }
    Ok(Value::Object(obj))
}

/// A value of the type `hint` names, three times in four; any JSON otherwise.
fn typed(u: &mut Unstructured<'_>, hint: Hint, depth: u32) -> Result<Value> {
    if u.ratio(1, 4)? {
        return any_json(u, depth);
    }
    let object = |u: &mut Unstructured<'_>, fields: &[(&str, Hint)]| -> Result<Value> {
        let mut obj = Map::new();
        for &(name, hint) in fields {
            if u.arbitrary()? {
                obj.insert(name.to_owned(), typed(u, hint, depth.saturating_sub(1))?);
            }
        }
        Ok(Value::Object(obj))
    };
    let multi = |u: &mut Unstructured<'_>, fields: &[(&str, Hint)]| -> Result<Value> {
        if u.ratio(1, 4)? {
            return object(u, fields);
        }
        let mut items = Vec::new();
        for _ in 0..u.int_in_range(0..=3)? {
            items.push(object(u, fields)?);
        }
        Ok(Value::Array(items))
    };
    Ok(match hint {
        Hint::Str | Hint::Refused => string(u)?,
        Hint::Bool => boolean(u)?,
        Hint::Int => json!(u.int_in_range(-5i64..=1000)?),
        Hint::Decimal => match u.arbitrary::<f64>()? {
            f if f.is_finite() => json!(f),
            _ => json!(0.25),
        },
        Hint::Date => json!(*u.choose(&[
            "2024-02-29T12:00:00Z",
            "1999-12-31T23:59:59.123+01:00",
            "2024-01-01T00:00:00",
            "2024-13-01T00:00:00Z"
        ])?),
        Hint::Name => object(
            u,
            &[
                ("givenName", Hint::Str),
                ("familyName", Hint::Str),
                ("formatted", Hint::Str),
            ],
        )?,
        Hint::Email => multi(
            u,
            &[
                ("value", Hint::Str),
                ("type", Hint::Str),
                ("primary", Hint::Bool),
                ("display", Hint::Str),
            ],
        )?,
        Hint::Phone => multi(
            u,
            &[
                ("value", Hint::Str),
                ("type", Hint::Str),
                ("primary", Hint::Bool),
            ],
        )?,
        Hint::Address => multi(
            u,
            &[
                ("locality", Hint::Str),
                ("country", Hint::Str),
                ("type", Hint::Str),
                ("primary", Hint::Bool),
            ],
        )?,
        Hint::Manager => {
            if u.arbitrary()? {
                string(u)?
            } else {
                object(
                    u,
                    &[
                        ("value", Hint::Str),
                        ("$ref", Hint::Str),
                        ("displayName", Hint::Str),
                    ],
                )?
            }
        }
        Hint::Tags => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                items.push(string(u)?);
            }
            Value::Array(items)
        }
        Hint::Members => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let mut m = Map::new();
                if u.ratio(7, 8)? {
                    m.insert("value".into(), json!(*u.choose(&["u1", "u2", "g1", ""])?));
                }
                if u.arbitrary()? {
                    m.insert(
                        "type".into(),
                        json!(*u.choose(&["User", "Group", "Robot"])?),
                    );
                }
                items.push(Value::Object(m));
            }
            Value::Array(items)
        }
        Hint::Enterprise => object(
            u,
            &[
                ("department", Hint::Str),
                ("employeeNumber", Hint::Str),
                ("manager", Hint::Manager),
            ],
        )?,
        Hint::AcmeUser => object(
            u,
            &[
                ("badge", Hint::Int),
                ("ratio", Hint::Decimal),
                ("remote", Hint::Bool),
                ("hired", Hint::Date),
                ("tags", Hint::Tags),
                ("serial", Hint::Str),
            ],
        )?,
        Hint::AcmeGroup => object(u, &[("costCode", Hint::Str), ("level", Hint::Int)])?,
    })
}

fn string(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(if u.ratio(3, 4)? {
        json!(*u.choose(STRINGS)?)
    } else {
        json!(u.arbitrary::<&str>()?)
    })
}

fn boolean(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 => json!("True"),
        1 => json!("false"),
        n => json!(n % 2 == 0),
    })
}

/// Any JSON value, `depth` levels at most, keys mostly from `KEYS`.
fn any_json(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let top = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => json!(u.arbitrary::<bool>()?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => match u.arbitrary::<f64>()? {
            f if f.is_finite() => json!(f),
            _ => json!(-0.0),
        },
        4 | 5 => string(u)?,
        6 => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                items.push(any_json(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let mut obj = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let key = if u.ratio(7, 8)? {
                    (*u.choose(KEYS)?).to_owned()
                } else {
                    u.arbitrary::<String>()?
                };
                obj.insert(key, any_json(u, depth - 1)?);
            }
            Value::Object(obj)
        }
    })
}
