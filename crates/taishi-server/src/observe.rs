//! Prometheus metrics: a process-wide recorder, a middleware counting requests and timing them per
//! route, and the text rendering served at `/metrics`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Histogram buckets for request durations, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide Prometheus handle, installing the recorder on first use. If another recorder was
/// installed first (a test harness), metrics still render, only without our series.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "A metrics recorder was already installed; /metrics shows only its own series."
            );
        }
        metrics::describe_counter!(
            "taishi_http_requests_total",
            "HTTP requests answered, by method, route and status."
        );
        metrics::describe_histogram!(
            "taishi_http_request_duration_seconds",
            metrics::Unit::Seconds,
            "Time to answer HTTP requests, by method and route."
        );
        handle
    })
}

/// Middleware: counts every request and records its duration under its route template (never the raw
/// path, so ids do not explode the label set).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("taishi_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("taishi_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
