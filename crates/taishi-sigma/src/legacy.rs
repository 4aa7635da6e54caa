//! Sigma v1 aggregations, rewritten into the v2 correlations that replaced them, so old rules
//! (SigmaHQ's `unsupported/` folder, in-house rule sets) still run:
//!
//! - `search | count() [by G] > N` → `event_count`;
//! - `search | count(F) [by G] > N` → `value_count` on `F`;
//! - `search | sum(F) …` / `avg(F) …` → `value_sum` / `value_avg`;
//! - `a | near b and not c` → `temporal` with the boolean condition `a and b and not c`;
//!
//! with `detection.timeframe` as the timespan (a whole day when absent). Each search becomes a
//! hidden rule (`<id>#<n>`) that only feeds the correlation, which carries the rule's metadata.

use std::collections::HashMap;

use crate::condition::{self, Cond};
use crate::correlation::{CorrelationType, RawCorrelation, SourceExpr, Threshold, parse_timespan};
use crate::error::FieldError;
use crate::rule::RuleMeta;
use crate::yaml::Yaml;

const DEFAULT_TIMESPAN_MS: i64 = 86_400_000;

/// A v1 aggregation rule rewritten: hidden search rules and the correlation over them.
pub(crate) struct Rewritten {
    pub searches: Vec<(RuleMeta, Yaml)>,
    pub correlation: RawCorrelation,
}

fn with_condition(detection: &Yaml, cond: &str) -> Yaml {
    let Yaml::Map(entries) = detection else {
        return detection.clone();
    };
    let mut out: Vec<(String, Yaml)> = entries
        .iter()
        .filter(|(k, _)| k != "condition" && k != "timeframe")
        .cloned()
        .collect();
    out.push(("condition".into(), Yaml::Str(cond.to_owned())));
    Yaml::Map(out)
}

fn hidden(meta: &RuleMeta, n: usize) -> RuleMeta {
    let id = format!("{}#{n}", meta.handle());
    RuleMeta {
        id: Some(id.clone()),
        name: Some(id),
        title: format!("{} (search {n})", meta.title),
        ..meta.clone()
    }
}

fn identifiers(c: &Cond, out: &mut Vec<String>) {
    match c {
        Cond::Ident(n) => {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        Cond::Not(x) => identifiers(x, out),
        Cond::And(v) | Cond::Or(v) => v.iter().for_each(|x| identifiers(x, out)),
        Cond::Of { .. } => {}
    }
}

/// `Some` when the rule's condition is a v1 aggregation: the rewrite, or why it cannot be done.
pub(crate) fn rewrite(meta: &RuleMeta, detection: &Yaml) -> Option<Result<Rewritten, FieldError>> {
    let cond = match detection.get("condition") {
        Some(Yaml::Str(c)) if c.contains('|') => c.clone(),
        _ => return None,
    };
    Some(rewrite_condition(meta, detection, &cond))
}

fn rewrite_condition(
    meta: &RuleMeta,
    detection: &Yaml,
    cond: &str,
) -> Result<Rewritten, FieldError> {
    let bad = |m: String| FieldError::new("detection.condition", format!("{m} (in `{cond}`)"));
    let (search, agg) = cond
        .split_once('|')
        .ok_or_else(|| bad("no aggregation".into()))?;
    let agg = agg.trim();
    let timespan_ms = match detection.get("timeframe").and_then(Yaml::scalar_text) {
        Some(t) => parse_timespan(&t).ok_or_else(|| {
            FieldError::new(
                "detection.timeframe",
                format!("expected e.g. `5m`, found `{t}`"),
            )
        })?,
        None => DEFAULT_TIMESPAN_MS,
    };
    let base = |kind, rules: Vec<String>| RawCorrelation {
        boolean: None,
        meta: meta.clone(),
        kind,
        rules,
        group_by: Vec::new(),
        aliases: HashMap::new(),
        timespan_ms,
        threshold: Threshold::default(),
        fields: Vec::new(),
        generate: false,
    };
    if let Some(rest) = agg.strip_prefix("near") {
        // `a | near b and not c`: every identifier becomes a search; the window must satisfy
        // `a and (b and not c)`.
        let left = condition::parse(search).map_err(bad)?;
        let right = condition::parse(rest).map_err(bad)?;
        let whole = Cond::And(vec![left, right]);
        let mut names = Vec::new();
        identifiers(&whole, &mut names);
        let searches: Vec<(RuleMeta, Yaml)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (hidden(meta, i + 1), with_condition(detection, n)))
            .collect();
        let ids: Vec<String> = searches.iter().filter_map(|(m, _)| m.id.clone()).collect();
        let renamed: Vec<&str> = names.iter().map(String::as_str).collect();
        let expr = SourceExpr::build(&whole, &renamed).map_err(bad)?;
        let mut correlation = base(CorrelationType::Temporal, ids);
        correlation.threshold.gte = Some(1.0);
        correlation.boolean = Some(expr);
        return Ok(Rewritten {
            searches,
            correlation,
        });
    }
    // `name(arg) [by group] op number`
    let open = agg
        .find('(')
        .ok_or_else(|| bad("expected `count(…)`".into()))?;
    let close = agg
        .find(')')
        .filter(|c| *c > open)
        .ok_or_else(|| bad("missing `)`".into()))?;
    let func = agg[..open].trim();
    let arg = agg[open + 1..close].trim();
    let mut tail = agg[close + 1..].trim();
    let mut group_by = Vec::new();
    if let Some(r) = tail.strip_prefix("by ") {
        let r = r.trim_start();
        let end = r
            .find(|c: char| c.is_whitespace() || "<>=!".contains(c))
            .unwrap_or(r.len());
        group_by.push(r[..end].to_owned());
        tail = r[end..].trim();
    }
    let op_len = tail
        .find(|c: char| !"<>=!".contains(c))
        .unwrap_or(tail.len());
    let (op, num) = tail.split_at(op_len);
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| bad(format!("expected a number after `{op}`")))?;
    let mut threshold = Threshold::default();
    match op {
        ">" => threshold.gt = Some(n),
        ">=" => threshold.gte = Some(n),
        "<" => threshold.lt = Some(n),
        "<=" => threshold.lte = Some(n),
        "=" | "==" => threshold.eq = Some(n),
        "!=" => threshold.neq = Some(n),
        other => return Err(bad(format!("unknown comparison `{other}`"))),
    }
    let kind = match (func, arg.is_empty()) {
        ("count", true) => CorrelationType::EventCount,
        ("count", false) => CorrelationType::ValueCount,
        ("sum", false) => CorrelationType::ValueSum,
        ("avg", false) => CorrelationType::ValueAvg,
        _ => {
            return Err(FieldError::unsupported(
                "detection.condition",
                format!("aggregation `{func}({arg})` has no v2 correlation"),
            ));
        }
    };
    condition::parse(search).map_err(bad)?;
    let searches = vec![(hidden(meta, 1), with_condition(detection, search.trim()))];
    let ids = searches.iter().filter_map(|(m, _)| m.id.clone()).collect();
    let mut correlation = base(kind, ids);
    correlation.group_by = group_by;
    correlation.threshold = threshold;
    if !arg.is_empty() {
        correlation.fields = vec![arg.to_owned()];
    }
    Ok(Rewritten {
        searches,
        correlation,
    })
}
