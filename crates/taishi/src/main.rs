//! The `taishi` binary: command-line definition and glue. Each subcommand lives in its own module and
//! calls into the library crates; no domain logic lives here.

use clap::{Parser, Subcommand};

mod admin;
mod config;
mod hunt;
mod lab;
mod probe;
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Hunt(args) => hunt::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Lab(args) => lab::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
    }
}
