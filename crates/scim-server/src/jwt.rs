//! JWT bearer tokens (RFC 7519) issued by an identity platform: HS256 with a shared secret, or
//! RS256 with public keys from a PEM file or a JWKS file. `exp` is required; `nbf`, `iss` and
//! `aud` are checked; the tenant (by name) and the scopes come from configured claims. Only the
//! configured algorithm is accepted, so `none` and algorithm confusion (an HS256 token signed
//! with an RS256 public key) fail.

use std::fmt;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Where verification keys come from.
#[derive(Clone)]
pub enum JwtKeys {
    /// HS256 with this shared secret.
    Hs256(Vec<u8>),
    /// RS256 with these public keys, by `kid` when the key set names them.
    Rs256(Vec<(Option<String>, DecodingKey)>),
}

/// JWT settings.
#[derive(Clone)]
pub struct JwtConfig {
    /// Verification keys and the one algorithm they imply.
    pub keys: JwtKeys,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// The claim naming the tenant (its name, as `tenant create` gave it).
    pub tenant_claim: String,
    /// The claim holding scopes: a space-separated string or an array of strings.
    pub scope_claim: String,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.keys {
            JwtKeys::Hs256(_) => "HS256 (secret redacted)".to_owned(),
            JwtKeys::Rs256(k) => format!("RS256 ({} public keys)", k.len()),
        };
        f.debug_struct("JwtConfig")
            .field("keys", &keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("tenant_claim", &self.tenant_claim)
            .field("scope_claim", &self.scope_claim)
            .finish()
    }
}

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("JWT configuration: {0}")]
pub struct ConfigError(String);

impl JwtKeys {
    /// RS256 keys from a PEM public key.
    pub fn rs256_pem(pem: &[u8]) -> Result<JwtKeys, ConfigError> {
        let key = DecodingKey::from_rsa_pem(pem).map_err(|e| ConfigError(e.to_string()))?;
        Ok(JwtKeys::Rs256(vec![(None, key)]))
    }

    /// RS256 keys from a JWKS document (RFC 7517).
    pub fn rs256_jwks(json: &[u8]) -> Result<JwtKeys, ConfigError> {
        let set: JwkSet = serde_json::from_slice(json).map_err(|e| ConfigError(e.to_string()))?;
        let keys = set
            .keys
            .iter()
            .map(|jwk| {
                DecodingKey::from_jwk(jwk)
                    .map(|k| (jwk.common.key_id.clone(), k))
                    .map_err(|e| ConfigError(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(ConfigError("the JWKS holds no key".into()));
        }
        Ok(JwtKeys::Rs256(keys))
    }
}

/// What a valid JWT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtIdentity {
    /// The tenant's name.
    pub tenant: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `sub`, for logs.
    pub subject: String,
}

/// Whether a bearer token has the shape of a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

impl JwtConfig {
    /// Verifies a JWT and reads its identity. The error text is for logs, never for clients.
    pub fn verify(&self, token: &str) -> Result<JwtIdentity, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let (algorithm, candidates): (Algorithm, Vec<&DecodingKey>) = match &self.keys {
            JwtKeys::Hs256(secret) => {
                return self.check(token, Algorithm::HS256, &DecodingKey::from_secret(secret));
            }
            JwtKeys::Rs256(keys) => (
                Algorithm::RS256,
                keys.iter()
                    .filter(|(kid, _)| header.kid.is_none() || kid.is_none() || *kid == header.kid)
                    .map(|(_, k)| k)
                    .collect(),
            ),
        };
        let mut last = String::from("no key matches the token's kid");
        for key in candidates {
            match self.check(token, algorithm, key) {
                Ok(identity) => return Ok(identity),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn check(
        &self,
        token: &str,
        algorithm: Algorithm,
        key: &DecodingKey,
    ) -> Result<JwtIdentity, String> {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map_err(|e| e.to_string())?;
        let claims = data.claims;
        let tenant = claims
            .get(&self.tenant_claim)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the token has no '{}' claim", self.tenant_claim))?
            .to_owned();
        let scopes = match claims.get(&self.scope_claim) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Ok(JwtIdentity {
            tenant,
            scopes,
            subject,
        })
    }
}
