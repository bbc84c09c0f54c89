//! The PagerDuty pager against a local Events API v2 stand-in that checks every request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{Delivered, NotifyError, Pager};
use common::{Logs, chat, closed_port_url, fast_retry, ticket, voicemail};
use domain::case::{AlertKey, CaseId};
use domain::policy::{Labels, Severity};
use notify::{PagerDutyClient, PagerDutyConfig, RetryPolicy};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROUTING_KEY: &str = "R0UTINGKEYe93facc04764012d7bfb00";

fn client_for(url: &str, retry: RetryPolicy) -> PagerDutyClient {
    let config = PagerDutyConfig::new(ROUTING_KEY, url)
        .unwrap()
        .with_retry(retry);
    PagerDutyClient::new(config, notify::http_client().unwrap())
}

fn client(server: &MockServer) -> PagerDutyClient {
    client_for(&format!("{}/v2/enqueue", server.uri()), fast_retry())
}

fn accepted(dedup_key: &str) -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "status": "success",
        "message": "Event processed",
        "dedup_key": dedup_key,
    }))
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn a_trigger_posts_exactly_the_documented_event_and_202_means_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(header("content-type", "application/json"))
        .respond_with(accepted("zendesk-5158/dispatch"))
        .expect(1)
        .mount(&server)
        .await;

    let delivered = client(&server)
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert_eq!(
        delivered,
        Ok(Delivered::Sent {
            detail: "dedup_key zendesk-5158/dispatch: Event processed".into()
        })
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        body(&requests[0]),
        json!({
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": "zendesk-5158/dispatch",
            "payload": {
                "summary": "Dispatch overdue: zendesk-5158 (high, 12x5) — Site down",
                "source": "support-sla",
                "severity": "error",
                "timestamp": "2026-03-02T10:00:00Z",
                "group": "c42",
                "component": "shop.example",
                "class": "dispatch",
                "custom_details": {
                    "case_id": "zendesk-5158",
                    "channel": "ticket",
                    "plan": "12x5",
                    "priority": "high",
                    "received": "2026-03-02T09:00:00Z",
                    "dispatch_due": "2026-03-02T10:00:00Z",
                    "first_response_due": "2026-03-02T13:00:00Z",
                    "out_of_hours": false,
                    "cluster": "c42",
                    "website": "shop.example",
                    "requester": { "name": "Jürgen Weiß", "email": "jw@example.org" },
                    "subject": "Site down",
                    "link": "https://acme.zendesk.com/agent/tickets/5158",
                },
            },
            "links": [
                { "href": "https://acme.zendesk.com/agent/tickets/5158", "text": "Open the case" },
            ],
        })
    );
}

#[tokio::test]
async fn each_alert_kind_has_its_sentence_class_time_and_the_given_severity_in_lowercase() {
    let server = MockServer::start().await;
    let cases = [
        (
            AlertKey::Dispatch,
            Severity::Error,
            ticket(),
            "Dispatch overdue: zendesk-5158 (high, 12x5) — Site down",
            "2026-03-02T10:00:00Z",
        ),
        (
            AlertKey::FirstResponse,
            Severity::Critical,
            ticket(),
            "First response overdue: zendesk-5158 (high, 12x5) — Site down",
            "2026-03-02T13:00:00Z",
        ),
        (
            AlertKey::OutOfHours,
            Severity::Warning,
            chat(),
            "Out-of-hours request: intercom-1295 (normal, 24x7)",
            "2026-03-02T21:15:00Z",
        ),
        (
            AlertKey::Chat,
            Severity::Info,
            chat(),
            "New chat: intercom-1295 (normal, 24x7)",
            "2026-03-02T21:15:00Z",
        ),
        (
            AlertKey::Voicemail,
            Severity::Critical,
            voicemail(),
            "Voicemail from +4930123456: twilio-RE42 (urgent, 24x7)",
            "2026-03-07T03:10:00Z",
        ),
    ];
    for (alert, severity, context, summary, timestamp) in &cases {
        let dedup_key = alert.dedup_key(&context.case_id);
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .and(body_partial_json(json!({
                "routing_key": ROUTING_KEY,
                "event_action": "trigger",
                "dedup_key": dedup_key,
                "payload": {
                    "summary": summary,
                    "source": "support-sla",
                    "severity": severity.as_str(),
                    "timestamp": timestamp,
                    "class": alert.as_str(),
                    "custom_details": {
                        "case_id": context.case_id.as_str(),
                        "plan": context.request.plan.as_str(),
                        "priority": context.request.priority.as_str(),
                        "out_of_hours": context.out_of_hours,
                    },
                },
            })))
            .respond_with(accepted(&dedup_key))
            .expect(1)
            .named(alert.as_str())
            .mount(&server)
            .await;
    }

    let pager = client(&server);
    for (alert, severity, context, _, _) in &cases {
        let delivered = pager.trigger(*alert, *severity, context).await.unwrap();
        assert!(matches!(delivered, Delivered::Sent { .. }), "{alert}");
    }
    server.verify().await;
    let severities: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| body(request)["payload"]["severity"].clone())
        .collect();
    assert_eq!(
        severities,
        ["error", "critical", "warning", "info", "critical"]
    );
}

#[tokio::test]
async fn a_voicemail_alert_carries_caller_called_duration_and_the_recording_link() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({
            "dedup_key": "twilio-RE42/voicemail",
            "payload": {
                "custom_details": {
                    "caller": "+4930123456",
                    "called": "+4940999000",
                    "duration_seconds": 65,
                    "recording_url": "https://api.twilio.com/Recordings/RE42",
                    "channel": "phone",
                    "first_response_due": "2026-03-07T03:40:00Z",
                },
            },
            "links": [
                { "href": "https://api.twilio.com/Recordings/RE42", "text": "Listen to the voicemail" },
            ],
        })))
        .respond_with(accepted("twilio-RE42/voicemail"))
        .expect(1)
        .mount(&server)
        .await;

    let delivered = client(&server)
        .trigger(AlertKey::Voicemail, Severity::Critical, &voicemail())
        .await;

    assert!(matches!(delivered, Ok(Delivered::Sent { .. })));
    let sent = body(&server.received_requests().await.unwrap()[0]);
    assert_eq!(sent["links"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn group_and_component_carry_cluster_and_website_and_are_left_out_when_absent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(accepted("x"))
        .expect(3)
        .mount(&server)
        .await;
    let pager = client(&server);

    pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await
        .unwrap();
    let cluster_only = domain::case::AlertContext {
        request: domain::case::RequestFacts {
            labels: Labels {
                cluster: Some("c7".into()),
                website: None,
            },
            ..ticket().request
        },
        ..ticket()
    };
    pager
        .trigger(AlertKey::Dispatch, Severity::Error, &cluster_only)
        .await
        .unwrap();
    pager
        .trigger(AlertKey::Chat, Severity::Info, &chat())
        .await
        .unwrap();

    let payloads: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| body(request)["payload"].clone())
        .collect();
    assert_eq!(payloads[0]["group"], "c42");
    assert_eq!(payloads[0]["component"], "shop.example");
    assert_eq!(payloads[1]["group"], "c7");
    assert!(payloads[1].get("component").is_none(), "{}", payloads[1]);
    assert!(payloads[2].get("group").is_none(), "{}", payloads[2]);
    assert!(payloads[2].get("component").is_none(), "{}", payloads[2]);
}

#[tokio::test]
async fn resolve_sends_the_triggers_dedup_key_and_routing_key_and_nothing_else() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(body_partial_json(json!({ "event_action": "trigger" })))
        .respond_with(accepted("zendesk-5158/first_response"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(body_partial_json(json!({ "event_action": "resolve" })))
        .respond_with(accepted("zendesk-5158/first_response"))
        .expect(1)
        .mount(&server)
        .await;
    let pager = client(&server);

    pager
        .trigger(AlertKey::FirstResponse, Severity::Error, &ticket())
        .await
        .unwrap();
    let resolved = pager
        .resolve(
            &CaseId::parse("zendesk-5158").unwrap(),
            AlertKey::FirstResponse,
        )
        .await;

    assert!(matches!(resolved, Ok(Delivered::Sent { .. })));
    let requests = server.received_requests().await.unwrap();
    let (trigger, resolve) = (body(&requests[0]), body(&requests[1]));
    assert_eq!(
        resolve,
        json!({
            "routing_key": ROUTING_KEY,
            "event_action": "resolve",
            "dedup_key": "zendesk-5158/first_response",
        })
    );
    assert_eq!(trigger["dedup_key"], resolve["dedup_key"]);
    assert_eq!(trigger["routing_key"], resolve["routing_key"]);
}

#[tokio::test]
async fn server_errors_are_retried_500_500_202_is_three_requests_and_one_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("zendesk-5158/dispatch"))
        .expect(1)
        .mount(&server)
        .await;

    let delivered = client(&server)
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert!(
        matches!(delivered, Ok(Delivered::Sent { .. })),
        "{delivered:?}"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.windows(2).all(|pair| pair[0].body == pair[1].body),
        "every retry repeats the same event"
    );
}

#[tokio::test]
async fn the_last_retryable_error_is_returned_when_every_attempt_fails() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .expect(3)
        .mount(&server)
        .await;

    let failed = client(&server)
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert_eq!(
        failed,
        Err(NotifyError::Retryable {
            reason: "PagerDuty answered 503 Service Unavailable: upstream unavailable".into(),
            retry_after: None,
        })
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after_before_the_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(
                    json!({ "status": "throttle", "message": "Request Limit Exceeded" }),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("zendesk-5158/dispatch"))
        .expect(1)
        .mount(&server)
        .await;
    // The backoff alone would wait 1 ms; only Retry-After explains a second.
    let retry = RetryPolicy::new(2, Duration::from_millis(1), Duration::from_secs(5));
    let pager = client_for(&format!("{}/v2/enqueue", server.uri()), retry);

    let started = Instant::now();
    let delivered = pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert!(matches!(delivered, Ok(Delivered::Sent { .. })));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_is_capped_by_max_delay_and_reported_when_attempts_run_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "60")
                .set_body_json(
                    json!({ "status": "throttle", "message": "Request Limit Exceeded" }),
                ),
        )
        .expect(2)
        .mount(&server)
        .await;
    let retry = RetryPolicy::new(2, Duration::from_millis(1), Duration::from_millis(20));
    let pager = client_for(&format!("{}/v2/enqueue", server.uri()), retry);

    let started = Instant::now();
    let failed = pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        failed,
        Err(NotifyError::Retryable {
            reason: "PagerDuty answered 429 Too Many Requests: Request Limit Exceeded".into(),
            retry_after: Some(Duration::from_secs(60)),
        })
    );
}

#[tokio::test]
async fn a_400_is_permanent_after_exactly_one_request_with_pagerdutys_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["'payload.summary' is missing"],
        })))
        .expect(1)
        .mount(&server)
        .await;

    let failed = client(&server)
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert_eq!(
        failed,
        Err(NotifyError::Permanent {
            reason: "PagerDuty rejected the event (400 Bad Request): Event object is invalid \
                     ('payload.summary' is missing)"
                .into()
        })
    );
}

#[tokio::test]
async fn other_client_errors_are_permanent_without_retry() {
    for status in [401, 403, 404, 413] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string("nope"))
            .expect(1)
            .mount(&server)
            .await;

        let failed = client(&server)
            .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
            .await;

        assert!(
            matches!(failed, Err(NotifyError::Permanent { .. })),
            "{status}: {failed:?}"
        );
    }
}

#[tokio::test]
async fn a_2xx_other_than_202_is_not_taken_for_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("hello from a proxy"))
        .expect(1)
        .mount(&server)
        .await;

    let failed = client(&server)
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert!(
        matches!(failed, Err(NotifyError::Permanent { .. })),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_network_error_is_retryable() {
    let pager = client_for(&closed_port_url("/v2/enqueue"), fast_retry());

    let failed = pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    let Err(NotifyError::Retryable {
        reason,
        retry_after: None,
    }) = failed
    else {
        panic!("expected a retryable failure, got {failed:?}");
    };
    assert!(reason.starts_with("PagerDuty unreachable: "), "{reason}");
    assert!(
        !reason.contains("127.0.0.1"),
        "the URL is left out: {reason}"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_as_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(accepted("x").set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    let config = PagerDutyConfig::new(ROUTING_KEY, &server.uri())
        .unwrap()
        .with_retry(RetryPolicy::once())
        .with_timeout(Duration::from_millis(100));
    let pager = PagerDutyClient::new(config, notify::http_client().unwrap());

    let failed = pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;

    assert_eq!(
        failed,
        Err(NotifyError::Retryable {
            reason: "PagerDuty unreachable: no answer within 100 ms".into(),
            retry_after: None,
        })
    );
}

#[tokio::test]
async fn without_a_routing_key_nothing_is_sent_and_the_dedup_key_is_logged() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(accepted("x"))
        .expect(0)
        .mount(&server)
        .await;
    let config = PagerDutyConfig::from_lookup(|name| match name {
        "PAGERDUTY_EVENTS_URL" => Some(server.uri()),
        "PAGERDUTY_ROUTING_KEY" => Some("  ".into()),
        _ => None,
    })
    .unwrap();
    let pager = PagerDutyClient::new(config, notify::http_client().unwrap());
    assert!(!pager.is_configured());
    let (logs, _guard) = Logs::capture();

    let triggered = pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await;
    let resolved = pager
        .resolve(&CaseId::parse("zendesk-5158").unwrap(), AlertKey::Dispatch)
        .await;

    assert_eq!(triggered, Ok(Delivered::NotConfigured));
    assert_eq!(resolved, Ok(Delivered::NotConfigured));
    let logs = logs.text();
    assert_eq!(
        logs.matches("not sent: no destination configured").count(),
        2,
        "{logs}"
    );
    assert!(
        logs.contains("dedup_key=\"zendesk-5158/dispatch\""),
        "{logs}"
    );
}

#[test]
fn the_configuration_comes_from_the_environment_names() {
    let env: HashMap<&str, &str> = HashMap::from([
        ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY),
        ("PAGERDUTY_EVENTS_URL", "http://127.0.0.1:9/v2/enqueue"),
    ]);
    let config =
        PagerDutyConfig::from_lookup(|name| env.get(name).map(|value| value.to_string())).unwrap();
    assert_eq!(config.routing_key.unwrap().expose(), ROUTING_KEY);
    assert_eq!(config.events_url.as_str(), "http://127.0.0.1:9/v2/enqueue");
    assert_eq!(config.timeout, Duration::from_secs(10));
    assert_eq!(config.retry, RetryPolicy::default());

    let defaults = PagerDutyConfig::from_lookup(|_| None).unwrap();
    assert!(defaults.routing_key.is_none());
    assert_eq!(
        defaults.events_url.as_str(),
        "https://events.pagerduty.com/v2/enqueue"
    );

    let invalid = PagerDutyConfig::from_lookup(|name| {
        (name == "PAGERDUTY_EVENTS_URL").then(|| "events.pagerduty.com".to_owned())
    });
    assert!(
        invalid
            .unwrap_err()
            .to_string()
            .contains("PAGERDUTY_EVENTS_URL")
    );
}

#[tokio::test]
async fn the_routing_key_never_appears_in_debug_output_errors_or_logs() {
    let (logs, _guard) = Logs::capture();
    let server = MockServer::start().await;
    // A receiver that echoes the key back must not make us repeat it.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "invalid event",
            "message": format!("Invalid routing key {ROUTING_KEY}"),
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(ROUTING_KEY))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let pager = client(&server);
    let mut texts = vec![
        format!("{pager:?}"),
        format!(
            "{:?}",
            PagerDutyConfig::new(ROUTING_KEY, &server.uri()).unwrap()
        ),
    ];

    let echoed = pager
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await
        .unwrap_err();
    texts.push(echoed.to_string());
    texts.push(format!("{echoed:?}"));
    assert!(
        echoed
            .to_string()
            .contains("Invalid routing key [redacted]"),
        "{echoed}"
    );
    let unreachable = client_for(&closed_port_url("/"), fast_retry())
        .trigger(AlertKey::Dispatch, Severity::Error, &ticket())
        .await
        .unwrap_err();
    texts.push(format!("{unreachable:?}"));
    texts.push(logs.text());

    assert!(logs.text().contains("temporary failure, retrying"));
    for text in texts {
        assert!(
            !text.contains(ROUTING_KEY),
            "the routing key leaked: {text}"
        );
    }
}
