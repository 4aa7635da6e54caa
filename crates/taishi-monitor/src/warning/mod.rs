//! Warnings (预警): published vulnerabilities that hit registered software. The CISA KEV catalogue says
//! what is exploited in the wild; NVD's CPE configurations say which versions are affected. Matching is
//! pure ([`match_inventory`]); [`run_warnings`] feeds the hits through the loop's intake with source
//! `warning`, so a version-confirmed KEV hit on an internet-facing asset gets the 3-day deadline.
//!
//! Two kinds of hit:
//! - **confirmed** (check = the CVE id): an NVD configuration of the CVE evaluates true over the asset's
//!   inventory (node operators, negation and platform entries included), for software with a version;
//!   `exploited` when the CVE is in KEV.
//! - **product** (check `kev.product`): KEV lists exploited CVEs for the product but no loaded NVD record
//!   can confirm or rule out the version. One finding per software line lists them, so an analyst
//!   checks the version; it is not marked exploited (unconfirmed), and is high when a listed CVE was
//!   added within the policy's recent window.

pub mod cpe;
pub mod feeds;

use cpe::{Cpe, norm, satisfies};
use feeds::{FeedError, KevEntry, NvdRecord};
use jiff::Timestamp;
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use taishi_loop::LoopService;
use taishi_model::finding::{IntakeOutcome, Sighting};
use taishi_model::{AssetId, FindingSource, Severity, Software, SoftwareId};
use taishi_store::{FindingQuery, Store};

/// The check id of product-level KEV hits.
pub const KEV_PRODUCT_CHECK: &str = "kev.product";

/// KEV and NVD, indexed for matching.
#[derive(Debug, Default)]
pub struct Catalogue {
    /// The KEV catalogue version (`2025.08.25`).
    pub kev_version: String,
    kev: HashMap<String, KevEntry>,
    kev_products: HashMap<(String, String), Vec<String>>,
    nvd: HashMap<String, NvdRecord>,
    nvd_products: HashMap<(String, String), Vec<String>>,
}

impl Catalogue {
    /// Builds the indexes from parsed feeds.
    pub fn from_parts(kev_version: String, kev: Vec<KevEntry>, nvd: Vec<NvdRecord>) -> Catalogue {
        let mut c = Catalogue {
            kev_version,
            ..Catalogue::default()
        };
        for e in kev {
            c.kev_products
                .entry((norm(&e.vendor_project), norm(&e.product)))
                .or_default()
                .push(e.cve_id.clone());
            c.kev.insert(e.cve_id.clone(), e);
        }
        for r in nvd {
            let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
            for m in r
                .configurations
                .iter()
                .flat_map(|c| &c.nodes)
                .flat_map(|n| &n.matches)
            {
                if m.vulnerable {
                    keys.insert((
                        m.criteria.vendor().to_owned(),
                        m.criteria.product().to_owned(),
                    ));
                }
            }
            for k in keys {
                c.nvd_products.entry(k).or_default().push(r.id.clone());
            }
            c.nvd.insert(r.id.clone(), r);
        }
        c
    }

    /// Reads the KEV catalogue at `kev` (if given) and NVD CVE API 2.0 pages at `nvd`.
    pub fn load(kev: Option<&Path>, nvd: &[PathBuf]) -> Result<Catalogue, FeedError> {
        let (version, entries) = match kev {
            Some(p) => feeds::parse_kev(&feeds::read(p)?, &p.display().to_string())?,
            None => (String::new(), Vec::new()),
        };
        let mut records = Vec::new();
        for p in nvd {
            records.extend(feeds::parse_nvd(&feeds::read(p)?, &p.display().to_string())?.0);
        }
        Ok(Catalogue::from_parts(version, entries, records))
    }

    /// KEV entries loaded.
    pub fn kev_len(&self) -> usize {
        self.kev.len()
    }

    /// NVD records loaded.
    pub fn nvd_len(&self) -> usize {
        self.nvd.len()
    }

    /// The KEV entry of a CVE.
    pub fn kev(&self, cve: &str) -> Option<&KevEntry> {
        self.kev.get(cve)
    }
}

/// Matching policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningPolicy {
    /// Raise product-level KEV hits (version unconfirmed).
    pub kev_product_hits: bool,
    /// KEV entries added within this many days make a product-level hit high instead of medium.
    pub recent_days: i64,
    /// Most CVEs listed in one product-level hit's evidence (newest first).
    pub max_listed: usize,
}

impl Default for WarningPolicy {
    fn default() -> Self {
        WarningPolicy {
            kev_product_hits: true,
            recent_days: 30,
            max_listed: 50,
        }
    }
}

/// One warning on one software line.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningHit {
    /// The asset.
    pub asset: AssetId,
    /// The software line.
    pub software: SoftwareId,
    /// CVE id, or [`KEV_PRODUCT_CHECK`].
    pub check: String,
    /// `vendor:product:version` of the software.
    pub key: String,
    /// One line, Chinese.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Known exploited (version-confirmed KEV hit).
    pub exploited: bool,
    /// What matched and why.
    pub evidence: serde_json::Value,
}

fn cpe_of(s: &Software) -> Cpe {
    s.cpe
        .as_deref()
        .and_then(Cpe::parse)
        .unwrap_or_else(|| Cpe::derived(&s.vendor, &s.product, &s.version))
}

/// Evaluates one node over the inventory: (true?, indices of vulnerable software that matched).
fn eval_node(n: &feeds::Node, inv: &[Cpe]) -> (bool, BTreeSet<usize>) {
    let mut blame = BTreeSet::new();
    let mut results = Vec::with_capacity(n.matches.len());
    for m in &n.matches {
        let hits: Vec<usize> = inv
            .iter()
            .enumerate()
            .filter(|(_, c)| satisfies(&m.criteria, &m.range, c))
            .map(|(i, _)| i)
            .collect();
        if m.vulnerable {
            blame.extend(hits.iter().copied());
        }
        results.push(!hits.is_empty());
    }
    let v = if n.and {
        results.iter().all(|b| *b) && !results.is_empty()
    } else {
        results.iter().any(|b| *b)
    };
    if n.negate {
        (!v, BTreeSet::new())
    } else {
        (v, blame)
    }
}

fn eval_config(c: &feeds::Configuration, inv: &[Cpe]) -> Option<BTreeSet<usize>> {
    let mut blame = BTreeSet::new();
    let mut results = Vec::with_capacity(c.nodes.len());
    for n in &c.nodes {
        let (v, b) = eval_node(n, inv);
        if v {
            blame.extend(b);
        }
        results.push(v);
    }
    let v = if c.and {
        results.iter().all(|b| *b) && !results.is_empty()
    } else {
        results.iter().any(|b| *b)
    };
    let v = v != c.negate;
    (v && !blame.is_empty()).then_some(blame)
}

fn key_of(c: &Cpe) -> String {
    format!("{}:{}:{}", c.vendor(), c.product(), c.version())
}

/// Every warning for the software lines of one asset (the whole inventory is the platform for NVD's
/// AND configurations: a library is only affected on the operating system the record names).
pub fn match_inventory(
    cat: &Catalogue,
    software: &[Software],
    now: Timestamp,
    policy: &WarningPolicy,
) -> Vec<WarningHit> {
    let inv: Vec<Cpe> = software.iter().map(cpe_of).collect();
    let mut candidates: BTreeSet<&str> = BTreeSet::new();
    for c in &inv {
        if let Some(ids) = cat
            .nvd_products
            .get(&(c.vendor().to_owned(), c.product().to_owned()))
        {
            candidates.extend(ids.iter().map(String::as_str));
        }
    }
    let mut out = Vec::new();
    let mut confirmed: HashSet<(usize, &str)> = HashSet::new();
    for id in candidates {
        let Some(rec) = cat.nvd.get(id) else { continue };
        let blamed: BTreeSet<usize> = rec
            .configurations
            .iter()
            .filter_map(|c| eval_config(c, &inv))
            .flatten()
            .collect();
        for i in blamed {
            confirmed.insert((i, id));
            let (s, c) = (&software[i], &inv[i]);
            let kev = cat.kev.get(id);
            let base = rec.severity.unwrap_or(Severity::Medium);
            let severity = if kev.is_some() {
                base.max(Severity::High)
            } else {
                base
            };
            let what = if kev.is_some() {
                "存在已被在野利用的漏洞"
            } else {
                "存在已知漏洞"
            };
            out.push(WarningHit {
                asset: s.asset_id,
                software: s.id,
                check: id.to_owned(),
                key: key_of(c),
                title: format!("{} {} {} {what}（{id}）", s.vendor, s.product, s.version),
                severity,
                exploited: kev.is_some(),
                evidence: json!({
                    "text": format!("{} {} {} matches an affected configuration of {id}", s.vendor, s.product, s.version),
                    "cve": id,
                    "confidence": "version",
                    "software": {"vendor": s.vendor, "product": s.product, "version": s.version, "cpe": s.cpe},
                    "cvss": {"severity": rec.severity.map(Severity::as_str), "score": rec.score},
                    "description": rec.description,
                    "kev": kev.map(kev_json),
                }),
            });
        }
    }
    if policy.kev_product_hits {
        for (i, (s, c)) in software.iter().zip(&inv).enumerate() {
            let Some(ids) = cat
                .kev_products
                .get(&(c.vendor().to_owned(), c.product().to_owned()))
            else {
                continue;
            };
            let mut open: Vec<&KevEntry> = ids
                .iter()
                .filter(|id| !cat.nvd.contains_key(*id) && !confirmed.contains(&(i, id.as_str())))
                .filter_map(|id| cat.kev.get(id))
                .collect();
            if open.is_empty() {
                continue;
            }
            open.sort_by(|a, b| {
                b.date_added
                    .cmp(&a.date_added)
                    .then_with(|| a.cve_id.cmp(&b.cve_id))
            });
            let recent = open
                .iter()
                .any(|e| added_within(e, now, policy.recent_days));
            out.push(WarningHit {
                asset: s.asset_id,
                software: s.id,
                check: KEV_PRODUCT_CHECK.to_owned(),
                key: key_of(c),
                title: format!("{} {} 有 {} 个已被在野利用的漏洞，版本待核实", s.vendor, s.product, open.len()),
                severity: if recent { Severity::High } else { Severity::Medium },
                exploited: false,
                evidence: json!({
                    "text": format!("CISA KEV lists {} exploited vulnerabilities of {} {}; confirm whether version {:?} is affected", open.len(), s.vendor, s.product, s.version),
                    "confidence": "product",
                    "kev_version": cat.kev_version,
                    "software": {"vendor": s.vendor, "product": s.product, "version": s.version, "cpe": s.cpe},
                    "count": open.len(),
                    "cves": open.iter().take(policy.max_listed).map(|e| kev_json(e)).collect::<Vec<_>>(),
                }),
            });
        }
    }
    out
}

fn kev_json(e: &KevEntry) -> serde_json::Value {
    json!({
        "cve": e.cve_id, "name": e.vulnerability_name, "date_added": e.date_added, "due_date": e.due_date,
        "ransomware": e.known_ransomware_campaign_use, "required_action": e.required_action,
    })
}

fn added_within(e: &KevEntry, now: Timestamp, days: i64) -> bool {
    let Ok(d) = e.date_added.parse::<jiff::civil::Date>() else {
        return false;
    };
    let Ok(added) = format!("{d}T00:00:00Z").parse::<Timestamp>() else {
        return false;
    };
    added <= now && now.duration_since(added) <= jiff::SignedDuration::from_hours(24 * days)
}

/// What a warnings run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarningReport {
    /// Software lines matched.
    pub software: usize,
    /// Hits.
    pub hits: usize,
    /// New findings.
    pub opened: usize,
    /// Reopened findings.
    pub reopened: usize,
    /// Warning findings no longer matched, resolved.
    pub resolved: usize,
}

/// Matches the whole registry's software against `cat` and feeds the hits through the loop; open
/// warning findings that no longer match (software upgraded or removed) resolve as disappeared.
pub async fn run_warnings(
    svc: &LoopService,
    store: &dyn Store,
    cat: &Catalogue,
    policy: &WarningPolicy,
) -> Result<WarningReport, crate::MonitorError> {
    let now = svc.now();
    let all = crate::all_software(store, &taishi_model::SoftwareFilter::default()).await?;
    let mut by_asset: HashMap<AssetId, Vec<Software>> = HashMap::new();
    for s in all {
        by_asset.entry(s.asset_id).or_default().push(s);
    }
    let mut rep = WarningReport::default();
    let mut hit_keys: HashSet<(AssetId, String, String)> = HashSet::new();
    let mut assets: Vec<AssetId> = by_asset.keys().copied().collect();
    assets.sort();
    for id in assets {
        let sw = &by_asset[&id];
        rep.software += sw.len();
        let asset = store.get_asset(id).await?;
        for h in match_inventory(cat, sw, now, policy) {
            rep.hits += 1;
            hit_keys.insert((h.asset, h.check.clone(), h.key.clone()));
            let r = svc
                .ingest(Sighting {
                    source: FindingSource::Warning,
                    check: h.check,
                    key: h.key,
                    org: asset.org_id,
                    asset: asset.id,
                    title: h.title,
                    severity: h.severity,
                    exploited: h.exploited,
                    internet_exposed: crate::intake::internet_exposed(&asset),
                    evidence: h.evidence,
                    seen_at: now,
                })
                .await?;
            match r.outcome {
                IntakeOutcome::Opened => rep.opened += 1,
                IntakeOutcome::Reopened => rep.reopened += 1,
                _ => {}
            }
        }
    }
    let q = FindingQuery {
        statuses: vec!["open".into()],
        ..FindingQuery::default()
    };
    for f in store.list_findings(&q).await? {
        if f.source == FindingSource::Warning
            && !hit_keys.contains(&(f.asset, f.check.clone(), f.key.clone()))
            && let Some((_, IntakeOutcome::Resolved)) = svc
                .absent(FindingSource::Warning, &f.check, f.asset, &f.key, now)
                .await?
        {
            rep.resolved += 1;
        }
    }
    Ok(rep)
}
