//! Request extractors whose rejections are [`AppError`]s, so a malformed body, query or path gets the
//! same JSON error shape (and a field name where serde gives one) as every other error.

use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body; unknown fields are rejected by the target types (`deny_unknown_fields`).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// A query string.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

/// Path parameters.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

/// The name between backticks after `field ` in a serde message (`unknown field `colour``).
fn field_of(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(json_error(r)),
        }
    }
}

fn json_error(r: JsonRejection) -> AppError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge;
    }
    let message = match &r {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a body with Content-Type: application/json".into()
        }
        other => other.body_text(),
    };
    AppError::BadRequest {
        field: field_of(&message),
        message,
    }
}

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(query_error(r)),
        }
    }
}

fn query_error(r: QueryRejection) -> AppError {
    let message = r.body_text();
    AppError::BadRequest {
        field: field_of(&message),
        message,
    }
}

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(r) => Err(path_error(r)),
        }
    }
}

fn path_error(r: PathRejection) -> AppError {
    AppError::bad_field("id", r.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_in_serde_messages() {
        assert_eq!(
            field_of("unknown field `colour`, expected one of `code`").as_deref(),
            Some("colour")
        );
        assert_eq!(
            field_of("missing field `name` at line 1").as_deref(),
            Some("name")
        );
        assert_eq!(field_of("expected value at line 1 column 2"), None);
    }
}
