//! PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying its operations, in order, to
//! a copy of the resource's attributes. The result is validated again as a whole resource by the
//! caller, so a PATCH can never store what a PUT would refuse. Group membership changes are not
//! applied here: they come back as `MemberChange`s that the store applies row by row, so adding
//! one member costs the same whatever the size of the group.
//!
//! Real clients' forms are accepted (design.md §3): capitalised ops, booleans as strings (fixed
//! by validation), a manager sent as a bare id, no-path values with dotted or URN-qualified
//! keys, `remove` of `members` with a value list, `add` on a filtered path that matches nothing,
//! and read-only `id`/`meta` inside values.

use scim_filter_parser::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::message;
use crate::query::fold;
use crate::resource::Record;
use crate::schema::{AttrType, Attribute, Mutability, Registry, ResourceKind, Schema};
use crate::validate::{self, MemberInput};

/// RFC 7644 §3.5.2 PatchOp message URN.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The three operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `add`
    Add,
    /// `remove`
    Remove,
    /// `replace`
    Replace,
}

/// One operation of a PatchOp request.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// What to do.
    pub op: Op,
    /// Where; `None` means the resource itself.
    pub path: Option<String>,
    /// The value, for `add` and `replace` (and Entra's `remove` of members).
    pub value: Option<Value>,
}

/// A change to a group's member list, applied by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Add these members (existing ones are kept once).
    Add(Vec<MemberInput>),
    /// Remove these member ids.
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// Replace the whole list.
    Replace(Vec<MemberInput>),
}

/// The result of applying the operations: a full resource body for validation, and the member
/// changes in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    /// `schemas` plus the patched attributes.
    pub body: Value,
    /// Membership changes (Groups only).
    pub members: Vec<MemberChange>,
}

/// Parses a PatchOp body of at most `limits.patch_operations` operations.
pub fn parse(body: Value, limits: &Limits) -> Result<Vec<Operation>> {
    let body = message::envelope(body, PATCH_OP, "PatchOp")?;
    let field = |name: &str| message::field(&body, name);
    let Some(Value::Array(items)) = field("Operations") else {
        return Err(Error::InvalidSyntax(
            "'Operations' must be an array of operations".into(),
        ));
    };
    if items.is_empty() {
        return Err(Error::InvalidSyntax("'Operations' is empty".into()));
    }
    limits.check_patch_operations(items.len())?;
    items.iter().map(operation).collect()
}

fn operation(item: &Value) -> Result<Operation> {
    let obj = message::operation(item)?;
    let get = |name: &str| message::field(obj, name);
    // Okta and Entra capitalise ops ("Replace"); RFC 7644 op names are compared case-insensitively.
    let op = match get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => Op::Add,
        Some("remove") => Op::Remove,
        Some("replace") => Op::Replace,
        _ => {
            return Err(Error::InvalidSyntax(
                "each operation needs \"op\": \"add\", \"remove\" or \"replace\"".into(),
            ));
        }
    };
    let path = match get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(p.trim().to_owned()),
        Some(_) => return Err(Error::InvalidPath("\"path\" must be a string".into())),
    };
    let value = get("value").cloned();
    if op != Op::Remove && value.is_none() {
        return Err(Error::InvalidSyntax(
            format!("a {op:?} operation needs a \"value\"").to_lowercase(),
        ));
    }
    Ok(Operation { op, path, value })
}

/// Where an operation lands.
struct Target<'r> {
    /// The extension holding the attribute; `None` for the core schema.
    ext: Option<&'r Schema>,
    attr: &'r Attribute,
    filter: Option<Filter>,
    sub: Option<&'r Attribute>,
}

/// Applies the operations to a copy of `record`, in order; paths obey `limits`.
pub fn apply(
    registry: &Registry,
    kind: ResourceKind,
    record: &Record,
    ops: &[Operation],
    limits: &Limits,
) -> Result<Patched> {
    let mut doc = record.data.clone();
    let mut members = Vec::new();
    for op in ops {
        let mut ctx = Ctx {
            registry,
            kind,
            limits,
            doc: &mut doc,
            members: &mut members,
        };
        match &op.path {
            None => ctx.no_path(op.op, op.value.clone())?,
            Some(path) => ctx.with_path(op.op, path, op.value.clone())?,
        }
    }
    let mut schemas: Vec<Value> = record.schemas.iter().map(|s| json!(s)).collect();
    for ext in registry.extensions(kind) {
        if doc.contains_key(&ext.id) && !record.schemas.contains(&ext.id) {
            schemas.push(json!(ext.id));
        }
    }
    let mut body = Map::new();
    body.insert("schemas".into(), Value::Array(schemas));
    body.extend(doc);
    Ok(Patched {
        body: Value::Object(body),
        members,
    })
}

struct Ctx<'a, 'r> {
    registry: &'r Registry,
    kind: ResourceKind,
    limits: &'a Limits,
    doc: &'a mut Map<String, Value>,
    members: &'a mut Vec<MemberChange>,
}

impl<'r> Ctx<'_, 'r> {
    /// RFC 7644 §3.5.2.1/3: without a path, the value is an object of attributes to add or replace.
    fn no_path(&mut self, op: Op, value: Option<Value>) -> Result<()> {
        if op == Op::Remove {
            return Err(Error::NoTarget(
                "a remove operation needs a \"path\"".into(),
            ));
        }
        let Some(Value::Object(obj)) = value else {
            return Err(Error::InvalidValue(
                "without a \"path\", \"value\" must be an object of attributes".into(),
            ));
        };
        for (key, v) in obj {
            if echoed(&key) {
                continue;
            }
            if let Some(ext) = self.registry.extension(self.kind, &key) {
                let Value::Object(inner) = v else {
                    return Err(Error::InvalidValue(format!(
                        "'{}' must be an object",
                        ext.id
                    )));
                };
                for (k2, v2) in inner.into_iter().filter(|(k, _)| !echoed(k)) {
                    let target = self.resolve_in(Some(ext), &k2)?;
                    self.apply(op, target, Some(v2), false)?;
                }
                continue;
            }
            // Entra sends "name.givenName" and "urn:...:enterprise:2.0:User:department" keys.
            let target = self.resolve(&key)?;
            self.apply(op, target, Some(v), false)?;
        }
        Ok(())
    }

    fn with_path(&mut self, op: Op, path: &str, value: Option<Value>) -> Result<()> {
        if let Some(ext) = self.registry.extension(self.kind, path) {
            // The path names a whole extension.
            return match op {
                Op::Remove => {
                    self.doc.remove(&ext.id);
                    Ok(())
                }
                Op::Add | Op::Replace => {
                    if op == Op::Replace {
                        self.doc.remove(&ext.id);
                    }
                    self.no_path(op, Some(json!({ ext.id.clone(): value })))
                }
            };
        }
        let target = self.resolve(path)?;
        self.apply(op, target, value, true)
    }

    /// Resolves a path (or a no-path key) against the core schema and extensions.
    fn resolve(&self, path: &str) -> Result<Target<'r>> {
        self.limits.check_path(path)?;
        let parsed: PatchPath =
            scim_filter_parser::parse_patch_path_with(path, self.limits.parser())
                .map_err(|e| Error::InvalidPath(format!("invalid path \"{path}\": {e}")))?;
        let ext = match &parsed.attr.urn {
            None => None,
            Some(urn) if urn.eq_ignore_ascii_case(&self.registry.core(self.kind).id) => None,
            Some(urn) => Some(self.registry.extension(self.kind, urn).ok_or_else(|| {
                Error::InvalidPath(format!(
                    "the schema \"{urn}\" is not used by {} resources",
                    self.kind.name()
                ))
            })?),
        };
        let mut target = self.resolve_attr(ext, &parsed.attr)?;
        if let Some(sub) = &parsed.sub_attr {
            if target.sub.is_some() {
                return Err(Error::InvalidPath(format!("invalid path \"{path}\"")));
            }
            target.sub = Some(sub_attr(target.attr, sub)?);
        }
        target.filter = parsed.filter;
        if target.filter.is_some()
            && !(target.attr.multi_valued && target.attr.kind == AttrType::Complex)
        {
            return Err(Error::InvalidPath(format!(
                "a value filter needs a multi-valued complex attribute, and '{}' is not one",
                target.attr.name
            )));
        }
        Ok(target)
    }

    /// Resolves a key inside an extension object (possibly dotted).
    fn resolve_in(&self, ext: Option<&'r Schema>, key: &str) -> Result<Target<'r>> {
        let path = scim_filter_parser::parse_attr_path(key)
            .map_err(|e| Error::InvalidPath(format!("invalid attribute \"{key}\": {e}")))?;
        self.resolve_attr(ext, &path)
    }

    fn resolve_attr(&self, ext: Option<&'r Schema>, path: &AttrPath) -> Result<Target<'r>> {
        let schema = ext.unwrap_or_else(|| self.registry.core(self.kind));
        let external_id = crate::schema::common("externalId")
            .filter(|_| ext.is_none() && path.name.eq_ignore_ascii_case("externalId"));
        let attr = if let Some(attr) = external_id {
            attr
        } else if ext.is_none()
            && ["id", "meta", "schemas"]
                .iter()
                .any(|n| path.name.eq_ignore_ascii_case(n))
        {
            return Err(Error::Mutability(format!("'{}' is read-only", path.name)));
        } else {
            schema.attribute(&path.name).ok_or_else(|| {
                Error::InvalidPath(format!(
                    "'{}' is not an attribute of {}",
                    path.name, schema.id
                ))
            })?
        };
        let sub = path
            .sub_attr
            .as_deref()
            .map(|s| sub_attr(attr, s))
            .transpose()?;
        Ok(Target {
            ext,
            attr,
            filter: None,
            sub,
        })
    }

    fn apply(&mut self, op: Op, t: Target<'r>, value: Option<Value>, explicit: bool) -> Result<()> {
        if self.kind == ResourceKind::Group && t.ext.is_none() && t.attr.name == "members" {
            return self.members(op, &t, value);
        }
        let read_only = t.attr.mutability == Mutability::ReadOnly
            || t.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly);
        if read_only {
            if explicit {
                return Err(Error::Mutability(format!("'{}' is read-only", t.attr.name)));
            }
            return Ok(());
        }
        let container = match t.ext {
            None => &mut *self.doc,
            Some(ext) => {
                let entry = self.doc.entry(ext.id.clone()).or_insert_with(|| json!({}));
                if !entry.is_object() {
                    *entry = json!({});
                }
                match entry.as_object_mut() {
                    Some(m) => m,
                    None => return Err(Error::internal_msg("extension is not an object")),
                }
            }
        };
        edit(container, op, &t, value)?;
        if let Some(ext) = t.ext
            && self
                .doc
                .get(&ext.id)
                .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
        {
            self.doc.remove(&ext.id);
        }
        Ok(())
    }

    /// `members` changes become row operations for the store.
    fn members(&mut self, op: Op, t: &Target<'_>, value: Option<Value>) -> Result<()> {
        if t.sub.is_some() {
            return Err(Error::Mutability(
                "members' sub-attributes cannot be changed".into(),
            ));
        }
        let list = |value: Option<Value>| -> Result<Vec<MemberInput>> {
            let items = match value {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items,
                Some(single) => vec![single],
            };
            items.into_iter().map(validate::member).collect()
        };
        let change = match (op, &t.filter) {
            (Op::Add, None) => MemberChange::Add(list(value)?),
            (Op::Replace, None) => MemberChange::Replace(list(value)?),
            // Entra and Okta remove members with a value list: only those go.
            (Op::Remove, None) => match value {
                None | Some(Value::Null) => MemberChange::RemoveAll,
                v => MemberChange::Remove(list(v)?.into_iter().map(|m| m.value).collect()),
            },
            (Op::Remove, Some(filter)) => {
                MemberChange::Remove(member_ids(filter).ok_or_else(|| {
                    Error::InvalidPath(
                        "members can be selected only by value: members[value eq \"id\"]".into(),
                    )
                })?)
            }
            (Op::Add | Op::Replace, Some(_)) => {
                return Err(Error::InvalidPath(
                    "add or replace members without a filter: path \"members\"".into(),
                ));
            }
        };
        self.members.push(change);
        Ok(())
    }
}

/// Read-only keys that clients echo back inside values (Okta, Entra, scim2-tester): ignored.
fn echoed(key: &str) -> bool {
    ["schemas", "id", "meta"]
        .iter()
        .any(|k| key.eq_ignore_ascii_case(k))
}

/// The ids named by `value eq "x"` or an `or` of such.
fn member_ids(filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(v),
        } if path.name.eq_ignore_ascii_case("value") && path.sub_attr.is_none() => {
            Some(vec![v.clone()])
        }
        Filter::Or(items) => {
            let mut out = Vec::new();
            for f in items {
                out.extend(member_ids(f)?);
            }
            Some(out)
        }
        _ => None,
    }
}

fn sub_attr<'r>(attr: &'r Attribute, name: &str) -> Result<&'r Attribute> {
    attr.sub(name)
        .ok_or_else(|| Error::InvalidPath(format!("'{}' has no sub-attribute '{name}'", attr.name)))
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A complex attribute sent as a bare string means its `value` (Entra sends the manager's id).
fn complex_value(attr: &Attribute, v: Value) -> Value {
    match v {
        Value::String(s) if attr.kind == AttrType::Complex && attr.sub("value").is_some() => {
            json!({"value": s})
        }
        other => other,
    }
}

fn as_items(attr: &Attribute, v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.into_iter().map(|i| complex_value(attr, i)).collect(),
        Value::Null => Vec::new(),
        single => vec![complex_value(attr, single)],
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into.as_object_mut(), from) {
        (Some(obj), Value::Object(from)) => obj.extend(from),
        (_, from) => *into = from,
    }
}

/// Applies one operation to the attribute `t.attr` of `m`.
fn edit(m: &mut Map<String, Value>, op: Op, t: &Target<'_>, value: Option<Value>) -> Result<()> {
    let name = t.attr.name.clone();
    let before: Vec<Value> = m
        .get(&name)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match (&t.filter, t.sub) {
        (None, None) => whole(m, op, t.attr, value),
        (None, Some(sub)) => {
            if t.attr.multi_valued {
                // `emails.value` without a filter addresses that sub-attribute of every value.
                let items = m.entry(name.clone()).or_insert_with(|| json!([]));
                if let Some(items) = items.as_array_mut() {
                    if items.is_empty() && op != Op::Remove {
                        items.push(json!({}));
                    }
                    for item in items.iter_mut() {
                        set_sub(item, op, sub, value.clone());
                    }
                }
            } else {
                let obj = m.entry(name.clone()).or_insert_with(|| json!({}));
                set_sub(obj, op, sub, value);
            }
        }
        (Some(filter), sub) => {
            let items = m.entry(name.clone()).or_insert_with(|| json!([]));
            let Some(items) = items.as_array_mut() else {
                return Err(Error::InvalidPath(format!("'{name}' is not multi-valued")));
            };
            let mut hits = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if matches(filter, item, t.attr)? {
                    hits.push(i);
                }
            }
            if hits.is_empty() {
                match op {
                    Op::Remove => {}
                    Op::Replace => {
                        return Err(Error::NoTarget(format!(
                            "no value of '{name}' matches the filter"
                        )));
                    }
                    // Entra and Okta add `emails[type eq "work"].value` for a user without a
                    // work email: create the element the filter describes.
                    Op::Add => {
                        let mut item = element_from(filter).ok_or_else(|| {
                            Error::NoTarget(format!("no value of '{name}' matches the filter"))
                        })?;
                        match sub {
                            Some(sub) => set_sub(&mut item, Op::Add, sub, value),
                            None => merge(&mut item, value.unwrap_or(Value::Null)),
                        }
                        items.push(item);
                    }
                }
            } else {
                for &i in hits.iter().rev() {
                    match (op, sub) {
                        (Op::Remove, None) => {
                            items.remove(i);
                        }
                        (_, Some(sub)) => {
                            if let Some(item) = items.get_mut(i) {
                                set_sub(item, op, sub, value.clone());
                            }
                        }
                        (Op::Add, None) => {
                            if let Some(item) = items.get_mut(i) {
                                merge(item, value.clone().unwrap_or(Value::Null));
                            }
                        }
                        (Op::Replace, None) => {
                            if let Some(item) = items.get_mut(i) {
                                *item = value.clone().unwrap_or(Value::Null);
                            }
                        }
                    }
                }
            }
        }
    }
    tidy(m, &name, &before);
    Ok(())
}

/// add / replace / remove of a whole attribute.
fn whole(m: &mut Map<String, Value>, op: Op, attr: &Attribute, value: Option<Value>) {
    let name = attr.name.clone();
    match op {
        Op::Remove => match (value, attr.multi_valued) {
            // A value list on remove takes out just those values.
            (Some(v), true) if !v.is_null() => {
                let gone = as_items(attr, v);
                if let Some(items) = m.get_mut(&name).and_then(Value::as_array_mut) {
                    items.retain(|i| !gone.iter().any(|g| same_value(g, i)));
                }
            }
            _ => {
                m.remove(&name);
            }
        },
        Op::Add | Op::Replace if attr.multi_valued => {
            let new = as_items(attr, value.unwrap_or(Value::Null));
            let items = if op == Op::Replace {
                new
            } else {
                let mut items = m
                    .get(&name)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for v in new {
                    // RFC 7644 §3.5.2.1: adding a value already present changes nothing.
                    if !items.contains(&v) {
                        items.push(v);
                    }
                }
                items
            };
            m.insert(name, Value::Array(items));
        }
        Op::Add | Op::Replace => {
            let v = complex_value(attr, value.unwrap_or(Value::Null));
            let existing_object = m.get(&name).is_some_and(Value::is_object);
            match v {
                Value::Null => {
                    m.remove(&name);
                }
                // RFC 7644 §3.5.2.1/3: sub-attributes not given are left unchanged.
                Value::Object(obj) if attr.kind == AttrType::Complex && existing_object => {
                    if let Some(existing) = m.get_mut(&name) {
                        merge(existing, Value::Object(obj));
                    }
                }
                v => {
                    m.insert(name, v);
                }
            }
        }
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    a == b || (a.get("value").is_some() && a.get("value") == b.get("value"))
}

fn set_sub(item: &mut Value, op: Op, sub: &Attribute, value: Option<Value>) {
    if !item.is_object() {
        *item = json!({});
    }
    let Some(obj) = item.as_object_mut() else {
        return;
    };
    match (op, value) {
        (Op::Remove, _) | (_, None | Some(Value::Null)) => {
            obj.remove(&sub.name);
        }
        (_, Some(v)) => {
            obj.insert(sub.name.clone(), v);
        }
    }
}

/// Removes empty values and keeps at most one `primary: true`, the one this operation set.
fn tidy(m: &mut Map<String, Value>, name: &str, before: &[Value]) {
    if let Some(items) = m.get_mut(name).and_then(Value::as_array_mut) {
        items.retain(|i| !matches!(i, Value::Object(o) if o.is_empty()) && !i.is_null());
        let newly: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| truthy(i.get("primary")) && !before.contains(i))
            .map(|(n, _)| n)
            .collect();
        if let Some(&keep) = newly.last() {
            for (n, item) in items.iter_mut().enumerate() {
                if n != keep
                    && truthy(item.get("primary"))
                    && let Some(obj) = item.as_object_mut()
                {
                    obj.insert("primary".into(), Value::Bool(false));
                }
            }
        }
    }
    let empty = match m.get(name) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        m.remove(name);
    }
}

/// The element a filter of `eq` terms describes: `type eq "work"` gives `{"type": "work"}`.
fn element_from(filter: &Filter) -> Option<Value> {
    let mut obj = Map::new();
    let mut add = |f: &Filter| -> Option<()> {
        match f {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => {
                let v = match value {
                    CompValue::Str(s) => json!(s),
                    CompValue::Bool(b) => json!(b),
                    CompValue::Number(n) => serde_json::from_str(n).ok()?,
                    CompValue::Null => return None,
                };
                obj.insert(path.name.clone(), v);
                Some(())
            }
            _ => None,
        }
    };
    match filter {
        Filter::And(items) => {
            for f in items {
                add(f)?;
            }
        }
        f => add(f)?,
    }
    Some(Value::Object(obj))
}

/// Evaluates a value filter on one element of a multi-valued complex attribute, with the case
/// rules of its sub-attributes.
pub fn matches(filter: &Filter, item: &Value, attr: &Attribute) -> Result<bool> {
    Ok(match filter {
        Filter::And(items) => {
            for f in items {
                if !matches(f, item, attr)? {
                    return Ok(false);
                }
            }
            true
        }
        Filter::Or(items) => {
            for f in items {
                if matches(f, item, attr)? {
                    return Ok(true);
                }
            }
            false
        }
        Filter::Not(inner) => !matches(inner, item, attr)?,
        Filter::Present(path) => {
            let sub = sub_attr(attr, &path.name)?;
            !matches!(field(item, &sub.name), None | Some(Value::Null))
                && field(item, &sub.name) != Some(&json!(""))
        }
        Filter::Compare { path, op, value } => {
            let sub = sub_attr(attr, &path.name)?;
            compare(field(item, &sub.name), *op, value, sub.case_exact)
        }
        Filter::ValuePath { .. } => {
            return Err(Error::InvalidFilter(
                "value filters cannot be nested".into(),
            ));
        }
    })
}

fn field<'v>(item: &'v Value, name: &str) -> Option<&'v Value> {
    item.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn compare(actual: Option<&Value>, op: CompareOp, expected: &CompValue, case_exact: bool) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (actual, expected) {
        (None | Some(Value::Null), CompValue::Null) => Some(Ordering::Equal),
        (Some(Value::String(a)), CompValue::Str(b)) => {
            let (a, b) = if case_exact {
                (a.clone(), b.clone())
            } else {
                (fold(a), fold(b))
            };
            return match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ordered(op, a.cmp(&b)),
            };
        }
        (Some(Value::Bool(a)), CompValue::Bool(b)) => Some(a.cmp(b)),
        (Some(Value::Bool(a)), CompValue::Str(b)) => {
            Some(a.to_string().cmp(&b.to_ascii_lowercase()))
        }
        (Some(Value::Number(a)), CompValue::Number(b)) => a
            .as_f64()
            .zip(b.parse::<f64>().ok())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        _ => None,
    };
    match ordering {
        Some(o) => ordered(op, o),
        None => op == CompareOp::Ne,
    }
}

fn ordered(op: CompareOp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        CompareOp::Eq => o == Equal,
        CompareOp::Ne => o != Equal,
        CompareOp::Gt => o == Greater,
        CompareOp::Ge => o != Less,
        CompareOp::Lt => o == Less,
        CompareOp::Le => o != Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => o == Equal,
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER, GROUP, USER};

    fn record(kind: ResourceKind, data: Value) -> Record {
        let Value::Object(data) = data else {
            panic!("object")
        };
        Record {
            id: "1".into(),
            kind,
            schemas: vec![kind.core_schema().to_owned()],
            data,
            version: 1,
            created: DateTime::UNIX_EPOCH,
            last_modified: DateTime::UNIX_EPOCH,
        }
    }

    fn ops(list: Value) -> Vec<Operation> {
        parse(
            json!({"schemas": [PATCH_OP], "Operations": list}),
            &Limits::default(),
        )
        .unwrap()
    }

    /// Applies to a user and returns the body without `schemas`.
    fn user(data: Value, list: Value) -> Result<Value> {
        let r = record(ResourceKind::User, data);
        let mut body = apply(
            Registry::builtin(),
            ResourceKind::User,
            &r,
            &ops(list),
            &Limits::default(),
        )?
        .body;
        body.as_object_mut().unwrap().remove("schemas");
        Ok(body)
    }

    #[test]
    fn parse_refuses_what_is_not_a_patch_op() {
        for body in [
            json!([]),
            json!({"Operations": [{"op": "add", "value": {}}]}),
            json!({"schemas": [PATCH_OP], "Operations": []}),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "a"}]}),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "a"}]}),
        ] {
            assert!(matches!(
                parse(body, &Limits::default()),
                Err(Error::InvalidSyntax(_))
            ));
        }
        let parsed = ops(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(parsed[0].op, Op::Replace);
    }

    #[test]
    fn add_replace_remove_simple_and_complex() {
        let base = json!({"userName": "a", "name": {"givenName": "A", "familyName": "B"}});
        assert_eq!(
            user(
                base.clone(),
                json!([{"op": "add", "path": "nickName", "value": "n"}])
            )
            .unwrap(),
            json!({"userName": "a", "name": {"givenName": "A", "familyName": "B"}, "nickName": "n"})
        );
        assert_eq!(
            user(
                base.clone(),
                json!([{"op": "replace", "path": "name", "value": {"givenName": "Z"}}])
            )
            .unwrap()["name"],
            json!({"givenName": "Z", "familyName": "B"})
        );
        assert_eq!(
            user(
                base.clone(),
                json!([{"op": "remove", "path": "name.familyName"}])
            )
            .unwrap()["name"],
            json!({"givenName": "A"})
        );
        assert_eq!(
            user(base, json!([{"op": "remove", "path": "name"}])).unwrap(),
            json!({"userName": "a"})
        );
    }

    #[test]
    fn multi_valued_add_appends_once_and_filters_select() {
        let base = json!({"userName": "a", "emails": [{"value": "w@x", "type": "work"}]});
        let out = user(
            base.clone(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "w@x", "type": "work"}, {"value": "h@x", "type": "home"}]}]),
        )
        .unwrap();
        assert_eq!(out["emails"].as_array().unwrap().len(), 2);
        let out = user(
            base.clone(),
            json!([{"op": "replace", "path": "emails[type eq \"WORK\"].value", "value": "n@x"}]),
        );
        // type is caseExact: false in the schema, so "WORK" matches "work".
        assert_eq!(
            out.unwrap()["emails"],
            json!([{"value": "n@x", "type": "work"}])
        );
        let err = user(
            base.clone(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "n@x"}]),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoTarget(_)));
        let out = user(
            base.clone(),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        );
        assert_eq!(out.unwrap()["emails"], base["emails"]);
        let out = user(
            base,
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
        );
        assert!(out.unwrap().get("emails").is_none());
    }

    #[test]
    fn entra_add_on_a_filter_matching_nothing_creates_the_element() {
        let out = user(
            json!({"userName": "a"}),
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555"}]),
        )
        .unwrap();
        assert_eq!(
            out["phoneNumbers"],
            json!([{"type": "mobile", "value": "555"}])
        );
    }

    #[test]
    fn entra_no_path_replace_with_dotted_and_urn_keys() {
        let out = user(
            json!({"userName": "a", "name": {"familyName": "B"}}),
            json!([{"op": "Replace", "value": {
                "id": "ignored",
                "name.givenName": "G",
                "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "D",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D",
                "active": "False"
            }}]),
        )
        .unwrap();
        assert_eq!(out["name"], json!({"familyName": "B", "givenName": "G"}));
        assert_eq!(out["displayName"], "D");
        assert_eq!(out[ENTERPRISE_USER], json!({"department": "R&D"}));
        assert_eq!(out["active"], "False", "normalised later by validation");
        assert!(out.get("id").is_none());
    }

    #[test]
    fn entra_manager_as_a_bare_id() {
        let r = record(ResourceKind::User, json!({"userName": "a"}));
        let p = apply(
            Registry::builtin(),
            ResourceKind::User,
            &r,
            &ops(json!([{"op": "Add", "path": format!("{ENTERPRISE_USER}:manager"), "value": "m-1"}])),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(p.body[ENTERPRISE_USER]["manager"], json!({"value": "m-1"}));
        assert_eq!(p.body["schemas"], json!([USER, ENTERPRISE_USER]));
    }

    #[test]
    fn one_primary_is_kept_the_new_one() {
        let out = user(
            json!({"userName": "a", "emails": [{"value": "a@x", "primary": true}]}),
            json!([{"op": "add", "path": "emails", "value": {"value": "b@x", "primary": true}}]),
        )
        .unwrap();
        assert_eq!(
            out["emails"],
            json!([{"value": "a@x", "primary": false}, {"value": "b@x", "primary": true}])
        );
    }

    #[test]
    fn read_only_and_unknown_paths() {
        let base = json!({"userName": "a"});
        for (path, want) in [
            ("id", "mutability"),
            ("meta.created", "mutability"),
            ("groups", "mutability"),
        ] {
            let err = user(
                base.clone(),
                json!([{"op": "replace", "path": path, "value": "x"}]),
            )
            .unwrap_err();
            assert_eq!(err.scim_type().unwrap().to_string(), want, "{path}");
        }
        for path in [
            "shoeSize",
            "name.nick",
            "emails[type eq",
            "urn:example:x:attr",
        ] {
            let err = user(
                base.clone(),
                json!([{"op": "replace", "path": path, "value": "x"}]),
            )
            .unwrap_err();
            assert!(matches!(err, Error::InvalidPath(_)), "{path}: {err:?}");
        }
        let err = user(base, json!([{"op": "remove"}])).unwrap_err();
        assert!(matches!(err, Error::NoTarget(_)));
    }

    #[test]
    fn group_member_operations_become_row_changes() {
        let r = record(ResourceKind::Group, json!({"displayName": "g"}));
        let p = apply(
            Registry::builtin(),
            ResourceKind::Group,
            &r,
            &ops(json!([
                {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2", "type": "User"}]},
                {"op": "remove", "path": "members[value eq \"u1\"]"},
                {"op": "Remove", "path": "members", "value": [{"value": "u2"}]},
                {"op": "remove", "path": "members"},
                {"op": "replace", "value": {"id": "1", "displayName": "new"}}
            ])),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            p.members,
            vec![
                MemberChange::Add(vec![
                    MemberInput {
                        value: "u1".into(),
                        kind: None
                    },
                    MemberInput {
                        value: "u2".into(),
                        kind: Some(ResourceKind::User)
                    }
                ]),
                MemberChange::Remove(vec!["u1".into()]),
                MemberChange::Remove(vec!["u2".into()]),
                MemberChange::RemoveAll,
            ]
        );
        assert_eq!(p.body, json!({"schemas": [GROUP], "displayName": "new"}));
        let err = apply(
            Registry::builtin(),
            ResourceKind::Group,
            &r,
            &ops(json!([{"op": "remove", "path": "members[type eq \"User\"]"}])),
            &Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidPath(_)));
    }
}
