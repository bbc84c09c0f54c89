//! The metrics port: the engine and the webhook routes tell an observer what happened, at the
//! points where an outcome is known; each runtime records it its own way (a Prometheus
//! registry behind `GET /metrics` locally, CloudWatch Embedded Metric Format log lines on
//! Lambda). The names and labels are a contract (README, "Metrics"); they live here so that
//! both runtimes spell them alike.

use crate::ports::{DeliveryOutcome, Destination, StoreError};
use domain::Timestamp;
use domain::case::{Case, ClockState, ClockStatus, TimerKind};
use domain::policy::{Plan, Priority};
use std::future::Future;
use std::time::Duration;

/// How a webhook request ended, as `support_sla_webhooks_total{outcome}` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookOutcome {
    /// Stored (202), or a voice call answered with its prompt.
    Accepted,
    /// Every event of the request was applied before (200).
    Duplicate,
    /// Authentic, but nothing to track: an event type we do not follow, a ping (200).
    Ignored,
    /// Signature missing or wrong (401).
    Unauthorized,
    /// Refused for what it is: method, size, media type, body, an undecidable event (4xx).
    BadRequest,
    /// Not stored now; the provider retries (5xx: store unavailable, provider not configured).
    Unavailable,
}

impl WebhookOutcome {
    pub const ALL: [WebhookOutcome; 6] = [
        WebhookOutcome::Accepted,
        WebhookOutcome::Duplicate,
        WebhookOutcome::Ignored,
        WebhookOutcome::Unauthorized,
        WebhookOutcome::BadRequest,
        WebhookOutcome::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Accepted => "accepted",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Ignored => "ignored",
            WebhookOutcome::Unauthorized => "unauthorized",
            WebhookOutcome::BadRequest => "bad_request",
            WebhookOutcome::Unavailable => "unavailable",
        }
    }

    /// The outcome an HTTP status stands for; a 200 is `Accepted` unless the route says
    /// otherwise (a duplicate or an ignored event also answer 200).
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => WebhookOutcome::Accepted,
            401 | 403 => WebhookOutcome::Unauthorized,
            500..=599 => WebhookOutcome::Unavailable,
            _ => WebhookOutcome::BadRequest,
        }
    }
}

/// How a clock ended, as `support_sla_clock_outcomes_total{outcome}` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClockOutcome {
    Met,
    MetLate,
    Breached,
}

impl ClockOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockOutcome::Met => "met",
            ClockOutcome::MetLate => "met_late",
            ClockOutcome::Breached => "breached",
        }
    }
}

/// One clock that reached an outcome in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockDecided {
    /// The clock's name (`dispatch`, `first_response`, `chat_fallback`).
    pub clock: &'static str,
    pub plan: Plan,
    pub priority: Priority,
    pub outcome: ClockOutcome,
    /// For a breach: from the deadline to the decision that breached it (how late the page
    /// went out). `None` for a met clock.
    pub lateness: Option<Duration>,
}

/// The clocks of a case before a decision, to tell afterwards which of them reached an
/// outcome in it. Copies of three small values: cheap enough for every decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClockSnapshot {
    clocks: [Option<ClockState>; 4],
    /// The follow-up round: a new round is a new next-response clock.
    round: Option<u32>,
}

const CLOCKS: [TimerKind; 4] = [
    TimerKind::Dispatch,
    TimerKind::FirstResponse,
    TimerKind::ChatFallback,
    TimerKind::NextResponse,
];

fn round(case: &Case) -> Option<u32> {
    case.next_response.as_ref().map(|next| next.round)
}

impl ClockSnapshot {
    /// The clocks of `case`, or none for a new case.
    pub fn of(case: Option<&Case>) -> Self {
        let mut clocks = [None; 4];
        if let Some(case) = case {
            for (slot, kind) in clocks.iter_mut().zip(CLOCKS) {
                *slot = case.clock(kind).copied();
            }
        }
        Self {
            clocks,
            round: case.and_then(round),
        }
    }

    /// The clocks whose status moved to met, met late or breached between this snapshot and
    /// `after`, decided at `now`.
    pub fn decided(&self, after: &Case, now: Timestamp) -> Vec<ClockDecided> {
        let mut decided = Vec::new();
        for (before, kind) in self.clocks.iter().zip(CLOCKS) {
            let Some(clock) = after.clock(kind) else {
                continue;
            };
            let new_round = kind == TimerKind::NextResponse && self.round != round(after);
            let was = match before {
                Some(before) if !new_round => before.status(),
                _ => ClockStatus::Pending,
            };
            let outcome = match clock.status() {
                status if status == was => continue,
                ClockStatus::Met => ClockOutcome::Met,
                ClockStatus::MetLate => ClockOutcome::MetLate,
                ClockStatus::Breached => ClockOutcome::Breached,
                ClockStatus::Pending | ClockStatus::Cancelled => continue,
            };
            let lateness = (outcome == ClockOutcome::Breached).then(|| {
                Duration::try_from(now.duration_since(clock.due)).unwrap_or(Duration::ZERO)
            });
            decided.push(ClockDecided {
                clock: kind.as_str(),
                plan: after.request.plan,
                priority: after.request.priority,
                outcome,
                lateness,
            });
        }
        decided
    }
}

/// How a delivery attempt ended, as `support_sla_deliveries_total{outcome}` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryMetric {
    Sent,
    Retry,
    Failed,
}

impl DeliveryMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMetric::Sent => "sent",
            DeliveryMetric::Retry => "retry",
            DeliveryMetric::Failed => "failed",
        }
    }

    /// `None` for an effect not sent because its destination is not configured: nothing was
    /// attempted, so nothing is counted.
    pub fn of(outcome: &DeliveryOutcome) -> Option<Self> {
        match outcome {
            DeliveryOutcome::Delivered { .. } => Some(DeliveryMetric::Sent),
            DeliveryOutcome::RetryAt { .. } => Some(DeliveryMetric::Retry),
            DeliveryOutcome::Failed { .. } => Some(DeliveryMetric::Failed),
            DeliveryOutcome::NotSent { .. } => None,
        }
    }
}

/// The receiver as the metrics name it: the system, not our internal lane (`tickets` is
/// Zendesk, the chat reply goes to Intercom, SLA events to their subscribers).
pub fn destination_label(destination: Destination) -> &'static str {
    match destination {
        Destination::PagerDuty => "pagerduty",
        Destination::Slack => "slack",
        Destination::Email => "email",
        Destination::Tickets => "zendesk",
        Destination::Chat => "intercom",
        Destination::Events => "events",
    }
}

/// What the engine and the routes report. Every method is cheap and never fails: recording
/// a figure must not hold up or break the work it describes.
pub trait Metrics: Send + Sync + 'static {
    /// A webhook request of `provider` ended with `outcome` after `elapsed`.
    fn webhook(&self, provider: &'static str, outcome: WebhookOutcome, elapsed: Duration);
    /// A clock reached an outcome in a stored decision.
    fn clock_decided(&self, decided: &ClockDecided);
    /// A delivery attempt to `destination` ended; `age` is how long the item had waited in
    /// the outbox since it was decided.
    fn delivery(&self, destination: Destination, outcome: DeliveryMetric, age: Duration);
}

/// Records nothing: the default of an engine built without metrics (tests, tools).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn webhook(&self, _: &'static str, _: WebhookOutcome, _: Duration) {}
    fn clock_decided(&self, _: &ClockDecided) {}
    fn delivery(&self, _: Destination, _: DeliveryMetric, _: Duration) {}
}

/// The store's current counts behind the gauges, read at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreGauges {
    /// Pending outbox items per destination (destinations with none are left out).
    pub outbox_pending: Vec<(Destination, u64)>,
    /// The oldest pending outbox item's decision instant, if any.
    pub oldest_pending: Option<Timestamp>,
    /// Open cases per plan.
    pub open_cases: Vec<(Plan, u64)>,
    /// Cases set aside by the sweep.
    pub quarantined: u64,
}

/// A store that can count what the gauges show, at a bounded cost (index reads and counts).
pub trait GaugeReader: Send + Sync + 'static {
    fn gauges(&self) -> impl Future<Output = Result<StoreGauges, StoreError>> + Send;
}

impl<G: GaugeReader> GaugeReader for std::sync::Arc<G> {
    fn gauges(&self) -> impl Future<Output = Result<StoreGauges, StoreError>> + Send {
        G::gauges(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_the_documented_outcomes() {
        assert_eq!(WebhookOutcome::of_status(202), WebhookOutcome::Accepted);
        assert_eq!(WebhookOutcome::of_status(401), WebhookOutcome::Unauthorized);
        assert_eq!(WebhookOutcome::of_status(400), WebhookOutcome::BadRequest);
        assert_eq!(WebhookOutcome::of_status(413), WebhookOutcome::BadRequest);
        assert_eq!(WebhookOutcome::of_status(422), WebhookOutcome::BadRequest);
        assert_eq!(WebhookOutcome::of_status(503), WebhookOutcome::Unavailable);
        assert_eq!(WebhookOutcome::of_status(500), WebhookOutcome::Unavailable);
    }

    #[test]
    fn a_delivery_not_attempted_is_not_counted() {
        let not_sent = DeliveryOutcome::NotSent {
            reason: "no destination configured".into(),
        };
        assert_eq!(DeliveryMetric::of(&not_sent), None);
        let sent = DeliveryOutcome::Delivered {
            detail: "202".into(),
        };
        assert_eq!(DeliveryMetric::of(&sent), Some(DeliveryMetric::Sent));
    }

    #[test]
    fn the_ticket_system_and_the_chat_are_named_by_their_systems() {
        assert_eq!(destination_label(Destination::Tickets), "zendesk");
        assert_eq!(destination_label(Destination::Chat), "intercom");
    }
}
