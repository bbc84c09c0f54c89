//! The `sweep` handler against moto (DynamoDB, EventBridge Scheduler) and wiremock (PagerDuty).
//! Run through `scripts/test.sh`, which starts moto and exports `AWS_ENDPOINT_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::TimerKind;
use lambda::test_support::{Harness, read_response};
use serde_json::Value;
use tests::payloads::{Ticket, berlin};

const ZENDESK_EVENT: &str = include_str!("fixtures/apigw-v2-zendesk.json");
const SWEEP_INPUT: &str = include_str!("fixtures/scheduler-sweep-input.json");

#[tokio::test]
async fn the_sweep_catches_a_deadline_whose_schedule_was_deleted_by_hand() {
    let harness = Harness::start("sweep", berlin("2026-12-01T09:00")).await;
    let ticket = Ticket::new("7301", berlin("2026-12-01T09:00"), "HIGH");
    let webhooks = zendesk_webhook::webhooks(&harness.settings, harness.engine.policy()).unwrap();
    let app = zendesk_webhook::webhook_app(harness.engine.clone(), webhooks);
    let request = harness.zendesk_event(ZENDESK_EVENT, &ticket.created());
    assert_eq!(
        read_response(zendesk_webhook::handle(app, request).await)
            .await
            .0,
        202
    );

    // Someone deletes the schedule in the console: the timer is lost.
    let name = aws::scheduler::schedule_name(
        &domain::case::CaseId::parse(&ticket.case_id()).unwrap(),
        TimerKind::Dispatch,
    );
    harness
        .stack
        .scheduler()
        .delete_schedule()
        .group_name(&harness.stack.group)
        .name(&name)
        .send()
        .await
        .unwrap();
    let dedup = format!("{}/dispatch", ticket.case_id());
    harness.expect_pagerduty("trigger", &dedup, 1).await;
    let input: Value = serde_json::from_str(SWEEP_INPUT).unwrap();

    // Before the deadline the sweep finds nothing to do.
    harness.clock.set(berlin("2026-12-01T09:55"));
    let early = sweep::handle(&harness.engine, input.clone()).await.unwrap();
    assert_eq!(early.cases_fired, 0, "{early:?}");

    // The first sweep after the deadline pages.
    harness.clock.set(berlin("2026-12-01T10:03"));
    let swept = sweep::handle(&harness.engine, input.clone()).await.unwrap();
    assert_eq!(swept.cases_fired, 1, "{swept:?}");
    assert!(swept.delivered >= 1, "{swept:?}");
    assert_eq!((swept.retrying, swept.failed), (0, 0), "{swept:?}");

    // The next sweep has nothing left.
    harness.clock.set(berlin("2026-12-01T10:08"));
    let again = sweep::handle(&harness.engine, input).await.unwrap();
    assert_eq!((again.cases_fired, again.delivered), (0, 0), "{again:?}");
}

#[tokio::test]
async fn an_empty_table_sweeps_to_zero() {
    let harness = Harness::start("sweep", berlin("2026-12-01T09:00")).await;
    let swept = sweep::handle(&harness.engine, Value::Null).await.unwrap();
    assert_eq!(swept, sweep::Swept::default());
    let response = serde_json::to_value(swept).unwrap();
    assert_eq!(response["cases_fired"], 0);
}
