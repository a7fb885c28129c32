//! RFC 7644 §4 discovery endpoints. Without credentials they describe the built-in schemas;
//! with a bearer token they describe the caller's tenant, its own extensions included.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::discovery;
use scim_core::schema::{Registry, ResourceKind};
use scim_core::store::Store;
use scim_core::{Error, discovery::list};
use serde_json::Value;

use crate::auth;
use crate::error::ApiError;
use crate::request::base_url;
use crate::response::scim_json;
use crate::state::AppState;

/// The registry discovery describes: the caller's tenant's when credentials are sent (and must
/// then be valid), else the built-in one.
async fn registry<S: Store>(
    state: &web::Data<AppState<S>>,
    req: &HttpRequest,
) -> Result<Registry, ApiError> {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(state.registry.clone());
    }
    let principal = auth::authenticate(state, req).await?;
    let state = state.clone();
    let registry = web::block(move || state.registry_of(&principal)).await??;
    Ok((*registry).clone())
}

/// `GET /ServiceProviderConfig`
pub async fn service_provider_config<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
) -> HttpResponse {
    scim_json(discovery::service_provider_config(
        &state.caps,
        &base_url(&req),
    ))
}

/// `GET /ResourceTypes`
pub async fn resource_types<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let registry = registry(&state, &req).await?;
    Ok(scim_json(list(discovery::resource_types(
        &registry,
        &base_url(&req),
    ))))
}

/// `GET /ResourceTypes/{id}`
pub async fn resource_type<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.name() == id.as_str())
        .ok_or_else(|| Error::NotFound(format!("no resource type '{id}'")))?;
    let registry = registry(&state, &req).await?;
    Ok(scim_json(discovery::resource_type(
        &registry,
        kind,
        &base_url(&req),
    )))
}

/// `GET /Schemas`
pub async fn schemas<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let registry = registry(&state, &req).await?;
    Ok(scim_json(list(discovery::schemas(
        &registry,
        &base_url(&req),
    ))))
}

/// `GET /Schemas/{urn}`
pub async fn schema<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let registry = registry(&state, &req).await?;
    discovery::schemas(&registry, &base_url(&req))
        .into_iter()
        .find(|s| s.get("id").and_then(Value::as_str) == Some(id.as_str()))
        .map(scim_json)
        .ok_or_else(|| Error::NotFound(format!("no schema '{id}'")).into())
}
