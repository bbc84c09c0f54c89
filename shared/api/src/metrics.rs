//! `GET /metrics`: the Prometheus registry that implements `app::ports::Metrics`, the webhook
//! outcome middleware, and the gauges read from the store at scrape time.
//!
//! The exposition is OpenMetrics text (`prometheus-client`'s only text encoder), which
//! Prometheus negotiates and parses; counters are registered without `_total` and the encoder
//! appends it. Names and labels are a contract (README, "Metrics").

use crate::read_access::{self, ReadAccess};
use crate::{AppState, Deliver};
use app::ports::metrics::{ClockDecided, DeliveryMetric, destination_label};
use app::ports::{
    CaseStore, Destination, GaugeReader, Metrics, StoreGauges, Timers, WebhookOutcome,
};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::Timestamp;
use domain::policy::Plan;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::error;

type Labels<const N: usize> = [(&'static str, &'static str); N];
type HistogramFamily<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

/// The content type of the OpenMetrics text exposition.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The gauges are read from the store at most this often: open cases are counted over every
/// case document, so a scrape storm must not become a store storm.
const GAUGE_REFRESH: Duration = Duration::from_secs(15);

/// The registry behind `GET /metrics`. One per process; cheap to record into.
pub struct PrometheusMetrics {
    registry: Registry,
    webhooks: Family<Labels<2>, Counter>,
    webhook_duration: HistogramFamily<1>,
    lateness: HistogramFamily<1>,
    clock_outcomes: Family<Labels<4>, Counter>,
    deliveries: Family<Labels<2>, Counter>,
    delivery_age: HistogramFamily<1>,
    outbox_pending: Family<Labels<1>, Gauge>,
    outbox_oldest_age: Gauge,
    open_cases: Family<Labels<1>, Gauge>,
    quarantined: Gauge,
    /// When the gauges were last read from the store.
    gauges_read: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for PrometheusMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusMetrics").finish_non_exhaustive()
    }
}

fn webhook_duration_histogram() -> Histogram {
    // 5 ms .. about 10 s
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

fn lateness_histogram() -> Histogram {
    // A timer on time decides within a second or so, the EventBridge Scheduler within a
    // minute, a sweep within five; 60 s is the alarm's threshold (README, "Metrics").
    Histogram::new([
        0.0, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ])
}

fn age_histogram() -> Histogram {
    // 0.1 s .. about 27 h: an item waits from milliseconds (sent at once) to the 24 h limit.
    Histogram::new(exponential_buckets(0.1, 3.0, 14))
}

impl Default for PrometheusMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let webhooks = Family::<Labels<2>, Counter>::default();
        registry.register(
            "support_sla_webhooks",
            "Webhook requests by provider and outcome",
            webhooks.clone(),
        );
        let webhook_duration: HistogramFamily<1> =
            Family::new_with_constructor(webhook_duration_histogram);
        registry.register(
            "support_sla_webhook_duration_seconds",
            "Time to answer a webhook request",
            webhook_duration.clone(),
        );
        let lateness: HistogramFamily<1> = Family::new_with_constructor(lateness_histogram);
        registry.register(
            "support_sla_deadline_lateness_seconds",
            "Time from a deadline to the decision that breached it",
            lateness.clone(),
        );
        let clock_outcomes = Family::<Labels<4>, Counter>::default();
        registry.register(
            "support_sla_clock_outcomes",
            "Clocks met, met late or breached",
            clock_outcomes.clone(),
        );
        let deliveries = Family::<Labels<2>, Counter>::default();
        registry.register(
            "support_sla_deliveries",
            "Delivery attempts by destination and outcome",
            deliveries.clone(),
        );
        let delivery_age: HistogramFamily<1> = Family::new_with_constructor(age_histogram);
        registry.register(
            "support_sla_delivery_age_seconds",
            "Time an outbox item waited from its decision to a delivery attempt",
            delivery_age.clone(),
        );
        let outbox_pending = Family::<Labels<1>, Gauge>::default();
        registry.register(
            "support_sla_outbox_pending",
            "Outbox items waiting for delivery",
            outbox_pending.clone(),
        );
        let outbox_oldest_age = Gauge::default();
        registry.register(
            "support_sla_outbox_oldest_age_seconds",
            "Age of the oldest outbox item waiting for delivery (0 when none waits)",
            outbox_oldest_age.clone(),
        );
        let open_cases = Family::<Labels<1>, Gauge>::default();
        registry.register(
            "support_sla_open_cases",
            "Cases not solved, by plan",
            open_cases.clone(),
        );
        let quarantined = Gauge::default();
        registry.register(
            "support_sla_quarantined_cases",
            "Cases the sweep has set aside",
            quarantined.clone(),
        );
        // Every webhook outcome of every provider from the start, so that a rate over a
        // counter that appears later is not lost.
        for provider in ["zendesk", "intercom", "twilio", "pagerduty"] {
            for outcome in WebhookOutcome::ALL {
                webhooks
                    .get_or_create(&[("provider", provider), ("outcome", outcome.as_str())])
                    .inc_by(0);
            }
        }
        Self {
            registry,
            webhooks,
            webhook_duration,
            lateness,
            clock_outcomes,
            deliveries,
            delivery_age,
            outbox_pending,
            outbox_oldest_age,
            open_cases,
            quarantined,
            gauges_read: Mutex::new(None),
        }
    }

    /// Set the gauges from the store's counts at `now`.
    pub fn set_gauges(&self, gauges: &StoreGauges, now: Timestamp) {
        for destination in Destination::ALL {
            let pending = gauges
                .outbox_pending
                .iter()
                .filter(|(d, _)| *d == destination)
                .map(|(_, n)| *n)
                .sum::<u64>();
            self.outbox_pending
                .get_or_create(&[("destination", destination_label(destination))])
                .set(gauge_value(pending));
        }
        let oldest = gauges
            .oldest_pending
            .map_or(0, |oldest| now.duration_since(oldest).as_secs().max(0));
        self.outbox_oldest_age.set(oldest);
        for plan in Plan::ALL {
            let open = gauges
                .open_cases
                .iter()
                .filter(|(p, _)| p == plan)
                .map(|(_, n)| *n)
                .sum::<u64>();
            self.open_cases
                .get_or_create(&[("plan", plan.as_str())])
                .set(gauge_value(open));
        }
        self.quarantined.set(gauge_value(gauges.quarantined));
    }

    /// The exposition as OpenMetrics text.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Whether the gauges are due to be read again; marks them read if so.
    fn gauges_due(&self) -> bool {
        let Ok(mut read) = self.gauges_read.lock() else {
            return true;
        };
        if read.is_some_and(|at| at.elapsed() < GAUGE_REFRESH) {
            return false;
        }
        *read = Some(Instant::now());
        true
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics for PrometheusMetrics {
    fn webhook(&self, provider: &'static str, outcome: WebhookOutcome, elapsed: Duration) {
        self.webhooks
            .get_or_create(&[("provider", provider), ("outcome", outcome.as_str())])
            .inc();
        self.webhook_duration
            .get_or_create(&[("provider", provider)])
            .observe(elapsed.as_secs_f64());
    }

    fn clock_decided(&self, decided: &ClockDecided) {
        self.clock_outcomes
            .get_or_create(&[
                ("clock", decided.clock),
                ("plan", decided.plan.as_str()),
                ("priority", decided.priority.as_str()),
                ("outcome", decided.outcome.as_str()),
            ])
            .inc();
        if let Some(lateness) = decided.lateness {
            self.lateness
                .get_or_create(&[("clock", decided.clock)])
                .observe(lateness.as_secs_f64());
        }
    }

    fn delivery(&self, destination: Destination, outcome: DeliveryMetric, age: Duration) {
        let destination = destination_label(destination);
        self.deliveries
            .get_or_create(&[("destination", destination), ("outcome", outcome.as_str())])
            .inc();
        self.delivery_age
            .get_or_create(&[("destination", destination)])
            .observe(age.as_secs_f64());
    }
}

/// What `GET /metrics` reads: the registry, the store's counts and who may read.
struct MetricsState<G> {
    metrics: Arc<PrometheusMetrics>,
    gauges: G,
    clock: Arc<dyn app::ports::Clock>,
}

/// `GET /metrics` behind the read token (beyond loopback), like every read.
pub fn metrics_router<G: GaugeReader>(
    metrics: Arc<PrometheusMetrics>,
    gauges: G,
    clock: Arc<dyn app::ports::Clock>,
    access: ReadAccess,
) -> Router {
    Router::new()
        .route("/metrics", get(scrape::<G>))
        .route_layer(middleware::from_fn_with_state(
            access,
            read_access::require_read_access,
        ))
        .with_state(Arc::new(MetricsState {
            metrics,
            gauges,
            clock,
        }))
}

async fn scrape<G: GaugeReader>(State(state): State<Arc<MetricsState<G>>>) -> Response {
    if state.metrics.gauges_due() {
        match state.gauges.gauges().await {
            Ok(gauges) => state.metrics.set_gauges(&gauges, state.clock.now()),
            // The counters are still worth serving; the gauges keep their last values.
            Err(source) => error!(error = %source, "metrics: the store's counts could not be read"),
        }
    }
    match state.metrics.render() {
        Ok(text) => ([(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The provider a webhook path belongs to; `None` for other routes.
fn provider_of(path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/webhooks/")?;
    let name = rest.split('/').next()?;
    ["zendesk", "intercom", "twilio", "pagerduty"]
        .into_iter()
        .find(|provider| *provider == name)
}

/// Middleware of the webhook routes: time each request and report its outcome, from the
/// outcome the route marked on the response or else from its status.
pub(crate) async fn observe_webhook<S: CaseStore, T: Timers, D: Deliver>(
    State(state): State<Arc<AppState<S, T, D>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(provider) = provider_of(request.uri().path()) else {
        return next.run(request).await;
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let outcome = response
        .extensions()
        .get::<WebhookOutcome>()
        .copied()
        .unwrap_or_else(|| WebhookOutcome::of_status(response.status().as_u16()));
    state
        .engine
        .metrics()
        .webhook(provider, outcome, started.elapsed());
    response
}

/// The outcome of a JSON reply: a 200 says in its `status` whether it was a duplicate or
/// ignored (a ping too).
pub(crate) fn reply_outcome(status: StatusCode, body: &Value) -> WebhookOutcome {
    if status == StatusCode::OK {
        match body.get("status").and_then(Value::as_str) {
            Some("duplicate") => return WebhookOutcome::Duplicate,
            Some("ignored" | "ok") => return WebhookOutcome::Ignored,
            _ => {}
        }
    }
    WebhookOutcome::of_status(status.as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::ports::metrics::ClockOutcome;
    use domain::policy::Priority;
    use serde_json::json;

    fn parsed(text: &str) -> prometheus_parse::Scrape {
        let lines = text.lines().map(|line| Ok(line.to_owned()));
        prometheus_parse::Scrape::parse(lines).unwrap()
    }

    fn value_of(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        scrape
            .samples
            .iter()
            .find(|sample| {
                sample.metric == name
                    && labels
                        .iter()
                        .all(|(key, value)| sample.labels.get(key) == Some(*value))
            })
            .map(|sample| match &sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                other => panic!("{name}: not a plain value: {other:?}"),
            })
            .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
    }

    /// The (upper bound, cumulative count) pairs of one histogram series.
    fn buckets(
        scrape: &prometheus_parse::Scrape,
        name: &str,
        label: (&str, &str),
    ) -> Vec<(f64, f64)> {
        scrape
            .samples
            .iter()
            .filter(|sample| sample.metric == name && sample.labels.get(label.0) == Some(label.1))
            .find_map(|sample| match &sample.value {
                prometheus_parse::Value::Histogram(buckets) => {
                    Some(buckets.iter().map(|b| (b.less_than, b.count)).collect())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no histogram {name} {label:?}"))
    }

    #[test]
    fn recorded_figures_come_out_under_the_contracted_names_and_labels() {
        let metrics = PrometheusMetrics::new();
        metrics.webhook(
            "zendesk",
            WebhookOutcome::Accepted,
            Duration::from_millis(12),
        );
        metrics.webhook(
            "zendesk",
            WebhookOutcome::Accepted,
            Duration::from_millis(30),
        );
        metrics.webhook(
            "intercom",
            WebhookOutcome::Unauthorized,
            Duration::from_millis(1),
        );
        metrics.clock_decided(&ClockDecided {
            clock: "dispatch",
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            outcome: ClockOutcome::Breached,
            lateness: Some(Duration::from_secs(3)),
        });
        metrics.delivery(
            Destination::Tickets,
            DeliveryMetric::Failed,
            Duration::from_secs(2),
        );
        let now = Timestamp::from_second(1_000_000).unwrap();
        metrics.set_gauges(
            &StoreGauges {
                outbox_pending: vec![(Destination::Slack, 4)],
                oldest_pending: Some(Timestamp::from_second(999_940).unwrap()),
                open_cases: vec![(Plan::Standard, 7)],
                quarantined: 2,
            },
            now,
        );

        let text = metrics.render().unwrap();
        let scrape = parsed(&text);
        let accepted = [("provider", "zendesk"), ("outcome", "accepted")];
        assert_eq!(
            value_of(&scrape, "support_sla_webhooks_total", &accepted),
            2.0
        );
        let refused = [("provider", "intercom"), ("outcome", "unauthorized")];
        assert_eq!(
            value_of(&scrape, "support_sla_webhooks_total", &refused),
            1.0
        );
        let never = [("provider", "twilio"), ("outcome", "unavailable")];
        assert_eq!(value_of(&scrape, "support_sla_webhooks_total", &never), 0.0);
        let breach = [
            ("clock", "dispatch"),
            ("plan", "24x7"),
            ("priority", "urgent"),
            ("outcome", "breached"),
        ];
        assert_eq!(
            value_of(&scrape, "support_sla_clock_outcomes_total", &breach),
            1.0
        );
        let failed = [("destination", "zendesk"), ("outcome", "failed")];
        assert_eq!(
            value_of(&scrape, "support_sla_deliveries_total", &failed),
            1.0
        );
        let slack = [("destination", "slack")];
        assert_eq!(value_of(&scrape, "support_sla_outbox_pending", &slack), 4.0);
        let pagerduty = [("destination", "pagerduty")];
        assert_eq!(
            value_of(&scrape, "support_sla_outbox_pending", &pagerduty),
            0.0
        );
        assert_eq!(
            value_of(&scrape, "support_sla_outbox_oldest_age_seconds", &[]),
            60.0
        );
        assert_eq!(
            value_of(&scrape, "support_sla_open_cases", &[("plan", "12x5")]),
            7.0
        );
        assert_eq!(
            value_of(&scrape, "support_sla_open_cases", &[("plan", "24x7")]),
            0.0
        );
        assert_eq!(value_of(&scrape, "support_sla_quarantined_cases", &[]), 2.0);

        // The histograms: a lateness of 3 s lies in the 5 s bucket, not in the 2 s one.
        let lateness = buckets(
            &scrape,
            "support_sla_deadline_lateness_seconds",
            ("clock", "dispatch"),
        );
        assert!(lateness.contains(&(2.0, 0.0)), "{lateness:?}");
        assert!(lateness.contains(&(5.0, 1.0)), "{lateness:?}");
        assert!(lateness.contains(&(60.0, 1.0)), "{lateness:?}");
        let duration = buckets(
            &scrape,
            "support_sla_webhook_duration_seconds",
            ("provider", "zendesk"),
        );
        assert_eq!(
            duration.last().map(|(_, count)| *count),
            Some(2.0),
            "{duration:?}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn a_reply_of_200_is_told_apart_by_its_status_field() {
        let ok = StatusCode::OK;
        assert_eq!(
            reply_outcome(ok, &json!({"status": "duplicate"})),
            WebhookOutcome::Duplicate
        );
        assert_eq!(
            reply_outcome(ok, &json!({"status": "ignored"})),
            WebhookOutcome::Ignored
        );
        assert_eq!(
            reply_outcome(ok, &json!({"status": "ok"})),
            WebhookOutcome::Ignored
        );
        assert_eq!(
            reply_outcome(StatusCode::ACCEPTED, &json!({"status": "accepted"})),
            WebhookOutcome::Accepted
        );
        assert_eq!(
            reply_outcome(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({"error": "undecidable"})
            ),
            WebhookOutcome::BadRequest
        );
    }

    #[test]
    fn only_webhook_paths_name_a_provider() {
        assert_eq!(provider_of("/webhooks/zendesk"), Some("zendesk"));
        assert_eq!(
            provider_of("/webhooks/twilio/voice/goodbye"),
            Some("twilio")
        );
        assert_eq!(provider_of("/webhooks/pagerduty"), Some("pagerduty"));
        assert_eq!(provider_of("/webhooks/unknown"), None);
        assert_eq!(provider_of("/metrics"), None);
        assert_eq!(provider_of("/healthz"), None);
    }
}
