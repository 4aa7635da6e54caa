//! Handler tests of the HTTP API over a temporary SQLite store, through `Router::oneshot`.

mod authz;
mod common;
mod extensions;
mod handlers;
mod lists;
mod loop_fx;
mod loop_handlers;
mod loop_month;
mod observations;
mod registry_handlers;
mod serving;
