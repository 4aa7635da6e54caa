//! Endpoints about the server itself: health, metrics and the OpenAPI document. They take no caller:
//! health and metrics serve probes and Prometheus, the document describes the API to anyone.

use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Answer of `/healthz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the store answers.
    pub status: &'static str,
    /// Store backend (`sqlite` or `postgres`).
    pub store: &'static str,
    /// taishi version.
    pub version: &'static str,
}

/// Liveness and readiness: 200 when the store answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> AppResult<Json<Health>> {
    state.store().ping().await.map_err(|e| {
        tracing::warn!(error = %e, "Health check failed.");
        AppError::Unavailable
    })?;
    Ok(Json(Health {
        status: "ok",
        store: state.store().backend(),
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics() -> Response {
    let body = crate::observe::prometheus().render();
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// This API's OpenAPI 3 document, generated from the handlers' annotations.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, content_type = "application/json")))]
pub async fn openapi() -> Response {
    let doc = crate::openapi::document();
    Json(doc).into_response()
}
