//! SLA events are read off the change a decision made to a case: each happening once, in the
//! order it happened, with an id that names it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    AlertKey, AlertResponse, Case, CaseEvent, CaseFacts, CaseId, Change, ClockState, Input,
    NextResponse, RequestFacts, SlaClock, SlaEventKind, Status, decide, sla_events,
};
use domain::jiff::Timestamp;
use domain::policy::{Channel, Labels, Plan, Priority};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// An urgent Enterprise ticket opened at 10:00 UTC: dispatch and first response due 10:30.
fn opened() -> Case {
    let policy = policy_file::default_policy().unwrap();
    let event = CaseEvent {
        case_id: CaseId::parse("zendesk-42").unwrap(),
        event_id: "evt-1".into(),
        occurred_at: at("2026-12-05T10:00:00Z"),
        change: Change::Opened,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Enterprise,
                priority: Priority::Urgent,
                received: at("2026-12-05T10:00:00Z"),
                labels: Labels {
                    cluster: Some("c42".into()),
                    website: None,
                },
                subject: None,
                requester: None,
                link: Some("https://acme.zendesk.com/agent/tickets/42".into()),
                voicemail: None,
            },
            status: Status::Open,
            assignee: None,
            first_response_at: None,
            adoption: None,
            references: Default::default(),
        },
    };
    decide(
        &policy,
        None,
        Input::Event(&event),
        at("2026-12-05T10:00:00Z"),
    )
    .unwrap()
    .case
}

type Mutation = fn(&mut Case);
/// A change, and the events it must give.
type Row = (
    &'static str,
    Mutation,
    &'static [(SlaEventKind, Option<SlaClock>)],
);

fn warn(case: &mut Case) {
    case.warned_at = Some(at("2026-12-05T10:20:00Z"));
}
fn breach_first_response(case: &mut Case) {
    case.first_response.breached_at = Some(at("2026-12-05T10:30:01Z"));
}
fn answer_in_time(case: &mut Case) {
    case.first_response.met_at = Some(at("2026-12-05T10:25:00Z"));
}
fn answer_late(case: &mut Case) {
    case.first_response.met_at = Some(at("2026-12-05T10:45:00Z"));
}
fn dispatch_in_time(case: &mut Case) {
    if let Some(dispatch) = &mut case.dispatch {
        dispatch.met_at = Some(at("2026-12-05T10:05:00Z"));
    }
}
fn acknowledge_first_response_page(case: &mut Case) {
    case.alert_responses.insert(
        AlertKey::FirstResponse,
        AlertResponse {
            acknowledged_at: Some(at("2026-12-05T10:33:00Z")),
            acknowledged_by: Some("Ada Oncall".into()),
            ..AlertResponse::default()
        },
    );
}
fn solve(case: &mut Case) {
    case.status = Status::Solved;
    case.applied.status = at("2026-12-05T11:00:00Z");
}
fn nothing(_: &mut Case) {}

#[test]
fn each_change_of_a_known_case_gives_its_events_once() {
    let table: &[Row] = &[
        ("nothing changed", nothing, &[]),
        (
            "the warning",
            warn,
            &[(SlaEventKind::SlaWarning, Some(SlaClock::FirstResponse))],
        ),
        (
            "a breach",
            breach_first_response,
            &[(SlaEventKind::SlaBreached, Some(SlaClock::FirstResponse))],
        ),
        (
            "an answer in time",
            answer_in_time,
            &[(SlaEventKind::SlaMet, Some(SlaClock::FirstResponse))],
        ),
        (
            "a late answer",
            answer_late,
            &[(SlaEventKind::SlaMetLate, Some(SlaClock::FirstResponse))],
        ),
        (
            "a dispatch",
            dispatch_in_time,
            &[(SlaEventKind::SlaMet, Some(SlaClock::Dispatch))],
        ),
        (
            "an acknowledged page",
            acknowledge_first_response_page,
            &[(
                SlaEventKind::PageAcknowledged,
                Some(SlaClock::FirstResponse),
            )],
        ),
        ("solved", solve, &[(SlaEventKind::CaseSolved, None)]),
    ];
    for (name, change, expected) in table {
        let before = opened();
        let mut after = before.clone();
        change(&mut after);

        let events = sla_events(Some(&before), &after);
        let kinds: Vec<_> = events
            .iter()
            .map(|event| (event.kind, event.clock))
            .collect();
        assert_eq!(kinds, *expected, "{name}");

        // Deciding again from the changed case finds nothing new.
        assert!(sla_events(Some(&after), &after).is_empty(), "{name}");
    }
}

#[test]
fn a_new_case_is_opened_at_its_received_time_with_the_request_s_facts() {
    let case = opened();
    let events = sla_events(None, &case);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.kind, SlaEventKind::CaseOpened);
    assert_eq!(event.at, at("2026-12-05T10:00:00Z"));
    assert_eq!(
        (event.plan, event.priority),
        (Plan::Enterprise, Priority::Urgent)
    );
    assert_eq!(event.labels.cluster.as_deref(), Some("c42"));
    assert_eq!(
        event.source_link.as_deref(),
        Some("https://acme.zendesk.com/agent/tickets/42")
    );
    assert_eq!(event.id(), "zendesk-42/case_opened/case/1796464800");
}

#[test]
fn a_breach_names_its_clock_and_due_time_and_an_acknowledgement_names_who() {
    let before = opened();
    let mut after = before.clone();
    breach_first_response(&mut after);
    acknowledge_first_response_page(&mut after);

    let events = sla_events(Some(&before), &after);

    assert_eq!(events.len(), 2);
    let (breach, ack) = (&events[0], &events[1]);
    assert_eq!(breach.kind, SlaEventKind::SlaBreached);
    assert_eq!(breach.due, Some(before.first_response.due));
    assert_eq!(breach.at, at("2026-12-05T10:30:01Z"));
    assert_eq!(ack.kind, SlaEventKind::PageAcknowledged);
    assert_eq!(ack.alert, Some(AlertKey::FirstResponse));
    assert_eq!(ack.by.as_deref(), Some("Ada Oncall"));
    assert_ne!(breach.id(), ack.id());
}

#[test]
fn a_late_answer_after_a_breach_is_met_late_and_keeps_the_breach_as_it_was() {
    let mut before = opened();
    breach_first_response(&mut before);
    let mut after = before.clone();
    answer_late(&mut after);

    let kinds: Vec<_> = sla_events(Some(&before), &after)
        .into_iter()
        .map(|event| event.kind)
        .collect();

    assert_eq!(kinds, [SlaEventKind::SlaMetLate]);
}

#[test]
fn a_case_solved_again_after_a_reopen_is_a_new_event_with_a_new_id() {
    let mut first = opened();
    solve(&mut first);
    let mut reopened = first.clone();
    reopened.status = Status::Open;
    reopened.applied.status = at("2026-12-05T12:00:00Z");
    let mut again = reopened.clone();
    again.status = Status::Solved;
    again.applied.status = at("2026-12-05T13:00:00Z");

    let first_solved = sla_events(Some(&opened()), &first);
    assert!(sla_events(Some(&first), &reopened).is_empty());
    let second_solved = sla_events(Some(&reopened), &again);

    assert_eq!(first_solved.len(), 1);
    assert_eq!(second_solved.len(), 1);
    assert_ne!(first_solved[0].id(), second_solved[0].id());
}

#[test]
fn a_clock_that_is_new_and_already_met_is_met_at_once() {
    let mut before = opened();
    before.dispatch = None;
    let mut after = before.clone();
    after.dispatch = Some(ClockState {
        met_at: Some(at("2026-12-05T10:01:00Z")),
        ..ClockState::new(at("2026-12-05T10:30:00Z"))
    });

    let events = sla_events(Some(&before), &after);

    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind, events[0].clock),
        (SlaEventKind::SlaMet, Some(SlaClock::Dispatch))
    );
}

#[test]
fn a_new_follow_up_round_is_a_new_clock_whatever_the_last_round_came_to() {
    let round = |number: u32, due: &str| NextResponse {
        round: number,
        started_at: at("2026-12-05T12:00:00Z"),
        clock: ClockState::new(at(due)),
        warning_at: at("2026-12-05T12:20:00Z"),
        warned_at: None,
    };
    let mut before = opened();
    let mut first = round(1, "2026-12-05T12:30:00Z");
    first.clock.breached_at = Some(at("2026-12-05T12:30:00Z"));
    first.clock.met_at = Some(at("2026-12-05T12:40:00Z"));
    before.next_response = Some(first);
    let mut after = before.clone();
    after.next_response = Some(round(2, "2026-12-05T14:30:00Z"));

    assert!(sla_events(Some(&before), &after).is_empty());

    let mut answered = after.clone();
    if let Some(next) = &mut answered.next_response {
        next.clock.met_at = Some(at("2026-12-05T14:00:00Z"));
    }
    let events = sla_events(Some(&after), &answered);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind, events[0].clock),
        (SlaEventKind::SlaMet, Some(SlaClock::NextResponse))
    );
    assert_eq!(events[0].due, Some(at("2026-12-05T14:30:00Z")));
}
