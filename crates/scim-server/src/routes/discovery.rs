//! RFC 7644 §4 discovery endpoints. They describe the server, not a tenant's data, so they are
//! served without authentication.

use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::discovery;
use scim_core::schema::ResourceKind;
use scim_core::store::Store;
use scim_core::{Error, discovery::list};
use serde_json::Value;

use crate::error::ApiError;
use crate::request::base_url;
use crate::response::scim_json;
use crate::state::AppState;

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
) -> HttpResponse {
    scim_json(list(discovery::resource_types(
        state.registry,
        &base_url(&req),
    )))
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
    Ok(scim_json(discovery::resource_type(
        state.registry,
        kind,
        &base_url(&req),
    )))
}

/// `GET /Schemas`
pub async fn schemas<S: Store>(state: web::Data<AppState<S>>, req: HttpRequest) -> HttpResponse {
    scim_json(list(discovery::schemas(state.registry, &base_url(&req))))
}

/// `GET /Schemas/{urn}`
pub async fn schema<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    discovery::schemas(state.registry, &base_url(&req))
        .into_iter()
        .find(|s| s.get("id").and_then(Value::as_str) == Some(id.as_str()))
        .map(scim_json)
        .ok_or_else(|| Error::NotFound(format!("no schema '{id}'")).into())
}
