//! An event that can never be decided gets a 4xx (the provider stops retrying) and is kept
//! where an operator sees it: `GET /api/rejected` (issue 10, "Input plausibility").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use tests::TestApp;
use tests::payloads::{Ticket, berlin};

/// The default policy with 400 company days off in a row: no deadline can be computed.
fn a_policy_with_no_open_time() -> domain::policy::Policy {
    let mut day = domain::jiff::civil::date(2026, 11, 1);
    let mut closed = Vec::new();
    for _ in 0..400 {
        closed.push(format!("\"{day}\""));
        day = day.tomorrow().unwrap();
    }
    let text = policy_file::DEFAULT_POLICY_TOML.replacen(
        "extra_closed = []",
        &format!("extra_closed = [{}]", closed.join(", ")),
        1,
    );
    policy_file::parse_policy(&text).unwrap()
}

#[tokio::test]
async fn an_event_that_can_never_be_decided_gets_422_and_is_listed_in_the_read_api() {
    let now = berlin("2026-12-01T09:00");
    let app = TestApp::spawn_with_settings(now, true, &[], a_policy_with_no_open_time()).await;
    let ticket = Ticket::new("8801", now, "HIGH");
    let created = ticket.created();

    let first = app.post_zendesk(&created).await;
    assert_eq!(first.status(), 422);
    // The provider may still send it once more: it stays one record.
    assert_eq!(app.post_zendesk(&created).await.status(), 422);

    let listed: Value = reqwest::Client::new()
        .get(format!("{}/api/rejected?limit=10", app.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rejected = listed["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{listed}");
    let kept = &rejected[0];
    assert_eq!(kept["provider"], "zendesk");
    assert_eq!(kept["event_id"], created["id"]);
    assert_eq!(kept["case_id"], "zendesk-8801");
    assert!(
        kept["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be decided"),
        "{kept}"
    );
    assert!(kept["body"].as_str().unwrap().contains("8801"), "{kept}");
    assert!(kept["received_at"].is_string(), "{kept}");

    // Refused, not stored as a case, nothing paged.
    assert_eq!(app.cases().await["cases"].as_array().map(Vec::len), Some(0));
    assert!(app.pagerduty_events().await.is_empty());
    app.shutdown().await;
}
