//! The metric alarms and the dashboard of `template.yaml` against the metrics the code really
//! emits: every `support-sla` metric they name, with the dimensions they name, is published by
//! an EMF line that `lambda::emf::EmfMetrics` writes (a name or dimension set that the code
//! does not emit would be an alarm that can never fire, a graph that stays empty).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::ports::metrics::{ClockDecided, ClockOutcome, DeliveryMetric};
use app::ports::{Destination, ManualClock, Metrics, WebhookOutcome};
use domain::Timestamp;
use domain::policy::{Plan, Priority};
use lambda::emf::{EmfMetrics, NAMESPACE};
use serde_json::Value as Json;
use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn template() -> Value {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"));
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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

/// One published series: metric name, dimension names (sorted) and their values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    metric: String,
    dimensions: Vec<(String, String)>,
}

/// Every series the EMF lines of one of each figure publish: a webhook of each outcome, a
/// breach and a met clock, a delivery of each outcome.
fn emitted() -> BTreeSet<Series> {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let metrics = EmfMetrics::with_sink(
        Arc::new(ManualClock::new(
            Timestamp::from_second(1_764_547_200).unwrap(),
        )),
        Box::new(move |line| sink.lock().unwrap().push(line.to_owned())),
    );
    for outcome in WebhookOutcome::ALL {
        metrics.webhook("zendesk", outcome, Duration::from_millis(20));
    }
    for (outcome, lateness) in [
        (ClockOutcome::Breached, Some(Duration::from_secs(70))),
        (ClockOutcome::Met, None),
        (ClockOutcome::MetLate, None),
    ] {
        metrics.clock_decided(&ClockDecided {
            clock: "first_response",
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            outcome,
            lateness,
        });
    }
    for outcome in [
        DeliveryMetric::Sent,
        DeliveryMetric::Retry,
        DeliveryMetric::Failed,
    ] {
        metrics.delivery(Destination::PagerDuty, outcome, Duration::from_secs(3));
    }
    let lines = lines.lock().unwrap();
    let mut series = BTreeSet::new();
    for line in lines.iter() {
        let document: Json = serde_json::from_str(line).unwrap();
        for directive in document["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], NAMESPACE);
            for metric in directive["Metrics"].as_array().unwrap() {
                for set in directive["Dimensions"].as_array().unwrap() {
                    let mut dimensions: Vec<(String, String)> = set
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|key| {
                            let key = key.as_str().unwrap();
                            (key.to_owned(), document[key].as_str().unwrap().to_owned())
                        })
                        .collect();
                    dimensions.sort();
                    series.insert(Series {
                        metric: metric["Name"].as_str().unwrap().to_owned(),
                        dimensions,
                    });
                }
            }
        }
    }
    series
}

/// Whether some emitted series has `metric` with exactly the dimension names of `wanted`, and
/// the given value wherever `wanted` names one.
fn published(
    emitted: &BTreeSet<Series>,
    metric: &str,
    wanted: &[(String, Option<String>)],
) -> bool {
    emitted.iter().any(|series| {
        series.metric == metric
            && series.dimensions.len() == wanted.len()
            && wanted.iter().all(|(name, value)| {
                series
                    .dimensions
                    .iter()
                    .any(|(n, v)| n == name && value.as_ref().is_none_or(|value| value == v))
            })
    })
}

#[test]
fn every_metric_alarm_names_a_series_the_functions_emit() {
    let template = template();
    let emitted = emitted();
    let alarms: Vec<_> = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, alarm)| {
            let properties = get(alarm, "Properties").unwrap();
            get(properties, "Namespace").and_then(Value::as_str) == Some(NAMESPACE)
                && get(properties, "MetricName")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.starts_with("support_sla_"))
        })
        .collect();
    let names: Vec<&str> = alarms.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.contains(&"DeadlineLatenessAlarm"), "{names:?}");
    assert!(names.contains(&"FailedDeliveriesAlarm"), "{names:?}");
    for (name, alarm) in alarms {
        let properties = get(alarm, "Properties").unwrap();
        let metric = get(properties, "MetricName")
            .and_then(Value::as_str)
            .unwrap();
        let dimensions: Vec<(String, Option<String>)> = get(properties, "Dimensions")
            .and_then(Value::as_sequence)
            .map(|dimensions| {
                dimensions
                    .iter()
                    .map(|d| {
                        let name = get(d, "Name").and_then(Value::as_str).unwrap().to_owned();
                        let value = get(d, "Value").and_then(Value::as_str).unwrap().to_owned();
                        (name, Some(value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            published(&emitted, metric, &dimensions),
            "{name}: {metric} {dimensions:?} is not emitted; emitted: {emitted:#?}"
        );
    }
}

/// The dashboard body with `${AWS::Region}` put in, as JSON.
fn dashboard_body(template: &Value) -> Json {
    let dashboards = resources_of_type(template, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard");
    let body = get(get(dashboards[0].1, "Properties").unwrap(), "DashboardBody").unwrap();
    let text = get(body, "Fn::Sub")
        .and_then(Value::as_str)
        .or_else(|| body.as_str())
        .map(str::to_owned)
        .or_else(|| {
            // `!Sub |` parses as a tagged value.
            match body {
                Value::Tagged(tagged) => tagged.value.as_str().map(str::to_owned),
                _ => None,
            }
        })
        .expect("a DashboardBody string");
    serde_json::from_str(&text.replace("${AWS::Region}", "eu-central-1"))
        .unwrap_or_else(|error| panic!("the dashboard body is not JSON: {error}\n{text}"))
}

/// A `SEARCH('{namespace,dim,...} MetricName="name" dim="value"', ...)` expression's metric,
/// and its dimension names with the values it fixes.
fn search_target(expression: &str) -> (String, String, Vec<(String, Option<String>)>) {
    let query = expression
        .strip_prefix("SEARCH('")
        .and_then(|rest| rest.split_once("',"))
        .map(|(query, _)| query)
        .unwrap_or_else(|| panic!("not a SEARCH expression: {expression}"));
    let schema = query
        .strip_prefix('{')
        .and_then(|rest| rest.split_once('}'))
        .unwrap_or_else(|| panic!("no schema in {expression}"));
    let mut names = schema.0.split(',').map(str::trim);
    let namespace = names.next().unwrap().to_owned();
    let mut dimensions: Vec<(String, Option<String>)> =
        names.map(|name| (name.to_owned(), None)).collect();
    let mut metric = None;
    for term in schema.1.split_whitespace() {
        let (key, value) = term.split_once('=').unwrap();
        let value = value.trim_matches('"').to_owned();
        if key == "MetricName" {
            metric = Some(value);
        } else {
            let slot = dimensions
                .iter_mut()
                .find(|(name, _)| name == key)
                .unwrap_or_else(|| panic!("{key} is not in the schema of {expression}"));
            slot.1 = Some(value);
        }
    }
    (namespace, metric.expect("a MetricName"), dimensions)
}

#[test]
fn every_dashboard_graph_shows_a_series_the_functions_emit() {
    let template = template();
    let emitted = emitted();
    let body = dashboard_body(&template);
    let mut graphs = 0;
    for widget in body["widgets"].as_array().unwrap() {
        for row in widget["properties"]["metrics"].as_array().unwrap() {
            let row = row.as_array().unwrap();
            if let Some(expression) = row[0].get("expression").and_then(Json::as_str) {
                let (namespace, metric, dimensions) = search_target(expression);
                assert_eq!(namespace, NAMESPACE);
                assert!(
                    published(&emitted, &metric, &dimensions),
                    "{expression}: not emitted; emitted: {emitted:#?}"
                );
            } else {
                // [namespace, metric, (dimension name, value)..., options]
                assert_eq!(row[0], NAMESPACE);
                let metric = row[1].as_str().unwrap();
                let pairs: Vec<&str> = row[2..].iter().filter_map(Json::as_str).collect();
                let dimensions: Vec<(String, Option<String>)> = pairs
                    .chunks(2)
                    .map(|pair| (pair[0].to_owned(), Some(pair[1].to_owned())))
                    .collect();
                assert!(
                    published(&emitted, metric, &dimensions),
                    "{metric} {dimensions:?}: not emitted; emitted: {emitted:#?}"
                );
            }
            graphs += 1;
        }
    }
    assert_eq!(
        graphs, 6,
        "webhooks, lateness, breaches, deliveries, outbox age p99 and max"
    );
}

#[test]
fn the_search_reader_finds_metric_dimensions_and_fixed_values() {
    let (namespace, metric, dimensions) = search_target(
        "SEARCH('{support-sla,priority,outcome} MetricName=\"m\" outcome=\"breached\"', 'Sum', 3600)",
    );
    assert_eq!((namespace.as_str(), metric.as_str()), ("support-sla", "m"));
    assert_eq!(
        dimensions,
        [
            ("priority".to_owned(), None),
            ("outcome".to_owned(), Some("breached".to_owned()))
        ]
    );
}
