//! The one error type every handler returns. It maps domain and store errors to an HTTP status and a
//! stable, documented error code in one place, and never puts internal details (SQL, paths) in the body.
//!
//! Body shape, for every error of the API:
//! `{"error":{"code":"invalid","message":"…","field":"code","details":[{"field":…,"message":…}]}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use taishi_model::FieldError;
use taishi_store::StoreError;

/// What went wrong while answering a request. Each variant has one stable code (see [`AppError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session cookie or bearer token.
    #[error("authentication required")]
    Unauthenticated,
    /// Login name or password wrong (deliberately not saying which).
    #[error("wrong login name or password")]
    InvalidCredentials,
    /// Authenticated, but the role does not allow this here.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or lies outside the caller's subtree (the two are not told apart).
    #[error("{0} not found")]
    NotFound(String),
    /// A duplicate code, identity or name.
    #[error("{0}")]
    Conflict(String),
    /// A rule of the registry refuses the change (a cycle, deleting an org that still owns things).
    #[error("{0}")]
    Refused(String),
    /// One or more fields are invalid.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The request could not be read: bad JSON, bad query string, unknown field.
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The offending field when it is known.
        field: Option<String>,
    },
    /// The request body is larger than the configured limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// Too many failed logins; retry after this many seconds.
    #[error("too many failed logins, retry in {0} s")]
    RateLimited(u64),
    /// The database could not be reached.
    #[error("service unavailable, retry later")]
    Unavailable,
    /// Anything unexpected; details go to the log, not to the client.
    #[error("internal error")]
    Internal(String),
}

/// The error object inside the body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorObject {
    /// Stable machine-readable code: `unauthenticated`, `invalid_credentials`, `forbidden`, `not_found`,
    /// `conflict`, `refused`, `invalid`, `bad_request`, `payload_too_large`, `rate_limited`, `unavailable`,
    /// `internal`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The field the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field, for `invalid`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorObject,
}

impl AppError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Refused(_) => "refused",
            AppError::Invalid(_) => "invalid",
            AppError::BadRequest { .. } => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RateLimited(_) => "rate_limited",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::Refused(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 403 with a reason.
    pub fn forbidden(why: impl Into<String>) -> Self {
        AppError::Forbidden(why.into())
    }

    /// A 404 for `what` (e.g. `org 12`).
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }

    /// A 422 for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A 400 about one field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    fn body(&self) -> ErrorBody {
        let (field, details) = match self {
            AppError::Invalid(v) => (v.first().map(|f| f.field.clone()), v.clone()),
            AppError::BadRequest { field, .. } => (field.clone(), Vec::new()),
            _ => (None, Vec::new()),
        };
        let message = match self {
            AppError::Invalid(v) => v
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorObject {
                code: self.code(),
                message,
                field,
                details,
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), detail = ?self, "Request failed.");
        }
        let retry = match self {
            AppError::RateLimited(s) => Some(s),
            _ => None,
        };
        let mut resp = (status, Json(self.body())).into_response();
        if let Some(s) = retry
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, key } => {
                AppError::NotFound(format!("{entity} {key}").trim().to_owned())
            }
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(v) => AppError::Invalid(v),
            StoreError::Rejected(problems) => AppError::Invalid(
                problems
                    .iter()
                    .map(|p| FieldError::new(p.field.clone(), p.to_string()))
                    .collect(),
            ),
            StoreError::Refused(m) => AppError::Refused(m),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "Store unavailable.");
                AppError::Unavailable
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status_and_code() {
        let cases = [
            (AppError::Unauthenticated, 401, "unauthenticated"),
            (AppError::InvalidCredentials, 401, "invalid_credentials"),
            (AppError::forbidden("x"), 403, "forbidden"),
            (AppError::not_found("org 1"), 404, "not_found"),
            (AppError::Conflict("dup".into()), 409, "conflict"),
            (AppError::Refused("cycle".into()), 409, "refused"),
            (AppError::invalid("code", "bad"), 422, "invalid"),
            (AppError::bad_field("limit", "bad"), 400, "bad_request"),
            (AppError::PayloadTooLarge, 413, "payload_too_large"),
            (AppError::RateLimited(5), 429, "rate_limited"),
            (AppError::Unavailable, 503, "unavailable"),
            (AppError::Internal("boom".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status, "{code}");
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn body_names_the_field_and_hides_internals() {
        let b =
            serde_json::to_value(AppError::invalid("code", "must not be empty").body()).unwrap();
        assert_eq!(b["error"]["code"], "invalid");
        assert_eq!(b["error"]["field"], "code");
        assert_eq!(b["error"]["details"][0]["message"], "must not be empty");
        let b = serde_json::to_value(AppError::Internal("SELECT secret".into()).body()).unwrap();
        assert_eq!(b["error"]["message"], "internal error");
    }

    #[test]
    fn store_errors_map_to_codes() {
        assert_eq!(
            AppError::from(StoreError::not_found("org", 3)).code(),
            "not_found"
        );
        assert_eq!(
            AppError::from(StoreError::Conflict("x".into())).code(),
            "conflict"
        );
        assert_eq!(
            AppError::from(StoreError::Unavailable("x".into())).code(),
            "unavailable"
        );
        assert_eq!(
            AppError::from(StoreError::Database("x".into())).code(),
            "internal"
        );
    }
}
