//! Active posture checks of websites, hosts and IPs, and the lab of flawed sites.
//!
//! Each check is a component: a serde configuration ([`checks::CheckConfig`]) with its own
//! interval and timeout, built into a runtime struct implementing [`Check`]. Running a check
//! gives a [`CheckRun`] (the observation) and [`ProbeFinding`]s (stable id, severity, evidence,
//! zh/en remediation, dedup key) that the findings loop turns into platform findings.
//! Every network read is bounded in bytes and time so hostile targets end as errors.

pub mod checks;
pub mod grade;
pub mod html;
pub mod http;
pub mod lab;
pub mod model;
pub mod net;
pub mod observatory;
pub mod render;
pub mod runner;
pub mod target;
pub mod tlsraw;

pub use checks::{CheckConfig, ConfigError, Env, build_suite, default_suite};
pub use model::{
    Check, CheckReport, CheckRun, Evidence, Outcome, ProbeFinding, Schedule, run_check,
};
pub use runner::{TargetReport, probe_target};
pub use target::{Target, TargetError};
