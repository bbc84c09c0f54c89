//! The metrics port on Lambda: CloudWatch Embedded Metric Format (EMF) log lines. Each figure
//! is one JSON line on stdout, which Lambda sends to the function's log group, where
//! CloudWatch extracts the metrics from the `_aws` metadata: no API call at run time, no
//! extra permission.
//!
//! The names are those of `GET /metrics` (README, "Metrics"); the dimension sets are chosen
//! for the dashboard and alarms of `template.yaml` (a metric is one series per dimension set,
//! so each roll-up an alarm needs, like every clock's lateness together, is a set of its own).
//! Specification: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use app::ports::metrics::{ClockDecided, DeliveryMetric, destination_label};
use app::ports::{Clock, Destination, Metrics, WebhookOutcome};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// The CloudWatch namespace of every metric of the stack, the log metric filters' too.
pub const NAMESPACE: &str = "support-sla";

pub const WEBHOOKS: &str = "support_sla_webhooks_total";
pub const WEBHOOK_DURATION: &str = "support_sla_webhook_duration_seconds";
pub const DEADLINE_LATENESS: &str = "support_sla_deadline_lateness_seconds";
pub const CLOCK_OUTCOMES: &str = "support_sla_clock_outcomes_total";
pub const DELIVERIES: &str = "support_sla_deliveries_total";
pub const DELIVERY_AGE: &str = "support_sla_delivery_age_seconds";

/// Where the lines go: stdout in a function, a buffer in tests.
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

/// [`Metrics`] as EMF lines.
pub struct EmfMetrics {
    clock: Arc<dyn Clock>,
    sink: Sink,
}

impl std::fmt::Debug for EmfMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmfMetrics").finish_non_exhaustive()
    }
}

impl EmfMetrics {
    /// Lines on stdout, each written whole under the lock, so they never interleave with the
    /// log lines of other tasks.
    pub fn stdout(clock: Arc<dyn Clock>) -> Self {
        Self::with_sink(
            clock,
            Box::new(|line| {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(format!("{line}\n").as_bytes());
                let _ = out.flush();
            }),
        )
    }

    pub fn with_sink(clock: Arc<dyn Clock>, sink: Sink) -> Self {
        Self { clock, sink }
    }

    fn emit(&self, document: Value) {
        (self.sink)(&document.to_string());
    }

    fn timestamp_millis(&self) -> i64 {
        self.clock.now().as_millisecond()
    }
}

/// One metric: its name, unit, value and the dimension sets it is published under.
struct Figure<'a> {
    name: &'static str,
    unit: &'static str,
    value: f64,
    dimension_sets: &'a [&'a [&'static str]],
}

/// An EMF document: the dimension values and metric values as root members, one metric
/// directive per figure (each names its own dimension sets).
fn document(timestamp_ms: i64, dimensions: &[(&str, &str)], figures: &[Figure<'_>]) -> Value {
    let mut root = Map::new();
    for (key, value) in dimensions {
        root.insert((*key).to_owned(), Value::from(*value));
    }
    let directives: Vec<Value> = figures
        .iter()
        .map(|figure| {
            root.insert(figure.name.to_owned(), json!(figure.value));
            json!({
                "Namespace": NAMESPACE,
                "Dimensions": figure.dimension_sets,
                "Metrics": [{ "Name": figure.name, "Unit": figure.unit }],
            })
        })
        .collect();
    root.insert(
        "_aws".to_owned(),
        json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": directives }),
    );
    Value::Object(root)
}

impl Metrics for EmfMetrics {
    fn webhook(&self, provider: &'static str, outcome: WebhookOutcome, elapsed: Duration) {
        self.emit(document(
            self.timestamp_millis(),
            &[("provider", provider), ("outcome", outcome.as_str())],
            &[
                Figure {
                    name: WEBHOOKS,
                    unit: "Count",
                    value: 1.0,
                    dimension_sets: &[&["provider", "outcome"]],
                },
                Figure {
                    name: WEBHOOK_DURATION,
                    unit: "Seconds",
                    value: elapsed.as_secs_f64(),
                    dimension_sets: &[&["provider"]],
                },
            ],
        ));
    }

    fn clock_decided(&self, decided: &ClockDecided) {
        let mut figures = vec![Figure {
            name: CLOCK_OUTCOMES,
            unit: "Count",
            value: 1.0,
            dimension_sets: &[
                &["clock", "plan", "priority", "outcome"],
                &["priority", "outcome"],
            ],
        }];
        if let Some(lateness) = decided.lateness {
            figures.push(Figure {
                name: DEADLINE_LATENESS,
                unit: "Seconds",
                value: lateness.as_secs_f64(),
                // Per clock, and every clock together (what the alarm watches).
                dimension_sets: &[&["clock"], &[]],
            });
        }
        self.emit(document(
            self.timestamp_millis(),
            &[
                ("clock", decided.clock),
                ("plan", decided.plan.as_str()),
                ("priority", decided.priority.as_str()),
                ("outcome", decided.outcome.as_str()),
            ],
            &figures,
        ));
    }

    fn delivery(&self, destination: Destination, outcome: DeliveryMetric, age: Duration) {
        self.emit(document(
            self.timestamp_millis(),
            &[
                ("destination", destination_label(destination)),
                ("outcome", outcome.as_str()),
            ],
            &[
                Figure {
                    name: DELIVERIES,
                    unit: "Count",
                    value: 1.0,
                    // Per destination, and per outcome alone (the failed-deliveries alarm).
                    dimension_sets: &[&["destination", "outcome"], &["outcome"]],
                },
                Figure {
                    name: DELIVERY_AGE,
                    unit: "Seconds",
                    value: age.as_secs_f64(),
                    dimension_sets: &[&["destination"], &[]],
                },
            ],
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use app::ports::ManualClock;
    use app::ports::metrics::ClockOutcome;
    use domain::Timestamp;
    use domain::policy::{Plan, Priority};
    use std::sync::Mutex;

    /// The units the specification allows.
    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];

    /// Check one line against the EMF specification's document structure: a JSON object with
    /// `_aws.Timestamp` (epoch milliseconds) and `_aws.CloudWatchMetrics` (directives with a
    /// `Namespace`, `Dimensions` as arrays of at most 30 keys, each a string member of the
    /// root, and at most 100 `Metrics`, each a `Name` whose root member is a number or an
    /// array of at most 100 numbers, and a known `Unit`). Returns the document.
    fn valid_emf(line: &str) -> Value {
        assert!(!line.contains('\n'), "one line: {line}");
        let document: Value = serde_json::from_str(line).unwrap();
        let root = document
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {line}"));
        let aws = root["_aws"].as_object().unwrap();
        assert!(aws["Timestamp"].as_i64().is_some_and(|ms| ms > 0), "{line}");
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert!(!directives.is_empty(), "{line}");
        for directive in directives {
            let directive = directive.as_object().unwrap();
            let namespace = directive["Namespace"].as_str().unwrap();
            assert!((1..=255).contains(&namespace.len()), "{line}");
            for set in directive["Dimensions"].as_array().unwrap() {
                let set = set.as_array().unwrap();
                assert!(set.len() <= 30, "{line}");
                for key in set {
                    let key = key.as_str().unwrap();
                    assert!(
                        root[key].is_string(),
                        "dimension {key} has no string value: {line}"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().unwrap();
            assert!((1..=100).contains(&metrics.len()), "{line}");
            for metric in metrics {
                let name = metric["Name"].as_str().unwrap();
                assert!((1..=1024).contains(&name.len()), "{line}");
                match &root[name] {
                    Value::Number(_) => {}
                    Value::Array(values) => {
                        assert!(
                            values.len() <= 100 && values.iter().all(Value::is_number),
                            "{line}"
                        );
                    }
                    other => panic!("metric {name} has no numeric value ({other}): {line}"),
                }
                if let Some(unit) = metric.get("Unit") {
                    assert!(UNITS.contains(&unit.as_str().unwrap()), "{line}");
                }
            }
        }
        document
    }

    fn recorder() -> (EmfMetrics, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink_lines = Arc::clone(&lines);
        let clock = Arc::new(ManualClock::new(
            Timestamp::from_second(1_764_547_200).unwrap(),
        ));
        let metrics = EmfMetrics::with_sink(
            clock,
            Box::new(move |line| sink_lines.lock().unwrap().push(line.to_owned())),
        );
        (metrics, lines)
    }

    /// The dimension sets under which `document` publishes `metric`.
    fn dimension_sets(document: &Value, metric: &str) -> Vec<Vec<String>> {
        document["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["Metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["Name"] == metric)
            })
            .flat_map(|d| d["Dimensions"].as_array().unwrap().clone())
            .map(|set| {
                set.as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_webhook_is_one_valid_emf_line_with_its_count_and_duration() {
        let (metrics, lines) = recorder();
        metrics.webhook(
            "zendesk",
            WebhookOutcome::Accepted,
            Duration::from_millis(25),
        );

        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        let document = valid_emf(&lines[0]);
        assert_eq!(document["_aws"]["Timestamp"], 1_764_547_200_000_i64);
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            NAMESPACE
        );
        assert_eq!(document["provider"], "zendesk");
        assert_eq!(document["outcome"], "accepted");
        assert_eq!(document[WEBHOOKS], 1.0);
        assert_eq!(document[WEBHOOK_DURATION], 0.025);
        assert_eq!(
            dimension_sets(&document, WEBHOOKS),
            [["provider", "outcome"]]
        );
    }

    #[test]
    fn a_breach_carries_its_lateness_per_clock_and_for_all_clocks() {
        let (metrics, lines) = recorder();
        metrics.clock_decided(&ClockDecided {
            clock: "first_response",
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            outcome: ClockOutcome::Breached,
            lateness: Some(Duration::from_secs(61)),
        });
        metrics.clock_decided(&ClockDecided {
            clock: "dispatch",
            plan: Plan::Standard,
            priority: Priority::Normal,
            outcome: ClockOutcome::Met,
            lateness: None,
        });

        let lines = lines.lock().unwrap();
        let breach = valid_emf(&lines[0]);
        assert_eq!(breach[DEADLINE_LATENESS], 61.0);
        assert_eq!(breach[CLOCK_OUTCOMES], 1.0);
        assert_eq!(
            (breach["plan"].as_str(), breach["priority"].as_str()),
            (Some("24x7"), Some("urgent"))
        );
        let lateness_sets = dimension_sets(&breach, DEADLINE_LATENESS);
        assert!(
            lateness_sets.contains(&vec!["clock".to_owned()]),
            "{lateness_sets:?}"
        );
        assert!(lateness_sets.contains(&Vec::new()), "{lateness_sets:?}");
        let met = valid_emf(&lines[1]);
        assert_eq!(met["outcome"], "met");
        assert!(
            met.get(DEADLINE_LATENESS).is_none(),
            "a met clock has no lateness: {met}"
        );
    }

    #[test]
    fn a_failed_delivery_is_counted_by_outcome_alone_too() {
        let (metrics, lines) = recorder();
        metrics.delivery(
            Destination::Tickets,
            DeliveryMetric::Failed,
            Duration::from_secs(90),
        );

        let lines = lines.lock().unwrap();
        let document = valid_emf(&lines[0]);
        assert_eq!(document["destination"], "zendesk");
        assert_eq!(document["outcome"], "failed");
        assert_eq!(document[DELIVERY_AGE], 90.0);
        let sets = dimension_sets(&document, DELIVERIES);
        assert!(sets.contains(&vec!["outcome".to_owned()]), "{sets:?}");
    }

    #[test]
    fn the_validator_refuses_a_metric_without_a_value() {
        let broken = json!({
            "_aws": { "Timestamp": 1, "CloudWatchMetrics": [
                { "Namespace": NAMESPACE, "Dimensions": [[]], "Metrics": [{ "Name": "missing" }] }
            ]}
        })
        .to_string();
        assert!(std::panic::catch_unwind(|| valid_emf(&broken)).is_err());
    }
}
