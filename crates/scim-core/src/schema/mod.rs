//! Schemas: attribute definitions (`attribute`) and the registry of schema documents served by
//! `/Schemas` and used for validation (`registry`).

mod attribute;
mod registry;

pub use attribute::{AttrType, Attribute, Mutability, Returned, Uniqueness, common};
pub use registry::{ENTERPRISE_USER, GROUP, Registry, ResourceKind, Schema, USER};
