//! The CSP and X-Frame-Options tests (upstream `src/analyzer/tests/csp.js`, `x-frame-options.js`).

use super::{TestResult, r};

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

pub(super) fn csp(header: Option<&str>, report_only: bool, https: bool) -> TestResult {
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

pub(super) fn xfo(v: Option<&str>, csp: Option<&str>) -> TestResult {
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
