//! `GET /metrics` of `supportctl serve`, checked from outside: after a few signed webhooks and
//! one overdue Enterprise ticket, the exposition parses as Prometheus text, counts the accepted
//! Zendesk webhooks, has the lateness histogram and counts the breach.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::Timestamp;
use domain::jiff::SignedDuration;
use std::time::Duration;
use tests::payloads::Ticket;
use tests::server_process::{ServerProcess, free_port};
use tests::{PAGERDUTY_PATH, ROUTING_KEY, ZENDESK_SECRET};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const READ_TOKEN: &str = "metrics-test-read-token";

async fn post_zendesk(url: &str, ticket_event: &serde_json::Value, secret: &str) -> u16 {
    let body = serde_json::to_vec(ticket_event).unwrap();
    let timestamp = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let signature =
        providers::zendesk::sign(&providers::Secret::new(secret).unwrap(), &timestamp, &body);
    reqwest::Client::new()
        .post(format!("{url}/webhooks/zendesk"))
        .header("X-Zendesk-Webhook-Signature", signature)
        .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn scrape(url: &str) -> prometheus_parse::Scrape {
    let response = reqwest::Client::new()
        .get(format!("{url}/metrics"))
        .bearer_auth(READ_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
        .unwrap_or_else(|error| panic!("not Prometheus text ({error}):\n{text}"))
}

/// The summed value of the samples of `name` that carry every label of `labels`.
fn total(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
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

#[tokio::test]
async fn metrics_count_webhooks_and_a_breach_of_an_overdue_enterprise_ticket() {
    let pagerduty = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(202))
        .mount(&pagerduty)
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
            ("SUPPORT_SLA_READ_TOKEN", READ_TOKEN.to_owned()),
        ],
    )
    .await;
    let url = &server.url;

    // With a read token set, the metrics are a read like the others.
    let anonymous = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // An Enterprise urgent ticket runs on the always clock (30 minutes, whatever the time of
    // day): created 31 minutes ago, it is overdue on arrival.
    let now = Timestamp::now();
    let mut overdue = Ticket::new(
        "7001",
        now.checked_sub(SignedDuration::from_secs(31 * 60)).unwrap(),
        "URGENT",
    );
    overdue.tags.push("enterprise".into());
    let created = overdue.created();
    assert_eq!(post_zendesk(url, &created, ZENDESK_SECRET).await, 202);
    // The same event again is a duplicate; a wrong signature is refused.
    assert_eq!(post_zendesk(url, &created, ZENDESK_SECRET).await, 200);
    let fresh = Ticket::new("7002", now, "NORMAL");
    assert_eq!(
        post_zendesk(url, &fresh.created(), "not-the-secret").await,
        401
    );
    assert_eq!(
        post_zendesk(url, &fresh.created(), ZENDESK_SECRET).await,
        202
    );

    let breached = [
        ("clock", "first_response"),
        ("plan", "24x7"),
        ("priority", "urgent"),
        ("outcome", "breached"),
    ];
    let mut metrics = scrape(url).await;
    for _ in 0..100 {
        if total(&metrics, "support_sla_clock_outcomes_total", &breached) >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics = scrape(url).await;
    }
    let zendesk = |outcome| [("provider", "zendesk"), ("outcome", outcome)];
    assert!(total(&metrics, "support_sla_webhooks_total", &zendesk("accepted")) >= 1.0);
    assert_eq!(
        total(&metrics, "support_sla_webhooks_total", &zendesk("accepted")),
        2.0
    );
    assert_eq!(
        total(
            &metrics,
            "support_sla_webhooks_total",
            &zendesk("duplicate")
        ),
        1.0
    );
    assert_eq!(
        total(
            &metrics,
            "support_sla_webhooks_total",
            &zendesk("unauthorized")
        ),
        1.0
    );
    assert_eq!(
        total(&metrics, "support_sla_clock_outcomes_total", &breached),
        1.0,
        "{}",
        server.logs()
    );
    // The breach was decided about a minute after its deadline (created 31 min ago, due 30 min
    // after creation): one observation, in no bucket below 60 s.
    let lateness = metrics
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "support_sla_deadline_lateness_seconds"
                && sample.labels.get("clock") == Some("first_response")
        })
        .expect("a lateness histogram for the first response");
    let prometheus_parse::Value::Histogram(buckets) = &lateness.value else {
        panic!("not a histogram: {lateness:?}");
    };
    let count_at = |bound: f64| {
        buckets
            .iter()
            .find(|b| b.less_than == bound)
            .map(|b| b.count)
    };
    assert_eq!(count_at(30.0), Some(0.0), "{buckets:?}");
    assert_eq!(count_at(120.0), Some(1.0), "{buckets:?}");
    assert_eq!(count_at(f64::INFINITY), Some(1.0), "{buckets:?}");
    // Two open cases, both of the 24x7 and 12x5 plans counted from the store.
    assert_eq!(
        total(&metrics, "support_sla_open_cases", &[("plan", "24x7")]),
        1.0
    );
    assert_eq!(
        total(&metrics, "support_sla_open_cases", &[("plan", "12x5")]),
        1.0
    );
    assert_eq!(total(&metrics, "support_sla_quarantined_cases", &[]), 0.0);
}
