//! A clock adopted with its outcome unknown (a ticket first seen after its deadline, with no
//! system of record to ask) is never counted as breached, nor listed among the breaches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    Adoption, CaseEvent, CaseFacts, CaseId, Change, Input, RequestFacts, Status, decide,
};
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, Labels, Plan, Priority};

#[test]
fn a_clock_adopted_with_its_outcome_unknown_is_counted_as_cancelled_never_breached() {
    let policy = policy_file::default_policy().unwrap();
    let received: Timestamp = "2026-03-03T08:00:00Z".parse().unwrap();
    let first_seen = received + SignedDuration::from_hours(24 * 10);
    let facts = |adoption| CaseFacts {
        request: RequestFacts {
            channel: Channel::Ticket,
            plan: Plan::Standard,
            priority: Priority::Normal,
            received,
            labels: Labels::default(),
            subject: None,
            requester: None,
            link: None,
            voicemail: None,
        },
        status: Status::Open,
        assignee: None,
        first_response_at: None,
        adoption,
        references: Default::default(),
    };
    let event = |id: &str, adoption| CaseEvent {
        case_id: CaseId::parse(id).unwrap(),
        event_id: format!("{id}-1"),
        occurred_at: first_seen,
        change: Change::CustomerReplied,
        snapshot: facts(adoption),
    };
    let adopted = event("zendesk-1", Some(Adoption::OutcomeUnknown));
    let not_adopted = event("zendesk-2", None);
    let cases: Vec<_> = [adopted, not_adopted]
        .iter()
        .map(|event| {
            decide(&policy, None, Input::Event(event), first_seen)
                .unwrap()
                .case
        })
        .collect();

    let only_adopted =
        report::compliance(&policy, &cases[..1], "2026-03".parse().unwrap(), first_seen);
    assert_eq!(only_adopted.totals.breached, 0);
    assert_eq!(
        only_adopted.totals.cancelled, 2,
        "dispatch and first response"
    );
    assert!(only_adopted.breaches.is_empty());

    // The same ticket without adoption is breached on both clocks: the test can tell.
    let both = report::compliance(&policy, &cases, "2026-03".parse().unwrap(), first_seen);
    assert_eq!(both.totals.breached, 2);
}
