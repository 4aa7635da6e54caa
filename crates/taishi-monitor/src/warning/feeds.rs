//! Readers of the two feeds: the CISA KEV catalogue and NVD CVE API 2.0 response pages. Both read the
//! published JSON as it is; bad input is an error naming the file, line and column, never a panic.

use super::cpe::{Cpe, Range};
use serde::Deserialize;
use std::path::Path;
use taishi_model::Severity;

/// Why a feed could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The JSON does not have the expected shape.
    #[error("{origin}: line {line}, column {column}: {message}")]
    Parse {
        /// The file or origin name.
        origin: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str, origin: &str) -> Result<T, FeedError> {
    serde_json::from_str(text).map_err(|e| FeedError::Parse {
        origin: origin.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Reads a whole file as text.
pub fn read(path: &Path) -> Result<String, FeedError> {
    std::fs::read_to_string(path).map_err(|source| FeedError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// One entry of the KEV catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KevEntry {
    /// CVE id.
    #[serde(rename = "cveID")]
    pub cve_id: String,
    /// Vendor or project.
    pub vendor_project: String,
    /// Product.
    pub product: String,
    /// Short name of the vulnerability.
    pub vulnerability_name: String,
    /// When CISA added it (YYYY-MM-DD).
    pub date_added: String,
    /// Description.
    #[serde(default)]
    pub short_description: String,
    /// What to do.
    #[serde(default)]
    pub required_action: String,
    /// Federal remediation due date (YYYY-MM-DD).
    #[serde(default)]
    pub due_date: String,
    /// `Known` or `Unknown`.
    #[serde(default)]
    pub known_ransomware_campaign_use: String,
}

#[derive(Deserialize)]
struct KevDoc {
    #[serde(rename = "catalogVersion", default)]
    catalog_version: String,
    vulnerabilities: Vec<KevEntry>,
}

/// Parses the KEV catalogue JSON; returns its version and entries.
pub fn parse_kev(text: &str, origin: &str) -> Result<(String, Vec<KevEntry>), FeedError> {
    let d: KevDoc = parse(text, origin)?;
    Ok((d.catalog_version, d.vulnerabilities))
}

/// One `cpeMatch` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpeMatch {
    /// Whether matching software is vulnerable (false: a platform condition).
    pub vulnerable: bool,
    /// The criteria.
    pub criteria: Cpe,
    /// Version bounds.
    pub range: Range,
}

/// A node: `cpeMatch` entries combined by `operator`, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// AND (true) or OR.
    pub and: bool,
    /// Negated.
    pub negate: bool,
    /// Entries.
    pub matches: Vec<CpeMatch>,
}

/// A configuration: nodes combined by its operator (OR when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// AND (true) or OR.
    pub and: bool,
    /// Negated.
    pub negate: bool,
    /// Nodes.
    pub nodes: Vec<Node>,
}

/// What taishi keeps of one NVD CVE record.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdRecord {
    /// CVE id.
    pub id: String,
    /// English description.
    pub description: String,
    /// Severity from the newest CVSS version present.
    pub severity: Option<Severity>,
    /// CVSS base score of that metric.
    pub score: Option<f64>,
    /// Applicability.
    pub configurations: Vec<Configuration>,
}

#[derive(Deserialize)]
struct NvdPage {
    #[serde(default)]
    vulnerabilities: Vec<NvdItem>,
}

#[derive(Deserialize)]
struct NvdItem {
    cve: NvdCve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NvdCve {
    id: String,
    #[serde(default)]
    vuln_status: String,
    #[serde(default)]
    descriptions: Vec<LangText>,
    #[serde(default)]
    metrics: serde_json::Value,
    #[serde(default)]
    configurations: Vec<RawConfig>,
}

#[derive(Deserialize)]
struct LangText {
    lang: String,
    value: String,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default, rename = "cpeMatch")]
    cpe_match: Vec<RawMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMatch {
    vulnerable: bool,
    criteria: String,
    version_start_including: Option<String>,
    version_start_excluding: Option<String>,
    version_end_including: Option<String>,
    version_end_excluding: Option<String>,
}

fn severity_word(s: &str) -> Option<Severity> {
    match s.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(Severity::Critical),
        "HIGH" => Some(Severity::High),
        "MEDIUM" => Some(Severity::Medium),
        "LOW" => Some(Severity::Low),
        "NONE" => Some(Severity::Info),
        _ => None,
    }
}

fn cvss(metrics: &serde_json::Value) -> (Option<Severity>, Option<f64>) {
    for key in [
        "cvssMetricV40",
        "cvssMetricV31",
        "cvssMetricV30",
        "cvssMetricV2",
    ] {
        let Some(list) = metrics.get(key).and_then(|v| v.as_array()) else {
            continue;
        };
        // Prefer NVD's own (Primary) assessment.
        let m = list
            .iter()
            .find(|m| m.get("type").and_then(|t| t.as_str()) == Some("Primary"))
            .or(list.first());
        let Some(m) = m else { continue };
        let data = m.get("cvssData");
        let word = data
            .and_then(|d| d.get("baseSeverity"))
            .or_else(|| m.get("baseSeverity"))
            .and_then(|v| v.as_str())
            .and_then(severity_word);
        let score = data
            .and_then(|d| d.get("baseScore"))
            .and_then(|v| v.as_f64());
        if word.is_some() {
            return (word, score);
        }
    }
    (None, None)
}

/// Parses one NVD CVE API 2.0 response page. Rejected records and criteria that are not CPE 2.3 are
/// skipped (counted in the second value).
pub fn parse_nvd(text: &str, origin: &str) -> Result<(Vec<NvdRecord>, usize), FeedError> {
    let page: NvdPage = parse(text, origin)?;
    let mut skipped = 0;
    let mut out = Vec::with_capacity(page.vulnerabilities.len());
    for item in page.vulnerabilities {
        let c = item.cve;
        if c.vuln_status.eq_ignore_ascii_case("rejected") {
            skipped += 1;
            continue;
        }
        let (severity, score) = cvss(&c.metrics);
        let is_and =
            |o: &Option<String>| o.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("and"));
        let configurations = c
            .configurations
            .into_iter()
            .map(|rc| Configuration {
                and: is_and(&rc.operator),
                negate: rc.negate,
                nodes: rc
                    .nodes
                    .into_iter()
                    .map(|n| Node {
                        and: is_and(&n.operator),
                        negate: n.negate,
                        matches: n
                            .cpe_match
                            .into_iter()
                            .filter_map(|m| {
                                let Some(criteria) = Cpe::parse(&m.criteria) else {
                                    skipped += 1;
                                    return None;
                                };
                                Some(CpeMatch {
                                    vulnerable: m.vulnerable,
                                    criteria,
                                    range: Range {
                                        start_incl: m.version_start_including,
                                        start_excl: m.version_start_excluding,
                                        end_incl: m.version_end_including,
                                        end_excl: m.version_end_excluding,
                                    },
                                })
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let description = c
            .descriptions
            .into_iter()
            .find(|d| d.lang == "en")
            .map(|d| d.value)
            .unwrap_or_default();
        out.push(NvdRecord {
            id: c.id,
            description,
            severity,
            score,
            configurations,
        });
    }
    Ok((out, skipped))
}
