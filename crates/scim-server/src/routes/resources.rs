//! `/Users` and `/Groups`: create, read, replace, delete and list (RFC 7644 §3.3–3.6). Each
//! handler authenticates, reads the request, and runs the core operation on a blocking thread.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::Error;
use scim_core::projection::Projection;
use scim_core::resources::{ListRequest, Service};
use scim_core::schema::ResourceKind;
use scim_core::store::Store;

use crate::auth::{self, Caller, Principal};
use crate::error::ApiError;
use crate::request::{Params, base_url, header as header_of, json_body};
use crate::response::{self, scim_json};
use crate::state::AppState;
use crate::token;

fn kind_of(segment: &str) -> Result<ResourceKind, ApiError> {
    match segment {
        "Users" => Ok(ResourceKind::User),
        "Groups" => Ok(ResourceKind::Group),
        _ => Err(Error::NotFound("no such endpoint".into()).into()),
    }
}

/// Authenticates the caller and runs a core operation for its tenant, both in one trip to the
/// blocking pool.
async fn with_service<S: Store, T: Send + 'static>(
    state: &web::Data<AppState<S>>,
    caller: Caller,
    base: String,
    op: impl FnOnce(&Service<'_, S>) -> scim_core::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    let result = web::block(move || {
        let principal = auth::resolve(&state, &caller)?;
        operate(&state, &principal, &base, op)
    })
    .await?;
    Ok(result?)
}

/// A core operation for an already authenticated caller's tenant (blocking).
fn operate<S: Store, T>(
    state: &AppState<S>,
    principal: &Principal,
    base: &str,
    op: impl FnOnce(&Service<'_, S>) -> scim_core::Result<T>,
) -> scim_core::Result<T> {
    let registry = state.registry_of(principal)?;
    let service = Service {
        store: &state.store,
        tenant: &principal.tenant,
        registry: &registry,
        clock: state.clock.as_ref(),
        base_url: base,
        paging: state.caps.paging,
        limits: state.limits,
        actor: &principal.actor,
    };
    op(&service)
}

/// `attributes` and `excludedAttributes` as sent; parsed inside the operation, against the
/// tenant's own schemas.
struct Wanted {
    attributes: Option<String>,
    excluded: Option<String>,
}

impl Wanted {
    fn of(params: &Params) -> Wanted {
        Wanted {
            attributes: params.get("attributes").map(str::to_owned),
            excluded: params.get("excludedAttributes").map(str::to_owned),
        }
    }

    /// Only the id: a minimal answer needs no members list, however large the group.
    fn id() -> Wanted {
        Wanted {
            attributes: Some("id".into()),
            excluded: None,
        }
    }

    fn parse<S: Store>(&self, service: &Service<'_, S>) -> scim_core::Result<Projection> {
        service.projection(self.attributes.as_deref(), self.excluded.as_deref())
    }
}

/// `POST /Users`, `POST /Groups`
pub async fn create<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&path)?;
    let caller = Caller::of(&req, token::WRITE)?;
    let body = json_body(&req, &body)?;
    let wanted = Wanted::of(&Params::of(&req)?);
    let out = with_service(&state, caller, base_url(&req), move |s| {
        s.create(kind, body, &wanted.parse(s)?)
    })
    .await?;
    Ok(response::resource(StatusCode::CREATED, out))
}

/// `GET /Users/{id}`, `GET /Groups/{id}`; `If-None-Match` naming the current version gives 304.
pub async fn get<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let kind = kind_of(&kind)?;
    let caller = Caller::of(&req, token::READ)?;
    let wanted = Wanted::of(&Params::of(&req)?);
    let out = with_service(&state, caller, base_url(&req), move |s| {
        s.get(kind, &id, &wanted.parse(s)?)
    })
    .await?;
    if let Some(tags) = header_of(&req, header::IF_NONE_MATCH)
        && tags
            .split(',')
            .map(str::trim)
            .any(|t| t == out.etag || t == "*")
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, out.etag))
            .finish());
    }
    Ok(response::resource(StatusCode::OK, out))
}

/// `PUT /Users/{id}`, `PUT /Groups/{id}`
pub async fn replace<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let kind = kind_of(&kind)?;
    let caller = Caller::of(&req, token::WRITE)?;
    let body = json_body(&req, &body)?;
    let wanted = Wanted::of(&Params::of(&req)?);
    let if_match = header_of(&req, header::IF_MATCH).map(str::to_owned);
    let out = with_service(&state, caller, base_url(&req), move |s| {
        s.replace(kind, &id, body, if_match.as_deref(), &wanted.parse(s)?)
    })
    .await?;
    Ok(response::resource(StatusCode::OK, out))
}

/// `PATCH /Users/{id}`, `PATCH /Groups/{id}`: 200 with the resource, or 204, as RFC 7644
/// §3.5.2 allows either. A User is returned unless the client sends `Prefer: return=minimal`
/// (RFC 7240). A Group answers 204 unless the client asks for a representation (`attributes`
/// or `excludedAttributes`, or `Prefer: return=representation`): membership changes are what
/// Groups are patched for, Microsoft Entra ID and Okta expect 204, and returning every member
/// would make adding one to a group of 100,000 cost as much as reading the whole group.
pub async fn patch<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let kind = kind_of(&kind)?;
    let caller = Caller::of(&req, token::WRITE)?;
    let body = json_body(&req, &body)?;
    let params = Params::of(&req)?;
    let prefer = |what: &str| {
        header_of(&req, header::HeaderName::from_static("prefer"))
            .is_some_and(|p| p.split(',').any(|p| p.trim().eq_ignore_ascii_case(what)))
    };
    let projected =
        params.get("attributes").is_some() || params.get("excludedAttributes").is_some();
    let minimal = match kind {
        ResourceKind::User => prefer("return=minimal"),
        ResourceKind::Group => {
            prefer("return=minimal") || !(projected || prefer("return=representation"))
        }
    };
    let wanted = if minimal {
        Wanted::id()
    } else {
        Wanted::of(&params)
    };
    let if_match = header_of(&req, header::IF_MATCH).map(str::to_owned);
    let out = with_service(&state, caller, base_url(&req), move |s| {
        s.patch(kind, &id, body, if_match.as_deref(), &wanted.parse(s)?)
    })
    .await?;
    if minimal {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ETAG, out.etag))
            .finish());
    }
    Ok(response::resource(StatusCode::OK, out))
}

/// `DELETE /Users/{id}`, `DELETE /Groups/{id}`
pub async fn delete<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let kind = kind_of(&kind)?;
    let caller = Caller::of(&req, token::WRITE)?;
    let if_match = header_of(&req, header::IF_MATCH).map(str::to_owned);
    with_service(&state, caller, base_url(&req), move |s| {
        s.delete(kind, &id, if_match.as_deref())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /Users`, `GET /Groups`
pub async fn list<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&path)?;
    let caller = Caller::of(&req, token::READ)?;
    let params = Params::of(&req)?;
    let request = ListRequest {
        filter: params.get("filter").map(str::to_owned),
        start_index: params.int("startIndex")?,
        count: params.int("count")?,
        attributes: params.get("attributes").map(str::to_owned),
        excluded_attributes: params.get("excludedAttributes").map(str::to_owned),
        sort_by: params.get("sortBy").map(str::to_owned),
        sort_order: params.get("sortOrder").map(str::to_owned),
        cursor: params.get("cursor").map(str::to_owned),
    };
    let body = with_service(&state, caller, base_url(&req), move |s| {
        s.list(kind, &request)
    })
    .await?;
    Ok(scim_json(body))
}

/// `POST /Users/.search`, `POST /Groups/.search` and `POST /.search` (RFC 7644 §3.4.3): the
/// same query as GET, read from a SearchRequest body so filters stay out of URLs and logs.
pub async fn search<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let kind = match req.match_info().get("kind") {
        Some(k) => Some(kind_of(k)?),
        None => None,
    };
    let caller = Caller::of(&req, token::READ)?;
    let request = search_request(json_body(&req, &body)?)?;
    let body = with_service(&state, caller, base_url(&req), move |s| match kind {
        Some(kind) => s.list(kind, &request),
        None => s.search_all(&request),
    })
    .await?;
    Ok(scim_json(body))
}

/// Reads a SearchRequest (RFC 7644 §3.4.3).
fn search_request(body: serde_json::Value) -> Result<ListRequest, ApiError> {
    const URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    let obj = scim_core::message::envelope(body, URN, "SearchRequest")?;
    let get = |name: &str| scim_core::message::field(&obj, name);
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::InvalidValue(format!("'{name}' must be a string")).into()),
        }
    };
    let list = |name: &str| -> Result<Option<String>, ApiError> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_owned).ok_or_else(|| {
                        ApiError::from(Error::InvalidValue(format!("'{name}' must list strings")))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| Some(v.join(","))),
            Some(_) => Err(Error::InvalidValue(format!("'{name}' must be an array")).into()),
        }
    };
    let int = |name: &str| -> Result<Option<i64>, ApiError> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| Error::InvalidValue(format!("'{name}' must be an integer")).into()),
        }
    };
    Ok(ListRequest {
        filter: text("filter")?,
        start_index: int("startIndex")?,
        count: int("count")?,
        attributes: list("attributes")?,
        excluded_attributes: list("excludedAttributes")?,
        sort_by: text("sortBy")?,
        sort_order: text("sortOrder")?,
        cursor: text("cursor")?,
    })
}

/// `POST /Bulk` (RFC 7644 §3.7).
pub async fn bulk<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // Authenticated before waiting for a turn, so that requests without a valid token cannot
    // queue ahead of a connector's; the turn is taken before the body is parsed, so a waiting
    // request holds only its bytes. The bulk runs on a lane of its own (`bulk_lanes`).
    let principal = auth::require(&state, &req, token::WRITE).await?;
    let turn = state.bulk_lanes.turn().await?;
    let body = json_body(&req, &body)?;
    let limits = state.caps.bulk;
    let base = base_url(&req);
    let shared = state.clone();
    let body = state
        .bulk_lanes
        .run(turn, move || {
            operate(&shared, &principal, &base, |s| {
                scim_core::bulk::run(s, body, &limits)
            })
        })
        .await??;
    Ok(scim_json(body))
}

/// `POST /admin/v1/import` (`admin` scope): the CSV import of `scim-server import` over HTTP,
/// with `?dryRun=true`; answers 200 with the report whether or not rows failed.
pub async fn import<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = Caller::of(&req, token::ADMIN)?;
    if let Some(ct) = header_of(&req, header::CONTENT_TYPE) {
        let media = ct.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("text/csv") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let params = Params::of(&req)?;
    let dry_run = params
        .get("dryRun")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let report = with_service(&state, caller, base_url(&req), move |s| {
        scim_core::import::import(s, &body[..], dry_run, |_| {})
    })
    .await?;
    let body = serde_json::to_value(&report).map_err(scim_core::Error::internal)?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /admin/v1/audit?resource=ID&since=TIME&count=N` (`admin` scope): the tenant's audit
/// trail, oldest first.
pub async fn audit<S: Store>(
    state: web::Data<AppState<S>>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = Caller::of(&req, token::ADMIN)?;
    let params = Params::of(&req)?;
    let resource = params.get("resource").map(str::to_owned);
    let since = params.get("since").map(str::to_owned);
    let count = params
        .int("count")?
        .map_or(1000, |c| u64::try_from(c).unwrap_or(0))
        .min(10_000);
    let events = with_service(&state, caller, base_url(&req), move |s| {
        s.audit_trail(resource.as_deref(), since.as_deref(), count)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "events": events })))
}
