//! `supportctl report --url` against the real local server and against a stand-in that checks
//! the read token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::Output;
use tests::TestApp;
use tests::payloads::{Ticket, berlin};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Run `supportctl report …` off the async runtime (the server under test runs on it).
async fn supportctl_report(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_supportctl"))
            .arg("report")
            .args(&args)
            .env_remove("SUPPORT_SLA_READ_TOKEN")
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Issue 13's known cases in December 2026: an urgent Enterprise ticket breached (received
/// 09:00, unanswered at 09:45), one met (answered 09:10), a new normal ticket (09:40).
async fn known_cases() -> TestApp {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let enterprise = |id: &str| {
        let mut ticket = Ticket::new(id, berlin("2026-12-01T09:00"), "URGENT");
        ticket.tags.push("enterprise".into());
        ticket
    };
    let (breached, met) = (enterprise("7001"), enterprise("7002"));
    assert_eq!(app.post_zendesk(&breached.created()).await.status(), 202);
    assert_eq!(app.post_zendesk(&met.created()).await.status(), 202);
    app.advance_to(berlin("2026-12-01T09:10"));
    let answer = met.public_staff_comment(berlin("2026-12-01T09:10"));
    assert_eq!(app.post_zendesk(&answer).await.status(), 202);
    app.advance_to(berlin("2026-12-01T09:40"));
    let normal = Ticket::new("7003", berlin("2026-12-01T09:40"), "NORMAL");
    assert_eq!(app.post_zendesk(&normal.created()).await.status(), 202);
    app.advance_to(berlin("2026-12-01T09:45"));
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_with_url_prints_the_apis_document_as_json_and_its_rows_as_csv_and_a_table() {
    let app = known_cases().await;
    let api = format!("{}/api/reports/compliance", app.base_url);
    let from_api: Value = app
        .http
        .get(format!("{api}?month=2026-12"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let urgent = from_api["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["clock"] == "first_response" && r["plan"] == "24x7")
        .unwrap();
    assert_eq!(
        (urgent["breached"].clone(), urgent["met"].clone()),
        (1.into(), 1.into())
    );

    let json = supportctl_report(
        &[
            "--month",
            "2026-12",
            "--format",
            "json",
            "--url",
            &app.base_url,
        ],
        &[],
    )
    .await;
    let printed: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(printed, from_api);

    let csv = supportctl_report(
        &[
            "--month",
            "2026-12",
            "--format",
            "csv",
            "--url",
            &app.base_url,
        ],
        &[],
    )
    .await;
    let csv_from_api = app
        .http
        .get(format!("{api}.csv?month=2026-12"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(stdout(&csv), csv_from_api);

    let table = supportctl_report(&["--month", "2026-12", "--url", &app.base_url], &[]).await;
    let table = stdout(&table);
    assert!(
        table.starts_with("Compliance report 2026-12\nclock "),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("first_response  24x7") && l.contains("50.0%")),
        "{table}"
    );
    assert!(table.contains("breaches: 1"), "{table}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_sends_the_read_token_as_a_bearer_token_and_names_it_when_refused() {
    let server = MockServer::start().await;
    let document = serde_json::json!({
        "month": "2026-12", "rows": [],
        "totals": {"total": 0, "met": 0, "met_late": 0, "breached": 0, "pending": 0,
                   "cancelled": 0, "compliance": null},
        "breaches": []
    });
    Mock::given(method("GET"))
        .and(path("/api/reports/compliance"))
        .and(query_param("month", "2026-12"))
        .and(header("authorization", "Bearer read-token-9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&document))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;

    let with_token = supportctl_report(
        &[
            "--month",
            "2026-12",
            "--format",
            "json",
            "--url",
            &server.uri(),
        ],
        &[("SUPPORT_SLA_READ_TOKEN", "read-token-9")],
    )
    .await;
    let printed: Value = serde_json::from_str(&stdout(&with_token)).unwrap();
    assert_eq!(printed, document);

    let without = supportctl_report(&["--month", "2026-12", "--url", &server.uri()], &[]).await;
    assert_eq!(without.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("SUPPORT_SLA_READ_TOKEN"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_refuses_a_month_that_is_not_yyyy_mm_with_exit_code_2() {
    let output =
        supportctl_report(&["--month", "2026-13", "--url", "http://127.0.0.1:9"], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2026-13"), "{stderr}");
}
