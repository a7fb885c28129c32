//! Reading requests: the JSON body (media type and syntax checked, errors as SCIM errors), the
//! query parameters SCIM defines (names matched case-insensitively, as clients vary), headers,
//! and the base URL that `meta.location` and `$ref` are built from.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use scim_core::Error;
use serde_json::Value;

use crate::error::ApiError;

/// Parses a request body as JSON. A missing `Content-Type` is accepted; any other media type
/// than `application/scim+json` or `application/json` is 415.
pub fn json_body(req: &HttpRequest, body: &[u8]) -> Result<Value, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let media = ct.split(';').next().unwrap_or_default().trim();
        if media != "application/scim+json" && media != "application/json" {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    if body.is_empty() {
        return Err(Error::InvalidSyntax("the request body is empty".into()).into());
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::InvalidSyntax(format!("the request body is not valid JSON: {e}")).into()
    })
}

/// The query parameters of a request.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes the query string.
    pub fn of(req: &HttpRequest) -> Result<Params, ApiError> {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| Params(q.into_inner()))
            .map_err(|e| Error::InvalidSyntax(format!("malformed query string: {e}")).into())
    }

    /// The value of a parameter, its name compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// An integer parameter; garbage is `invalidValue` rather than silently ignored.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    Error::InvalidValue(format!("the parameter '{name}' must be an integer")).into()
                })
            })
            .transpose()
    }
}

/// A header as text.
pub fn header(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `scheme://host/scim/v2`, as the client addressed us.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/scim/v2", info.scheme(), info.host())
}
