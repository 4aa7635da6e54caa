//! taishi's HTTP server: the REST API under `/api/v1`, authentication (password login with session
//! cookies, bearer tokens for machines), authorisation by role and org subtree, OpenAPI, health and
//! Prometheus metrics.
//!
//! Build a router with [`router`] over an [`AppState`] (a store and [`ServerOptions`]), then run it with
//! [`launch::serve`]. Handlers never build SQL: they check the [`Caller`] against [`policy`] and call the
//! store. The route table in [`routes`] is the single list of routes, walked by the tests.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn taishi_store::Store>) -> Result<(), Box<dyn std::error::Error>> {
//! let app = taishi_server::router(taishi_server::AppState::new(store, Default::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! taishi_server::launch::serve(listener, app, None, taishi_server::launch::shutdown_signal()).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod bootstrap;
mod error;
pub mod launch;
mod observe;
mod openapi;
pub mod policy;
pub mod routes;
mod state;
pub mod sweeper;

pub use auth::caller::{Caller, Principal};
pub use error::{AppError, AppResult, ErrorBody, ErrorObject};
pub use openapi::document as openapi_document;
pub use state::{AppState, ClockFn, ServerOptions};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::LatencyUnit;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Routes that take file uploads. Their body limit is [`upload_body_limit`] of the loop's attachment
/// policy; every other route keeps [`ServerOptions::body_limit`].
pub const UPLOAD_ROUTES: &[&str] = &["/api/v1/notices/{id}/rectifications"];

/// Room for the multipart framing and the text fields of an upload, on top of its files.
pub const UPLOAD_FRAMING: usize = 256 * 1024;

/// The body limit of an upload route: the attachment size limit (so one request carries at most that
/// much file content in total) plus [`UPLOAD_FRAMING`].
pub fn upload_body_limit(p: &taishi_loop::AttachmentPolicy) -> usize {
    usize::try_from(p.max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(UPLOAD_FRAMING)
}

/// The whole HTTP application over `state`: every route of [`routes::table`], with request logging,
/// metrics, the body limits (per route: uploads have their own), security headers and a JSON 404 for
/// unknown paths.
pub fn router(state: AppState) -> Router {
    let limit = state.options().body_limit;
    let upload = upload_body_limit(state.loop_service().attachment_policy());
    // Install the metrics recorder before the first request is counted.
    observe::prometheus();
    let mut r = Router::new();
    let mut uploads = Router::new();
    for spec in routes::table() {
        if UPLOAD_ROUTES.contains(&spec.path) {
            uploads = uploads.route(spec.path, (spec.handler)());
        } else {
            r = r.route(spec.path, (spec.handler)());
        }
    }
    let uploads = uploads
        .layer(DefaultBodyLimit::max(upload))
        .layer(RequestBodyLimitLayer::new(upload));
    r.layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .merge(uploads)
        .fallback(|| async { AppError::not_found("route") })
        .layer(axum::middleware::from_fn(observe::track))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .with_state(state)
}
