//! Incident updates from PagerDuty: who acknowledged or resolved one of our pages.

use super::{Engine, EngineError};
use crate::deliver::Deliver;
use crate::ports::{CaseStore, StoreError, TimelineEntry, TimelineKind, Timers};
use domain::case::{AlertUpdate, Decision, apply_alert_update};
use tracing::info;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertUpdateOutcome {
    /// Recorded on the case.
    Applied { version: u64 },
    /// Nothing to record: an acknowledgement already known, or a resolve by no person (our own).
    Unchanged,
    /// This delivery was applied before.
    Duplicate,
    /// No such case: an incident of a case this store does not hold.
    UnknownCase,
}

impl<S: CaseStore, T: Timers, D: Deliver> Engine<S, T, D> {
    /// Record an incident update on the alert's case, deduplicated on its event id, in one
    /// write with its timeline entry. It decides no effect but its SLA event, and moves no timer.
    pub async fn apply_alert_update(
        &self,
        update: &AlertUpdate,
    ) -> Result<AlertUpdateOutcome, EngineError> {
        let case_id = &update.case_id;
        for _ in 0..self.settings.max_conflict_retries {
            let Some(stored) = self.load(case_id).await? else {
                return Ok(AlertUpdateOutcome::UnknownCase);
            };
            let mut case = stored.case.clone();
            if !apply_alert_update(&mut case, update) {
                return Ok(AlertUpdateOutcome::Unchanged);
            }
            let now = self.clock.now();
            let mut timeline = vec![TimelineEntry {
                at: now,
                kind: TimelineKind::AlertUpdated {
                    event_id: update.event_id.clone(),
                    occurred_at: update.occurred_at,
                    alert: update.alert,
                    action: update.action,
                    by: update.by.clone(),
                },
            }];
            let mut decision = Decision {
                case,
                effects: Vec::new(),
                timers: Vec::new(),
                changed: true,
            };
            if self.settings.publish_sla_events {
                super::add_sla_events(Some(&stored.case), &mut decision);
            }
            match self
                .commit(
                    decision,
                    Some(stored.version),
                    Some(update.event_id.clone()),
                    &stored.case.timers,
                    &mut timeline,
                    now,
                )
                .await
            {
                Ok(version) => {
                    info!(case_id = %case_id, event_id = %update.event_id, alert = %update.alert, action = update.action.as_str(), version, "alert update applied");
                    return Ok(AlertUpdateOutcome::Applied { version });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(StoreError::DuplicateEvent(_)) => return Ok(AlertUpdateOutcome::Duplicate),
                Err(error) => return Err(EngineError::store(case_id, error)),
            }
        }
        Err(EngineError::Contention(case_id.clone()))
    }
}
