//! The `deliver` handler with DynamoDB stream records in the documented shape, built from the
//! outbox items a webhook wrote, against moto (the table) and wiremock (PagerDuty, Slack).
//! Run through `scripts/test.sh`, which starts moto and exports `AWS_ENDPOINT_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::ports::Destination;
use aws_sdk_dynamodb::types::AttributeValue;
use deliver::StreamEvent;
use lambda::LambdaEngine;
use lambda::test_support::{Harness, read_response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tests::payloads::{berlin, twilio_recording};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RECORD: &str = include_str!("fixtures/dynamodb-stream-insert.json");
const TWILIO_EVENT: &str =
    include_str!("../../voicemail-webhook/tests/fixtures/apigw-v2-twilio.json");

/// A harness whose engine also posts to a Slack webhook (wiremock).
struct Setup {
    harness: Harness,
    slack: MockServer,
    engine: Arc<LambdaEngine>,
}

const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";
/// The call of `tests::payloads::twilio_recording`: the case is the call's.
const CALL: &str = "CA0123456789abcdef0123456789abcdef";

/// A voicemail at night pages the on-call engineer, tells Slack and opens a ticket. The
/// webhook stores the three in the outbox and answers; nothing is sent yet.
async fn voicemail_at_night(prefix: &str) -> Setup {
    let harness = Harness::start(prefix, berlin("2026-12-06T03:00")).await;
    let slack = MockServer::start().await;
    let mut settings = harness.settings.clone();
    settings.set(
        "SLACK_WEBHOOK_URL",
        format!("{}{}", slack.uri(), tests::SLACK_PATH),
    );
    let engine = harness
        .stack
        .engine(&settings, Arc::new(harness.clock.clone()));
    let webhooks = voicemail_webhook::webhooks(&settings, engine.policy()).unwrap();
    let app = voicemail_webhook::webhook_app(Arc::clone(&engine), webhooks);
    let form = twilio_recording(RECORDING, "completed", harness.now());
    let request = harness.twilio_event(TWILIO_EVENT, &form);
    let (status, body) = read_response(voicemail_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");
    Setup {
        harness,
        slack,
        engine,
    }
}

impl Setup {
    /// The table's outbox items as the stream delivers their inserts, in write order, each in
    /// the recorded record's shape with its own keys, image and sequence number.
    async fn stream_event(&self) -> Value {
        let template: Value = serde_json::from_str(RECORD).unwrap();
        let record = &template["Records"][0];
        let mut items: Vec<_> = self
            .harness
            .stack
            .items()
            .await
            .into_iter()
            .filter(|item| {
                item.get("entity")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some("outbox")
            })
            .collect();
        let sk = |item: &HashMap<String, AttributeValue>| item["sk"].as_s().unwrap().clone();
        items.sort_by_key(sk);
        let records: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let mut record = record.clone();
                record["dynamodb"]["Keys"] =
                    json!({ "pk": image(&item["pk"]), "sk": image(&item["sk"]) });
                record["dynamodb"]["NewImage"] = Value::Object(
                    item.iter()
                        .map(|(name, value)| (name.clone(), image(value)))
                        .collect(),
                );
                record["dynamodb"]["SequenceNumber"] =
                    json!(format!("1111000000000000000000{:02}", index + 1));
                record
            })
            .collect();
        json!({ "Records": records })
    }

    async fn deliver(&self, event: &Value) -> Vec<String> {
        let event: StreamEvent = serde_json::from_value(event.clone()).unwrap();
        let response = deliver::handle(&self.engine, event).await;
        let response = serde_json::to_value(&response).unwrap();
        response["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|failure| failure["itemIdentifier"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn slack_answers(&self, status: u16) {
        Mock::given(method("POST"))
            .and(path(tests::SLACK_PATH))
            .respond_with(ResponseTemplate::new(status).set_body_string("ok"))
            .mount(&self.slack)
            .await;
    }

    async fn slack_requests(&self) -> usize {
        self.slack
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
    }

    /// The sequence number of the record whose item goes to `destination`.
    fn record_of(event: &Value, destination: Destination) -> String {
        event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|record| {
                record["dynamodb"]["NewImage"]["destination"]["S"] == destination.as_str()
            })
            .map(|record| {
                record["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .unwrap_or_else(|| panic!("no record goes to {destination}: {event}"))
    }
}

/// A DynamoDB attribute value in the stream's JSON form.
fn image(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(text) => json!({ "S": text }),
        AttributeValue::N(number) => json!({ "N": number }),
        AttributeValue::Bool(flag) => json!({ "BOOL": flag }),
        other => panic!("outbox items hold strings and numbers only, not {other:?}"),
    }
}

#[tokio::test]
async fn each_new_item_is_sent_once_and_a_second_delivery_of_the_records_sends_nothing() {
    let setup = voicemail_at_night("deliver-once").await;
    let dedup_key = format!("twilio-{CALL}/voicemail");
    setup
        .harness
        .expect_pagerduty("trigger", &dedup_key, 1)
        .await;
    setup.slack_answers(200).await;
    assert!(setup.harness.pagerduty_events().await.is_empty());
    assert_eq!(setup.slack_requests().await, 0, "the webhook sent nothing");

    let event = setup.stream_event().await;
    Setup::record_of(&event, Destination::PagerDuty);
    Setup::record_of(&event, Destination::Slack);
    let failures = setup.deliver(&event).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(setup.harness.pagerduty_events().await.len(), 1);
    assert_eq!(setup.slack_requests().await, 1);
    assert!(
        setup.harness.stack.pending_outbox_keys().await.is_empty(),
        "every item is final"
    );

    // Lambda delivers a record again (a retry from an earlier failure in the batch, a
    // duplicate): the items are final, nothing is sent again.
    let failures = setup.deliver(&event).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(setup.harness.pagerduty_events().await.len(), 1);
    assert_eq!(setup.slack_requests().await, 1);
}

#[tokio::test]
async fn a_failing_destination_reports_only_its_own_record() {
    let setup = voicemail_at_night("deliver-failing").await;
    // PagerDuty is down; Slack works.
    Mock::given(method("POST"))
        .and(path(lambda::test_support::PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(500))
        .mount(&setup.harness.pagerduty)
        .await;
    setup.slack_answers(200).await;

    let event = setup.stream_event().await;
    let failures = setup.deliver(&event).await;
    assert_eq!(
        failures,
        vec![Setup::record_of(&event, Destination::PagerDuty)]
    );
    assert_eq!(setup.slack_requests().await, 1, "Slack got its message");
    let pending = setup.harness.stack.pending_outbox_keys().await;
    assert_eq!(
        pending.len(),
        1,
        "the page waits for its retry: {pending:?}"
    );
    assert!(pending[0].ends_with("/trigger"), "{pending:?}");

    // Lambda's retry of the failed record finds the page waiting for its retry time: skipped
    // (the sweep sends it then), and Slack is not told twice.
    let pages_before = setup
        .harness
        .pagerduty
        .received_requests()
        .await
        .unwrap()
        .len();
    let failures = setup.deliver(&event).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        setup
            .harness
            .pagerduty
            .received_requests()
            .await
            .unwrap()
            .len(),
        pages_before
    );
    assert_eq!(setup.slack_requests().await, 1);
}

#[tokio::test]
async fn an_item_the_sweep_already_holds_is_skipped_not_failed() {
    let setup = voicemail_at_night("deliver-held").await;
    setup.harness.accept_other_pagerduty_events().await;
    setup.slack_answers(200).await;
    // The sweep (or another invocation) has just claimed the page and is sending it.
    let held = setup
        .engine
        .claim_next(Destination::PagerDuty)
        .await
        .unwrap();
    assert!(held.is_some(), "the page was claimable");

    let event = setup.stream_event().await;
    let failures = setup.deliver(&event).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        setup.harness.pagerduty_events().await.is_empty(),
        "the page is left to its holder"
    );
    assert_eq!(setup.slack_requests().await, 1);
}

/// Panics on pages, sends nothing else (every other effect is "not configured").
#[derive(Debug, Clone, Copy)]
struct PanicsOnPages;

impl app::Deliver for PanicsOnPages {
    async fn deliver(
        &self,
        _case: &domain::case::CaseId,
        effect: &domain::case::Effect,
    ) -> Result<app::ports::Delivered, app::ports::NotifyError> {
        if matches!(effect, domain::case::Effect::Page { .. }) {
            panic!("a notifier bug");
        }
        Ok(app::ports::Delivered::NotConfigured)
    }
}

#[tokio::test]
async fn a_lane_that_panics_has_its_records_retried_and_the_others_finish() {
    let setup = voicemail_at_night("deliver-panic").await;
    let settings = &setup.harness.settings;
    let timers = aws::scheduler::SchedulerTimers::new(
        setup.harness.stack.scheduler(),
        aws::scheduler::SchedulerConfig::from_lookup(settings.lookup()).unwrap(),
    );
    let engine = Arc::new(app::Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        setup.engine.store().clone(),
        timers,
        PanicsOnPages,
        Arc::new(setup.harness.clock.clone()),
    ));
    let event: StreamEvent = serde_json::from_value(setup.stream_event().await).unwrap();
    let json = setup.stream_event().await;
    let response = deliver::handle(&engine, event).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .filter_map(|failure| failure.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        vec![Setup::record_of(&json, Destination::PagerDuty)]
    );
    let pending = setup.harness.stack.pending_outbox_keys().await;
    assert_eq!(
        pending.len(),
        1,
        "only the page is still pending: {pending:?}"
    );
}
