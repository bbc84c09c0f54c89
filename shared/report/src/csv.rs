//! The rows of a compliance report as CSV (RFC 4180).

use crate::compliance::{ComplianceReport, Row};
use std::fmt::Write;

/// The header of [`to_csv`], in column order: the row fields of the JSON document.
pub const CSV_COLUMNS: [&str; 13] = [
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
    "p50_minutes",
    "p90_minutes",
];

/// The report's rows as CSV: a header line, then one line per row, each ended by CRLF
/// (RFC 4180). `compliance` is a fraction with 4 decimals, minutes have 1 decimal, and a value
/// that does not exist (no decided clock, no met clock) is an empty cell.
pub fn to_csv(report: &ComplianceReport) -> String {
    let mut out = String::new();
    push_line(
        &mut out,
        CSV_COLUMNS.iter().map(|column| (*column).to_owned()),
    );
    for row in &report.rows {
        push_line(&mut out, cells(row));
    }
    out
}

fn cells(row: &Row) -> impl Iterator<Item = String> {
    let counts = &row.counts;
    [
        row.clock.as_str().to_owned(),
        row.plan.as_str().to_owned(),
        row.priority.as_str().to_owned(),
        row.channel.as_str().to_owned(),
        counts.total.to_string(),
        counts.met.to_string(),
        counts.met_late.to_string(),
        counts.breached.to_string(),
        counts.pending.to_string(),
        counts.cancelled.to_string(),
        fixed(counts.compliance, 4),
        fixed(row.p50_minutes, 1),
        fixed(row.p90_minutes, 1),
    ]
    .into_iter()
}

fn fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(String::new, |value| format!("{value:.decimals$}"))
}

fn push_line(out: &mut String, cells: impl Iterator<Item = String>) {
    for (index, cell) in cells.enumerate() {
        if index > 0 {
            out.push(',');
        }
        push_cell(out, &cell);
    }
    out.push_str("\r\n");
}

/// A cell with a comma, quote or line break is quoted, its quotes doubled (RFC 4180, 2.6-2.7).
/// Today's values never need it (names and numbers), but a future column (a cluster name) may.
fn push_cell(out: &mut String, cell: &str) {
    if cell.contains([',', '"', '\r', '\n']) {
        let _ = write!(out, "\"{}\"", cell.replace('"', "\"\""));
    } else {
        out.push_str(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(cell: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, cell);
        out
    }

    #[test]
    fn plain_cells_are_written_as_they_are() {
        assert_eq!(quoted("first_response"), "first_response");
        assert_eq!(quoted("24x7"), "24x7");
        assert_eq!(quoted(""), "");
    }

    #[test]
    fn cells_with_commas_quotes_or_line_breaks_are_quoted_with_quotes_doubled() {
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("two\nlines"), "\"two\nlines\"");
        assert_eq!(quoted("cr\rhere"), "\"cr\rhere\"");
    }

    #[test]
    fn a_line_joins_cells_with_commas_and_ends_with_crlf() {
        let mut out = String::new();
        push_line(
            &mut out,
            ["a", "b,c", "", "d\"e"].into_iter().map(str::to_owned),
        );
        assert_eq!(out, "a,\"b,c\",,\"d\"\"e\"\r\n");
    }

    #[test]
    fn numbers_have_fixed_decimals_and_none_is_empty() {
        assert_eq!(fixed(Some(0.5), 4), "0.5000");
        assert_eq!(fixed(Some(2.0 / 3.0), 4), "0.6667");
        assert_eq!(fixed(Some(1.0), 4), "1.0000");
        assert_eq!(fixed(Some(37.25), 1), "37.2");
        assert_eq!(fixed(Some(90.0), 1), "90.0");
        assert_eq!(fixed(None, 1), "");
    }
}
