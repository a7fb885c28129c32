//! Tenants and tokens: the rows behind `scim-server tenant ...` and `token ...` and bearer
//! authentication. Only token hashes are stored.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use scim_core::Error;
use scim_core::render::timestamp;
use scim_core::resource::TenantId;
use scim_core::store::{Credential, ResourceTotal, Tenant, TokenRecord};

use crate::connection::AnyConnection;
use crate::error::{db, unique};
use crate::schema::{created_counts, tenants, tokens};

fn parse_time(s: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::internal_msg(format!("stored timestamp '{s}' is invalid: {e}")))
}

/// Inserts a tenant.
pub fn create_tenant(conn: &mut AnyConnection, t: &Tenant) -> Result<(), Error> {
    diesel::insert_into(tenants::table)
        .values((
            tenants::id.eq(t.id.as_str()),
            tenants::name.eq(&t.name),
            tenants::created.eq(timestamp(&t.created)),
        ))
        .execute(conn)
        .map_err(unique("a tenant with this name already exists"))?;
    Ok(())
}

fn tenant_of(row: (String, String, String, i64)) -> Result<Tenant, Error> {
    Ok(Tenant {
        id: TenantId(row.0),
        name: row.1,
        created: parse_time(&row.2)?,
        catalog: row.3,
    })
}

/// Every tenant, by name.
pub fn tenants(conn: &mut AnyConnection) -> Result<Vec<Tenant>, Error> {
    let rows: Vec<(String, String, String, i64)> = tenants::table
        .select(tenants::all_columns)
        .order(tenants::name.asc())
        .load(conn)
        .map_err(db)?;
    rows.into_iter().map(tenant_of).collect()
}

/// Every tenant's kept counts (the month rows of `created_counts`), summed over their months
/// and shards, by tenant name and type.
pub fn resource_totals(conn: &mut AnyConnection) -> Result<Vec<ResourceTotal>, Error> {
    let names: std::collections::HashMap<String, String> = tenants::table
        .select((tenants::id, tenants::name))
        .load::<(String, String)>(conn)
        .map_err(db)?
        .into_iter()
        .collect();
    let rows: Vec<(String, String, i64)> = created_counts::table
        .filter(created_counts::level.eq(i64::try_from(crate::tx::MONTH).unwrap_or_default()))
        .select((
            created_counts::tenant_id,
            created_counts::resource_type,
            created_counts::n,
        ))
        .load(conn)
        .map_err(db)?;
    let mut totals = std::collections::BTreeMap::<(String, String), i64>::new();
    for (tenant, resource_type, n) in rows {
        if let Some(name) = names.get(&tenant) {
            *totals.entry((name.clone(), resource_type)).or_default() += n;
        }
    }
    Ok(totals
        .into_iter()
        .map(|((tenant, resource_type), count)| ResourceTotal {
            tenant,
            resource_type,
            count,
        })
        .collect())
}

/// The tenant of that name.
pub fn tenant_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Tenant>, Error> {
    let row: Option<(String, String, String, i64)> = tenants::table
        .filter(tenants::name.eq(name))
        .select(tenants::all_columns)
        .load(conn)
        .map(crate::tx::unique_row)
        .map_err(db)?;
    row.map(tenant_of).transpose()
}

/// Inserts a token.
pub fn create_token(conn: &mut AnyConnection, t: &TokenRecord) -> Result<(), Error> {
    diesel::insert_into(tokens::table)
        .values((
            tokens::id.eq(&t.id),
            tokens::tenant_id.eq(t.tenant.as_str()),
            tokens::hash.eq(&t.hash),
            tokens::scopes.eq(t.scopes.join(" ")),
            tokens::created.eq(timestamp(&t.created)),
            tokens::expires.eq(t.expires.as_ref().map(timestamp)),
            tokens::revoked.eq(t.revoked.as_ref().map(timestamp)),
        ))
        .execute(conn)
        .map_err(db)?;
    Ok(())
}

type TokenRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
);

/// The token with that hash, and its tenant's catalog version (one query).
pub fn token_by_hash(conn: &mut AnyConnection, hash: &str) -> Result<Option<Credential>, Error> {
    let query = tokens::table
        .inner_join(tenants::table)
        .filter(tokens::hash.eq(hash))
        .select((
            tokens::id,
            tokens::tenant_id,
            tokens::hash,
            tokens::scopes,
            tokens::created,
            tokens::expires,
            tokens::revoked,
            tenants::catalog_version,
        ));
    // Every request runs this: on the concrete connection (see `on_conn!`).
    let row: Option<TokenRow> = crate::on_conn!(conn, |c| query.load(c))
        .map(crate::tx::unique_row)
        .map_err(db)?;
    let Some((id, tenant, hash, scopes, created, expires, revoked, catalog)) = row else {
        return Ok(None);
    };
    Ok(Some(Credential {
        token: TokenRecord {
            id,
            tenant: TenantId(tenant),
            hash,
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            created: parse_time(&created)?,
            expires: expires.as_deref().map(parse_time).transpose()?,
            revoked: revoked.as_deref().map(parse_time).transpose()?,
        },
        catalog,
    }))
}

/// Marks a token revoked.
pub fn revoke_token(conn: &mut AnyConnection, id: &str, at: DateTime<Utc>) -> Result<bool, Error> {
    let n = diesel::update(tokens::table.filter(tokens::id.eq(id)))
        .set(tokens::revoked.eq(Some(timestamp(&at))))
        .execute(conn)
        .map_err(db)?;
    Ok(n > 0)
}

/// Whether any tenant exists.
pub fn any_tenant(conn: &mut AnyConnection) -> Result<bool, Error> {
    let n: i64 = tenants::table.count().get_result(conn).map_err(db)?;
    Ok(n > 0)
}
