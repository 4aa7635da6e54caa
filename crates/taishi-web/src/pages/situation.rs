//! The figures of the situation for one caller's subtree, shared by the dashboard and the big screen.
//! Every number is read through the store with the caller's scope as the `within` filter, and every
//! figure carries the link to the list behind it.

use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::i18n::Tr;
use crate::svg::{self, Item, Svg};
use jiff::{SignedDuration, Timestamp};
use taishi_model::{AssetFilter, AssetKind, AuditEntry, AuditFilter, Org, OrgFilter, Page};
use taishi_server::AppState;
use taishi_server::api::scope;
use taishi_server::policy::Action;

/// A count of matching items, exact (the store counts with the list's own conditions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    /// How many match.
    pub n: u64,
}

impl Count {
    /// The figure as text.
    pub fn show(&self, tr: &Tr) -> String {
        tr.num(i64::try_from(self.n).unwrap_or(i64::MAX))
    }
}

/// Counts assets matching `filter` (one COUNT query).
pub async fn count_assets(app: &AppState, filter: &AssetFilter) -> WebResult<Count> {
    let n = app
        .store()
        .count_assets(filter)
        .await
        .map_err(taishi_server::AppError::from)?;
    Ok(Count { n })
}

/// Counts orgs matching `filter` (one COUNT query).
pub async fn count_orgs(app: &AppState, filter: &OrgFilter) -> WebResult<Count> {
    let n = app
        .store()
        .count_orgs(filter)
        .await
        .map_err(taishi_server::AppError::from)?;
    Ok(Count { n })
}

/// The asset kinds in display order, with their chart colours.
pub const KINDS: [(AssetKind, &str); 5] = [
    (AssetKind::Website, "#2563eb"),
    (AssetKind::Domain, "#0891b2"),
    (AssetKind::Ip, "#7c3aed"),
    (AssetKind::Cidr, "#db2777"),
    (AssetKind::System, "#059669"),
];

/// One direct sub-organisation and its asset count.
#[derive(Debug, Clone)]
pub struct ChildRow {
    /// The org.
    pub org: Org,
    /// Orgs in its subtree (itself included).
    pub orgs: u64,
    /// Assets in its subtree.
    pub assets: Count,
}

/// Everything the dashboard and the big screen show.
#[derive(Debug, Clone)]
pub struct Situation {
    /// The root of the caller's view.
    pub root: Org,
    /// Orgs in the subtree.
    pub orgs: u64,
    /// Critical-infrastructure operators in the subtree.
    pub critical_orgs: Count,
    /// All assets.
    pub assets: Count,
    /// Assets per kind.
    pub by_kind: Vec<(AssetKind, Count)>,
    /// Critical-infrastructure assets.
    pub critical_assets: Count,
    /// Direct sub-organisations, most assets first.
    pub children: Vec<ChildRow>,
    /// The latest changes in the subtree, newest first.
    pub recent: Vec<AuditEntry>,
}

/// Most sub-organisations compared on the dashboard.
const MAX_CHILDREN: u32 = 12;

impl Situation {
    /// Reads the figures for `ctx`'s scope.
    pub async fn load(app: &AppState, ctx: &Ctx) -> WebResult<Situation> {
        let root = scope::org(app, &ctx.caller, ctx.caller.scope, Action::ReadRegistry).await?;
        let store = app.store();
        let orgs = store
            .count_subtree(root.id)
            .await
            .map_err(taishi_server::AppError::from)?;
        let within = Some(root.id);
        let critical_orgs = count_orgs(
            app,
            &OrgFilter {
                within,
                critical_infrastructure: Some(true),
                ..OrgFilter::default()
            },
        )
        .await?;
        let all = AssetFilter {
            within,
            ..AssetFilter::default()
        };
        let assets = count_assets(app, &all).await?;
        let mut by_kind = Vec::new();
        for (kind, _) in KINDS {
            let f = AssetFilter {
                within,
                kind: Some(kind),
                ..AssetFilter::default()
            };
            by_kind.push((kind, count_assets(app, &f).await?));
        }
        let critical_assets = count_assets(
            app,
            &AssetFilter {
                within,
                critical_infrastructure: Some(true),
                ..AssetFilter::default()
            },
        )
        .await?;
        let kids = store
            .list_orgs(
                &OrgFilter {
                    parent: Some(root.id),
                    ..OrgFilter::default()
                },
                Page::first(MAX_CHILDREN),
            )
            .await
            .map_err(taishi_server::AppError::from)?;
        let mut children = Vec::new();
        for org in kids.items {
            let orgs = store
                .count_subtree(org.id)
                .await
                .map_err(taishi_server::AppError::from)?;
            let assets = count_assets(
                app,
                &AssetFilter {
                    within: Some(org.id),
                    ..AssetFilter::default()
                },
            )
            .await?;
            children.push(ChildRow { org, orgs, assets });
        }
        children.sort_by(|a, b| {
            b.assets
                .n
                .cmp(&a.assets.n)
                .then(a.org.name.cmp(&b.org.name))
        });
        let recent = recent_changes(app, root.id).await?;
        Ok(Situation {
            root,
            orgs,
            critical_orgs,
            assets,
            by_kind,
            critical_assets,
            children,
            recent,
        })
    }

    /// The asset mix as a donut, each slice linking to its list.
    pub fn kind_donut(&self, tr: &Tr) -> Svg {
        let items: Vec<Item> = self
            .by_kind
            .iter()
            .zip(KINDS)
            .map(|((kind, count), (_, colour))| Item {
                label: tr.word(kind.as_str(), kind.label_zh()).to_owned(),
                value: count.n as f64,
                colour,
                href: Some(format!("/assets?kind={}", kind.as_str())),
            })
            .collect();
        svg::donut(&items, tr.t("dash.assets"), tr.t("dash.asset_mix"))
    }

    /// Assets per direct sub-organisation as bars, each linking to that org.
    pub fn children_bars(&self, tr: &Tr, width: u32) -> Svg {
        let items: Vec<Item> = self
            .children
            .iter()
            .map(|c| Item {
                label: c.org.name.clone(),
                value: c.assets.n as f64,
                colour: "#2563eb",
                href: Some(format!("/orgs/{}", c.org.id)),
            })
            .collect();
        svg::bars(&items, width, tr.t("dash.assets_by_org"))
    }
}

/// The last ten audit entries of the subtree from the past week, newest first.
async fn recent_changes(app: &AppState, root: taishi_model::OrgId) -> WebResult<Vec<AuditEntry>> {
    let since = app
        .now()
        .checked_sub(SignedDuration::from_hours(24 * 7))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let filter = AuditFilter {
        within: Some(root),
        since: Some(since),
        ..AuditFilter::default()
    };
    let mut keep: Vec<AuditEntry> = Vec::new();
    let mut after = None;
    // The log lists oldest first; read at most five pages and keep the tail.
    for _ in 0..5 {
        let page = app
            .store()
            .list_audit(&filter, Page { limit: 500, after })
            .await
            .map_err(taishi_server::AppError::from)?;
        keep.extend(page.items);
        if keep.len() > 10 {
            keep.drain(..keep.len() - 10);
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    keep.reverse();
    Ok(keep)
}
