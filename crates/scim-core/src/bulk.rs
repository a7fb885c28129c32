//! `/Bulk` (RFC 7644 §3.7): many operations in one request. They run in transactions of up to
//! fifty, each operation in its own savepoint through the same code as a single request: each
//! is atomic (a failed one leaves no trace) and the request pays one commit per batch, not one
//! per operation. `bulkId` references (`"bulkId:x"` in a path or anywhere in `data`) are
//! resolved whatever the order of the operations: an operation waits until every resource it
//! references has been created. References that can never resolve (unknown ids, cycles, a
//! failed creation) fail the waiting operation with 409, as §3.7.1 allows.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::message;
use crate::projection::Projection;
use crate::resources::Service;
use crate::schema::ResourceKind;
use crate::store::{Store, Tx};

/// Operations per transaction (each in its own savepoint).
const BATCH: usize = 50;

/// RFC 7644 §3.7 BulkRequest URN.
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// RFC 7644 §3.7 BulkResponse URN.
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// The SCIM error message URN, for failed operations' responses.
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Limits advertised in `/ServiceProviderConfig` (`bulk.maxOperations`, `bulk.maxPayloadSize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    /// Most operations in one request.
    pub max_operations: usize,
    /// Largest request body, in bytes.
    pub max_payload_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One operation as read from the request.
struct Operation {
    method: Method,
    bulk_id: Option<String>,
    path: String,
    version: Option<String>,
    data: Option<Value>,
}

/// Parses and checks a BulkRequest.
fn parse(body: Value, limits: &BulkLimits) -> Result<(Vec<Operation>, Option<usize>)> {
    let body = message::envelope(body, BULK_REQUEST, "BulkRequest")?;
    let get = |name: &str| message::field(&body, name);
    let fail_on_errors = match get("failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    Error::InvalidValue("failOnErrors must be a positive integer".into())
                })?,
        ),
    };
    let Some(Value::Array(items)) = get("Operations") else {
        return Err(Error::InvalidSyntax("'Operations' must be an array".into()));
    };
    if items.len() > limits.max_operations {
        return Err(Error::PayloadTooLarge(format!(
            "a bulk request may hold at most {} operations, this one has {}",
            limits.max_operations,
            items.len()
        )));
    }
    let ops = items.iter().map(operation).collect::<Result<Vec<_>>>()?;
    let mut seen = std::collections::HashSet::new();
    for op in &ops {
        if let Some(id) = &op.bulk_id
            && !seen.insert(id.as_str())
        {
            return Err(Error::InvalidValue(format!(
                "the bulkId \"{id}\" is used twice"
            )));
        }
    }
    Ok((ops, fail_on_errors))
}

fn operation(item: &Value) -> Result<Operation> {
    let obj = message::operation(item)?;
    let get = |name: &str| message::field(obj, name);
    let text = |name: &str| get(name).and_then(Value::as_str).map(str::to_owned);
    let method = match text("method").map(|m| m.to_ascii_uppercase()).as_deref() {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        _ => {
            return Err(Error::InvalidSyntax(
                "each operation needs \"method\": POST, PUT, PATCH or DELETE".into(),
            ));
        }
    };
    let path = text("path")
        .ok_or_else(|| Error::InvalidSyntax("each operation needs a \"path\"".into()))?;
    let bulk_id = text("bulkId");
    if method == Method::Post && bulk_id.is_none() {
        // RFC 7644 §3.7: bulkId is REQUIRED for POST.
        return Err(Error::InvalidSyntax(
            "a POST operation needs a \"bulkId\"".into(),
        ));
    }
    let data = get("data").cloned();
    if method != Method::Delete && data.is_none() {
        return Err(Error::InvalidSyntax(format!(
            "a {} operation needs \"data\"",
            method.name()
        )));
    }
    Ok(Operation {
        method,
        bulk_id,
        path,
        version: text("version"),
        data,
    })
}

/// Every `bulkId:x` reference in a value.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                out.push(id.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        Value::Object(obj) => obj.values().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Replaces `bulkId:x` references with the ids created for them.
fn substitute(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, ids)),
        Value::Object(obj) => obj.values_mut().for_each(|v| substitute(v, ids)),
        _ => {}
    }
}

/// Which resource type and id a path names: `/Users` or `/Groups/{id}`.
fn target(path: &str) -> Result<(ResourceKind, Option<&str>)> {
    let trimmed = path.trim_start_matches('/');
    let (endpoint, id) = match trimmed.split_once('/') {
        Some((e, id)) => (e, Some(id)),
        None => (trimmed, None),
    };
    let kind = match endpoint {
        "Users" => ResourceKind::User,
        "Groups" => ResourceKind::Group,
        _ => {
            return Err(Error::InvalidPath(format!(
                "\"{path}\" is not /Users or /Groups"
            )));
        }
    };
    Ok((kind, id.filter(|id| !id.is_empty())))
}

/// What the operations run so far have produced: kept apart from the transaction's work, so a
/// batch the store runs twice (`Store::write_batch`) counts once.
#[derive(Clone, Default)]
struct Progress {
    /// bulkId -> the id created for it.
    created: HashMap<String, String>,
    /// bulkIds whose creation failed.
    failed: Vec<String>,
    /// Results by operation index.
    results: Vec<(usize, Value)>,
    /// Operations waiting for a reference to resolve.
    waiting: Vec<usize>,
    /// Failed operations.
    errors: usize,
    /// Whether any operation finished in this round.
    progressed: bool,
    /// `failOnErrors` was reached.
    stop: bool,
}

/// Runs a BulkRequest and returns the BulkResponse.
pub fn run<S: Store>(service: &Service<'_, S>, body: Value, limits: &BulkLimits) -> Result<Value> {
    let (ops, fail_on_errors) = parse(body, limits)?;
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let mut done = Progress::default();
    // Results carry status, location and version only: render no more than the id.
    let full = Projection::parse(service.registry, Some("id"), None)?;
    while !pending.is_empty() && !done.stop {
        done.progressed = false;
        done.waiting.clear();
        // Operations run in transactions of at most BATCH savepoints: one commit for many
        // operations, and few enough subtransactions that PostgreSQL's visibility checks
        // stay cheap (past 64 in one transaction they spill to a shared cache).
        for batch in pending.chunks(BATCH) {
            if done.stop {
                break;
            }
            done = service.store.write_batch(service.tenant, |tx| {
                let mut p = done.clone();
                for &i in batch {
                    if p.stop {
                        break;
                    }
                    let Some(op) = ops.get(i) else { continue };
                    step(service, tx, op, i, &full, &mut p);
                    if fail_on_errors.is_some_and(|limit| p.errors >= limit) {
                        p.stop = true;
                    }
                }
                Ok(p)
            })?;
            for (i, value) in done.results.drain(..) {
                record(&mut results, i, value);
            }
        }
        if !done.progressed && !done.stop {
            // Unknown bulkIds or a cycle of references: nothing more can be resolved.
            for &i in &done.waiting {
                if let Some(op) = ops.get(i) {
                    let e = Error::Conflict(
                        "bulkId references that cannot be resolved (unknown or circular)".into(),
                    );
                    record(&mut results, i, failure(op, &e, 409));
                }
            }
            break;
        }
        pending = std::mem::take(&mut done.waiting);
    }
    Ok(json!({
        "schemas": [BULK_RESPONSE],
        "Operations": results.into_iter().flatten().collect::<Vec<_>>(),
    }))
}

/// Runs operation `i` if every bulkId it references is resolved, fails it if one never will
/// be, or leaves it waiting.
fn step<S: Store>(
    service: &Service<'_, S>,
    tx: &mut dyn Tx,
    op: &Operation,
    i: usize,
    full: &Projection,
    p: &mut Progress,
) {
    let mut refs: Vec<String> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix("bulkId:"))
        .map(str::to_owned)
        .collect();
    if let Some(data) = &op.data {
        references(data, &mut refs);
    }
    if refs.iter().any(|r| p.failed.contains(r)) {
        // A resource this operation needs was never created.
        let e = Error::Conflict("a bulkId this operation references failed to be created".into());
        p.results.push((i, failure(op, &e, 409)));
        p.errors += 1;
        p.progressed = true;
    } else if refs.iter().all(|r| p.created.contains_key(r)) {
        let outcome = execute(service, tx, op, &p.created, full);
        if let (Ok((_, id, _)), Some(bulk_id)) = (&outcome, &op.bulk_id)
            && op.method == Method::Post
        {
            p.created.insert(bulk_id.clone(), id.clone());
        }
        let result = match outcome {
            Ok((status, id, version)) => success(op, status, &id, version, service),
            Err(e) => {
                p.errors += 1;
                if let Some(b) = &op.bulk_id {
                    p.failed.push(b.clone());
                }
                failure(op, &e, e.status())
            }
        };
        p.results.push((i, result));
        p.progressed = true;
    } else {
        p.waiting.push(i);
    }
}

/// Stores the result of operation `i` (results are returned in request order).
fn record(results: &mut [Option<Value>], i: usize, value: Value) {
    if let Some(slot) = results.get_mut(i) {
        *slot = Some(value);
    }
}

/// Runs one operation in a savepoint: (HTTP status, resource id, version).
fn execute<S: Store>(
    service: &Service<'_, S>,
    tx: &mut dyn Tx,
    op: &Operation,
    created: &HashMap<String, String>,
    proj: &Projection,
) -> Result<(u16, String, Option<String>)> {
    let mut outcome = None;
    tx.savepoint(&mut |tx| {
        outcome = Some(operate(service, tx, op, created, proj)?);
        Ok(())
    })?;
    outcome.ok_or_else(|| Error::internal_msg("bulk operation produced no outcome"))
}

/// One operation's work, inside its savepoint.
fn operate<S: Store>(
    service: &Service<'_, S>,
    tx: &mut dyn Tx,
    op: &Operation,
    created: &HashMap<String, String>,
    proj: &Projection,
) -> Result<(u16, String, Option<String>)> {
    // `/Users/bulkId:x` names the resource created for `x`.
    let path: String = op
        .path
        .split('/')
        .map(
            |seg| match seg.strip_prefix("bulkId:").and_then(|b| created.get(b)) {
                Some(id) => id.as_str(),
                None => seg,
            },
        )
        .collect::<Vec<_>>()
        .join("/");
    let (kind, id) = target(&path)?;
    let mut data = op.data.clone().unwrap_or(Value::Null);
    substitute(&mut data, created);
    let version = op.version.as_deref();
    let need_id = || {
        id.map(str::to_owned).ok_or_else(|| {
            Error::InvalidPath(format!(
                "{} needs a resource id in its path",
                op.method.name()
            ))
        })
    };
    Ok(match op.method {
        Method::Post => {
            if id.is_some() {
                return Err(Error::InvalidPath("POST goes to /Users or /Groups".into()));
            }
            let new = service.prepare_create(kind, data)?;
            let out = service.create_in(tx, &new, proj)?;
            (201, id_of(&out.body), Some(out.etag))
        }
        Method::Put => {
            let id = need_id()?;
            let out = service.replace_in(tx, kind, &id, data, version, proj)?;
            (200, id, Some(out.etag))
        }
        Method::Patch => {
            let id = need_id()?;
            let ops = crate::patch::parse(data, &service.limits)?;
            let out = service.patch_in(tx, kind, &id, &ops, version, proj)?;
            (200, id, Some(out.etag))
        }
        Method::Delete => {
            let id = need_id()?;
            service.delete_in(tx, kind, &id, version)?;
            (204, id, None)
        }
    })
}

fn id_of(body: &Value) -> String {
    body.get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The fields every operation result has: method, bulkId, status.
fn result(op: &Operation, status: u16) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("method".into(), json!(op.method.name()));
    if let Some(b) = &op.bulk_id {
        out.insert("bulkId".into(), json!(b));
    }
    out.insert("status".into(), json!(status.to_string()));
    out
}

fn success<S: Store>(
    op: &Operation,
    status: u16,
    id: &str,
    version: Option<String>,
    service: &Service<'_, S>,
) -> Value {
    let mut out = result(op, status);
    if let Ok((kind, _)) = target(&op.path) {
        let location = format!("{}{}/{id}", service.base_url, kind.endpoint());
        out.insert("location".into(), json!(location));
    }
    if let Some(v) = version {
        out.insert("version".into(), json!(v));
    }
    Value::Object(out)
}

fn failure(op: &Operation, e: &Error, status: u16) -> Value {
    let mut out = result(op, status);
    let mut response =
        json!({"schemas": [ERROR], "status": status.to_string(), "detail": e.detail()});
    if let (Some(t), Some(obj)) = (e.scim_type(), response.as_object_mut()) {
        obj.insert("scimType".into(), json!(t.to_string()));
    }
    out.insert("response".into(), response);
    Value::Object(out)
}
