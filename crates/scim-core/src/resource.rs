//! Resources as the core and the store exchange them: the stored attributes of a User or Group,
//! its version and timestamps, the keys the store indexes, and group membership references.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::schema::ResourceKind;

/// A new resource id (RFC 7643 §3.1: unique and never reassigned): a UUIDv7, whose leading
/// bits are the time and the rest random. Ids made one after another sort together, so the
/// primary-key indexes (and the audit trail's) grow at their end instead of taking a write at
/// a random page each: at a million users that is most of what a bulk load reads.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A tenant's id. Every store operation is bound to exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(pub String);

impl TenantId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resource as stored: the validated attributes plus server-managed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Server-assigned id (RFC 7643 §3.1).
    pub id: String,
    /// User or Group.
    pub kind: ResourceKind,
    /// The `schemas` list of the resource.
    pub schemas: Vec<String>,
    /// Client-settable attributes, keyed by their schema names (extensions under their URN).
    /// Derived attributes (`groups`, `members`), `id`, `meta` and the password are not here.
    pub data: Map<String, Value>,
    /// Increases with every write; the ETag.
    pub version: i64,
    /// `meta.created`
    pub created: DateTime<Utc>,
    /// `meta.lastModified`
    pub last_modified: DateTime<Utc>,
}

/// The values the store keeps in indexed columns, computed by the core from the schema.
/// Strings of `caseExact: false` attributes are already case-folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexKeys {
    /// `userName` as given (Users only).
    pub user_name: Option<String>,
    /// `userName` folded: unique per tenant.
    pub user_name_folded: Option<String>,
    /// `displayName` as given.
    pub display_name: Option<String>,
    /// `displayName` folded (unique per tenant for Groups).
    pub display_name_folded: Option<String>,
    /// `externalId`, case-exact.
    pub external_id: Option<String>,
    /// Every `emails.value`, folded (Users only).
    pub emails_folded: Vec<String>,
    /// `active` (Users only).
    pub active: Option<bool>,
    /// One row per tenant-defined extension of the resource type: its typed column values.
    pub extensions: Vec<ExtensionRow>,
}

/// The values of one tenant-defined extension, for its table's typed columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionRow {
    /// The extension's URN (for messages).
    pub urn: String,
    /// The store's table for it.
    pub table: String,
    /// Whether the table holds each resource's `meta.created` (`Schema::ordered`).
    pub ordered: bool,
    /// Each singular attribute's column and value (`Null` when unassigned).
    pub values: Vec<(String, ColumnValue)>,
    /// Each multi-valued attribute's table and values (distinct, none unassigned).
    pub lists: Vec<(String, Vec<ColumnValue>)>,
}

/// A typed column value. Strings of `caseExact: false` attributes are folded.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValue {
    /// Unassigned.
    Null,
    /// `string` and `reference`.
    Text(String),
    /// `boolean`.
    Bool(bool),
    /// `integer`.
    Int(i64),
    /// `decimal`.
    Real(f64),
    /// `dateTime`, as fixed-width UTC text (`render::timestamp`).
    Time(String),
}

/// What a write stores: the record, its index keys and, for users, a new password hash.
#[derive(Debug, Clone)]
pub struct WriteRecord {
    /// The resource.
    pub record: Record,
    /// Derived index keys.
    pub index: IndexKeys,
    /// A new password hash; `None` keeps the stored one on update.
    pub password_hash: Option<String>,
}

/// A reference to a group member, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// The member's id.
    pub value: String,
    /// User or Group.
    pub kind: ResourceKind,
}

/// A group member as read back. RFC 7643 §8.7.1 gives members `value`, `$ref` and `type`
/// only, so listing a large group reads the membership table alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's id.
    pub value: String,
    /// User or Group.
    pub kind: ResourceKind,
}

/// A group a user belongs to, directly or through nested groups (`User.groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// The group's id.
    pub value: String,
    /// The group's `displayName`.
    pub display: Option<String>,
    /// `true` for a direct membership, `false` for one through a nested group.
    pub direct: bool,
}
