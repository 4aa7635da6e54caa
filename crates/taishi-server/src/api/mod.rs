//! The REST API under `/api/v1`: one module per resource, short handlers that check the caller with
//! [`scope`] and call the store. No SQL here.

pub mod assets;
pub mod attribution;
pub mod audit;
pub mod bulletins;
pub mod extract;
pub mod findings;
pub mod loopctx;
pub mod meta;
pub mod notices;
pub mod orgs;
pub mod scope;
pub mod scores;
pub mod session;
pub mod software;
pub mod tokens;
pub mod users;

use crate::error::{AppError, AppResult};
use taishi_model::Page;

/// Turns the `limit`/`after` query parameters into a [`Page`], refusing limits out of range.
pub fn page(limit: Option<u32>, after: Option<i64>) -> AppResult<Page> {
    let limit = limit.unwrap_or(50);
    if limit == 0 || limit > Page::MAX_LIMIT {
        return Err(AppError::bad_field(
            "limit",
            format!("limit must be 1 to {}", Page::MAX_LIMIT),
        ));
    }
    Ok(Page { limit, after })
}
