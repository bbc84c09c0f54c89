//! Events that can never be decided: kept for an operator, never retried.

use super::Engine;
use crate::deliver::Deliver;
use crate::ports::{CaseStore, RejectedEvent, Timers};
use domain::case::CaseEvent;
use tracing::error;

impl<S: CaseStore, T: Timers, D: Deliver> Engine<S, T, D> {
    /// Keep `event`, refused because it can never be decided (`reason`), with the start of
    /// the request `body`, where the read API lists it. The provider gets a 4xx whether or not
    /// this write succeeds: a store failure is logged, and the event stays in the log line.
    pub async fn keep_rejected(
        &self,
        provider: &str,
        event: &CaseEvent,
        reason: &str,
        body: &[u8],
    ) {
        let rejected = RejectedEvent::new(
            provider,
            &event.event_id,
            event.case_id.as_str(),
            reason,
            self.clock.now(),
            body,
        );
        if let Err(source) = self.store.keep_rejected(rejected).await {
            error!(
                provider,
                case_id = %event.case_id,
                event_id = %event.event_id,
                error = %source,
                "rejected event not kept"
            );
        }
    }
}
