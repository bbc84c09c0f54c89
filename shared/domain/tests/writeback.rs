//! Breaches of a ticket's clocks are written back into the ticket (an outbox effect of their
//! own); chats have no ticket to write to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, Effect, Input, RequestFacts, Status, TimerKind, decide,
};
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, Labels, Plan, Priority};

fn opened(id: &str, channel: Channel, received: Timestamp) -> CaseEvent {
    CaseEvent {
        case_id: CaseId::parse(id).unwrap(),
        event_id: "evt-1".into(),
        occurred_at: received,
        change: Change::Opened,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel,
                plan: Plan::Enterprise,
                priority: Priority::Urgent,
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
            adoption: None,
            references: Default::default(),
        },
    }
}

fn write_backs(effects: &[Effect]) -> Vec<(TimerKind, Timestamp, Timestamp)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::WriteBackBreach {
                clock,
                due,
                breached_at,
                ..
            } => Some((*clock, *due, *breached_at)),
            _ => None,
        })
        .collect()
}

#[test]
fn each_breached_clock_of_a_ticket_is_written_back_once_with_its_due_time() {
    let policy = policy_file::default_policy().unwrap();
    let received: Timestamp = "2026-03-03T08:00:00Z".parse().unwrap();
    let event = opened("zendesk-91", Channel::Ticket, received);
    let opened = decide(&policy, None, Input::Event(&event), received).unwrap();
    assert!(write_backs(&opened.effects).is_empty());

    let later = received + SignedDuration::from_hours(30);
    let overdue = decide(&policy, Some(opened.case.clone()), Input::Sweep, later).unwrap();
    let written = write_backs(&overdue.effects);
    assert_eq!(
        written,
        vec![
            (
                TimerKind::Dispatch,
                opened.case.dispatch.unwrap().due,
                later
            ),
            (
                TimerKind::FirstResponse,
                opened.case.first_response.due,
                later
            ),
        ]
    );
    let keys: Vec<String> = overdue
        .effects
        .iter()
        .filter(|effect| matches!(effect, Effect::WriteBackBreach { .. }))
        .map(|effect| effect.idempotency_key(&event.case_id))
        .collect();
    assert_eq!(
        keys,
        [
            "zendesk-91/dispatch/writeback",
            "zendesk-91/first_response/writeback"
        ]
    );

    let again = decide(&policy, Some(overdue.case), Input::Sweep, later).unwrap();
    assert!(write_backs(&again.effects).is_empty());
}

#[test]
fn a_breached_chat_writes_nothing_back() {
    let policy = policy_file::default_policy().unwrap();
    let received: Timestamp = "2026-03-03T08:00:00Z".parse().unwrap();
    let event = opened("intercom-91", Channel::Chat, received);
    let opened = decide(&policy, None, Input::Event(&event), received).unwrap();
    let later = received + SignedDuration::from_hours(30);
    let overdue = decide(&policy, Some(opened.case), Input::Sweep, later).unwrap();
    assert!(overdue.case.first_response.breached_at.is_some());
    assert!(write_backs(&overdue.effects).is_empty());
}
