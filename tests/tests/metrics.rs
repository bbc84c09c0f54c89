//! `GET /metrics` of the local server with a clock the test moves: an overdue Enterprise
//! ticket's breach is counted with its exact lateness, the page's delivery too, and the
//! exposition parses as Prometheus text. (`supportctl/tests/metrics.rs` checks the same from
//! outside, against the `supportctl serve` binary on the real clock.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tests::payloads::{Ticket, berlin};
use tests::{TestApp, is_event};

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let text = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
        .unwrap_or_else(|error| panic!("not Prometheus text ({error}):\n{text}"))
}

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| {
            sample.metric == name
                && labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(key) == Some(*value))
        })
        .map(|sample| match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{name} is not a plain value: {other:?}"),
        })
        .sum()
}

/// The cumulative count of the `clock` series of a histogram at the bucket `le`.
fn bucket(scrape: &prometheus_parse::Scrape, name: &str, clock: &str, le: f64) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name && sample.labels.get("clock") == Some(clock))
        .find_map(|sample| match &sample.value {
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().find(|b| b.less_than == le).map(|b| b.count)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no bucket le={le} of {name}{{clock={clock}}}"))
}

#[tokio::test]
async fn an_overdue_enterprise_ticket_is_counted_as_a_breach_one_minute_late() {
    let received = berlin("2026-12-01T03:00"); // at night: Enterprise runs on the always clock
    let app = TestApp::spawn(received).await;
    let mut ticket = Ticket::new("8001", received, "URGENT");
    ticket.tags.push("enterprise".into());
    let created = ticket.created();
    assert_eq!(app.post_zendesk(&created).await.status(), 202);
    assert_eq!(app.post_zendesk(&created).await.status(), 200);

    let before = scrape(&app).await;
    let accepted = [("provider", "zendesk"), ("outcome", "accepted")];
    assert_eq!(value(&before, "support_sla_webhooks_total", &accepted), 1.0);
    let duplicate = [("provider", "zendesk"), ("outcome", "duplicate")];
    assert_eq!(
        value(&before, "support_sla_webhooks_total", &duplicate),
        1.0
    );
    assert_eq!(
        value(
            &before,
            "support_sla_clock_outcomes_total",
            &[("outcome", "breached")]
        ),
        0.0
    );

    // The first response is due 30 minutes after receipt; the due loop decides a minute later.
    app.advance_to(berlin("2026-12-01T03:31"));
    app.wait_for_pagerduty(1, is_event("trigger", "zendesk-8001/first_response"))
        .await;

    let after = scrape(&app).await;
    let breach = [
        ("clock", "first_response"),
        ("plan", "24x7"),
        ("priority", "urgent"),
        ("outcome", "breached"),
    ];
    assert_eq!(
        value(&after, "support_sla_clock_outcomes_total", &breach),
        1.0
    );
    let lateness = "support_sla_deadline_lateness_seconds";
    assert_eq!(bucket(&after, lateness, "first_response", 30.0), 0.0);
    assert_eq!(bucket(&after, lateness, "first_response", 60.0), 1.0);
    let sent = [("destination", "pagerduty"), ("outcome", "sent")];
    assert!(value(&after, "support_sla_deliveries_total", &sent) >= 1.0);
    assert_eq!(
        value(&after, "support_sla_open_cases", &[("plan", "24x7")]),
        1.0
    );
    app.shutdown().await;
}
