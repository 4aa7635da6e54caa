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

use serde::Serialize;

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

fn r(test: &'static str, result: &'static str, modifier: i32) -> TestResult {
    TestResult {
        test,
        result,
        modifier,
    }
}

/// Parses the first CSP policy into (directive, sources). `None` is "csp-header-invalid": a
/// policy shorter than the shortest useful one, or a repeated directive other than
/// report-uri/report-to. A `-src` directive with no sources means `'none'`.
fn parse_csp(v: &str) -> Option<Vec<(String, Vec<String>)>> {
    // Several policies (comma-separated) are intersected upstream; we analyse the first.
    let policy = v
        .split(',')
        .next()
        .unwrap_or_default()
        .replace(['\r', '\n'], "");
    let policy = policy.trim();
    if policy.len() < "img-src".len() - 1 {
        return None;
    }
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for part in policy.split(';') {
        let mut words = part.split_whitespace();
        let Some(name) = words.next() else { continue };
        let name = name.to_ascii_lowercase();
        if out.iter().any(|(n, _)| *n == name) {
            if name == "report-uri" || name == "report-to" {
                continue;
            }
            return None;
        }
        let mut sources: Vec<String> = words.map(|w| w.to_lowercase()).collect();
        if sources.is_empty() && name.ends_with("-src") {
            sources.push("'none'".into());
        }
        out.push((name, sources));
    }
    if out.is_empty() { None } else { Some(out) }
}

/// Sources the upstream test calls "dangerously broad".
const BROAD: [&str; 8] = [
    "ftp:",
    "http:",
    "https:",
    "*",
    "http://*",
    "http://*.*",
    "https://*",
    "https://*.*",
];

fn csp(header: Option<&str>, report_only: bool, https: bool) -> TestResult {
    const T: &str = "content-security-policy";
    let Some(v) = header else {
        return if report_only {
            r(T, "csp-not-implemented-but-reporting-enabled", -25)
        } else {
            r(T, "csp-not-implemented", -25)
        };
    };
    let Some(dirs) = parse_csp(v) else {
        return r(T, "csp-header-invalid", -25);
    };
    let find = |n: &str| dirs.iter().find(|(d, _)| d == n).map(|(_, s)| s.clone());
    let star = || vec!["*".to_string()];
    let object = find("object-src")
        .or_else(|| find("default-src"))
        .unwrap_or_else(star);
    let mut script = find("script-src")
        .or_else(|| find("default-src"))
        .unwrap_or_else(star);
    let mut style = find("style-src")
        .or_else(|| find("default-src"))
        .unwrap_or_else(star);
    let nonce_or_hash = |s: &[String]| {
        s.iter().any(|x| {
            ["'sha256-", "'sha384-", "'sha512-", "'nonce-"]
                .iter()
                .any(|p| x.starts_with(p))
        })
    };
    for list in [&mut script, &mut style] {
        if nonce_or_hash(list) {
            list.retain(|x| x != "'unsafe-inline'");
        }
    }
    if script.iter().any(|x| x == "'strict-dynamic'") {
        if !nonce_or_hash(&script) {
            return r(T, "csp-header-invalid", -25);
        }
        script.retain(|x| {
            !(BROAD.iter().any(|b| x.starts_with(b)) || x == "'self'" || x == "'unsafe-inline'")
        });
    }
    let broad_or_inline =
        |x: &String| BROAD.contains(&x.as_str()) || x == "'unsafe-inline'" || x == "data:";
    let passive = ["img-src", "media-src"];
    let mut active: Vec<String> = dirs
        .iter()
        .filter(|(d, _)| !passive.contains(&d.as_str()) && d != "script-src")
        .flat_map(|(_, s)| s.clone())
        .collect();
    active.extend(script.iter().cloned());
    let passive_sources: Vec<String> = passive
        .iter()
        .flat_map(|d| find(d).or_else(|| find("default-src")).unwrap_or_default())
        .collect();
    let insecure = |s: &[String]| {
        s.iter()
            .any(|x| x.starts_with("http:") || x.starts_with("ftp:"))
    };
    if script.iter().any(broad_or_inline) || object.iter().any(|x| BROAD.contains(&x.as_str())) {
        return r(T, "csp-implemented-with-unsafe-inline", -20);
    }
    if https && insecure(&active) {
        return r(T, "csp-implemented-with-insecure-scheme", -20);
    }
    if script
        .iter()
        .chain(style.iter())
        .any(|x| x == "'unsafe-eval'")
    {
        return r(T, "csp-implemented-with-unsafe-eval", -10);
    }
    if https && insecure(&passive_sources) {
        return r(
            T,
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
        );
    }
    if style.iter().any(broad_or_inline) {
        return r(T, "csp-implemented-with-unsafe-inline-in-style-src-only", 0);
    }
    if find("default-src").is_some_and(|d| d.len() == 1 && d[0] == "'none'") {
        return r(T, "csp-implemented-with-no-unsafe-default-src-none", 10);
    }
    r(T, "csp-implemented-with-no-unsafe", 5)
}

/// One parsed Set-Cookie.
struct Cookie {
    name: String,
    secure: bool,
    httponly: bool,
    samesite: Option<String>,
}

fn parse_cookie(v: &str) -> Cookie {
    let mut parts = v.split(';');
    let name = parts
        .next()
        .unwrap_or_default()
        .split('=')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut c = Cookie {
        name,
        secure: false,
        httponly: false,
        samesite: None,
    };
    for p in parts {
        let (k, val) = p.split_once('=').unwrap_or((p, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "secure" => c.secure = true,
            "httponly" => c.httponly = true,
            "samesite" => c.samesite = Some(val.trim().to_ascii_lowercase()),
            _ => {}
        }
    }
    c
}

/// Cookie results from least to most bad (upstream `goodness`, used by `onlyIfWorse`).
const COOKIE_BADNESS: [(&str, i32); 7] = [
    ("cookies-without-secure-flag-but-protected-by-hsts", -5),
    ("cookies-without-secure-flag", -20),
    (
        "cookies-session-without-secure-flag-but-protected-by-hsts",
        -10,
    ),
    ("cookies-samesite-flag-invalid", -20),
    ("cookies-anticsrf-without-samesite-flag", -20),
    ("cookies-session-without-httponly-flag", -30),
    ("cookies-session-without-secure-flag", -40),
];

/// `hsts` is whether the HSTS test passed (max-age of at least six months over HTTPS).
fn cookies(input: &ObsInput, hsts: bool) -> TestResult {
    const T: &str = "cookies";
    let list: Vec<Cookie> = input
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| parse_cookie(v))
        .filter(|c| !c.name.is_empty() && c.name != "heroku-session-affinity")
        .collect();
    if list.is_empty() {
        return r(T, "cookies-not-found", 0);
    }
    let mut worst: Option<usize> = None;
    let mut mark = |name: &str| {
        let i = COOKIE_BADNESS
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or(0);
        if worst.is_none_or(|w| i > w) {
            worst = Some(i);
        }
    };
    for c in &list {
        let session = c.name.contains("login") || c.name.contains("sess");
        let samesite_ok = match c.samesite.as_deref() {
            None => true,
            Some("lax" | "strict") => true,
            Some("none") => c.secure,
            Some(_) => false,
        };
        if !samesite_ok {
            mark("cookies-samesite-flag-invalid");
        }
        if !c.secure {
            mark(if hsts {
                "cookies-without-secure-flag-but-protected-by-hsts"
            } else {
                "cookies-without-secure-flag"
            });
        }
        if c.name.contains("csrf") && c.samesite.is_none() {
            mark("cookies-anticsrf-without-samesite-flag");
        }
        if session && !c.secure {
            mark(if hsts {
                "cookies-session-without-secure-flag-but-protected-by-hsts"
            } else {
                "cookies-session-without-secure-flag"
            });
        }
        if session && !c.httponly {
            mark("cookies-session-without-httponly-flag");
        }
    }
    match worst {
        Some(i) => r(T, COOKIE_BADNESS[i].0, COOKIE_BADNESS[i].1),
        None if list.iter().any(|c| c.samesite.is_none()) => {
            r(T, "cookies-secure-with-httponly-sessions", 0)
        }
        None => r(T, "cookies-secure-with-httponly-sessions-and-samesite", 5),
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

/// The registrable domain, approximated as the last two labels (no public-suffix list; an IP
/// stays whole).
fn site_domain(host: &str) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host.to_string();
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    labels[labels.len().saturating_sub(2)..]
        .join(".")
        .to_ascii_lowercase()
}

/// SRI results from best to worst (upstream `goodness`).
const SRI_ORDER: [(&str, i32); 6] = [
    ("sri-implemented-and-all-scripts-loaded-securely", 5),
    ("sri-implemented-and-external-scripts-loaded-securely", 5),
    (
        "sri-implemented-but-external-scripts-not-loaded-securely",
        -20,
    ),
    (
        "sri-not-implemented-but-external-scripts-loaded-securely",
        -5,
    ),
    (
        "sri-not-implemented-and-external-scripts-not-loaded-securely",
        -50,
    ),
    ("sri-not-implemented-response-not-html", 0),
];

fn sri(input: &ObsInput) -> TestResult {
    const T: &str = "subresource-integrity";
    let Some(scripts) = &input.scripts else {
        return r(T, "sri-not-implemented-response-not-html", 0);
    };
    if scripts.is_empty() {
        return r(T, "sri-not-implemented-but-no-scripts-loaded", 0);
    }
    let page_host = input
        .chain
        .last()
        .and_then(|(u, _)| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let mut result: Option<usize> = None;
    let set_if_worse = |i: usize, result: &mut Option<usize>| {
        if result.is_none_or(|cur| i > cur) {
            *result = Some(i);
        }
    };
    let mut foreign = false;
    for (src, integrity) in scripts {
        let src = src.trim();
        let relative_protocol = src.starts_with("//") && !src.starts_with("///");
        let full = src.starts_with("http://") || src.starts_with("https://");
        let relative_origin = !relative_protocol && !full;
        let same_site = relative_protocol
            || relative_origin
            || url::Url::parse(src)
                .ok()
                .and_then(|u| u.host_str().map(site_domain))
                .is_some_and(|d| d == site_domain(&page_host));
        let secure_origin = relative_origin || (same_site && !relative_protocol);
        let secure_scheme = src.starts_with("https://") || (relative_origin && input.https);
        if !secure_origin {
            foreign = true;
            let i = match (*integrity, secure_scheme) {
                (true, false) => 2,
                (false, true) => 3,
                (false, false) => 4,
                (true, true) => continue,
            };
            set_if_worse(i, &mut result);
        } else if *integrity && secure_scheme && result.is_none() {
            result = Some(0);
        }
    }
    match result {
        Some(i) => r(T, SRI_ORDER[i].0, SRI_ORDER[i].1),
        None if foreign => r(T, "sri-implemented-and-external-scripts-loaded-securely", 5),
        None => r(
            T,
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
            0,
        ),
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

fn xfo(v: Option<&str>, csp: Option<&str>) -> TestResult {
    const T: &str = "x-frame-options";
    if csp
        .and_then(parse_csp)
        .is_some_and(|d| d.iter().any(|(n, _)| n == "frame-ancestors"))
    {
        return r(T, "x-frame-options-implemented-via-csp", 5);
    }
    let Some(v) = v else {
        return r(T, "x-frame-options-not-implemented", -20);
    };
    let v = v.trim().to_ascii_lowercase();
    if v == "deny" || v == "sameorigin" {
        r(T, "x-frame-options-sameorigin-or-deny", 5)
    } else if v.starts_with("allow-from") {
        r(T, "x-frame-options-allow-from-origin", 0)
    } else {
        r(T, "x-frame-options-header-invalid", -20)
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
