//! Routing: the SCIM endpoints under `/scim/v2`, health checks, and SCIM answers for everything
//! else (unknown routes 404, wrong methods 405, endpoints not offered yet 501).

mod discovery;
mod extensions;
mod health;
mod resources;

use actix_web::{HttpResponse, web};
use scim_core::store::Store;

use crate::error::ApiError;

/// Registers every route.
pub fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz::<S>))
        .service(
            web::scope("/scim/v2")
                .service(
                    web::resource("/ServiceProviderConfig")
                        .route(web::get().to(discovery::service_provider_config::<S>)),
                )
                .service(
                    web::resource("/ResourceTypes")
                        .route(web::get().to(discovery::resource_types::<S>)),
                )
                .service(
                    web::resource("/ResourceTypes/{id}")
                        .route(web::get().to(discovery::resource_type::<S>)),
                )
                .service(web::resource("/Schemas").route(web::get().to(discovery::schemas::<S>)))
                .service(
                    web::resource("/Schemas/{id}").route(web::get().to(discovery::schema::<S>)),
                )
                .service(web::resource("/.search").route(web::post().to(resources::search::<S>)))
                .service(web::resource("/Bulk").route(web::post().to(resources::bulk::<S>)))
                .service(web::resource("/Me").to(not_offered))
                .service(
                    web::resource("/{kind:Users|Groups}/.search")
                        .route(web::post().to(resources::search::<S>)),
                )
                .service(
                    web::resource("/{kind:Users|Groups}")
                        .route(web::get().to(resources::list::<S>))
                        .route(web::post().to(resources::create::<S>)),
                )
                .service(
                    web::resource("/{kind:Users|Groups}/{id}")
                        .route(web::get().to(resources::get::<S>))
                        .route(web::put().to(resources::replace::<S>))
                        .route(web::patch().to(resources::patch::<S>))
                        .route(web::delete().to(resources::delete::<S>)),
                ),
        )
        .service(web::resource("/admin/v1/import").route(web::post().to(resources::import::<S>)))
        .service(web::resource("/admin/v1/audit").route(web::get().to(resources::audit::<S>)))
        .service(
            web::resource("/admin/v1/extensions").route(web::get().to(extensions::list_all::<S>)),
        )
        .service(
            web::resource("/admin/v1/extensions/{kind}/{urn}")
                .route(web::get().to(extensions::get::<S>))
                .route(web::put().to(extensions::put::<S>))
                .route(web::delete().to(extensions::delete::<S>)),
        )
        .service(
            web::resource("/admin/v1/extensions/{kind}/{urn}/{attribute}")
                .route(web::delete().to(extensions::delete_attribute::<S>)),
        )
        .default_service(web::to(not_found));
}

/// RFC 7644 §3.12: features the server does not offer answer 501 (discovery says so too).
async fn not_offered() -> Result<HttpResponse, ApiError> {
    Err(scim_core::Error::NotImplemented("this operation is not supported yet".into()).into())
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(scim_core::Error::NotFound("no such endpoint".into()).into())
}
