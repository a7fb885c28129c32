//! The single place where failures become HTTP: every error is an RFC 7644 §3.12 body with
//! `status` as a string and `Content-Type: application/scim+json`. Internal causes are logged,
//! never sent.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// The SCIM media type of every response.
pub const SCIM_JSON: &str = "application/scim+json";
/// RFC 7644 §3.12 error message URN.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A failure of a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// An outcome of the SCIM core or the store.
    #[error(transparent)]
    Scim(#[from] scim_core::Error),
    /// The request's media type is not JSON.
    #[error(
        "unsupported media type: send application/scim+json or application/json (text/csv for imports)"
    )]
    UnsupportedMediaType,
    /// A blocking task was cancelled (the server is shutting down).
    #[error("the request was cancelled")]
    Cancelled,
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::Cancelled
    }
}

/// Renders an error body.
pub fn body(status: u16, scim_type: Option<String>, detail: &str) -> serde_json::Value {
    let mut v = json!({"schemas": [ERROR_URN], "status": status.to_string(), "detail": detail});
    if let (Some(t), Some(obj)) = (scim_type, v.as_object_mut()) {
        obj.insert("scimType".into(), json!(t));
    }
    v
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        let code = match self {
            ApiError::Scim(e) => e.status(),
            ApiError::UnsupportedMediaType => 415,
            ApiError::Cancelled => 503,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let status = self.status_code();
        let (scim_type, detail) = match self {
            ApiError::Scim(e) => {
                if let scim_core::Error::Internal(cause) | scim_core::Error::Unavailable(cause) = e
                {
                    tracing::error!(error = %cause, status = status.as_u16(), "request failed");
                }
                (e.scim_type().map(|t| t.to_string()), e.detail())
            }
            other => (None, other.to_string()),
        };
        let mut resp = HttpResponse::build(status);
        resp.content_type(SCIM_JSON);
        if status == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim\""));
        }
        if let ApiError::Scim(scim_core::Error::RateLimited(wait)) = self {
            let secs = scim_core::error::retry_after_secs(*wait);
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.insert_header((header::RETRY_AFTER, "1"));
        }
        resp.body(crate::response::text(&body(
            status.as_u16(),
            scim_type,
            &detail,
        )))
    }
}

/// Rewrites errors produced by actix itself (unknown route, wrong method, oversized payload,
/// malformed query) into SCIM error bodies; responses already in SCIM form pass through.
pub fn framework_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_scim = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(SCIM_JSON.as_bytes()));
    if is_scim {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = match status.as_u16() {
        404 => "no such endpoint or resource",
        405 => "this method is not supported on this endpoint",
        413 => "the request body is larger than the server accepts",
        _ => status.canonical_reason().unwrap_or("request failed"),
    };
    let (req, mut resp) = res.into_parts();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    let resp = resp.set_body(crate::response::text(&body(status.as_u16(), None, detail)));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, resp.map_into_boxed_body()).map_into_right_body(),
    ))
}
