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

/// The whole HTTP application over `state`: every route of [`routes::table`], with request logging,
/// metrics, the body limit, security headers and a JSON 404 for unknown paths.
pub fn router(state: AppState) -> Router {
    let limit = state.options().body_limit;
    // Install the metrics recorder before the first request is counted.
    observe::prometheus();
    let mut r = Router::new();
    for spec in routes::table() {
        r = r.route(spec.path, (spec.handler)());
    }
    r.fallback(|| async { AppError::not_found("route") })
        .layer(axum::middleware::from_fn(observe::track))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
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
