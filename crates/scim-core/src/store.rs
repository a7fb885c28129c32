//! The storage trait: what a persistence backend must offer the core. One `read`/`write` closure
//! is one database transaction bound to one tenant; inside, fine-grained operations touch only
//! the rows a request needs.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::query::{Expr, StoreQuery};
use crate::resource::{GroupRef, Member, MemberRef, Record, TenantId, WriteRecord};
use crate::schema::{ResourceKind, Schema};

/// A page of records and the total number matching.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Number of matching resources, independent of paging.
    pub total: u64,
    /// The records of the requested page, in order.
    pub records: Vec<Record>,
}

/// Operations inside one tenant-bound transaction.
pub trait Tx {
    /// Inserts a new resource. A unique key already taken gives `Error::Uniqueness`.
    fn insert(&mut self, rec: &WriteRecord) -> Result<()>;
    /// Reads one resource.
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Record>>;
    /// Replaces a resource if its stored version is still `expected_version`; otherwise
    /// `Error::PreconditionFailed`. A unique key already taken gives `Error::Uniqueness`.
    fn update(&mut self, rec: &WriteRecord, expected_version: i64) -> Result<()>;
    /// Deletes a resource and every membership it takes part in. `false` when absent.
    fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool>;
    /// Lists resources matching the query.
    fn list(&mut self, kind: ResourceKind, query: &StoreQuery) -> Result<Page>;
    /// The first resource matching `filter`, for a check that fails the operation when one
    /// exists (a joiner who matches a leaver). In a batch (`Store::write_batch`) a store may
    /// answer `None` at once and check the batch's probes together later, before any change
    /// that could alter their answers: if one finds a resource then, the batch runs again with
    /// real savepoints, and there probes answer at once.
    fn probe(&mut self, kind: ResourceKind, filter: &Expr) -> Result<Option<Record>>;
    /// Of the given ids, those that exist as resources of `kind`.
    fn existing(&mut self, kind: ResourceKind, ids: &[String]) -> Result<Vec<String>>;
    /// The members of a group with their display names.
    fn members(&mut self, group_id: &str) -> Result<Vec<Member>>;
    /// Replaces the whole member list of a group.
    fn set_members(&mut self, group_id: &str, members: &[MemberRef]) -> Result<()>;
    /// Adds members to a group, keeping existing ones once; returns how many were new. Costs
    /// what is added, whatever the size of the group.
    fn add_members(&mut self, group_id: &str, members: &[MemberRef]) -> Result<usize>;
    /// Removes the given member ids (all members when `None`); returns how many went.
    fn remove_members(&mut self, group_id: &str, ids: Option<&[String]>) -> Result<usize>;
    /// Appends to the audit trail, in this transaction.
    fn audit(&mut self, event: &AuditEvent) -> Result<()>;
    /// Audit events, oldest first: of one resource and/or at or after `since`, at most `limit`.
    fn audit_events(
        &mut self,
        resource: Option<&str>,
        since: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>>;
    /// Runs `f` in a savepoint of this transaction: if it fails, its changes alone are undone
    /// and its error returned. `/Bulk` runs each operation this way inside one transaction.
    fn savepoint(&mut self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// The groups each of these resources belongs to, directly and through nested groups, in
    /// one query for them all (a page of users costs one query, not one per user). Members in
    /// no group are absent from the map.
    fn groups_of(
        &mut self,
        member_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<GroupRef>>>;
    /// A user and its groups (as `groups_of` gives them), for a read that sends both: in one
    /// statement where `get` and `groups_of` take two. Unlike a write's `get`, it locks nothing.
    fn get_user_with_groups(&mut self, id: &str) -> Result<Option<(Record, Vec<GroupRef>)>>;
}

/// One change to a resource, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Server-generated id.
    pub id: String,
    /// When, as a fixed-width UTC timestamp.
    pub at: String,
    /// Who: `token:<id>`, `jwt:<subject>` or `cli`.
    pub actor: String,
    /// `create`, `update`, `deactivate`, `reactivate` or `delete`.
    pub action: String,
    /// `User` or `Group`.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The attributes that changed (`members` for membership, `password` without its value).
    pub attributes: Vec<String>,
}

/// Who makes a schema change and when, for the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    /// As `AuditEvent::actor` names it.
    pub actor: &'a str,
    /// When.
    pub at: DateTime<Utc>,
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Server-generated id.
    pub id: TenantId,
    /// Unique name chosen by the operator.
    pub name: String,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// The version of its extension catalog, raised by every change to its extensions.
    pub catalog: i64,
}

/// A token found by its secret, and its tenant's catalog version, read in the same query: a
/// server keeps each tenant's schemas while that version stays the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The token.
    pub token: TokenRecord,
    /// `Tenant::catalog` of the token's tenant.
    pub catalog: i64,
}

/// An access token as stored: only the hash of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public id, used to revoke it.
    pub id: String,
    /// The tenant it acts for.
    pub tenant: TenantId,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When it was issued.
    pub created: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked: Option<DateTime<Utc>>,
}

/// A store's connection pool at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Connections the pool may open.
    pub max: u32,
    /// Connections open now.
    pub open: u32,
    /// Open connections no request holds.
    pub idle: u32,
}

/// How many resources of one type a tenant holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTotal {
    /// The tenant's name.
    pub tenant: String,
    /// `User` or `Group`.
    pub resource_type: String,
    /// How many.
    pub count: i64,
}

/// A persistence backend.
pub trait Store: Clone + Send + Sync + 'static {
    /// Runs `f` in a read transaction scoped to `tenant`.
    fn read<T>(&self, tenant: &TenantId, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T>;
    /// Runs `f` in a write transaction scoped to `tenant`; any error rolls everything back.
    fn write<T>(&self, tenant: &TenantId, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T>;
    /// `write` for a batch of operations, each in `Tx::savepoint`. A store may first run `f`
    /// with its savepoints elided, and, when one of them would have had to undo writes, roll
    /// back and run `f` again with real savepoints: so `f` must keep its effects local until
    /// it returns.
    fn write_batch<T>(
        &self,
        tenant: &TenantId,
        f: impl FnMut(&mut dyn Tx) -> Result<T>,
    ) -> Result<T>;
    /// Checks that the database answers.
    fn ping(&self) -> Result<()>;
    /// Refreshes the database's planner statistics of the resource tables, for a bulk load
    /// that has grown a tenant: until they are refreshed, PostgreSQL plans a new tenant's
    /// queries as if it held a row or two, and walks all its rows where a lookup would do.
    /// A store whose statistics do not drift does nothing. Only plans are at stake, so a
    /// failure is the store's to log, not the caller's to handle.
    fn refresh_statistics(&self);
    /// The connection pool's use now, for monitoring.
    fn pool_state(&self) -> PoolState;
    /// How many resources of each type every tenant holds, for monitoring.
    fn resource_totals(&self) -> Result<Vec<ResourceTotal>>;
    /// Creates a tenant; a taken name gives `Error::Uniqueness`.
    fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Every tenant, by name.
    fn tenants(&self) -> Result<Vec<Tenant>>;
    /// The tenant of that name.
    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>>;
    /// Stores a new token.
    fn create_token(&self, token: &TokenRecord) -> Result<()>;
    /// The token whose secret hashes to `hash`, with its tenant's catalog version.
    fn token_by_hash(&self, hash: &str) -> Result<Option<Credential>>;
    /// Marks a token revoked; `false` when no such token exists.
    fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Creates `tenant` and `token` together, only if no tenant exists yet. `false` when one did.
    fn bootstrap(&self, tenant: &Tenant, token: &TokenRecord) -> Result<bool>;
    /// A tenant's own extension schemas, each with its table and columns, from the catalog.
    fn extensions(&self, tenant: &TenantId) -> Result<Vec<(ResourceKind, Schema)>>;
    /// Declares or extends a tenant extension (`crate::extension::merge` decides what may
    /// change); its columns and catalog entry change in one transaction. Returns the extension
    /// as now declared, and whether it is new.
    fn apply_extension(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        declared: Schema,
        by: &Author<'_>,
    ) -> Result<(Schema, bool)>;
    /// Removes a tenant extension, or one attribute of it, with every value it held.
    /// `false` when there is no such extension or attribute.
    fn remove_extension(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        urn: &str,
        attribute: Option<&str>,
        by: &Author<'_>,
    ) -> Result<bool>;
}
