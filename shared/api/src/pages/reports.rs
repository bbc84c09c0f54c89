//! The report page (`GET /reports?month=YYYY-MM`): month picker, the compliance table, two
//! inline SVG charts (compliance per priority per week; time to first response p50/p90) and
//! the CSV link. Everything is drawn on the server; the page needs no script.

use super::html::{Nav, escape, page};
use domain::Timestamp;
use domain::policy::Priority;
use report::{Clock, ComplianceReport, Month, Row, WeeklyCompliance};
use std::fmt::Write as _;

/// One colour per priority, in `Priority::ALL` order (urgent, high, normal, low).
const PRIORITY_COLOURS: [&str; 4] = ["#c62828", "#ef6c00", "#1565c0", "#6a6a6a"];

fn colour(priority: Priority) -> &'static str {
    let index = Priority::ALL
        .iter()
        .position(|p| *p == priority)
        .unwrap_or(0);
    PRIORITY_COLOURS[index % PRIORITY_COLOURS.len()]
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

fn minutes(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// The month before and after, for the picker's links.
fn neighbours(month: Month) -> (Option<Month>, Option<Month>) {
    let (year, m) = (month.year(), month.month());
    let previous = if m == 1 {
        Month::new(year - 1, 12)
    } else {
        Month::new(year, m - 1)
    };
    let next = if m == 12 {
        Month::new(year + 1, 1)
    } else {
        Month::new(year, m + 1)
    };
    (previous, next)
}

pub(crate) fn render(
    report: &ComplianceReport,
    weekly: &WeeklyCompliance,
    now: Timestamp,
) -> String {
    let month = report.month;
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>Compliance report {month}</h1>\n\
         <form id=\"month-picker\" class=\"filters\" method=\"get\" action=\"/reports\">\
         <label>Month <input type=\"month\" name=\"month\" value=\"{month}\" required \
         pattern=\"[0-9]{{4}}-[0-9]{{2}}\"></label> <button type=\"submit\">Show</button>"
    );
    let (previous, next) = neighbours(month);
    if let Some(previous) = previous {
        let _ = write!(
            main,
            " <a href=\"/reports?month={previous}\">← {previous}</a>"
        );
    }
    if let Some(next) = next {
        let _ = write!(main, " <a href=\"/reports?month={next}\">{next} →</a>");
    }
    let _ = writeln!(
        main,
        " <a id=\"csv-link\" class=\"download\" href=\"/api/reports/compliance.csv?month={month}\" \
         download=\"compliance-{month}.csv\">Download CSV</a></form>"
    );
    let totals = &report.totals;
    let _ = writeln!(
        main,
        "<p class=\"summary\" id=\"totals\">{} clocks: {} met, {} met late, {} breached, {} pending, \
         {} cancelled; compliance {}</p>",
        totals.total,
        totals.met,
        totals.met_late,
        totals.breached,
        totals.pending,
        totals.cancelled,
        percent(totals.compliance)
    );
    render_table(&mut main, &report.rows);
    main.push_str("<section class=\"charts\">\n");
    for clock in [Clock::FirstResponse, Clock::Dispatch] {
        if weekly.points.iter().any(|p| p.clock == clock) {
            weekly_chart(&mut main, weekly, clock);
        }
    }
    percentiles_chart(&mut main, &report.rows);
    main.push_str("</section>\n");
    render_breaches(&mut main, report);
    page(&format!("Report {month}"), Nav::Reports, now, &main)
}

fn render_table(out: &mut String, rows: &[Row]) {
    out.push_str(
        "<table id=\"compliance\" class=\"report\">\n<thead><tr><th>Clock</th><th>Plan</th>\
         <th>Priority</th><th>Channel</th><th>Total</th><th>Met</th><th>Met late</th>\
         <th>Breached</th><th>Pending</th><th>Cancelled</th><th>Compliance</th>\
         <th>p50 min</th><th>p90 min</th></tr></thead>\n<tbody>\n",
    );
    for row in rows {
        let c = &row.counts;
        let _ = writeln!(
            out,
            "<tr class=\"row\" data-clock=\"{}\" data-plan=\"{}\" data-priority=\"{}\" \
             data-channel=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            row.clock,
            row.plan,
            row.priority,
            row.channel,
            row.clock,
            row.plan,
            row.priority,
            row.channel,
            c.total,
            c.met,
            c.met_late,
            c.breached,
            c.pending,
            c.cancelled,
            percent(c.compliance),
            minutes(row.p50_minutes),
            minutes(row.p90_minutes)
        );
    }
    if rows.is_empty() {
        out.push_str(
            "<tr class=\"empty\"><td colspan=\"13\">No cases received this month.</td></tr>\n",
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

// Chart geometry (SVG user units).
const WIDTH: f64 = 720.0;
const LEFT: f64 = 48.0;
const TOP: f64 = 16.0;
const PLOT_HEIGHT: f64 = 200.0;

/// Grouped bars: one group per week, one bar per priority with clocks that week; the bar's
/// height is the compliance (0-100 %). A week without decided clocks draws no bar.
fn weekly_chart(out: &mut String, weekly: &WeeklyCompliance, clock: Clock) {
    let title = match clock {
        Clock::FirstResponse => "First-response compliance per priority per week",
        Clock::Dispatch => "Dispatch compliance per priority per week",
        Clock::NextResponse => "Next-response compliance per priority per week",
    };
    let height = TOP + PLOT_HEIGHT + 56.0;
    let _ = writeln!(
        out,
        "<figure><figcaption>{title}</figcaption><svg class=\"chart weekly\" id=\"weekly-{clock}\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-labelledby=\"weekly-{clock}-title\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"weekly-{clock}-title\">{title}</title>"
    );
    axis(out);
    let weeks = &weekly.weeks;
    let group_width = (WIDTH - LEFT - 8.0) / weeks.len().max(1) as f64;
    let bar_width = (group_width - 12.0) / Priority::ALL.len() as f64;
    for (w, week) in weeks.iter().enumerate() {
        let x0 = LEFT + w as f64 * group_width + 6.0;
        for (p, priority) in Priority::ALL.iter().enumerate() {
            let point = weekly
                .points
                .iter()
                .find(|pt| pt.clock == clock && pt.priority == *priority && pt.week == *week);
            let Some(compliance) = point.and_then(|pt| pt.counts.compliance) else {
                continue;
            };
            let bar = (compliance * PLOT_HEIGHT).max(1.0);
            let _ = writeln!(
                out,
                "<rect class=\"bar\" data-week=\"{week}\" data-priority=\"{priority}\" \
                 x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_width:.1}\" height=\"{bar:.1}\" \
                 fill=\"{fill}\"><title>{priority}, week of {week}: {value}</title></rect>",
                x = x0 + p as f64 * bar_width,
                y = TOP + PLOT_HEIGHT - bar,
                fill = colour(*priority),
                value = percent(Some(compliance)),
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            x0 + (group_width - 12.0) / 2.0,
            TOP + PLOT_HEIGHT + 16.0,
            week.strftime("%d %b")
        );
    }
    legend(out, TOP + PLOT_HEIGHT + 40.0);
    out.push_str("</svg></figure>\n");
}

/// The y axis from 0 to 100 %, with grid lines every 25 %.
fn axis(out: &mut String) {
    for step in 0..=4 {
        let y = TOP + PLOT_HEIGHT - f64::from(step) * PLOT_HEIGHT / 4.0;
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{WIDTH}\" y1=\"{y:.1}\" y2=\"{y:.1}\" \
             stroke=\"#ddd\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" \
             text-anchor=\"end\">{} %</text>",
            LEFT - 4.0,
            y + 4.0,
            step * 25
        );
    }
}

fn legend(out: &mut String, y: f64) {
    for (i, priority) in Priority::ALL.iter().enumerate() {
        let x = LEFT + i as f64 * 110.0;
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text class=\"legend\" x=\"{:.1}\" y=\"{y:.1}\">{priority}</text>",
            y - 9.0,
            colour(*priority),
            x + 14.0
        );
    }
}

/// Horizontal bars, two per first-response row that has met clocks: p50 (solid) and p90
/// (light), in minutes of the row's own calendar, on one scale up to the largest p90.
fn percentiles_chart(out: &mut String, rows: &[Row]) {
    let measured: Vec<&Row> = rows
        .iter()
        .filter(|r| r.clock == Clock::FirstResponse && r.p90_minutes.is_some())
        .collect();
    let line = 28.0;
    let height = TOP + line * measured.len().max(1) as f64 + 40.0;
    let label_width = 220.0;
    let _ = writeln!(
        out,
        "<figure><figcaption>Time to first response, p50 (dark) and p90 (light), in minutes \
         of each row's calendar</figcaption><svg class=\"chart percentiles\" id=\"first-response-percentiles\" \
         viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"percentiles-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"percentiles-title\">Time to first \
         response, p50 and p90 (minutes on each row's calendar)</title>"
    );
    if measured.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"legend\" x=\"{LEFT}\" y=\"{:.1}\">No first response met this month.</text>",
            TOP + 16.0
        );
    }
    let max = measured
        .iter()
        .filter_map(|r| r.p90_minutes)
        .fold(1.0_f64, f64::max);
    let scale = (WIDTH - label_width - 80.0) / max;
    for (i, row) in measured.iter().enumerate() {
        let y = TOP + i as f64 * line;
        let (p50, p90) = (
            row.p50_minutes.unwrap_or(0.0),
            row.p90_minutes.unwrap_or(0.0),
        );
        let fill = colour(row.priority);
        let _ = writeln!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} {} {}</text>\
             <rect class=\"p90\" x=\"{label_width}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"20\" \
             fill=\"{fill}\" fill-opacity=\"0.35\"><title>p90 {:.1} min</title></rect>\
             <rect class=\"p50\" x=\"{label_width}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" \
             fill=\"{fill}\"><title>p50 {:.1} min</title></rect>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{:.0} / {:.0} min</text>",
            label_width - 6.0,
            y + 14.0,
            row.plan,
            row.priority,
            row.channel,
            (p90 * scale).max(1.0),
            p90,
            y + 4.0,
            (p50 * scale).max(1.0),
            p50,
            label_width + p90 * scale + 6.0,
            y + 14.0,
            p50,
            p90
        );
    }
    out.push_str("</svg></figure>\n");
}

fn render_breaches(out: &mut String, report: &ComplianceReport) {
    let _ = writeln!(
        out,
        "<h2>Breaches ({})</h2>\n<table id=\"breaches\" class=\"report\"><thead><tr><th>Case</th>\
         <th>Clock</th><th>Due (UTC)</th><th>Late (min)</th></tr></thead>\n<tbody>",
        report.breaches.len()
    );
    for breach in &report.breaches {
        let id = escape(breach.case_id.as_str());
        let _ = writeln!(
            out,
            "<tr><td><a href=\"/cases/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
            breach.clock,
            breach.due.strftime("%Y-%m-%d %H:%M"),
            breach.late_minutes
        );
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_months_around_a_year_end_are_december_and_january() {
        let december: Month = "2026-12".parse().unwrap();
        let (previous, next) = neighbours(december);
        assert_eq!(previous.map(|m| m.to_string()).as_deref(), Some("2026-11"));
        assert_eq!(next.map(|m| m.to_string()).as_deref(), Some("2027-01"));
        let (previous, _) = neighbours("2027-01".parse().unwrap());
        assert_eq!(previous.map(|m| m.to_string()).as_deref(), Some("2026-12"));
        let (_, next) = neighbours("9999-12".parse().unwrap());
        assert_eq!(next, None);
    }

    #[test]
    fn an_empty_month_still_has_its_table_charts_and_csv_link() {
        let month: Month = "2026-12".parse().unwrap();
        let report = ComplianceReport {
            month,
            rows: vec![],
            totals: report::Counts::default(),
            breaches: vec![],
        };
        let weekly = WeeklyCompliance {
            month,
            weeks: report::weeks_of(month),
            points: vec![],
        };
        let html = render(&report, &weekly, "2026-12-10T12:00:00Z".parse().unwrap());
        assert!(html.contains("No cases received this month."));
        assert!(html.contains("<svg class=\"chart percentiles\""));
        assert!(html.contains("href=\"/api/reports/compliance.csv?month=2026-12\""));
        assert!(html.contains("value=\"2026-12\""));
    }
}
