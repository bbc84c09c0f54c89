//! The `pagerduty-webhook` handler with a recorded API Gateway event, against moto (DynamoDB,
//! EventBridge Scheduler) and wiremock (PagerDuty's Events API). Run through `scripts/test.sh`,
//! which starts moto and exports `AWS_ENDPOINT_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::CaseStore;
use domain::case::{AlertKey, CaseId};
use lambda::http::Router;
use lambda::test_support::{Harness, apigw_v2_event, read_response};
use providers::{Classifier, Secret, ZendeskConfig, ZendeskHandler};
use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin};

const EVENT: &str = include_str!("fixtures/apigw-v2-pagerduty.json");
const SECRET: &str = "test-pagerduty-webhook-secret";

/// The function's webhooks, plus Zendesk so the test can open a ticket through the same app.
async fn start(now: &str) -> (Harness, Router) {
    let mut harness = Harness::start("pagerduty", berlin(now)).await;
    harness.settings.set("PAGERDUTY_WEBHOOK_SECRET", SECRET);
    let mut webhooks = pagerduty_webhook::webhooks(&harness.settings, harness.engine.policy())
        .expect("the PagerDuty secret is set");
    webhooks.zendesk = Some(ZendeskHandler::new(
        ZendeskConfig::new(Secret::new(lambda::test_support::ZENDESK_SECRET).unwrap()),
        Classifier::from(harness.engine.policy()),
    ));
    let app = pagerduty_webhook::webhook_app(harness.engine.clone(), webhooks);
    (harness, app)
}

fn acknowledged(incident_key: &str) -> Value {
    json!({"event": {
        "id": "01DEN3EQUJGCHRQ6YVS4SJ4VBD",
        "event_type": "incident.acknowledged",
        "resource_type": "incident",
        "occurred_at": "2026-12-01T09:04:00.000Z",
        "agent": {
            "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
            "id": "PTUXL6G",
            "self": "https://api.pagerduty.com/users/PTUXL6G",
            "summary": "Earline Greenholt",
            "type": "user_reference"
        },
        "client": null,
        "data": {
            "id": "Q0RIJJZL24RC6W",
            "type": "incident",
            "self": "https://api.pagerduty.com/incidents/Q0RIJJZL24RC6W",
            "html_url": "https://acme.pagerduty.com/incidents/Q0RIJJZL24RC6W",
            "number": 2,
            "status": "acknowledged",
            "incident_key": incident_key,
            "created_at": "2026-12-01T09:00:30Z",
            "title": "Ticket not dispatched",
            "urgency": "high"
        }
    }})
}

fn pagerduty_event(body: &Value, signature: &str) -> lambda_http::Request {
    let body = serde_json::to_vec(body).unwrap();
    let header = if signature.is_empty() {
        providers::pagerduty::sign(&Secret::new(SECRET).unwrap(), &body)
    } else {
        signature.to_owned()
    };
    apigw_v2_event(
        EVENT,
        "POST",
        "/webhooks/pagerduty",
        &[
            (providers::pagerduty::SIGNATURE_HEADER, &header),
            (
                providers::pagerduty::WEBHOOK_ID_HEADER,
                "a3c1e0b8-delivery-1",
            ),
        ],
        &body,
        false,
    )
}

#[tokio::test]
async fn an_acknowledgement_is_recorded_on_the_case_in_dynamodb() {
    let (harness, app) = start("2026-12-01T09:00").await;
    let ticket = Ticket::new("7201", berlin("2026-12-01T09:00"), "HIGH");
    let created = harness.zendesk_event(
        include_str!("../../zendesk-webhook/tests/fixtures/apigw-v2-zendesk.json"),
        &ticket.created(),
    );
    let (status, body) = read_response(pagerduty_webhook::handle(app.clone(), created).await).await;
    assert_eq!(status, 202, "{body}");
    let dedup_key = format!("{}/dispatch", ticket.case_id());
    harness.expect_pagerduty("trigger", &dedup_key, 1).await;
    harness.clock.set(berlin("2026-12-01T10:00"));
    harness.engine.sweep().await.unwrap();

    let forged = pagerduty_event(&acknowledged(&dedup_key), "v1=00");
    let (status, _) = read_response(pagerduty_webhook::handle(app.clone(), forged).await).await;
    assert_eq!(status, 401);

    harness.clock.set(berlin("2026-12-01T10:05"));
    let request = pagerduty_event(&acknowledged(&dedup_key), "");
    let (status, body) = read_response(pagerduty_webhook::handle(app.clone(), request).await).await;
    assert_eq!(status, 202, "{body}");

    let case_id = CaseId::parse(&ticket.case_id()).unwrap();
    let stored = harness
        .engine
        .store()
        .load(&case_id)
        .await
        .unwrap()
        .unwrap();
    let response = &stored.case.alert_responses[&AlertKey::Dispatch];
    assert_eq!(
        response.acknowledged_by.as_deref(),
        Some("Earline Greenholt")
    );
    assert_eq!(
        response.time_to_acknowledge().map(|d| d.as_secs()),
        Some(210)
    );

    // A retry of the same delivery is a duplicate: nothing is written again.
    let again = pagerduty_event(&acknowledged(&dedup_key), "");
    let (status, body) = read_response(pagerduty_webhook::handle(app, again).await).await;
    assert_eq!(status, 200, "{body}");
    let reloaded = harness
        .engine
        .store()
        .load(&case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reloaded.version, stored.version);
}
