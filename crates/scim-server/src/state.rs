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
    /// The schemas.
    pub registry: &'static Registry,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// What the server supports, for discovery and paging.
    pub caps: Capabilities,
    /// JWT verification, when configured.
    pub jwt: Option<crate::jwt::JwtConfig>,
}
