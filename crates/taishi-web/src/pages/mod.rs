//! The console's pages, one module per area.

pub mod admin;
pub mod alerts;
pub mod assets;
pub mod auth;
pub mod bulletins;
pub mod dashboard;
pub mod findings;
pub mod loopfigs;
pub mod notices;
pub mod orgs;
pub mod rankings;
pub mod situation;
