//! The monthly compliance report through the real local server (docs/reports.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use tests::TestApp;
use tests::payloads::{Ticket, berlin};

#[tokio::test]
async fn the_compliance_report_counts_the_months_tickets_as_json_and_csv() {
    let monday = berlin("2026-11-30T10:00");
    let app = TestApp::spawn(monday).await;
    let mut urgent = Ticket::new("8101", monday, "URGENT");
    urgent.tags.push("enterprise".into());
    assert_eq!(app.post_zendesk(&urgent.created()).await.status(), 202);
    let normal = Ticket::new("8102", monday, "NORMAL");
    assert_eq!(app.post_zendesk(&normal.created()).await.status(), 202);

    let url = format!("{}/api/reports/compliance", app.base_url);
    let report: Value = app
        .http
        .get(format!("{url}?month=2026-11"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(report["month"], "2026-11");
    let row = |clock: &str, plan: &str, priority: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["clock"] == clock && row["plan"] == plan && row["priority"] == priority)
            .cloned()
            .unwrap_or_else(|| panic!("no {clock}/{plan}/{priority} row in {report}"))
    };
    assert_eq!(row("first_response", "24x7", "urgent")["pending"], 1);
    assert_eq!(row("first_response", "12x5", "normal")["pending"], 1);
    assert_eq!(row("dispatch", "12x5", "normal")["pending"], 1);
    assert_eq!(report["totals"]["total"], 4, "{report}");

    let csv = app
        .http
        .get(format!("{url}.csv?month=2026-11"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let header = text.lines().next().unwrap();
    for column in [
        "clock", "plan", "priority", "channel", "met", "met_late", "breached", "pending",
    ] {
        assert!(header.split(',').any(|name| name == column), "{header}");
    }
    assert_eq!(
        text.lines().count(),
        1 + report["rows"].as_array().unwrap().len()
    );

    let last_month: Value = app
        .http
        .get(format!("{url}?month=2026-10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last_month["totals"]["total"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn a_report_without_a_valid_month_is_refused_with_the_reason() {
    let app = TestApp::spawn(berlin("2026-11-30T10:00")).await;
    let url = format!("{}/api/reports/compliance", app.base_url);

    for query in ["", "?month=November", "?month=2026-13"] {
        let response = app.http.get(format!("{url}{query}")).send().await.unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["reason"].as_str().unwrap().contains("month")
                || body["reason"].as_str().unwrap().contains("YYYY-MM"),
            "{query}: {body}"
        );
    }
    app.shutdown().await;
}
