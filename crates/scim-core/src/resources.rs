//! The resource operations of RFC 7644 §3 (create, read, replace, delete, list) for Users and
//! Groups: validation, password hashing, membership resolution, versions, then one store
//! transaction, then rendering and projection.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::clock::Clock;
use crate::discovery::list_response;
use crate::error::{Error, Result};
use crate::etag;
use crate::limits::Limits;
use crate::password;
use crate::patch::{self, MemberChange};
use crate::projection::Projection;
use crate::query::{self, Column, Expr, Field, Operand, Paging, StoreQuery};
use crate::render::{self, Derived};
use crate::resource::{
    ColumnValue, ExtensionRow, IndexKeys, Member, MemberRef, Record, TenantId, WriteRecord,
};
use crate::schema::{AttrType, Attribute, Registry, ResourceKind};
use crate::store::{AuditEvent, Store, Tx};
use crate::validate::{self, MemberInput, Validated};
use scim_filter_parser::CompareOp;

/// A single resource as the transport sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The projected representation.
    pub body: Value,
    /// The `ETag` header (equal to `meta.version`).
    pub etag: String,
    /// The `Location` header (equal to `meta.location`).
    pub location: String,
}

/// A validated new resource, ready to store.
#[derive(Debug, Clone)]
pub struct NewResource {
    /// The record and its index keys.
    pub write: WriteRecord,
    /// Group members to resolve when storing.
    pub members: Option<Vec<MemberInput>>,
}

/// The query parameters of a list request (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// `filter`
    pub filter: Option<String>,
    /// `startIndex`
    pub start_index: Option<i64>,
    /// `count`
    pub count: Option<i64>,
    /// `attributes`
    pub attributes: Option<String>,
    /// `excludedAttributes`
    pub excluded_attributes: Option<String>,
    /// `sortBy`
    pub sort_by: Option<String>,
    /// `sortOrder`
    pub sort_order: Option<String>,
    /// RFC 9865 `cursor`: empty for the first page, then each page's `nextCursor`.
    pub cursor: Option<String>,
}

/// The operations, bound to one tenant and request.
pub struct Service<'a, S: Store> {
    /// The backend.
    pub store: &'a S,
    /// The tenant the caller acts for.
    pub tenant: &'a TenantId,
    /// The tenant's schemas.
    pub registry: &'a Registry,
    /// The source of `meta` timestamps.
    pub clock: &'a dyn Clock,
    /// `http://host/scim/v2`, for `meta.location` and `$ref`.
    pub base_url: &'a str,
    /// Paging limits.
    pub paging: Paging,
    /// What one request may ask.
    pub limits: Limits,
    /// Who is acting, for the audit trail: `token:<id>`, `jwt:<subject>` or `cli`.
    pub actor: &'a str,
}

impl<S: Store> Service<'_, S> {
    /// Parses `attributes` and `excludedAttributes` against the tenant's schemas, within the
    /// request limits.
    pub fn projection(
        &self,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection> {
        self.limits.check_attributes("attributes", attributes)?;
        self.limits
            .check_attributes("excludedAttributes", excluded)?;
        Projection::parse(self.registry, attributes, excluded)
    }

    /// RFC 7644 §3.3: creates a resource.
    pub fn create(&self, kind: ResourceKind, body: Value, proj: &Projection) -> Result<Output> {
        // Validation and password hashing (slow on purpose) happen before the transaction.
        let new = self.prepare_create(kind, body)?;
        self.store
            .write(self.tenant, |tx| self.create_in(tx, &new, proj))
    }

    /// Validates a new resource and builds its first version.
    pub fn prepare_create(&self, kind: ResourceKind, body: Value) -> Result<NewResource> {
        let v = validate::resource(self.registry, kind, body, None)?;
        let password_hash = v.password.as_deref().map(password::hash).transpose()?;
        let now = self.clock.now();
        let record = Record {
            id: crate::resource::new_id(),
            kind,
            schemas: v.schemas,
            data: v.data,
            version: 1,
            created: now,
            last_modified: now,
        };
        let write = WriteRecord {
            index: index_keys(self.registry, &record),
            record,
            password_hash,
        };
        Ok(NewResource {
            write,
            members: v.members,
        })
    }

    /// Stores a prepared resource inside an open transaction.
    pub fn create_in(
        &self,
        tx: &mut dyn Tx,
        new: &NewResource,
        proj: &Projection,
    ) -> Result<Output> {
        if new.write.record.kind == ResourceKind::User {
            leaver_conflict(tx, &new.write.index)?;
        }
        tx.insert(&new.write)?;
        let record = &new.write.record;
        let refs = match &new.members {
            Some(members) => resolve_members(tx, &record.id, members)?,
            None => Vec::new(),
        };
        if !refs.is_empty() {
            tx.set_members(&record.id, &refs)?;
        }
        let mut attributes: Vec<String> = record.data.keys().cloned().collect();
        if new.write.password_hash.is_some() {
            attributes.push("password".into());
        }
        if !refs.is_empty() {
            attributes.push("members".into());
        }
        self.audit(tx, "create", record, attributes)?;
        // A new resource's derived attributes are known without asking the store: a new user
        // is in no group yet, and a new group has exactly the members just written.
        let derived = match record.kind {
            ResourceKind::User => Derived::Groups(Vec::new()),
            ResourceKind::Group => Derived::Members(
                refs.into_iter()
                    .map(|m| Member {
                        value: m.value,
                        kind: m.kind,
                    })
                    .collect(),
            ),
        };
        Ok(self.render(record, derived, proj))
    }

    /// RFC 7644 §3.4.1: reads one resource.
    pub fn get(&self, kind: ResourceKind, id: &str, proj: &Projection) -> Result<Output> {
        self.store.read(self.tenant, |tx| {
            if kind == ResourceKind::User && proj.wants(self.registry, kind, "groups") {
                let (record, groups) = tx
                    .get_user_with_groups(id)?
                    .ok_or_else(|| not_found(kind, id))?;
                return Ok(self.render(&record, Derived::Groups(groups), proj));
            }
            let record = tx.get(kind, id)?.ok_or_else(|| not_found(kind, id))?;
            self.output(tx, &record, proj)
        })
    }

    /// RFC 7644 §3.5.1: replaces a resource. A body that changes nothing keeps the version.
    pub fn replace(
        &self,
        kind: ResourceKind,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        proj: &Projection,
    ) -> Result<Output> {
        self.write_retrying(if_match, |tx| {
            self.replace_in(tx, kind, id, body.clone(), if_match, proj)
        })
    }

    /// `replace` inside an open transaction.
    pub fn replace_in(
        &self,
        tx: &mut dyn Tx,
        kind: ResourceKind,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        proj: &Projection,
    ) -> Result<Output> {
        let existing = tx.get(kind, id)?.ok_or_else(|| not_found(kind, id))?;
        etag::check_if_match(if_match, existing.version)?;
        let Validated {
            schemas,
            data,
            password,
            members,
        } = validate::resource(self.registry, kind, body, Some(&existing))?;
        let refs = match &members {
            Some(m) => resolve_members(tx, id, m)?,
            None => Vec::new(),
        };
        let members_changed = kind == ResourceKind::Group && replace_members(tx, id, &refs)?;
        let record = self.new_version(tx, existing, schemas, data, password, members_changed)?;
        self.output(tx, &record, proj)
    }

    /// RFC 7644 §3.5.2: modifies a resource with a PatchOp request. Version and `lastModified`
    /// change only when something changed.
    pub fn patch(
        &self,
        kind: ResourceKind,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        proj: &Projection,
    ) -> Result<Output> {
        let ops = patch::parse(body, &self.limits)?;
        self.write_retrying(if_match, |tx| {
            self.patch_in(tx, kind, id, &ops, if_match, proj)
        })
    }

    /// `patch` inside an open transaction, with the operations already parsed.
    pub fn patch_in(
        &self,
        tx: &mut dyn Tx,
        kind: ResourceKind,
        id: &str,
        ops: &[patch::Operation],
        if_match: Option<&str>,
        proj: &Projection,
    ) -> Result<Output> {
        let existing = tx.get(kind, id)?.ok_or_else(|| not_found(kind, id))?;
        etag::check_if_match(if_match, existing.version)?;
        let patched = patch::apply(self.registry, kind, &existing, ops, &self.limits)?;
        let Validated {
            schemas,
            data,
            password,
            ..
        } = validate::resource(self.registry, kind, patched.body, Some(&existing))?;
        let mut members_changed = false;
        for change in patched.members {
            members_changed |= match change {
                MemberChange::Add(list) => {
                    let refs = resolve_members(tx, id, &list)?;
                    tx.add_members(id, &refs)? > 0
                }
                MemberChange::Remove(ids) => tx.remove_members(id, Some(&ids))? > 0,
                MemberChange::RemoveAll => tx.remove_members(id, None)? > 0,
                MemberChange::Replace(list) => {
                    let refs = resolve_members(tx, id, &list)?;
                    replace_members(tx, id, &refs)?
                }
            };
        }
        let record = self.new_version(tx, existing, schemas, data, password, members_changed)?;
        self.output(tx, &record, proj)
    }

    /// Stores the changed resource as its next version, or keeps it as it is when nothing
    /// changed, so the ETag and `lastModified` move exactly when the resource does.
    fn new_version(
        &self,
        tx: &mut dyn Tx,
        existing: Record,
        schemas: Vec<String>,
        data: serde_json::Map<String, Value>,
        password: Option<String>,
        members_changed: bool,
    ) -> Result<Record> {
        if schemas == existing.schemas
            && data == existing.data
            && password.is_none()
            && !members_changed
        {
            return Ok(existing);
        }
        let mut changed: Vec<String> = existing
            .data
            .keys()
            .chain(data.keys())
            .filter(|k| existing.data.get(*k) != data.get(*k))
            .cloned()
            .collect();
        changed.sort();
        changed.dedup();
        if password.is_some() {
            changed.push("password".into());
        }
        if members_changed {
            changed.push("members".into());
        }
        let active = |d: &serde_json::Map<String, Value>| d.get("active").and_then(Value::as_bool);
        let action = match (active(&existing.data), active(&data)) {
            (Some(true) | None, Some(false)) => "deactivate",
            (Some(false), Some(true)) => "reactivate",
            _ => "update",
        };
        let password_hash = password.as_deref().map(password::hash).transpose()?;
        let record = Record {
            id: existing.id.clone(),
            kind: existing.kind,
            schemas,
            data,
            version: existing.version + 1,
            created: existing.created,
            last_modified: self.clock.now(),
        };
        let write = WriteRecord {
            index: index_keys(self.registry, &record),
            record,
            password_hash,
        };
        tx.update(&write, existing.version)?;
        self.audit(tx, action, &write.record, changed)?;
        Ok(write.record)
    }

    /// Appends an event to the audit trail in the transaction of the change.
    fn audit(
        &self,
        tx: &mut dyn Tx,
        action: &str,
        record: &Record,
        attributes: Vec<String>,
    ) -> Result<()> {
        tx.audit(&AuditEvent {
            id: crate::resource::new_id(),
            at: render::timestamp(&self.clock.now()),
            actor: self.actor.to_owned(),
            action: action.to_owned(),
            resource_type: record.kind.name().to_owned(),
            resource_id: record.id.clone(),
            attributes,
        })
    }

    /// The audit trail of the tenant: of one resource and/or since a time, oldest first.
    pub fn audit_trail(
        &self,
        resource: Option<&str>,
        since: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>> {
        let since = since
            .map(|s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(|t| render::timestamp(&t.with_timezone(&chrono::Utc)))
                    .map_err(|_| {
                        Error::InvalidValue(format!("since must be an RFC 3339 time, not \"{s}\""))
                    })
            })
            .transpose()?;
        self.store.read(self.tenant, |tx| {
            tx.audit_events(resource, since.as_deref(), limit)
        })
    }

    /// Runs a read-modify-write transaction. Without `If-Match` the client asked for no
    /// version check, so losing a race to a concurrent writer (the version moved between our
    /// read and our conditional update) is retried on the new version instead of failing.
    fn write_retrying<T>(
        &self,
        if_match: Option<&str>,
        f: impl Fn(&mut dyn Tx) -> Result<T>,
    ) -> Result<T> {
        const ATTEMPTS: usize = 8;
        let mut attempt = 1;
        loop {
            match self.store.write(self.tenant, &f) {
                Err(Error::PreconditionFailed(_)) if if_match.is_none() && attempt < ATTEMPTS => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// RFC 7644 §3.6: deletes a resource and every membership it takes part in.
    pub fn delete(&self, kind: ResourceKind, id: &str, if_match: Option<&str>) -> Result<()> {
        self.store
            .write(self.tenant, |tx| self.delete_in(tx, kind, id, if_match))
    }

    /// `delete` inside an open transaction.
    pub fn delete_in(
        &self,
        tx: &mut dyn Tx,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<()> {
        let existing = tx.get(kind, id)?.ok_or_else(|| not_found(kind, id))?;
        etag::check_if_match(if_match, existing.version)?;
        tx.delete(kind, id)?;
        self.audit(tx, "delete", &existing, Vec::new())
    }

    /// RFC 7644 §3.4.2: lists resources as a ListResponse.
    pub fn list(&self, kind: ResourceKind, req: &ListRequest) -> Result<Value> {
        let proj = self.projection(
            req.attributes.as_deref(),
            req.excluded_attributes.as_deref(),
        )?;
        let filter = req
            .filter
            .as_deref()
            .map(|f| query::resolve_filter(self.registry, kind, f, &self.limits))
            .transpose()?;
        let sort = req
            .sort_by
            .as_deref()
            .map(|s| query::resolve_sort(self.registry, kind, s, req.sort_order.as_deref()))
            .transpose()?;
        if let Some(cursor) = &req.cursor {
            return self.list_by_cursor(kind, req, cursor, filter, sort.is_some(), &proj);
        }
        let (start_index, count) = self.paging.page(req.start_index, req.count);
        let query = StoreQuery {
            filter,
            sort,
            after: None,
            start_index,
            count,
            total: true,
        };
        self.store.read(self.tenant, |tx| {
            let page = tx.list(kind, &query)?;
            let resources = self.page(tx, &page.records, &proj)?;
            Ok(list_response(
                Some(page.total),
                Some(start_index),
                resources,
            ))
        })
    }

    /// RFC 9865 cursor paging: a keyset query in the default order (creation time, then id)
    /// after (or, for a `previousCursor`, before) the position the cursor names, so the
    /// ten-thousandth page costs what the first does. `totalResults` is counted for the first
    /// page only (counting a whole tenant costs more than a page). An empty page carries no
    /// cursor: it has no resource to name a position by.
    fn list_by_cursor(
        &self,
        kind: ResourceKind,
        req: &ListRequest,
        cursor: &str,
        filter: Option<Expr>,
        sorted: bool,
        proj: &Projection,
    ) -> Result<Value> {
        if req.start_index.is_some() {
            return Err(Error::InvalidValue(
                "give startIndex (index paging) or cursor (cursor paging), not both".into(),
            ));
        }
        if sorted {
            return Err(Error::InvalidValue(
                "cursor paging follows creation order; use startIndex paging with sortBy".into(),
            ));
        }
        let count = match req.count {
            None => self.paging.default_count,
            Some(c) => u64::try_from(c).unwrap_or(0),
        };
        if count > self.paging.max_results {
            return Err(Error::InvalidCount(format!(
                "count must be between 0 and {} (maxPageSize)",
                self.paging.max_results
            )));
        }
        let after = match cursor {
            "" => None,
            c => Some(query::After::from_cursor(c)?),
        };
        let first = after.is_none();
        let query = StoreQuery {
            filter,
            sort: None,
            after,
            start_index: 1,
            count: if count == 0 { 0 } else { count + 1 },
            total: first,
        };
        let backward = query.after.as_ref().is_some_and(|a| a.backward);
        self.store.read(self.tenant, |tx| {
            let mut page = tx.list(kind, &query)?;
            // One row beyond the page says whether more lie in the direction of travel. A
            // backward page comes newest first: it is put back in creation order.
            let more = u64::try_from(page.records.len()).unwrap_or(u64::MAX) > count;
            page.records
                .truncate(usize::try_from(count).unwrap_or(usize::MAX));
            if backward {
                page.records.reverse();
            }
            let (has_previous, has_next) = if backward {
                (more, true)
            } else {
                (!first, more)
            };
            let resources = self.page(tx, &page.records, proj)?;
            let total = first.then_some(page.total);
            let mut body = list_response(total, None, resources);
            if let Some(obj) = body.as_object_mut() {
                if let (true, Some(last)) = (has_next, page.records.last()) {
                    let next = query::After::of(last, false);
                    obj.insert("nextCursor".into(), json!(next.cursor()));
                }
                if let (true, Some(head)) = (has_previous, page.records.first()) {
                    let previous = query::After::of(head, true);
                    obj.insert("previousCursor".into(), json!(previous.cursor()));
                }
            }
            Ok(body)
        })
    }

    /// RFC 7644 §3.4.3: a search at the root covers every resource type, Users first, then
    /// Groups, paged as one list. A filter naming an attribute one type lacks matches nothing
    /// of that type (RFC 7644 §3.4.2.2), unless it fits neither, which is `invalidFilter`.
    pub fn search_all(&self, req: &ListRequest) -> Result<Value> {
        if req.cursor.is_some() {
            return Err(Error::InvalidValue(
                "cursor paging is offered on /Users and /Groups, not across both".into(),
            ));
        }
        let proj = self.projection(
            req.attributes.as_deref(),
            req.excluded_attributes.as_deref(),
        )?;
        let kinds = [ResourceKind::User, ResourceKind::Group];
        let mut plans = Vec::new();
        let mut first_error = None;
        for kind in kinds {
            let filter = req
                .filter
                .as_deref()
                .map(|f| query::resolve_filter(self.registry, kind, f, &self.limits));
            let sort = req
                .sort_by
                .as_deref()
                .map(|s| query::resolve_sort(self.registry, kind, s, req.sort_order.as_deref()));
            match (filter.transpose(), sort.transpose()) {
                (Ok(filter), Ok(sort)) => plans.push((kind, filter, sort)),
                (Err(e), _) | (_, Err(e)) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if plans.is_empty() {
            return Err(first_error
                .unwrap_or_else(|| Error::InvalidFilter("nothing can match this filter".into())));
        }
        let (start_index, count) = self.paging.page(req.start_index, req.count);
        self.store.read(self.tenant, |tx| {
            let mut skip = start_index - 1;
            let mut left = count;
            let mut total = 0;
            let mut resources = Vec::new();
            for (kind, filter, sort) in &plans {
                let counted = StoreQuery {
                    filter: filter.clone(),
                    sort: None,
                    after: None,
                    start_index: 1,
                    count: 0,
                    total: true,
                };
                let here = tx.list(*kind, &counted)?.total;
                total += here;
                if skip >= here {
                    skip -= here;
                    continue;
                }
                if left > 0 {
                    let page = tx.list(
                        *kind,
                        &StoreQuery {
                            filter: filter.clone(),
                            sort: sort.clone(),
                            after: None,
                            start_index: skip + 1,
                            count: left,
                            total: false,
                        },
                    )?;
                    left -= u64::try_from(page.records.len()).unwrap_or(left).min(left);
                    resources.extend(self.page(tx, &page.records, &proj)?);
                }
                skip = 0;
            }
            Ok(list_response(Some(total), Some(start_index), resources))
        })
    }

    /// Renders a record with its derived attributes, when they will be sent, and projects it.
    fn output(&self, tx: &mut dyn Tx, record: &Record, proj: &Projection) -> Result<Output> {
        let derived = match record.kind {
            ResourceKind::User if proj.wants(self.registry, record.kind, "groups") => {
                let mut groups = tx.groups_of(std::slice::from_ref(&record.id))?;
                Derived::Groups(groups.remove(&record.id).unwrap_or_default())
            }
            ResourceKind::Group if proj.wants(self.registry, record.kind, "members") => {
                Derived::Members(tx.members(&record.id)?)
            }
            ResourceKind::User | ResourceKind::Group => Derived::None,
        };
        Ok(self.render(record, derived, proj))
    }

    /// The bodies of a page of records: the `groups` of all its users come from one query.
    fn page(&self, tx: &mut dyn Tx, records: &[Record], proj: &Projection) -> Result<Vec<Value>> {
        let users: Vec<String> = records
            .iter()
            .filter(|r| r.kind == ResourceKind::User)
            .map(|r| r.id.clone())
            .collect();
        let wanted = proj.wants(self.registry, ResourceKind::User, "groups");
        let mut groups = if wanted && !users.is_empty() {
            tx.groups_of(&users)?
        } else {
            HashMap::new()
        };
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let body = match record.kind {
                ResourceKind::User => {
                    let derived = if wanted {
                        Derived::Groups(groups.remove(&record.id).unwrap_or_default())
                    } else {
                        Derived::None
                    };
                    self.render(record, derived, proj).body
                }
                ResourceKind::Group => self.output(tx, record, proj)?.body,
            };
            out.push(body);
        }
        Ok(out)
    }

    /// Renders and projects a record whose derived attributes are known.
    fn render(&self, record: &Record, derived: Derived, proj: &Projection) -> Output {
        let mut body = render::resource(record, derived, self.base_url);
        proj.apply(self.registry, record.kind, &mut body);
        Output {
            body,
            etag: etag::format(record.version),
            location: render::location(self.base_url, record),
        }
    }
}

fn not_found(kind: ResourceKind, id: &str) -> Error {
    Error::NotFound(format!("{} {id} not found", kind.name()))
}

/// The values a store indexes, computed from the schema's case rules.
pub fn index_keys(registry: &Registry, record: &Record) -> IndexKeys {
    let text = |k: &str| {
        record
            .data
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let user = record.kind == ResourceKind::User;
    IndexKeys {
        user_name: if user { text("userName") } else { None },
        user_name_folded: if user {
            text("userName").map(|s| query::fold(&s))
        } else {
            None
        },
        display_name: text("displayName"),
        display_name_folded: text("displayName").map(|s| query::fold(&s)),
        external_id: text("externalId"),
        emails_folded: if user {
            let mut emails: Vec<String> = record
                .data
                .get("emails")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("value").and_then(Value::as_str))
                .map(query::fold)
                .collect();
            emails.sort();
            emails.dedup();
            emails
        } else {
            Vec::new()
        },
        active: record.data.get("active").and_then(Value::as_bool),
        extensions: registry
            .extensions(record.kind)
            .iter()
            .filter_map(|ext| {
                let table = ext.table.clone()?;
                let values = record.data.get(&ext.id);
                let value = |a: &Attribute| values.and_then(|v| v.get(&a.name));
                Some(ExtensionRow {
                    urn: ext.id.clone(),
                    table,
                    ordered: ext.ordered,
                    values: ext
                        .attributes
                        .iter()
                        .filter(|a| !a.multi_valued)
                        .filter_map(|a| Some((a.column.clone()?, column_value(a, value(a)))))
                        .collect(),
                    lists: ext
                        .attributes
                        .iter()
                        .filter(|a| a.multi_valued)
                        .filter_map(|a| {
                            let mut distinct: Vec<ColumnValue> = Vec::new();
                            let mut seen = HashSet::new();
                            let items = value(a).and_then(Value::as_array).into_iter().flatten();
                            for item in items.map(|v| column_value(a, Some(v))) {
                                if item != ColumnValue::Null && seen.insert(format!("{item:?}")) {
                                    distinct.push(item);
                                }
                            }
                            Some((a.column.clone()?, distinct))
                        })
                        .collect(),
                })
            })
            .collect(),
    }
}

/// The column value of a validated extension attribute value.
fn column_value(attr: &Attribute, value: Option<&Value>) -> ColumnValue {
    let Some(value) = value else {
        return ColumnValue::Null;
    };
    match attr.kind {
        AttrType::Boolean => value.as_bool().map(ColumnValue::Bool),
        AttrType::Integer => value.as_i64().map(ColumnValue::Int),
        AttrType::Decimal => value.as_f64().map(ColumnValue::Real),
        AttrType::DateTime => value
            .as_str()
            .and_then(validate::parse_datetime)
            .map(|t| ColumnValue::Time(render::timestamp(&t))),
        // An empty string is no value (RFC 7644 §3.4.2.2 `pr`), and clashes with nothing.
        _ if value.as_str() == Some("") => None,
        AttrType::String | AttrType::Reference if !attr.case_exact => {
            value.as_str().map(|s| ColumnValue::Text(query::fold(s)))
        }
        _ => value.as_str().map(|s| ColumnValue::Text(s.to_owned())),
    }
    .unwrap_or(ColumnValue::Null)
}

/// A joiner who matches a deactivated user (by userName or externalId) is a returning leaver:
/// answer 409 (RFC 7644 §3.3) saying so, so an admin reactivates the user instead of creating a
/// second one. Checked before inserting, because on PostgreSQL a refused INSERT ends the
/// transaction. The unique index still decides races between concurrent creates.
fn leaver_conflict(tx: &mut dyn Tx, index: &IndexKeys) -> Result<()> {
    let eq = |column, value: &String| {
        Expr::Compare(
            Field::Column(column),
            CompareOp::Eq,
            Operand::Str(value.clone()),
        )
    };
    let probes: Vec<Expr> = [
        index
            .user_name_folded
            .as_ref()
            .map(|v| eq(Column::UserName, v)),
        index
            .external_id
            .as_ref()
            .map(|v| eq(Column::ExternalId, v)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let inactive = Expr::Compare(
        Field::Column(Column::Active),
        CompareOp::Eq,
        Operand::Bool(false),
    );
    // One query for both probes: a create costs one read more, not two.
    let leaver = tx.probe(
        ResourceKind::User,
        &Expr::And(vec![Expr::Or(probes), inactive]),
    )?;
    if let Some(leaver) = leaver {
        let same_name = leaver
            .data
            .get("userName")
            .and_then(Value::as_str)
            .map(query::fold)
            == index.user_name_folded;
        let name = if same_name { "userName" } else { "externalId" };
        return Err(Error::Uniqueness(format!(
            "a User with this {name} already exists and is inactive (id {}): reactivate it \
             with PATCH {{\"op\": \"replace\", \"path\": \"active\", \"value\": true}} instead",
            leaver.id
        )));
    }
    Ok(())
}

/// Sets a group's member list; `false` (and no write) when it already is that list.
fn replace_members(tx: &mut dyn Tx, group_id: &str, refs: &[MemberRef]) -> Result<bool> {
    let mut now: Vec<String> = tx.members(group_id)?.into_iter().map(|m| m.value).collect();
    now.sort();
    // `refs` come sorted from `resolve_members`.
    if refs.iter().map(|m| &m.value).eq(now.iter()) {
        return Ok(false);
    }
    tx.set_members(group_id, refs)?;
    Ok(true)
}

/// Checks that every member exists in the tenant and fills in its type. Unknown ids (including
/// another tenant's) are `invalidValue`, so nothing is written.
fn resolve_members(
    tx: &mut dyn Tx,
    group_id: &str,
    members: &[MemberInput],
) -> Result<Vec<MemberRef>> {
    // Sets and maps, not scans: a group may be created with 100,000 members at once.
    let mut wanted: HashMap<&str, Option<ResourceKind>> = HashMap::with_capacity(members.len());
    for m in members {
        let kind = wanted.entry(m.value.as_str()).or_insert(m.kind);
        if kind.is_none() {
            *kind = m.kind;
        }
    }
    if wanted.contains_key(group_id) {
        return Err(Error::InvalidValue(
            "a group cannot be a member of itself".into(),
        ));
    }
    let mut ids: Vec<String> = wanted.keys().map(|id| (*id).to_owned()).collect();
    ids.sort();
    // Members whose type the client named are looked for in that table only.
    let could_be = |kind: ResourceKind| -> Vec<String> {
        ids.iter()
            .filter(|id| {
                wanted
                    .get(id.as_str())
                    .copied()
                    .flatten()
                    .is_none_or(|k| k == kind)
            })
            .cloned()
            .collect()
    };
    let (maybe_users, maybe_groups) = (could_be(ResourceKind::User), could_be(ResourceKind::Group));
    let mut users = HashSet::new();
    if !maybe_users.is_empty() {
        users.extend(tx.existing(ResourceKind::User, &maybe_users)?);
    }
    let mut groups = HashSet::new();
    if !maybe_groups.is_empty() {
        groups.extend(tx.existing(ResourceKind::Group, &maybe_groups)?);
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let want = wanted.get(id.as_str()).copied().flatten();
        let kind = if users.contains(&id) && want != Some(ResourceKind::Group) {
            ResourceKind::User
        } else if groups.contains(&id) && want != Some(ResourceKind::User) {
            ResourceKind::Group
        } else {
            return Err(Error::InvalidValue(format!(
                "the member \"{id}\" is not an existing User or Group"
            )));
        };
        out.push(MemberRef { value: id, kind });
    }
    Ok(out)
}
