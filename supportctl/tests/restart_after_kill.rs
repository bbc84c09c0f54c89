//! The server killed with SIGKILL while a deadline is pending, restarted after the deadline:
//! the deadline still pages, exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::Timestamp;
use domain::jiff::SignedDuration;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tests::payloads::Ticket;
use tests::{PAGERDUTY_PATH, ROUTING_KEY, ZENDESK_SECRET, is_event, wait_for};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Server {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_server(data: &std::path::Path, port: u16, pagerduty: &MockServer) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_supportctl"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("ZENDESK_WEBHOOK_SECRET", ZENDESK_SECRET)
        .env("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
        .env(
            "PAGERDUTY_EVENTS_URL",
            format!("{}{PAGERDUTY_PATH}", pagerduty.uri()),
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(data.join("server.log"))
                .map(Stdio::from)
                .unwrap_or(Stdio::null()),
        )
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            return Server { child, url };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
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
    let port = free_port();
    let mut server = start_server(data.path(), port, &pagerduty).await;

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

    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();
    let first_response = is_event("trigger", "zendesk-9001/first_response");
    assert!(
        wait_for(&pagerduty, 0, &first_response).await.is_empty(),
        "nothing was due before the kill"
    );
    tokio::time::sleep(Duration::from_secs(5)).await; // the deadline passes while it is down

    let mut restarted = start_server(data.path(), port, &pagerduty).await;
    let pages = wait_for(&pagerduty, 1, &first_response).await;
    if pages.is_empty() {
        let log = std::fs::read_to_string(data.path().join("server.log")).unwrap_or_default();
        let cases = reqwest::get(format!("{}/api/cases/zendesk-9001", restarted.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        panic!("no page after the restart.\ncase: {cases}\nlog of the restarted server:\n{log}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        wait_for(&pagerduty, 0, &first_response).await.len(),
        1,
        "exactly once"
    );

    restarted.child.kill().unwrap();
    restarted.child.wait().unwrap();
}
