//! The metric filters of `template.yaml` against the log lines they must count: the line the
//! code really writes when a timer could not be applied (captured from the functions' own JSON
//! log format), and the API's access log line of a refused webhook. Every alarm of the template
//! is explained in the README's runbook.
//!
//! Reaches only loopback: the timer failure is a connection refused by a closed local port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::ports::Timers;
use aws::scheduler::{SchedulerConfig, SchedulerTimers, TIMER_NOT_APPLIED};
use aws_sdk_scheduler::config::retry::RetryConfig;
use aws_sdk_scheduler::config::{BehaviorVersion, Credentials, Region};
use domain::case::{CaseId, TimerKind};
use serde_json::Value as Json;
use serde_yaml_ng::Value;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::SubscriberExt;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping().and_then(|mapping| mapping.get(key))
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    get(template, "Resources")
        .and_then(Value::as_mapping)
        .unwrap()
        .iter()
        .filter(|(_, resource)| get(resource, "Type").and_then(Value::as_str) == Some(kind))
        .map(|(name, resource)| (name.as_str().unwrap().to_owned(), resource))
        .collect()
}

/// Whether a CloudWatch Logs JSON filter pattern matches a JSON log line. Only the form the
/// template uses is understood: `{ $.a.b = "text" && $.c = "text" }` (string equality of
/// selectors joined by `&&`); anything else fails the test rather than guess.
fn matches(pattern: &str, line: &str) -> bool {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a JSON filter pattern: {pattern}"));
    assert!(
        !inner.contains("||"),
        "only && is understood here: {pattern}"
    );
    let Ok(json) = serde_json::from_str::<Json>(line) else {
        return false;
    };
    inner.split("&&").all(|clause| {
        let (selector, value) = clause
            .split_once('=')
            .unwrap_or_else(|| panic!("only = is understood here: {clause}"));
        let path = selector
            .trim()
            .strip_prefix("$.")
            .unwrap_or_else(|| panic!("a selector starts with $.: {clause}"));
        let expected = value
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("only quoted strings are understood here: {clause}"));
        assert!(!expected.contains('*'), "no wildcards here: {clause}");
        path.split('.')
            .try_fold(&json, |node, key| node.get(key))
            .and_then(Json::as_str)
            == Some(expected)
    })
}

fn filter_pattern<'a>(template: &'a Value, filter: &str) -> (&'a str, &'a Value) {
    let (_, resource) = resources_of_type(template, "AWS::Logs::MetricFilter")
        .into_iter()
        .find(|(name, _)| name == filter)
        .unwrap_or_else(|| panic!("no metric filter {filter}"));
    let properties = get(resource, "Properties").unwrap();
    (
        get(properties, "FilterPattern")
            .and_then(Value::as_str)
            .unwrap(),
        properties,
    )
}

#[test]
fn the_filter_reader_tells_matching_lines_from_others() {
    let pattern = r#"{ $.fields.outcome = "x" && $.level = "WARN" }"#;
    assert!(matches(
        pattern,
        r#"{"level":"WARN","fields":{"outcome":"x"}}"#
    ));
    assert!(!matches(
        pattern,
        r#"{"level":"INFO","fields":{"outcome":"x"}}"#
    ));
    assert!(!matches(pattern, r#"{"level":"WARN","fields":{}}"#));
    assert!(!matches(pattern, "not json"));
}

/// Collects what the JSON layer writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Timers whose Scheduler endpoint is a local port nobody listens on.
fn unreachable_timers() -> SchedulerTimers {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = aws_sdk_scheduler::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    SchedulerTimers::new(
        aws_sdk_scheduler::Client::from_conf(config),
        SchedulerConfig {
            group: "support-sla-timers".to_owned(),
            target_arn: "arn:aws:lambda:eu-central-1:123456789012:function:support-sla-escalate"
                .to_owned(),
            role_arn: "arn:aws:iam::123456789012:role/support-sla-scheduler".to_owned(),
            dead_letter_arn: "arn:aws:sqs:eu-central-1:123456789012:dlq".to_owned(),
        },
    )
}

#[tokio::test]
async fn the_timers_not_applied_filters_count_the_line_a_failed_schedule_writes() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::registry().with(lambda::json_layer(move || writer.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let timers = unreachable_timers();
    let case = CaseId::parse("zendesk-5158").unwrap();
    let at = "2026-12-01T09:00:30Z".parse().unwrap();
    assert!(
        timers
            .schedule(&case, TimerKind::Dispatch, at, false)
            .await
            .is_err()
    );
    assert!(timers.cancel(&case, TimerKind::Dispatch).await.is_err());
    // An applied timer's line must not count.
    tracing::info!(case_id = "zendesk-5158", outcome = "fired", "timer handled");

    let template = template();
    let filters: Vec<(String, &Value)> = resources_of_type(&template, "AWS::Logs::MetricFilter")
        .into_iter()
        .filter(|(name, _)| name.ends_with("TimersNotAppliedFilter"))
        .collect();
    // One per function log group: every function builds the engine, so every one moves timers.
    let groups: Vec<String> = filters
        .iter()
        .map(|(_, filter)| {
            let group = get(get(filter, "Properties").unwrap(), "LogGroupName").unwrap();
            format!("{group:?}")
        })
        .collect();
    for function in [
        "ZendeskWebhookLogGroup",
        "IntercomWebhookLogGroup",
        "VoicemailWebhookLogGroup",
        "EscalateLogGroup",
        "SweepLogGroup",
    ] {
        assert!(
            groups.iter().any(|group| group.contains(function)),
            "no timers-not-applied filter on {function}: {groups:?}"
        );
    }

    let lines = captured.lines();
    for (name, _) in &filters {
        let (pattern, properties) = filter_pattern(&template, name);
        assert!(pattern.contains(TIMER_NOT_APPLIED), "{name}: {pattern}");
        let counted: Vec<&String> = lines.iter().filter(|line| matches(pattern, line)).collect();
        assert_eq!(
            counted.len(),
            2,
            "{name}: the failed create and the failed delete, nothing else: {lines:#?}"
        );
        assert!(
            counted
                .iter()
                .all(|line| line.contains("zendesk-5158.dispatch"))
        );
        let metric = &get(properties, "MetricTransformations")
            .and_then(Value::as_sequence)
            .unwrap()[0];
        assert_eq!(
            get(metric, "MetricName").and_then(Value::as_str),
            Some("TimersNotApplied")
        );
    }
    let (_, alarm) = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .find(|(name, _)| name == "TimersNotAppliedAlarm")
        .expect("an alarm on TimersNotApplied");
    assert_eq!(
        get(get(alarm, "Properties").unwrap(), "MetricName").and_then(Value::as_str),
        Some("TimersNotApplied")
    );
}

/// The access log line API Gateway writes for a request, from the stage's own `Format`.
fn access_log_line(template: &Value, route_key: &str, status: u16) -> String {
    let (_, stage) = resources_of_type(template, "AWS::ApiGatewayV2::Stage")
        .pop()
        .unwrap();
    let format = get(
        get(get(stage, "Properties").unwrap(), "AccessLogSettings").unwrap(),
        "Format",
    )
    .and_then(Value::as_str)
    .unwrap();
    let line = format
        .replace("$context.routeKey", route_key)
        .replace("$context.status", &status.to_string())
        .replace("$context.requestId", "JkHgVgKKFiAEJdg=")
        .replace("$context.responseLatency", "41")
        .replace("$context.integrationStatus", "200")
        .replace("$context.integrationErrorMessage", "-")
        .replace("$context.identity.sourceIp", "203.0.113.7")
        .replace("$context.identity.userAgent", "Zendesk Webhook");
    assert!(!line.contains("$context"), "unknown variable left: {line}");
    line
}

#[test]
fn each_providers_unauthorized_filter_counts_its_own_401s_only() {
    let template = template();
    let routes = [
        ("ZendeskUnauthorizedFilter", "POST /webhooks/zendesk"),
        ("IntercomUnauthorizedFilter", "POST /webhooks/intercom"),
        (
            "TwilioUnauthorizedFilter",
            "POST /webhooks/twilio/recording",
        ),
        ("PagerDutyUnauthorizedFilter", "POST /webhooks/pagerduty"),
        (
            "TwilioVoiceUnauthorizedFilter",
            "POST /webhooks/twilio/voice",
        ),
        (
            "TwilioRecordActionUnauthorizedFilter",
            "POST /webhooks/twilio/voice/goodbye",
        ),
    ];
    for (filter, route) in routes {
        let (pattern, properties) = filter_pattern(&template, filter);
        assert!(
            format!("{:?}", get(properties, "LogGroupName").unwrap())
                .contains("HttpApiAccessLogGroup"),
            "{filter} reads the API's access log"
        );
        assert!(
            matches(pattern, &access_log_line(&template, route, 401)),
            "{filter}"
        );
        for status in [202, 200, 400, 413, 503] {
            assert!(
                !matches(pattern, &access_log_line(&template, route, status)),
                "{filter} counted {status}"
            );
        }
        for (_, other) in routes.iter().filter(|(_, other)| *other != route) {
            assert!(
                !matches(pattern, &access_log_line(&template, other, 401)),
                "{filter} counted {other}"
            );
        }
        let metric = &get(properties, "MetricTransformations")
            .and_then(Value::as_sequence)
            .unwrap()[0];
        let metric = get(metric, "MetricName").and_then(Value::as_str).unwrap();
        let alarmed = resources_of_type(&template, "AWS::CloudWatch::Alarm")
            .into_iter()
            .any(|(_, alarm)| {
                get(get(alarm, "Properties").unwrap(), "MetricName").and_then(Value::as_str)
                    == Some(metric)
            });
        assert!(alarmed, "no alarm on {metric}");
    }
}

#[test]
fn the_readme_runbook_explains_every_alarm() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let runbook = readme
        .split_once("### Alarms runbook")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .expect("README has a section \"### Alarms runbook\"");
    let template = template();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 15, "{}", alarms.len());
    let missing: Vec<&String> = alarms
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !runbook.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "alarms the runbook does not explain: {missing:?}"
    );
}

/// The alarms on a metric of `namespace`/`metric` whose dimension `name` is `!Ref`/`!GetAtt`
/// of `resource`.
fn alarms_on(template: &Value, namespace: &str, metric: &str, resource: &str) -> Vec<String> {
    resources_of_type(template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, alarm)| {
            let properties = get(alarm, "Properties").unwrap();
            get(properties, "Namespace").and_then(Value::as_str) == Some(namespace)
                && get(properties, "MetricName").and_then(Value::as_str) == Some(metric)
                && format!("{:?}", get(properties, "Dimensions")).contains(resource)
        })
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn every_function_has_an_errors_alarm_and_deliver_one_on_its_stream_lag() {
    let template = template();
    let functions = resources_of_type(&template, "AWS::Serverless::Function");
    assert!(functions.iter().any(|(name, _)| name == "DeliverFunction"));
    for (function, _) in &functions {
        assert_eq!(
            alarms_on(&template, "AWS/Lambda", "Errors", function).len(),
            1,
            "{function} has no Errors alarm"
        );
    }
    let lag = alarms_on(&template, "AWS/Lambda", "IteratorAge", "DeliverFunction");
    assert_eq!(lag, vec![String::from("DeliverIteratorAgeAlarm")]);
    let (_, alarm) = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .find(|(name, _)| name == "DeliverIteratorAgeAlarm")
        .unwrap();
    let properties = get(alarm, "Properties").unwrap();
    assert_eq!(
        get(properties, "Statistic").and_then(Value::as_str),
        Some("Maximum")
    );
    // IteratorAge is in milliseconds: alarm before the sweep's five minutes pass twice.
    let threshold = get(properties, "Threshold")
        .and_then(Value::as_u64)
        .unwrap();
    assert!((60_000..=600_000).contains(&threshold), "{threshold}");
    assert_eq!(
        alarms_on(
            &template,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "DeliverFailureQueue"
        )
        .len(),
        1,
        "the deliver failure queue is alarmed"
    );
}
