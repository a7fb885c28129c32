//! Opaque bearer tokens: random secrets shown once, stored only as SHA-256 hashes. The secrets
//! carry 256 bits of entropy, so a fast hash is enough (unlike passwords).

use chrono::{DateTime, Utc};
use scim_core::resource::TenantId;
use scim_core::store::TokenRecord;
use sha2::{Digest, Sha256};

/// Read access: GET and `.search`.
pub const READ: &str = "scim:read";
/// Write access: POST, PUT, PATCH, DELETE, Bulk.
pub const WRITE: &str = "scim:write";
/// Tenant administration.
pub const ADMIN: &str = "admin";
/// Every scope.
pub const ALL: [&str; 3] = [READ, WRITE, ADMIN];

/// The stored hash of a secret.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret.
pub fn generate() -> Result<String, scim_core::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| scim_core::Error::internal_msg(format!("no randomness: {e}")))?;
    Ok(format!("scim_{}", hex::encode(bytes)))
}

/// The record of a new token for `secret`.
pub fn record(
    tenant: &TenantId,
    secret: &str,
    scopes: &[String],
    now: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
) -> TokenRecord {
    TokenRecord {
        id: uuid_like(&hash(secret)),
        tenant: tenant.clone(),
        hash: hash(secret),
        scopes: scopes.to_vec(),
        created: now,
        expires,
        revoked: None,
    }
}

/// A short public id derived from the hash, so ids are stable and reveal nothing usable.
fn uuid_like(hash: &str) -> String {
    format!("tok_{}", hash.get(..16).unwrap_or(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_hashed() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("scim_") && a.len() == 69);
        let r = record(
            &TenantId("t".into()),
            &a,
            &[READ.to_string()],
            chrono::DateTime::UNIX_EPOCH,
            None,
        );
        assert_eq!(r.hash, hash(&a));
        assert!(!r.hash.contains(&a) && !r.id.contains(&a));
    }
}
