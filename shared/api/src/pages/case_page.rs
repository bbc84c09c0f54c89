//! A case's page (`GET /cases/{case_id}`): what the board links to. The request, its clocks,
//! its timeline and its effects with their delivery state: the read API's case detail as HTML.

use super::html::{Nav, escape, local, page, safe_href};
use crate::views::CaseDetailView;
use domain::Timestamp;
use domain::jiff::tz::TimeZone;
use std::fmt::Write as _;

/// `link`: the case's ticket, chat or recording at the provider.
pub(crate) fn render(
    detail: &CaseDetailView,
    link: Option<&str>,
    now: Timestamp,
    time_zone: &TimeZone,
) -> String {
    let case = &detail.case;
    let id = escape(&case.case_id);
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>Case <span id=\"case-id\">{id}</span></h1>\n<p class=\"subject\">{}</p>\n\
         <dl class=\"facts\"><dt>Channel</dt><dd>{}</dd><dt>Plan</dt><dd>{}</dd>\
         <dt>Priority</dt><dd>{}</dd><dt>State</dt><dd>{}</dd><dt>Received</dt><dd>{}</dd>\
         <dt>Assignee</dt><dd>{}</dd><dt>Cluster</dt><dd>{}</dd></dl>\n",
        escape(case.subject.as_deref().unwrap_or("")),
        case.channel,
        case.plan,
        case.priority,
        serde_name(&case.state),
        escape(&local(case.received, time_zone)),
        escape(case.assignee.as_deref().unwrap_or("unassigned")),
        escape(case.labels.cluster.as_deref().unwrap_or("")),
    );
    main.push_str(
        "<h2>Clocks</h2>\n<table id=\"clocks\" class=\"report\"><thead><tr><th>Clock</th>\
         <th>Due</th><th>State</th><th>Met</th></tr></thead><tbody>\n",
    );
    for (name, clock) in &case.clocks {
        let _ = writeln!(
            main,
            "<tr class=\"clock {state}\"><td>{name}</td><td>{due}</td><td>{state}</td><td>{met}</td></tr>",
            state = serde_name(&clock.state),
            due = escape(&local(clock.due, time_zone)),
            met = clock
                .met_at
                .map(|at| escape(&local(at, time_zone)))
                .unwrap_or_default(),
        );
    }
    main.push_str("</tbody></table>\n");
    if let Some(next) = &case.next_response {
        let _ = writeln!(
            main,
            "<p id=\"next-response\">next_response: follow-up {} since {}</p>",
            next.round,
            escape(&local(next.started_at, time_zone)),
        );
    }

    main.push_str(
        "<h2>Timeline</h2>\n<table id=\"timeline\" class=\"report\"><thead><tr><th>At</th>\
         <th>What</th><th>Details</th></tr></thead><tbody>\n",
    );
    for entry in &detail.timeline {
        // The entry's own JSON (as the read API shows it), minus the fields in the columns.
        let mut fields = serde_json::to_value(entry).unwrap_or_default();
        let kind = fields
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("entry")
            .to_owned();
        if let Some(object) = fields.as_object_mut() {
            object.remove("type");
            object.remove("at");
        }
        let _ = writeln!(
            main,
            "<tr class=\"entry\"><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&local(entry.at, time_zone)),
            escape(&kind),
            escape(&fields.to_string()),
        );
    }
    main.push_str("</tbody></table>\n");

    main.push_str(
        "<h2>Effects</h2>\n<table id=\"effects\" class=\"report\"><thead><tr><th>Effect</th>\
         <th>State</th><th>Attempts</th><th>Detail</th></tr></thead><tbody>\n",
    );
    for effect in &detail.effects {
        let _ = writeln!(
            main,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&effect.effect),
            serde_name(&effect.state),
            effect.attempts,
            escape(
                effect
                    .last_error
                    .as_deref()
                    .or(effect.detail.as_deref())
                    .unwrap_or("")
            ),
        );
    }
    main.push_str("</tbody></table>\n");
    if let Some(href) = link.and_then(safe_href) {
        let _ = writeln!(
            main,
            "<p><a class=\"source-link\" href=\"{}\" rel=\"noopener noreferrer\">Open at the provider</a></p>",
            escape(href)
        );
    }
    let _ = writeln!(
        main,
        "<p><a href=\"/api/cases/{id}\">JSON</a> · <a href=\"/\">Back to the board</a></p>"
    );
    page(&format!("Case {}", case.case_id), Nav::Case, now, &main)
}

/// A value's serde name (the snake-case names the JSON API uses), escaped.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    let name = serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    escape(&name)
}
