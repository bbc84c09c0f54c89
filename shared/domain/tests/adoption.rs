//! Tickets first seen late are adopted as they are: no page for what was done, or could not be
//! known, before the first sight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    AdoptedOutcome, Adoption, CaseEvent, CaseFacts, CaseId, Change, ClockStatus, Decision, Effect,
    Input, Replied, RequestFacts, Status, decide,
};
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, Labels, Plan, Priority};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A normal-priority ticket received on a Tuesday morning in 2026, first seen 60 days later
/// through a customer's comment.
fn first_seen_late(adoption: Option<Adoption>, assignee: Option<&str>) -> Decision {
    let received = at("2026-03-03T08:00:00Z");
    let event = CaseEvent {
        case_id: CaseId::parse("zendesk-77").unwrap(),
        event_id: "evt-1".into(),
        occurred_at: received + SignedDuration::from_hours(24 * 60),
        change: Change::CustomerReplied,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Standard,
                priority: Priority::Normal,
                received,
                labels: Labels::default(),
                subject: Some("Old ticket".into()),
                requester: None,
                link: None,
                voicemail: None,
            },
            status: Status::Open,
            assignee: assignee.map(str::to_owned),
            first_response_at: None,
            adoption,
            references: Default::default(),
        },
    };
    let now = event.occurred_at;
    let policy = policy_file::default_policy().unwrap();
    decide(&policy, None, Input::Event(&event), now).unwrap()
}

fn pages(decision: &Decision) -> usize {
    decision
        .effects
        .iter()
        .filter(|effect| matches!(effect, Effect::Page { .. }))
        .count()
}

#[test]
fn without_adoption_an_old_ticket_pages_at_once_as_before() {
    let decision = first_seen_late(None, None);
    assert!(pages(&decision) > 0);
    assert_eq!(decision.case.first_response.status(), ClockStatus::Breached);
}

#[test]
fn an_old_ticket_whose_outcome_is_unknown_pages_nothing_and_is_not_breached() {
    let decision = first_seen_late(Some(Adoption::OutcomeUnknown), None);
    assert_eq!(pages(&decision), 0, "{:?}", decision.effects);
    let case = &decision.case;
    for clock in [case.dispatch.unwrap(), case.first_response] {
        assert_eq!(clock.status(), ClockStatus::Cancelled);
        assert_eq!(clock.adopted, Some(AdoptedOutcome::OutcomeUnknown));
        assert_eq!(clock.breached_at, None);
    }
    assert!(decision.timers.is_empty(), "{:?}", decision.timers);
}

#[test]
fn an_old_ticket_replied_at_a_known_time_has_its_first_response_met_then() {
    let replied = at("2026-03-03T09:00:00Z");
    let decision = first_seen_late(
        Some(Adoption::Recorded {
            replied: Replied::At { at: replied },
            assigned_at: Some(at("2026-03-03T08:30:00Z")),
            assigned: true,
        }),
        None,
    );
    assert_eq!(pages(&decision), 0, "{:?}", decision.effects);
    assert_eq!(decision.case.first_response.met_at, Some(replied));
    assert_eq!(decision.case.first_response.status(), ClockStatus::Met);
    assert_eq!(
        decision.case.dispatch.unwrap().met_at,
        Some(at("2026-03-03T08:30:00Z"))
    );
}

#[test]
fn an_old_ticket_replied_at_an_unknown_time_is_met_before_first_seen_without_a_page() {
    let decision = first_seen_late(
        Some(Adoption::Recorded {
            replied: Replied::BeforeFirstSeen,
            assigned_at: None,
            assigned: true,
        }),
        None,
    );
    assert_eq!(pages(&decision), 0, "{:?}", decision.effects);
    let first_response = decision.case.first_response;
    assert_eq!(
        first_response.adopted,
        Some(AdoptedOutcome::MetBeforeFirstSeen)
    );
    assert_ne!(first_response.status(), ClockStatus::Breached);
}

#[test]
fn only_an_old_ticket_without_an_agent_reply_pages() {
    let decision = first_seen_late(
        Some(Adoption::Recorded {
            replied: Replied::No,
            assigned_at: Some(at("2026-03-03T08:30:00Z")),
            assigned: true,
        }),
        None,
    );
    assert_eq!(decision.case.first_response.status(), ClockStatus::Breached);
    assert_eq!(decision.case.dispatch.unwrap().status(), ClockStatus::Met);
    assert_eq!(pages(&decision), 1, "{:?}", decision.effects);
}

#[test]
fn a_deadline_still_ahead_at_first_sight_keeps_running_when_the_outcome_is_unknown() {
    let received = at("2026-03-03T08:00:00Z");
    let event = CaseEvent {
        case_id: CaseId::parse("zendesk-78").unwrap(),
        event_id: "evt-1".into(),
        occurred_at: received + SignedDuration::from_mins(5),
        change: Change::Observed,
        snapshot: CaseFacts {
            request: first_seen_late(None, None).case.request,
            status: Status::Open,
            assignee: None,
            first_response_at: None,
            adoption: Some(Adoption::OutcomeUnknown),
            references: Default::default(),
        },
    };
    let policy = policy_file::default_policy().unwrap();
    let decision = decide(&policy, None, Input::Event(&event), event.occurred_at).unwrap();
    assert!(decision.case.first_response.is_pending());
    assert_eq!(decision.case.first_response.adopted, None);
}

#[test]
fn an_old_ticket_answered_without_a_known_assignment_does_not_page_for_its_dispatch() {
    let decision = first_seen_late(
        Some(Adoption::Recorded {
            replied: Replied::At {
                at: at("2026-03-03T08:20:00Z"),
            },
            assigned_at: None,
            assigned: false,
        }),
        None,
    );
    assert_eq!(pages(&decision), 0, "{:?}", decision.effects);
    let dispatch = decision.case.dispatch.unwrap();
    assert_eq!(dispatch.adopted, Some(AdoptedOutcome::OutcomeUnknown));
    assert_eq!(dispatch.status(), ClockStatus::Cancelled);
}

#[test]
fn an_old_ticket_neither_answered_nor_assigned_pages_for_both_clocks() {
    let decision = first_seen_late(
        Some(Adoption::Recorded {
            replied: Replied::No,
            assigned_at: None,
            assigned: false,
        }),
        None,
    );
    assert_eq!(pages(&decision), 2, "{:?}", decision.effects);
}
