//! Acknowledgements and resolves of our pages, as PagerDuty reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    AlertAction, AlertKey, AlertUpdate, Case, CaseEvent, CaseFacts, CaseId, Change, Effect, Input,
    RequestFacts, Status, apply_alert_update, decide,
};
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, Labels, Plan, Policy, Priority};

fn policy() -> Policy {
    policy_file::default_policy().unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn case_id() -> CaseId {
    CaseId::parse("zendesk-77").unwrap()
}

/// An urgent ticket received on a Monday at 10:00 in Berlin: first response due 10:30.
fn event(change: Change, occurred_at: Timestamp, id: &str) -> CaseEvent {
    CaseEvent {
        case_id: case_id(),
        event_id: id.into(),
        occurred_at,
        change,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Standard,
                priority: Priority::Urgent,
                received: at("2026-03-02T09:00:00Z"),
                labels: Labels::default(),
                subject: Some("Shop down".into()),
                requester: None,
                link: None,
                voicemail: None,
            },
            status: Status::Open,
            assignee: Some("agent".into()),
            first_response_at: None,
            adoption: None,
            references: Default::default(),
        },
    }
}

fn opened(policy: &Policy) -> Case {
    let created = event(Change::Opened, at("2026-03-02T09:00:00Z"), "e1");
    decide(
        policy,
        None,
        Input::Event(&created),
        at("2026-03-02T09:00:00Z"),
    )
    .unwrap()
    .case
}

/// The case after its first response was breached and paged.
fn paged(policy: &Policy) -> Case {
    let decision = decide(
        policy,
        Some(opened(policy)),
        Input::Sweep,
        at("2026-03-02T09:31:00Z"),
    )
    .unwrap();
    assert!(
        decision.effects.iter().any(|effect| matches!(
            effect,
            Effect::Page {
                alert: AlertKey::FirstResponse,
                ..
            }
        )),
        "{:?}",
        decision.effects
    );
    decision.case
}

fn update(action: AlertAction, by: Option<&str>, occurred_at: &str) -> AlertUpdate {
    AlertUpdate {
        case_id: case_id(),
        alert: AlertKey::FirstResponse,
        event_id: format!("pd-{occurred_at}"),
        occurred_at: at(occurred_at),
        action,
        by: by.map(String::from),
        incident_created_at: Some(at("2026-03-02T09:31:02Z")),
    }
}

#[test]
fn an_acknowledgement_records_who_and_when_and_the_time_to_acknowledge() {
    let mut case = paged(&policy());

    let changed = apply_alert_update(
        &mut case,
        &update(
            AlertAction::Acknowledged,
            Some("Earline Greenholt"),
            "2026-03-02T09:36:02Z",
        ),
    );

    assert!(changed);
    let response = &case.alert_responses[&AlertKey::FirstResponse];
    assert_eq!(response.acknowledged_at, Some(at("2026-03-02T09:36:02Z")));
    assert_eq!(
        response.acknowledged_by.as_deref(),
        Some("Earline Greenholt")
    );
    assert_eq!(
        response.time_to_acknowledge(),
        Some(SignedDuration::from_mins(5))
    );
    // Acknowledged is not answered: the page stays open until the customer has a reply.
    assert!(case.open_alerts.contains(&AlertKey::FirstResponse));
}

#[test]
fn a_second_acknowledgement_keeps_the_first_one() {
    let mut case = paged(&policy());
    apply_alert_update(
        &mut case,
        &update(
            AlertAction::Acknowledged,
            Some("First"),
            "2026-03-02T09:36:02Z",
        ),
    );

    let changed = apply_alert_update(
        &mut case,
        &update(
            AlertAction::Acknowledged,
            Some("Second"),
            "2026-03-02T09:50:00Z",
        ),
    );

    assert!(!changed);
    let response = &case.alert_responses[&AlertKey::FirstResponse];
    assert_eq!(response.acknowledged_by.as_deref(), Some("First"));
    assert_eq!(response.acknowledged_at, Some(at("2026-03-02T09:36:02Z")));
}

#[test]
fn a_resolve_by_a_person_closes_the_alert_and_a_late_answer_resolves_nothing_more() {
    let policy = policy();
    let mut case = paged(&policy);

    let changed = apply_alert_update(
        &mut case,
        &update(
            AlertAction::Resolved,
            Some("Earline"),
            "2026-03-02T10:00:00Z",
        ),
    );

    assert!(changed);
    assert!(!case.open_alerts.contains(&AlertKey::FirstResponse));
    let response = &case.alert_responses[&AlertKey::FirstResponse];
    assert_eq!(response.resolved_by.as_deref(), Some("Earline"));
    let reply = event(Change::AgentReplied, at("2026-03-02T10:05:00Z"), "e2");
    let decision = decide(
        &policy,
        Some(case),
        Input::Event(&reply),
        at("2026-03-02T10:05:00Z"),
    )
    .unwrap();
    assert!(decision.effects.is_empty(), "{:?}", decision.effects);
}

#[test]
fn a_clock_whose_incident_a_person_resolved_never_pages_again() {
    let policy = policy();
    // A resolve that arrives while the clock still runs (say, an incident of an earlier
    // delivery of this case): the clock's breach must not page again.
    let mut case = opened(&policy);
    apply_alert_update(
        &mut case,
        &update(
            AlertAction::Resolved,
            Some("Earline"),
            "2026-03-02T09:10:00Z",
        ),
    );

    let decision = decide(
        &policy,
        Some(case),
        Input::Sweep,
        at("2026-03-02T09:31:00Z"),
    )
    .unwrap();

    assert!(
        decision.case.first_response.breached_at.is_some(),
        "the breach stays on record"
    );
    assert!(
        !decision
            .effects
            .iter()
            .any(|effect| matches!(effect, Effect::Page { .. })),
        "{:?}",
        decision.effects
    );
}

#[test]
fn a_resolve_without_a_person_is_our_own_and_changes_nothing() {
    let mut case = paged(&policy());
    let before = case.clone();

    let changed = apply_alert_update(
        &mut case,
        &update(AlertAction::Resolved, None, "2026-03-02T10:00:00Z"),
    );

    assert!(!changed);
    assert_eq!(case, before);
}

#[test]
fn only_our_dedup_keys_name_an_alert() {
    assert_eq!(
        AlertKey::parse_dedup_key("zendesk-77/first_response"),
        Some((case_id(), AlertKey::FirstResponse))
    );
    assert_eq!(
        AlertKey::parse_dedup_key("intercom-9/chat"),
        Some((CaseId::parse("intercom-9").unwrap(), AlertKey::Chat))
    );
    for foreign in [
        "baf7cf21b1da41b4b0221008339ff357",
        "zendesk-77/lunch",
        "bad id/dispatch",
        "/dispatch",
        "",
    ] {
        assert_eq!(AlertKey::parse_dedup_key(foreign), None, "{foreign}");
    }
}
