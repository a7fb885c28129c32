//! The OpenAPI 3.1 document of the whole HTTP surface, served at `GET /openapi.json`.
//!
//! It is generated from the code, not written by hand: the paths and methods are the router's
//! own table (`routes::OPERATIONS`, documented by an exhaustive match on `Op`), and the User,
//! Group and EnterpriseUser schemas are derived from the attribute definitions of the built-in
//! schema registry, the same ones validation uses. Tenant extensions differ per tenant and are
//! described by `/Schemas` instead. The document does not change while the process runs, so it
//! is built and serialised once.

use std::sync::OnceLock;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use scim_core::schema::{AttrType, Attribute, Mutability, Registry, ResourceKind, Returned};
use serde_json::{Map, Value, json};

use crate::error::{ERROR_URN, SCIM_JSON};
use crate::routes::{OPERATIONS, Op};

/// RFC 7644 §3.5.2 PatchOp message URN.
const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// RFC 7644 §3.4.3 SearchRequest message URN.
const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// RFC 7644 §3.7 BulkRequest message URN.
const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// RFC 7644 §3.7 BulkResponse message URN.
const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// `GET /openapi.json`: open to everyone (it describes the API, not a tenant's data), and
/// `application/json`, as it is not a SCIM resource.
pub async fn serve() -> HttpResponse {
    static TEXT: OnceLock<web::Bytes> = OnceLock::new();
    let text = TEXT.get_or_init(|| web::Bytes::from(document().to_string()));
    HttpResponse::Ok()
        .content_type("application/json")
        .body(text.clone())
}

/// The OpenAPI document, built on first use.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| build(Registry::builtin()))
}

fn build(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        for (path, kind) in expand(o.path) {
            let item = paths
                .entry(path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(item) = item.as_object_mut() {
                let mut operation = describe(o.op, kind);
                if let Some(obj) = operation.as_object_mut() {
                    obj.insert("operationId".into(), json!(operation_id(&o.method, &path)));
                    if let Some(params) = path_parameters(&path) {
                        let mut all = params;
                        if let Some(Value::Array(own)) = obj.remove("parameters") {
                            all.extend(own);
                        }
                        obj.insert("parameters".into(), Value::Array(all));
                    }
                }
                item.insert(o.method.as_str().to_ascii_lowercase(), operation);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "scim-server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A SCIM 2.0 service provider (RFC 7643, RFC 7644). Resources live \
                under /scim/v2; /admin/v1 is the tenant administration API. Tenant-defined \
                schema extensions are not part of this document: a tenant's /Schemas lists them.",
            "license": {"name": "see the repository"}
        },
        "tags": [
            {"name": "Resources", "description": "Users and Groups (RFC 7644 §3)"},
            {"name": "Discovery", "description": "RFC 7644 §4; a bearer token is optional and selects the tenant's schemas"},
            {"name": "Admin", "description": "Tenant administration (`admin` scope)"},
            {"name": "Operations", "description": "Health checks and this document; no authentication"}
        ],
        "paths": paths,
        "components": components(registry),
    })
}

/// The OpenAPI paths of an actix pattern: a `{name:A|B}` segment (a choice of literals) gives
/// one path per alternative, and the resource kind it names if it is a SCIM endpoint.
fn expand(pattern: &str) -> Vec<(String, Option<ResourceKind>)> {
    let mut out: Vec<(String, Option<ResourceKind>)> = vec![(String::new(), None)];
    for segment in pattern.split('/').skip(1) {
        let choices: Vec<&str> = match segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .and_then(|s| s.split_once(':'))
        {
            Some((_, alternatives)) => alternatives.split('|').collect(),
            None => vec![segment],
        };
        out = out
            .into_iter()
            .flat_map(|(prefix, kind)| {
                choices.iter().map(move |choice| {
                    let named = [ResourceKind::User, ResourceKind::Group]
                        .into_iter()
                        .find(|k| k.endpoint().strip_prefix('/') == Some(*choice));
                    (format!("{prefix}/{choice}"), kind.or(named))
                })
            })
            .collect();
    }
    out
}

/// A stable, unique id: the method and the path's literal segments, e.g. `getScimV2UsersById`.
fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let word = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => format!("By{}", capitalise(param)),
            None => segment
                .split(|c: char| !c.is_ascii_alphanumeric())
                .map(capitalise)
                .collect(),
        };
        id.push_str(&word);
    }
    id
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The path parameters of an OpenAPI path, each a required string.
fn path_parameters(path: &str) -> Option<Vec<Value>> {
    let params: Vec<Value> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| match name {
            "id" => r("parameters", "id"),
            "kind" => json!({
                "name": "kind", "in": "path", "required": true,
                "description": "The resource type the extension belongs to",
                "schema": {"type": "string", "enum": ["User", "Group"]}
            }),
            "urn" => json!({
                "name": "urn", "in": "path", "required": true,
                "description": "The extension's schema URN",
                "schema": {"type": "string"},
                "example": "urn:example:params:scim:schemas:extension:acme:2.0:User"
            }),
            other => json!({
                "name": other, "in": "path", "required": true,
                "schema": {"type": "string"}
            }),
        })
        .collect();
    (!params.is_empty()).then_some(params)
}

/// A `$ref` to a component.
fn r(section: &str, name: &str) -> Value {
    json!({"$ref": format!("#/components/{section}/{name}")})
}

/// A request body in either JSON media type RFC 7644 §3.1 allows.
fn json_body(schema: &Value, description: &str) -> Value {
    json!({
        "required": true,
        "description": description,
        "content": {
            SCIM_JSON: {"schema": schema},
            "application/json": {"schema": schema}
        }
    })
}

/// A successful SCIM response.
fn scim_ok(description: &str, schema: &Value) -> Value {
    json!({"description": description, "content": {SCIM_JSON: {"schema": schema}}})
}

/// A successful plain JSON response.
fn json_ok(description: &str, schema: &Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// A ListResponse whose `Resources` are of this schema.
fn list_of(item: &Value) -> Value {
    json!({"allOf": [
        r("schemas", "ListResponse"),
        {"properties": {"Resources": {"type": "array", "items": item}}}
    ]})
}

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Access {
    /// No credentials are read.
    Open,
    /// Credentials are optional; sent, they must be valid (discovery).
    Optional,
    /// A bearer token holding a scope.
    Scope(&'static str),
}

/// An operation's tag, summary, access, parameters, request body, responses and the error
/// statuses it answers.
type Described = (
    &'static str,
    String,
    Access,
    Vec<Value>,
    Option<Value>,
    Map<String, Value>,
    &'static [u16],
);

/// The documentation of one operation: what it does, its parameters, body and responses.
/// `kind` is the resource type a `/Users` or `/Groups` path names.
fn describe(op: Op, kind: Option<ResourceKind>) -> Value {
    let resource = kind.map_or_else(|| json!({"type": "object"}), |k| r("schemas", k.name()));
    let kind_name = kind.map_or("resource", ResourceKind::name);
    let etag_header =
        json!({"description": "The resource's version (weak ETag)", "schema": {"type": "string"}});
    let etag = json!({"ETag": etag_header});
    let (tag, summary, access, params, body, mut responses, errors): Described = match op {
        Op::Healthz => (
            "Operations",
            "The process is up".into(),
            Access::Open,
            vec![],
            None,
            responses([("200", json_ok("Up", &r("schemas", "Health")))]),
            &[],
        ),
        Op::Readyz => (
            "Operations",
            "The database answers and the server is not shutting down".into(),
            Access::Open,
            vec![],
            None,
            responses([
                ("200", json_ok("Ready", &r("schemas", "Health"))),
                (
                    "503",
                    json!({
                        "description": "Draining (shutting down), or the database does not answer",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {
                            "application/json": {"schema": r("schemas", "Health")},
                            SCIM_JSON: {"schema": r("schemas", "Error")}
                        }
                    }),
                ),
            ]),
            &[],
        ),
        Op::Metrics => (
            "Operations",
            "Prometheus metrics; served only on the --metrics-listen address (404 here)".into(),
            Access::Open,
            vec![],
            None,
            responses([(
                "200",
                json!({
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}
                }),
            )]),
            &[404, 500, 503],
        ),
        Op::OpenApi => (
            "Operations",
            "This OpenAPI document".into(),
            Access::Open,
            vec![],
            None,
            responses([(
                "200",
                json_ok("The OpenAPI 3.1 document", &json!({"type": "object"})),
            )]),
            &[],
        ),
        Op::ServiceProviderConfig => (
            "Discovery",
            "The service provider's configuration (RFC 7643 §5)".into(),
            Access::Open,
            vec![],
            None,
            responses([(
                "200",
                scim_ok("The configuration", &r("schemas", "ServiceProviderConfig")),
            )]),
            &[],
        ),
        Op::ResourceTypes => (
            "Discovery",
            "The resource types (RFC 7643 §6)".into(),
            Access::Optional,
            vec![],
            None,
            responses([(
                "200",
                scim_ok(
                    "Every resource type",
                    &list_of(&r("schemas", "ResourceType")),
                ),
            )]),
            &[401, 429, 500, 503],
        ),
        Op::ResourceType => (
            "Discovery",
            "One resource type".into(),
            Access::Optional,
            vec![],
            None,
            responses([(
                "200",
                scim_ok("The resource type", &r("schemas", "ResourceType")),
            )]),
            &[401, 404, 429, 500, 503],
        ),
        Op::Schemas => (
            "Discovery",
            "The schemas (RFC 7643 §7), the tenant's extensions included".into(),
            Access::Optional,
            vec![],
            None,
            responses([(
                "200",
                scim_ok("Every schema", &list_of(&r("schemas", "SchemaDocument"))),
            )]),
            &[401, 429, 500, 503],
        ),
        Op::Schema => (
            "Discovery",
            "One schema, by URN".into(),
            Access::Optional,
            vec![],
            None,
            responses([(
                "200",
                scim_ok("The schema", &r("schemas", "SchemaDocument")),
            )]),
            &[401, 404, 429, 500, 503],
        ),
        Op::Search => (
            "Resources",
            match kind {
                Some(k) => format!("Query {}s with a SearchRequest (RFC 7644 §3.4.3)", k.name()),
                None => "Query Users and Groups with a SearchRequest (RFC 7644 §3.4.3)".into(),
            },
            Access::Scope(crate::token::READ),
            vec![],
            Some(json_body(
                &r("schemas", "SearchRequest"),
                "The query; filters stay out of URLs and logs",
            )),
            responses([("200", scim_ok("A page of results", &list_of(&resource)))]),
            &[400, 401, 403, 413, 415, 429, 500, 503],
        ),
        Op::Bulk => (
            "Resources",
            "Several operations in one request (RFC 7644 §3.7)".into(),
            Access::Scope(crate::token::WRITE),
            vec![],
            Some(json_body(&r("schemas", "BulkRequest"), "The operations")),
            responses([(
                "200",
                scim_ok(
                    "The outcome of each operation",
                    &r("schemas", "BulkResponse"),
                ),
            )]),
            &[400, 401, 403, 413, 415, 429, 500, 503],
        ),
        Op::Me => (
            "Resources",
            "The authenticated subject's own resource (RFC 7644 §3.11): not offered".into(),
            Access::Open,
            vec![],
            None,
            Map::new(),
            &[501],
        ),
        Op::List => (
            "Resources",
            format!("List or filter {kind_name}s (RFC 7644 §3.4.2)"),
            Access::Scope(crate::token::READ),
            refs(&[
                "filter",
                "startIndex",
                "count",
                "sortBy",
                "sortOrder",
                "attributes",
                "excludedAttributes",
                "cursor",
            ]),
            None,
            responses([("200", scim_ok("A page of results", &list_of(&resource)))]),
            &[400, 401, 403, 429, 500, 503],
        ),
        Op::Create => (
            "Resources",
            format!("Create a {kind_name} (RFC 7644 §3.3)"),
            Access::Scope(crate::token::WRITE),
            refs(&["attributes", "excludedAttributes"]),
            Some(json_body(&resource, &format!("The new {kind_name}"))),
            responses([(
                "201",
                json!({
                    "description": "Created",
                    "headers": {
                        "ETag": etag_header,
                        "Location": {"description": "The new resource's URL", "schema": {"type": "string", "format": "uri"}}
                    },
                    "content": {SCIM_JSON: {"schema": resource}}
                }),
            )]),
            &[400, 401, 403, 409, 413, 415, 429, 500, 503],
        ),
        Op::Get => (
            "Resources",
            format!("Read a {kind_name} (RFC 7644 §3.4.1)"),
            Access::Scope(crate::token::READ),
            refs(&["attributes", "excludedAttributes", "If-None-Match"]),
            None,
            responses([
                (
                    "200",
                    json!({
                        "description": format!("The {kind_name}"),
                        "headers": etag,
                        "content": {SCIM_JSON: {"schema": resource}}
                    }),
                ),
                (
                    "304",
                    json!({"description": "If-None-Match names the current version", "headers": etag}),
                ),
            ]),
            &[400, 401, 403, 404, 429, 500, 503],
        ),
        Op::Replace => (
            "Resources",
            format!("Replace a {kind_name} (RFC 7644 §3.5.1)"),
            Access::Scope(crate::token::WRITE),
            refs(&["attributes", "excludedAttributes", "If-Match"]),
            Some(json_body(
                &resource,
                &format!("The {kind_name}'s new representation"),
            )),
            responses([(
                "200",
                json!({
                    "description": "Replaced",
                    "headers": etag,
                    "content": {SCIM_JSON: {"schema": resource}}
                }),
            )]),
            &[400, 401, 403, 404, 409, 412, 413, 415, 429, 500, 503],
        ),
        Op::Patch => (
            "Resources",
            format!("Modify a {kind_name} (RFC 7644 §3.5.2)"),
            Access::Scope(crate::token::WRITE),
            refs(&["attributes", "excludedAttributes", "If-Match", "Prefer"]),
            Some(json_body(&r("schemas", "PatchOp"), "The operations")),
            responses([
                (
                    "200",
                    json!({
                        "description": "Modified; the representation (Users by default)",
                        "headers": etag,
                        "content": {SCIM_JSON: {"schema": resource}}
                    }),
                ),
                (
                    "204",
                    json!({
                        "description": "Modified; no representation (Groups by default, or Prefer: return=minimal)",
                        "headers": etag
                    }),
                ),
            ]),
            &[400, 401, 403, 404, 409, 412, 413, 415, 429, 500, 503],
        ),
        Op::Delete => (
            "Resources",
            format!("Delete a {kind_name} (RFC 7644 §3.6)"),
            Access::Scope(crate::token::WRITE),
            vec![r("parameters", "If-Match")],
            None,
            responses([("204", json!({"description": "Deleted"}))]),
            &[401, 403, 404, 412, 429, 500, 503],
        ),
        Op::Import => (
            "Admin",
            "Import Users from CSV (as `scim-server import` does)".into(),
            Access::Scope(crate::token::ADMIN),
            vec![json!({
                "name": "dryRun", "in": "query",
                "description": "Check every row, write nothing",
                "schema": {"type": "boolean"}
            })],
            Some(json!({
                "required": true,
                "description": "A CSV file with a header row (the columns `scim-server export` writes)",
                "content": {"text/csv": {"schema": {"type": "string"}}}
            })),
            responses([(
                "200",
                json_ok(
                    "The report, whether or not rows failed",
                    &r("schemas", "ImportReport"),
                ),
            )]),
            &[400, 401, 403, 413, 415, 429, 500, 503],
        ),
        Op::Audit => (
            "Admin",
            "The tenant's audit trail, oldest first".into(),
            Access::Scope(crate::token::ADMIN),
            vec![
                json!({"name": "resource", "in": "query", "description": "Only this resource's changes", "schema": {"type": "string"}}),
                json!({"name": "since", "in": "query", "description": "Only changes at or after this time", "schema": {"type": "string", "format": "date-time"}}),
                json!({"name": "count", "in": "query", "description": "At most this many events (default 1000, at most 10000)", "schema": {"type": "integer"}}),
            ],
            None,
            responses([("200", json_ok("The events", &r("schemas", "AuditTrail")))]),
            &[400, 401, 403, 429, 500, 503],
        ),
        Op::ListExtensions => (
            "Admin",
            "The tenant's schema extensions".into(),
            Access::Scope(crate::token::ADMIN),
            vec![],
            None,
            responses([(
                "200",
                scim_ok("Every extension", &list_of(&r("schemas", "SchemaDocument"))),
            )]),
            &[401, 403, 429, 500, 503],
        ),
        Op::GetExtension => (
            "Admin",
            "One of the tenant's schema extensions".into(),
            Access::Scope(crate::token::ADMIN),
            vec![],
            None,
            responses([(
                "200",
                scim_ok("The extension", &r("schemas", "SchemaDocument")),
            )]),
            &[401, 403, 404, 429, 500, 503],
        ),
        Op::PutExtension => (
            "Admin",
            "Declare an extension, or extend it with more attributes".into(),
            Access::Scope(crate::token::ADMIN),
            vec![],
            Some(json_body(
                &r("schemas", "ExtensionDeclaration"),
                "An RFC 7643 §7 schema document",
            )),
            responses([
                ("200", scim_ok("Extended", &r("schemas", "SchemaDocument"))),
                ("201", scim_ok("Declared", &r("schemas", "SchemaDocument"))),
            ]),
            &[400, 401, 403, 404, 409, 413, 415, 429, 500, 503],
        ),
        Op::DeleteExtension => (
            "Admin",
            "Remove an extension and its values".into(),
            Access::Scope(crate::token::ADMIN),
            vec![],
            None,
            responses([("204", json!({"description": "Removed"}))]),
            &[401, 403, 404, 429, 500, 503],
        ),
        Op::DeleteExtensionAttribute => (
            "Admin",
            "Remove one attribute of an extension and its values".into(),
            Access::Scope(crate::token::ADMIN),
            vec![],
            None,
            responses([("204", json!({"description": "Removed"}))]),
            &[401, 403, 404, 429, 500, 503],
        ),
    };
    for status in errors {
        responses.insert(status.to_string(), r("responses", &format!("E{status}")));
    }
    let mut out = json!({
        "tags": [tag],
        "summary": summary,
        "responses": responses,
    });
    let Some(obj) = out.as_object_mut() else {
        return out;
    };
    let security = match access {
        Access::Open => json!([]),
        Access::Optional => json!([{}, {"bearer": []}]),
        Access::Scope(scope) => {
            obj.insert(
                "description".into(),
                json!(format!("Needs a bearer token with the `{scope}` scope.")),
            );
            json!([{"bearer": []}])
        }
    };
    obj.insert("security".into(), security);
    if !params.is_empty() {
        obj.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = body {
        obj.insert("requestBody".into(), body);
    }
    out
}

/// References to these components' parameters.
fn refs(names: &[&str]) -> Vec<Value> {
    names.iter().map(|p| r("parameters", p)).collect()
}

fn responses<const N: usize>(entries: [(&str, Value); N]) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// Why a SCIM error status is answered.
fn error_reason(status: u16) -> &'static str {
    match status {
        400 => {
            "Invalid request (scimType says why: invalidFilter, invalidSyntax, invalidValue, ...)"
        }
        401 => "Missing, invalid, expired or revoked bearer token",
        403 => "The token lacks the scope the operation needs",
        404 => "No such resource",
        409 => "A unique attribute's value is taken (scimType uniqueness)",
        412 => "If-Match does not name the current version",
        413 => "The request body or the bulk request is larger than the server accepts",
        415 => "The body is neither application/scim+json nor application/json",
        429 => "Too many requests for this token; retry after Retry-After seconds",
        500 => "Internal error (details are logged, never sent)",
        501 => "Not offered by this server",
        503 => {
            "The database is unavailable or overloaded, or the server is shutting down; retry after Retry-After seconds"
        }
        _ => "Error",
    }
}

/// The statuses answered with an RFC 7644 §3.12 error body.
const ERROR_STATUSES: [u16; 12] = [400, 401, 403, 404, 409, 412, 413, 415, 429, 500, 501, 503];

fn components(registry: &Registry) -> Value {
    let error_responses: Map<String, Value> = ERROR_STATUSES
        .iter()
        .map(|status| {
            let mut response = json!({
                "description": error_reason(*status),
                "content": {SCIM_JSON: {"schema": r("schemas", "Error")}}
            });
            let retry = matches!(status, 429 | 503);
            if let (true, Some(obj)) = (retry, response.as_object_mut()) {
                obj.insert(
                    "headers".into(),
                    json!({"Retry-After": {"schema": {"type": "integer"}}}),
                );
            }
            if let (401, Some(obj)) = (status, response.as_object_mut()) {
                obj.insert(
                    "headers".into(),
                    json!({"WWW-Authenticate": {"schema": {"type": "string"}}}),
                );
            }
            (format!("E{status}"), response)
        })
        .collect();
    let mut schemas = Map::new();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        schemas.insert(kind.name().into(), resource_schema(registry, kind));
    }
    for ext in registry.extensions(ResourceKind::User) {
        schemas.insert(ext.name.clone(), object_schema(&ext.attributes, &ext.id));
    }
    for (name, schema) in message_schemas() {
        schemas.insert(name.into(), schema);
    }
    json!({
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An opaque token issued by `scim-server token create`, or a JWT \
                    (HS256 or RS256) naming the tenant and scopes when JWT is configured. \
                    Scopes: scim:read, scim:write, admin."
            }
        },
        "parameters": parameters(),
        "responses": error_responses,
        "schemas": schemas,
    })
}

/// A resource type's schema: the common attributes (RFC 7643 §3.1), its core schema's
/// attributes, and each extension under its URN.
fn resource_schema(registry: &Registry, kind: ResourceKind) -> Value {
    let core = registry.core(kind);
    let mut schema = object_schema(&core.attributes, &core.id);
    let urns: Vec<&str> = std::iter::once(core.id.as_str())
        .chain(registry.extensions(kind).iter().map(|e| e.id.as_str()))
        .collect();
    if let Some(obj) = schema.as_object_mut() {
        let mut properties = Map::new();
        properties.insert(
            "schemas".into(),
            json!({
                "type": "array",
                "description": "The schema URNs of the resource: its core schema, and each extension it holds",
                "items": {"type": "string", "enum": urns},
                "contains": {"const": core.id},
                "uniqueItems": true
            }),
        );
        properties.insert(
            "id".into(),
            json!({"type": "string", "readOnly": true, "description": "Assigned by the server (RFC 7643 §3.1)"}),
        );
        properties.insert(
            "externalId".into(),
            json!({"type": "string", "description": "The client's identifier for the resource"}),
        );
        properties.insert("meta".into(), r("schemas", "Meta"));
        if let Some(Value::Object(own)) = obj.remove("properties") {
            properties.extend(own);
        }
        for ext in registry.extensions(kind) {
            properties.insert(ext.id.clone(), r("schemas", &ext.name));
        }
        obj.insert("properties".into(), Value::Object(properties));
        let mut required = vec![json!("schemas")];
        if let Some(Value::Array(own)) = obj.remove("required") {
            required.extend(own);
        }
        obj.insert("required".into(), Value::Array(required));
    }
    schema
}

/// An object of attributes: the schema of a schema, of an extension, or of a complex value.
fn object_schema(attributes: &[Attribute], description: &str) -> Value {
    let properties: Map<String, Value> = attributes
        .iter()
        .map(|a| (a.name.clone(), attribute_schema(a)))
        .collect();
    // A readOnly attribute cannot be sent, so it cannot be required of a request.
    let required: Vec<&str> = attributes
        .iter()
        .filter(|a| a.required && a.mutability != Mutability::ReadOnly)
        .map(|a| a.name.as_str())
        .collect();
    // Validation refuses attributes its schema does not define (tenant extensions differ per
    // tenant and are described by their /Schemas).
    let mut schema = json!({
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": false
    });
    if let (false, Some(obj)) = (required.is_empty(), schema.as_object_mut()) {
        obj.insert("required".into(), json!(required));
    }
    schema
}

/// One attribute as JSON Schema. RFC 7643 §2.3 types map onto JSON types; `canonicalValues`
/// stay a description, because validation accepts other values too.
fn attribute_schema(a: &Attribute) -> Value {
    let mut single = match a.kind {
        AttrType::String => json!({"type": "string"}),
        AttrType::Boolean => json!({"type": "boolean"}),
        AttrType::Decimal => json!({"type": "number"}),
        AttrType::Integer => json!({"type": "integer"}),
        AttrType::DateTime => json!({"type": "string", "format": "date-time"}),
        AttrType::Binary => json!({"type": "string", "contentEncoding": "base64"}),
        AttrType::Reference => json!({"type": "string", "format": "uri-reference"}),
        AttrType::Complex => object_schema(&a.sub_attributes, &a.description),
    };
    let mut schema = if a.multi_valued {
        json!({"type": "array", "items": single.take()})
    } else {
        single
    };
    if let Some(obj) = schema.as_object_mut() {
        let mut description = a.description.clone();
        if !a.canonical_values.is_empty() {
            description.push_str(&format!(
                " Canonical values: {}.",
                a.canonical_values.join(", ")
            ));
        }
        if a.mutability == Mutability::Immutable {
            description.push_str(" Immutable: set once, never changed.");
        }
        obj.insert("description".into(), json!(description.trim()));
        match a.mutability {
            Mutability::ReadOnly => {
                obj.insert("readOnly".into(), json!(true));
            }
            Mutability::WriteOnly => {
                obj.insert("writeOnly".into(), json!(true));
            }
            Mutability::ReadWrite | Mutability::Immutable => {}
        }
        if a.returned == Returned::Never && a.mutability != Mutability::ReadOnly {
            obj.insert("writeOnly".into(), json!(true));
        }
    }
    schema
}

/// RFC 7644 §3.10 attribute path (`attrPath`: an optional schema URN, a name, an optional
/// sub-attribute) as a regular expression; a list that does not match is refused with 400.
const ATTRIBUTE_PATH: &str =
    r"(urn:[A-Za-z0-9.:_-]+:)?[A-Za-z$][A-Za-z0-9_$-]*(\.[A-Za-z$][A-Za-z0-9_$-]*)?";

/// The query and header parameters RFC 7644 defines.
fn parameters() -> Value {
    let query = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "description": description, "schema": schema});
    let path_list = format!("^{ATTRIBUTE_PATH}(,{ATTRIBUTE_PATH})*$");
    let header = |name: &str, description: &str| json!({"name": name, "in": "header", "description": description, "schema": {"type": "string"}});
    json!({
        "id": {
            "name": "id", "in": "path", "required": true,
            "description": "The resource's id",
            "schema": {"type": "string"}
        },
        "filter": query("filter", "RFC 7644 §3.4.2.2 filter, e.g. userName eq \"bjensen\"", json!({"type": "string"})),
        "startIndex": query("startIndex", "1-based index of the first result (index paging)", json!({"type": "integer"})),
        "count": query("count", "Most results per page (at most filter.maxResults)", json!({"type": "integer"})),
        "sortBy": query("sortBy", "Attribute path to sort by", json!({"type": "string", "pattern": format!("^{ATTRIBUTE_PATH}$")})),
        "sortOrder": query("sortOrder", "Sort direction", json!({"type": "string", "enum": ["ascending", "descending"]})),
        "attributes": query("attributes", "Comma-separated attribute paths to return (RFC 7644 §3.9)", json!({"type": "string", "pattern": path_list})),
        "excludedAttributes": query("excludedAttributes", "Comma-separated attribute paths not to return (RFC 7644 §3.9)", json!({"type": "string", "pattern": path_list})),
        "cursor": query("cursor", "Cursor paging (RFC 9865): empty for the first page, then the previous page's nextCursor", json!({"type": "string"})),
        "If-Match": header("If-Match", "Apply only if the resource's version is this ETag (412 otherwise)"),
        "If-None-Match": header("If-None-Match", "Answer 304 if the resource's version is this ETag"),
        "Prefer": header("Prefer", "return=minimal (204) or return=representation (200), RFC 7240"),
    })
}

/// The protocol messages of RFC 7644 and the server's own documents.
fn message_schemas() -> Vec<(&'static str, Value)> {
    let urn_list = |urn: &str| json!({"type": "array", "items": {"type": "string", "enum": [urn]}, "minItems": 1});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let paths = json!({"type": "array", "items": {"type": "string", "pattern": format!("^{ATTRIBUTE_PATH}$")}});
    vec![
        (
            "Meta",
            json!({
                "type": "object",
                "readOnly": true,
                "description": "RFC 7643 §3.1 meta, set by the server",
                "properties": {
                    "resourceType": {"type": "string"},
                    "created": {"type": "string", "format": "date-time"},
                    "lastModified": {"type": "string", "format": "date-time"},
                    "location": {"type": "string", "format": "uri"},
                    "version": {"type": "string"}
                }
            }),
        ),
        (
            "Error",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.12 error",
                "required": ["schemas", "status"],
                "properties": {
                    "schemas": urn_list(ERROR_URN),
                    "status": {"type": "string", "description": "The HTTP status, as a string"},
                    "scimType": {"type": "string", "enum": [
                        "invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax",
                        "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive"
                    ]},
                    "detail": {"type": "string"}
                }
            }),
        ),
        (
            "ListResponse",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.4.2 ListResponse",
                "required": ["schemas", "totalResults"],
                "properties": {
                    "schemas": urn_list(scim_core::discovery::LIST_RESPONSE),
                    "totalResults": {"type": "integer"},
                    "startIndex": {"type": "integer"},
                    "itemsPerPage": {"type": "integer"},
                    "nextCursor": {"type": "string"},
                    "Resources": {"type": "array", "items": {"type": "object"}}
                }
            }),
        ),
        (
            "SearchRequest",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.4.3 SearchRequest",
                "required": ["schemas"],
                "properties": {
                    "schemas": urn_list(SEARCH_URN),
                    "attributes": paths,
                    "excludedAttributes": paths,
                    "filter": {"type": "string"},
                    "sortBy": {"type": "string"},
                    "sortOrder": {"type": "string", "enum": ["ascending", "descending"]},
                    "startIndex": {"type": "integer"},
                    "count": {"type": "integer"},
                    "cursor": {"type": "string"}
                }
            }),
        ),
        (
            "PatchOp",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.5.2 PatchOp",
                "required": ["schemas", "Operations"],
                "properties": {
                    "schemas": urn_list(PATCH_OP_URN),
                    "Operations": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["op"],
                            "properties": {
                                "op": {
                                    "type": "string",
                                    "description": "Case-insensitive; the capitalised forms are what Entra ID sends",
                                    "enum": ["add", "remove", "replace", "Add", "Remove", "Replace"]
                                },
                                "path": {"type": "string", "description": "RFC 7644 §3.5.2 PATCH path; none means the resource"},
                                "value": {}
                            }
                        }
                    }
                }
            }),
        ),
        (
            "BulkRequest",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.7 BulkRequest",
                "required": ["schemas", "Operations"],
                "properties": {
                    "schemas": urn_list(BULK_REQUEST_URN),
                    "failOnErrors": {"type": "integer"},
                    "Operations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["method", "path"],
                            "properties": {
                                "method": {"type": "string", "enum": ["POST", "PUT", "PATCH", "DELETE"]},
                                "bulkId": {"type": "string"},
                                "version": {"type": "string"},
                                "path": {"type": "string", "description": "/Users, /Groups, /Users/{id} or /Groups/{id}"},
                                "data": {"type": "object"}
                            }
                        }
                    }
                }
            }),
        ),
        (
            "BulkResponse",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.7 BulkResponse",
                "required": ["schemas", "Operations"],
                "properties": {
                    "schemas": urn_list(BULK_RESPONSE_URN),
                    "Operations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "method": {"type": "string"},
                                "bulkId": {"type": "string"},
                                "version": {"type": "string"},
                                "location": {"type": "string", "format": "uri"},
                                "status": {"type": "string"},
                                "response": {}
                            }
                        }
                    }
                }
            }),
        ),
        (
            "ServiceProviderConfig",
            json!({
                "type": "object",
                "description": "RFC 7643 §5 service provider configuration",
                "properties": {
                    "schemas": strings,
                    "documentationUri": {"type": "string", "format": "uri"},
                    "patch": {"type": "object"},
                    "bulk": {"type": "object"},
                    "filter": {"type": "object"},
                    "pagination": {"type": "object"},
                    "changePassword": {"type": "object"},
                    "sort": {"type": "object"},
                    "etag": {"type": "object"},
                    "authenticationSchemes": {"type": "array", "items": {"type": "object"}},
                    "meta": r("schemas", "Meta")
                }
            }),
        ),
        (
            "ResourceType",
            json!({
                "type": "object",
                "description": "RFC 7643 §6 resource type",
                "properties": {
                    "schemas": strings,
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "endpoint": {"type": "string"},
                    "description": {"type": "string"},
                    "schema": {"type": "string"},
                    "schemaExtensions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"schema": {"type": "string"}, "required": {"type": "boolean"}}
                        }
                    },
                    "meta": r("schemas", "Meta")
                }
            }),
        ),
        (
            "AttributeDefinition",
            json!({
                "type": "object",
                "description": "RFC 7643 §7 attribute definition",
                "required": ["name", "type"],
                "properties": {
                    "name": {"type": "string"},
                    "type": {"type": "string", "enum": ["string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"]},
                    "multiValued": {"type": "boolean"},
                    "description": {"type": "string"},
                    "required": {"type": "boolean"},
                    "caseExact": {"type": "boolean"},
                    "mutability": {"type": "string", "enum": ["readOnly", "readWrite", "immutable", "writeOnly"]},
                    "returned": {"type": "string", "enum": ["always", "never", "default", "request"]},
                    "uniqueness": {"type": "string", "enum": ["none", "server", "global"]},
                    "canonicalValues": strings,
                    "referenceTypes": strings,
                    "subAttributes": {"type": "array", "items": r("schemas", "AttributeDefinition")}
                }
            }),
        ),
        (
            "SchemaDocument",
            json!({
                "type": "object",
                "description": "RFC 7643 §7 schema document",
                "properties": {
                    "schemas": strings,
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "resourceType": {"type": "string", "description": "For a tenant extension: the resource type it extends"},
                    "attributes": {"type": "array", "items": r("schemas", "AttributeDefinition")},
                    "meta": r("schemas", "Meta")
                }
            }),
        ),
        (
            "ExtensionDeclaration",
            json!({
                "type": "object",
                "description": "An RFC 7643 §7 schema document declaring a tenant extension; its id, if given, must be the URN of the path",
                "required": ["attributes"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "attributes": {"type": "array", "items": r("schemas", "AttributeDefinition")}
                }
            }),
        ),
        (
            "Health",
            json!({
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "enum": ["ok", "ready", "draining"]}}
            }),
        ),
        (
            "ImportReport",
            json!({
                "type": "object",
                "properties": {
                    "created": {"type": "integer"},
                    "updated": {"type": "integer"},
                    "failed": {"type": "integer"},
                    "dryRun": {"type": "boolean"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"line": {"type": "integer"}, "reason": {"type": "string"}}
                        }
                    }
                }
            }),
        ),
        (
            "AuditTrail",
            json!({
                "type": "object",
                "properties": {
                    "events": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "at": {"type": "string"},
                                "actor": {"type": "string"},
                                "action": {"type": "string", "enum": ["create", "update", "deactivate", "reactivate", "delete"]},
                                "resourceType": {"type": "string"},
                                "resourceId": {"type": "string"},
                                "attributes": strings
                            }
                        }
                    }
                }
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_kind_alternatives() {
        assert_eq!(
            expand("/scim/v2/{kind:Users|Groups}/{id}"),
            vec![
                ("/scim/v2/Users/{id}".to_owned(), Some(ResourceKind::User)),
                ("/scim/v2/Groups/{id}".to_owned(), Some(ResourceKind::Group)),
            ]
        );
        assert_eq!(
            expand("/admin/v1/extensions/{kind}/{urn}"),
            vec![("/admin/v1/extensions/{kind}/{urn}".to_owned(), None)]
        );
    }

    #[test]
    fn every_operation_is_documented_once() {
        let doc = document();
        let mut ids = std::collections::HashSet::new();
        for o in OPERATIONS {
            for (path, _) in expand(o.path) {
                assert!(
                    !path.contains(':') && !path.contains('|'),
                    "a pattern left a regex in {path}"
                );
                let method = o.method.as_str().to_ascii_lowercase();
                let operation = &doc["paths"][&path][&method];
                assert!(operation.is_object(), "{method} {path} is not documented");
                assert!(
                    ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
                    "duplicate operationId for {method} {path}"
                );
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty())
                );
            }
        }
    }

    #[test]
    fn user_schema_comes_from_the_registry() {
        let user = &document()["components"]["schemas"]["User"];
        assert_eq!(user["required"], json!(["schemas", "userName"]));
        assert_eq!(user["properties"]["active"]["type"], "boolean");
        assert_eq!(user["properties"]["emails"]["type"], "array");
        assert_eq!(
            user["properties"]["emails"]["items"]["properties"]["value"]["type"],
            "string"
        );
        assert_eq!(user["properties"]["groups"]["readOnly"], true);
        assert_eq!(user["properties"]["password"]["writeOnly"], true);
        assert_eq!(user["properties"]["profileUrl"]["format"], "uri-reference");
        assert_eq!(
            user["properties"][scim_core::schema::ENTERPRISE_USER]["$ref"],
            "#/components/schemas/EnterpriseUser"
        );
        let group = &document()["components"]["schemas"]["Group"];
        assert_eq!(group["required"], json!(["schemas", "displayName"]));
    }
}
