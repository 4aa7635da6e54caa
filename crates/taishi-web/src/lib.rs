//! taishi's web console: server-rendered pages (askama templates, auto-escaped) over the same
//! authentication, scoping and store as the REST API.
//!
//! [`router`] builds the console's routes over the server's [`AppState`]; the binary merges it with the
//! API router. Every signed-in page takes a [`ctx::Ctx`], which runs the server's own `Caller`
//! extractor, so the console can never show what the API would refuse: one implementation of scoping,
//! not two. Forms are read through [`ctx::Posted`], which refuses a missing or wrong CSRF token.
//!
//! Design choices:
//! - No Node build step and no front-end framework: hand-written CSS and a few lines of plain
//!   JavaScript, embedded in the binary ([`security::static_file`]) and cached for a year.
//! - Charts are inline SVG drawn on the server ([`svg`]), so pages render without script and print well.
//! - Zh-CN and English catalogues ([`i18n`]) are TOML files embedded at build and parsed once; each
//!   request gets a translator for its language (cookie, else `Accept-Language`). No global locale.
//! - A strict Content-Security-Policy ([`security::CSP`]): scripts, styles and images only from this
//!   origin, no inline script, no framing.

pub mod ctx;
pub mod error;
pub mod i18n;
pub mod layout;
pub mod pages;
pub mod security;
pub mod svg;

use axum::Router;
use axum::routing::{get, post};
use ctx::WebState;
use std::sync::Arc;
use taishi_server::AppState;

/// The console's routes over `state`, with the security headers on every response. It sets no
/// fallback, so it merges with the API router (whose fallback answers unknown paths).
pub fn router(state: AppState) -> Router {
    // The catalogues are part of the binary; a broken one fails the test suite, never a request.
    let cats =
        i18n::Catalogues::embedded().unwrap_or_else(|e| panic!("embedded message catalogue: {e}"));
    let baseline = Arc::new(pages::admin::Baseline::of(state.loop_service()));
    let web = WebState {
        app: state,
        cats: Arc::new(cats),
        tz: i18n::default_zone(),
        static_version: security::static_version().into(),
        baseline,
    };
    let upload = taishi_server::upload_body_limit(web.app.loop_service().attachment_policy());
    routes()
        .merge(admin_and_upload_routes(upload))
        .layer(axum::middleware::from_fn(security::harden))
        .with_state(web)
}

/// Administration, and the rectification upload with its own body limit (the loop's attachment limit;
/// the console's other forms are read with [`ctx::FORM_LIMIT`]).
fn admin_and_upload_routes(upload_limit: usize) -> Router<WebState> {
    use pages::admin::{channels, config, tokens, users};
    use pages::notices;
    Router::new()
        .route("/admin", get(pages::admin::index))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}", post(users::change))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route(
            "/admin/policy",
            get(config::policy).post(config::edit_policy),
        )
        .route(
            "/admin/indicators",
            get(config::indicators).post(config::edit_indicators),
        )
        .route("/admin/channels", get(channels::list).post(channels::act))
        .route(
            "/notices/{id}/rectify",
            post(notices::rectify).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/notices/{id}/attachments/{att}", get(notices::attachment))
}

fn routes() -> Router<WebState> {
    use pages::*;
    Router::new()
        .route("/static/{name}", get(security::static_file))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::set_lang))
        .route(
            "/password",
            get(auth::password_form).post(auth::change_password),
        )
        .route("/", get(dashboard::dashboard))
        .route("/screen", get(dashboard::screen))
        .route("/orgs", get(orgs::tree))
        .route("/orgs/{id}", get(orgs::org))
        .route("/assets", get(assets::list))
        .route("/assets/{id}", get(assets::asset))
        .route("/findings", get(findings::list))
        .route("/findings/bulk", post(findings::bulk))
        .route("/findings/{id}", get(findings::finding))
        .route("/bulletins", get(bulletins::list).post(bulletins::generate))
        .route("/bulletins/{id}", get(bulletins::download))
        .route("/bulletins/{id}/view", get(bulletins::view))
        .route("/bulletins/{id}/frame", get(bulletins::frame))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::alert))
        .route("/rankings", get(rankings::list))
        .route("/rankings/{org}", get(rankings::org_score))
        .route("/notices", get(notices::list))
        .route("/notices/{id}", get(notices::notice))
        .route("/notices/{id}/act", post(notices::act))
}
