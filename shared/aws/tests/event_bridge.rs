//! `EventBridgePublisher` on moto: SLA events reach a rule's target with the contract's
//! document as `detail`, valid against docs/events/sla-event.schema.json; a missing bus is a
//! permanent failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{Delivered, EventPublisher, NotifyError};
use app::sla_event_document::SlaEventDocumentV1;
use aws::events::EventBridgePublisher;
use domain::Timestamp;
use domain::case::{CaseId, SlaClock, SlaEvent, SlaEventKind};
use domain::policy::{Channel, Labels, Plan, Priority};
use serde_json::Value;

fn breach() -> SlaEvent {
    let due: Timestamp = "2026-12-05T22:30:00Z".parse().unwrap();
    SlaEvent {
        kind: SlaEventKind::SlaBreached,
        case_id: CaseId::parse("zendesk-7301").unwrap(),
        channel: Channel::Ticket,
        plan: Plan::Enterprise,
        priority: Priority::Urgent,
        clock: Some(SlaClock::FirstResponse),
        alert: None,
        by: None,
        due: Some(due),
        at: "2026-12-05T22:30:04Z".parse().unwrap(),
        labels: Labels {
            cluster: Some("c42".into()),
            website: None,
        },
        source_link: Some("https://acme.zendesk.com/agent/tickets/7301".into()),
    }
}

#[tokio::test]
async fn a_published_sla_event_reaches_the_rule_s_target_as_the_contract_s_document() {
    let sdk = common::sdk_config().await;
    let (bus, queue) = common::new_event_bus_with_queue(&sdk, "sla-events").await;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&sdk),
        &bus,
        Some("https://sla.acme.example".into()),
    );
    let document = SlaEventDocumentV1::of(&breach());

    let delivered = publisher.publish(&document).await.unwrap();
    assert!(matches!(delivered, Delivered::Sent { .. }), "{delivered:?}");

    let events = common::received_events(&sdk, &queue, 1).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let envelope = &events[0];
    assert_eq!(envelope["source"], "support-sla");
    assert_eq!(envelope["detail-type"], "SLA Breached");
    let detail = &envelope["detail"];
    let expected = serde_json::to_value(
        document
            .clone()
            .with_case_link(Some("https://sla.acme.example")),
    )
    .unwrap();
    assert_eq!(detail, &expected);
    assert_eq!(
        detail["id"],
        "zendesk-7301/sla_breached/first_response/1796509804"
    );
    assert_eq!(
        detail["links"]["case"],
        "https://sla.acme.example/cases/zendesk-7301"
    );
    let schema: Value =
        serde_json::from_str(include_str!("../../../docs/events/sla-event.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(detail)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn a_redelivered_event_carries_the_same_id_for_the_subscriber_to_deduplicate() {
    let sdk = common::sdk_config().await;
    let (bus, queue) = common::new_event_bus_with_queue(&sdk, "sla-events").await;
    let publisher = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&sdk), &bus, None);
    let document = SlaEventDocumentV1::of(&breach());

    publisher.publish(&document).await.unwrap();
    publisher.publish(&document).await.unwrap();

    let events = common::received_events(&sdk, &queue, 2).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["detail"]["id"], events[1]["detail"]["id"]);
    assert_eq!(events[0]["detail"]["links"]["case"], Value::Null);
}

#[tokio::test]
async fn an_event_for_a_bus_that_does_not_exist_is_a_permanent_failure() {
    let sdk = common::sdk_config().await;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&sdk),
        common::unique("no-such-bus"),
        None,
    );
    let error = publisher
        .publish(&SlaEventDocumentV1::of(&breach()))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Permanent { .. }), "{error:?}");
}

#[test]
fn the_bus_comes_from_event_bus_name_and_without_it_no_publisher_is_built() {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let client = aws_sdk_eventbridge::Client::new(&sdk);
    let none = EventBridgePublisher::from_lookup(|_| None, client.clone()).unwrap();
    assert!(none.is_none());
    let set = EventBridgePublisher::from_lookup(
        |name| (name == "EVENT_BUS_NAME").then(|| "support-sla-events".to_owned()),
        client.clone(),
    )
    .unwrap();
    assert!(set.is_some());
    let error = EventBridgePublisher::from_lookup(
        |name| (name == "EVENT_BUS_NAME").then(|| "two words".to_owned()),
        client,
    )
    .unwrap_err();
    assert!(error.to_string().contains("EVENT_BUS_NAME"), "{error}");
}
