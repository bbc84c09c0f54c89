//! PagerDuty v3 incident webhooks end to end through the real local server: an engineer
//! acknowledges or resolves one of our pages, and the case records it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use providers::Secret;
use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin, pagerduty_incident, pagerduty_person};
use tests::{PAGERDUTY_WEBHOOK_SECRET, TestApp, is_event, settle};

async fn post_pagerduty(
    app: &TestApp,
    webhook_id: &str,
    body: &Value,
    signature: Option<&str>,
) -> reqwest::Response {
    let body = serde_json::to_vec(body).unwrap();
    let signed = providers::pagerduty::sign(&Secret::new(PAGERDUTY_WEBHOOK_SECRET).unwrap(), &body);
    let stale = providers::pagerduty::sign(&Secret::new("the-previous-secret").unwrap(), &body);
    // During a rotation PagerDuty sends one value per secret; ours need not come first.
    let header = signature.map_or_else(|| format!("{stale},{signed}"), str::to_owned);
    app.http
        .post(format!("{}/webhooks/pagerduty", app.base_url))
        .header("Content-Type", "application/json")
        .header("X-PagerDuty-Signature", header)
        .header("X-Webhook-Id", webhook_id)
        .header("X-Webhook-Subscription", "PY1OQT4")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A ticket left unassigned past its dispatch deadline: the dispatch alert is paged.
async fn paged_ticket(app: &TestApp, id: &str) -> Ticket {
    let ticket = Ticket::new(id, app.now(), "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    app.advance_to(berlin("2026-12-01T10:00"));
    let key = format!("{}/dispatch", ticket.case_id());
    let pages = app.wait_for_pagerduty(1, is_event("trigger", &key)).await;
    assert_eq!(pages.len(), 1, "the dispatch deadline pages");
    ticket
}

#[tokio::test]
async fn an_acknowledgement_shows_on_the_case_even_when_a_stale_signature_comes_first() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let ticket = paged_ticket(&app, "7101").await;
    let key = format!("{}/dispatch", ticket.case_id());
    app.advance_to(berlin("2026-12-01T10:07"));
    let acknowledged = pagerduty_incident(
        "01DEN3EQUJGCHRQ6YVS4SJ4VBD",
        "acknowledged",
        &key,
        berlin("2026-12-01T10:00:05"),
        berlin("2026-12-01T10:06:05"),
        pagerduty_person(),
    );

    let forged = post_pagerduty(&app, "w-1", &acknowledged, Some("v1=00ff")).await;
    assert_eq!(forged.status(), 401);
    assert!(
        app.case(&ticket.case_id()).await["alert_responses"].is_null(),
        "a refused webhook records nothing"
    );

    let response = post_pagerduty(&app, "w-1", &acknowledged, None).await;
    assert!(response.status().is_success(), "{}", response.status());

    let case = app.case(&ticket.case_id()).await;
    let dispatch = &case["alert_responses"]["dispatch"];
    assert_eq!(dispatch["acknowledged_by"], "Earline Greenholt");
    assert_eq!(dispatch["acknowledged_at"], "2026-12-01T09:06:05Z");
    assert_eq!(dispatch["time_to_acknowledge_seconds"], 360);
    assert_eq!(
        case["open_alerts"],
        json!(["dispatch"]),
        "acknowledged is not answered"
    );
    let timeline = case["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|entry| entry["type"] == "alert_updated"
            && entry["action"] == "acknowledged"
            && entry["by"] == "Earline Greenholt"),
        "{timeline:?}"
    );

    // PagerDuty retries a delivery with the same X-Webhook-Id: harmless.
    let again = post_pagerduty(&app, "w-1", &acknowledged, None).await;
    assert_eq!(again.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn a_resolve_by_a_person_closes_the_alert_so_a_late_assignment_sends_no_resolve() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let mut ticket = paged_ticket(&app, "7102").await;
    let key = format!("{}/dispatch", ticket.case_id());
    app.advance_to(berlin("2026-12-01T10:30"));
    let resolved = pagerduty_incident(
        "01DEN3GTWUXUF3KZKOIMMCWX2Y",
        "resolved",
        &key,
        berlin("2026-12-01T10:00:05"),
        berlin("2026-12-01T10:29:00"),
        pagerduty_person(),
    );

    let response = post_pagerduty(&app, "w-2", &resolved, None).await;
    assert_eq!(response.status(), 202);
    let case = app.case(&ticket.case_id()).await;
    assert_eq!(case["open_alerts"], json!([]));
    assert_eq!(
        case["alert_responses"]["dispatch"]["resolved_by"],
        "Earline Greenholt"
    );

    let assigned = ticket.assigned("8447388090496", berlin("2026-12-01T10:40"));
    app.advance_to(berlin("2026-12-01T10:40"));
    assert_eq!(app.post_zendesk(&assigned).await.status(), 202);
    settle().await;
    let resolves: Vec<_> = app
        .pagerduty_events()
        .await
        .into_iter()
        .filter(|event| event["event_action"] == "resolve")
        .collect();
    assert!(
        resolves.is_empty(),
        "PagerDuty closed it already: {resolves:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_incident_that_is_not_ours_is_answered_200_and_changes_nothing() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let ticket = paged_ticket(&app, "7103").await;
    let before = app.case(&ticket.case_id()).await;

    for (webhook_id, key) in [
        ("w-3", "baf7cf21b1da41b4b0221008339ff357"),
        ("w-4", "zendesk-999999/dispatch"),
    ] {
        let foreign = pagerduty_incident(
            "01DEN3J4KPV5OQ3M2W2T3S1ZXA",
            "acknowledged",
            key,
            berlin("2026-12-01T10:00:05"),
            berlin("2026-12-01T10:01:00"),
            pagerduty_person(),
        );
        let response = post_pagerduty(&app, webhook_id, &foreign, None).await;
        assert_eq!(response.status(), 200, "{key}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ignored", "{key}");
    }
    assert_eq!(
        app.case(&ticket.case_id()).await["version"],
        before["version"]
    );
    app.shutdown().await;
}
