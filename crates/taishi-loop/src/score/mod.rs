//! The evaluation indicator system (评价指标体系): indicators from a TOML file, 0–100 scores and grades per
//! org and period, roll-up through the tree, sibling ranks, change against the previous period and a
//! per-indicator explanation of points lost.

mod compute;
mod config;

pub use compute::{
    FindingFact, IndicatorResult, Metrics, NoticeFact, OpenTally, ScoreCard, ScoreInput,
    TalliedInput, compute_scores, compute_scores_tallied,
};
pub use config::{
    DEFAULT_TOML, Indicator, IndicatorError, IndicatorKind, IndicatorSystem, PerSeverity, Rollup,
};

#[cfg(test)]
mod tests;
