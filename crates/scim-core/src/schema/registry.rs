//! The schema registry: the RFC 7643 schema documents in `schemas/`, parsed once, and the mapping
//! from resource types to their core schema and extensions.

use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use super::attribute::Attribute;
use crate::error::{Error, Result};

/// URN of the core User schema (RFC 7643 §4.1).
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the core Group schema (RFC 7643 §4.2).
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN of the EnterpriseUser extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The resource types this server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`
    User,
    /// `/Groups`
    Group,
}

impl ResourceKind {
    /// The `meta.resourceType` and `/ResourceTypes` id.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint below the base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
        }
    }

    /// The URN of the core schema.
    pub fn core_schema(self) -> &'static str {
        match self {
            ResourceKind::User => USER,
            ResourceKind::Group => GROUP,
        }
    }
}

/// A parsed schema document.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The schema URN.
    pub id: String,
    /// The short name (`User`).
    pub name: String,
    /// Top-level attributes.
    pub attributes: Vec<Attribute>,
    /// The document as served by `/Schemas` (without `meta`, which depends on the base URL).
    pub document: Value,
    /// For a tenant-defined extension, the store's table holding its attributes' columns
    /// (each attribute names its column); `None` for the built-in schemas.
    pub table: Option<String>,
    /// Whether that table holds each resource's `meta.created` and its indexes order by it, so
    /// that a page in the default order is read from an attribute's index alone.
    pub ordered: bool,
}

#[derive(Deserialize)]
struct SchemaDoc {
    id: String,
    name: String,
    attributes: Vec<Attribute>,
}

impl Schema {
    /// Parses an RFC 7643 §7 schema document.
    pub fn from_document(document: Value) -> Result<Schema> {
        let doc: SchemaDoc = serde_json::from_value(document.clone())
            .map_err(|e| Error::InvalidSyntax(format!("invalid schema document: {e}")))?;
        Ok(Schema {
            id: doc.id,
            name: doc.name,
            attributes: doc.attributes,
            document,
            table: None,
            ordered: false,
        })
    }

    /// The top-level attribute of that name, compared case-insensitively (RFC 7643 §2.1).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// All schemas known to a tenant, and which resource type each belongs to. Schemas are shared,
/// so a tenant's registry (built per request from the catalog) costs a few reference counts.
#[derive(Debug, Clone)]
pub struct Registry {
    user: Arc<Schema>,
    group: Arc<Schema>,
    user_extensions: Vec<Arc<Schema>>,
    group_extensions: Vec<Arc<Schema>>,
}

fn builtin(text: &str) -> Schema {
    // The documents are compiled in and covered by tests, so failing here is a build defect;
    // an empty schema keeps the server up and the tests loud.
    serde_json::from_str(text)
        .map_err(|e| Error::InvalidSyntax(e.to_string()))
        .and_then(Schema::from_document)
        .unwrap_or_else(|_| Schema {
            id: String::new(),
            name: String::new(),
            attributes: Vec::new(),
            document: Value::Null,
            table: None,
            ordered: false,
        })
}

impl Registry {
    /// The built-in registry: core User and Group plus EnterpriseUser.
    pub fn builtin() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(|| Registry {
            user: Arc::new(builtin(include_str!("../../../../schemas/User.json"))),
            group: Arc::new(builtin(include_str!("../../../../schemas/Group.json"))),
            user_extensions: vec![Arc::new(builtin(include_str!(
                "../../../../schemas/EnterpriseUser.json"
            )))],
            group_extensions: Vec::new(),
        })
    }

    /// The built-in schemas plus a tenant's own extensions.
    pub fn with_extensions(extensions: Vec<(ResourceKind, Schema)>) -> Registry {
        let mut registry = Registry::builtin().clone();
        for (kind, schema) in extensions {
            match kind {
                ResourceKind::User => registry.user_extensions.push(Arc::new(schema)),
                ResourceKind::Group => registry.group_extensions.push(Arc::new(schema)),
            }
        }
        registry
    }

    /// The core schema of a resource type.
    pub fn core(&self, kind: ResourceKind) -> &Schema {
        match kind {
            ResourceKind::User => &self.user,
            ResourceKind::Group => &self.group,
        }
    }

    /// The extension schemas a resource type accepts.
    pub fn extensions(&self, kind: ResourceKind) -> &[Arc<Schema>] {
        match kind {
            ResourceKind::User => &self.user_extensions,
            ResourceKind::Group => &self.group_extensions,
        }
    }

    /// The extension of a resource type with that URN, compared case-insensitively.
    pub fn extension(&self, kind: ResourceKind, urn: &str) -> Option<&Schema> {
        self.extensions(kind)
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
            .map(|s| &**s)
    }

    /// Every schema, core first, as `/Schemas` lists them.
    pub fn all(&self) -> impl Iterator<Item = &Schema> {
        [&self.user, &self.group]
            .into_iter()
            .chain(self.user_extensions.iter())
            .chain(self.group_extensions.iter())
            .map(|s| &**s)
    }

    /// The schema with that URN, if any.
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.all().find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_documents_parse() {
        let r = Registry::builtin();
        assert_eq!(r.core(ResourceKind::User).id, USER);
        assert_eq!(r.core(ResourceKind::Group).id, GROUP);
        assert_eq!(r.extensions(ResourceKind::User)[0].id, ENTERPRISE_USER);
        let user = r.core(ResourceKind::User);
        assert!(
            user.attribute("USERNAME")
                .is_some_and(|a| a.required && !a.case_exact)
        );
        assert!(user.attribute("emails").is_some_and(|a| a.multi_valued));
        assert_eq!(r.all().count(), 3);
    }
}
