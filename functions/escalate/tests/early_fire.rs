//! Scheduler fires a one-time schedule anywhere within the minute of its `at()`. The schedules
//! are rounded up to the whole minute so that this is never before the deadline; should a
//! timer still come early (an old schedule, a clock skew), escalate must put it back exactly
//! once: one schedule for that timer, at the rounded-up minute, nothing decided, and the
//! deadline still caught. Against moto (DynamoDB, Scheduler) and wiremock (PagerDuty); moto's
//! schedules never fire, so the test plays Scheduler: it deletes the schedule that "fired"
//! (`ActionAfterCompletion: DELETE`) and invokes the handler with its input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::CaseStore;
use domain::Timestamp;
use domain::case::{CaseId, TimerKind};
use domain::jiff::SignedDuration;
use escalate::{Deliveries, Escalated};
use lambda::test_support::{Harness, read_response};
use serde_json::Value;
use tests::payloads::{Ticket, berlin};

const ZENDESK_EVENT: &str = include_str!("fixtures/apigw-v2-zendesk.json");

fn utc(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The `at()` of every schedule in the test's group (one case) for `timer`: exactly one means
/// the timer is neither lost nor doubled.
async fn schedules_of(harness: &Harness, case_id: &str, timer: TimerKind) -> Vec<String> {
    let name = aws::scheduler::schedule_name(&CaseId::parse(case_id).unwrap(), timer);
    let listed = harness
        .stack
        .scheduler()
        .list_schedules()
        .group_name(&harness.stack.group)
        .send()
        .await
        .unwrap();
    let mut expressions = Vec::new();
    for schedule in listed.schedules() {
        let listed_name = schedule.name().unwrap_or_default();
        if listed_name.ends_with(&format!(".{timer}")) {
            assert_eq!(listed_name, name, "a schedule under another name");
            let full = harness.stack.schedule(case_id, timer).await.unwrap();
            expressions.push(full.schedule_expression().unwrap_or_default().to_owned());
        }
    }
    expressions
}

/// What Scheduler does when a schedule fires: it deletes it (`ActionAfterCompletion: DELETE`)
/// and invokes escalate with its input.
async fn fire(harness: &Harness, case_id: &str, timer: TimerKind) -> Escalated {
    let schedule = harness.stack.schedule(case_id, timer).await.unwrap();
    let input: Value = serde_json::from_str(schedule.target().unwrap().input().unwrap()).unwrap();
    harness
        .stack
        .scheduler()
        .delete_schedule()
        .group_name(&harness.stack.group)
        .name(schedule.name().unwrap())
        .send()
        .await
        .unwrap();
    escalate::handle(&harness.engine, input).await.unwrap()
}

fn decided_nothing(outcome: &Escalated) {
    match outcome {
        // Putting the timer back is the only change an early fire may make.
        Escalated::Unchanged { deliveries, .. } | Escalated::Fired { deliveries, .. } => {
            assert_eq!(*deliveries, Deliveries::default(), "{outcome:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_early_fire_reschedules_its_timer_exactly_once_and_loses_nothing() {
    // Created at 09:00:30 Berlin (08:00:30 UTC): dispatch is due one business hour later, at
    // 09:00:30 UTC, so its schedule is at the next whole minute.
    let created = berlin("2026-12-01T09:00") + SignedDuration::from_secs(30);
    let harness = Harness::start("escalate-early", created).await;
    let ticket = Ticket::new("7211", created, "HIGH");
    let case_id = ticket.case_id();
    let webhooks = zendesk_webhook::webhooks(&harness.settings, harness.engine.policy()).unwrap();
    let app = zendesk_webhook::webhook_app(harness.engine.clone(), webhooks);
    let request = harness.zendesk_event(ZENDESK_EVENT, &ticket.created());
    let (status, body) = read_response(zendesk_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");
    let id = CaseId::parse(&case_id).unwrap();
    let due = harness
        .engine
        .store()
        .load(&id)
        .await
        .unwrap()
        .unwrap()
        .case
        .timers[&TimerKind::Dispatch];
    assert_eq!(due, utc("2026-12-01T09:00:30Z"));
    assert_eq!(
        schedules_of(&harness, &case_id, TimerKind::Dispatch).await,
        ["at(2026-12-01T09:01:00)"]
    );
    let dedup = format!("{case_id}/dispatch");
    harness.expect_pagerduty("trigger", &dedup, 1).await;

    // Fired 20 s before the deadline (within the minute of an unrounded at(…09:00:30)).
    harness.clock.set(utc("2026-12-01T09:00:10Z"));
    decided_nothing(&fire(&harness, &case_id, TimerKind::Dispatch).await);
    assert_eq!(
        schedules_of(&harness, &case_id, TimerKind::Dispatch).await,
        ["at(2026-12-01T09:01:00)"],
        "put back once, at the rounded-up minute"
    );

    // The same early firing delivered again (Scheduler and Lambda deliver at least once): the
    // schedule already exists, nothing is added.
    harness.clock.set(utc("2026-12-01T09:00:20Z"));
    let schedule = harness
        .stack
        .schedule(&case_id, TimerKind::Dispatch)
        .await
        .unwrap();
    let input: Value = serde_json::from_str(schedule.target().unwrap().input().unwrap()).unwrap();
    decided_nothing(&escalate::handle(&harness.engine, input).await.unwrap());
    assert_eq!(
        schedules_of(&harness, &case_id, TimerKind::Dispatch).await,
        ["at(2026-12-01T09:01:00)"]
    );
    assert!(
        harness.pagerduty_events().await.is_empty(),
        "nothing paged early"
    );
    let stored = harness.engine.store().load(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.case.timers.get(&TimerKind::Dispatch),
        Some(&due),
        "the timer is kept"
    );

    // At the rounded-up minute the timer fires for real: one page, and no schedule left.
    harness.clock.set(utc("2026-12-01T09:01:00Z"));
    let fired = fire(&harness, &case_id, TimerKind::Dispatch).await;
    assert!(
        matches!(fired, Escalated::Fired { ref deliveries, .. } if deliveries.delivered >= 1),
        "{fired:?}"
    );
    assert!(
        schedules_of(&harness, &case_id, TimerKind::Dispatch)
            .await
            .is_empty()
    );
    let triggers = harness
        .pagerduty_events()
        .await
        .into_iter()
        .filter(|event| event["event_action"] == "trigger")
        .count();
    assert_eq!(triggers, 1);
}
