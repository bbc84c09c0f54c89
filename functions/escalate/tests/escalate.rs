//! The `escalate` handler invoked with the `Input` of the schedules the webhook functions
//! created, against moto (DynamoDB, EventBridge Scheduler, SES) and wiremock (PagerDuty).
//! moto's schedules never fire: the test reads the schedule and invokes the handler with its
//! input, as Scheduler would. Run through `scripts/test.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::CaseStore;
use domain::case::{CaseId, TimerKind};
use escalate::Escalated;
use lambda::test_support::{Harness, read_response, unique};
use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin, intercom_conversation};

const ZENDESK_EVENT: &str = include_str!("fixtures/apigw-v2-zendesk.json");
const INTERCOM_EVENT: &str = include_str!("fixtures/apigw-v2-intercom.json");
const TIMER_INPUT: &str = include_str!("fixtures/scheduler-timer-input.json");

/// The input of the schedule for `timer` of `case_id`, as Scheduler would send it.
async fn schedule_input(harness: &Harness, case_id: &str, timer: TimerKind) -> Value {
    let schedule = harness
        .stack
        .schedule(case_id, timer)
        .await
        .unwrap_or_else(|| panic!("no {timer} schedule for {case_id}"));
    serde_json::from_str(schedule.target().unwrap().input().unwrap()).unwrap()
}

/// A ticket created at 09:00 through the real `zendesk-webhook` handler.
async fn ticket_created_through_the_webhook(harness: &Harness, id: &str) -> Ticket {
    let ticket = Ticket::new(id, berlin("2026-12-01T09:00"), "HIGH");
    let webhooks = zendesk_webhook::webhooks(&harness.settings, harness.engine.policy()).unwrap();
    let app = zendesk_webhook::webhook_app(harness.engine.clone(), webhooks);
    let request = harness.zendesk_event(ZENDESK_EVENT, &ticket.created());
    let (status, body) = read_response(zendesk_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");
    ticket
}

#[tokio::test]
async fn the_dispatch_schedule_pages_once_even_when_invoked_twice() {
    let harness = Harness::start("escalate", berlin("2026-12-01T09:00")).await;
    let ticket = ticket_created_through_the_webhook(&harness, "7201").await;
    let dedup = format!("{}/dispatch", ticket.case_id());
    harness.expect_pagerduty("trigger", &dedup, 1).await;
    let input = schedule_input(&harness, &ticket.case_id(), TimerKind::Dispatch).await;

    harness.clock.set(berlin("2026-12-01T10:00"));
    let first = escalate::handle(&harness.engine, input.clone())
        .await
        .unwrap();
    assert!(
        matches!(first, Escalated::Fired { ref deliveries, .. } if deliveries.delivered >= 1),
        "{first:?}"
    );
    // Scheduler delivers at least once, and Lambda retries: the same input again.
    let second = escalate::handle(&harness.engine, input).await.unwrap();
    assert!(matches!(second, Escalated::Unchanged { .. }), "{second:?}");

    let triggers: Vec<Value> = harness
        .pagerduty_events()
        .await
        .into_iter()
        .filter(|event| event["event_action"] == "trigger")
        .collect();
    assert_eq!(triggers.len(), 1, "{triggers:?}");
    assert_eq!(triggers[0]["dedup_key"], dedup);
    assert_eq!(triggers[0]["payload"]["severity"], "error");
    // wiremock checks `.expect(1)` when the harness is dropped.
}

#[tokio::test]
async fn an_early_timer_pages_nothing_and_keeps_its_schedule() {
    let harness = Harness::start("escalate", berlin("2026-12-01T09:00")).await;
    let ticket = ticket_created_through_the_webhook(&harness, "7202").await;
    let input = schedule_input(&harness, &ticket.case_id(), TimerKind::Dispatch).await;

    harness.clock.set(berlin("2026-12-01T09:30"));
    let early = escalate::handle(&harness.engine, input).await.unwrap();
    // At most the timer is put back where it belongs; nothing is delivered.
    match early {
        Escalated::Unchanged { deliveries, .. } | Escalated::Fired { deliveries, .. } => {
            assert_eq!(deliveries, escalate::Deliveries::default(), "{early:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(harness.pagerduty_events().await.is_empty());
    let schedule = harness
        .stack
        .schedule(&ticket.case_id(), TimerKind::Dispatch)
        .await;
    let expression = schedule.as_ref().and_then(|s| s.schedule_expression());
    assert_eq!(
        expression,
        Some("at(2026-12-01T09:00:00)"),
        "still at the deadline"
    );
}

#[tokio::test]
async fn the_chat_fallback_timer_emails_the_customer_through_ses() {
    let now = berlin("2026-12-01T11:00");
    let harness = Harness::start("escalate", now).await;
    harness.accept_other_pagerduty_events().await;
    let customer = format!("{}@example.org", unique("jane"));
    let chat = intercom_conversation("conversation.user.created", "1296", now, now, &customer);
    let webhooks = intercom_webhook::webhooks(&harness.settings, harness.engine.policy()).unwrap();
    let app = intercom_webhook::webhook_app(harness.engine.clone(), webhooks);
    let request = harness.intercom_event(INTERCOM_EVENT, &chat);
    assert_eq!(
        read_response(intercom_webhook::handle(app, request).await)
            .await
            .0,
        202
    );
    let input = schedule_input(&harness, "intercom-1296", TimerKind::ChatFallback).await;
    assert!(
        harness.stack.emails_to(&customer).await.is_empty(),
        "no e-mail before the timer"
    );

    harness.clock.set(berlin("2026-12-01T11:10"));
    let fired = escalate::handle(&harness.engine, input.clone())
        .await
        .unwrap();
    assert!(matches!(fired, Escalated::Fired { .. }), "{fired:?}");
    escalate::handle(&harness.engine, input).await.unwrap();

    let emails = harness.stack.emails_to(&customer).await;
    assert_eq!(
        emails.len(),
        1,
        "one e-mail, even with the timer invoked twice: {emails:?}"
    );
    let email = &emails[0];
    assert!(
        email["source"]
            .as_str()
            .unwrap()
            .contains("support@acme-hosting.example"),
        "{email}"
    );
    // In the policy's chat language, German by default ([chat] language).
    assert!(
        email["subject"]
            .as_str()
            .unwrap()
            .contains("geht per E-Mail weiter"),
        "{email}"
    );
    assert!(
        email["body"].as_str().unwrap().contains("intercom-1296"),
        "{email}"
    );
}

#[tokio::test]
async fn permanent_failures_are_rejected_without_a_retry_and_unknown_cases_are_harmless() {
    let harness = Harness::start("escalate", berlin("2026-12-01T09:00")).await;
    for input in [
        json!({ "case_id": "zendesk-1", "timer": "lunch" }),
        json!({ "case_id": "not a case id", "timer": "dispatch" }),
        json!({ "hello": "world" }),
        json!("zendesk-1"),
    ] {
        let outcome = escalate::handle(&harness.engine, input.clone()).await;
        assert!(
            matches!(outcome, Ok(Escalated::Rejected { .. })),
            "{input}: {outcome:?}"
        );
    }
    // The recorded input names a case this table does not have.
    let recorded: Value = serde_json::from_str(TIMER_INPUT).unwrap();
    let outcome = escalate::handle(&harness.engine, recorded).await.unwrap();
    assert!(
        matches!(outcome, Escalated::UnknownCase { .. }),
        "{outcome:?}"
    );
    let missing = CaseId::parse("zendesk-7103").unwrap();
    assert!(
        harness
            .engine
            .store()
            .load(&missing)
            .await
            .unwrap()
            .is_none()
    );
}
