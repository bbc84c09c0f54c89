//! `supportctl`: the operator's command line.

mod case_source;
mod deadline;
mod replay;
mod report_command;
mod serve;
mod whatif_command;

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
    /// Run the whole system locally: webhooks, timers, notifications, read API.
    Serve(serve::Args),
    /// Sign sample provider events and post them to a running server.
    Replay(replay::Args),
    /// A month's SLA compliance report per clock, plan, priority and channel.
    Report(report_command::Args),
    /// Decide a month's cases again under a proposed policy; print both reports side by side.
    Whatif(whatif_command::Args),
}

/// Exit code for bad input (clap uses it for bad arguments too).
const USAGE_ERROR: u8 = 2;
/// Exit code for a failure at run time.
const RUNTIME_ERROR: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deadline(args) => deadline::run(&args).map_err(|e| (USAGE_ERROR, e.to_string())),
        Command::Serve(args) => {
            init_logging();
            serve::run(&args).map_err(|e| (RUNTIME_ERROR, e.to_string()))
        }
        Command::Replay(args) => replay::run(&args).map_err(|e| (RUNTIME_ERROR, e.to_string())),
        Command::Report(args) => {
            report_command::run(&args).map_err(|e| (RUNTIME_ERROR, e.to_string()))
        }
        Command::Whatif(args) => {
            whatif_command::run(args).map_err(|e| (RUNTIME_ERROR, e.to_string()))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("supportctl: {message}");
            ExitCode::from(code)
        }
    }
}

/// Human-readable logs by default; one JSON object per line with `LOG_FORMAT=json`.
/// The level comes from `RUST_LOG` (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
