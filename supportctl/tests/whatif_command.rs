//! `supportctl whatif --url` against the real local server with known cases: one urgent
//! Enterprise ticket breached, one met, one new normal ticket (issue 13's acceptance).
//!
//! Monday 2026-11-30, Berlin time: all three tickets arrive at 10:00; the met one is answered
//! at 10:10; the report looks at 11:00. Current policy: urgent 24x7 first response 30 min (due
//! 10:30). Proposed: 3 h (due 13:00).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::{Command, Output};
use tests::TestApp;
use tests::payloads::{Ticket, berlin};

const DEFAULT_POLICY: &str = include_str!("../../infra/policy.toml");

fn proposed_policy_file() -> tempfile::NamedTempFile {
    let text = DEFAULT_POLICY.replace(
        "[first_response.urgent]\ntarget = \"30m\"",
        "[first_response.urgent]\ntarget = \"3h\"",
    );
    assert_ne!(text, DEFAULT_POLICY, "the urgent target was not found");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

async fn supportctl(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_supportctl"))
            .args(args)
            .env_remove("SUPPORT_SLA_READ_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The server with the three known tickets, its clock at 11:00.
async fn app_with_known_cases() -> TestApp {
    let ten = berlin("2026-11-30T10:00");
    let app = TestApp::spawn(ten).await;
    let mut breached = Ticket::new("9101", ten, "URGENT");
    breached.tags.push("enterprise".into());
    let mut met = Ticket::new("9102", ten, "URGENT");
    met.tags.push("enterprise".into());
    let normal = Ticket::new("9103", ten, "NORMAL");
    for ticket in [&breached, &met, &normal] {
        assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    }
    let ten_past = berlin("2026-11-30T10:10");
    app.advance_to(ten_past);
    assert_eq!(
        app.post_zendesk(&met.public_staff_comment(ten_past))
            .await
            .status(),
        202
    );
    app.advance_to(berlin("2026-11-30T11:00"));
    app
}

fn args(app: &TestApp, policy: &tempfile::NamedTempFile, format: &str) -> Vec<String> {
    [
        "whatif",
        "--url",
        &app.base_url,
        "--month",
        "2026-11",
        "--policy",
        policy.path().to_str().unwrap(),
        "--format",
        format,
        "--at",
        "2026-11-30T10:00:00Z",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_3_hour_urgent_target_changes_the_breached_ticket_and_not_the_met_one() {
    let app = app_with_known_cases().await;
    let policy = proposed_policy_file();

    let output = supportctl(args(&app, &policy, "json")).await;
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();

    let changed = json["changed"].as_array().unwrap();
    assert!(
        changed.contains(&serde_json::json!({
            "case_id": "zendesk-9101",
            "clock": "first_response",
            "current": "breached",
            "proposed": "pending",
        })),
        "{json}"
    );
    assert!(
        changed.iter().all(|c| c["case_id"] != "zendesk-9102"),
        "{json}"
    );
    assert_eq!(json["not_replayed"], serde_json::json!([]));

    let row = |side: &str, plan: &str, priority: &str| {
        json[side]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| {
                row["clock"] == "first_response"
                    && row["plan"] == plan
                    && row["priority"] == priority
            })
            .cloned()
            .unwrap_or_else(|| panic!("no {side} {plan}/{priority} row in {json}"))
    };
    let current = row("current", "24x7", "urgent");
    assert_eq!(
        (current["met"].clone(), current["breached"].clone()),
        (1.into(), 1.into())
    );
    let proposed = row("proposed", "24x7", "urgent");
    assert_eq!(
        (proposed["met"].clone(), proposed["pending"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(row("current", "12x5", "normal")["pending"], 1);
    assert_eq!(row("proposed", "12x5", "normal")["pending"], 1);

    // The replay under the current policy agrees with what the live server reports.
    let live: Value = app
        .http
        .get(format!(
            "{}/api/reports/compliance?month=2026-11",
            app.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live["rows"], json["current"]);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_table_format_shows_both_sides_and_names_the_changed_clock() {
    let app = app_with_known_cases().await;
    let policy = proposed_policy_file();

    let output = supportctl(args(&app, &policy, "table")).await;
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("current") && text.contains("proposed"),
        "{text}"
    );
    assert!(
        text.contains("zendesk-9101 first_response: breached -> pending"),
        "{text}"
    );
    assert!(!text.contains("zendesk-9102"), "{text}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_route_needs_a_month() {
    let app = TestApp::spawn(berlin("2026-11-30T10:00")).await;
    let response = app
        .http
        .get(format!("{}/api/reports/recorded", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.shutdown().await;
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_fails_with_the_url() {
    let policy = proposed_policy_file();
    let output = supportctl(
        [
            "whatif",
            "--url",
            "http://127.0.0.1:9",
            "--month",
            "2026-11",
            "--policy",
            policy.path().to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec(),
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http://127.0.0.1:9"), "{stderr}");
}
