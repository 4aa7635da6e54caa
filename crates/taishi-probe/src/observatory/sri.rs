//! The subresource-integrity test (upstream `src/analyzer/tests/subresource-integrity.js`).

use super::{ObsInput, TestResult, r};

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

pub(super) fn sri(input: &ObsInput) -> TestResult {
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
