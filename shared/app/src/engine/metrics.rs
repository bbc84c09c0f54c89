//! The engine's side of the metrics port: which observer it tells, and what it tells it.

use super::Engine;
use crate::ports::metrics::{ClockDecided, DeliveryMetric, Metrics};
use crate::ports::{DeliveryOutcome, Destination, OutboxItem};
use std::sync::Arc;
use std::time::Duration;

impl<S, T, D> Engine<S, T, D> {
    /// Report clock outcomes and delivery outcomes to `metrics` (the default records nothing).
    pub fn with_metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The observer, for the routes that report webhook outcomes beside the engine's own.
    pub fn metrics(&self) -> &dyn Metrics {
        self.metrics.as_ref()
    }

    /// Called once a decision is stored, so a conflict that is decided again counts once.
    pub(super) fn record_clocks(&self, decided: &[ClockDecided]) {
        for clock in decided {
            self.metrics.clock_decided(clock);
        }
    }

    pub(super) fn record_delivery(&self, item: &OutboxItem, outcome: &DeliveryOutcome) {
        let Some(metric) = DeliveryMetric::of(outcome) else {
            return;
        };
        let age = Duration::try_from(self.clock.now().duration_since(item.created_at))
            .unwrap_or(Duration::ZERO);
        self.metrics
            .delivery(Destination::of(&item.effect), metric, age);
    }
}
