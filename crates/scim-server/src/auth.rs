//! Bearer authentication: the token decides the tenant and the scopes. Tokens are looked up by
//! hash in the database on every request, so a revocation takes effect at once on every server
//! process. The lookup runs on the blocking pool with the route's own database work
//! (`Caller`, `resolve`).

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use scim_core::Error;
use scim_core::resource::TenantId;
use scim_core::store::Store;

use crate::error::ApiError;
use crate::state::AppState;
use crate::token;

/// Who is calling: the tenant and scopes of a valid token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The tenant the token acts for.
    pub tenant: TenantId,
    /// Who is acting, as the audit trail names it: `token:<id>` or `jwt:<subject>`.
    pub actor: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The tenant's catalog version when the request began (`Tenant::catalog`).
    pub catalog: i64,
}

/// A request's credentials, read from its headers before any work: the secret, the scope the
/// route needs, and the request's span to name the caller in. `resolve` checks them where the
/// route's database work runs, so one trip to the blocking pool serves both.
pub struct Caller {
    secret: String,
    scope: Option<&'static str>,
    span: tracing::Span,
}

impl Caller {
    /// The bearer credentials of `req`, to be checked for `scope`.
    pub fn of(req: &HttpRequest, scope: &'static str) -> Result<Caller, ApiError> {
        Ok(Caller {
            secret: bearer(req)?,
            scope: Some(scope),
            span: tracing::Span::current(),
        })
    }

    /// The bearer credentials of `req`, whatever their scopes.
    pub fn any_scope(req: &HttpRequest) -> Result<Caller, ApiError> {
        Ok(Caller {
            scope: None,
            ..Caller::of(req, "")?
        })
    }
}

/// Authenticates the request and checks that the token holds `scope`.
pub async fn require<S: Store>(
    state: &web::Data<AppState<S>>,
    req: &HttpRequest,
    scope: &'static str,
) -> Result<Principal, ApiError> {
    let caller = Caller::of(req, scope)?;
    let state = state.clone();
    Ok(web::block(move || resolve(&state, &caller)).await??)
}

/// Authenticates the request, whatever its scopes.
pub async fn authenticate<S: Store>(
    state: &web::Data<AppState<S>>,
    req: &HttpRequest,
) -> Result<Principal, ApiError> {
    let caller = Caller::any_scope(req)?;
    let state = state.clone();
    Ok(web::block(move || resolve(&state, &caller)).await??)
}

/// Checks a caller's credentials (blocking: it reads the database) and scope. The request's
/// span then names the method (`token` or `jwt`), the actor and the tenant.
pub fn resolve<S: Store>(state: &AppState<S>, caller: &Caller) -> scim_core::Result<Principal> {
    let principal = match state
        .jwt
        .as_ref()
        .filter(|_| crate::jwt::looks_like_jwt(&caller.secret))
    {
        Some(jwt) => from_jwt(state, jwt, &caller.secret)?,
        None => from_token(state, &caller.secret)?,
    };
    let span = &caller.span;
    span.record("tenant", principal.tenant.as_str());
    span.record("actor", principal.actor.as_str());
    span.record(
        "auth",
        if principal.actor.starts_with("jwt:") {
            "jwt"
        } else {
            "token"
        },
    );
    // Refused requests count against the rate too: a token looping on a write it may not make
    // costs a lookup each time.
    if let Some(limiter) = &state.rate_limiter {
        let caller = format!("{}/{}", principal.tenant.as_str(), principal.actor);
        limiter
            .admit(&caller, std::time::Instant::now())
            .map_err(Error::RateLimited)?;
    }
    if let Some(scope) = caller.scope
        && !principal.scopes.iter().any(|s| s == scope)
    {
        return Err(Error::Forbidden(format!(
            "this token lacks the '{scope}' scope"
        )));
    }
    Ok(principal)
}

/// Authenticates with an opaque token, looked up by its hash.
fn from_token<S: Store>(state: &AppState<S>, secret: &str) -> scim_core::Result<Principal> {
    let found = state.store.token_by_hash(&token::hash(secret))?;
    let now = state.clock.now();
    let found = found
        .filter(|c| c.token.revoked.is_none() && c.token.expires.is_none_or(|e| e > now))
        .ok_or_else(|| {
            Error::Unauthorized("the bearer token is invalid, expired or revoked".into())
        })?;
    let record = found.token;
    Ok(Principal {
        tenant: record.tenant,
        actor: format!("token:{}", record.id),
        scopes: record.scopes,
        catalog: found.catalog,
    })
}

/// Authenticates with a JWT: verified signature and claims, then the tenant by name.
fn from_jwt<S: Store>(
    state: &AppState<S>,
    jwt: &crate::jwt::JwtConfig,
    token: &str,
) -> scim_core::Result<Principal> {
    let invalid = || Error::Unauthorized("the bearer token is invalid, expired or revoked".into());
    let identity = jwt.verify(token).map_err(|why| {
        tracing::info!(reason = why, "JWT refused");
        invalid()
    })?;
    let tenant = state
        .store
        .tenant_by_name(&identity.tenant)?
        .ok_or_else(|| {
            tracing::info!(tenant = identity.tenant, "JWT names an unknown tenant");
            invalid()
        })?;
    Ok(Principal {
        tenant: tenant.id,
        actor: format!("jwt:{}", identity.subject),
        scopes: identity.scopes,
        catalog: tenant.catalog,
    })
}

/// The secret of an `Authorization: Bearer ...` header (scheme case-insensitive, RFC 6750).
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || Error::Unauthorized("send Authorization: Bearer <token>".into());
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, secret) = value.split_once(' ').ok_or_else(missing)?;
    let secret = secret.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
        return Err(missing().into());
    }
    Ok(secret.to_owned())
}
