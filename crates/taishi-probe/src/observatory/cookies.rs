//! The cookies test (upstream `src/analyzer/tests/cookies.js`).

use super::{ObsInput, TestResult, r};

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
pub(super) fn cookies(input: &ObsInput, hsts: bool) -> TestResult {
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
