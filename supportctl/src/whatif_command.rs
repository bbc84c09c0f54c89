//! `supportctl whatif`: the month's cases decided again, from their recorded events, under a
//! proposed policy (`report::whatif`, with the live engine's own `decide`), printed beside the
//! same replay under the current policy.

use crate::case_source::{CaseSource, SourceError};
use domain::jiff::Timestamp;
use report::whatif::WhatIf;
use report::{Counts, Month, Row};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The proposed policy file.
    #[arg(long)]
    policy: PathBuf,
    /// The policy in force (default: the built-in default policy, as infra/policy.toml).
    #[arg(long)]
    current_policy: Option<PathBuf>,
    /// The month, YYYY-MM, in the current policy's time zone.
    #[arg(long)]
    month: Month,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Base URL of a running server (default http://127.0.0.1:8080); sends
    /// SUPPORT_SLA_READ_TOKEN when it is set.
    #[arg(long, conflicts_with = "table")]
    url: Option<String>,
    /// Read this DynamoDB table directly, with the caller's AWS credentials.
    #[arg(long)]
    table: Option<String>,
    /// Decide as of this instant (RFC 3339; default: now).
    #[arg(long)]
    at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    #[error("--policy: {0}")]
    Policy(#[source] policy_file::PolicyError),
    #[error("--current-policy: {0}")]
    CurrentPolicy(#[source] policy_file::PolicyError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot write the JSON document: {0}")]
    Json(serde_json::Error),
}

pub fn run(args: Args) -> Result<(), WhatIfError> {
    let proposed = policy_file::load_policy(&args.policy).map_err(WhatIfError::Policy)?;
    let current = match &args.current_policy {
        Some(path) => policy_file::load_policy(path),
        None => policy_file::default_policy(),
    }
    .map_err(WhatIfError::CurrentPolicy)?;
    let source = CaseSource::from_args(args.url, args.table);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(WhatIfError::Runtime)?;
    let cases = runtime.block_on(source.recorded_month(&current, args.month))?;
    let now = args.at.unwrap_or_else(Timestamp::now);
    let result = report::whatif::whatif(&current, &proposed, &cases, args.month, now);
    let output = match args.format {
        Format::Json => serde_json::to_string_pretty(&result).map_err(WhatIfError::Json)?,
        Format::Table => table(&result),
    };
    println!("{output}");
    Ok(())
}

/// The rows side by side (current | proposed), then the changed clocks and the cases left out.
fn table(result: &WhatIf) -> String {
    type Key = (report::Clock, String, String, String);
    let key = |row: &Row| -> Key {
        (
            row.clock,
            row.plan.to_string(),
            row.priority.to_string(),
            row.channel.to_string(),
        )
    };
    let mut keys: Vec<Key> = result
        .current
        .iter()
        .chain(&result.proposed)
        .map(key)
        .collect();
    keys.sort();
    keys.dedup();
    let find = |rows: &[Row], wanted: &Key| rows.iter().find(|row| key(row) == *wanted).cloned();

    let mut out = String::new();
    let _ = writeln!(out, "what-if for {}", result.month);
    let _ = writeln!(
        out,
        "{:<15} {:<5} {:<7} {:<7} | {:>34} | {:>34}",
        "clock", "plan", "prio", "channel", "current", "proposed"
    );
    let _ = writeln!(
        out,
        "{:<15} {:<5} {:<7} {:<7} | {} | {}",
        "",
        "",
        "",
        "",
        counts_header(),
        counts_header()
    );
    for wanted in &keys {
        let (clock, plan, priority, channel) = wanted;
        let cells = |row: Option<Row>| counts_cells(row.map(|row| row.counts).unwrap_or_default());
        let _ = writeln!(
            out,
            "{:<15} {:<5} {:<7} {:<7} | {} | {}",
            clock.as_str(),
            plan,
            priority,
            channel,
            cells(find(&result.current, wanted)),
            cells(find(&result.proposed, wanted)),
        );
    }
    let _ = writeln!(out);
    if result.changed.is_empty() {
        let _ = writeln!(out, "no clock changes its outcome");
    } else {
        let _ = writeln!(out, "changed ({}):", result.changed.len());
        for changed in &result.changed {
            let _ = writeln!(
                out,
                "  {} {}: {} -> {}",
                changed.case_id,
                changed.clock,
                status_name(changed.current),
                status_name(changed.proposed)
            );
        }
    }
    if !result.not_replayed.is_empty() {
        let _ = writeln!(
            out,
            "not decided again ({}), counted on neither side:",
            result.not_replayed.len()
        );
        for left_out in &result.not_replayed {
            let _ = writeln!(out, "  {}: {}", left_out.case_id, left_out.reason);
        }
    }
    out.trim_end().to_owned()
}

fn counts_header() -> String {
    format!(
        "{:>4} {:>4} {:>4} {:>4} {:>4} {:>4} {:>5}",
        "tot", "met", "late", "brch", "pend", "canc", "comp%"
    )
}

fn counts_cells(counts: Counts) -> String {
    let compliance = counts
        .compliance
        .map_or_else(|| "-".to_owned(), |c| format!("{:.1}", c * 100.0));
    format!(
        "{:>4} {:>4} {:>4} {:>4} {:>4} {:>4} {:>5}",
        counts.total,
        counts.met,
        counts.met_late,
        counts.breached,
        counts.pending,
        counts.cancelled,
        compliance
    )
}

fn status_name(status: domain::case::ClockStatus) -> &'static str {
    use domain::case::ClockStatus;
    match status {
        ClockStatus::Pending => "pending",
        ClockStatus::Met => "met",
        ClockStatus::MetLate => "met_late",
        ClockStatus::Breached => "breached",
        ClockStatus::Cancelled => "cancelled",
    }
}
