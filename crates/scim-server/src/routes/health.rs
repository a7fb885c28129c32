//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers); no auth.

use actix_web::{HttpResponse, web};
use scim_core::store::Store;

use crate::error::ApiError;
use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database is reachable and the server is not shutting down.
pub async fn readyz<S: Store>(state: web::Data<AppState<S>>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(serde_json::json!({"status": "draining"})));
    }
    let store = state.store.clone();
    web::block(move || store.ping()).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

/// `GET /metrics`, on the `--metrics-listen` address only (see `split_listeners`).
pub async fn metrics<S: Store>(state: web::Data<AppState<S>>) -> Result<HttpResponse, ApiError> {
    // Served only on the metrics listener, which exists only with the metrics.
    let Some(metrics) = &state.metrics else {
        return Err(ApiError::from(scim_core::Error::NotFound(
            "no such endpoint".into(),
        )));
    };
    let store = state.store.clone();
    // The request and pool figures matter most when the database is gone or every connection is
    // busy: then the scrape still answers, only without the resource counts.
    let totals = match web::block(move || store.resource_totals()).await {
        Ok(Ok(totals)) => totals,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics without resource counts");
            Vec::new()
        }
        Err(e) => return Err(ApiError::from(scim_core::Error::internal(e))),
    };
    let text = metrics.render(state.store.pool_state(), &totals);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
