//! Intercom's `conversation.deleted`, end to end through the real local server: its payload
//! names only the conversation, so it solves a chat we know and is ignored for one we never
//! saw.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tests::payloads::{berlin, event_id, intercom_conversation};
use tests::{TestApp, settle};

/// `conversation.deleted` as Intercom sends it: the envelope and the conversation's
/// identifying fields only.
fn deleted(conversation_id: &str, at: domain::Timestamp) -> Value {
    json!({
        "type": "notification_event",
        "app_id": "a86dr8yl",
        "data": {
            "type": "notification_event_data",
            "item": { "type": "conversation", "id": conversation_id }
        },
        "links": {},
        "id": format!("notif_{}", event_id()),
        "topic": "conversation.deleted",
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": at.as_second(),
        "created_at": at.as_second(),
        "self": null
    })
}

#[tokio::test]
async fn a_deleted_chat_is_solved_and_pages_nothing_later() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let now = app.now();
    let chat = intercom_conversation(
        "conversation.user.created",
        "7401",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:02"));
    let response = app
        .post_intercom(&deleted("7401", berlin("2026-12-01T09:02")))
        .await;
    assert_eq!(response.status(), 202);
    let case = app.case("intercom-7401").await;
    assert_eq!(case["state"], "solved", "{case}");
    assert_eq!(case["clocks"]["first_response"]["state"], "cancelled");
    assert_eq!(case["open_alerts"], json!([]), "{case}");
    let timeline = case["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|entry| entry["type"] == "event" && entry["change"]["type"] == "deleted"),
        "{timeline:?}"
    );

    // Past the chat fallback and the first-response deadline: nothing more is decided.
    let pages_before = app.pagerduty_events().await.len();
    app.advance_to(berlin("2026-12-01T18:00"));
    settle().await;
    let triggers: Vec<Value> = app.pagerduty_events().await[pages_before..]
        .iter()
        .filter(|event| event["event_action"] == "trigger")
        .cloned()
        .collect();
    assert!(triggers.is_empty(), "{triggers:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn deleting_a_chat_never_seen_is_answered_200_and_creates_nothing() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let response = app.post_intercom(&deleted("7402", app.now())).await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["status"], "ignored", "{reply}");

    let lookup = app
        .http
        .get(format!("{}/api/cases/intercom-7402", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 404);
    app.shutdown().await;
}
