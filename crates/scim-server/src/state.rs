//! Shared state of the application: the store and the fixed configuration, and a cache of
//! tenants' schemas keyed by the catalog version the database holds, so processes behind one
//! load balancer cannot disagree.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use scim_core::clock::Clock;
use scim_core::discovery::Capabilities;
use scim_core::schema::Registry;

/// What every handler gets.
pub struct AppState<S> {
    /// The persistence backend.
    pub store: S,
    /// The built-in schemas (discovery without credentials); each tenant's own registry comes
    /// from `registry_of`.
    pub registry: &'static Registry,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// What the server supports, for discovery and paging.
    pub caps: Capabilities,
    /// What one request may ask.
    pub limits: scim_core::limits::Limits,
    /// Per-token request rates, when limited.
    pub rate_limiter: Option<crate::rate_limit::RateLimiter>,
    /// Request counts and latencies for `/metrics`, when a metrics listener serves them.
    pub metrics: Option<crate::metrics::Metrics>,
    /// JWT verification, when configured.
    pub jwt: Option<crate::jwt::JwtConfig>,
    /// Set on SIGTERM or SIGINT: `/readyz` then answers 503 until the server stops.
    pub draining: std::sync::atomic::AtomicBool,
    /// Where `/Bulk` requests run, as many at once as `Config::bulk_concurrency` allows.
    pub bulk_lanes: crate::bulk_lanes::BulkLanes,
    /// Tenant id -> its registry and the catalog version it was read at.
    pub registries: Mutex<HashMap<String, (i64, Arc<Registry>)>>,
}

impl<S: scim_core::store::Store> AppState<S> {
    /// The caller's tenant's schemas. The catalog version comes with the bearer token (same
    /// query), so a registry read at that version is reused without asking the database, and
    /// a declaration committed by any process is in force from the next request on.
    pub fn registry_of(
        &self,
        principal: &crate::auth::Principal,
    ) -> scim_core::Result<Arc<Registry>> {
        let tenant = principal.tenant.as_str();
        let cached = |map: &HashMap<String, (i64, Arc<Registry>)>| {
            map.get(tenant)
                .filter(|(version, _)| *version == principal.catalog)
                .map(|(_, r)| Arc::clone(r))
        };
        // A poisoned lock only means another request panicked while holding it; the map is
        // still a valid cache.
        if let Some(r) = cached(&self.registries.lock().unwrap_or_else(|e| e.into_inner())) {
            return Ok(r);
        }
        let registry = Arc::new(tenant_registry(&self.store, &principal.tenant)?);
        let mut map = self.registries.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(tenant).is_none_or(|(v, _)| *v <= principal.catalog) {
            map.insert(
                tenant.to_owned(),
                (principal.catalog, Arc::clone(&registry)),
            );
        }
        Ok(registry)
    }
}

/// A tenant's schemas: the built-in ones plus its extensions, read from the catalog.
pub fn tenant_registry<S: scim_core::store::Store>(
    store: &S,
    tenant: &scim_core::resource::TenantId,
) -> scim_core::Result<Registry> {
    Ok(Registry::with_extensions(store.extensions(tenant)?))
}
