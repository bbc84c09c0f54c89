//! SLA events on AWS, end to end on moto: a webhook function decides them with its case change
//! (`EVENT_BUS_NAME` set), the delivering engine puts them on the bus, and a rule's queue
//! receives each as the contract's document, valid against docs/events/sla-event.schema.json.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws::test_support::{new_event_bus_with_queue, received_events};
use lambda::test_support::{Harness, read_response};
use serde_json::Value;
use std::sync::Arc;
use tests::payloads::{berlin, twilio_recording};

const TWILIO_EVENT: &str =
    include_str!("../../voicemail-webhook/tests/fixtures/apigw-v2-twilio.json");
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn a_voicemail_s_case_opened_event_reaches_the_bus_from_the_lambda_path_in_the_contract_s_schema()
 {
    let harness = Harness::start("sla-events", berlin("2026-12-06T03:00")).await;
    harness.accept_other_pagerduty_events().await;
    let sdk = aws::test_support::sdk_config().await;
    let (bus, queue) = new_event_bus_with_queue(&sdk, "sla-events").await;
    let mut settings = harness.settings.clone();
    settings.set("EVENT_BUS_NAME", bus);
    let clock = Arc::new(harness.clock.clone());

    // The webhook function stores the case and its events; it sends nothing.
    let webhook_engine = harness.stack.webhook_engine(&settings, clock.clone());
    let webhooks = voicemail_webhook::webhooks(&settings, webhook_engine.policy()).unwrap();
    let app = voicemail_webhook::webhook_app(Arc::clone(&webhook_engine), webhooks);
    let form = twilio_recording(RECORDING, "completed", harness.now());
    let request = harness.twilio_event(TWILIO_EVENT, &form);
    let (status, body) = read_response(voicemail_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");
    let pending = harness.stack.pending_outbox_keys().await;
    assert!(
        pending
            .iter()
            .any(|key| key.contains("/event/case_opened/")),
        "{pending:?}"
    );
    assert!(received_events(&sdk, &queue, 0).await.is_empty());

    // A delivering function (deliver, or the sweep) publishes them.
    let engine = harness.stack.engine(&settings, clock);
    engine.deliver_outbox(None).await.unwrap();

    let events = received_events(&sdk, &queue, 1).await;
    let opened: Vec<&Value> = events
        .iter()
        .filter(|event| event["detail-type"] == "Case Opened")
        .collect();
    assert_eq!(opened.len(), 1, "{events:#?}");
    let detail = &opened[0]["detail"];
    assert_eq!(opened[0]["source"], "support-sla");
    assert_eq!(detail["channel"], "phone");
    assert_eq!(detail["priority"], "urgent");
    assert!(
        detail["case_id"].as_str().unwrap().starts_with("twilio-CA"),
        "{detail}"
    );
    let schema: Value =
        serde_json::from_str(include_str!("../../../docs/events/sla-event.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(&event["detail"])
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{event:#}: {errors:?}");
    }
}
