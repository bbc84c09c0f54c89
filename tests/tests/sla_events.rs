//! SLA events from the local runtime: `POST`ed to `EVENTS_WEBHOOK_URL`, signed with
//! `EVENTS_WEBHOOK_SECRET`, retried like every delivery, and valid against the published JSON
//! Schema (docs/events/sla-event.schema.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::jiff::SignedDuration;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::time::Duration;
use tests::TestApp;
use tests::payloads::{Ticket, berlin};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const EVENTS_SECRET: &str = "test-events-webhook-secret";
const EVENTS_PATH: &str = "/hooks/support-sla";

fn schema_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/events/sla-event.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn expected_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(EVENTS_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn events_receiver() -> MockServer {
    let receiver = MockServer::start().await;
    // The first delivery of the breach fails: the redelivery must be the same event.
    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .and(body_string_contains("\"SLA Breached\""))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    receiver
}

async fn spawn_with_events(receiver: &MockServer, now: domain::Timestamp) -> TestApp {
    TestApp::spawn_with_env(
        now,
        true,
        HashMap::from([
            (
                "EVENTS_WEBHOOK_URL".to_owned(),
                format!("{}{EVENTS_PATH}", receiver.uri()),
            ),
            ("EVENTS_WEBHOOK_SECRET".to_owned(), EVENTS_SECRET.to_owned()),
        ]),
    )
    .await
}

/// The requests the receiver got so far, with their parsed bodies.
async fn received(receiver: &MockServer) -> Vec<(Request, Value)> {
    receiver
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|request| {
            let body = serde_json::from_slice(&request.body).unwrap();
            (request, body)
        })
        .collect()
}

async fn wait_for(receiver: &MockServer, what: impl Fn(&[(Request, Value)]) -> bool) {
    for _ in 0..200 {
        if what(&received(receiver).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bodies: Vec<Value> = received(receiver)
        .await
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    panic!("the receiver never got what was expected; it got {bodies:#?}");
}

fn of_type<'a>(requests: &'a [(Request, Value)], kind: &str) -> Vec<&'a (Request, Value)> {
    requests
        .iter()
        .filter(|(_, body)| body["type"] == kind)
        .collect()
}

#[tokio::test]
async fn an_overdue_enterprise_ticket_sends_a_signed_sla_breached_event_and_its_redelivery_keeps_the_id()
 {
    let receiver = events_receiver().await;
    let start = berlin("2026-12-05T23:00"); // a Saturday night: only 24x7 clocks run
    let app = spawn_with_events(&receiver, start).await;
    let mut ticket = Ticket::new("7301", start, "URGENT");
    ticket.tags.push("enterprise".into());
    assert!(
        app.post_zendesk(&ticket.created())
            .await
            .status()
            .is_success()
    );

    // Urgent on 24x7: the first response is due in 30 minutes.
    app.advance_to(start + SignedDuration::from_mins(31));
    wait_for(&receiver, |requests| {
        of_type(requests, "SLA Breached").len() >= 2
    })
    .await;

    let requests = received(&receiver).await;
    let opened = of_type(&requests, "Case Opened");
    assert_eq!(opened.len(), 1, "one Case Opened");
    assert_eq!(opened[0].1["case_id"], "zendesk-7301");
    assert_eq!(opened[0].1["plan"], "24x7");

    let breaches = of_type(&requests, "SLA Breached");
    let first_response: Vec<_> = breaches
        .iter()
        .filter(|(_, body)| body["clock"] == "first_response")
        .collect();
    assert_eq!(first_response.len(), 2, "the failed delivery and its retry");
    let (failed, retried) = (&first_response[0], &first_response[1]);
    assert_eq!(failed.1, retried.1, "a redelivery sends the same document");
    assert_eq!(
        header(&failed.0, "X-Support-SLA-Event-Id"),
        header(&retried.0, "X-Support-SLA-Event-Id")
    );
    let event = &retried.1;
    assert_eq!(header(&retried.0, "X-Support-SLA-Event-Id"), event["id"]);
    assert_eq!(
        header(&retried.0, "X-Support-SLA-Event-Type"),
        "SLA Breached"
    );
    assert_eq!(event["case_id"], "zendesk-7301");
    assert_eq!(event["priority"], "urgent");
    assert_eq!(event["channel"], "ticket");
    assert_eq!(event["labels"]["cluster"], "c42");
    assert_eq!(
        event["due"],
        (start + SignedDuration::from_mins(30)).to_string()
    );
    assert_eq!(
        event["links"]["case"],
        format!("{}/cases/zendesk-7301", app.base_url)
    );

    // Every request is signed over its exact body.
    for (request, _) in &requests {
        assert_eq!(
            header(request, "X-Support-SLA-Signature"),
            expected_signature(&request.body)
        );
    }
}

#[tokio::test]
async fn every_event_of_a_ticket_s_life_is_valid_against_the_published_schema() {
    let receiver = events_receiver().await;
    let start = berlin("2026-12-01T10:00");
    let app = spawn_with_events(&receiver, start).await;
    let mut ticket = Ticket::new("7302", start, "HIGH");
    assert!(
        app.post_zendesk(&ticket.created())
            .await
            .status()
            .is_success()
    );
    let assigned_at = start + SignedDuration::from_mins(20);
    app.advance_to(assigned_at);
    assert!(
        app.post_zendesk(&ticket.assigned("8447388090500", assigned_at))
            .await
            .status()
            .is_success()
    );
    let answered_at = start + SignedDuration::from_mins(50);
    app.advance_to(answered_at);
    assert!(
        app.post_zendesk(&ticket.public_staff_comment(answered_at))
            .await
            .status()
            .is_success()
    );
    let solved_at = start + SignedDuration::from_mins(70);
    app.advance_to(solved_at);
    assert!(
        app.post_zendesk(&ticket.status_changed("SOLVED", solved_at))
            .await
            .status()
            .is_success()
    );
    wait_for(&receiver, |requests| {
        !of_type(requests, "Case Solved").is_empty()
    })
    .await;

    let requests = received(&receiver).await;
    let kinds: Vec<(&str, &str)> = requests
        .iter()
        .map(|(_, body)| {
            (
                body["type"].as_str().unwrap(),
                body["clock"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("Case Opened", "-"),
            ("SLA Met", "dispatch"),
            ("SLA Met", "first_response"),
            ("Case Solved", "-"),
        ]
    );
    let validator = schema_validator();
    for (_, body) in &requests {
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{body:#}: {errors:?}");
    }
    // The schema is strict enough to catch a broken event.
    let mut broken = requests[0].1.clone();
    broken["type"] = Value::from("Case Exploded");
    assert!(!validator.is_valid(&broken));
}
