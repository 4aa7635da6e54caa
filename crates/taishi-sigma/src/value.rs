//! From `field|mod1|mod2: values` to a compiled field test: Sigma strings with wildcards and
//! escapes, the transformation modifiers (windash, base64, utf16, expand, contains …) applied in
//! order, then the type modifiers (re, cidr, gt …) that decide the matcher.

use std::collections::HashMap;

use base64::Engine as _;

use crate::error::FieldError;
use crate::matcher::{CmpOp, Matcher, Rx, StrOp, TimePart, lower};
use crate::yaml::Yaml;

/// Values for `%name%` placeholders of the `expand` modifier, supplied by the caller.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    /// Placeholder name (without `%`) → the values it stands for (Sigma strings: wildcards allowed).
    pub values: HashMap<String, Vec<String>>,
    /// What to do with a placeholder that has no values.
    pub unknown: UnknownPlaceholder,
}

/// Policy for placeholders missing from [`Placeholders::values`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownPlaceholder {
    /// Reject the rule, as the specification requires of tools that cannot resolve it.
    #[default]
    Reject,
    /// Replace the placeholder with `*` (pySigma's "last resort" `wildcard_placeholders`).
    Wildcard,
}

impl Placeholders {
    /// Reads placeholders from YAML text: a map of name to a value or a list of values.
    ///
    /// # Errors
    /// A message when the text is not such a map.
    pub fn from_yaml(text: &str) -> Result<Placeholders, String> {
        let y = crate::yaml::parse_one(text)?;
        let Yaml::Map(entries) = y else {
            return Err("placeholders must be a map of name to values".into());
        };
        let mut values = HashMap::new();
        for (k, v) in entries {
            let list = match v {
                Yaml::Seq(items) => items.iter().filter_map(Yaml::scalar_text).collect(),
                other => other.scalar_text().into_iter().collect(),
            };
            values.insert(k.trim_matches('%').to_owned(), list);
        }
        Ok(Placeholders {
            values,
            unknown: UnknownPlaceholder::Reject,
        })
    }
}

/// What a field test checks, after modifiers.
#[derive(Debug, Clone)]
pub enum TestKind {
    /// Some value of the field matches some matcher (a list is OR).
    Any(Vec<Matcher>),
    /// Every group is matched by some value of the field (`all`); a group holds the alternatives
    /// one listed value expanded into (windash, base64offset, expand).
    All(Vec<Vec<Matcher>>),
    /// `exists: true|false`.
    Exists(bool),
    /// `neq`: the field is present and none of its values matches any matcher.
    Neq(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Star,
    One,
    Placeholder(String),
}

type SigmaStr = Vec<Part>;

fn push_lit(parts: &mut SigmaStr, c: char) {
    if let Some(Part::Lit(s)) = parts.last_mut() {
        s.push(c);
    } else {
        parts.push(Part::Lit(c.to_string()));
    }
}

/// Parses a Sigma string: `*` and `?` are wildcards, `\` escapes `*`, `?`, `\` (and `%` when
/// placeholders are on); any other backslash is literal.
fn parse_sigma(raw: &str, placeholders: bool) -> SigmaStr {
    let mut parts = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n) if n == '*' || n == '?' || n == '\\' || (placeholders && n == '%') => {
                    push_lit(&mut parts, n);
                    chars.next();
                }
                _ => push_lit(&mut parts, '\\'),
            },
            '*' => parts.push(Part::Star),
            '?' => parts.push(Part::One),
            '%' if placeholders => {
                let rest: String = chars.clone().take_while(|&d| d != '%').collect();
                let closed = chars.clone().nth(rest.chars().count()) == Some('%');
                if closed && !rest.is_empty() && !rest.contains(char::is_whitespace) {
                    for _ in 0..=rest.chars().count() {
                        chars.next();
                    }
                    parts.push(Part::Placeholder(rest));
                } else {
                    push_lit(&mut parts, '%');
                }
            }
            _ => push_lit(&mut parts, c),
        }
    }
    parts
}

fn literal_only(s: &SigmaStr) -> Option<String> {
    let mut out = String::new();
    for p in s {
        match p {
            Part::Lit(l) => out.push_str(l),
            _ => return None,
        }
    }
    Some(out)
}

const MAX_EXPANSION: usize = 4096;

fn windash(s: &SigmaStr) -> Result<Vec<SigmaStr>, String> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out: Vec<SigmaStr> = vec![Vec::new()];
    for part in s {
        let Part::Lit(l) = part else {
            out.iter_mut().for_each(|o| o.push(part.clone()));
            continue;
        };
        let chars: Vec<char> = l.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let prev_word = i > 0 && is_word(chars[i - 1]);
            let next_word = chars.get(i + 1).is_some_and(|&n| is_word(n));
            if (c == '-' || c == '/') && !prev_word && next_word {
                if out.len() * DASHES.len() > MAX_EXPANSION {
                    return Err(format!(
                        "`windash` expands to more than {MAX_EXPANSION} values"
                    ));
                }
                out = out
                    .into_iter()
                    .flat_map(|o| {
                        DASHES.iter().map(move |&d| {
                            let mut o = o.clone();
                            push_lit(&mut o, d);
                            o
                        })
                    })
                    .collect();
            } else {
                out.iter_mut().for_each(|o| push_lit(o, c));
            }
        }
    }
    Ok(out)
}

fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let starts = [0usize, 2, 3];
    let ends = [0usize, 3, 2];
    (0..3)
        .filter_map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let enc = engine.encode(&padded);
            let end_trim = ends[(bytes.len() + i) % 3];
            let stop = enc.len().checked_sub(end_trim)?;
            enc.get(starts[i]..stop).map(str::to_owned)
        })
        .filter(|s| !s.is_empty())
        .collect()
}

enum Stage {
    Text(SigmaStr),
    Bytes(Vec<u8>),
}

fn to_bytes(stage: &Stage, m: &str) -> Result<Vec<u8>, String> {
    match stage {
        Stage::Bytes(b) => Ok(b.clone()),
        Stage::Text(s) => literal_only(s)
            .map(String::into_bytes)
            .ok_or_else(|| format!("`{m}` cannot encode a value with wildcards or placeholders")),
    }
}

fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in s.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

fn compile_str(s: &SigmaStr, cased: bool) -> Result<Matcher, String> {
    // Merge adjacent literals and collapse runs of `*`.
    let mut parts: Vec<Part> = Vec::new();
    for p in s {
        match (p, parts.last_mut()) {
            (Part::Lit(l), Some(Part::Lit(prev))) => prev.push_str(l),
            (Part::Star, Some(Part::Star)) => {}
            (Part::Placeholder(n), _) => {
                return Err(format!("placeholder %{n}% needs the `expand` modifier"));
            }
            _ => parts.push(p.clone()),
        }
    }
    let fold = |l: &str| if cased { l.to_owned() } else { lower(l) };
    let str_m = |op, l: &str| Matcher::string(op, fold(l), cased);
    Ok(match parts.as_slice() {
        [] => Matcher::Empty,
        [Part::Lit(l)] => str_m(StrOp::Eq, l),
        [Part::Star] => str_m(StrOp::Contains, ""),
        [Part::Star, Part::Lit(l)] => str_m(StrOp::Ends, l),
        [Part::Lit(l), Part::Star] => str_m(StrOp::Starts, l),
        [Part::Star, Part::Lit(l), Part::Star] => str_m(StrOp::Contains, l),
        _ => {
            let mut re = String::from("(?s)^");
            let mut literal = String::new();
            for p in &parts {
                match p {
                    Part::Lit(l) => {
                        let l = fold(l);
                        if l.len() > literal.len() {
                            literal = lower(&l);
                        }
                        re.push_str(&regex::escape(&l));
                    }
                    Part::Star => re.push_str(".*"),
                    Part::One => re.push('.'),
                    Part::Placeholder(_) => {}
                }
            }
            re.push('$');
            let re = regex::Regex::new(&re).map_err(|e| format!("wildcard pattern: {e}"))?;
            Matcher::Glob {
                re,
                cased,
                literal: literal.into(),
            }
        }
    })
}

fn number_of(v: &Yaml) -> Option<f64> {
    match v {
        Yaml::Int(i) => Some(*i as f64),
        Yaml::Float(f) => Some(*f),
        Yaml::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Compiles the values of one `field|modifiers` key into a test.
pub(crate) fn compile_values(
    modifiers: &[&str],
    value: &Yaml,
    placeholders: &Placeholders,
) -> Result<TestKind, FieldError> {
    let bad = |m: String| FieldError::new("", m);
    let items: Vec<&Yaml> = match value {
        Yaml::Seq(v) => v.iter().collect(),
        other => vec![other],
    };
    if items.is_empty() {
        return Err(bad(
            "an empty list of values matches nothing; remove the field".into(),
        ));
    }
    let has = |name: &str| modifiers.contains(&name);
    let (mut all, mut cased, mut neq) = (false, false, false);
    let mut op: Option<StrOp> = None;
    let mut time: Option<TimePart> = None;
    let mut cmp: Option<CmpOp> = None;
    let (mut re_i, mut re_m, mut re_s) = (false, false, false);
    for m in modifiers {
        match *m {
            "all" => all = true,
            "cased" => cased = true,
            "neq" => neq = true,
            "contains" => op = Some(StrOp::Contains),
            "startswith" => op = Some(StrOp::Starts),
            "endswith" => op = Some(StrOp::Ends),
            "i" | "ignorecase" => re_i = true,
            "m" | "multiline" => re_m = true,
            "s" | "dotall" => re_s = true,
            "gt" => cmp = Some(CmpOp::Gt),
            "gte" => cmp = Some(CmpOp::Gte),
            "lt" => cmp = Some(CmpOp::Lt),
            "lte" => cmp = Some(CmpOp::Lte),
            "minute" => time = Some(TimePart::Minute),
            "hour" => time = Some(TimePart::Hour),
            "day" => time = Some(TimePart::Day),
            "week" => time = Some(TimePart::Week),
            "month" => time = Some(TimePart::Month),
            "year" => time = Some(TimePart::Year),
            "re" | "cidr" | "exists" | "fieldref" | "expand" | "windash" | "base64"
            | "base64offset" | "utf16le" | "utf16be" | "utf16" | "wide" => {}
            other => return Err(bad(format!("unknown modifier `{other}`"))),
        }
    }
    if all && items.len() == 1 {
        all = false; // `all` on a single value is harmless; treat it as the value itself.
    }
    if items
        .iter()
        .any(|v| matches!(v, Yaml::Map(_) | Yaml::Seq(_)))
    {
        return Err(bad("a value must be a scalar or a list of scalars".into()));
    }

    if has("exists") {
        return match items.as_slice() {
            [Yaml::Bool(b)] => Ok(TestKind::Exists(*b)),
            [Yaml::Str(s)] if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                Ok(TestKind::Exists(s.eq_ignore_ascii_case("true")))
            }
            _ => Err(bad("`exists` takes true or false".into())),
        };
    }

    let mut matchers: Vec<Vec<Matcher>> = Vec::new();
    if has("re") {
        for v in &items {
            let pat = v
                .scalar_text()
                .ok_or_else(|| bad("`re` needs a pattern".into()))?;
            let flags: String = [(re_i, 'i'), (re_m, 'm'), (re_s, 's')]
                .iter()
                .filter(|f| f.0)
                .map(|f| f.1)
                .collect();
            let full = if flags.is_empty() {
                pat
            } else {
                format!("(?{flags}){pat}")
            };
            matchers.push(vec![Matcher::Regex(Rx::new(&full).map_err(bad)?)]);
        }
    } else if has("cidr") {
        for v in &items {
            let t = v
                .scalar_text()
                .ok_or_else(|| bad("`cidr` needs a network".into()))?;
            let t = t.trim();
            let net = t
                .parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|e| bad(format!("invalid CIDR `{t}`: {e}")))?;
            matchers.push(vec![Matcher::Cidr(net)]);
        }
    } else if has("fieldref") {
        for v in &items {
            let f = v
                .scalar_text()
                .ok_or_else(|| bad("`fieldref` needs a field name".into()))?;
            matchers.push(vec![Matcher::FieldRef {
                field: f.into(),
                op: op.unwrap_or(StrOp::Eq),
                cased,
            }]);
        }
    } else if let Some(part) = time {
        for v in &items {
            let n = number_of(v).ok_or_else(|| {
                bad(format!(
                    "a time modifier needs a number, found a {}",
                    v.kind()
                ))
            })?;
            let inner = match cmp {
                Some(c) => Matcher::Cmp { op: c, value: n },
                None => Matcher::Int {
                    value: n as i64,
                    text: (n as i64).to_string().into(),
                },
            };
            matchers.push(vec![Matcher::TimePart {
                part,
                inner: Box::new(inner),
            }]);
        }
    } else if let Some(c) = cmp {
        for v in &items {
            let n = number_of(v)
                .ok_or_else(|| bad(format!("`gt`/`lt` need a number, found a {}", v.kind())))?;
            matchers.push(vec![Matcher::Cmp { op: c, value: n }]);
        }
    } else {
        for v in &items {
            matchers.push(string_values(v, modifiers, cased, placeholders).map_err(bad)?);
        }
    }
    Ok(if neq {
        TestKind::Neq(matchers.into_iter().flatten().collect())
    } else if all {
        TestKind::All(matchers)
    } else {
        TestKind::Any(matchers.into_iter().flatten().collect())
    })
}

/// One YAML value through the transformation modifiers, in the order written.
fn string_values(
    v: &Yaml,
    modifiers: &[&str],
    cased: bool,
    ph: &Placeholders,
) -> Result<Vec<Matcher>, String> {
    let transforms = [
        "contains",
        "startswith",
        "endswith",
        "windash",
        "base64",
        "base64offset",
        "utf16le",
        "utf16be",
        "utf16",
        "wide",
        "expand",
    ];
    let string_mods = modifiers.iter().any(|m| transforms.contains(m));
    let has_expand = modifiers.contains(&"expand");
    let start = match v {
        Yaml::Null => return Ok(vec![Matcher::Null]),
        Yaml::Int(i) if !string_mods => {
            return Ok(vec![Matcher::Int {
                value: *i,
                text: i.to_string().into(),
            }]);
        }
        Yaml::Str(s) => parse_sigma(s, has_expand),
        other => vec![Part::Lit(other.scalar_text().unwrap_or_default())],
    };
    let mut stages = vec![Stage::Text(start)];
    for m in modifiers {
        let mut next = Vec::new();
        for stage in stages {
            match *m {
                "contains" | "startswith" | "endswith" => match stage {
                    Stage::Text(mut s) => {
                        if *m != "endswith" && s.last() != Some(&Part::Star) {
                            s.push(Part::Star);
                        }
                        if *m != "startswith" && s.first() != Some(&Part::Star) {
                            s.insert(0, Part::Star);
                        }
                        next.push(Stage::Text(s));
                    }
                    Stage::Bytes(_) => {
                        return Err(format!("`{m}` after an encoding needs `base64` first"));
                    }
                },
                "windash" => match stage {
                    Stage::Text(s) => next.extend(windash(&s)?.into_iter().map(Stage::Text)),
                    Stage::Bytes(_) => return Err("`windash` cannot follow an encoding".into()),
                },
                "utf16le" | "wide" | "utf16be" | "utf16" => {
                    let text = match &stage {
                        Stage::Text(s) => literal_only(s).ok_or("utf16 cannot encode wildcards")?,
                        Stage::Bytes(_) => return Err("utf16 applied twice".into()),
                    };
                    next.push(Stage::Bytes(utf16(&text, *m == "utf16be", *m == "utf16")));
                }
                "base64" => {
                    let b = to_bytes(&stage, m)?;
                    let enc = base64::engine::general_purpose::STANDARD.encode(b);
                    next.push(Stage::Text(vec![Part::Lit(enc)]));
                }
                "base64offset" => {
                    let b = to_bytes(&stage, m)?;
                    next.extend(
                        base64_offsets(&b)
                            .into_iter()
                            .map(|s| Stage::Text(vec![Part::Lit(s)])),
                    );
                }
                "expand" => match stage {
                    Stage::Text(s) => next.extend(expand(&s, ph)?.into_iter().map(Stage::Text)),
                    Stage::Bytes(_) => return Err("`expand` cannot follow an encoding".into()),
                },
                _ => next.push(stage),
            }
            if next.len() > MAX_EXPANSION {
                return Err(format!(
                    "modifiers expand to more than {MAX_EXPANSION} values"
                ));
            }
        }
        stages = next;
    }
    stages
        .into_iter()
        .map(|s| match s {
            Stage::Text(s) => compile_str(&s, cased),
            Stage::Bytes(_) => {
                Err("an encoding modifier must be followed by `base64` or `base64offset`".into())
            }
        })
        .collect()
}

fn expand(s: &SigmaStr, ph: &Placeholders) -> Result<Vec<SigmaStr>, String> {
    let mut out: Vec<SigmaStr> = vec![Vec::new()];
    for part in s {
        match part {
            Part::Placeholder(name) => {
                let alts: Vec<SigmaStr> = match ph.values.get(name) {
                    Some(vals) if !vals.is_empty() => {
                        vals.iter().map(|v| parse_sigma(v, false)).collect()
                    }
                    _ if ph.unknown == UnknownPlaceholder::Wildcard => vec![vec![Part::Star]],
                    _ => {
                        return Err(format!(
                            "placeholder %{name}% has no value; supply it in the placeholder map"
                        ));
                    }
                };
                out = out
                    .into_iter()
                    .flat_map(|o| {
                        alts.iter()
                            .map(move |a| o.iter().chain(a.iter()).cloned().collect())
                    })
                    .collect();
                if out.len() > MAX_EXPANSION {
                    return Err(format!(
                        "placeholders expand to more than {MAX_EXPANSION} values"
                    ));
                }
            }
            p => out.iter_mut().for_each(|o| o.push(p.clone())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_specification() {
        assert_eq!(parse_sigma(r"a\*b", false), vec![Part::Lit("a*b".into())]);
        assert_eq!(
            parse_sigma(r"a\\*", false),
            vec![Part::Lit("a\\".into()), Part::Star]
        );
        assert_eq!(parse_sigma(r"a\\\*", false), vec![Part::Lit("a\\*".into())]);
        assert_eq!(
            parse_sigma(r"C:\Windows\\x", false),
            vec![Part::Lit("C:\\Windows\\x".into())]
        );
        assert_eq!(parse_sigma(r"\\\\", false), vec![Part::Lit("\\\\".into())]);
        assert_eq!(
            parse_sigma("a?", false),
            vec![Part::Lit("a".into()), Part::One]
        );
        assert_eq!(
            parse_sigma(r"\%plain%name%", true),
            vec![Part::Lit("%plain".into()), Part::Placeholder("name".into())]
        );
        assert_eq!(
            parse_sigma("%name%", false),
            vec![Part::Lit("%name%".into())]
        );
    }

    #[test]
    fn base64offset_matches_pysigma() {
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }

    #[test]
    fn windash_only_at_flag_positions() {
        let v = windash(&vec![Part::Lit(" -f a-b".into())]).unwrap();
        assert_eq!(v.len(), 5);
        assert!(v.contains(&vec![Part::Lit(" /f a-b".into())]));
        assert!(v.contains(&vec![Part::Lit(" \u{2015}f a-b".into())]));
    }
}
