//! The `taishi` binary: command-line definition and glue. Each subcommand lives in its own module and
//! calls into the library crates; no domain logic lives here.

use clap::{Parser, Subcommand};

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
enum Command {}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
