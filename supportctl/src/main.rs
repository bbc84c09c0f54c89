//! `supportctl`: the operator's command line.

mod deadline;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "supportctl",
    version,
    about = "Support SLA tracking: deadlines, local server, replays"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// When is a request due? Prints the deadlines as one JSON object.
    Deadline(deadline::Args),
}

/// Exit code for bad input (clap uses it for bad arguments too).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deadline(args) => deadline::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("supportctl: {error}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}
