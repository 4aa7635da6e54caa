//! The console's pages, one module per area.

pub mod assets;
pub mod auth;
pub mod dashboard;
pub mod orgs;
pub mod situation;
