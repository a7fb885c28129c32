#![doc = include_str!("../README.md")]

mod admin;
mod checkpoint;
pub mod connection;
pub mod error;
mod extensions;
pub mod migrate;
mod prepared;
mod schema;
mod sql_filter;
mod trigrams;
mod tx;

use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use scim_core::resource::TenantId;
use scim_core::schema::{ResourceKind, Schema};
use scim_core::store::{
    Author, Credential, PoolState, ResourceTotal, Store, Tenant, TokenRecord, Tx,
};

pub use connection::{AnyConnection, DbUrl, Pool};
pub use error::Error;

/// The diesel store: a pool of SQLite or PostgreSQL connections.
#[derive(Clone)]
pub struct DieselStore {
    pool: Pool,
    /// SQLite takes one writer at a time, and a writer that finds the database locked sleeps
    /// in growing steps (`busy_timeout`): under concurrent writes, latency would go to hundreds
    /// of milliseconds while the lock sits free. This process's writers queue here instead,
    /// before taking a connection; `busy_timeout` still covers other processes (the CLI).
    /// Unused on PostgreSQL, whose writers run concurrently.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// How long a write waits for its turn before answering 503 (the pool's timeout).
    writer_wait: Duration,
    /// What the process learns to plan statements (`tx::Plans`).
    plans: Arc<tx::Plans>,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("state", &self.pool.state())
            .finish()
    }
}

impl DieselStore {
    /// Opens a pool and runs pending migrations.
    pub fn open(url: &str, pool_size: u32, timeout: Duration) -> Result<DieselStore, Error> {
        let url = DbUrl::parse(url)?;
        let pool = connection::pool(&url, pool_size, timeout)?;
        migrate::run(&mut *pool.get()?)?;
        let upgraded = extensions::upgrade(&mut *pool.get()?)?;
        if upgraded > 0 {
            tracing::info!(tables = upgraded, "extension tables now hold meta.created");
        }
        let converted = extensions::bytewise(&mut *pool.get()?)?;
        if converted > 0 {
            tracing::info!(
                tables = converted,
                "extension text columns now in byte order"
            );
        }
        let sqlite_writer: Option<Arc<Mutex<()>>> =
            (!url.is_postgres()).then(|| Arc::new(Mutex::new(())));
        if let Some(writer) = &sqlite_writer {
            checkpoint::start(url.clone(), Arc::downgrade(writer));
        }
        let store = DieselStore {
            pool,
            sqlite_writer,
            writer_wait: timeout,
            plans: Arc::default(),
        };
        check_schema(&store)?;
        Ok(store)
    }

    /// On PostgreSQL, samples in the background the trigram counts that `co`/`ew` plans of the
    /// largest tenants need (`trigrams::Samples::warm`), so that a server's first substring
    /// searches are planned like later ones. Requests meanwhile go on as before.
    pub fn warm_substring_plans(&self) {
        if self.sqlite_writer.is_some() {
            return;
        }
        let (pool, plans) = (self.pool.clone(), Arc::clone(&self.plans));
        let warm = move || {
            let started = std::time::Instant::now();
            let sampled = pool
                .get()
                .map_err(Error::from)
                .and_then(|mut c| match &mut **c {
                    AnyConnection::Postgres(c) => plans.samples.warm(c).map_err(Error::from),
                    AnyConnection::Sqlite(_) => Ok(0),
                });
            match sampled {
                Ok(columns) => tracing::info!(
                    columns,
                    ms = started.elapsed().as_millis(),
                    "sampled trigram counts"
                ),
                Err(e) => tracing::warn!(error = %e, "trigram counts not sampled"),
            }
        };
        if let Err(e) = std::thread::Builder::new()
            .name("trigram-counts".into())
            .spawn(warm)
        {
            tracing::warn!(error = %e, "trigram counts not sampled");
        }
    }

    fn conn(
        &self,
    ) -> Result<diesel::r2d2::PooledConnection<connection::Manager>, scim_core::Error> {
        self.pool.get().map_err(|e| Error::Pool(e).into())
    }

    fn run<T>(
        &self,
        write: bool,
        f: impl FnOnce(&mut AnyConnection) -> scim_core::Result<T>,
    ) -> scim_core::Result<T> {
        let _turn = self.writer_turn(write)?;
        let mut conn = self.conn()?;
        connection::transaction(&mut conn, write, None, f)
    }

    /// On SQLite, a write waits for this process's previous writers (see `sqlite_writer`), as
    /// long as it would wait for a connection; then it is 503, to retry, rather than a queue
    /// that grows behind a writer holding the database (a CLI import, say).
    fn writer_turn(&self, write: bool) -> scim_core::Result<Option<MutexGuard<'_, ()>>> {
        let Some(lock) = self.sqlite_writer.as_ref().filter(|_| write) else {
            return Ok(None);
        };
        lock.try_lock_for(self.writer_wait)
            .map(Some)
            .ok_or_else(|| {
                scim_core::Error::Unavailable("the database is busy with other writes".into())
            })
    }

    /// `run` for a tenant's data: writes hold the tenant's schema lock in shared mode.
    fn run_for<T>(
        &self,
        tenant: &TenantId,
        write: bool,
        f: impl FnOnce(&mut AnyConnection) -> scim_core::Result<T>,
    ) -> scim_core::Result<T> {
        let _turn = self.writer_turn(write)?;
        let mut conn = self.conn()?;
        connection::transaction(&mut conn, write, Some(tenant.as_str()), f)
    }
}

impl Store for DieselStore {
    fn read<T>(
        &self,
        tenant: &TenantId,
        f: impl FnOnce(&mut dyn Tx) -> scim_core::Result<T>,
    ) -> scim_core::Result<T> {
        self.run(false, |conn| {
            f(&mut tx::DieselTx::new(
                conn,
                tenant.as_str(),
                false,
                &self.plans,
            ))
        })
    }

    fn write<T>(
        &self,
        tenant: &TenantId,
        f: impl FnOnce(&mut dyn Tx) -> scim_core::Result<T>,
    ) -> scim_core::Result<T> {
        self.run_for(tenant, true, |conn| {
            let mut tx = tx::DieselTx::new(conn, tenant.as_str(), true, &self.plans);
            let value = f(&mut tx)?;
            tx.flush()?;
            Ok(value)
        })
    }

    fn write_batch<T>(
        &self,
        tenant: &TenantId,
        mut f: impl FnMut(&mut dyn Tx) -> scim_core::Result<T>,
    ) -> scim_core::Result<T> {
        let mut poisoned = false;
        let optimistic = self.run_for(tenant, true, |conn| {
            let mut tx = tx::DieselTx::new(conn, tenant.as_str(), true, &self.plans).optimistic();
            let value = f(&mut tx);
            // The batch's deferred creates are written at the latest by `flush`, which may
            // poison it too.
            let value = match value {
                Ok(value) if !tx.poisoned() => tx.flush().map(|()| value),
                other => other,
            };
            if tx.poisoned() {
                poisoned = true;
                // Rolls the whole batch back; it runs again below, with savepoints.
                return Err(scim_core::Error::internal_msg("batch needs savepoints"));
            }
            value
        });
        if !poisoned {
            return optimistic;
        }
        self.write(tenant, f)
    }

    fn ping(&self) -> scim_core::Result<()> {
        use diesel::r2d2::R2D2Connection;
        self.conn()?.ping().map_err(|e| Error::Diesel(e).into())
    }

    fn refresh_statistics(&self) {
        use diesel::connection::SimpleConnection;
        let analyzed = self.pool.get().map_err(Error::from).and_then(|mut c| {
            match &mut **c {
                AnyConnection::Postgres(c) => c
                    .batch_execute("ANALYZE users, user_emails, groups, group_members")
                    .map_err(Error::from),
                // SQLite plans from fixed statistics (migration 000002), which do not drift.
                AnyConnection::Sqlite(_) => Ok(()),
            }
        });
        if let Err(e) = analyzed {
            tracing::warn!(error = %e, "statistics not refreshed");
        }
    }

    fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            max: self.pool.max_size(),
            open: state.connections,
            idle: state.idle_connections,
        }
    }

    fn resource_totals(&self) -> scim_core::Result<Vec<ResourceTotal>> {
        self.run(false, admin::resource_totals)
    }

    fn create_tenant(&self, tenant: &Tenant) -> scim_core::Result<()> {
        self.run(true, |c| admin::create_tenant(c, tenant))
    }

    fn tenants(&self) -> scim_core::Result<Vec<Tenant>> {
        self.run(false, admin::tenants)
    }

    fn tenant_by_name(&self, name: &str) -> scim_core::Result<Option<Tenant>> {
        self.run(false, |c| admin::tenant_by_name(c, name))
    }

    fn create_token(&self, token: &TokenRecord) -> scim_core::Result<()> {
        self.run(true, |c| admin::create_token(c, token))
    }

    fn token_by_hash(&self, hash: &str) -> scim_core::Result<Option<Credential>> {
        let mut conn = self.conn()?;
        admin::token_by_hash(&mut conn, hash)
    }

    fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> scim_core::Result<bool> {
        self.run(true, |c| admin::revoke_token(c, id, at))
    }

    fn bootstrap(&self, tenant: &Tenant, token: &TokenRecord) -> scim_core::Result<bool> {
        let created = self.run(true, |c| {
            if admin::any_tenant(c)? {
                return Ok(false);
            }
            admin::create_tenant(c, tenant)?;
            admin::create_token(c, token)?;
            Ok(true)
        });
        match created {
            // Another process bootstrapped at the same moment; its tenant stands.
            Err(scim_core::Error::Uniqueness(_)) => Ok(false),
            other => other,
        }
    }

    fn extensions(&self, tenant: &TenantId) -> scim_core::Result<Vec<(ResourceKind, Schema)>> {
        let mut conn = self.conn()?;
        extensions::load(&mut conn, tenant.as_str())
    }

    fn apply_extension(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        declared: Schema,
        by: &Author<'_>,
    ) -> scim_core::Result<(Schema, bool)> {
        self.run(true, |c| {
            extensions::apply(c, tenant.as_str(), kind, declared, by)
        })
    }

    fn remove_extension(
        &self,
        tenant: &TenantId,
        kind: ResourceKind,
        urn: &str,
        attribute: Option<&str>,
        by: &Author<'_>,
    ) -> scim_core::Result<bool> {
        self.run(true, |c| {
            extensions::remove(c, tenant.as_str(), kind, urn, attribute, by)
        })
    }
}

/// Selects every column of every table with `LIMIT 0`, so a `schema.rs` that drifted from the
/// migrations fails loudly. `open` runs it after migrating, before anything is served.
pub fn check_schema(store: &DieselStore) -> Result<(), Error> {
    use diesel::prelude::*;
    use schema::*;
    let mut conn = store.pool.get()?;
    let c = &mut **conn;
    tenants::table
        .select(tenants::all_columns)
        .limit(0)
        .load::<(String, String, String, i64)>(c)?;
    tokens::table
        .select(tokens::all_columns)
        .limit(0)
        .execute(c)?;
    users::table
        .select(users::all_columns)
        .limit(0)
        .execute(c)?;
    user_emails::table
        .select(user_emails::all_columns)
        .limit(0)
        .execute(c)?;
    groups::table
        .select(groups::all_columns)
        .limit(0)
        .execute(c)?;
    group_members::table
        .select(group_members::all_columns)
        .limit(0)
        .execute(c)?;
    audit_events::table
        .select(audit_events::all_columns)
        .limit(0)
        .execute(c)?;
    extensions::table
        .select(extensions::all_columns)
        .limit(0)
        .execute(c)?;
    created_counts::table
        .select(created_counts::all_columns)
        .limit(0)
        .load::<(String, String, i64, String, i64, i64)>(c)?;
    Ok(())
}
