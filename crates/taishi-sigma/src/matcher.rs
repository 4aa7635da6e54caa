//! Compiled value matchers: what one Sigma value (after its modifiers) tests on one field value.
//!
//! Case-insensitive matching lowercases both sides with [`lower_into`], a per-character mapping;
//! because it maps each character independently, a lowercased needle occurs in a lowercased
//! haystack whenever the needle occurs in the haystack — the property the literal prefilter relies on.

use std::net::IpAddr;

use ipnet::IpNet;
use taishi_fields::{FieldSource, Value};

/// Lowercases `s` into `out` (cleared first), character by character.
pub fn lower_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// Lowercases `s` with the same mapping as [`lower_into`].
pub fn lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    lower_into(s, &mut out);
    out
}

/// How a literal is compared with a field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    /// Whole value.
    Eq,
    /// Prefix.
    Starts,
    /// Suffix.
    Ends,
    /// Substring.
    Contains,
}

impl StrOp {
    fn apply(self, hay: &str, needle: &str) -> bool {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        // Comparing one byte first avoids most calls to memcmp for lists of suffixes.
        match self {
            StrOp::Eq => h.len() == n.len() && h.last() == n.last() && h == n,
            StrOp::Starts => h.len() >= n.len() && h.first() == n.first() && h.starts_with(n),
            StrOp::Ends => h.len() >= n.len() && h.last() == n.last() && h.ends_with(n),
            StrOp::Contains => {
                needle.is_empty()
                    || memchr::memmem::find(hay.as_bytes(), needle.as_bytes()).is_some()
            }
        }
    }
}

/// Numeric comparison of the `gt`/`gte`/`lt`/`lte` modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
}

/// The date part extracted by the 2.1 time modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    /// 0–59.
    Minute,
    /// 0–23.
    Hour,
    /// 1–31.
    Day,
    /// ISO week 1–53.
    Week,
    /// 1–12.
    Month,
    /// The year.
    Year,
}

/// A regular expression of the `re` modifier: the linear-time `regex` crate, or `fancy-regex`
/// only when the pattern needs look-around or back-references.
#[derive(Debug, Clone)]
pub enum Rx {
    /// Linear-time engine.
    Std(regex::Regex),
    /// Backtracking engine for look-around and back-references.
    Fancy(Box<fancy_regex::Regex>),
}

impl Rx {
    /// Compiles `pattern`, trying the linear-time engine first.
    pub fn new(pattern: &str) -> Result<Rx, String> {
        match regex::RegexBuilder::new(pattern)
            .size_limit(8 << 20)
            .build()
        {
            Ok(r) => Ok(Rx::Std(r)),
            Err(std_err) => fancy_regex::Regex::new(pattern)
                .map(|r| Rx::Fancy(Box::new(r)))
                .map_err(|_| format!("invalid regular expression: {std_err}")),
        }
    }

    fn is_match(&self, s: &str) -> bool {
        match self {
            Rx::Std(r) => r.is_match(s),
            Rx::Fancy(r) => r.is_match(s).unwrap_or(false),
        }
    }
}

/// One compiled value test.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A literal with an operation; `needle` is lowercased unless `cased`.
    Str {
        /// The operation.
        op: StrOp,
        /// The literal.
        needle: Box<str>,
        /// Case-sensitive (`cased` modifier).
        cased: bool,
        /// A precompiled substring searcher for `Contains`.
        finder: Option<Box<memchr::memmem::Finder<'static>>>,
    },
    /// A wildcard pattern that is not a plain prefix/suffix/substring.
    Glob {
        /// Anchored regex over the (lowercased unless cased) value.
        re: regex::Regex,
        /// Case-sensitive.
        cased: bool,
        /// The longest literal run, lowercased, for the prefilter.
        literal: Box<str>,
    },
    /// The `re` modifier: matched against the original text.
    Regex(Rx),
    /// An integer rule value: equal to an integer field or to its decimal text.
    Int {
        /// The number.
        value: i64,
        /// Its decimal text.
        text: Box<str>,
    },
    /// `gt`/`gte`/`lt`/`lte`.
    Cmp {
        /// The comparison.
        op: CmpOp,
        /// The bound.
        value: f64,
    },
    /// `cidr`.
    Cidr(IpNet),
    /// `null`: the field is absent or explicitly null, never an empty string. The Sigma spec
    /// (rules specification, "Special Field Values") defines `''` as the empty value and `null`
    /// as the null value, and its valid example needs `1 of selection_empty*` over both to
    /// accept either, so the two are distinct.
    Null,
    /// `''`: the field is empty or null.
    Empty,
    /// `fieldref`: compare with the values of another field of the same event.
    FieldRef {
        /// The other field.
        field: Box<str>,
        /// How.
        op: StrOp,
        /// Case-sensitive.
        cased: bool,
    },
    /// 2.1 time modifiers: a number taken from a date, then compared.
    TimePart {
        /// Which part.
        part: TimePart,
        /// The test on the extracted number.
        inner: Box<Matcher>,
    },
}

impl Matcher {
    /// A literal matcher, with a precompiled searcher for non-empty substrings.
    pub fn string(op: StrOp, needle: String, cased: bool) -> Matcher {
        let finder = (op == StrOp::Contains && !needle.is_empty())
            .then(|| Box::new(memchr::memmem::Finder::new(needle.as_bytes()).into_owned()));
        Matcher::Str {
            op,
            needle: needle.into(),
            cased,
            finder,
        }
    }

    /// Whether the matcher reads nothing but the lowercased text of a non-null value.
    pub fn lower_only(&self) -> bool {
        matches!(
            self,
            Matcher::Str { cased: false, .. } | Matcher::Glob { cased: false, .. }
        )
    }

    /// Tests a lowercased value; only for matchers where [`Matcher::lower_only`] holds.
    pub fn matches_lower(&self, low: &str) -> bool {
        match self {
            Matcher::Str {
                op, needle, finder, ..
            } => match finder {
                Some(f) => f.find(low.as_bytes()).is_some(),
                None => op.apply(low, needle),
            },
            Matcher::Glob { re, .. } => re.is_match(low),
            _ => false,
        }
    }

    /// Whether the matcher reads the lowercased text of the value.
    pub fn needs_lower(&self) -> bool {
        match self {
            Matcher::Str { cased, .. }
            | Matcher::Glob { cased, .. }
            | Matcher::FieldRef { cased, .. } => !cased,
            _ => false,
        }
    }

    /// A literal (lowercased) that must occur in the lowercased text of any value this matcher
    /// accepts; `None` when there is no such guarantee. Feeds the Aho-Corasick prefilter.
    pub fn literal(&self) -> Option<String> {
        match self {
            Matcher::Str { needle, cased, .. } => Some(if *cased {
                lower(needle)
            } else {
                needle.to_string()
            }),
            Matcher::Glob { literal, .. } => Some(literal.to_string()),
            Matcher::Int { text, .. } => Some(text.to_string()),
            _ => None,
        }
    }

    /// Relative evaluation cost, used to test cheap conditions first inside an `and`.
    pub fn cost(&self) -> u32 {
        match self {
            Matcher::Int { .. } | Matcher::Null | Matcher::Empty | Matcher::Cmp { .. } => 1,
            Matcher::Str { .. } | Matcher::Cidr(_) => 2,
            Matcher::FieldRef { .. } | Matcher::TimePart { .. } => 4,
            Matcher::Glob { .. } => 6,
            Matcher::Regex(_) => 10,
        }
    }

    /// Tests one value. `orig` is the value's text (`None` for null), `low` its lowercased text
    /// (filled only when [`Matcher::needs_lower`] said so), `event` the whole event for `fieldref`.
    pub fn matches(
        &self,
        v: &Value<'_>,
        orig: Option<&str>,
        low: &str,
        event: &dyn FieldSource,
    ) -> bool {
        match self {
            Matcher::Str {
                op,
                needle,
                cased,
                finder,
            } => match orig {
                None => false,
                Some(o) => {
                    let hay = if *cased { o } else { low };
                    match finder {
                        Some(f) => f.find(hay.as_bytes()).is_some(),
                        None => op.apply(hay, needle),
                    }
                }
            },
            Matcher::Glob { re, cased, .. } => match orig {
                None => false,
                Some(o) => re.is_match(if *cased { o } else { low }),
            },
            Matcher::Regex(rx) => orig.is_some_and(|o| rx.is_match(o)),
            Matcher::Int { value, text } => match v {
                Value::Int(i) => i == value,
                Value::Float(f) => *f == *value as f64,
                Value::Str(s) => s.as_ref() == text.as_ref() || s.trim() == text.as_ref(),
                Value::Bool(_) | Value::Null => false,
            },
            Matcher::Cmp { op, value } => number(v).is_some_and(|n| match op {
                CmpOp::Gt => n > *value,
                CmpOp::Gte => n >= *value,
                CmpOp::Lt => n < *value,
                CmpOp::Lte => n <= *value,
            }),
            Matcher::Cidr(net) => orig
                .and_then(parse_ip)
                .is_some_and(|ip| cidr_contains(net, ip)),
            // Absence is handled by the caller; here a present value is null or not.
            Matcher::Null => orig.is_none(),
            Matcher::Empty => orig.is_none_or(str::is_empty),
            Matcher::FieldRef { field, op, cased } => {
                let Some(o) = orig else { return false };
                let mut found = false;
                let mut other_low = String::new();
                event.visit_field(field, &mut |w| {
                    if found {
                        return;
                    }
                    if let Some(t) = w.as_text() {
                        found = if *cased {
                            op.apply(o, &t)
                        } else {
                            lower_into(&t, &mut other_low);
                            op.apply(low, &other_low)
                        };
                    }
                });
                found
            }
            Matcher::TimePart { part, inner } => {
                let Some(n) = orig.and_then(|o| time_part(o, *part)) else {
                    return false;
                };
                let text = n.to_string();
                inner.matches(&Value::Int(n), Some(&text), &text, event)
            }
        }
    }
}

fn number(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Str(s) => {
            let t = s.trim();
            match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16).ok().map(|i| i as f64),
                None => t.parse().ok(),
            }
        }
        other => other.as_f64(),
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let t = s.trim().trim_start_matches('[').trim_end_matches(']');
    let t = t.split('%').next().unwrap_or(t);
    t.parse().ok()
}

fn cidr_contains(net: &IpNet, ip: IpAddr) -> bool {
    if net.contains(&ip) {
        return true;
    }
    match (net, ip) {
        (IpNet::V4(n), IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_some_and(|v4| n.contains(&v4)),
        _ => false,
    }
}

/// Extracts a date part from text like `2024-03-05T10:20:30Z` or `2024-03-05 10:20:30.123`.
fn time_part(s: &str, part: TimePart) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        if d.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(d).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(match part {
        TimePart::Year => y,
        TimePart::Month => m,
        TimePart::Day => d,
        TimePart::Week => iso_week(y, m, d),
        TimePart::Hour | TimePart::Minute => {
            if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
                return None;
            }
            if part == TimePart::Hour {
                num(11..13)?
            } else {
                num(14..16)?
            }
        }
    })
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn iso_week(y: i64, m: i64, d: i64) -> i64 {
    let days = days_from_civil(y, m, d);
    let weekday = (days + 3).rem_euclid(7) + 1; // Monday = 1
    let ordinal = days - days_from_civil(y, 1, 1) + 1;
    let week = (ordinal - weekday + 10) / 7;
    let weeks_in = |yy: i64| {
        let jan1 = (days_from_civil(yy, 1, 1) + 3).rem_euclid(7) + 1;
        let leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
        if jan1 == 4 || (leap && jan1 == 3) {
            53
        } else {
            52
        }
    };
    if week < 1 {
        weeks_in(y - 1)
    } else if week > weeks_in(y) {
        1
    } else {
        week
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_parts() {
        assert_eq!(time_part("2024-03-05T10:20:30Z", TimePart::Hour), Some(10));
        assert_eq!(
            time_part("2024-03-05 10:20:30.1", TimePart::Minute),
            Some(20)
        );
        assert_eq!(time_part("2024-03-05", TimePart::Month), Some(3));
        assert_eq!(time_part("2021-01-01", TimePart::Week), Some(53));
        assert_eq!(time_part("2024-12-30", TimePart::Week), Some(1));
        assert_eq!(time_part("2024-06-15", TimePart::Week), Some(24));
        assert_eq!(time_part("not a date", TimePart::Year), None);
    }

    #[test]
    fn lowering_is_per_character() {
        assert_eq!(lower("C:\\WINDOWS\\ÄÖ"), "c:\\windows\\äö");
        assert_eq!(
            parse_ip("::ffff:10.1.2.3").map(|ip| cidr_contains(&"10.0.0.0/8".parse().unwrap(), ip)),
            Some(true)
        );
    }
}
