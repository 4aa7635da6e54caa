//! Content integrity (defacement / 篡改): a baseline per page (normalised visible text and a DOM
//! structure hash) passed in as data; a change beyond the threshold, or a defacement signature
//! that was not in the baseline, is a finding with the changed fragments as evidence. Every run
//! returns the current snapshot in its observation so an analyst can accept it as the new
//! baseline.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use taishi_model::Severity;

use super::Env;
use crate::http::{HttpClient, Request};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, Schedule};
use crate::target::Target;

/// A page snapshot: what a baseline stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Page title.
    pub title: String,
    /// Normalised visible text.
    pub text: String,
    /// SHA-256 of the tag skeleton.
    pub structure_hash: String,
}

impl Snapshot {
    /// Takes a snapshot of an HTML page.
    pub fn of_html(body: &str) -> Snapshot {
        let doc = scraper::Html::parse_document(body);
        Snapshot {
            title: crate::html::title(&doc),
            text: crate::html::visible_text(&doc),
            structure_hash: hex::encode(Sha256::digest(crate::html::structure(&doc).as_bytes())),
        }
    }
}

/// Settings of the content check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Baselines by target input (as given to the probe).
    pub baselines: BTreeMap<String, Snapshot>,
    /// Text change ratio (0–1) above which the page counts as changed.
    pub change_threshold: f32,
    /// Defacement signatures (case-insensitive).
    pub signatures: Vec<String>,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            schedule: Schedule::new(3_600, 30_000),
            baselines: BTreeMap::new(),
            change_threshold: 0.4,
            signatures: [
                "hacked by",
                "defaced by",
                "owned by",
                "h4ck3d",
                "was here",
                "greetz",
                "your security is",
                "被黑",
                "黑客联盟",
                "到此一游",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }
}

impl ContentConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Content {
        Content {
            cfg: self.clone(),
            client: env.client.clone(),
        }
    }
}

/// The runtime content check.
#[derive(Debug)]
pub struct Content {
    cfg: ContentConfig,
    client: HttpClient,
}

/// A known defacement signature appeared.
pub const SIGNATURE: FindingKind = FindingKind {
    id: "content.defacement.signature",
    severity: Severity::Critical,
    title_zh: "页面出现篡改特征（疑似被黑）",
    title_en: "Defacement signature on the page",
    fix_zh: "立即下线或恢复页面，保留日志与现场，排查入侵途径并修补漏洞后再上线。",
    fix_en: "Take the page down or restore it, keep logs and evidence, find the intrusion path and patch before going live.",
};
/// The page changed beyond the threshold.
pub const CHANGED: FindingKind = FindingKind {
    id: "content.defacement.changed",
    severity: Severity::High,
    title_zh: "页面内容与基线差异过大（疑似篡改）",
    title_en: "Page differs strongly from its baseline (possible defacement)",
    fix_zh: "核实变更是否为正常发布；若非授权变更，按篡改事件处置；若为正常更新，请将当前页面确认为新基线。",
    fix_en: "Confirm whether the change was an authorised update; if not, handle it as defacement; if so, accept the page as the new baseline.",
};

/// Changed fragments between two texts (sentences inserted or removed), at most `max`.
pub fn changed_fragments(old: &str, new: &str, max: usize) -> Vec<String> {
    let split = |s: &str| {
        s.split(['。', '.', '!', '！', '?', '？'])
            .map(|p| format!("{}\n", p.trim()))
            .collect::<Vec<_>>()
            .join("")
    };
    let (a, b) = (split(old), split(new));
    let diff = similar::TextDiff::from_lines(&a, &b);
    diff.iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal && !c.value().trim().is_empty())
        .take(max)
        .map(|c| {
            format!(
                "{}{}",
                if c.tag() == similar::ChangeTag::Insert {
                    "+ "
                } else {
                    "- "
                },
                c.value().trim()
            )
        })
        .collect()
}

impl Check for Content {
    fn id(&self) -> &'static str {
        "content"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            let chain = self
                .client
                .follow(&Request::get(target.url.clone()))
                .await
                .map_err(|e| e.to_string())?;
            let page = chain.last();
            if !page.is_html() {
                return Ok((json!({"html": false}), Vec::new()));
            }
            let snap = Snapshot::of_html(&page.text());
            let baseline = self.cfg.baselines.get(&target.input);
            let mut findings = Vec::new();
            let hay = format!("{} {}", snap.title, snap.text).to_lowercase();
            let base_hay = baseline
                .map(|b| format!("{} {}", b.title, b.text).to_lowercase())
                .unwrap_or_default();
            let hits: Vec<&String> = self
                .cfg
                .signatures
                .iter()
                .filter(|s| {
                    hay.contains(&s.to_lowercase()) && !base_hay.contains(&s.to_lowercase())
                })
                .collect();
            if !hits.is_empty() {
                let text = format!(
                    "title {:?} contains defacement signature(s) {:?}",
                    snap.title, hits
                );
                findings.push(SIGNATURE.finding(
                    target,
                    "",
                    text,
                    json!({"signatures": hits, "title": snap.title}),
                ));
            }
            let mut change = serde_json::Value::Null;
            if let Some(b) = baseline {
                let ratio =
                    similar::TextDiff::from_chars(b.text.as_str(), snap.text.as_str()).ratio();
                let changed = 1.0 - ratio;
                let structure_changed = b.structure_hash != snap.structure_hash;
                change = json!({"change_ratio": changed, "structure_changed": structure_changed});
                if changed > self.cfg.change_threshold {
                    let frags = changed_fragments(&b.text, &snap.text, 12);
                    let text = format!(
                        "{:.0}% of the visible text changed (threshold {:.0}%)",
                        changed * 100.0,
                        self.cfg.change_threshold * 100.0
                    );
                    findings.push(CHANGED.finding(target, "", text, json!({"change_ratio": changed, "structure_changed": structure_changed, "fragments": frags})));
                }
            }
            Ok((
                json!({"snapshot": snap, "baseline": baseline.is_some(), "change": change}),
                findings,
            ))
        })
    }
}
