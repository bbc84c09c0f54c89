//! The largest Zendesk webhook allowed (a 256 KiB body, nearly all of it subject, tags and
//! requester name) through the real handler into DynamoDB on moto: every item it leaves (the
//! case, its timeline, the outbox effects that copy its texts) stays far below DynamoDB's
//! 400 KB item limit, because intake bounds each text. Run through `scripts/test.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_dynamodb::types::AttributeValue;
use lambda::test_support::{Harness, read_response};
use providers::{DEFAULT_BODY_LIMIT, MAX_TEXT_BYTES};
use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin};

const EVENT: &str = include_str!("fixtures/apigw-v2-zendesk.json");

/// DynamoDB's item size: attribute names plus values, a list or map 3 bytes plus 1 per element
/// on top of its elements (numbers counted as their text: an upper bound).
fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => text.len(),
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(items) | AttributeValue::Ns(items) => {
            items.iter().map(String::len).sum()
        }
        AttributeValue::L(items) => {
            3 + items.iter().map(|item| 1 + value_size(item)).sum::<usize>()
        }
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, item)| 1 + name.len() + value_size(item))
                .sum::<usize>()
        }
        other => panic!("unexpected attribute {other:?}"),
    }
}

fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// Text of `bytes` bytes in two-byte characters.
fn filler(bytes: usize) -> String {
    let mut text = "ö".repeat(bytes / 2);
    if bytes % 2 == 1 {
        text.push('x');
    }
    text
}

/// `event` with its subject, tags and a requester comment's author name filling the body to
/// exactly the limit.
fn largest(event: Value) -> Value {
    let build = |texts: &[String]| {
        let mut value = event.clone();
        value["detail"]["subject"] = json!(texts[0]);
        value["detail"]["tags"] = json!([
            format!("cluster_{}", texts[1]),
            format!("site_{}", texts[2])
        ]);
        value
    };
    let empty = [String::new(), String::new(), String::new()];
    let room = DEFAULT_BODY_LIMIT - serde_json::to_vec(&build(&empty)).unwrap().len();
    let texts = [
        filler(room / 3 + room % 3),
        filler(room / 3),
        filler(room / 3),
    ];
    let value = build(&texts);
    assert_eq!(
        serde_json::to_vec(&value).unwrap().len(),
        DEFAULT_BODY_LIMIT
    );
    value
}

#[tokio::test]
async fn the_largest_webhook_leaves_only_items_far_below_the_dynamodb_limit() {
    // Saturday night: an urgent ticket out of hours pages at once, so the outbox holds effects
    // that copy the subject and labels.
    let now = berlin("2026-12-05T22:00");
    let harness = Harness::start("zendesk-largest", now).await;
    harness.accept_other_pagerduty_events().await;
    let webhooks = zendesk_webhook::webhooks(&harness.settings, harness.engine.policy()).unwrap();
    let ticket = Ticket::new("7191", now, "URGENT");

    let body = largest(ticket.created());
    let request = harness.zendesk_event(EVENT, &body);
    let app = zendesk_webhook::webhook_app(harness.engine.clone(), webhooks);
    let (status, reply) = read_response(zendesk_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{reply}");
    // The webhook only stores; the `deliver` function sends (and records what was sent).
    harness.engine.deliver_outbox(None).await.unwrap();
    assert!(
        !harness.pagerduty_events().await.is_empty(),
        "the out-of-hours page was sent"
    );

    let items = harness.stack.items().await;
    assert!(
        items.len() >= 3,
        "the case, its event record and its effects: {}",
        items.len()
    );
    let largest_item = items.iter().map(item_size).max().unwrap();
    // Each text is at most 1 KiB: a case with all of them and its timeline stays within a
    // few dozen KiB, a tenth of the limit.
    assert!(
        largest_item < 40 * 1024,
        "the largest item is {largest_item} bytes"
    );
    let stored = format!("{items:?}");
    assert!(stored.contains('…'), "the subject was cut and marked");
    assert!(
        !stored.contains(&"ö".repeat(MAX_TEXT_BYTES / 2 + 1)),
        "no text longer than the bound was stored"
    );
}
