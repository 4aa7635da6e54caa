//! What the closed-loop handlers share: the loop's errors as [`AppError`]s, the HTTP caller as the
//! loop's caller, loading a finding or notice checked against the caller's scope and role (anything
//! outside the scope is "not found" under the id asked for), and offset pages over in-memory lists.

use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::state::AppState;
use taishi_loop::{AttachmentError, LoopError};
use taishi_model::finding::Finding;
use taishi_model::notice::{LoopActor, Notice, NoticeError};
use taishi_model::{OrgId, Page, Paged};
use taishi_store::StoreError;
use uuid::Uuid;

impl From<LoopError> for AppError {
    fn from(e: LoopError) -> Self {
        match e {
            LoopError::Store(s) => s.into(),
            LoopError::Notice(n @ NoticeError::Forbidden { .. }) => {
                AppError::forbidden(n.to_string())
            }
            LoopError::Notice(n @ NoticeError::ReasonRequired { .. }) => {
                AppError::invalid("reason", n.to_string())
            }
            LoopError::Notice(n @ NoticeError::BadDeadline { .. }) => {
                AppError::invalid("until", n.to_string())
            }
            LoopError::Notice(n) => AppError::Refused(n.to_string()),
            LoopError::Finding(f) => AppError::Refused(f.to_string()),
            LoopError::Attachment(a @ AttachmentError::TooLarge { .. }) => {
                AppError::invalid("files", a.to_string())
            }
            LoopError::Attachment(a) => AppError::invalid("files", a.to_string()),
            LoopError::Tree(t) => AppError::Internal(t.to_string()),
            LoopError::Forbidden(m) => AppError::forbidden(m),
            LoopError::Invalid(m) => AppError::invalid("request", m),
        }
    }
}

/// The HTTP caller as the loop sees it: its audit identity, role and subtree.
pub fn loop_caller(c: &Caller) -> taishi_loop::Caller {
    taishi_loop::Caller {
        actor: LoopActor {
            actor: c.actor.clone(),
            role: Some(c.role),
        },
        scope: Some(c.scope),
    }
}

/// Re-labels "not found" (of the store or of the owner org) as "not found" of `what`.
fn hidden(e: AppError, what: impl FnOnce() -> String) -> AppError {
    match e {
        AppError::NotFound(_) => AppError::not_found(what()),
        other => other,
    }
}

fn store_hidden(e: StoreError, what: impl FnOnce() -> String) -> AppError {
    hidden(AppError::from(e), what)
}

/// The finding `id`, if the caller may do `action` on its org.
pub async fn finding(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: Action,
) -> AppResult<Finding> {
    let what = || format!("finding {id}");
    let f = state
        .store()
        .get_finding(id)
        .await
        .map_err(|e| store_hidden(e, what))?;
    super::scope::org(state, caller, f.org, action)
        .await
        .map_err(|e| hidden(e, what))?;
    Ok(f)
}

/// The notice `id`, if the caller may do `action` on its org.
pub async fn notice(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: Action,
) -> AppResult<Notice> {
    let what = || format!("notice {id}");
    let n = state
        .store()
        .get_notice(id)
        .await
        .map_err(|e| store_hidden(e, what))?;
    super::scope::org(state, caller, n.org, action)
        .await
        .map_err(|e| hidden(e, what))?;
    Ok(n)
}

/// The org `id` checked for `action`, as its id (for bodies naming an org).
pub async fn org_id(
    state: &AppState,
    caller: &Caller,
    id: OrgId,
    action: Action,
) -> AppResult<OrgId> {
    Ok(super::scope::org(state, caller, id, action).await?.id)
}

/// One page of `items` (already filtered and ordered): `after` is the offset the previous page's
/// `next` gave.
pub fn offset_page<T>(items: Vec<T>, page: Page) -> Paged<T> {
    let start = usize::try_from(page.after.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
    let limit = page.limit as usize;
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start.saturating_add(items.len());
    Paged {
        items,
        next: (end < total).then_some(end as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_pages_walk_the_whole_list() {
        let all: Vec<u32> = (0..7).collect();
        let p1 = offset_page(
            all.clone(),
            Page {
                limit: 3,
                after: None,
            },
        );
        assert_eq!(p1.items, [0, 1, 2]);
        let p3 = offset_page(
            all.clone(),
            Page {
                limit: 3,
                after: Some(6),
            },
        );
        assert_eq!((p3.items, p3.next), (vec![6], None));
        assert_eq!(p1.next, Some(3));
    }

    #[test]
    fn loop_errors_keep_their_meaning() {
        let e = AppError::from(LoopError::Invalid("x".into()));
        assert_eq!(e.code(), "invalid");
        let e = AppError::from(LoopError::Forbidden("x".into()));
        assert_eq!(e.code(), "forbidden");
        let e = AppError::from(LoopError::Store(StoreError::not_found("notice", 1)));
        assert_eq!(e.code(), "not_found");
    }
}
