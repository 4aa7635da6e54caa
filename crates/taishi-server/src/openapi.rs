//! The OpenAPI 3 document of the API, generated from the handlers' `#[utoipa::path]` annotations and
//! the model's schemas. A test checks that it lists exactly the routes of [`crate::routes::table`].

use crate::api::observations;
use crate::api::{
    assets, attribution, audit, bulletins, findings, meta, notices, orgs, scores, session,
    software, tokens, users,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "taishi API",
        description = "Registry of the supervised org tree and its assets, users, tokens and audit log. \
            Authenticate with the session cookie from POST /api/v1/auth/login or `Authorization: Bearer tsk_…`. \
            Errors are `{\"error\":{\"code\",\"message\",\"field\"}}` with stable codes."
    ),
    paths(
        meta::healthz, meta::metrics, meta::openapi,
        session::login, session::logout, session::whoami, session::change_password,
        orgs::list, orgs::create, orgs::tree, orgs::get, orgs::update, orgs::delete, orgs::move_org,
        assets::list, assets::create, assets::get, assets::update, assets::delete,
        assets::list_software, assets::add_software,
        observations::list, observations::asset_availability, observations::orgs_availability,
        software::list, software::get, software::delete,
        attribution::lookup,
        users::list, users::create, users::get, users::update, users::delete, users::reset_password,
        tokens::list, tokens::create, tokens::get, tokens::revoke,
        audit::list,
        findings::list, findings::bulk, findings::get, findings::false_positive, findings::accept_risk,
        notices::list, notices::create, notices::sweep, notices::get, notices::issue,
        notices::acknowledge, notices::submit, notices::verify, notices::return_notice,
        notices::cancel, notices::attachment,
        crate::api::extensions::request, crate::api::extensions::grant,
        crate::api::extensions::refuse, crate::api::extensions::extend,
        scores::list, scores::get,
        bulletins::generate, bulletins::list, bulletins::download,
    ),
    tags(
        (name = "auth", description = "Login, logout, who am I"),
        (name = "orgs", description = "The supervised org tree"),
        (name = "assets", description = "Websites, domains, addresses, ranges and systems"),
        (name = "software", description = "Software inventory"),
        (name = "observations", description = "Probe check runs and availability"),
        (name = "attribution", description = "Which org owns an address or host"),
        (name = "users", description = "User accounts"),
        (name = "tokens", description = "Machine API tokens"),
        (name = "audit", description = "The append-only audit log"),
        (name = "findings", description = "Problems found by probes, detections and warnings"),
        (name = "notices", description = "Notices (通报), rectification and verification"),
        (name = "scores", description = "Indicator scores and rankings"),
        (name = "bulletins", description = "Periodic bulletins and their archive"),
        (name = "meta", description = "Health, metrics, this document"),
    )
)]
struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
