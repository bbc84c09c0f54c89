//! SLA events as outbox effects: read off each committed change, when a subscriber is set up.

use domain::case::{Case, Decision, Effect, sla_events};

/// Adds the SLA events of the change from `before` (`None`: a new case) to the decided case.
pub(super) fn add_sla_events(before: Option<&Case>, decision: &mut Decision) {
    decision.effects.extend(
        sla_events(before, &decision.case)
            .into_iter()
            .map(|event| Effect::PublishEvent { event }),
    );
}
