//! SLA events of `supportctl serve`, checked from outside: an overdue Enterprise ticket's
//! `SLA Breached` reaches the receiver at `EVENTS_WEBHOOK_URL`, signed with
//! `EVENTS_WEBHOOK_SECRET`, and a redelivery after the receiver failed carries the same id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::Timestamp;
use domain::jiff::SignedDuration;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::time::Duration;
use tests::payloads::Ticket;
use tests::server_process::{ServerProcess, free_port};
use tests::{PAGERDUTY_PATH, ROUTING_KEY, ZENDESK_SECRET};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EVENTS_SECRET: &str = "serve-events-secret";

#[tokio::test]
async fn an_overdue_enterprise_ticket_s_breach_reaches_the_events_webhook_signed_and_redelivered_with_its_id()
 {
    let pagerduty = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(202))
        .mount(&pagerduty)
        .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"SLA Breached\""))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_supportctl")),
        data.path(),
        free_port(),
        &[
            ("ZENDESK_WEBHOOK_SECRET", ZENDESK_SECRET.to_owned()),
            ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY.to_owned()),
            (
                "PAGERDUTY_EVENTS_URL",
                format!("{}{PAGERDUTY_PATH}", pagerduty.uri()),
            ),
            ("EVENTS_WEBHOOK_URL", format!("{}/sla", receiver.uri())),
            ("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET.to_owned()),
            // The first retry waits a second, not the default 30 s.
            ("DELIVERY_FIRST_RETRY_SECONDS", "1".to_owned()),
        ],
    )
    .await;

    // Urgent on 24x7 (30 minutes at any hour), created 31 minutes ago: overdue on arrival.
    let now = Timestamp::now();
    let mut ticket = Ticket::new(
        "7501",
        now.checked_sub(SignedDuration::from_secs(31 * 60)).unwrap(),
        "URGENT",
    );
    ticket.tags.push("enterprise".into());
    let body = serde_json::to_vec(&ticket.created()).unwrap();
    let timestamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let signature = providers::zendesk::sign(
        &providers::Secret::new(ZENDESK_SECRET).unwrap(),
        &timestamp,
        &body,
    );
    let status = reqwest::Client::new()
        .post(format!("{}/webhooks/zendesk", server.url))
        .header("X-Zendesk-Webhook-Signature", signature)
        .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 202);

    let breaches = |requests: &[wiremock::Request]| -> Vec<(wiremock::Request, Value)> {
        requests
            .iter()
            .map(|request| {
                (
                    request.clone(),
                    serde_json::from_slice(&request.body).unwrap(),
                )
            })
            .filter(|(_, event): &(_, Value)| {
                event["type"] == "SLA Breached" && event["case_id"] == "zendesk-7501"
            })
            .collect()
    };
    let mut received = Vec::new();
    for _ in 0..200 {
        received = breaches(&receiver.received_requests().await.unwrap());
        if received.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(received.len() >= 2, "{}", server.logs());
    let (failed, redelivered) = (&received[0], &received[1]);
    assert_eq!(failed.1["id"], redelivered.1["id"]);
    assert_eq!(failed.1["clock"], "first_response");
    assert_eq!(failed.1["plan"], "24x7");
    for (request, event) in [failed, redelivered] {
        let mut mac = Hmac::<Sha256>::new_from_slice(EVENTS_SECRET.as_bytes()).unwrap();
        mac.update(&request.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let header = request.headers["x-support-sla-signature"].to_str().unwrap();
        assert_eq!(header, expected);
        assert_eq!(
            request.headers["x-support-sla-event-id"].to_str().unwrap(),
            event["id"].as_str().unwrap()
        );
    }
}
