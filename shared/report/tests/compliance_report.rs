//! The monthly compliance report over real cases, built by the domain's own `decide` under the
//! shipped default policy (business hours Mon-Fri 08:00-20:00 Europe/Berlin, NW holidays;
//! dispatch 1 business hour; first response: urgent 30 min, 24x7 on the always calendar;
//! normal 12 business hours on both plans). Every expected number is computed by hand in the
//! comments next to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    Case, CaseEvent, CaseFacts, CaseId, Change, Input, RequestFacts, Status, TimerKind, decide,
};
use domain::jiff::Timestamp;
use domain::jiff::civil::DateTime;
use domain::jiff::tz::TimeZone;
use domain::policy::{Channel, Labels, Plan, Policy, Priority};
use report::{
    Breach, CSV_COLUMNS, Clock, ComplianceReport, Counts, Month, Row, compliance, to_csv,
};

fn policy() -> Policy {
    policy_file::default_policy().unwrap()
}

/// A Berlin wall-clock time, e.g. `2026-12-01T09:00`.
fn berlin(local: &str) -> Timestamp {
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let local: DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(local).compatible().unwrap()
}

fn month(text: &str) -> Month {
    text.parse().unwrap()
}

enum Step {
    Event(Change, &'static str),
    Timer(TimerKind, &'static str),
}

/// A request opened at `received` (Berlin time), then driven through `steps` by `decide`.
fn case(
    id: &str,
    channel: Channel,
    plan: Plan,
    priority: Priority,
    received: Timestamp,
    steps: Vec<Step>,
) -> Case {
    let policy = policy();
    let id = CaseId::parse(id).unwrap();
    let facts = CaseFacts {
        request: RequestFacts {
            channel,
            plan,
            priority,
            received,
            labels: Labels::default(),
            subject: Some("Site down, \"again\"".into()),
            requester: None,
            link: None,
            voicemail: None,
        },
        status: Status::Open,
        assignee: None,
        first_response_at: None,
        adoption: None,
        references: Default::default(),
    };
    let event = |n: usize, change: Change, at: Timestamp| CaseEvent {
        case_id: id.clone(),
        event_id: format!("evt-{n}"),
        occurred_at: at,
        change,
        snapshot: facts.clone(),
    };
    let opened = event(0, Change::Opened, received);
    let mut case = decide(&policy, None, Input::Event(&opened), received)
        .unwrap()
        .case;
    for (n, step) in steps.into_iter().enumerate() {
        case = match step {
            Step::Event(change, at) => {
                let at = berlin(at);
                let event = event(n + 1, change, at);
                decide(&policy, Some(case), Input::Event(&event), at)
            }
            Step::Timer(timer, at) => {
                decide(&policy, Some(case), Input::TimerFired(timer), berlin(at))
            }
        }
        .unwrap()
        .case;
    }
    case
}

fn ticket(id: &str, plan: Plan, priority: Priority, received: &str, steps: Vec<Step>) -> Case {
    case(id, Channel::Ticket, plan, priority, berlin(received), steps)
}

fn replied(at: &'static str) -> Step {
    Step::Event(Change::AgentReplied, at)
}

fn assigned(at: &'static str) -> Step {
    Step::Event(
        Change::Assigned {
            assignee: Some("agent-7".into()),
        },
        at,
    )
}

fn row(
    report: &ComplianceReport,
    clock: Clock,
    plan: Plan,
    priority: Priority,
    channel: Channel,
) -> &Row {
    report
        .rows
        .iter()
        .find(|r| (r.clock, r.plan, r.priority, r.channel) == (clock, plan, priority, channel))
        .unwrap_or_else(|| panic!("no row {clock} {plan} {priority} {channel}"))
}

fn counts(
    total: u64,
    met: u64,
    met_late: u64,
    breached: u64,
    pending: u64,
    cancelled: u64,
    compliance: Option<f64>,
) -> Counts {
    Counts {
        total,
        met,
        met_late,
        breached,
        pending,
        cancelled,
        compliance,
    }
}

/// Issue 13's acceptance cases, on Tuesday 1 December 2026, looked at at 11:30 Berlin time.
fn acceptance_cases() -> Vec<Case> {
    vec![
        // Urgent 24x7, received 09:00: first response due 09:30 (always), breached by its
        // timer; never assigned, so dispatch (due 10:00 business) is breached by 11:30 too.
        ticket(
            "zendesk-1",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-12-01T09:00",
            vec![Step::Timer(TimerKind::FirstResponse, "2026-12-01T09:30")],
        ),
        // Urgent 24x7, received 10:00: assigned 10:10 (dispatch due 11:00, met), answered
        // 10:20 (due 10:30, met after 20 minutes).
        ticket(
            "zendesk-2",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-12-01T10:00",
            vec![assigned("2026-12-01T10:10"), replied("2026-12-01T10:20")],
        ),
        // Normal 12x5, received 11:00: dispatch due 12:00, first response due 2 December
        // 11:00 (9 business hours on the 1st, 3 on the 2nd); both pending at 11:30.
        ticket(
            "zendesk-3",
            Plan::Standard,
            Priority::Normal,
            "2026-12-01T11:00",
            vec![],
        ),
    ]
}

fn acceptance_report() -> ComplianceReport {
    compliance(
        &policy(),
        &acceptance_cases(),
        month("2026-12"),
        berlin("2026-12-01T11:30"),
    )
}

#[test]
fn the_acceptance_scenario_counts_one_breached_and_one_met_urgent_ticket_and_one_pending_normal_one()
 {
    let report = acceptance_report();
    let urgent = row(
        &report,
        Clock::FirstResponse,
        Plan::Enterprise,
        Priority::Urgent,
        Channel::Ticket,
    );
    assert_eq!(urgent.counts, counts(2, 1, 0, 1, 0, 0, Some(0.5)));
    // Only the met clock has a time to meet: 20 minutes.
    assert_eq!(urgent.p50_minutes, Some(20.0));
    assert_eq!(urgent.p90_minutes, Some(20.0));

    let normal = row(
        &report,
        Clock::FirstResponse,
        Plan::Standard,
        Priority::Normal,
        Channel::Ticket,
    );
    assert_eq!(normal.counts, counts(1, 0, 0, 0, 1, 0, None));
    assert_eq!((normal.p50_minutes, normal.p90_minutes), (None, None));
}

#[test]
fn rows_are_sorted_by_clock_plan_priority_and_channel_and_totals_add_them_up() {
    let report = acceptance_report();
    let keys: Vec<_> = report
        .rows
        .iter()
        .map(|r| (r.clock, r.plan, r.priority, r.channel))
        .collect();
    assert_eq!(
        keys,
        vec![
            (
                Clock::Dispatch,
                Plan::Standard,
                Priority::Normal,
                Channel::Ticket
            ),
            (
                Clock::Dispatch,
                Plan::Enterprise,
                Priority::Urgent,
                Channel::Ticket
            ),
            (
                Clock::FirstResponse,
                Plan::Standard,
                Priority::Normal,
                Channel::Ticket
            ),
            (
                Clock::FirstResponse,
                Plan::Enterprise,
                Priority::Urgent,
                Channel::Ticket
            ),
        ]
    );
    // Dispatch of the urgent tickets: zendesk-1 unassigned past 10:00 (breached although no
    // timer marked it), zendesk-2 assigned on time.
    let dispatch = row(
        &report,
        Clock::Dispatch,
        Plan::Enterprise,
        Priority::Urgent,
        Channel::Ticket,
    );
    assert_eq!(dispatch.counts, counts(2, 1, 0, 1, 0, 0, Some(0.5)));
    // Dispatch runs on the business calendar: 10:00 to 10:10 is 10 minutes.
    assert_eq!(dispatch.p50_minutes, Some(10.0));
    // 6 clocks: met 2 (dispatch and answer of zendesk-2), breached 2, pending 2.
    assert_eq!(report.totals, counts(6, 2, 0, 2, 2, 0, Some(0.5)));
}

#[test]
fn breaches_list_each_late_clock_with_how_late_sorted_by_due() {
    let report = acceptance_report();
    let id = CaseId::parse("zendesk-1").unwrap();
    assert_eq!(
        report.breaches,
        vec![
            // Due 09:30, unmet at 11:30: 120 minutes late.
            Breach {
                case_id: id.clone(),
                clock: Clock::FirstResponse,
                due: berlin("2026-12-01T09:30"),
                late_minutes: 120.0,
            },
            // Due 10:00, unmet at 11:30: 90 minutes late.
            Breach {
                case_id: id,
                clock: Clock::Dispatch,
                due: berlin("2026-12-01T10:00"),
                late_minutes: 90.0,
            },
        ]
    );
}

#[test]
fn business_minute_percentiles_skip_a_weekend_and_a_north_rhine_westphalia_holiday() {
    // Corpus Christi, Thursday 4 June 2026, is a holiday in NW; 6-7 June is a weekend.
    // Normal 12x5 tickets (12 business hours), each answered once; business minutes to answer:
    let cases = vec![
        // Tue 10:00 -> Tue 10:45: 45. Met (due Wed 10:00: 10 business hours Tue, 2 Wed).
        ticket(
            "zendesk-11",
            Plan::Standard,
            Priority::Normal,
            "2026-06-02T10:00",
            vec![replied("2026-06-02T10:45")],
        ),
        // Wed 18:00 -> Fri 08:20: Wed 120 + Thu (holiday) 0 + Fri 20 = 140. Met.
        ticket(
            "zendesk-12",
            Plan::Standard,
            Priority::Normal,
            "2026-06-03T18:00",
            vec![replied("2026-06-05T08:20")],
        ),
        // Wed 19:30 -> Mon 08:45: Wed 30 + Thu 0 + Fri 720 + weekend 0 + Mon 45 = 795.
        // Due Fri 19:30 (30 + 690 minutes): met late.
        ticket(
            "zendesk-13",
            Plan::Standard,
            Priority::Normal,
            "2026-06-03T19:30",
            vec![replied("2026-06-08T08:45")],
        ),
        // Fri 19:00 -> Mon 09:30: Fri 60 + weekend 0 + Mon 90 = 150. Met (due Mon 19:00).
        ticket(
            "zendesk-14",
            Plan::Standard,
            Priority::Normal,
            "2026-06-05T19:00",
            vec![replied("2026-06-08T09:30")],
        ),
        // Sat 10:00 -> Mon 08:10: the clock starts Monday 08:00, so 10. Met.
        ticket(
            "zendesk-15",
            Plan::Standard,
            Priority::Normal,
            "2026-06-06T10:00",
            vec![replied("2026-06-08T08:10")],
        ),
    ];
    let report = compliance(
        &policy(),
        &cases,
        month("2026-06"),
        berlin("2026-06-30T12:00"),
    );
    let normal = row(
        &report,
        Clock::FirstResponse,
        Plan::Standard,
        Priority::Normal,
        Channel::Ticket,
    );
    assert_eq!(normal.counts, counts(5, 4, 1, 0, 0, 0, Some(0.8)));
    // Sorted: 10, 45, 140, 150, 795. Nearest rank of n = 5: p50 is rank ceil(2.5) = 3 -> 140;
    // p90 is rank ceil(4.5) = 5 -> 795.
    assert_eq!(normal.p50_minutes, Some(140.0));
    assert_eq!(normal.p90_minutes, Some(795.0));
}

#[test]
fn a_24x7_clock_counts_nights_and_weekends_in_its_minutes() {
    let cases = vec![
        // Sat 10:00 -> Sat 10:25: 25 minutes, met (due 10:30).
        ticket(
            "zendesk-21",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-06-06T10:00",
            vec![replied("2026-06-06T10:25")],
        ),
        // Fri 19:50 -> Sat 00:10: 260 minutes, met late (due 20:20).
        ticket(
            "zendesk-22",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-06-05T19:50",
            vec![replied("2026-06-06T00:10")],
        ),
    ];
    let report = compliance(
        &policy(),
        &cases,
        month("2026-06"),
        berlin("2026-06-30T12:00"),
    );
    let urgent = row(
        &report,
        Clock::FirstResponse,
        Plan::Enterprise,
        Priority::Urgent,
        Channel::Ticket,
    );
    assert_eq!(urgent.counts, counts(2, 1, 1, 0, 0, 0, Some(0.5)));
    // n = 2: p50 is rank 1 -> 25; p90 is rank ceil(1.8) = 2 -> 260.
    assert_eq!(urgent.p50_minutes, Some(25.0));
    assert_eq!(urgent.p90_minutes, Some(260.0));
    // The late answer is a breach, 260 - 30 = 230 minutes late.
    let late: Vec<_> = report
        .breaches
        .iter()
        .filter(|b| b.clock == Clock::FirstResponse)
        .map(|b| (b.case_id.as_str(), b.due, b.late_minutes))
        .collect();
    assert_eq!(
        late,
        vec![("zendesk-22", berlin("2026-06-05T20:20"), 230.0)]
    );
}

#[test]
fn a_case_belongs_to_the_month_of_its_receipt_in_berlin_time() {
    let at = |utc: &str| -> Timestamp { utc.parse().unwrap() };
    let chat = |id: &str, received: Timestamp| {
        case(
            id,
            Channel::Chat,
            Plan::Standard,
            Priority::Low,
            received,
            vec![],
        )
    };
    let cases = vec![
        // 23:59 on 31 March in Berlin (CEST, UTC+2): March.
        chat("intercom-1", at("2026-03-31T21:59:00Z")),
        // 00:30 on 1 April in Berlin although still 31 March in UTC: April.
        chat("intercom-2", at("2026-03-31T22:30:00Z")),
        // The last second of April in Berlin: April.
        chat("intercom-3", at("2026-04-30T21:59:59Z")),
        // Midnight of 1 May in Berlin: May.
        chat("intercom-4", at("2026-04-30T22:00:00Z")),
    ];
    let now = at("2026-06-01T00:00:00Z");
    let totals = |text: &str| compliance(&policy(), &cases, month(text), now).totals.total;
    // A chat has one reported clock (first response), so totals count cases.
    assert_eq!(totals("2026-03"), 1);
    assert_eq!(totals("2026-04"), 2);
    assert_eq!(totals("2026-05"), 1);
    let april = compliance(&policy(), &cases, month("2026-04"), now);
    let ids: Vec<_> = april.breaches.iter().map(|b| b.case_id.as_str()).collect();
    assert_eq!(ids, vec!["intercom-2", "intercom-3"]);
}

#[test]
fn a_ticket_solved_without_a_reply_counts_as_cancelled_and_not_against_compliance() {
    // Normal 12x5, received Tue 1 Dec 09:00: assigned 09:30 (dispatch met), solved 11:00
    // without a public reply (first response, due 2 Dec 09:00, cancelled).
    let cases = vec![ticket(
        "zendesk-31",
        Plan::Standard,
        Priority::Normal,
        "2026-12-01T09:00",
        vec![
            assigned("2026-12-01T09:30"),
            Step::Event(Change::Solved, "2026-12-01T11:00"),
        ],
    )];
    let report = compliance(
        &policy(),
        &cases,
        month("2026-12"),
        berlin("2026-12-31T12:00"),
    );
    let response = row(
        &report,
        Clock::FirstResponse,
        Plan::Standard,
        Priority::Normal,
        Channel::Ticket,
    );
    assert_eq!(response.counts, counts(1, 0, 0, 0, 0, 1, None));
    assert_eq!(response.p50_minutes, None);
    assert!(report.breaches.is_empty());
    assert_eq!(report.totals, counts(2, 1, 0, 0, 0, 1, Some(1.0)));
}

#[test]
fn an_answer_after_the_due_instant_counts_as_met_late_and_as_a_breach() {
    // Urgent 12x5, received Tue 1 Dec 09:00, due 09:30; the page fires, the answer comes at
    // 10:00: met late by 30 minutes, 60 business minutes after receipt.
    let cases = vec![ticket(
        "zendesk-41",
        Plan::Standard,
        Priority::Urgent,
        "2026-12-01T09:00",
        vec![
            assigned("2026-12-01T09:05"),
            Step::Timer(TimerKind::FirstResponse, "2026-12-01T09:30"),
            replied("2026-12-01T10:00"),
        ],
    )];
    let report = compliance(
        &policy(),
        &cases,
        month("2026-12"),
        berlin("2026-12-31T12:00"),
    );
    let response = row(
        &report,
        Clock::FirstResponse,
        Plan::Standard,
        Priority::Urgent,
        Channel::Ticket,
    );
    assert_eq!(response.counts, counts(1, 0, 1, 0, 0, 0, Some(0.0)));
    assert_eq!(response.p50_minutes, Some(60.0));
    assert_eq!(
        report.breaches,
        vec![Breach {
            case_id: CaseId::parse("zendesk-41").unwrap(),
            clock: Clock::FirstResponse,
            due: berlin("2026-12-01T09:30"),
            late_minutes: 30.0,
        }]
    );
}

#[test]
fn a_pending_clock_is_breached_once_now_reaches_its_due_instant() {
    // Normal 12x5 chat received Tue 1 Dec 09:00: first response due 2 Dec 09:00; no timer run.
    let cases = vec![case(
        "intercom-51",
        Channel::Chat,
        Plan::Standard,
        Priority::Normal,
        berlin("2026-12-01T09:00"),
        vec![],
    )];
    let at = |now: &str| {
        let report = compliance(&policy(), &cases, month("2026-12"), berlin(now));
        (report.totals.pending, report.totals.breached)
    };
    assert_eq!(at("2026-12-02T08:59"), (1, 0));
    assert_eq!(at("2026-12-02T09:00"), (0, 1));
}

#[test]
fn a_month_without_cases_has_no_rows_zero_totals_and_only_a_csv_header() {
    let report = compliance(
        &policy(),
        &acceptance_cases(),
        month("2026-11"),
        berlin("2026-12-01T11:30"),
    );
    assert!(report.rows.is_empty());
    assert!(report.breaches.is_empty());
    assert_eq!(report.totals, counts(0, 0, 0, 0, 0, 0, None));
    assert_eq!(
        to_csv(&report),
        "clock,plan,priority,channel,total,met,met_late,breached,pending,cancelled,compliance,p50_minutes,p90_minutes\r\n"
    );
}

#[test]
fn the_csv_has_a_header_naming_the_row_columns_then_one_line_per_row() {
    let csv = to_csv(&acceptance_report());
    let lines: Vec<_> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines[0].split(',').collect::<Vec<_>>(), CSV_COLUMNS);
    assert_eq!(
        lines[1..],
        [
            "dispatch,12x5,normal,ticket,1,0,0,0,1,0,,,",
            "dispatch,24x7,urgent,ticket,2,1,0,1,0,0,0.5000,10.0,10.0",
            "first_response,12x5,normal,ticket,1,0,0,0,1,0,,,",
            "first_response,24x7,urgent,ticket,2,1,0,1,0,0,0.5000,20.0,20.0",
        ]
    );
    assert!(csv.ends_with("\r\n"));
}

#[test]
fn the_json_document_has_the_documented_field_names_and_reads_back_equal() {
    let report = acceptance_report();
    let json = serde_json::to_value(&report).unwrap();
    let keys = |value: &serde_json::Value| -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    };
    let mut top = keys(&json);
    top.sort();
    assert_eq!(top, ["breaches", "month", "rows", "totals"]);
    assert_eq!(json["month"], "2026-12");
    let mut row_keys = keys(&json["rows"][3]);
    let mut expected = CSV_COLUMNS.map(str::to_owned).to_vec();
    row_keys.sort();
    expected.sort();
    assert_eq!(row_keys, expected);
    assert_eq!(json["rows"][3]["clock"], "first_response");
    assert_eq!(json["rows"][3]["plan"], "24x7");
    assert_eq!(json["rows"][2]["compliance"], serde_json::Value::Null);
    assert_eq!(json["breaches"][0]["case_id"], "zendesk-1");
    assert_eq!(json["breaches"][0]["due"], "2026-12-01T08:30:00Z");

    let text = serde_json::to_string(&report).unwrap();
    let back: ComplianceReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

#[test]
fn a_month_is_written_yyyy_mm_and_anything_else_is_refused_by_name() {
    assert_eq!(month("2026-04").to_string(), "2026-04");
    assert_eq!(
        (month("0999-12").year(), month("0999-12").month()),
        (999, 12)
    );
    for bad in [
        "2026-13",
        "2026-00",
        "2026-4",
        "26-04",
        "2026/04",
        "2026-04-01",
        "",
        "２０２６-04",
    ] {
        let error = bad.parse::<Month>().unwrap_err();
        assert!(
            error.to_string().contains(&format!("{bad:?}"))
                && error.to_string().contains("YYYY-MM"),
            "{bad}: {error}"
        );
    }
    assert!(serde_json::from_str::<Month>("\"2026-13\"").is_err());
}

#[test]
fn weekly_compliance_groups_the_months_clocks_by_priority_and_the_week_they_were_received_in() {
    // December 2026 starts on a Tuesday: weeks from the 1st, 7th, 14th, 21st and 28th.
    // Looked at on Thursday 10 December 12:00, when every clock below is due.
    let mut cases = acceptance_cases();
    cases.extend([
        // Sunday 6 December 23:30: still the first week. Answered 23:40 (due 00:00, met);
        // dispatch due Monday 09:00 (business), assigned 08:30: met.
        ticket(
            "zendesk-21",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-12-06T23:30",
            vec![replied("2026-12-06T23:40"), assigned("2026-12-07T08:30")],
        ),
        // Monday 7 December 00:10: the second week. Answered 01:00 (due 00:40): met late;
        // assigned 10:00 (dispatch due 09:00): met late.
        ticket(
            "zendesk-22",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-12-07T00:10",
            vec![replied("2026-12-07T01:00"), assigned("2026-12-07T10:00")],
        ),
        // Tuesday 1 December 00:30 Berlin (30 November 23:30 UTC): December's first week.
        // Answered 00:35 (due 01:00), assigned 08:05 (due 09:00): both met.
        ticket(
            "zendesk-23",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-12-01T00:30",
            vec![replied("2026-12-01T00:35"), assigned("2026-12-01T08:05")],
        ),
        // Monday 30 November 23:30 Berlin: November, not counted.
        ticket(
            "zendesk-24",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-11-30T23:30",
            vec![replied("2026-11-30T23:35")],
        ),
    ]);
    // The acceptance cases by now: zendesk-1 breached both clocks, zendesk-2 met both, and
    // zendesk-3 (normal) breached both (dispatch due 1 December 12:00, answer due 2 December
    // 11:00).

    let weekly = report::weekly_compliance(
        &policy(),
        &cases,
        month("2026-12"),
        berlin("2026-12-10T12:00"),
    );

    let day = |d: i8| domain::jiff::civil::date(2026, 12, d);
    assert_eq!(
        weekly.weeks,
        vec![day(1), day(7), day(14), day(21), day(28)]
    );
    let points: Vec<_> = weekly
        .points
        .iter()
        .map(|p| (p.clock, p.priority, p.week, p.counts))
        .collect();
    assert_eq!(
        points,
        vec![
            // zendesk-1 breached; zendesk-2, -21 and -23 met: 3 / 4.
            (
                Clock::Dispatch,
                Priority::Urgent,
                day(1),
                counts(4, 3, 0, 1, 0, 0, Some(0.75))
            ),
            (
                Clock::Dispatch,
                Priority::Urgent,
                day(7),
                counts(1, 0, 1, 0, 0, 0, Some(0.0))
            ),
            (
                Clock::Dispatch,
                Priority::Normal,
                day(1),
                counts(1, 0, 0, 1, 0, 0, Some(0.0))
            ),
            (
                Clock::FirstResponse,
                Priority::Urgent,
                day(1),
                counts(4, 3, 0, 1, 0, 0, Some(0.75))
            ),
            (
                Clock::FirstResponse,
                Priority::Urgent,
                day(7),
                counts(1, 0, 1, 0, 0, 0, Some(0.0))
            ),
            (
                Clock::FirstResponse,
                Priority::Normal,
                day(1),
                counts(1, 0, 0, 1, 0, 0, Some(0.0))
            ),
        ]
    );
}

#[test]
fn a_month_spans_from_its_first_local_midnight_to_the_next_months() {
    let berlin_zone = TimeZone::get("Europe/Berlin").unwrap();
    // Winter time (UTC+1) on both ends.
    assert_eq!(
        month("2026-12").bounds(&berlin_zone).unwrap(),
        (
            "2026-11-30T23:00:00Z".parse().unwrap(),
            "2026-12-31T23:00:00Z".parse().unwrap()
        )
    );
    // March starts in winter time and ends in summer time (UTC+2 from 29 March).
    assert_eq!(
        month("2026-03").bounds(&berlin_zone).unwrap(),
        (
            "2026-02-28T23:00:00Z".parse().unwrap(),
            "2026-03-31T22:00:00Z".parse().unwrap()
        )
    );
    assert!(month("9999-12").bounds(&berlin_zone).is_err());
}

#[test]
fn a_follow_up_counts_under_next_response_with_its_time_from_the_follow_up() {
    // High 12x5, received Tue 1 Dec 09:00: answered 09:30; the customer writes at 10:00
    // (next response due 14:00), answered at 11:00: met, 60 business minutes after the
    // follow-up. A second ticket's follow-up at 10:00 is never answered: breached.
    let follow_up = |at| Step::Event(Change::CustomerReplied, at);
    let cases = vec![
        ticket(
            "zendesk-41",
            Plan::Standard,
            Priority::High,
            "2026-12-01T09:00",
            vec![
                replied("2026-12-01T09:30"),
                follow_up("2026-12-01T10:00"),
                replied("2026-12-01T11:00"),
            ],
        ),
        ticket(
            "zendesk-42",
            Plan::Standard,
            Priority::High,
            "2026-12-01T09:00",
            vec![
                replied("2026-12-01T09:30"),
                follow_up("2026-12-01T10:00"),
                Step::Timer(TimerKind::NextResponse, "2026-12-01T14:00"),
            ],
        ),
    ];
    let report = compliance(
        &policy(),
        &cases,
        month("2026-12"),
        berlin("2026-12-01T15:00"),
    );
    let next = row(
        &report,
        Clock::NextResponse,
        Plan::Standard,
        Priority::High,
        Channel::Ticket,
    );
    assert_eq!(
        (next.counts.total, next.counts.met, next.counts.breached),
        (2, 1, 1)
    );
    assert_eq!(next.p50_minutes, Some(60.0));
    let breached: Vec<_> = report
        .breaches
        .iter()
        .filter(|b| b.clock == Clock::NextResponse)
        .map(|b| (b.case_id.as_str(), b.due))
        .collect();
    assert_eq!(breached, vec![("zendesk-42", berlin("2026-12-01T14:00"))]);
}
