//! `supportctl report --table NAME`: the month's compliance report read straight from the
//! DynamoDB table (through its `received` index) with the caller's AWS credentials. The same
//! document as `GET /api/reports/compliance`, computed by the same `report::compliance`.

use crate::case_source::{CaseSource, SourceError};
use crate::whatif_command::counts_cells;
use domain::jiff::Timestamp;
use report::{ComplianceReport, Month};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The month, YYYY-MM, in the policy's time zone.
    #[arg(long)]
    month: Month,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The DynamoDB table of the deployment (the stack's `CasesTableName` output).
    #[arg(long)]
    table: String,
    /// The policy the deployment runs (default: the built-in default policy).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The report as of this instant (RFC 3339; default: now).
    #[arg(long)]
    at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("--policy: {0}")]
    Policy(#[source] policy_file::PolicyError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot write the JSON document: {0}")]
    Json(serde_json::Error),
}

pub fn run(args: Args) -> Result<(), ReportError> {
    let policy = match &args.policy {
        Some(path) => policy_file::load_policy(path),
        None => policy_file::default_policy(),
    }
    .map_err(ReportError::Policy)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ReportError::Runtime)?;
    let cases = runtime.block_on(CaseSource::table_month(&args.table, &policy, args.month))?;
    let now = args.at.unwrap_or_else(Timestamp::now);
    let report = report::compliance(&policy, &cases, args.month, now);
    let output = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).map_err(ReportError::Json)?,
        Format::Csv => report::to_csv(&report).trim_end().to_owned(),
        Format::Table => table(&report),
    };
    println!("{output}");
    Ok(())
}

fn table(report: &ComplianceReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "compliance for {}", report.month);
    let _ = writeln!(
        out,
        "{:<15} {:<5} {:<7} {:<7} | {:>4} {:>4} {:>4} {:>4} {:>4} {:>4} {:>5} | {:>7} {:>7}",
        "clock",
        "plan",
        "prio",
        "channel",
        "tot",
        "met",
        "late",
        "brch",
        "pend",
        "canc",
        "comp%",
        "p50 min",
        "p90 min"
    );
    let minutes = |m: Option<f64>| m.map_or_else(|| "-".to_owned(), |m| format!("{m:.1}"));
    for row in &report.rows {
        let _ = writeln!(
            out,
            "{:<15} {:<5} {:<7} {:<7} | {} | {:>7} {:>7}",
            row.clock.as_str(),
            row.plan,
            row.priority,
            row.channel,
            counts_cells(row.counts),
            minutes(row.p50_minutes),
            minutes(row.p90_minutes)
        );
    }
    let _ = writeln!(
        out,
        "{:<15} {:<5} {:<7} {:<7} | {}",
        "total",
        "",
        "",
        "",
        counts_cells(report.totals)
    );
    let _ = writeln!(out, "breaches: {}", report.breaches.len());
    out.trim_end().to_owned()
}
