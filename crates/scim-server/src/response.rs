//! Writing responses: `application/scim+json` bodies, `ETag` and `Location` headers.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use scim_core::resources::Output;
use serde_json::Value;

use crate::error::SCIM_JSON;

/// A 200 with a SCIM JSON body.
pub fn scim_json(body: Value) -> HttpResponse {
    HttpResponse::Ok().content_type(SCIM_JSON).body(text(&body))
}

/// A single resource with its `ETag` (and `Location` when it was just created).
pub fn resource(status: StatusCode, out: Output) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type(SCIM_JSON)
        .insert_header((header::ETAG, out.etag));
    if status == StatusCode::CREATED {
        resp.insert_header((header::LOCATION, out.location));
    }
    resp.body(text(&out.body))
}

/// A body's JSON text. Written straight into bytes: `Value::to_string` goes through
/// `fmt::Formatter` for every token, which cost a GET by id 8% of its instructions. Writing a
/// `Value` into memory cannot fail (its keys are strings); were it to, the error is logged and
/// the body left empty rather than the worker panicking.
pub(crate) fn text(body: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut out, body) {
        Ok(()) => out,
        Err(e) => {
            tracing::error!(error = %e, "a response body could not be written");
            Vec::new()
        }
    }
}
