//! Routing: the SCIM endpoints under `/scim/v2`, health checks, the admin API, the OpenAPI
//! document, and SCIM answers for everything else (unknown routes 404, wrong methods 405,
//! endpoints not offered yet 501).
//!
//! Every operation is one row of `OPERATIONS`. The router is built from that table and so is
//! the OpenAPI document (`crate::openapi`), and both `handler` and `openapi::describe` match
//! on `Op` exhaustively: a route cannot be served without being documented, nor documented
//! without being served.

mod discovery;
mod extensions;
mod health;
mod resources;

use actix_web::http::Method;
use actix_web::{HttpResponse, Route, web};
use scim_core::store::Store;

use crate::error::ApiError;

/// What an operation does; the handler and the documentation are chosen by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `GET /healthz`
    Healthz,
    /// `GET /readyz`
    Readyz,
    /// `GET /metrics` (on the metrics listener only)
    Metrics,
    /// `GET /openapi.json`
    OpenApi,
    /// `GET /ServiceProviderConfig`
    ServiceProviderConfig,
    /// `GET /ResourceTypes`
    ResourceTypes,
    /// `GET /ResourceTypes/{id}`
    ResourceType,
    /// `GET /Schemas`
    Schemas,
    /// `GET /Schemas/{id}`
    Schema,
    /// `POST /.search`, `POST /{Users|Groups}/.search`
    Search,
    /// `POST /Bulk`
    Bulk,
    /// Any method on `/Me` (501)
    Me,
    /// `GET /{Users|Groups}`
    List,
    /// `POST /{Users|Groups}`
    Create,
    /// `GET /{Users|Groups}/{id}`
    Get,
    /// `PUT /{Users|Groups}/{id}`
    Replace,
    /// `PATCH /{Users|Groups}/{id}`
    Patch,
    /// `DELETE /{Users|Groups}/{id}`
    Delete,
    /// `POST /admin/v1/import`
    Import,
    /// `GET /admin/v1/audit`
    Audit,
    /// `GET /admin/v1/extensions`
    ListExtensions,
    /// `GET /admin/v1/extensions/{kind}/{urn}`
    GetExtension,
    /// `PUT /admin/v1/extensions/{kind}/{urn}`
    PutExtension,
    /// `DELETE /admin/v1/extensions/{kind}/{urn}`
    DeleteExtension,
    /// `DELETE /admin/v1/extensions/{kind}/{urn}/{attribute}`
    DeleteExtensionAttribute,
}

/// One served operation: a method on an actix path pattern.
pub(crate) struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The actix pattern; `{name:A|B}` segments stand for one path per alternative.
    pub path: &'static str,
    /// What it does.
    pub op: Op,
}

const fn operation(method: Method, path: &'static str, op: Op) -> Operation {
    Operation { method, path, op }
}

const SCIM_KIND: &str = "/scim/v2/{kind:Users|Groups}";

/// Every operation, in routing order: the first pattern that matches a path decides (so
/// `/Users/.search` comes before `/Users/{id}`), and its methods decide between the handler
/// and 405.
pub(crate) const OPERATIONS: &[Operation] = &[
    operation(Method::GET, "/healthz", Op::Healthz),
    operation(Method::GET, "/readyz", Op::Readyz),
    operation(Method::GET, "/metrics", Op::Metrics),
    operation(Method::GET, "/openapi.json", Op::OpenApi),
    operation(
        Method::GET,
        "/scim/v2/ServiceProviderConfig",
        Op::ServiceProviderConfig,
    ),
    operation(Method::GET, "/scim/v2/ResourceTypes", Op::ResourceTypes),
    operation(Method::GET, "/scim/v2/Schemas", Op::Schemas),
    operation(Method::POST, "/scim/v2/.search", Op::Search),
    operation(Method::POST, "/scim/v2/Bulk", Op::Bulk),
    // RFC 7644 §3.11 defines every method on /Me; none is offered yet.
    operation(Method::GET, "/scim/v2/Me", Op::Me),
    operation(Method::POST, "/scim/v2/Me", Op::Me),
    operation(Method::PUT, "/scim/v2/Me", Op::Me),
    operation(Method::PATCH, "/scim/v2/Me", Op::Me),
    operation(Method::DELETE, "/scim/v2/Me", Op::Me),
    // A pattern with a `{...}` segment is a regular expression, run on each path that reaches
    // it (a few µs): the busiest, a resource by id, come first.
    operation(
        Method::POST,
        "/scim/v2/{kind:Users|Groups}/.search",
        Op::Search,
    ),
    operation(Method::GET, "/scim/v2/{kind:Users|Groups}/{id}", Op::Get),
    operation(
        Method::PUT,
        "/scim/v2/{kind:Users|Groups}/{id}",
        Op::Replace,
    ),
    operation(
        Method::PATCH,
        "/scim/v2/{kind:Users|Groups}/{id}",
        Op::Patch,
    ),
    operation(
        Method::DELETE,
        "/scim/v2/{kind:Users|Groups}/{id}",
        Op::Delete,
    ),
    operation(Method::GET, SCIM_KIND, Op::List),
    operation(Method::POST, SCIM_KIND, Op::Create),
    operation(Method::GET, "/scim/v2/ResourceTypes/{id}", Op::ResourceType),
    operation(Method::GET, "/scim/v2/Schemas/{id}", Op::Schema),
    operation(Method::POST, "/admin/v1/import", Op::Import),
    operation(Method::GET, "/admin/v1/audit", Op::Audit),
    operation(Method::GET, "/admin/v1/extensions", Op::ListExtensions),
    operation(
        Method::GET,
        "/admin/v1/extensions/{kind}/{urn}",
        Op::GetExtension,
    ),
    operation(
        Method::PUT,
        "/admin/v1/extensions/{kind}/{urn}",
        Op::PutExtension,
    ),
    operation(
        Method::DELETE,
        "/admin/v1/extensions/{kind}/{urn}",
        Op::DeleteExtension,
    ),
    operation(
        Method::DELETE,
        "/admin/v1/extensions/{kind}/{urn}/{attribute}",
        Op::DeleteExtensionAttribute,
    ),
];

/// The handler of an operation.
fn handler<S: Store>(method: Method, op: Op) -> Route {
    let route = web::method(method);
    match op {
        Op::Healthz => route.to(health::healthz),
        Op::Readyz => route.to(health::readyz::<S>),
        Op::Metrics => route.to(health::metrics::<S>),
        Op::OpenApi => route.to(crate::openapi::serve),
        Op::ServiceProviderConfig => route.to(discovery::service_provider_config::<S>),
        Op::ResourceTypes => route.to(discovery::resource_types::<S>),
        Op::ResourceType => route.to(discovery::resource_type::<S>),
        Op::Schemas => route.to(discovery::schemas::<S>),
        Op::Schema => route.to(discovery::schema::<S>),
        Op::Search => route.to(resources::search::<S>),
        Op::Bulk => route.to(resources::bulk::<S>),
        Op::Me => route.to(not_offered),
        Op::List => route.to(resources::list::<S>),
        Op::Create => route.to(resources::create::<S>),
        Op::Get => route.to(resources::get::<S>),
        Op::Replace => route.to(resources::replace::<S>),
        Op::Patch => route.to(resources::patch::<S>),
        Op::Delete => route.to(resources::delete::<S>),
        Op::Import => route.to(resources::import::<S>),
        Op::Audit => route.to(resources::audit::<S>),
        Op::ListExtensions => route.to(extensions::list_all::<S>),
        Op::GetExtension => route.to(extensions::get::<S>),
        Op::PutExtension => route.to(extensions::put::<S>),
        Op::DeleteExtension => route.to(extensions::delete::<S>),
        Op::DeleteExtensionAttribute => route.to(extensions::delete_attribute::<S>),
    }
}

/// Registers every route: one actix resource per distinct pattern, in the table's order, with
/// a route for each of its methods.
pub fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    let mut patterns: Vec<&'static str> = Vec::new();
    for o in OPERATIONS {
        if !patterns.contains(&o.path) {
            patterns.push(o.path);
        }
    }
    for pattern in patterns {
        let resource = OPERATIONS
            .iter()
            .filter(|o| o.path == pattern)
            .fold(web::resource(pattern), |r, o| {
                r.route(handler::<S>(o.method.clone(), o.op))
            });
        cfg.service(resource);
    }
    cfg.default_service(web::to(not_found));
}

/// RFC 7644 §3.12: features the server does not offer answer 501 (discovery says so too).
async fn not_offered() -> Result<HttpResponse, ApiError> {
    Err(scim_core::Error::NotImplemented("this operation is not supported yet".into()).into())
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(scim_core::Error::NotFound("no such endpoint".into()).into())
}
