//! HTTP security headers and cookies, scored by the MDN Observatory algorithm
//! ([`crate::observatory`]), with one finding per missing or weak control.

use serde::{Deserialize, Serialize};
use serde_json::json;
use taishi_model::Severity;

use super::Env;
use crate::http::{HttpClient, Request};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, ProbeFinding, Schedule};
use crate::observatory::{self, ObsInput};
use crate::target::Target;

/// Settings of the headers check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HeadersConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Scores below this raise the overall `headers.observatory` finding.
    pub min_score: i32,
}

impl Default for HeadersConfig {
    fn default() -> Self {
        HeadersConfig {
            schedule: Schedule::new(86_400, 30_000),
            min_score: 70,
        }
    }
}

impl HeadersConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Headers {
        Headers {
            cfg: self.clone(),
            client: env.client.clone(),
            verifier: super::tls::build_verifier(env),
        }
    }
}

/// The runtime headers check.
pub struct Headers {
    cfg: HeadersConfig,
    client: HttpClient,
    verifier: Option<std::sync::Arc<rustls::client::WebPkiServerVerifier>>,
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headers").field("cfg", &self.cfg).finish()
    }
}

const fn kind(
    id: &'static str,
    severity: Severity,
    zh: &'static str,
    en: &'static str,
    fix_zh: &'static str,
    fix_en: &'static str,
) -> FindingKind {
    FindingKind {
        id,
        severity,
        title_zh: zh,
        title_en: en,
        fix_zh,
        fix_en,
    }
}

/// Overall Observatory grade too low.
pub const OBSERVATORY: FindingKind = kind(
    "headers.observatory",
    Severity::Medium,
    "HTTP 安全头评分偏低",
    "Low HTTP security-header score",
    "按各项建议补齐 CSP、HSTS、X-Frame-Options、X-Content-Type-Options、Referrer-Policy 与 Cookie 属性。",
    "Add CSP, HSTS, X-Frame-Options, X-Content-Type-Options, Referrer-Policy and cookie attributes as each item advises.",
);
const CSP_MISSING: FindingKind = kind(
    "headers.csp.missing",
    Severity::Low,
    "未配置内容安全策略（CSP）",
    "No Content-Security-Policy",
    "配置 Content-Security-Policy，至少 default-src 'self'，并避免 unsafe-inline。",
    "Send a Content-Security-Policy, at least default-src 'self', without unsafe-inline.",
);
const CSP_UNSAFE: FindingKind = kind(
    "headers.csp.unsafe",
    Severity::Low,
    "CSP 允许不安全的脚本来源",
    "CSP allows unsafe script sources",
    "移除 script-src 中的 'unsafe-inline'、'unsafe-eval'、http: 与通配符，改用 nonce 或哈希。",
    "Remove 'unsafe-inline', 'unsafe-eval', http: and wildcards from script-src; use nonces or hashes.",
);
const HSTS_MISSING: FindingKind = kind(
    "headers.hsts.missing",
    Severity::Medium,
    "未启用 HSTS",
    "No Strict-Transport-Security",
    "在 HTTPS 响应中添加 Strict-Transport-Security: max-age=31536000; includeSubDomains。",
    "Send Strict-Transport-Security: max-age=31536000; includeSubDomains over HTTPS.",
);
const HSTS_SHORT: FindingKind = kind(
    "headers.hsts.short",
    Severity::Low,
    "HSTS 有效期不足 6 个月",
    "HSTS max-age shorter than six months",
    "将 HSTS max-age 设置为至少 15768000 秒（建议 31536000）。",
    "Set HSTS max-age to at least 15768000 seconds (31536000 recommended).",
);
const XFO_MISSING: FindingKind = kind(
    "headers.frame.missing",
    Severity::Low,
    "未防护点击劫持",
    "No clickjacking protection",
    "添加 X-Frame-Options: DENY 或 CSP frame-ancestors 'none'。",
    "Send X-Frame-Options: DENY or CSP frame-ancestors 'none'.",
);
const XCTO_MISSING: FindingKind = kind(
    "headers.xcto.missing",
    Severity::Info,
    "未设置 X-Content-Type-Options",
    "No X-Content-Type-Options",
    "添加 X-Content-Type-Options: nosniff。",
    "Send X-Content-Type-Options: nosniff.",
);
const COOKIE_INSECURE: FindingKind = kind(
    "headers.cookie.insecure",
    Severity::Medium,
    "Cookie 缺少安全属性",
    "Cookies lack security attributes",
    "为会话 Cookie 设置 Secure、HttpOnly 与 SameSite=Lax/Strict。",
    "Set Secure, HttpOnly and SameSite=Lax/Strict on session cookies.",
);
const CORS_OPEN: FindingKind = kind(
    "headers.cors.credentials",
    Severity::High,
    "跨域资源共享允许任意来源携带凭据",
    "CORS allows credentials from any origin",
    "仅对白名单来源返回 Access-Control-Allow-Origin，勿与 Allow-Credentials: true 同时对任意来源开放。",
    "Only allow listed origins; never combine a reflected or wildcard origin with Allow-Credentials: true.",
);

/// A `<script src>` value and whether it carries an `integrity` attribute.
pub type ScriptSrc = (String, bool);

/// What the Observatory reads from the HTML: `<script src>` values with whether each carries
/// `integrity`, and `<meta http-equiv>` pairs.
pub fn page_facts(html: &str) -> (Vec<ScriptSrc>, Vec<(String, String)>) {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("script[src]").expect("static selector");
    let scripts = doc
        .select(&sel)
        .filter_map(|e| {
            Some((
                e.value().attr("src")?.to_string(),
                e.value().attr("integrity").is_some(),
            ))
        })
        .collect();
    let sel = scraper::Selector::parse("meta[http-equiv]").expect("static selector");
    let meta = doc
        .select(&sel)
        .filter_map(|e| {
            let name = e.value().attr("http-equiv")?.trim().to_ascii_lowercase();
            Some((name, e.value().attr("content")?.to_string()))
        })
        .collect();
    (scripts, meta)
}

impl Check for Headers {
    fn id(&self) -> &'static str {
        "headers"
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
            let last = chain.last();
            let ok = matches!(last.status, 200..=399 | 401 | 403);
            if !ok {
                return Err(format!(
                    "status {} is not scoreable (Observatory needs 2xx/3xx/401/403)",
                    last.status
                ));
            }
            let facts = last.is_html().then(|| page_facts(&last.text()));
            let host = last
                .url
                .host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']']);
            let cert_invalid = last.url.scheme() == "https"
                && !self
                    .verifier
                    .as_ref()
                    .is_some_and(|v| super::tls::chain_verifies(v, &last.tls_chain, host));
            let input = ObsInput {
                headers: last.headers.clone(),
                https: last.url.scheme() == "https",
                chain: chain
                    .hops
                    .iter()
                    .map(|h| (h.url.clone(), h.status))
                    .collect(),
                started_http: target.url.scheme() == "http",
                scripts: facts.as_ref().map(|f| f.0.clone()),
                meta_equiv: facts.map(|f| f.1).unwrap_or_default(),
                cert_invalid,
            };
            let s = observatory::score(&input);
            let mut obs = serde_json::to_value(&s).unwrap_or_default();
            let preload = hsts_preload(input.https, last.header("strict-transport-security"));
            if let Some(o) = obs.as_object_mut() {
                o.insert("hsts_preload".into(), json!(preload));
            }
            Ok((obs, self.findings(target, &s)))
        })
    }
}

/// HSTS preload readiness as hstspreload.org requires it: served over HTTPS, `max-age` of at
/// least 31536000 seconds, `includeSubDomains` and `preload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HstsPreload {
    /// Every requirement met.
    pub ready: bool,
    /// The requirements that are not met (empty when ready).
    pub reasons: Vec<&'static str>,
}

/// Judges a `Strict-Transport-Security` value (`None` when absent) for preload readiness.
pub fn hsts_preload(https: bool, header: Option<&str>) -> HstsPreload {
    let mut reasons = Vec::new();
    if !https {
        reasons.push("not served over HTTPS");
    }
    let directives: Vec<&str> = header
        .map(|v| v.split(';').map(str::trim).collect())
        .unwrap_or_default();
    let has = |name: &str| directives.iter().any(|d| d.eq_ignore_ascii_case(name));
    match header {
        None => reasons.push("no Strict-Transport-Security header"),
        Some(v) => {
            if observatory::max_age(v).is_none_or(|a| a < 31_536_000) {
                reasons.push("max-age under 31536000 seconds");
            }
            if !has("includeSubDomains") {
                reasons.push("no includeSubDomains directive");
            }
            if !has("preload") {
                reasons.push("no preload directive");
            }
        }
    }
    HstsPreload {
        ready: reasons.is_empty(),
        reasons,
    }
}

impl Headers {
    fn findings(&self, target: &Target, s: &observatory::ObsScore) -> Vec<ProbeFinding> {
        let mut out = Vec::new();
        let test = |name: &str| s.tests.iter().find(|t| t.test == name);
        let mut add = |k: &FindingKind, name: &str| {
            if let Some(t) = test(name) {
                let text = format!("{}: {} ({:+})", t.test, t.result, t.modifier);
                out.push(k.finding(
                    target,
                    "",
                    text,
                    json!({"test": t.test, "result": t.result, "modifier": t.modifier}),
                ));
            }
        };
        if let Some(t) = test("content-security-policy") {
            if t.result.starts_with("csp-not-implemented") || t.result == "csp-header-invalid" {
                add(&CSP_MISSING, "content-security-policy");
            } else if t.modifier < 0 {
                add(&CSP_UNSAFE, "content-security-policy");
            }
        }
        if let Some(t) = test("strict-transport-security") {
            match t.result {
                "hsts-not-implemented" | "hsts-header-invalid" => {
                    add(&HSTS_MISSING, "strict-transport-security")
                }
                "hsts-implemented-max-age-less-than-six-months" => {
                    add(&HSTS_SHORT, "strict-transport-security")
                }
                _ => {}
            }
        }
        if test("x-frame-options").is_some_and(|t| t.modifier < 0) {
            add(&XFO_MISSING, "x-frame-options");
        }
        if test("x-content-type-options").is_some_and(|t| t.modifier < 0) {
            add(&XCTO_MISSING, "x-content-type-options");
        }
        if test("cookies").is_some_and(|t| t.modifier <= -20) {
            add(&COOKIE_INSECURE, "cookies");
        }
        if test("cross-origin-resource-sharing").is_some_and(|t| t.modifier < 0) {
            add(&CORS_OPEN, "cross-origin-resource-sharing");
        }
        if s.score < self.cfg.min_score {
            let sev = if s.score < 40 {
                Severity::Medium
            } else {
                Severity::Low
            };
            let text = format!(
                "Observatory score {} ({}), below {}",
                s.score, s.grade, self.cfg.min_score
            );
            out.push(OBSERVATORY.finding_with(
                sev,
                target,
                "",
                text,
                json!({"score": s.score, "grade": s.grade}),
            ));
        }
        out
    }
}

#[cfg(test)]
mod preload_tests {
    use super::hsts_preload;

    #[test]
    fn preload_readiness() {
        let ok = hsts_preload(true, Some("max-age=63072000; includeSubDomains; preload"));
        assert!(ok.ready && ok.reasons.is_empty(), "{ok:?}");
        let ok = hsts_preload(
            true,
            Some("Max-Age=\"31536000\";INCLUDESUBDOMAINS ; Preload"),
        );
        assert!(ok.ready, "{ok:?}");
        let short = hsts_preload(true, Some("max-age=86400; includeSubDomains; preload"));
        assert_eq!(short.reasons, vec!["max-age under 31536000 seconds"]);
        let bare = hsts_preload(true, Some("max-age=63072000"));
        assert_eq!(
            bare.reasons,
            vec!["no includeSubDomains directive", "no preload directive"]
        );
        let plain = hsts_preload(false, Some("max-age=63072000; includeSubDomains; preload"));
        assert_eq!(plain.reasons, vec!["not served over HTTPS"]);
        let none = hsts_preload(true, None);
        assert!(!none.ready);
        assert_eq!(none.reasons, vec!["no Strict-Transport-Security header"]);
    }
}
