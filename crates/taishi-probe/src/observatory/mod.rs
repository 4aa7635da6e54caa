//! The MDN HTTP Observatory scoring algorithm, as pure functions.
//!
//! Source: mdn/mdn-http-observatory@94042bb (ALGORITHM_VERSION 6): `src/scanner/index.js`
//! (`analyzeScan`: start at 100, add every modifier to the extra-credit score, only negative ones
//! to the uncurved score, keep the extra credit only when the uncurved score is ≥ 90),
//! `src/grader/charts.js` (`SCORE_TABLE`, `GRADE_CHART`) and `src/grader/grader.js`
//! (`getGradeForScore`: clamp at 0, grade key = min(score − score % 5, 100)). The result names
//! below are the upstream ones so a score can be compared line by line.
//!
//! Simplifications, stated: HSTS preload lists are not consulted (no "preloaded" bonus); CSP
//! is read from headers only (not `<meta>`); the redirection test sees the HTTP→HTTPS chain the
//! prober followed, and an HTTPS target on a non-default port counts as "no HTTP listener".

mod cookies;
mod csp;
mod sri;

use cookies::cookies;
use csp::{csp, xfo};
use serde::Serialize;
use sri::sri;

/// Everything the algorithm looks at, gathered by the headers check.
#[derive(Debug, Clone, Default)]
pub struct ObsInput {
    /// Final response headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Whether the final URL is HTTPS.
    pub https: bool,
    /// Redirect chain as (url, status); first is the starting URL.
    pub chain: Vec<(url::Url, u16)>,
    /// Whether the start URL was HTTP (so the redirection test applies).
    pub started_http: bool,
    /// `<script src>` values with whether each carries `integrity`, when the page is HTML.
    pub scripts: Option<Vec<(String, bool)>>,
    /// `<meta http-equiv>` pairs (name lower-case, content) from the page.
    pub meta_equiv: Vec<(String, String)>,
    /// Whether the final HTTPS response came with a certificate that does not verify.
    pub cert_invalid: bool,
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    /// Test name, e.g. `content-security-policy`.
    pub test: &'static str,
    /// Upstream result name.
    pub result: &'static str,
    /// Score modifier.
    pub modifier: i32,
}

/// The score and grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObsScore {
    /// Final score (may exceed 100).
    pub score: i32,
    /// Letter grade.
    pub grade: &'static str,
    /// Score counting penalties only.
    pub uncurved: i32,
    /// Every test.
    pub tests: Vec<TestResult>,
}

/// `GRADE_CHART`: grade for a score key (multiple of 5, ≤ 100).
pub fn grade_for(score: i32) -> &'static str {
    let key = (score.max(0) - score.max(0) % 5).min(100);
    match key {
        100 => "A+",
        90 | 95 => "A",
        85 => "A-",
        80 => "B+",
        70 | 75 => "B",
        65 => "B-",
        60 => "C+",
        50 | 55 => "C",
        45 => "C-",
        40 => "D+",
        30 | 35 => "D",
        25 => "D-",
        _ => "F",
    }
}

/// Runs all twelve tests and combines them.
pub fn score(input: &ObsInput) -> ObsScore {
    let get = |n: &str| {
        input
            .headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.trim().to_string())
    };
    let hsts_ok = input.https
        && get("strict-transport-security")
            .and_then(|v| max_age(&v))
            .is_some_and(|a| a >= 15_768_000);
    let csp_header = get("content-security-policy");
    // A policy in <meta http-equiv> counts when no header is sent, minus the directives that
    // are ignored in meta (frame-ancestors, report-uri, sandbox).
    let meta = |n: &'static str| {
        input
            .meta_equiv
            .iter()
            .filter(move |(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    let csp_effective = csp_header.clone().or_else(|| {
        meta("content-security-policy").next().map(|v| {
            v.split(';')
                .filter(|d| {
                    let name = d
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    !matches!(name.as_str(), "frame-ancestors" | "report-uri" | "sandbox")
                })
                .collect::<Vec<_>>()
                .join(";")
        })
    });
    // Header values first, then meta (the last valid value wins).
    let referrer_values: Vec<String> = input
        .headers
        .iter()
        .filter(|(k, _)| k == "referrer-policy")
        .map(|(_, v)| v.clone())
        .chain(meta("referrer-policy"))
        .collect();
    let referrer_joined = (!referrer_values.is_empty()).then(|| referrer_values.join(", "));
    let tests = vec![
        csp(
            csp_effective.as_deref(),
            get("content-security-policy-report-only").is_some(),
            input.https,
        ),
        cookies(input, hsts_ok),
        cors(
            get("access-control-allow-origin").as_deref(),
            get("access-control-allow-credentials").as_deref(),
        ),
        redirection(input),
        referrer(referrer_joined.as_deref()),
        hsts(
            input.https,
            input.cert_invalid,
            get("strict-transport-security").as_deref(),
        ),
        sri(input),
        xcto(get("x-content-type-options").as_deref()),
        xfo(get("x-frame-options").as_deref(), csp_header.as_deref()),
        simple(
            "cross-origin-resource-policy",
            get("cross-origin-resource-policy").as_deref(),
            &["same-origin", "same-site"],
            &["cross-origin"],
        ),
        simple(
            "cross-origin-embedder-policy",
            get("cross-origin-embedder-policy").as_deref(),
            &["require-corp", "credentialless"],
            &["unsafe-none"],
        ),
        simple(
            "cross-origin-opener-policy",
            get("cross-origin-opener-policy").as_deref(),
            &[
                "same-origin",
                "same-origin-allow-popups",
                "noopener-allow-popups",
            ],
            &["unsafe-none"],
        ),
    ];
    let mut extra = 100;
    let mut uncurved = 100;
    for t in &tests {
        extra += t.modifier;
        if t.modifier < 0 {
            uncurved += t.modifier;
        }
    }
    let score = if uncurved >= 90 { extra } else { uncurved }.max(0);
    ObsScore {
        score,
        grade: grade_for(score),
        uncurved,
        tests,
    }
}

pub(super) fn r(test: &'static str, result: &'static str, modifier: i32) -> TestResult {
    TestResult {
        test,
        result,
        modifier,
    }
}

fn cors(acao: Option<&str>, acac: Option<&str>) -> TestResult {
    const T: &str = "cross-origin-resource-sharing";
    match (acao, acac) {
        (None, _) => r(T, "cross-origin-resource-sharing-not-implemented", 0),
        (Some(_), Some(c)) if c.eq_ignore_ascii_case("true") => r(
            T,
            "cross-origin-resource-sharing-implemented-with-universal-access",
            -50,
        ),
        (Some("*"), _) => r(
            T,
            "cross-origin-resource-sharing-implemented-with-public-access",
            0,
        ),
        (Some(_), _) => r(
            T,
            "cross-origin-resource-sharing-implemented-with-restricted-access",
            0,
        ),
    }
}

fn redirection(input: &ObsInput) -> TestResult {
    const T: &str = "redirection";
    if !input.started_http {
        return r(T, "redirection-not-needed-no-http", 0);
    }
    let Some(last) = input.chain.last() else {
        return r(T, "redirection-missing", -20);
    };
    if input.cert_invalid && last.0.scheme() == "https" {
        return r(T, "redirection-invalid-cert", -20);
    }
    if input.chain.len() < 2 {
        return r(T, "redirection-missing", -20);
    }
    let first_hop = &input.chain[1].0;
    if last.0.scheme() != "https" {
        return r(T, "redirection-not-to-https", -20);
    }
    if first_hop.scheme() != "https" {
        return r(T, "redirection-not-to-https-on-initial-redirection", -10);
    }
    if first_hop.host_str() != input.chain[0].0.host_str() {
        return r(T, "redirection-off-host-from-http", -5);
    }
    r(T, "redirection-to-https", 0)
}

fn referrer(v: Option<&str>) -> TestResult {
    const T: &str = "referrer-policy";
    let Some(v) = v else {
        return r(T, "referrer-policy-not-implemented", 0);
    };
    const GOOD: [&str; 4] = [
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ];
    const BAD: [&str; 4] = [
        "origin",
        "origin-when-cross-origin",
        "unsafe-url",
        "no-referrer-when-downgrade",
    ];
    // Browsers use the last policy they understand.
    let last = v
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .rfind(|s| GOOD.contains(&s.as_str()) || BAD.contains(&s.as_str()));
    match last {
        Some(p) if GOOD.contains(&p.as_str()) => r(T, "referrer-policy-private", 5),
        Some(_) => r(T, "referrer-policy-unsafe", -5),
        None => r(T, "referrer-policy-header-invalid", -5),
    }
}

/// The max-age of an HSTS header, if it parses.
pub fn max_age(v: &str) -> Option<u64> {
    v.split(';').find_map(|p| {
        let (k, val) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("max-age") {
            val.trim().trim_matches('"').parse().ok()
        } else {
            None
        }
    })
}

fn hsts(https: bool, cert_invalid: bool, v: Option<&str>) -> TestResult {
    const T: &str = "strict-transport-security";
    if !https {
        return r(T, "hsts-not-implemented-no-https", -20);
    }
    if cert_invalid {
        return r(T, "hsts-invalid-cert", -20);
    }
    match v.map(max_age) {
        None => r(T, "hsts-not-implemented", -20),
        Some(None) => r(T, "hsts-header-invalid", -20),
        Some(Some(age)) if age >= 15_768_000 => {
            r(T, "hsts-implemented-max-age-at-least-six-months", 0)
        }
        Some(Some(_)) => r(T, "hsts-implemented-max-age-less-than-six-months", -10),
    }
}

fn xcto(v: Option<&str>) -> TestResult {
    const T: &str = "x-content-type-options";
    match v {
        None => r(T, "x-content-type-options-not-implemented", -5),
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => {
            r(T, "x-content-type-options-nosniff", 0)
        }
        Some(_) => r(T, "x-content-type-options-header-invalid", -5),
    }
}

/// CORP, COEP and COOP share one shape: good values +10 (+10 for CORP), neutral 0, invalid −5.
fn simple(test: &'static str, v: Option<&str>, good: &[&str], neutral: &[&str]) -> TestResult {
    let Some(v) = v else {
        return r(test, "not-implemented", 0);
    };
    let v = v
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if good.contains(&v.as_str()) {
        r(test, "implemented-good", 10)
    } else if neutral.contains(&v.as_str()) {
        r(test, "implemented-neutral", 0)
    } else {
        r(test, "header-invalid", -5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn grade_chart_steps() {
        assert_eq!(grade_for(150), "A+");
        assert_eq!(grade_for(100), "A+");
        assert_eq!(grade_for(99), "A");
        assert_eq!(grade_for(85), "A-");
        assert_eq!(grade_for(64), "C+");
        assert_eq!(grade_for(35), "D");
        assert_eq!(grade_for(24), "F");
        assert_eq!(grade_for(-10), "F");
    }

    #[test]
    fn bonus_only_when_penalty_score_at_least_90() {
        // CSP +10 only, nothing else wrong except XCTO −5: uncurved 95 → 100 + 10 − 5 + 5 (XFO) = 110.
        let u = url::Url::parse("https://a.example/").unwrap();
        let input = ObsInput {
            headers: hs(&[
                ("content-security-policy", "default-src 'none'"),
                ("strict-transport-security", "max-age=31536000"),
                ("x-frame-options", "DENY"),
            ]),
            https: true,
            chain: vec![(u, 200)],
            started_http: false,
            scripts: Some(vec![]),
            ..Default::default()
        };
        let s = score(&input);
        assert_eq!(s.uncurved, 95);
        assert_eq!(s.score, 110);
        assert_eq!(s.grade, "A+");
        // Same bonuses with HSTS missing (−20): uncurved 75 < 90, bonuses dropped.
        let mut input2 = input.clone();
        input2
            .headers
            .retain(|(n, _)| n != "strict-transport-security");
        let s = score(&input2);
        assert_eq!((s.uncurved, s.score, s.grade), (75, 75, "B"));
    }

    #[test]
    fn cookie_rules() {
        let mk = |c: &str, https| ObsInput {
            headers: hs(&[("set-cookie", c)]),
            https,
            ..Default::default()
        };
        assert_eq!(cookies(&mk("sessionid=1", false), false).modifier, -40);
        assert_eq!(
            cookies(&mk("sessionid=1; Secure", true), true).modifier,
            -30
        );
        assert_eq!(cookies(&mk("pref=1", false), false).modifier, -20);
        assert_eq!(
            cookies(&mk("sid=1; Secure; HttpOnly; SameSite=Lax", true), true).modifier,
            5
        );
        assert_eq!(
            cookies(&mk("sid=1; Secure; HttpOnly", true), true).modifier,
            0
        );
    }

    #[test]
    fn csp_rules() {
        let m = |v: &str| csp(Some(v), false, true).modifier;
        assert_eq!(
            m("default-src 'self'; script-src 'self' 'unsafe-inline'"),
            -20
        );
        assert_eq!(
            m("default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-abc'"),
            5
        );
        assert_eq!(
            m("default-src 'self'; script-src 'self' 'unsafe-eval'"),
            -10
        );
        assert_eq!(m("default-src 'self'"), 5);
        assert_eq!(m("default-src 'none'; script-src 'self'"), 10);
        assert_eq!(
            m("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'"),
            0
        );
        assert_eq!(m("default-src 'self'; img-src http://cdn.example"), -10);
        assert_eq!(
            m("default-src 'self'; script-src 'self' http://cdn.example"),
            -20
        );
        assert_eq!(
            csp(
                Some("default-src 'self'; script-src 'self' http://cdn.example"),
                false,
                false
            )
            .modifier,
            5
        );
        assert_eq!(m("script-src 'self'"), -20, "object-src unrestricted");
        assert_eq!(m("img-src 'self'"), -20);
        assert_eq!(m("default-src 'self'; default-src 'none'"), -25);
        assert_eq!(m("default-src 'self'; report-uri /a; report-uri /b"), 5);
        assert_eq!(m("script-src 'strict-dynamic'; object-src 'none'"), -25);
        assert_eq!(m("a"), -25);
        assert_eq!(
            csp(None, true, true).result,
            "csp-not-implemented-but-reporting-enabled"
        );
    }

    #[test]
    fn sri_rules() {
        let page = |html_scripts: Vec<(&str, bool)>, https: bool| {
            let u = url::Url::parse(if https {
                "https://www.example.gov.cn/"
            } else {
                "http://www.example.gov.cn/"
            })
            .unwrap();
            let input = ObsInput {
                https,
                chain: vec![(u, 200)],
                scripts: Some(
                    html_scripts
                        .into_iter()
                        .map(|(s, i)| (s.to_string(), i))
                        .collect(),
                ),
                ..Default::default()
            };
            sri(&input).modifier
        };
        assert_eq!(page(vec![("/app.js", true)], true), 5);
        assert_eq!(page(vec![("/app.js", false)], true), 0);
        assert_eq!(
            page(vec![("https://static.example.gov.cn/a.js", false)], true),
            0,
            "same registrable domain"
        );
        assert_eq!(page(vec![("https://cdn.other.net/a.js", false)], true), -5);
        assert_eq!(page(vec![("https://cdn.other.net/a.js", true)], true), 5);
        assert_eq!(page(vec![("http://cdn.other.net/a.js", true)], true), -20);
        assert_eq!(page(vec![("//cdn.other.net/a.js", false)], true), -50);
        assert_eq!(
            page(
                vec![("/app.js", true), ("http://cdn.other.net/a.js", false)],
                true
            ),
            -50
        );
        assert_eq!(page(vec![], true), 0);
    }
}
