//! The `intercom-webhook` handler with recorded API Gateway events, against moto and wiremock.
//! Run through `scripts/test.sh`, which starts moto and exports `AWS_ENDPOINT_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::CaseStore;
use domain::case::{CaseId, TimerKind};
use lambda::http::Router;
use lambda::test_support::{Harness, apigw_v2_event, read_response};
use tests::payloads::{berlin, intercom_conversation};

const EVENT: &str = include_str!("fixtures/apigw-v2-intercom.json");

async fn start(now: &str) -> (Harness, Router) {
    let harness = Harness::start("intercom", berlin(now)).await;
    let webhooks = intercom_webhook::webhooks(&harness.settings, harness.engine.policy())
        .expect("the Intercom secret is set");
    let app = intercom_webhook::webhook_app(harness.engine.clone(), webhooks);
    (harness, app)
}

#[tokio::test]
async fn intercom_can_check_the_url_with_head() {
    let (_harness, app) = start("2026-12-01T11:00").await;
    let request = apigw_v2_event(EVENT, "HEAD", "/webhooks/intercom", &[], b"", false);
    let (status, _) = read_response(intercom_webhook::handle(app, request).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_new_chat_is_stored_and_its_chat_fallback_scheduled() {
    let now = berlin("2026-12-01T11:00");
    let (harness, app) = start("2026-12-01T11:00").await;
    let chat = intercom_conversation(
        "conversation.user.created",
        "1295",
        now,
        now,
        "jane@example.org",
    );
    let request = harness.intercom_event(EVENT, &chat);
    let (status, body) = read_response(intercom_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");

    let stored = harness
        .engine
        .store()
        .load(&CaseId::parse("intercom-1295").unwrap())
        .await
        .unwrap()
        .expect("the chat is a case");
    assert_eq!(
        stored.case.chat_fallback.as_ref().unwrap().due,
        berlin("2026-12-01T11:10")
    );
    let schedule = harness
        .stack
        .schedule("intercom-1295", TimerKind::ChatFallback)
        .await
        .expect("the chat fallback schedule exists");
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2026-12-01T10:10:00)")
    );
}

#[tokio::test]
async fn only_the_intercom_provider_is_configured() {
    let (harness, app) = start("2026-12-01T11:00").await;
    let request = harness.intercom_event(EVENT, &serde_json::json!({}));
    let zendesk = apigw_v2_event(EVENT, "POST", "/webhooks/zendesk", &[], b"{}", false);
    let (status, _) = read_response(intercom_webhook::handle(app.clone(), zendesk).await).await;
    assert_eq!(
        status, 503,
        "the Zendesk route is not configured in this function"
    );
    let (status, _) = read_response(intercom_webhook::handle(app, request).await).await;
    assert_eq!(status, 400, "a signed but malformed body is refused");
    assert!(harness.stack.items().await.is_empty());
}
