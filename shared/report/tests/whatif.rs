//! What-if over recorded events, hand-computed under the shipped default policy (urgent first
//! response 30 min, 24x7 on the always calendar; dispatch 1 business hour, Mon-Fri
//! 08:00-20:00 Europe/Berlin) against the same policy with a 3 h urgent target.
//!
//! Every case is an urgent Enterprise (24x7) ticket received on Tuesday 2026-12-01 at 09:00
//! Berlin time; the report looks at 11:00 the same day. Current: first response due 09:30,
//! dispatch due 10:00. Proposed: first response due 12:00.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    Case, CaseEvent, CaseFacts, CaseId, Change, ClockStatus, Input, RequestFacts, Status,
    TimerKind, decide,
};
use domain::jiff::Timestamp;
use domain::jiff::civil::DateTime;
use domain::jiff::tz::TimeZone;
use domain::policy::{Channel, Labels, Plan, Policy, Priority};
use report::whatif::{
    ChangedClock, RecordedCase, RecordedEvent, ReplayError, month_bounds, replay, whatif,
};
use report::{Clock, Month, Row};

const DEFAULT_POLICY: &str = include_str!("../../../infra/policy.toml");

fn current() -> Policy {
    policy_file::default_policy().unwrap()
}

fn proposed() -> Policy {
    let text = DEFAULT_POLICY.replace(
        "[first_response.urgent]\ntarget = \"30m\"",
        "[first_response.urgent]\ntarget = \"3h\"",
    );
    assert_ne!(text, DEFAULT_POLICY, "the urgent target was not found");
    policy_file::parse_policy(&text).unwrap()
}

fn berlin(local: &str) -> Timestamp {
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let local: DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(local).compatible().unwrap()
}

fn december() -> Month {
    "2026-12".parse().unwrap()
}

fn now() -> Timestamp {
    berlin("2026-12-01T11:00")
}

fn request(received: Timestamp) -> RequestFacts {
    RequestFacts {
        channel: Channel::Ticket,
        plan: Plan::Enterprise,
        priority: Priority::Urgent,
        received,
        labels: Labels::default(),
        subject: Some("Site down".into()),
        requester: None,
        link: None,
        voicemail: None,
    }
}

/// An event recorded when it happened (the webhook came at once).
fn event(n: usize, change: Change, at: &str) -> RecordedEvent {
    let at = berlin(at);
    RecordedEvent {
        recorded_at: at,
        event_id: format!("evt-{n}"),
        occurred_at: at,
        change,
    }
}

/// An urgent 24x7 ticket received at 09:00, replied to at `replied` (if at all).
fn ticket(id: &str, replied: Option<&str>) -> RecordedCase {
    let mut events = vec![event(0, Change::Opened, "2026-12-01T09:00")];
    if let Some(at) = replied {
        events.push(event(1, Change::AgentReplied, at));
    }
    RecordedCase::from_request(
        CaseId::parse(id).unwrap(),
        request(berlin("2026-12-01T09:00")),
        events,
    )
}

fn first_response_row(rows: &[Row]) -> &Row {
    rows.iter()
        .find(|row| {
            row.clock == Clock::FirstResponse
                && row.plan == Plan::Enterprise
                && row.priority == Priority::Urgent
                && row.channel == Channel::Ticket
        })
        .expect("a first-response row for urgent 24x7 tickets")
}

#[test]
fn a_longer_urgent_target_changes_the_breached_ticket_and_not_the_met_one() {
    let cases = [
        ticket("zendesk-1", Some("2026-12-01T09:10")),
        ticket("zendesk-2", None),
        ticket("zendesk-3", Some("2026-12-01T10:00")),
    ];

    let result = whatif(&current(), &proposed(), &cases, december(), now());

    // zendesk-1 answered after 10 min: met under both. zendesk-2 unanswered: due 09:30, breached
    // at 11:00; due 12:00, still pending. zendesk-3 answered at 10:00: 30 min late; on time.
    assert_eq!(
        result.changed,
        vec![
            ChangedClock {
                case_id: CaseId::parse("zendesk-2").unwrap(),
                clock: Clock::FirstResponse,
                current: ClockStatus::Breached,
                proposed: ClockStatus::Pending,
            },
            ChangedClock {
                case_id: CaseId::parse("zendesk-3").unwrap(),
                clock: Clock::FirstResponse,
                current: ClockStatus::MetLate,
                proposed: ClockStatus::Met,
            },
        ]
    );
    assert!(result.not_replayed.is_empty());

    let before = first_response_row(&result.current);
    assert_eq!(
        (
            before.counts.total,
            before.counts.met,
            before.counts.met_late,
            before.counts.breached,
            before.counts.pending
        ),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(before.counts.compliance, Some(1.0 / 3.0));
    let after = first_response_row(&result.proposed);
    assert_eq!(
        (
            after.counts.total,
            after.counts.met,
            after.counts.met_late,
            after.counts.breached,
            after.counts.pending
        ),
        (3, 2, 0, 0, 1)
    );
    assert_eq!(after.counts.compliance, Some(1.0));
    // Times to meet: 10 and 60 minutes under both (the replies did not move). Nearest rank.
    for row in [before, after] {
        assert_eq!(row.p50_minutes, Some(10.0));
        assert_eq!(row.p90_minutes, Some(60.0));
    }
}

#[test]
fn dispatch_breached_under_both_policies_is_not_listed_as_changed() {
    // Nobody was assigned: dispatch due 10:00 (one business hour) is breached either way.
    let result = whatif(
        &current(),
        &proposed(),
        &[ticket("zendesk-2", None)],
        december(),
        now(),
    );
    assert!(
        result
            .changed
            .iter()
            .all(|changed| changed.clock != Clock::Dispatch)
    );
    let dispatch = |rows: &[Row]| {
        rows.iter()
            .find(|row| row.clock == Clock::Dispatch)
            .map(|row| row.counts.breached)
    };
    assert_eq!(dispatch(&result.current), Some(1));
    assert_eq!(dispatch(&result.proposed), Some(1));
}

/// The live engine's way: each event decided when it arrived, each timer fired when due.
fn live_case(policy: &Policy) -> Case {
    let received = berlin("2026-12-01T09:00");
    let id = CaseId::parse("zendesk-3").unwrap();
    let event = |n: usize, change: Change, at: Timestamp| CaseEvent {
        case_id: id.clone(),
        event_id: format!("evt-{n}"),
        occurred_at: at,
        change,
        snapshot: CaseFacts {
            request: request(received),
            status: Status::Open,
            assignee: None,
            first_response_at: None,
            adoption: None,
            references: Default::default(),
        },
    };
    let opened = event(0, Change::Opened, received);
    let mut case = decide(policy, None, Input::Event(&opened), received)
        .unwrap()
        .case;
    // Warning at 09:22:30 (75 % of 30 min), first response at 09:30, dispatch at 10:00.
    for (timer, at) in [
        (TimerKind::FirstResponseWarning, "2026-12-01T09:22:30"),
        (TimerKind::FirstResponse, "2026-12-01T09:30"),
        (TimerKind::Dispatch, "2026-12-01T10:00"),
    ] {
        case = decide(policy, Some(case), Input::TimerFired(timer), berlin(at))
            .unwrap()
            .case;
    }
    let at = berlin("2026-12-01T10:00");
    let reply = event(1, Change::AgentReplied, at);
    decide(policy, Some(case), Input::Event(&reply), at)
        .unwrap()
        .case
}

#[test]
fn a_replay_under_the_current_policy_gives_the_case_the_live_engine_stored() {
    let policy = current();
    let live = live_case(&policy);
    let replayed = replay(
        &policy,
        &ticket("zendesk-3", Some("2026-12-01T10:00")),
        berlin("2026-12-01T10:00"),
    )
    .unwrap();
    assert_eq!(replayed, live);
    assert_eq!(replayed.first_response.status(), ClockStatus::MetLate);
}

#[test]
fn a_case_whose_priority_changed_after_opening_is_left_out_with_the_reason() {
    let mut recorded = ticket("zendesk-4", Some("2026-12-01T10:00"));
    recorded.events.insert(
        1,
        event(
            2,
            Change::PriorityChanged {
                priority: Priority::Urgent,
            },
            "2026-12-01T09:05",
        ),
    );
    let recorded = RecordedCase::from_request(
        recorded.id.clone(),
        recorded.request.clone(),
        recorded.events,
    );
    assert_eq!(
        replay(&current(), &recorded, now()),
        Err(ReplayError::OpeningUnknown)
    );

    let result = whatif(&current(), &proposed(), &[recorded], december(), now());
    assert!(result.current.is_empty() && result.proposed.is_empty());
    assert_eq!(result.not_replayed.len(), 1);
    assert_eq!(result.not_replayed[0].case_id.as_str(), "zendesk-4");
    assert!(result.not_replayed[0].reason.contains("priority or plan"));
}

#[test]
fn a_stored_case_knows_its_opening_request_from_when_its_fields_last_changed() {
    let policy = current();
    let live = live_case(&policy);
    let events = ticket("zendesk-3", Some("2026-12-01T10:00")).events;
    assert!(RecordedCase::from_case(&live, events.clone()).request_is_opening);

    // A priority change at 09:05 makes the stored priority a later one.
    let mut changed = live.clone();
    changed.applied.priority = berlin("2026-12-01T09:05");
    assert!(!RecordedCase::from_case(&changed, events).request_is_opening);
    assert!(!RecordedCase::from_case(&live, Vec::new()).request_is_opening);
}

#[test]
fn cases_received_outside_the_month_are_not_replayed() {
    let mut november = ticket("zendesk-5", None);
    // 22:59:59 UTC is 23:59:59 on November 30th in Berlin: outside December.
    november.request.received = "2026-11-30T22:59:59Z".parse().unwrap();
    let result = whatif(&current(), &proposed(), &[november], december(), now());
    assert!(result.current.is_empty() && result.changed.is_empty());
    assert!(result.not_replayed.is_empty());
}

#[test]
fn the_month_bounds_follow_the_business_time_zone() {
    let (start, end) = month_bounds(&current(), december()).unwrap();
    assert_eq!(start, "2026-11-30T23:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(end, "2026-12-31T23:00:00Z".parse::<Timestamp>().unwrap());
}

#[test]
fn the_what_if_document_names_current_proposed_and_changed() {
    let result = whatif(
        &current(),
        &proposed(),
        &[ticket("zendesk-2", None)],
        december(),
        now(),
    );
    let json = serde_json::to_value(&result).unwrap();
    assert!(json["current"].is_array() && json["proposed"].is_array());
    assert_eq!(json["changed"][0]["case_id"], "zendesk-2");
    assert_eq!(json["changed"][0]["clock"], "first_response");
    assert_eq!(json["changed"][0]["current"], "breached");
    assert_eq!(json["changed"][0]["proposed"], "pending");
}
