//! Sigma rules: parsing, compilation to a prefiltered plan, matching and correlation; no I/O.
//!
//! This crate takes rule *text* (the caller reads files) and events through
//! [`taishi_fields::FieldSource`], and never names a concrete event type.
//!
//! # Using it (the API `taishi-hunt` calls)
//!
//! ```
//! use taishi_sigma::{LoadOptions, Loader, Scratch};
//! # use taishi_fields::{FieldSource, Value};
//! # struct Ev(Vec<(&'static str, Value<'static>)>);
//! # impl FieldSource for Ev {
//! #     fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
//! #         let mut found = false;
//! #         for (k, v) in &self.0 { if *k == name { found = true; visit(v); } }
//! #         found
//! #     }
//! #     fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>)) {
//! #         for (k, v) in &self.0 { visit(k, v); }
//! #     }
//! # }
//! let rule = r#"
//! title: Whoami Execution
//! id: 8de1cbe9-0000-4000-8000-000000000001
//! author: Florian Roth
//! level: high
//! logsource: { category: process_creation, product: windows }
//! detection:
//!     selection:
//!         Image|endswith: '\whoami.exe'
//!     condition: selection
//! "#;
//! let mut loader = Loader::new(LoadOptions::default()); // built-in Windows mapping
//! loader.add_text("rules/whoami.yml", rule);             // never fails: problems go to the report
//! let (plan, report) = loader.build();
//! assert!(report.errors.is_empty());
//!
//! let event = Ev(vec![
//!     ("Channel", Value::Str("Microsoft-Windows-Sysmon/Operational".into())),
//!     ("EventID", Value::Int(1)),
//!     ("Image", Value::Str(r"C:\Windows\System32\whoami.exe".into())),
//! ]);
//! // Fast path, allocation-light: one Scratch per worker thread, reuse the output vector.
//! let mut scratch = Scratch::default();
//! let mut hits = Vec::new();
//! plan.matches_into(&event, &mut scratch, &mut hits);
//! assert_eq!(hits, vec![0]);
//! let rule = &plan.rules()[hits[0]];
//! assert_eq!(rule.meta.title, "Whoami Execution");
//! assert_eq!(rule.meta.author.as_deref(), Some("Florian Roth"));
//! // Only for hits (it re-evaluates): the fields behind the match.
//! assert_eq!(plan.matched_fields(0, &event)[0].0, "Image");
//! ```
//!
//! - [`Loader`] collects texts ([`Loader::add_text`], multi-document YAML) and
//!   [`Loader::build`]s a [`Plan`] plus a [`LoadReport`] (counts; every rule not loaded with its
//!   location and reason; rules without a logsource mapping). `build` parses the texts on all
//!   cores; the SigmaHQ set (3,780 rules) loads in about half a second. Loading never panics.
//! - [`LoadOptions`]: the logsource [`Mapping`] (default [`Mapping::windows_default`], or
//!   [`Mapping::from_yaml`] on a user file), [`Placeholders`] for `|expand`, and a [`Selection`]
//!   by minimum level and statuses.
//! - [`Plan`] is `Send + Sync`: share it (e.g. in an `Arc`) and give each thread a [`Scratch`].
//!   [`Plan::matches_into`] appends matching rule indices (ascending, once each);
//!   [`Plan::matches`] is the allocating convenience that also returns matched fields;
//!   [`Plan::interpret`] is the slow reference interpreter.
//! - [`RuleInfo`]: [`RuleMeta`] (id, title, level, status, author, tags, logsource, references,
//!   falsepositives, …) and `standalone`: hits of rules that exist only to feed a correlation
//!   (`generate: false`, the default) should not be printed as detections.
//! - Correlations: [`CorrelationEngine::new`]`(&plan, lateness_ms)`, then for each event with at
//!   least one hit [`CorrelationEngine::process`]`(&mut state, timestamp_ms, &hits, &event)`, and
//!   [`CorrelationEngine::flush`]`(&mut state, None)` at the end of the stream. The state,
//!   [`CorrelationState`], is plain serialisable data.
//!
//! # Event field names the default mapping expects (for event readers)
//!
//! The built-in mapping (`mappings/windows.yml`) and the index read these fields:
//! - `Channel`: the EVTX `System/Channel` text, e.g. `Security`,
//!   `Microsoft-Windows-Sysmon/Operational` (compared case-insensitively);
//! - `EventID`: the EVTX `System/EventID` as [`Value::Int`](taishi_fields::Value::Int) (the text of
//!   a number also works; never include the `Qualifiers` attribute);
//! - `Provider_Name`, `Computer`, and other System attributes as `Tag_Attribute`
//!   (`Execution_ProcessID`, `Security_UserID`), as the Sigma specification names them;
//! - EventData/UserData children by their `Name`. Sigma writes names without spaces
//!   (`New Value` → `NewValue`, `Threat Name` → `ThreatName`); a reader should also answer
//!   the space-less name.
//! - For 4688 process creation the mapping renames `Image` → `NewProcessName` and `ParentImage`
//!   → `ParentProcessName`; for Defender (`category: antivirus`) `Signature` → `ThreatName`,
//!   `Filename` → `Path`.
//!
//! Contract for [`FieldSource`](taishi_fields::FieldSource) implementations: `visit_all` must
//! visit every value `visit_field` can return (the literal prefilter scans `visit_all`'s values
//! and relies on that to never miss a match), and `Value::as_text` of each value must be the
//! text the field shows.
//!
//! # How the plan is fast
//!
//! Each rule is compiled once per applicable mapping entry into a tree of field tests with
//! lowercased literals and precompiled searchers. Variants are bucketed by the `Channel` and
//! `EventID` values they require (from the mapping's conditions or the rule's own detection); an
//! event meets only its bucket. For every rule the compiler picks a set of literals, one of which
//! must occur in a given field of any event the rule matches; each bucket (built on first use)
//! has an Aho-Corasick automaton over its rules' literals, and one scan of the lowercased values
//! of just those fields (all values, for rules with unfielded keywords) admits the few rules
//! whose literals occur. Only those are evaluated, with each field looked up and lowercased once
//! per event (a per-event cache shared by the scan and the tests). The prefilter may admit
//! rules that then do not match, never the reverse: a property test checks the plan against the
//! plain interpreter ([`Plan::interpret`]).
//!
//! # Matching semantics (Sigma specification 2.1)
//!
//! Maps are AND, lists OR; strings match whole values, case-insensitively, with `*`/`?`
//! wildcards and `\` escapes; `null` matches a missing or null field (not an empty string); `''` an empty
//! or null one. Unfielded keywords are substring searches over every value of the event. All the
//! modifiers of the appendix are implemented: `contains startswith endswith all exists cased
//! neq windash re (i m s) base64 base64offset utf16le utf16be utf16 wide lt lte gt gte minute hour
//! day week month year cidr expand fieldref`. `re` is case-sensitive; patterns the `regex` crate
//! rejects (look-around, back-references) fall back to `fancy-regex`. Meta filters are AND-ed
//! with the rules they name (pySigma's semantics: a suppressing filter says
//! `condition: not selection`). Temporal correlations also accept a boolean `condition` over
//! their rules (the Sigma 2.2 draft). Sigma v1 constructs still found in older rule sets are
//! rewritten rather than refused: `| count() by …`, `count(field)`, `sum`, `avg` and `near`
//! become the equivalent v2 correlations (see `legacy.rs`), and `action: global` rule
//! collections are expanded.

mod condition;
pub mod correlation;
mod detection;
mod error;
mod fieldcache;
mod index;
mod legacy;
mod loader;
mod mapping;
mod matcher;
mod plan;
mod rule;
mod value;
mod yaml;

pub use condition::{Cond, OfTarget, Quantity, parse as parse_condition};
pub use correlation::engine::{
    CorrelationEngine, CorrelationHit, CorrelationState, Entry, GroupState,
};
pub use correlation::{CorrelationDef, CorrelationType, Source, SourceExpr, Threshold};
pub use error::{Error, Location};
pub use loader::{LoadOptions, LoadReport, Loader, Selection, UnmappedRule};
pub use mapping::{MapEntry, Mapping, Unmapped, WINDOWS_DEFAULT};
pub use plan::{CHANNEL_FIELD, EVENT_ID_FIELD, Match, Plan, PlanStats, RuleInfo, Scratch};
pub use rule::{Document, Level, Logsource, RuleMeta, Status, parse_text};
pub use value::{Placeholders, UnknownPlaceholder};
pub use yaml::Yaml;

impl Plan {
    /// The loaded correlation rules; [`CorrelationHit::correlation`] indexes this.
    pub fn correlations(&self) -> &[CorrelationDef] {
        &self.correlations
    }
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn plan_is_shareable() {
        assert_send_sync::<crate::Plan>();
        assert_send_sync::<crate::CorrelationState>();
    }
}
