//! Shared, read-only state of the application: the store and the fixed configuration. Nothing
//! here changes after start, so processes behind one load balancer cannot disagree.

use std::sync::Arc;

use scim_core::clock::Clock;
use scim_core::discovery::Capabilities;
use scim_core::schema::Registry;

/// What every handler gets.
pub struct AppState<S> {
    /// The persistence backend.
    pub store: S,
    /// The built-in schemas (discovery without credentials); each tenant's own registry is
    /// read per request with `tenant_registry`.
    pub registry: &'static Registry,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// What the server supports, for discovery and paging.
    pub caps: Capabilities,
    /// JWT verification, when configured.
    pub jwt: Option<crate::jwt::JwtConfig>,
}

/// A tenant's schemas: the built-in ones plus its extensions, read from the catalog on every
/// request, so a declaration is in force on every server process as soon as it commits.
pub fn tenant_registry<S: scim_core::store::Store>(
    store: &S,
    tenant: &scim_core::resource::TenantId,
) -> scim_core::Result<Registry> {
    Ok(Registry::with_extensions(store.extensions(tenant)?))
}
