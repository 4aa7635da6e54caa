//! The route table: every route of the server in one list, with the access it needs. The router is
//! built from this list, and the authorisation tests walk it, so a new route that the tests do not cover
//! makes them fail.

use crate::api::observations;
use crate::api::{
    assets, attribution, audit, bulletins, findings, meta, notices, orgs, scores, session,
    software, tokens, users,
};
use crate::policy::Action;
use crate::state::AppState;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post};

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, metrics, the API document, login).
    Public,
    /// Any authenticated caller, acting on itself (logout, whoami, own password).
    Caller,
    /// An authenticated caller allowed to do this action on the target (checked by the handler).
    Act(Action),
}

/// One route: method, path template, access and the handler.
#[derive(Clone)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path template (`/api/v1/orgs/{id}`).
    pub path: &'static str,
    /// What it requires.
    pub access: Access,
    /// Builds the method router for this handler.
    pub handler: fn() -> MethodRouter<AppState>,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

macro_rules! routes {
    ($( $m:ident $method:ident $path:literal $access:expr => $handler:path; )+) => {
        vec![$( RouteSpec { method: Method::$m, path: $path, access: $access, handler: || $method($handler) }, )+]
    };
}

/// Every route the server answers.
pub fn table() -> Vec<RouteSpec> {
    use Access::{Act, Caller, Public};
    routes! {
        GET get "/healthz" Public => meta::healthz;
        GET get "/metrics" Public => meta::metrics;
        GET get "/api/v1/openapi.json" Public => meta::openapi;

        POST post "/api/v1/auth/login" Public => session::login;
        POST post "/api/v1/auth/logout" Caller => session::logout;
        GET get "/api/v1/auth/whoami" Caller => session::whoami;
        POST post "/api/v1/auth/password" Caller => session::change_password;

        GET get "/api/v1/orgs" Act(Action::ReadRegistry) => orgs::list;
        POST post "/api/v1/orgs" Act(Action::CreateOrg) => orgs::create;
        GET get "/api/v1/orgs/tree" Act(Action::ReadRegistry) => orgs::tree;
        GET get "/api/v1/orgs/{id}" Act(Action::ReadRegistry) => orgs::get;
        PATCH patch "/api/v1/orgs/{id}" Act(Action::UpdateOrg) => orgs::update;
        DELETE delete "/api/v1/orgs/{id}" Act(Action::DeleteOrg) => orgs::delete;
        POST post "/api/v1/orgs/{id}/move" Act(Action::MoveOrg) => orgs::move_org;

        GET get "/api/v1/assets" Act(Action::ReadRegistry) => assets::list;
        POST post "/api/v1/assets" Act(Action::WriteAsset) => assets::create;
        GET get "/api/v1/assets/{id}" Act(Action::ReadRegistry) => assets::get;
        PATCH patch "/api/v1/assets/{id}" Act(Action::WriteAsset) => assets::update;
        DELETE delete "/api/v1/assets/{id}" Act(Action::WriteAsset) => assets::delete;
        GET get "/api/v1/assets/{id}/software" Act(Action::ReadRegistry) => assets::list_software;
        POST post "/api/v1/assets/{id}/software" Act(Action::WriteAsset) => assets::add_software;
        GET get "/api/v1/assets/{id}/observations" Act(Action::ReadLoop) => observations::list;
        GET get "/api/v1/assets/{id}/availability" Act(Action::ReadLoop) => observations::asset_availability;
        GET get "/api/v1/availability" Act(Action::ReadLoop) => observations::orgs_availability;

        GET get "/api/v1/software" Act(Action::ReadRegistry) => software::list;
        GET get "/api/v1/software/{id}" Act(Action::ReadRegistry) => software::get;
        DELETE delete "/api/v1/software/{id}" Act(Action::WriteAsset) => software::delete;

        GET get "/api/v1/attribution" Act(Action::ReadRegistry) => attribution::lookup;

        GET get "/api/v1/users" Act(Action::ReadUsers) => users::list;
        POST post "/api/v1/users" Act(Action::ManageUsers) => users::create;
        GET get "/api/v1/users/{id}" Act(Action::ReadUsers) => users::get;
        PATCH patch "/api/v1/users/{id}" Act(Action::ManageUsers) => users::update;
        DELETE delete "/api/v1/users/{id}" Act(Action::ManageUsers) => users::delete;
        POST post "/api/v1/users/{id}/password" Act(Action::ManageUsers) => users::reset_password;

        GET get "/api/v1/tokens" Act(Action::ReadTokens) => tokens::list;
        POST post "/api/v1/tokens" Act(Action::ManageTokens) => tokens::create;
        GET get "/api/v1/tokens/{id}" Act(Action::ReadTokens) => tokens::get;
        POST post "/api/v1/tokens/{id}/revoke" Act(Action::ManageTokens) => tokens::revoke;

        GET get "/api/v1/audit" Act(Action::ReadAudit) => audit::list;

        GET get "/api/v1/findings" Act(Action::ReadLoop) => findings::list;
        POST post "/api/v1/findings/bulk" Act(Action::TriageFinding) => findings::bulk;
        GET get "/api/v1/findings/{id}" Act(Action::ReadLoop) => findings::get;
        POST post "/api/v1/findings/{id}/false-positive" Act(Action::TriageFinding) => findings::false_positive;
        POST post "/api/v1/findings/{id}/accept-risk" Act(Action::TriageFinding) => findings::accept_risk;

        GET get "/api/v1/notices" Act(Action::ReadLoop) => notices::list;
        POST post "/api/v1/notices" Act(Action::ManageNotice) => notices::create;
        POST post "/api/v1/notices/sweep" Act(Action::ManageNotice) => notices::sweep;
        GET get "/api/v1/notices/{id}" Act(Action::ReadLoop) => notices::get;
        POST post "/api/v1/notices/{id}/issue" Act(Action::ManageNotice) => notices::issue;
        POST post "/api/v1/notices/{id}/acknowledge" Act(Action::RespondNotice) => notices::acknowledge;
        POST post "/api/v1/notices/{id}/rectifications" Act(Action::RespondNotice) => notices::submit;
        POST post "/api/v1/notices/{id}/verify" Act(Action::ManageNotice) => notices::verify;
        POST post "/api/v1/notices/{id}/return" Act(Action::ManageNotice) => notices::return_notice;
        POST post "/api/v1/notices/{id}/cancel" Act(Action::ManageNotice) => notices::cancel;
        GET get "/api/v1/notices/{id}/attachments/{attachment}" Act(Action::ReadLoop) => notices::attachment;
        POST post "/api/v1/notices/{id}/extension/request" Act(Action::RespondNotice) => crate::api::extensions::request;
        POST post "/api/v1/notices/{id}/extension/grant" Act(Action::ManageNotice) => crate::api::extensions::grant;
        POST post "/api/v1/notices/{id}/extension/refuse" Act(Action::ManageNotice) => crate::api::extensions::refuse;
        POST post "/api/v1/notices/{id}/extend" Act(Action::ManageNotice) => crate::api::extensions::extend;

        GET get "/api/v1/scores" Act(Action::ReadLoop) => scores::list;
        GET get "/api/v1/scores/{org}" Act(Action::ReadLoop) => scores::get;

        POST post "/api/v1/bulletins" Act(Action::PublishBulletin) => bulletins::generate;
        GET get "/api/v1/orgs/{id}/bulletins" Act(Action::ReadLoop) => bulletins::list;
        GET get "/api/v1/orgs/{id}/bulletins/{bulletin}" Act(Action::ReadLoop) => bulletins::download;
    }
}
