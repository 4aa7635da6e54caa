//! The REST API under `/api/v1`: one module per resource, short handlers that check the caller with
//! [`scope`] and call the store. No SQL here.

pub mod assets;
pub mod attribution;
pub mod audit;
pub mod bulletins;
pub mod extensions;
pub mod extract;
pub mod findings;
pub mod loopctx;
pub mod meta;
pub mod notices;
pub mod observations;
pub mod orgs;
pub mod scope;
pub mod scores;
pub mod session;
pub mod software;
pub mod tokens;
pub mod users;

use crate::error::{AppError, AppResult};
use serde::Serialize;
use std::future::Future;
use taishi_model::{Page, Paged};
use taishi_store::StoreResult;

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

/// One page of a registry list (orgs, assets, software, users, tokens, the audit log).
///
/// `total` is how many items match the filter in all pages. It is counted with the same conditions as
/// the list, exactly, but only for the first page (a request without `after`): later pages carry no
/// `total`, so walking a long list costs one count, not one per page. Keep the first page's figure.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ListPage<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `null` on the last page.
    pub next: Option<i64>,
    /// Items matching the filter in all pages; only on the first page (no `after`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Runs a list and, on the first page only, its count (both at once: the store serves them on separate
/// connections).
pub async fn listed<T>(
    page: Page,
    list: impl Future<Output = StoreResult<Paged<T>>>,
    count: impl Future<Output = StoreResult<u64>>,
) -> AppResult<ListPage<T>> {
    let (paged, total) = if page.after.is_none() {
        let (paged, total) = tokio::try_join!(list, count)?;
        (paged, Some(total))
    } else {
        (list.await?, None)
    };
    Ok(ListPage {
        items: paged.items,
        next: paged.next,
        total,
    })
}
