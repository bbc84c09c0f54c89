//! The use cases: ingest an event, fire a timer, sweep due cases, deliver the outbox.
//!
//! Every decision is written with its effects in one atomic store write (the transactional
//! outbox), and only then carried out. A crash between the two loses nothing: the outbox still
//! holds the effect, and the next delivery run sends it.

use crate::deliver::{Deliver, describe, describe_timer};
use crate::ports::{
    CaseStore, CaseWrite, Clock, Delivered, DeliveryOutcome, NewOutboxItem, NotifyError,
    OutboxItem, StoreError, StoredCase, TimelineEntry, TimelineKind, Timers,
};
use domain::Timestamp;
use domain::case::{
    CaseEvent, CaseId, DecideError, Decision, Input, TimerChange, TimerKind, decide,
};
use domain::jiff::SignedDuration;
use domain::policy::Policy;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

mod alert_updates;
pub use alert_updates::AlertUpdateOutcome;

/// How hard the engine tries before it gives up on a contended or failing operation.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Reload-and-decide rounds when another writer changed the case meanwhile.
    pub max_conflict_retries: u32,
    /// Delivery attempts of one outbox effect before it is marked failed.
    pub max_delivery_attempts: u32,
    /// Backoff before the second attempt; doubles per attempt up to `max_retry_delay`.
    pub first_retry_delay: Duration,
    pub max_retry_delay: Duration,
    /// The longest a receiver's `Retry-After` is honoured: a throttled destination must not
    /// park a page for hours (or, with an absurd value, forever).
    pub max_retry_after: Duration,
    /// An effect still undelivered this long after it was decided is marked failed (and stays
    /// visible) instead of being retried on.
    pub max_delivery_age: Duration,
    /// How long a claimed outbox item is reserved for its deliverer.
    pub delivery_lease: Duration,
    /// Cases or items handled per sweep or delivery round.
    pub batch_size: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_conflict_retries: 16,
            max_delivery_attempts: 10,
            first_retry_delay: Duration::from_secs(30),
            max_retry_delay: Duration::from_secs(30 * 60),
            max_retry_after: Duration::from_secs(5 * 60),
            max_delivery_age: Duration::from_secs(24 * 60 * 60),
            delivery_lease: Duration::from_secs(120),
            batch_size: 100,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot decide for case {case}: {source}")]
    Decide {
        case: CaseId,
        #[source]
        source: DecideError,
    },
    #[error("store failed for case {case}: {source}")]
    Store {
        case: CaseId,
        #[source]
        source: StoreError,
    },
    /// The sweep could not find the due cases: no case was touched.
    #[error("store failed while finding due cases: {0}")]
    FindDue(#[source] StoreError),
    /// The outbox could not be claimed: nothing was delivered in this round.
    #[error("store failed while claiming outbox items: {0}")]
    ClaimOutbox(#[source] StoreError),
    #[error("case {0} kept changing concurrently; gave up")]
    Contention(CaseId),
}

impl EngineError {
    /// Whether the caller should retry (a provider redelivery, a Lambda retry).
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Decide { .. } => false,
            EngineError::Store { source, .. }
            | EngineError::FindDue(source)
            | EngineError::ClaimOutbox(source) => source.is_retryable(),
            EngineError::Contention(_) => true,
        }
    }

    fn store(case: &CaseId, source: StoreError) -> Self {
        EngineError::Store {
            case: case.clone(),
            source,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// The event was applied and recorded (it may have changed nothing but the timeline).
    /// `deliveries` counts the effects it put in the outbox.
    Applied {
        version: u64,
        effects: usize,
        deliveries: usize,
    },
    /// This event id was applied before.
    Duplicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireOutcome {
    Applied {
        version: u64,
        effects: usize,
    },
    /// Nothing was due; the timer was stale or early and is already where it should be.
    Unchanged,
    /// No such case: a timer that outlived its case, harmless.
    UnknownCase,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub not_sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl DeliveryReport {
    fn add(&mut self, outcome: &DeliveryOutcome) {
        match outcome {
            DeliveryOutcome::Delivered { .. } => self.delivered += 1,
            DeliveryOutcome::NotSent { .. } => self.not_sent += 1,
            DeliveryOutcome::RetryAt { .. } => self.retrying += 1,
            DeliveryOutcome::Failed { .. } => self.failed += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.delivered + self.not_sent + self.retrying + self.failed
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub cases_fired: usize,
    pub deliveries: DeliveryReport,
}

pub struct Engine<S, T, D> {
    policy: Arc<Policy>,
    store: S,
    timers: T,
    notifiers: D,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
}

impl<S, T, D> std::fmt::Debug for Engine<S, T, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<S: CaseStore, T: Timers, D: Deliver> Engine<S, T, D> {
    pub fn new(
        policy: Arc<Policy>,
        store: S,
        timers: T,
        notifiers: D,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            policy,
            store,
            timers,
            notifiers,
            clock,
            settings: EngineSettings::default(),
        }
    }

    pub fn with_settings(mut self, settings: EngineSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Apply one provider event: dedupe, decide, write state and effects atomically, move the
    /// timers. Delivering the effects is a separate step ([`Engine::deliver_outbox`]), so that
    /// a webhook can be acknowledged as soon as the decision is safe.
    pub async fn ingest(&self, event: &CaseEvent) -> Result<IngestOutcome, EngineError> {
        let case_id = &event.case_id;
        // No separate "seen?" read: the commit records the event id under a condition and
        // reports a duplicate, so an event costs one read and one write.
        for _ in 0..self.settings.max_conflict_retries {
            let stored = self.load(case_id).await?;
            let now = self.clock.now();
            let expected_version = stored.as_ref().map(|s| s.version);
            let previous_timers = stored
                .as_ref()
                .map(|s| s.case.timers.clone())
                .unwrap_or_default();
            let decision = decide(
                &self.policy,
                stored.map(|s| s.case),
                Input::Event(event),
                now,
            )
            .map_err(|source| EngineError::Decide {
                case: case_id.clone(),
                source,
            })?;
            let mut timeline = vec![TimelineEntry {
                at: now,
                kind: TimelineKind::Event {
                    event_id: event.event_id.clone(),
                    occurred_at: event.occurred_at,
                    change: event.change.clone(),
                },
            }];
            let deliveries = decision.effects.len();
            let effects = deliveries + decision.timers.len();
            match self
                .commit(
                    decision,
                    expected_version,
                    Some(event.event_id.clone()),
                    &previous_timers,
                    &mut timeline,
                    now,
                )
                .await
            {
                Ok(version) => {
                    info!(case_id = %case_id, event_id = %event.event_id, version, effects, "event applied");
                    return Ok(IngestOutcome::Applied {
                        version,
                        effects,
                        deliveries,
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(StoreError::DuplicateEvent(_)) => return Ok(IngestOutcome::Duplicate),
                Err(error) => return Err(EngineError::store(case_id, error)),
            }
        }
        Err(EngineError::Contention(case_id.clone()))
    }

    /// A timer fired for a case: reload, decide again at `now`.
    pub async fn fire(
        &self,
        case_id: &CaseId,
        timer: TimerKind,
    ) -> Result<FireOutcome, EngineError> {
        self.reevaluate(
            case_id,
            Input::TimerFired(timer),
            TimelineKind::TimerFired { timer },
        )
        .await
    }

    /// Fire every case whose next deadline is due, then deliver what is pending in the outbox.
    /// Catches lost timers and crashed deliveries.
    pub async fn sweep(&self) -> Result<SweepReport, EngineError> {
        let now = self.clock.now();
        let due = self
            .store
            .due_cases(now, self.settings.batch_size)
            .await
            .map_err(EngineError::FindDue)?;
        let mut report = SweepReport::default();
        for case_id in due {
            match self
                .reevaluate(&case_id, Input::Sweep, TimelineKind::Swept)
                .await
            {
                Ok(FireOutcome::Applied { .. }) => report.cases_fired += 1,
                Ok(_) => {}
                // One bad case must not stop the sweep of the others.
                Err(error) => warn!(case_id = %case_id, %error, "sweep could not re-evaluate case"),
            }
        }
        report.deliveries = self.deliver_outbox(None).await?;
        Ok(report)
    }

    async fn reevaluate(
        &self,
        case_id: &CaseId,
        input: Input<'_>,
        why: TimelineKind,
    ) -> Result<FireOutcome, EngineError> {
        for _ in 0..self.settings.max_conflict_retries {
            let Some(stored) = self.load(case_id).await? else {
                return Ok(FireOutcome::UnknownCase);
            };
            let now = self.clock.now();
            let decision =
                decide(&self.policy, Some(stored.case.clone()), input, now).map_err(|source| {
                    EngineError::Decide {
                        case: case_id.clone(),
                        source,
                    }
                })?;
            if !decision.changed && decision.effects.is_empty() && decision.timers.is_empty() {
                return Ok(FireOutcome::Unchanged);
            }
            let effects = decision.effects.len() + decision.timers.len();
            let mut timeline = vec![TimelineEntry {
                at: now,
                kind: why.clone(),
            }];
            match self
                .commit(
                    decision,
                    Some(stored.version),
                    None,
                    &stored.case.timers,
                    &mut timeline,
                    now,
                )
                .await
            {
                Ok(version) => return Ok(FireOutcome::Applied { version, effects }),
                Err(StoreError::Conflict(_)) => continue,
                Err(error) => return Err(EngineError::store(case_id, error)),
            }
        }
        Err(EngineError::Contention(case_id.clone()))
    }

    async fn load(&self, case_id: &CaseId) -> Result<Option<StoredCase>, EngineError> {
        self.store
            .load(case_id)
            .await
            .map_err(|e| EngineError::store(case_id, e))
    }

    /// Write the decision and its effects atomically, then move the timers.
    async fn commit(
        &self,
        decision: Decision,
        expected_version: Option<u64>,
        event_id: Option<String>,
        previous_timers: &BTreeMap<TimerKind, Timestamp>,
        timeline: &mut Vec<TimelineEntry>,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let case_id = decision.case.id.clone();
        // The timeline lists what was decided in decision order: the notifications, then the
        // timer changes (the machine brings the timers in line last).
        let mut outbox = Vec::new();
        for effect in decision.effects {
            let key = effect.idempotency_key(&case_id);
            timeline.push(TimelineEntry {
                at: now,
                kind: TimelineKind::Decided {
                    key: key.clone(),
                    effect: describe(&effect),
                },
            });
            outbox.push(NewOutboxItem { key, effect });
        }
        for change in &decision.timers {
            timeline.push(TimelineEntry {
                at: now,
                kind: TimelineKind::Decided {
                    key: change.idempotency_key(&case_id),
                    effect: describe_timer(change),
                },
            });
        }
        let version = self
            .store
            .commit(CaseWrite {
                case: decision.case,
                expected_version,
                event_id,
                timeline: std::mem::take(timeline),
                outbox,
                now,
            })
            .await?;
        self.apply_timers(&case_id, &decision.timers, previous_timers)
            .await;
        Ok(version)
    }

    /// Timers are hints: a failure here is logged, and the sweep catches the deadline.
    async fn apply_timers(
        &self,
        case_id: &CaseId,
        changes: &[TimerChange],
        previous: &BTreeMap<TimerKind, Timestamp>,
    ) {
        for change in changes {
            let result = match change {
                TimerChange::Schedule { timer, at } => {
                    let moving = previous.contains_key(timer);
                    self.timers.schedule(case_id, *timer, *at, moving).await
                }
                TimerChange::Cancel { timer } => self.timers.cancel(case_id, *timer).await,
            };
            if let Err(error) = result {
                warn!(case_id = %case_id, %error, effect = %describe_timer(change), "timer not applied; the sweep will catch the deadline");
            }
        }
    }

    /// Deliver pending outbox effects (of one case, or all), in order per lane, until none is
    /// ready. Temporary failures are retried later with backoff; after the last attempt, or on
    /// a permanent failure, the effect is marked failed and stays visible.
    pub async fn deliver_outbox(
        &self,
        case: Option<&CaseId>,
    ) -> Result<DeliveryReport, EngineError> {
        self.deliver_outbox_up_to(case, usize::MAX).await
    }

    /// Like [`Engine::deliver_outbox`], stopping after `max_items` deliveries: a caller that
    /// knows how many effects it just decided saves the final, empty look at the outbox.
    pub async fn deliver_outbox_up_to(
        &self,
        case: Option<&CaseId>,
        max_items: usize,
    ) -> Result<DeliveryReport, EngineError> {
        let mut report = DeliveryReport::default();
        // Each round offers at most the oldest pending item per lane; bound the rounds.
        for _ in 0..self.settings.batch_size {
            if report.total() >= max_items {
                break;
            }
            let now = self.clock.now();
            let items = self
                .store
                .claim_outbox(
                    now,
                    self.settings.delivery_lease,
                    self.settings.batch_size,
                    case,
                )
                .await
                .map_err(|source| match case {
                    Some(case) => EngineError::store(case, source),
                    None => EngineError::ClaimOutbox(source),
                })?;
            if items.is_empty() {
                break;
            }
            for item in items {
                let outcome = self.deliver_one(&item).await;
                report.add(&outcome);
                self.store
                    .finish_delivery(&item.key, outcome, self.clock.now())
                    .await
                    .map_err(|e| EngineError::store(&item.case_id, e))?;
            }
        }
        Ok(report)
    }

    async fn deliver_one(&self, item: &OutboxItem) -> DeliveryOutcome {
        let result = self.notifiers.deliver(&item.case_id, &item.effect).await;
        let effect = describe(&item.effect);
        match result {
            Ok(Delivered::Sent { detail }) => {
                info!(case_id = %item.case_id, key = %item.key, %effect, "delivered");
                DeliveryOutcome::Delivered { detail }
            }
            Ok(Delivered::NotConfigured) => {
                info!(case_id = %item.case_id, key = %item.key, %effect, "not sent: no destination configured");
                DeliveryOutcome::NotSent {
                    reason: String::from("no destination configured"),
                }
            }
            Err(NotifyError::Permanent { reason }) => {
                warn!(case_id = %item.case_id, key = %item.key, %effect, %reason, "delivery failed permanently");
                DeliveryOutcome::Failed { error: reason }
            }
            Err(NotifyError::Retryable {
                reason,
                retry_after,
            }) => {
                let attempts = item.attempts + 1;
                if attempts >= self.settings.max_delivery_attempts {
                    warn!(case_id = %item.case_id, key = %item.key, %effect, attempts, %reason, "delivery failed; out of attempts");
                    return DeliveryOutcome::Failed {
                        error: format!("{reason} (after {attempts} attempts)"),
                    };
                }
                let now = self.clock.now();
                let age = now.duration_since(item.created_at);
                if age
                    >= SignedDuration::try_from(self.settings.max_delivery_age)
                        .unwrap_or(SignedDuration::MAX)
                {
                    warn!(case_id = %item.case_id, key = %item.key, %effect, attempts, %reason, "delivery failed; too old to retry");
                    return DeliveryOutcome::Failed {
                        error: format!(
                            "{reason} (still undelivered {} h after it was decided)",
                            age.as_hours()
                        ),
                    };
                }
                let retry_after = retry_after
                    .unwrap_or_default()
                    .min(self.settings.max_retry_after);
                let delay = self.retry_delay(item.attempts).max(retry_after);
                let at = now
                    .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
                    .unwrap_or(Timestamp::MAX);
                warn!(case_id = %item.case_id, key = %item.key, %effect, attempts, %reason, retry_at = %at, "delivery failed; will retry");
                DeliveryOutcome::RetryAt { at, error: reason }
            }
        }
    }

    fn retry_delay(&self, attempts_so_far: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts_so_far.min(20));
        self.settings
            .first_retry_delay
            .saturating_mul(factor)
            .min(self.settings.max_retry_delay)
    }
}
