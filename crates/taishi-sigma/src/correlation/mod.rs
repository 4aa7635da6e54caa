//! Correlation rules (Sigma specification 2.1): their definitions, parsed from `correlation:`
//! documents, and (in [`engine`]) the streaming evaluation over rule matches.

pub mod engine;

use std::collections::HashMap;

use crate::error::FieldError;
use crate::rule::RuleMeta;
use crate::yaml::Yaml;

/// The correlation types of the specification (2.1) plus pySigma's `value_median`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    /// Number of matching events.
    EventCount,
    /// Number of distinct values of `field`.
    ValueCount,
    /// All referenced rules matched, in any order.
    Temporal,
    /// All referenced rules matched, in the listed order.
    TemporalOrdered,
    /// Sum of a numeric field.
    ValueSum,
    /// Average of a numeric field.
    ValueAvg,
    /// Share (percent, 0–100) of the group's events in the window whose `field` equals the
    /// triggering event's value: `lte: 1` = a value seen in at most 1 % of the events.
    ValuePercentile,
    /// Median of a numeric field.
    ValueMedian,
}

impl CorrelationType {
    fn parse(s: &str) -> Option<CorrelationType> {
        Some(match s {
            "event_count" => CorrelationType::EventCount,
            "value_count" => CorrelationType::ValueCount,
            "temporal" => CorrelationType::Temporal,
            "temporal_ordered" => CorrelationType::TemporalOrdered,
            "value_sum" => CorrelationType::ValueSum,
            "value_avg" => CorrelationType::ValueAvg,
            "value_percentile" => CorrelationType::ValuePercentile,
            "value_median" => CorrelationType::ValueMedian,
            _ => return None,
        })
    }

    /// Whether the type aggregates a `field`.
    pub fn needs_field(self) -> bool {
        !matches!(
            self,
            CorrelationType::EventCount
                | CorrelationType::Temporal
                | CorrelationType::TemporalOrdered
        )
    }
}

/// The threshold of a correlation: every bound given must hold (a range is `gt` + `lte`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Threshold {
    /// `gt`.
    pub gt: Option<f64>,
    /// `gte`.
    pub gte: Option<f64>,
    /// `lt`.
    pub lt: Option<f64>,
    /// `lte`.
    pub lte: Option<f64>,
    /// `eq`.
    pub eq: Option<f64>,
    /// `neq`.
    pub neq: Option<f64>,
}

impl Threshold {
    /// Whether `x` satisfies every bound.
    pub fn holds(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
            && self.eq.is_none_or(|b| x == b)
            && self.neq.is_none_or(|b| x != b)
    }

    /// Whether the threshold only bounds from below, so a growing window can decide it as soon
    /// as it holds (otherwise it is decided when the window closes).
    pub fn only_lower_bounds(&self) -> bool {
        self.lt.is_none() && self.lte.is_none() && self.eq.is_none() && self.neq.is_none()
    }
}

/// What a correlation references: a detection rule or another correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Index into [`crate::Plan::rules`].
    Rule(usize),
    /// Index into [`crate::Plan::correlations`].
    Correlation(usize),
}

/// A compiled correlation rule.
#[derive(Debug, Clone)]
pub struct CorrelationDef {
    /// Metadata of the correlation document (level, status, author …).
    pub meta: RuleMeta,
    /// The type.
    pub kind: CorrelationType,
    /// The referenced rules and correlations, in the listed order.
    pub sources: Vec<Source>,
    /// `group-by` as written (alias names included).
    pub group_by: Vec<String>,
    /// Per source, the event field read for each `group-by` entry (aliases resolved).
    pub group_fields: Vec<Vec<String>>,
    /// `timespan` in milliseconds.
    pub timespan_ms: i64,
    /// The threshold.
    pub threshold: Threshold,
    /// `condition.field` (a list for `value_count` means distinct combinations).
    pub fields: Vec<String>,
    /// `generate`.
    pub generate: bool,
    /// Whether hits are detections of their own: false when another correlation references
    /// this one without `generate: true`.
    pub standalone: bool,
    /// For temporal types, a boolean condition over the referenced rules (Sigma 2.2 draft)
    /// instead of "all of them".
    pub boolean: Option<SourceExpr>,
}

/// A boolean condition over the positions of a correlation's referenced rules.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceExpr {
    /// The rule at this position in `rules` matched in the window.
    Source(usize),
    /// Negation.
    Not(Box<SourceExpr>),
    /// All of.
    And(Vec<SourceExpr>),
    /// Any of.
    Or(Vec<SourceExpr>),
    /// At least n of.
    AtLeast(usize, Vec<SourceExpr>),
}

impl SourceExpr {
    pub(crate) fn build(c: &crate::condition::Cond, names: &[&str]) -> Result<SourceExpr, String> {
        use crate::condition::{Cond, OfTarget, Quantity};
        Ok(match c {
            Cond::Ident(n) => SourceExpr::Source(
                names
                    .iter()
                    .position(|x| x == n)
                    .ok_or_else(|| format!("`{n}` is not one of the correlation's rules"))?,
            ),
            Cond::Not(x) => SourceExpr::Not(Box::new(SourceExpr::build(x, names)?)),
            Cond::And(v) => SourceExpr::And(
                v.iter()
                    .map(|x| SourceExpr::build(x, names))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Or(v) => SourceExpr::Or(
                v.iter()
                    .map(|x| SourceExpr::build(x, names))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Of { quantity, target } => {
                let chosen: Vec<SourceExpr> = (0..names.len())
                    .filter(|&i| match target {
                        OfTarget::Them => true,
                        OfTarget::Pattern(p) => crate::condition::pattern_matches(p, names[i]),
                    })
                    .map(SourceExpr::Source)
                    .collect();
                if chosen.is_empty() {
                    return Err("an `of` pattern matches none of the correlation's rules".into());
                }
                match quantity {
                    Quantity::All => SourceExpr::And(chosen),
                    Quantity::AtLeast(n) => SourceExpr::AtLeast(*n, chosen),
                }
            }
        })
    }

    /// Evaluates with `present[i]` = the rule at position i matched in the window.
    pub fn eval(&self, present: &[bool]) -> bool {
        match self {
            SourceExpr::Source(i) => present.get(*i).copied().unwrap_or(false),
            SourceExpr::Not(x) => !x.eval(present),
            SourceExpr::And(v) => v.iter().all(|x| x.eval(present)),
            SourceExpr::Or(v) => v.iter().any(|x| x.eval(present)),
            SourceExpr::AtLeast(n, v) => v.iter().filter(|x| x.eval(present)).count() >= *n,
        }
    }

    /// Whether the condition has a negation (then it can only be decided when the window closes).
    pub fn has_not(&self) -> bool {
        match self {
            SourceExpr::Source(_) => false,
            SourceExpr::Not(_) => true,
            SourceExpr::And(v) | SourceExpr::Or(v) | SourceExpr::AtLeast(_, v) => {
                v.iter().any(SourceExpr::has_not)
            }
        }
    }
}

/// A correlation document before its references are resolved.
#[derive(Debug, Clone)]
pub(crate) struct RawCorrelation {
    pub boolean: Option<SourceExpr>,
    pub meta: RuleMeta,
    pub kind: CorrelationType,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub aliases: HashMap<String, HashMap<String, String>>,
    pub timespan_ms: i64,
    pub threshold: Threshold,
    pub fields: Vec<String>,
    pub generate: bool,
}

/// Parses `90m`, `1h`, `30s`, `1d` (and `w`, `M`, `y` as pySigma does) into milliseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let mult = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        'M' => 30 * 86_400_000,
        'y' => 365 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

fn strings(y: Option<&Yaml>, field: &str) -> Result<Vec<String>, FieldError> {
    match y {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Seq(items)) => items
            .iter()
            .map(|i| {
                i.scalar_text()
                    .ok_or_else(|| FieldError::new(field, "expected a list of names"))
            })
            .collect(),
        Some(v) => v
            .scalar_text()
            .map(|s| vec![s])
            .ok_or_else(|| FieldError::new(field, "expected a name or a list")),
    }
}

/// Parses the `correlation` map of a document.
pub(crate) fn parse(
    meta: RuleMeta,
    c: &Yaml,
    generate: bool,
) -> Result<RawCorrelation, FieldError> {
    let at = |f: &str| format!("correlation.{f}");
    if !matches!(c, Yaml::Map(_)) {
        return Err(FieldError::new(
            "correlation",
            format!("expected a map, found a {}", c.kind()),
        ));
    }
    let type_text = c
        .get("type")
        .and_then(Yaml::scalar_text)
        .ok_or_else(|| FieldError::new(at("type"), "missing"))?;
    let kind = CorrelationType::parse(&type_text).ok_or_else(|| {
        FieldError::unsupported(
            at("type"),
            format!("unknown correlation type `{type_text}`"),
        )
    })?;
    let rules = strings(c.get("rules"), &at("rules"))?;
    if rules.is_empty() {
        return Err(FieldError::new(
            at("rules"),
            "a correlation needs at least one rule",
        ));
    }
    let group_by = strings(c.get("group-by"), &at("group-by"))?;
    let ts_text = c
        .get("timespan")
        .or_else(|| c.get("timeframe"))
        .and_then(Yaml::scalar_text);
    let timespan_ms = ts_text.as_deref().and_then(parse_timespan).ok_or_else(|| {
        FieldError::new(
            at("timespan"),
            format!("expected e.g. `5m`, `1h`, found {ts_text:?}"),
        )
    })?;
    let mut threshold = Threshold::default();
    let mut fields = Vec::new();
    let mut boolean = None;
    match c.get("condition") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Map(m)) => {
            for (k, v) in m {
                let num = || match v {
                    Yaml::Int(i) => Ok(*i as f64),
                    Yaml::Float(f) => Ok(*f),
                    Yaml::Str(s) => s.trim().parse().map_err(|_| {
                        FieldError::new(at(&format!("condition.{k}")), "expected a number")
                    }),
                    _ => Err(FieldError::new(
                        at(&format!("condition.{k}")),
                        "expected a number",
                    )),
                };
                match k.as_str() {
                    "gt" => threshold.gt = Some(num()?),
                    "gte" => threshold.gte = Some(num()?),
                    "lt" => threshold.lt = Some(num()?),
                    "lte" => threshold.lte = Some(num()?),
                    "eq" => threshold.eq = Some(num()?),
                    "neq" => threshold.neq = Some(num()?),
                    "field" => fields = strings(Some(v), &at("condition.field"))?,
                    other => {
                        return Err(FieldError::new(
                            at("condition"),
                            format!("unknown key `{other}`"),
                        ));
                    }
                }
            }
        }
        Some(Yaml::Str(text)) if kind == CorrelationType::Temporal => {
            // Sigma 2.2 (SEP #198, pySigma's temporal_extended): a boolean condition over the
            // referenced rules, e.g. `recon_a and recon_b and not admin_login`.
            let cond = crate::condition::parse(text)
                .map_err(|m| FieldError::new(at("condition"), format!("{m} (in `{text}`)")))?;
            let names: Vec<&str> = rules.iter().map(String::as_str).collect();
            let expr = SourceExpr::build(&cond, &names)
                .map_err(|m| FieldError::new(at("condition"), m))?;
            threshold.gte = Some(1.0);
            boolean = Some(expr);
        }
        Some(other) => {
            return Err(FieldError::new(
                at("condition"),
                format!("expected a map, found a {}", other.kind()),
            ));
        }
    }
    let temporal = matches!(
        kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    if threshold == Threshold::default() {
        if temporal {
            threshold.gte = Some(rules.len() as f64);
        } else {
            return Err(FieldError::new(
                at("condition"),
                "this correlation type needs a condition such as `gte: 10`",
            ));
        }
    }
    if kind.needs_field() && fields.is_empty() {
        return Err(FieldError::new(
            at("condition.field"),
            "this correlation type needs `field`",
        ));
    }
    let mut aliases = HashMap::new();
    match c.get("aliases") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Map(m)) => {
            for (alias, per_rule) in m {
                let Yaml::Map(pr) = per_rule else {
                    return Err(FieldError::new(
                        at(&format!("aliases.{alias}")),
                        "expected a map of rule name to field",
                    ));
                };
                let mut map = HashMap::new();
                for (rule, field) in pr {
                    let f = field.scalar_text().ok_or_else(|| {
                        FieldError::new(
                            at(&format!("aliases.{alias}.{rule}")),
                            "expected a field name",
                        )
                    })?;
                    map.insert(rule.clone(), f);
                }
                aliases.insert(alias.clone(), map);
            }
        }
        Some(_) => return Err(FieldError::new(at("aliases"), "expected a map")),
    }
    Ok(RawCorrelation {
        meta,
        kind,
        rules,
        group_by,
        aliases,
        timespan_ms,
        threshold,
        fields,
        generate,
        boolean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("90m"), Some(5_400_000));
        assert_eq!(parse_timespan("1h"), Some(3_600_000));
        assert_eq!(parse_timespan("30s"), Some(30_000));
        assert_eq!(parse_timespan("2d"), Some(172_800_000));
        assert_eq!(parse_timespan("h"), None);
        assert_eq!(parse_timespan("0s"), None);
        assert_eq!(parse_timespan(""), None);
        assert_eq!(parse_timespan("5x"), None);
    }

    #[test]
    fn thresholds() {
        let t = Threshold {
            gt: Some(100.0),
            lte: Some(200.0),
            ..Threshold::default()
        };
        assert!(!t.holds(100.0));
        assert!(t.holds(101.0));
        assert!(t.holds(200.0));
        assert!(!t.holds(201.0));
        assert!(!t.only_lower_bounds());
    }
}
