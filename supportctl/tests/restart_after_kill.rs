//! The server killed with SIGKILL while a deadline is pending, restarted after the deadline:
//! the deadline still pages, exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::Timestamp;
use domain::jiff::SignedDuration;
use std::time::Duration;
use tests::payloads::Ticket;
use tests::server_process::{ServerProcess, free_port};
use tests::{PAGERDUTY_PATH, ROUTING_KEY, ZENDESK_SECRET, is_event, wait_for};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn server_env(pagerduty: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("ZENDESK_WEBHOOK_SECRET", ZENDESK_SECRET.to_owned()),
        ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY.to_owned()),
        (
            "PAGERDUTY_EVENTS_URL",
            format!("{}{PAGERDUTY_PATH}", pagerduty.uri()),
        ),
    ]
}

#[tokio::test]
async fn a_pending_deadline_survives_a_sigkill_and_pages_once_after_the_restart() {
    let pagerduty = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(202))
        .mount(&pagerduty)
        .await;
    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_supportctl")),
        data.path(),
        free_port(),
        &server_env(&pagerduty),
    )
    .await;

    // An Enterprise urgent ticket runs on the always clock: due 30 minutes after creation,
    // so a ticket created 29 min 56 s ago is due in 4 seconds.
    let now = Timestamp::now();
    let created = now
        .checked_sub(SignedDuration::from_secs(29 * 60 + 56))
        .unwrap();
    let mut ticket = Ticket::new("9001", created, "URGENT");
    ticket.tags.push("enterprise".into());
    let body = serde_json::to_vec(&ticket.created()).unwrap();
    let timestamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let signature = providers::zendesk::sign(
        &providers::Secret::new(ZENDESK_SECRET).unwrap(),
        &timestamp,
        &body,
    );
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/zendesk", server.url))
        .header("X-Zendesk-Webhook-Signature", signature)
        .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    server.kill(); // SIGKILL: no shutdown, no flush
    let first_response = is_event("trigger", "zendesk-9001/first_response");
    assert!(
        wait_for(&pagerduty, 0, &first_response).await.is_empty(),
        "nothing was due before the kill"
    );
    tokio::time::sleep(Duration::from_secs(5)).await; // the deadline passes while it is down

    server.restart().await;
    let pages = wait_for(&pagerduty, 1, &first_response).await;
    if pages.is_empty() {
        let log = server.logs();
        let cases = reqwest::get(format!("{}/api/cases/zendesk-9001", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        panic!("no page after the restart.\ncase: {cases}\nlogs of both runs:\n{log}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        wait_for(&pagerduty, 0, &first_response).await.len(),
        1,
        "exactly once"
    );
}
