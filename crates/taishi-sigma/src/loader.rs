//! Loading rule texts into a [`Plan`]: logsource mapping, filters, correlation references,
//! selection by level and status, and a report of everything that could not be loaded.

use std::collections::{HashMap, HashSet};

use crate::correlation::{self, CorrelationDef, RawCorrelation, Source};
use crate::detection::{Node, Renames, compile_detection, compile_selection};
use crate::error::{Error, FieldError, Location};
use crate::legacy;
use crate::mapping::{Mapping, Unmapped};
use crate::plan::{Plan, RuleInfo, Variant};
use crate::rule::{self, Document, Level, Logsource, RuleMeta, Status};
use crate::value::Placeholders;
use crate::yaml::Yaml;

/// Which rules to load, by level and status (hunt's `--level` and `--status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Keep rules at this level or above; a rule without a level counts as informational.
    pub min_level: Option<Level>,
    /// Keep only rules with one of these statuses (empty: any status, including none).
    pub statuses: Vec<Status>,
}

impl Selection {
    /// Whether a rule's metadata passes the selection.
    pub fn accepts(&self, meta: &RuleMeta) -> bool {
        let level = meta.level.unwrap_or(Level::Informational);
        self.min_level.is_none_or(|m| level >= m)
            && (self.statuses.is_empty() || meta.status.is_some_and(|s| self.statuses.contains(&s)))
    }
}

/// Everything a load needs besides the rule texts.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Logsource mapping (default: the built-in Windows mapping).
    pub mapping: Mapping,
    /// Placeholder values for `expand`.
    pub placeholders: Placeholders,
    /// Rule selection.
    pub selection: Selection,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            mapping: Mapping::windows_default(),
            placeholders: Placeholders::default(),
            selection: Selection::default(),
        }
    }
}

/// A rule that compiled but that no mapping entry covers, so it is not in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct UnmappedRule {
    /// The rule's id or title.
    pub rule: String,
    /// Where it came from.
    pub origin: String,
    /// Its logsource.
    pub logsource: Logsource,
}

/// What a load did.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// YAML documents read.
    pub documents: usize,
    /// Detection rules parsed and compiled (in the plan or unmapped).
    pub compiled: usize,
    /// Detection rules in the plan.
    pub rules: usize,
    /// Correlation rules in the plan.
    pub correlations: usize,
    /// Filters applied to at least one rule.
    pub filters: usize,
    /// Rules left out by the level/status selection.
    pub deselected: usize,
    /// Compiled rules without a mapping entry (left out when the mapping says `skip`).
    pub unmapped: Vec<UnmappedRule>,
    /// Documents that could not be loaded, each with location and reason.
    pub errors: Vec<Error>,
}

struct FilterDoc {
    at: Location,
    logsource: Logsource,
    rules: Vec<String>,
    body: Yaml,
    used: bool,
}

/// Collects rule texts, then compiles them into a [`Plan`].
pub struct Loader {
    opts: LoadOptions,
    texts: Vec<(String, String)>,
    report: LoadReport,
}

type Parsed = Result<Vec<Result<Document, Error>>, Error>;

/// Parses texts on all cores (YAML parsing is half of a load), keeping their order.
fn parse_all(texts: &[(String, String)]) -> Vec<Parsed> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads <= 1 || texts.len() < 64 {
        return texts.iter().map(|(o, t)| rule::parse_text(o, t)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(o, t)| rule::parse_text(o, t))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(texts.len());
        for (h, part) in handles.into_iter().zip(texts.chunks(chunk)) {
            // A panicking parser thread would be a bug in the YAML crate; report it per text
            // instead of propagating the panic.
            match h.join() {
                Ok(v) => out.extend(v),
                Err(_) => out.extend(part.iter().map(|(o, _)| {
                    Err(Error::Yaml {
                        at: Location {
                            origin: o.clone(),
                            document: 0,
                            rule: None,
                        },
                        message: "the YAML parser failed".into(),
                    })
                })),
            }
        }
        out
    })
}

fn loc(meta: &RuleMeta, document: usize) -> Location {
    Location {
        origin: meta.origin.clone(),
        document,
        rule: Some(meta.handle()),
    }
}

fn covers(filter: &Logsource, rule: &Logsource) -> bool {
    let ok = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    ok(&filter.category, &rule.category)
        && ok(&filter.product, &rule.product)
        && ok(&filter.service, &rule.service)
}

impl Loader {
    /// A loader with the given options.
    pub fn new(opts: LoadOptions) -> Loader {
        Loader {
            opts,
            texts: Vec::new(),
            report: LoadReport::default(),
        }
    }

    /// Adds one rule text (one or more YAML documents) under an origin (its path). Texts are
    /// parsed in parallel by [`Loader::build`]; problems are recorded in the report, never
    /// raised, and never panic.
    pub fn add_text(&mut self, origin: &str, text: &str) {
        self.texts.push((origin.to_owned(), text.to_owned()));
    }

    /// Compiles everything added into a plan, with the report of what was loaded and what not.
    pub fn build(mut self) -> (Plan, LoadReport) {
        let texts = std::mem::take(&mut self.texts);
        let mut docs: Vec<(Location, Document)> = Vec::new();
        for parsed in parse_all(&texts) {
            match parsed {
                Err(e) => self.report.errors.push(e),
                Ok(ds) => {
                    for (i, d) in ds.into_iter().enumerate() {
                        self.report.documents += 1;
                        match d {
                            Ok(doc) => docs.push((loc(doc.meta(), i + 1), doc)),
                            Err(e) => self.report.errors.push(e),
                        }
                    }
                }
            }
        }
        drop(texts);
        let mut raw_rules = Vec::new();
        let mut raw_corrs: Vec<(Location, RawCorrelation)> = Vec::new();
        let mut filters = Vec::new();
        for (at, doc) in docs {
            match doc {
                Document::Rule { meta, detection } => match legacy::rewrite(&meta, &detection) {
                    None => raw_rules.push((at, meta, detection)),
                    Some(Ok(rw)) => {
                        raw_rules.extend(rw.searches.into_iter().map(|(m, d)| (at.clone(), m, d)));
                        raw_corrs.push((at, rw.correlation));
                    }
                    Some(Err(e)) => self.report.errors.push(e.at(at)),
                },
                Document::Correlation {
                    meta,
                    correlation,
                    generate,
                } => match correlation::parse(meta, &correlation, generate) {
                    Ok(c) => raw_corrs.push((at, c)),
                    Err(e) => self.report.errors.push(e.at(at)),
                },
                Document::Filter { meta, filter } => match filter_doc(&at, &meta, filter) {
                    Ok(f) => filters.push(f),
                    Err(e) => self.report.errors.push(e),
                },
            }
        }
        // Rules referenced by correlations, and whether some reference asks for `generate`.
        let mut referenced: HashMap<String, bool> = HashMap::new();
        for (_, c) in &raw_corrs {
            for r in &c.rules {
                let g = referenced.entry(r.clone()).or_insert(false);
                *g |= c.generate;
            }
        }
        let refs_of = |m: &RuleMeta| -> Option<bool> {
            let by_id = m.id.as_ref().and_then(|id| referenced.get(id));
            let by_name = m.name.as_ref().and_then(|n| referenced.get(n));
            match (by_id, by_name) {
                (None, None) => None,
                (a, b) => Some(a.copied().unwrap_or(false) || b.copied().unwrap_or(false)),
            }
        };

        // The mapping's conditions, compiled once per entry.
        let conds: Vec<Result<Node, FieldError>> = self
            .opts
            .mapping
            .entries
            .iter()
            .map(|e| match &e.conditions {
                Yaml::Map(m) if m.is_empty() => Ok(Node::Const(true)),
                c => compile_selection(c, &Renames::new(), &self.opts.placeholders)
                    .map(Node::simplify)
                    .map_err(|x| x.under("(logsource mapping conditions)")),
            })
            .collect();
        let mut rules: Vec<RuleInfo> = Vec::new();
        let mut variants = Vec::new();
        let mut keys: HashMap<String, usize> = HashMap::new();
        for (at, meta, detection) in raw_rules {
            let reference = refs_of(&meta);
            if reference.is_none() && !self.opts.selection.accepts(&meta) {
                self.report.deselected += 1;
                continue;
            }
            if let Some(id) = &meta.id
                && keys.contains_key(id)
            {
                self.report.errors.push(
                    FieldError::new(
                        "id",
                        format!("duplicate rule id {id}; the first one is kept"),
                    )
                    .at(at),
                );
                continue;
            }
            let mine: Vec<usize> = (0..filters.len())
                .filter(|&i| {
                    filters[i]
                        .rules
                        .iter()
                        .any(|r| Some(r) == meta.id.as_ref() || Some(r) == meta.name.as_ref())
                })
                .collect();
            match self.compile_rule(&meta, &detection, &mut filters, &mine, &conds) {
                Err(e) => self.report.errors.push(e.at(at)),
                Ok(None) => {
                    self.report.compiled += 1;
                    self.report.unmapped.push(UnmappedRule {
                        rule: meta.handle(),
                        origin: meta.origin.clone(),
                        logsource: meta.logsource.clone(),
                    });
                }
                Ok(Some(vs)) => {
                    self.report.compiled += 1;
                    let idx = rules.len();
                    for (cond, det) in vs {
                        variants.push(Variant {
                            rule: idx as u32,
                            cond,
                            det,
                        });
                    }
                    if let Some(id) = &meta.id {
                        keys.insert(id.clone(), idx);
                    }
                    if let Some(n) = &meta.name {
                        keys.entry(n.clone()).or_insert(idx);
                    }
                    rules.push(RuleInfo {
                        standalone: reference.is_none_or(|g| g),
                        meta,
                    });
                }
            }
        }
        for f in &filters {
            if f.used {
                self.report.filters += 1;
            } else {
                self.report.errors.push(
                    FieldError::new(
                        "filter.rules",
                        "the filter applies to no loaded rule with a compatible logsource",
                    )
                    .at(f.at.clone()),
                );
            }
        }
        let correlations = self.resolve_correlations(raw_corrs, &keys);
        self.report.rules = rules.len();
        self.report.correlations = correlations.len();
        (Plan::new(rules, variants, correlations), self.report)
    }

    /// Compiles one rule into (mapping conditions, detection) pairs; `Ok(None)` when unmapped.
    fn compile_rule(
        &self,
        meta: &RuleMeta,
        detection: &Yaml,
        filters: &mut [FilterDoc],
        mine: &[usize],
        conds: &[Result<Node, FieldError>],
    ) -> Result<Option<Vec<(Node, Node)>>, FieldError> {
        let ph = &self.opts.placeholders;
        let plain = Renames::new();
        // Compiled once; each mapping entry gets a copy with its field renames.
        let mut parts = vec![compile_detection(detection, "detection", &plain, ph)?];
        for &i in mine {
            if covers(&filters[i].logsource, &meta.logsource) {
                parts.push(
                    compile_detection(&filters[i].body, "filter", &plain, ph)
                        .map_err(|e| e.under("(meta filter)"))?,
                );
                filters[i].used = true;
            }
        }
        let det = Node::And(parts).simplify();
        let entries = self.opts.mapping.resolve_indices(&meta.logsource);
        if entries.is_empty() {
            return Ok(match self.opts.mapping.unmapped {
                Unmapped::Skip => None,
                Unmapped::Evaluate => Some(vec![(Node::Const(true), det)]),
            });
        }
        let mut out = Vec::new();
        for i in entries {
            let e = &self.opts.mapping.entries[i];
            let cond = match &conds[i] {
                Ok(c) => c.clone(),
                Err(x) => return Err(x.clone()),
            };
            let d = if e.fields.is_empty() {
                det.clone()
            } else {
                det.renamed(&e.fields)
            };
            out.push((cond, d));
        }
        Ok(Some(out))
    }

    fn resolve_correlations(
        &mut self,
        raw: Vec<(Location, RawCorrelation)>,
        rule_keys: &HashMap<String, usize>,
    ) -> Vec<CorrelationDef> {
        // Correlation keys (id and name) to their position in `raw`.
        let mut ckeys: HashMap<String, usize> = HashMap::new();
        for (i, (_, c)) in raw.iter().enumerate() {
            for k in [&c.meta.id, &c.meta.name].into_iter().flatten() {
                ckeys.entry(k.clone()).or_insert(i);
            }
        }
        // Keep correlations whose references all resolve, to a fixpoint (chains and cycles).
        let mut alive: Vec<bool> = vec![true; raw.len()];
        let mut reasons: Vec<Option<String>> = vec![None; raw.len()];
        let referenced_corr: HashSet<usize> = raw
            .iter()
            .flat_map(|(_, c)| {
                c.rules
                    .iter()
                    .filter(|r| !rule_keys.contains_key(*r))
                    .filter_map(|r| ckeys.get(r).copied())
            })
            .collect();
        let mut deselected = vec![false; raw.len()];
        for (i, (_, c)) in raw.iter().enumerate() {
            if !referenced_corr.contains(&i) && !self.opts.selection.accepts(&c.meta) {
                alive[i] = false;
                deselected[i] = true;
            }
        }
        loop {
            let mut changed = false;
            for (i, (_, c)) in raw.iter().enumerate() {
                if !alive[i] {
                    continue;
                }
                for r in &c.rules {
                    let ok = rule_keys.contains_key(r)
                        || ckeys
                            .get(r)
                            .is_some_and(|&j| alive[j] && j != i && !reaches(&raw, &ckeys, j, i));
                    if !ok {
                        alive[i] = false;
                        reasons[i] = Some(format!(
                            "references `{r}`, which is not a loaded rule or correlation (or forms a cycle)"
                        ));
                        changed = true;
                        break;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut final_idx: HashMap<usize, usize> = HashMap::new();
        for (i, a) in alive.iter().enumerate() {
            if *a {
                final_idx.insert(i, final_idx.len());
            }
        }
        // Correlations referenced by others without `generate` are not standalone.
        let mut inner: HashMap<usize, bool> = HashMap::new();
        for (_, c) in &raw {
            for r in &c.rules {
                if let (None, Some(&j)) = (rule_keys.get(r), ckeys.get(r)) {
                    *inner.entry(j).or_insert(false) |= c.generate;
                }
            }
        }
        let mut out = Vec::new();
        for (i, (at, c)) in raw.into_iter().enumerate() {
            if deselected[i] {
                self.report.deselected += 1;
                continue;
            }
            if !alive[i] {
                let msg = reasons[i].take().unwrap_or_default();
                self.report
                    .errors
                    .push(FieldError::new("correlation.rules", msg).at(at));
                continue;
            }
            let standalone = inner.get(&i).is_none_or(|g| *g);
            let sources: Vec<(Source, Vec<String>)> = c
                .rules
                .iter()
                .map(|r| match rule_keys.get(r) {
                    Some(&ri) => (Source::Rule(ri), vec![r.clone()]),
                    None => {
                        let j = ckeys.get(r).copied().unwrap_or_default();
                        (
                            Source::Correlation(final_idx.get(&j).copied().unwrap_or_default()),
                            vec![r.clone()],
                        )
                    }
                })
                .collect();
            let group_fields = sources
                .iter()
                .map(|(_, names)| {
                    c.group_by
                        .iter()
                        .map(|g| {
                            c.aliases
                                .get(g)
                                .and_then(|per| names.iter().find_map(|n| per.get(n)))
                                .cloned()
                                .unwrap_or_else(|| g.clone())
                        })
                        .collect()
                })
                .collect();
            out.push(CorrelationDef {
                meta: c.meta,
                kind: c.kind,
                sources: sources.into_iter().map(|(s, _)| s).collect(),
                group_by: c.group_by,
                group_fields,
                timespan_ms: c.timespan_ms,
                threshold: c.threshold,
                fields: c.fields,
                generate: c.generate,
                standalone,
                boolean: c.boolean,
            });
        }
        out
    }
}

/// Whether correlation `from` (transitively) references correlation `to`.
fn reaches(
    raw: &[(Location, RawCorrelation)],
    ckeys: &HashMap<String, usize>,
    from: usize,
    to: usize,
) -> bool {
    let mut seen = HashSet::new();
    let mut stack = vec![from];
    while let Some(i) = stack.pop() {
        if i == to {
            return true;
        }
        if seen.insert(i) {
            stack.extend(raw[i].1.rules.iter().filter_map(|r| ckeys.get(r).copied()));
        }
    }
    false
}

fn filter_doc(at: &Location, meta: &RuleMeta, filter: Yaml) -> Result<FilterDoc, Error> {
    let rules = match filter.get("rules") {
        Some(Yaml::Seq(items)) => items
            .iter()
            .filter_map(Yaml::scalar_text)
            .collect::<Vec<_>>(),
        Some(v) => v.scalar_text().into_iter().collect(),
        None => Vec::new(),
    };
    if rules.is_empty() {
        return Err(
            FieldError::new("filter.rules", "a filter must name the rules it applies to")
                .at(at.clone()),
        );
    }
    // Validate the body now so errors name the filter document.
    compile_detection(
        &filter,
        "filter",
        &Renames::new(),
        &Placeholders {
            unknown: crate::value::UnknownPlaceholder::Wildcard,
            ..Placeholders::default()
        },
    )
    .map_err(|e| e.at(at.clone()))?;
    Ok(FilterDoc {
        at: at.clone(),
        logsource: meta.logsource.clone(),
        rules,
        body: filter,
        used: false,
    })
}
