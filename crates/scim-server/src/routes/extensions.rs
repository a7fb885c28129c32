//! `/admin/v1/extensions` (`admin` scope): a tenant's own schema extensions. `PUT` declares or
//! extends one from an RFC 7643 §7 schema document, `GET` lists them, `DELETE` removes an
//! extension or one attribute with its values.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::discovery::{list, schema_document};
use scim_core::schema::{ResourceKind, Schema};
use scim_core::store::{Author, Store};
use scim_core::{Error, extension};
use serde_json::Value;

use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::request::{base_url, json_body};
use crate::response::scim_json;
use crate::state::AppState;
use crate::token;

fn kind_of(segment: &str) -> Result<ResourceKind, ApiError> {
    match segment {
        "User" => Ok(ResourceKind::User),
        "Group" => Ok(ResourceKind::Group),
        other => Err(Error::NotFound(format!(
            "no resource type '{other}': extensions are declared for User or Group"
        ))
        .into()),
    }
}

/// The schema document as `/Schemas` serves it, with the resource type it extends.
fn view(kind: ResourceKind, schema: &Schema, base: &str) -> Value {
    let mut doc = schema_document(schema, base);
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("resourceType".into(), Value::String(kind.name().into()));
    }
    doc
}

async fn admin<S: Store>(
    state: &web::Data<AppState<S>>,
    req: &HttpRequest,
) -> Result<Principal, ApiError> {
    auth::require(state, req, token::ADMIN).await
}

/// `GET /admin/v1/extensions`
pub async fn list_all<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let principal = admin(&state, &req).await?;
    let store = state.store.clone();
    let declared = web::block(move || store.extensions(&principal.tenant)).await??;
    let base = base_url(&req);
    Ok(scim_json(list(
        declared
            .iter()
            .map(|(kind, schema)| view(*kind, schema, &base))
            .collect(),
    )))
}

/// `GET /admin/v1/extensions/{User|Group}/{urn}`
pub async fn get<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, urn) = path.into_inner();
    let kind = kind_of(&kind)?;
    let principal = admin(&state, &req).await?;
    let store = state.store.clone();
    let declared = web::block(move || store.extensions(&principal.tenant)).await??;
    declared
        .iter()
        .find(|(k, s)| *k == kind && s.id.eq_ignore_ascii_case(&urn))
        .map(|(k, s)| scim_json(view(*k, s, &base_url(&req))))
        .ok_or_else(|| Error::NotFound(format!("no extension '{urn}' for {}", kind.name())).into())
}

/// `PUT /admin/v1/extensions/{User|Group}/{urn}`: 201 when the extension is new, else 200.
pub async fn put<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (kind, urn) = path.into_inner();
    let kind = kind_of(&kind)?;
    let principal = admin(&state, &req).await?;
    let declared = extension::declaration(&urn, json_body(&req, &body)?)?;
    let store = state.store.clone();
    let at = state.clock.now();
    let (schema, new) = web::block(move || {
        let by = Author {
            actor: &principal.actor,
            at,
        };
        store.apply_extension(&principal.tenant, kind, declared, &by)
    })
    .await??;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = scim_json(view(kind, &schema, &base_url(&req)));
    *res.status_mut() = status;
    Ok(res)
}

/// `DELETE /admin/v1/extensions/{User|Group}/{urn}`: the whole extension and its values.
pub async fn delete<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, urn) = path.into_inner();
    remove(state, req, kind, urn, None).await
}

/// `DELETE /admin/v1/extensions/{User|Group}/{urn}/{attribute}`: one attribute and its values.
pub async fn delete_attribute<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, urn, attribute) = path.into_inner();
    remove(state, req, kind, urn, Some(attribute)).await
}

async fn remove<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    kind: String,
    urn: String,
    attribute: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&kind)?;
    let principal = admin(&state, &req).await?;
    let store = state.store.clone();
    let what = match &attribute {
        Some(a) => format!("no attribute '{a}' in the extension '{urn}'"),
        None => format!("no extension '{urn}' for {}", kind.name()),
    };
    let at = state.clock.now();
    let removed = web::block(move || {
        let by = Author {
            actor: &principal.actor,
            at,
        };
        store.remove_extension(&principal.tenant, kind, &urn, attribute.as_deref(), &by)
    })
    .await??;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(Error::NotFound(what).into())
    }
}
