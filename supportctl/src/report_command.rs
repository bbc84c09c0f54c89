//! `supportctl report`: a month's compliance report (docs/reports.md) as a table, JSON or CSV.
//!
//! Where the report comes from is a [`Source`]: a running server (`--url`), which computes it
//! over its store and answers `GET /api/reports/compliance?month=`, or the DynamoDB table itself
//! (`--table`), whose month of cases `report::compliance` turns into the same document here;
//! the printing below serves both.

use report::{ComplianceReport, Month};
use std::fmt::Write as _;

/// The read token a server beyond loopback asks for (sent as a Bearer token when set).
const READ_TOKEN_VARIABLE: &str = "SUPPORT_SLA_READ_TOKEN";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The month, `YYYY-MM`, in the policy's time zone (by the cases' receipt).
    #[arg(long)]
    month: Month,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Base URL of a running server (`supportctl serve` or the read API); sends
    /// `SUPPORT_SLA_READ_TOKEN` as a Bearer token when it is set.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8080",
        conflicts_with = "table"
    )]
    url: String,
    /// Read the deployment's DynamoDB table (the stack's `CasesTableName` output) directly,
    /// with the caller's AWS credentials, instead of a server.
    #[arg(long)]
    table: Option<String>,
    /// With `--table`: the policy the deployment runs (default: the built-in default policy).
    #[arg(long, requires = "table")]
    policy: Option<std::path::PathBuf>,
    /// With `--table`: the report as of this instant (RFC 3339; default: now).
    #[arg(long, requires = "table")]
    at: Option<domain::jiff::Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal, then the totals.
    Table,
    /// The API's JSON document.
    Json,
    /// The rows as CSV, as `GET /api/reports/compliance.csv` serves them.
    Csv,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered 401: the server needs the read token; set {READ_TOKEN_VARIABLE} to it")]
    Unauthorized { url: String },
    #[error("{url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} answered with a document that is not a compliance report: {reason}")]
    NotAReport { url: String, reason: String },
    #[error("--policy: {0}")]
    Policy(#[source] policy_file::PolicyError),
    #[error(transparent)]
    Table(#[from] crate::case_source::SourceError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Where a month's report comes from.
#[derive(Debug)]
pub enum Source {
    /// A running server computes it (`--url`).
    Server {
        base_url: String,
        read_token: Option<String>,
    },
    /// The table's month of cases, reported here (`--table`).
    Table {
        table: String,
        policy: Box<domain::policy::Policy>,
        at: domain::jiff::Timestamp,
    },
}

/// A report as a source produced it: the typed document and its JSON, exactly as the source
/// wrote it (so `--format json` prints the API's document, not a re-encoding of it).
#[derive(Debug)]
pub struct Fetched {
    pub report: ComplianceReport,
    pub json: serde_json::Value,
}

impl Source {
    async fn fetch(&self, month: Month) -> Result<Fetched, ReportError> {
        match self {
            Source::Server {
                base_url,
                read_token,
            } => fetch_from_server(base_url, read_token.as_deref(), month).await,
            Source::Table { table, policy, at } => {
                let cases =
                    crate::case_source::CaseSource::table_month(table, policy, month).await?;
                let report = report::compliance(policy, &cases, month, *at);
                let json = serde_json::to_value(&report).unwrap_or_default();
                Ok(Fetched { report, json })
            }
        }
    }
}

async fn fetch_from_server(
    base_url: &str,
    read_token: Option<&str>,
    month: Month,
) -> Result<Fetched, ReportError> {
    let url = format!(
        "{}/api/reports/compliance?month={month}",
        base_url.trim_end_matches('/')
    );
    let client = reqwest::Client::new();
    let mut request = client.get(&url).timeout(std::time::Duration::from_secs(60));
    if let Some(token) = read_token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|error| ReportError::Unreachable {
            url: url.clone(),
            reason: error.to_string(),
        })?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|error| ReportError::Unreachable {
            url: url.clone(),
            reason: error.to_string(),
        })?;
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(ReportError::Unauthorized { url });
    }
    if !status.is_success() {
        return Err(ReportError::Refused {
            url,
            status: status.as_u16(),
            body: body.chars().take(500).collect(),
        });
    }
    let not_a_report = |error: serde_json::Error| ReportError::NotAReport {
        url: url.clone(),
        reason: error.to_string(),
    };
    let json: serde_json::Value = serde_json::from_str(&body).map_err(not_a_report)?;
    let report: ComplianceReport = serde_json::from_value(json.clone()).map_err(not_a_report)?;
    Ok(Fetched { report, json })
}

pub fn run(args: &Args) -> Result<(), ReportError> {
    let source = match &args.table {
        Some(table) => Source::Table {
            table: table.clone(),
            policy: Box::new(
                match &args.policy {
                    Some(path) => policy_file::load_policy(path),
                    None => policy_file::default_policy(),
                }
                .map_err(ReportError::Policy)?,
            ),
            at: args.at.unwrap_or_else(domain::jiff::Timestamp::now),
        },
        None => Source::Server {
            base_url: args.url.clone(),
            read_token: std::env::var(READ_TOKEN_VARIABLE)
                .ok()
                .filter(|token| !token.trim().is_empty()),
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ReportError::Runtime)?;
    let fetched = runtime.block_on(source.fetch(args.month))?;
    print!("{}", render(&fetched, args.format));
    Ok(())
}

/// The report in `format`, ending with a line break.
pub fn render(fetched: &Fetched, format: Format) -> String {
    match format {
        Format::Json => {
            let mut text =
                serde_json::to_string_pretty(&fetched.json).unwrap_or_else(|_| "{}".into());
            text.push('\n');
            text
        }
        Format::Csv => report::to_csv(&fetched.report),
        Format::Table => table(&fetched.report),
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn minutes(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// Aligned columns: one line per row, then the totals and the number of breaches.
fn table(report: &ComplianceReport) -> String {
    let header = [
        "clock",
        "plan",
        "priority",
        "channel",
        "total",
        "met",
        "met_late",
        "breached",
        "pending",
        "cancelled",
        "compliance",
        "p50_min",
        "p90_min",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for row in &report.rows {
        let c = &row.counts;
        lines.push(vec![
            row.clock.to_string(),
            row.plan.to_string(),
            row.priority.to_string(),
            row.channel.to_string(),
            c.total.to_string(),
            c.met.to_string(),
            c.met_late.to_string(),
            c.breached.to_string(),
            c.pending.to_string(),
            c.cancelled.to_string(),
            percent(c.compliance),
            minutes(row.p50_minutes),
            minutes(row.p90_minutes),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("Compliance report {}\n", report.month);
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                // Names left, numbers right.
                if i < 4 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    if report.rows.is_empty() {
        out.push_str("(no cases received this month)\n");
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "totals: {} clocks, {} met, {} met late, {} breached, {} pending, {} cancelled, compliance {}",
        t.total,
        t.met,
        t.met_late,
        t.breached,
        t.pending,
        t.cancelled,
        percent(t.compliance)
    );
    let _ = writeln!(out, "breaches: {}", report.breaches.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Fetched {
        let json = serde_json::json!({
            "month": "2026-12",
            "rows": [{
                "clock": "first_response", "plan": "24x7", "priority": "urgent",
                "channel": "ticket", "total": 2, "met": 1, "met_late": 0, "breached": 1,
                "pending": 0, "cancelled": 0, "compliance": 0.5, "p50_minutes": 20.0,
                "p90_minutes": 20.0
            }],
            "totals": {"total": 2, "met": 1, "met_late": 0, "breached": 1, "pending": 0,
                       "cancelled": 0, "compliance": 0.5},
            "breaches": [{"case_id": "zendesk-1", "clock": "first_response",
                          "due": "2026-12-01T08:30:00Z", "late_minutes": 120.0}]
        });
        Fetched {
            report: serde_json::from_value(json.clone()).unwrap(),
            json,
        }
    }

    #[test]
    fn the_table_aligns_each_row_under_the_header_and_ends_with_the_totals() {
        let text = render(&sample(), Format::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Compliance report 2026-12");
        assert!(lines[1].starts_with("clock           plan  priority  channel  total"));
        assert!(lines[2].starts_with("first_response  24x7  urgent    ticket       2"));
        assert!(
            lines[2].ends_with("50.0%     20.0     20.0"),
            "{}",
            lines[2]
        );
        assert_eq!(
            lines[3],
            "totals: 2 clocks, 1 met, 0 met late, 1 breached, 0 pending, 0 cancelled, compliance 50.0%"
        );
        assert_eq!(lines[4], "breaches: 1");
    }

    #[test]
    fn json_is_the_document_as_fetched_and_csv_the_rows() {
        let fetched = sample();
        let json: serde_json::Value =
            serde_json::from_str(&render(&fetched, Format::Json)).unwrap();
        assert_eq!(json, fetched.json);
        let csv = render(&fetched, Format::Csv);
        assert_eq!(
            csv.lines().nth(1),
            Some("first_response,24x7,urgent,ticket,2,1,0,1,0,0,0.5000,20.0,20.0")
        );
    }
}
