//! Discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`,
//! built from the registry and the server's actual limits so they never claim more than it does.

use serde_json::{Map, Value, json};

use crate::query::Paging;
use crate::schema::{Registry, ResourceKind, Schema};

/// RFC 7644 §3.4.2 ListResponse URN.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// What the server supports, as `/ServiceProviderConfig` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Paging limits (`filter.maxResults`).
    pub paging: Paging,
    /// Whether PATCH is offered.
    pub patch: bool,
    /// Whether sorting is offered.
    pub sort: bool,
    /// `/Bulk` limits.
    pub bulk: crate::bulk::BulkLimits,
}

/// The `/ServiceProviderConfig` document (RFC 7643 §5).
pub fn service_provider_config(caps: &Capabilities, base_url: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": caps.patch},
        "bulk": {
            "supported": true,
            "maxOperations": caps.bulk.max_operations,
            "maxPayloadSize": caps.bulk.max_payload_size
        },
        "filter": {"supported": true, "maxResults": caps.paging.max_results},
        // RFC 9865: cursors are keyset positions and never expire, so no cursorTimeout.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": caps.paging.default_count,
            "maxPageSize": caps.paging.max_results
        },
        "changePassword": {"supported": true},
        "sort": {"supported": caps.sort},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token issued by the server's CLI",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig")
        }
    })
}

/// One `/ResourceTypes` entry (RFC 7643 §6).
pub fn resource_type(registry: &Registry, kind: ResourceKind, base_url: &str) -> Value {
    let core = registry.core(kind);
    let extensions: Vec<Value> = registry
        .extensions(kind)
        .iter()
        .map(|s| json!({"schema": s.id, "required": false}))
        .collect();
    let description = match kind {
        ResourceKind::User => "User Account",
        ResourceKind::Group => "Group",
    };
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": kind.endpoint(),
        "description": description,
        "schema": core.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{}", kind.name())
        }
    })
}

/// Every resource type.
pub fn resource_types(registry: &Registry, base_url: &str) -> Vec<Value> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .map(|k| resource_type(registry, k, base_url))
        .collect()
}

/// Every schema document with its `meta` (RFC 7643 §7).
pub fn schemas(registry: &Registry, base_url: &str) -> Vec<Value> {
    registry
        .all()
        .map(|s| schema_document(s, base_url))
        .collect()
}

/// One schema document with its `meta`.
pub fn schema_document(schema: &Schema, base_url: &str) -> Value {
    let mut doc = schema.document.clone();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(
            "schemas".into(),
            json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]),
        );
        obj.insert(
            "meta".into(),
            json!({
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", schema.id)
            }),
        );
    }
    doc
}

/// A ListResponse holding all of `resources` (discovery endpoints are not paged).
pub fn list(resources: Vec<Value>) -> Value {
    let total = u64::try_from(resources.len()).unwrap_or(u64::MAX);
    list_response(Some(total), Some(1), resources)
}

/// A ListResponse of `resources` (RFC 7644 §3.4.2), with `totalResults` and `startIndex` when
/// given. The resources are moved in: inside `json!` each would be copied through the
/// serializer, a tenth of the instructions of a `userName eq` request.
pub fn list_response(total: Option<u64>, start_index: Option<u64>, resources: Vec<Value>) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([LIST_RESPONSE]));
    if let Some(total) = total {
        out.insert("totalResults".into(), json!(total));
    }
    out.insert("itemsPerPage".into(), json!(resources.len()));
    if let Some(start) = start_index {
        out.insert("startIndex".into(), json!(start));
    }
    out.insert("Resources".into(), Value::Array(resources));
    Value::Object(out)
}
