//! The board (`GET /`): the open cases, the most pressing first. The view model is pure
//! ([`board_rows`]: which case is breached or at risk, its time left, the order), so it is
//! tested without HTTP; [`render`] turns it into HTML.

use super::html::{Nav, escape, local, page, rfc3339, safe_href, time_left};
use domain::Timestamp;
use domain::case::{Case, ClockState, ClockStatus, Status};
use domain::jiff::tz::TimeZone;
use domain::policy::{Channel, Plan, Priority};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// How a case stands on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Standing {
    /// A running clock's due instant has passed.
    Breached,
    /// Not breached, but the first response's warning instant (75 % of its target) has passed.
    AtRisk,
    /// Clocks running, none near its deadline.
    OnTrack,
    /// Open, but no clock is running (every one met or stopped).
    NoClock,
}

impl Standing {
    /// The row's CSS class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Standing::Breached => "breached",
            Standing::AtRisk => "at-risk",
            Standing::OnTrack => "on-track",
            Standing::NoClock => "no-clock",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Standing::Breached => "breached",
            Standing::AtRisk => "at risk",
            Standing::OnTrack => "on track",
            Standing::NoClock => "no clock running",
        }
    }
}

/// One open case as the board shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BoardRow<'a> {
    pub case: &'a Case,
    pub standing: Standing,
    /// The running clock due first (`dispatch` or `first_response`) and its due instant.
    pub next: Option<(&'static str, Timestamp)>,
    /// Seconds from `now` to that due instant; negative when it has passed.
    pub seconds_left: Option<i64>,
    /// When the row turns at risk: the first response's warning instant, while that clock runs.
    pub warning: Option<Timestamp>,
}

/// Which cases the board shows: each filter that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filters {
    pub channel: Option<Channel>,
    pub plan: Option<Plan>,
    pub priority: Option<Priority>,
    pub cluster: Option<String>,
}

impl Filters {
    fn matches(&self, case: &Case) -> bool {
        let request = &case.request;
        self.channel.is_none_or(|c| c == request.channel)
            && self.plan.is_none_or(|p| p == request.plan)
            && self.priority.is_none_or(|p| p == request.priority)
            && self
                .cluster
                .as_ref()
                .is_none_or(|c| request.labels.cluster.as_ref() == Some(c))
    }
}

/// The clocks the board counts down: the SLA clocks (dispatch, first response) that still run,
/// i.e. neither met nor stopped.
fn running_clocks(case: &Case) -> impl Iterator<Item = (&'static str, &ClockState)> {
    case.dispatch
        .as_ref()
        .map(|clock| ("dispatch", clock))
        .into_iter()
        .chain([("first_response", &case.first_response)])
        .filter(|(_, clock)| matches!(clock.status(), ClockStatus::Pending | ClockStatus::Breached))
}

/// How `case` stands at `now`, and its running clock due first.
pub(crate) fn board_row(case: &Case, now: Timestamp) -> BoardRow<'_> {
    let next = running_clocks(case)
        .map(|(name, clock)| (name, clock.due))
        .min_by_key(|(_, due)| *due);
    let breached =
        running_clocks(case).any(|(_, clock)| clock.due <= now || clock.breached_at.is_some());
    let first_response_running = running_clocks(case).any(|(name, _)| name == "first_response");
    let standing = match next {
        None => Standing::NoClock,
        Some(_) if breached => Standing::Breached,
        Some(_) if first_response_running && case.first_response_warning_at <= now => {
            Standing::AtRisk
        }
        Some(_) => Standing::OnTrack,
    };
    BoardRow {
        case,
        standing,
        next,
        seconds_left: next.map(|(_, due)| due.duration_since(now).as_secs()),
        warning: first_response_running.then_some(case.first_response_warning_at),
    }
}

/// The open cases that pass `filters`, least time left first (the longest overdue on top);
/// cases with no running clock last, oldest first; ties by case id.
pub(crate) fn board_rows<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    filters: &Filters,
    now: Timestamp,
) -> Vec<BoardRow<'a>> {
    let mut rows: Vec<BoardRow<'a>> = cases
        .into_iter()
        .filter(|case| case.status == Status::Open && filters.matches(case))
        .map(|case| board_row(case, now))
        .collect();
    rows.sort_by(|a, b| {
        let by_due = match (a.next, b.next) {
            (Some((_, x)), Some((_, y))) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.case.request.received.cmp(&b.case.request.received),
        };
        by_due.then_with(|| a.case.id.as_str().cmp(b.case.id.as_str()))
    });
    rows
}

/// The cluster labels of the open cases, for the filter's choices.
pub(crate) fn clusters<'a>(cases: impl IntoIterator<Item = &'a Case>) -> BTreeSet<&'a str> {
    cases
        .into_iter()
        .filter(|case| case.status == Status::Open)
        .filter_map(|case| case.request.labels.cluster.as_deref())
        .collect()
}

/// The board page.
pub(crate) fn render(
    rows: &[BoardRow<'_>],
    clusters: &BTreeSet<&str>,
    filters: &Filters,
    now: Timestamp,
    time_zone: &TimeZone,
) -> String {
    let mut main = String::new();
    let count = |standing: Standing| rows.iter().filter(|r| r.standing == standing).count();
    let _ = write!(
        main,
        "<h1>Open cases</h1>\n<p id=\"summary\" class=\"summary\">\
         <span class=\"count\" id=\"open-count\">{open}</span> open · \
         <span class=\"count breached\" id=\"breached-count\">{breached}</span> breached · \
         <span class=\"count at-risk\" id=\"at-risk-count\">{at_risk}</span> at risk · \
         as of <time datetime=\"{now}\">{now_local}</time> \
         <span id=\"refresh-state\" class=\"refresh-state\"></span></p>\n",
        open = rows.len(),
        breached = count(Standing::Breached),
        at_risk = count(Standing::AtRisk),
        now = rfc3339(now),
        now_local = escape(&local(now, time_zone)),
    );
    render_filters(&mut main, clusters, filters);
    main.push_str(
        "<table class=\"board\">\n<thead><tr><th>Time left</th><th>Case</th><th>Subject</th>\
         <th>Channel</th><th>Plan</th><th>Priority</th><th>Cluster</th><th>Assignee</th>\
         <th>Next deadline</th><th>Open in</th></tr></thead>\n<tbody id=\"board-rows\">\n",
    );
    for row in rows {
        render_row(&mut main, row, time_zone);
    }
    if rows.is_empty() {
        main.push_str("<tr class=\"empty\"><td colspan=\"10\">No open cases.</td></tr>\n");
    }
    main.push_str("</tbody>\n</table>\n");
    page("Board", Nav::Board, now, &main)
}

fn render_filters(out: &mut String, clusters: &BTreeSet<&str>, filters: &Filters) {
    out.push_str("<form id=\"filters\" class=\"filters\" method=\"get\" action=\"/\">\n");
    select(
        out,
        "channel",
        "Channel",
        Channel::ALL.iter().map(|c| c.as_str()),
        filters.channel.map(Channel::as_str),
    );
    select(
        out,
        "plan",
        "Plan",
        Plan::ALL.iter().map(|p| p.as_str()),
        filters.plan.map(Plan::as_str),
    );
    select(
        out,
        "priority",
        "Priority",
        Priority::ALL.iter().map(|p| p.as_str()),
        filters.priority.map(Priority::as_str),
    );
    select(
        out,
        "cluster",
        "Cluster",
        clusters.iter().copied(),
        filters.cluster.as_deref(),
    );
    out.push_str("<button type=\"submit\">Filter</button> <a href=\"/\">Clear</a>\n</form>\n");
}

fn select<'a>(
    out: &mut String,
    name: &str,
    label: &str,
    values: impl Iterator<Item = &'a str>,
    selected: Option<&str>,
) {
    let _ = write!(
        out,
        "<label>{label} <select name=\"{name}\"><option value=\"\">all</option>"
    );
    for value in values {
        let mark = if selected == Some(value) {
            " selected"
        } else {
            ""
        };
        let value = escape(value);
        let _ = write!(out, "<option value=\"{value}\"{mark}>{value}</option>");
    }
    out.push_str("</select></label>\n");
}

fn render_row(out: &mut String, row: &BoardRow<'_>, time_zone: &TimeZone) {
    let case = row.case;
    let request = &case.request;
    let id = escape(case.id.as_str());
    let _ = write!(
        out,
        "<tr class=\"case {class}\" data-case-id=\"{id}\" data-channel=\"{channel}\" \
         data-plan=\"{plan}\" data-priority=\"{priority}\"",
        class = row.standing.class(),
        channel = request.channel,
        plan = request.plan,
        priority = request.priority,
    );
    if let Some(warning) = row.warning {
        let _ = write!(out, " data-warning=\"{}\"", rfc3339(warning));
    }
    if let Some((_, due)) = row.next {
        let _ = write!(out, " data-due=\"{}\"", rfc3339(due));
    }
    let left = row.seconds_left.map_or_else(|| "–".to_owned(), time_left);
    let _ = write!(
        out,
        ">\n<td class=\"time-left\" title=\"{standing}\">{left}</td>\
         <td><a class=\"case-link\" href=\"/cases/{id}\">{id}</a></td>\
         <td class=\"subject\">{subject}</td><td>{channel}</td><td>{plan}</td>\
         <td>{priority}</td><td>{cluster}</td><td>{assignee}</td>",
        standing = row.standing.label(),
        subject = escape(request.subject.as_deref().unwrap_or("")),
        channel = request.channel,
        plan = request.plan,
        priority = request.priority,
        cluster = escape(request.labels.cluster.as_deref().unwrap_or("")),
        assignee = escape(case.assignee.as_deref().unwrap_or("unassigned")),
    );
    match row.next {
        Some((clock, due)) => {
            let _ = write!(
                out,
                "<td>{clock} <time datetime=\"{}\">{}</time></td>",
                rfc3339(due),
                escape(&local(due, time_zone))
            );
        }
        None => out.push_str("<td>–</td>"),
    }
    out.push_str("<td class=\"links\">");
    if let Some(href) = request.link.as_deref().and_then(safe_href) {
        let what = match request.channel {
            Channel::Ticket => "ticket",
            Channel::Chat => "chat",
            Channel::Phone => "call",
        };
        let _ = write!(
            out,
            "<a class=\"source-link\" href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{what}</a> ",
            escape(href)
        );
    }
    if let Some(href) = request
        .voicemail
        .as_ref()
        .and_then(|voicemail| voicemail.recording_url.as_deref())
        .and_then(safe_href)
    {
        let _ = write!(
            out,
            "<a class=\"recording-link\" href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">recording</a> ",
            escape(href)
        );
    }
    let _ = write!(
        out,
        "<a class=\"timeline-link\" href=\"/cases/{id}\">timeline</a></td>\n</tr>\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::{CaseId, FieldTimes};
    use domain::policy::Labels;
    use std::collections::{BTreeMap, BTreeSet};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// An open urgent ticket received at 09:00Z: dispatch due 10:00, first response due 09:30,
    /// warned at 09:22:30.
    fn ticket(id: &str) -> Case {
        let received = at("2026-12-01T09:00:00Z");
        Case {
            id: CaseId::parse(id).unwrap(),
            request: domain::case::RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Enterprise,
                priority: Priority::Urgent,
                received,
                labels: Labels::default(),
                subject: Some("Site down".into()),
                requester: None,
                link: Some("https://acme.zendesk.com/agent/tickets/1".into()),
                voicemail: None,
            },
            status: Status::Open,
            assignee: None,
            out_of_hours: false,
            dispatch: Some(ClockState::new(at("2026-12-01T10:00:00Z"))),
            first_response: ClockState::new(at("2026-12-01T09:30:00Z")),
            first_response_warning_at: at("2026-12-01T09:22:30Z"),
            warned_at: None,
            chat_fallback: None,
            next_response: None,
            open_alerts: BTreeSet::new(),
            alert_responses: BTreeMap::new(),
            timers: BTreeMap::new(),
            applied: FieldTimes {
                status: received,
                assignment: received,
                priority: received,
                plan: received,
                labels: received,
            },
            last_event_at: received,
        }
    }

    #[test]
    fn a_case_before_its_warning_is_on_track_with_the_time_to_its_earliest_deadline() {
        let case = ticket("zendesk-1");
        let row = board_row(&case, at("2026-12-01T09:10:00Z"));
        assert_eq!(row.standing, Standing::OnTrack);
        assert_eq!(
            row.next,
            Some(("first_response", at("2026-12-01T09:30:00Z")))
        );
        assert_eq!(row.seconds_left, Some(20 * 60));
    }

    #[test]
    fn a_case_past_its_first_response_warning_is_at_risk() {
        let case = ticket("zendesk-1");
        assert_eq!(
            board_row(&case, at("2026-12-01T09:22:30Z")).standing,
            Standing::AtRisk
        );
    }

    #[test]
    fn a_case_past_a_running_deadline_is_breached_with_negative_time_left() {
        let case = ticket("zendesk-1");
        let row = board_row(&case, at("2026-12-01T09:45:00Z"));
        assert_eq!(row.standing, Standing::Breached);
        assert_eq!(row.seconds_left, Some(-15 * 60));
    }

    #[test]
    fn a_met_first_response_leaves_dispatch_counting_and_no_warning() {
        let mut case = ticket("zendesk-1");
        case.first_response.met_at = Some(at("2026-12-01T09:20:00Z"));
        let row = board_row(&case, at("2026-12-01T09:40:00Z"));
        assert_eq!(row.next, Some(("dispatch", at("2026-12-01T10:00:00Z"))));
        assert_eq!(row.standing, Standing::OnTrack);
        assert_eq!(row.warning, None);
        assert_eq!(
            board_row(&ticket("zendesk-2"), at("2026-12-01T09:00:00Z")).warning,
            Some(at("2026-12-01T09:22:30Z"))
        );
    }

    #[test]
    fn a_case_whose_clocks_are_all_met_has_no_clock_running() {
        let mut case = ticket("zendesk-1");
        case.first_response.met_at = Some(at("2026-12-01T09:20:00Z"));
        if let Some(dispatch) = case.dispatch.as_mut() {
            dispatch.met_at = Some(at("2026-12-01T09:05:00Z"));
        }
        let row = board_row(&case, at("2026-12-01T11:00:00Z"));
        assert_eq!(
            (row.standing, row.next, row.seconds_left),
            (Standing::NoClock, None, None)
        );
    }

    #[test]
    fn rows_are_open_cases_least_time_left_first_then_cases_without_a_clock() {
        let now = at("2026-12-01T09:45:00Z");
        let overdue = ticket("zendesk-overdue");
        let mut later = ticket("zendesk-later");
        later.first_response = ClockState::new(at("2026-12-01T12:00:00Z"));
        later.dispatch = None;
        let mut soon = ticket("zendesk-soon");
        soon.first_response = ClockState::new(at("2026-12-01T10:00:00Z"));
        soon.dispatch = None;
        let mut done = ticket("zendesk-done");
        done.first_response.met_at = Some(at("2026-12-01T09:01:00Z"));
        done.dispatch = None;
        let mut solved = ticket("zendesk-solved");
        solved.status = Status::Solved;
        let cases = [done, later, solved, soon, overdue];

        let rows = board_rows(&cases, &Filters::default(), now);

        let order: Vec<_> = rows.iter().map(|r| r.case.id.as_str()).collect();
        assert_eq!(
            order,
            [
                "zendesk-overdue",
                "zendesk-soon",
                "zendesk-later",
                "zendesk-done"
            ]
        );
    }

    #[test]
    fn filters_keep_only_cases_matching_every_filter_that_is_set() {
        let now = at("2026-12-01T09:10:00Z");
        let mut web = ticket("zendesk-web");
        web.request.labels.cluster = Some("web-3".into());
        let mut chat = ticket("intercom-chat");
        chat.request.channel = Channel::Chat;
        chat.request.labels.cluster = Some("web-3".into());
        let mut normal = ticket("zendesk-normal");
        normal.request.priority = Priority::Normal;
        let cases = [web, chat, normal];
        let ids = |filters: Filters| -> Vec<String> {
            board_rows(&cases, &filters, now)
                .iter()
                .map(|r| r.case.id.to_string())
                .collect()
        };

        assert_eq!(ids(Filters::default()).len(), 3);
        assert_eq!(
            ids(Filters {
                cluster: Some("web-3".into()),
                channel: Some(Channel::Ticket),
                ..Filters::default()
            }),
            ["zendesk-web"]
        );
        assert_eq!(
            ids(Filters {
                priority: Some(Priority::Normal),
                ..Filters::default()
            }),
            ["zendesk-normal"]
        );
        assert_eq!(
            ids(Filters {
                plan: Some(Plan::Standard),
                ..Filters::default()
            }),
            Vec::<String>::new()
        );
        assert_eq!(clusters(&cases), BTreeSet::from(["web-3"]));
    }

    #[test]
    fn customer_text_is_escaped_and_unsafe_links_are_dropped() {
        let now = at("2026-12-01T09:10:00Z");
        let mut case = ticket("zendesk-xss");
        case.request.subject =
            Some("<script>alert('x')</script><img src=x onerror=alert(1)>".into());
        case.request.link = Some("javascript:alert(1)".into());
        case.request.labels.cluster = Some("\"><b>c</b>".into());
        case.assignee = Some("<i>agent</i>".into());
        let cases = [case];
        let rows = board_rows(&cases, &Filters::default(), now);

        let html = render(
            &rows,
            &clusters(&cases),
            &Filters::default(),
            now,
            &TimeZone::UTC,
        );

        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>c</b>"), "{html}");
        assert!(!html.contains("<i>agent"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("&quot;&gt;&lt;b&gt;c&lt;/b&gt;"));
        // The only script is the server's own file.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("<script src=\"/assets/board.js\"></script>"));
    }
}
