//! Software fingerprint: Server, X-Powered-By, X-AspNet-Version headers and the generator meta
//! tag → vendor, product, version and CPE, for the asset's software inventory.

use serde::{Deserialize, Serialize};
use serde_json::json;
use taishi_model::Severity;

use super::Env;
use crate::http::{HttpClient, Request};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, Schedule};
use crate::target::Target;

/// Settings of the fingerprint check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FingerprintConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        FingerprintConfig {
            schedule: Schedule::new(86_400, 30_000),
        }
    }
}

impl FingerprintConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Fingerprint {
        Fingerprint {
            cfg: self.clone(),
            client: env.client.clone(),
        }
    }
}

/// The runtime fingerprint check.
#[derive(Debug)]
pub struct Fingerprint {
    cfg: FingerprintConfig,
    client: HttpClient,
}

/// Versions disclosed to anyone.
pub const DISCLOSED: FindingKind = FindingKind {
    id: "fingerprint.version_disclosed",
    severity: Severity::Low,
    title_zh: "响应中暴露软件版本信息",
    title_en: "Software versions disclosed",
    fix_zh: "关闭版本回显（如 ServerTokens Prod、server_tokens off、expose_php Off），并及时升级软件。",
    fix_en: "Hide versions (ServerTokens Prod, server_tokens off, expose_php Off) and keep the software up to date.",
};

/// One identified piece of software.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// Vendor, e.g. `apache`.
    pub vendor: String,
    /// Product, e.g. `http_server`.
    pub product: String,
    /// Version when disclosed.
    pub version: Option<String>,
    /// CPE 2.3 name when the product is known.
    pub cpe: Option<String>,
    /// Where it was seen (`server`, `x-powered-by`, `generator`).
    pub source: String,
}

/// Known products: token as it appears (lower-case) → (vendor, product).
const KNOWN: &[(&str, &str, &str)] = &[
    ("apache", "apache", "http_server"),
    ("nginx", "f5", "nginx"),
    ("openresty", "openresty", "openresty"),
    (
        "microsoft-iis",
        "microsoft",
        "internet_information_services",
    ),
    ("php", "php", "php"),
    ("asp.net", "microsoft", "asp.net"),
    ("wordpress", "wordpress", "wordpress"),
    ("drupal", "drupal", "drupal"),
    ("joomla!", "joomla", "joomla\\!"),
    ("tomcat", "apache", "tomcat"),
    ("apache-coyote", "apache", "tomcat"),
    ("jetty", "eclipse", "jetty"),
    ("express", "expressjs", "express"),
    ("tengine", "alibaba", "tengine"),
    ("dedecms", "dedecms", "dedecms"),
    ("discuz!", "comsenz", "discuz\\!"),
];

/// Parses product tokens like `Apache/2.4.49 (Unix) PHP/7.4.3` or `WordPress 5.8.1`.
pub fn parse_products(value: &str, source: &str) -> Vec<Software> {
    let mut out = Vec::new();
    let words: Vec<&str> = value
        .split_whitespace()
        .filter(|w| !w.starts_with('('))
        .collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let (name, mut version) = match w.split_once('/') {
            Some((n, v)) => (n, Some(v.trim_end_matches(',').to_string())),
            None => (w, None),
        };
        if version.is_none()
            && let Some(next) = words.get(i + 1)
            && next.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            version = Some(next.to_string());
            i += 1;
        }
        let lower = name.to_ascii_lowercase();
        if let Some((_, vendor, product)) = KNOWN.iter().find(|(t, _, _)| *t == lower) {
            let cpe = Some(format!(
                "cpe:2.3:a:{vendor}:{product}:{}:*:*:*:*:*:*:*",
                version.as_deref().unwrap_or("*")
            ));
            out.push(Software {
                vendor: vendor.to_string(),
                product: product.to_string(),
                version,
                cpe,
                source: source.to_string(),
            });
        } else if version.is_some() && !name.is_empty() {
            out.push(Software {
                vendor: lower.clone(),
                product: lower,
                version,
                cpe: None,
                source: source.to_string(),
            });
        }
        i += 1;
    }
    out
}

impl Check for Fingerprint {
    fn id(&self) -> &'static str {
        "fingerprint"
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
            let mut software = Vec::new();
            for h in ["server", "x-powered-by", "x-aspnet-version", "x-generator"] {
                for v in page.headers_all(h) {
                    let v = if h == "x-aspnet-version" {
                        format!("ASP.NET/{v}")
                    } else {
                        v.to_string()
                    };
                    software.extend(parse_products(&v, h));
                }
            }
            if page.is_html() {
                let doc = scraper::Html::parse_document(&page.text());
                let sel = scraper::Selector::parse("meta[name=generator], meta[name=Generator]")
                    .expect("static selector");
                for m in doc.select(&sel) {
                    if let Some(c) = m.value().attr("content") {
                        software.extend(parse_products(c, "generator"));
                    }
                }
            }
            let versioned: Vec<String> = software
                .iter()
                .filter(|s| s.version.is_some())
                .map(|s| {
                    format!(
                        "{} {} ({})",
                        s.product,
                        s.version.as_deref().unwrap_or(""),
                        s.source
                    )
                })
                .collect();
            let mut findings = Vec::new();
            if !versioned.is_empty() {
                findings.push(DISCLOSED.finding(
                    target,
                    "",
                    versioned.join(", "),
                    json!({"software": software}),
                ));
            }
            Ok((json!({"software": software}), findings))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_headers_and_generators() {
        let s = parse_products("Apache/2.4.49 (Unix) PHP/7.4.3", "server");
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].cpe.as_deref(),
            Some("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*")
        );
        assert_eq!(s[1].version.as_deref(), Some("7.4.3"));
        let g = parse_products("WordPress 5.8.1", "generator");
        assert_eq!(
            (g[0].product.as_str(), g[0].version.as_deref()),
            ("wordpress", Some("5.8.1"))
        );
        assert!(parse_products("nginx", "server")[0].version.is_none());
        assert!(parse_products("", "server").is_empty());
    }
}
