//! The `taishi` binary: command-line definition and glue. Each subcommand lives in its own module and
//! calls into the library crates; no domain logic lives here.

use clap::{Parser, Subcommand};

mod admin;
mod config;
mod export;
mod hunt;
mod import;
mod lab;
mod migrate;
mod probe;
mod report;
mod serve;

/// taishi (态势): cyber-security situational awareness for an authority and the organisations it
/// answers for.
#[derive(Debug, Parser)]
#[command(name = "taishi", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each variant's module owns its arguments and its run function.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run Sigma rules over log files and folders (EVTX, JSON lines, syslog, EVE, Zeek) and print detections.
    Hunt(hunt::HuntArgs),
    /// Run every posture check once against URLs, hosts or IPs and print a report.
    Probe(probe::ProbeArgs),
    /// Serve the lab of flawed sites on 127.0.0.1 until Ctrl-C.
    Lab(lab::LabArgs),
    /// Serve the REST API (and console) on the embedded SQLite store or PostgreSQL until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Administer users and API tokens from the command line (passwords from standard input).
    Admin(admin::AdminArgs),
    /// Import the org tree and assets from CSV (--orgs, --assets) or a JSON/TOML document; idempotent.
    Import(import::ImportArgs),
    /// Export the org tree and assets (all or one subtree) as CSV, JSON or TOML in the import format.
    Export(export::ExportArgs),
    /// Apply pending database migrations and list the schema version of the store.
    Migrate(migrate::MigrateArgs),
    /// Build the periodic bulletin (常态化通报) of an org's subtree for a period: HTML, Markdown or CSV.
    Report(report::ReportArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Hunt(args) => hunt::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Lab(args) => lab::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Report(args) => report::run(args),
    }
}
