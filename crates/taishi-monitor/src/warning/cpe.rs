//! CPE 2.3 names and version ranges, as NVD's `cpeMatch` criteria use them. Pure functions.

use std::cmp::Ordering;

/// A parsed CPE 2.3 formatted string: the eleven components after `cpe:2.3:`, unescaped and
/// lower-cased (`*` any, `-` not applicable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpe {
    /// part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other.
    pub parts: [String; 11],
}

impl Cpe {
    /// Parses `cpe:2.3:…`; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Cpe> {
        let rest = text.strip_prefix("cpe:2.3:")?;
        let mut out: Vec<String> = Vec::with_capacity(11);
        let mut cur = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => cur.extend(chars.next()),
                ':' => out.push(std::mem::take(&mut cur).to_lowercase()),
                c => cur.push(c),
            }
        }
        out.push(cur.to_lowercase());
        let parts: [String; 11] = out.try_into().ok()?;
        parts.iter().all(|p| !p.is_empty()).then_some(Cpe { parts })
    }

    /// The CPE a software line without one stands for: vendor and product normalised the way NVD writes
    /// them (lower case, spaces as `_`), any part.
    pub fn derived(vendor: &str, product: &str, version: &str) -> Cpe {
        let v = if version.trim().is_empty() {
            "*".to_owned()
        } else {
            version.trim().to_lowercase()
        };
        let any = || "*".to_owned();
        Cpe {
            parts: [
                any(),
                norm(vendor),
                norm(product),
                v,
                any(),
                any(),
                any(),
                any(),
                any(),
                any(),
                any(),
            ],
        }
    }

    /// Vendor.
    pub fn vendor(&self) -> &str {
        &self.parts[1]
    }

    /// Product.
    pub fn product(&self) -> &str {
        &self.parts[2]
    }

    /// Version (`*` when unknown).
    pub fn version(&self) -> &str {
        &self.parts[3]
    }
}

/// Normalises a vendor or product name for comparison: lower case, runs of anything but letters and
/// digits become one `_` (`HTTP Server` → `http_server`).
pub fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// Compares two version strings the way product versions are usually written: split into runs of
/// digits and of letters (dots, dashes and underscores separate), numbers numerically; a missing
/// trailing part counts as zero, so `1.2` equals `1.2.0`.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let ta = tokens(a);
    let tb = tokens(b);
    let n = ta.len().max(tb.len());
    for i in 0..n {
        let x = ta.get(i).map_or("0", String::as_str);
        let y = tb.get(i).map_or("0", String::as_str);
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            // A release sorts after its pre-releases: 1.0 > 1.0rc1.
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn tokens(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digit = None;
    for c in v.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            let d = c.is_ascii_digit();
            if digit.is_some_and(|p| p != d) && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            digit = Some(d);
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            digit = None;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Version bounds of a `cpeMatch` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    /// `versionStartIncluding`.
    pub start_incl: Option<String>,
    /// `versionStartExcluding`.
    pub start_excl: Option<String>,
    /// `versionEndIncluding`.
    pub end_incl: Option<String>,
    /// `versionEndExcluding`.
    pub end_excl: Option<String>,
}

impl Range {
    /// True when no bound is set.
    pub fn is_empty(&self) -> bool {
        self.start_incl.is_none()
            && self.start_excl.is_none()
            && self.end_incl.is_none()
            && self.end_excl.is_none()
    }

    /// Whether `v` lies within every bound.
    pub fn contains(&self, v: &str) -> bool {
        use Ordering::*;
        self.start_incl
            .as_deref()
            .is_none_or(|s| compare_versions(v, s) != Less)
            && self
                .start_excl
                .as_deref()
                .is_none_or(|s| compare_versions(v, s) == Greater)
            && self
                .end_incl
                .as_deref()
                .is_none_or(|e| compare_versions(v, e) != Greater)
            && self
                .end_excl
                .as_deref()
                .is_none_or(|e| compare_versions(v, e) == Less)
    }
}

/// Whether the software `sw` (with a known version) satisfies the criteria `c` with bounds `r`.
pub fn satisfies(c: &Cpe, r: &Range, sw: &Cpe) -> bool {
    for i in 0..11 {
        if i == 3 {
            continue;
        }
        let (a, b) = (c.parts[i].as_str(), sw.parts[i].as_str());
        if a != "*" && b != "*" && a != b {
            return false;
        }
    }
    let (cv, sv) = (c.version(), sw.version());
    if sv == "*" || sv == "-" {
        // Unknown version: only criteria that do not depend on it.
        return (cv == "*" || cv == "-") && r.is_empty() && sv == "*";
    }
    let exact = cv == "*" || cv == "-" || compare_versions(cv, sv) == Ordering::Equal;
    exact && r.contains(sv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let c = Cpe::parse("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*").unwrap();
        assert_eq!(
            (c.vendor(), c.product(), c.version()),
            ("apache", "http_server", "2.4.49")
        );
        let c = Cpe::parse(r"cpe:2.3:a:ex\:ample:x:1:*:*:*:*:*:*:*").unwrap();
        assert_eq!(c.vendor(), "ex:ample");
        assert!(Cpe::parse("cpe:2.3:a:b").is_none());
        assert!(Cpe::parse("cpe:/a:apache").is_none());
        assert_eq!(norm(" HTTP  Server "), "http_server");
        assert_eq!(Cpe::derived("Apache", "HTTP Server", "").version(), "*");
    }

    #[test]
    fn versions_and_ranges() {
        use Ordering::*;
        assert_eq!(compare_versions("1.2", "1.2.0"), Equal);
        assert_eq!(compare_versions("1.10", "1.9"), Greater);
        assert_eq!(compare_versions("2.4.49", "2.4.50"), Less);
        assert_eq!(compare_versions("1.0rc1", "1.0"), Less);
        assert_eq!(compare_versions("9.0.0.M1", "9.0.0"), Less);
        let r = Range {
            start_incl: Some("2.4.0".into()),
            end_excl: Some("2.4.50".into()),
            ..Range::default()
        };
        assert!(r.contains("2.4.49") && r.contains("2.4.0"));
        assert!(!r.contains("2.4.50") && !r.contains("2.3.9"));
        let crit = Cpe::parse("cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*").unwrap();
        assert!(satisfies(
            &crit,
            &r,
            &Cpe::derived("Apache", "HTTP Server", "2.4.49")
        ));
        assert!(!satisfies(
            &crit,
            &r,
            &Cpe::derived("Apache", "HTTP Server", "")
        ));
        assert!(!satisfies(
            &crit,
            &r,
            &Cpe::derived("Apache", "Tomcat", "2.4.49")
        ));
        let exact = Cpe::parse("cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*").unwrap();
        assert!(satisfies(
            &exact,
            &Range::default(),
            &Cpe::derived("Microsoft", "Windows", "")
        ));
    }
}
