//! The use cases: ingest an event, fire a timer, decide due cases, deliver the outbox.
//!
//! Every decision is written with its effects in one atomic store write (the transactional
//! outbox), and only then carried out. A crash between the two loses nothing: the outbox still
//! holds the effect, and the next delivery run sends it.
//!
//! Deciding and delivering are apart: [`Engine::decide_due`] never waits for a receiver, and
//! a long-running process delivers with workers per [`Destination`] ([`Engine::claim_next`],
//! [`Engine::deliver_claimed`], [`Engine::renew_lease`]), woken through
//! [`Engine::with_delivery_wake`] whenever a decision adds to the outbox.

use crate::deliver::{Deliver, describe, describe_timer};
use crate::ports::metrics::ClockSnapshot;
use crate::ports::{
    CaseStore, CaseWrite, Clock, Delivered, DeliveryOutcome, Destination, NewOutboxItem,
    NoSystemOfRecord, NotifyError, OutboxItem, Quarantine, StoreError, StoredCase, SystemOfRecord,
    TimelineEntry, TimelineKind, Timers,
};
use domain::Timestamp;
use domain::case::{
    AlertContext, CaseEvent, CaseId, DecideError, Decision, Effect, Input, SlackKind, TimerChange,
    TimerKind, decide,
};
use domain::jiff::SignedDuration;
use domain::policy::Policy;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

mod alert_updates;
mod enrichment;
mod metrics;
mod rejected;
mod sla_events;
pub use alert_updates::AlertUpdateOutcome;
use sla_events::add_sla_events;

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
    /// A case the sweep cannot load or decide is set aside this long, doubled with each
    /// failure in a row up to `max_quarantine`.
    pub first_quarantine: Duration,
    pub max_quarantine: Duration,
    /// Decide SLA events (docs/events.md) with every change: on when the runtime has a
    /// subscriber to publish them to, so that no outbox fills with events nobody reads.
    pub publish_sla_events: bool,
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
            first_quarantine: Duration::from_secs(60),
            max_quarantine: Duration::from_secs(60 * 60),
            publish_sla_events: false,
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
    /// An event that only applies to a case we know (a deletion) for a case we never saw:
    /// nothing to do, nothing recorded.
    UnknownCase,
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

/// Told which destinations have new outbox items, right after the decision is stored (the
/// delivery workers of a long-running process wait on it).
pub type DeliveryWake = Arc<dyn Fn(Destination) + Send + Sync>;

pub struct Engine<S, T, D> {
    policy: Arc<Policy>,
    store: S,
    timers: T,
    notifiers: D,
    clock: Arc<dyn Clock>,
    settings: EngineSettings,
    wake: Option<DeliveryWake>,
    metrics: Arc<dyn crate::ports::Metrics>,
    /// Asked between parsing and deciding for what a payload lacks (`engine/enrichment.rs`).
    records: Arc<dyn SystemOfRecord>,
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
            wake: None,
            metrics: Arc::new(crate::ports::NoMetrics),
            records: Arc::new(NoSystemOfRecord),
        }
    }

    /// Ask `records` (the Zendesk and Intercom APIs) for what the payloads lack: adoption of
    /// tickets first seen late, comment authors, Enterprise from the account.
    pub fn with_system_of_record(mut self, records: Arc<dyn SystemOfRecord>) -> Self {
        self.records = records;
        self
    }

    pub fn with_settings(mut self, settings: EngineSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Call `wake` with the destination of every outbox item a decision writes, once it is
    /// stored.
    pub fn with_delivery_wake(mut self, wake: DeliveryWake) -> Self {
        self.wake = Some(wake);
        self
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
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
        // Looked up once, on the first round: a retry after a conflict reuses the answers (an
        // adoption is ignored by the machine once another writer created the case).
        let mut enriched: Option<CaseEvent> = None;
        for _ in 0..self.settings.max_conflict_retries {
            let stored = self.load(case_id).await?;
            if stored.is_none() && event.change.needs_known_case() {
                info!(case_id = %case_id, event_id = %event.event_id, "event for a case never seen; nothing to do");
                return Ok(IngestOutcome::UnknownCase);
            }
            let now = self.clock.now();
            let event = match &enriched {
                Some(event) => event,
                None => enriched.insert(
                    enrichment::enrich(&*self.records, &self.policy, event, stored.is_some()).await,
                ),
            };
            let created = stored.is_none();
            let expected_version = stored.as_ref().map(|s| s.version);
            let previous_timers = stored
                .as_ref()
                .map(|s| s.case.timers.clone())
                .unwrap_or_default();
            let clocks_before = ClockSnapshot::of(stored.as_ref().map(|s| &s.case));
            let before = self
                .settings
                .publish_sla_events
                .then(|| stored.as_ref().map(|s| s.case.clone()));
            let mut decision = decide(
                &self.policy,
                stored.map(|s| s.case),
                Input::Event(event),
                now,
            )
            .map_err(|source| EngineError::Decide {
                case: case_id.clone(),
                source,
            })?;
            if let Some(before) = &before {
                add_sla_events(before.as_ref(), &mut decision);
            }
            let mut timeline = vec![TimelineEntry {
                at: now,
                kind: TimelineKind::Event {
                    event_id: event.event_id.clone(),
                    occurred_at: event.occurred_at,
                    change: event.change.clone(),
                },
            }];
            if created {
                timeline.extend(enrichment::adoption_timeline(&decision.case, now));
            }
            let deliveries = decision.effects.len();
            let effects = deliveries + decision.timers.len();
            let clocks_decided = clocks_before.decided(&decision.case, now);
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
                    self.record_clocks(&clocks_decided);
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

    /// Decide every due case (at most one batch), then deliver what is pending in the outbox.
    /// Catches lost timers and crashed deliveries. Every due case is decided before anything
    /// is delivered, so no deadline waits for a receiver here either; a long-running process
    /// calls [`Engine::decide_due`] alone and delivers with workers.
    pub async fn sweep(&self) -> Result<SweepReport, EngineError> {
        // Boxed halves keep the sweep's future shallow enough for rustc's layout limit.
        let cases_fired = Box::pin(self.decide_due()).await?;
        Ok(SweepReport {
            cases_fired,
            deliveries: Box::pin(self.deliver_outbox(None)).await?,
        })
    }

    /// Decide every case whose next deadline is due; returns how many changed. Delivers
    /// nothing: the decided effects wait in the outbox. A case that cannot be loaded or
    /// decided is quarantined ([`Quarantine`]), so the next batch holds other cases; batches
    /// are read until one is not full (at most 10 per call).
    pub async fn decide_due(&self) -> Result<usize, EngineError> {
        const MAX_BATCHES: usize = 10;
        let mut cases_fired = 0;
        for _ in 0..MAX_BATCHES {
            let now = self.clock.now();
            let due = self
                .store
                .due_cases(now, self.settings.batch_size)
                .await
                .map_err(EngineError::FindDue)?;
            let full = due.len() >= self.settings.batch_size;
            let mut set_aside = 0;
            for case_id in due {
                match self
                    .reevaluate(&case_id, Input::Sweep, TimelineKind::Swept)
                    .await
                {
                    Ok(FireOutcome::Applied { .. }) => cases_fired += 1,
                    Ok(_) => {}
                    // A case that can never succeed as it is: set it aside, so that it does
                    // not come back in every batch (and every log) in place of other cases.
                    Err(error) if !error.is_retryable() => {
                        if self.set_aside(&case_id, &error, now).await {
                            set_aside += 1;
                        }
                    }
                    // One bad case must not stop the sweep of the others.
                    Err(error) => {
                        warn!(case_id = %case_id, %error, "sweep could not re-evaluate case");
                    }
                }
            }
            // Another batch only when this one was full and made room by setting cases
            // aside; otherwise what is left is due again at once and would spin.
            if !full || set_aside == 0 {
                break;
            }
        }
        Ok(cases_fired)
    }

    /// Quarantine a case the sweep failed on, doubling the backoff of its previous failures.
    /// Logged once per failure, so once per backoff. `false` if it could not be recorded.
    async fn set_aside(&self, case_id: &CaseId, error: &EngineError, now: Timestamp) -> bool {
        let previous = match self.store.quarantined(case_id).await {
            Ok(previous) => previous,
            Err(store_error) => {
                warn!(case_id = %case_id, %error, %store_error, "sweep could not re-evaluate case, nor set it aside");
                return false;
            }
        };
        let failures = previous
            .as_ref()
            .map_or(0, |q| q.failures)
            .saturating_add(1);
        let backoff = self
            .settings
            .first_quarantine
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(20)))
            .min(self.settings.max_quarantine);
        let until = SignedDuration::try_from(backoff)
            .ok()
            .and_then(|backoff| now.checked_add(backoff).ok())
            .unwrap_or(Timestamp::MAX);
        let entry = Quarantine {
            case_id: case_id.clone(),
            failures,
            until,
            since: previous.map_or(now, |q| q.since),
            reason: error.to_string(),
        };
        match self.store.quarantine(entry).await {
            Ok(()) => {
                warn!(case_id = %case_id, %error, failures, retry_at = %until, "case set aside: the sweep cannot re-evaluate it");
                true
            }
            Err(store_error) => {
                warn!(case_id = %case_id, %error, %store_error, "sweep could not re-evaluate case, nor set it aside");
                false
            }
        }
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
            let mut decision = decide(&self.policy, Some(stored.case.clone()), input, now)
                .map_err(|source| EngineError::Decide {
                    case: case_id.clone(),
                    source,
                })?;
            if !decision.changed && decision.effects.is_empty() && decision.timers.is_empty() {
                return Ok(FireOutcome::Unchanged);
            }
            if self.settings.publish_sla_events {
                add_sla_events(Some(&stored.case), &mut decision);
            }
            let effects = decision.effects.len() + decision.timers.len();
            let clocks_decided = ClockSnapshot::of(Some(&stored.case)).decided(&decision.case, now);
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
                Ok(version) => {
                    self.record_clocks(&clocks_decided);
                    return Ok(FireOutcome::Applied { version, effects });
                }
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
            let key = decision.case.effect_key(&effect);
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
        let mut destinations: Vec<Destination> = outbox
            .iter()
            .map(|item| Destination::of(&item.effect))
            .collect();
        destinations.sort_unstable();
        destinations.dedup();
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
        if let Some(wake) = &self.wake {
            for destination in destinations {
                wake(destination);
            }
        }
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
        // One item per claim, claimed just before it is sent: a lease covers one delivery,
        // never a queue of them. The bound keeps one call finite (as the old 100 rounds of
        // 100 items did).
        let bound = self
            .settings
            .batch_size
            .saturating_mul(self.settings.batch_size);
        while report.total() < max_items.min(bound) {
            let now = self.clock.now();
            let claimed = self
                .store
                .claim_outbox(now, self.settings.delivery_lease, 1, case)
                .await
                .map_err(|source| match case {
                    Some(case) => EngineError::store(case, source),
                    None => EngineError::ClaimOutbox(source),
                })?;
            let Some(item) = claimed.into_iter().next() else {
                break;
            };
            // Boxed: the delivery future is deep (notifier, failure announcement), and every
            // caller's future holds it, to rustc's layout recursion limit in `sweep`.
            let outcome = Box::pin(self.deliver_claimed(&item)).await?;
            report.add(&outcome);
        }
        Ok(report)
    }

    /// Claim the oldest ready outbox item going to `destination`, leased for
    /// [`EngineSettings::delivery_lease`]; `None` when nothing is ready.
    pub async fn claim_next(
        &self,
        destination: Destination,
    ) -> Result<Option<OutboxItem>, EngineError> {
        let claimed = self
            .store
            .claim_destination(
                self.clock.now(),
                self.settings.delivery_lease,
                destination,
                1,
            )
            .await
            .map_err(EngineError::ClaimOutbox)?;
        Ok(claimed.into_iter().next())
    }

    /// Extend a claimed item's lease by another [`EngineSettings::delivery_lease`] from now,
    /// while its delivery is under way; `false` if it is no longer leased.
    pub async fn renew_lease(&self, item: &OutboxItem) -> Result<bool, EngineError> {
        self.store
            .renew_lease(&item.key, self.clock.now(), self.settings.delivery_lease)
            .await
            .map_err(|e| EngineError::store(&item.case_id, e))
    }

    /// Deliver one claimed item and record the outcome. An item given up because it grew too
    /// old is announced in Slack first (once: the announcement's key is the item's key).
    pub async fn deliver_claimed(&self, item: &OutboxItem) -> Result<DeliveryOutcome, EngineError> {
        let (outcome, given_up) = self.deliver_one(item).await;
        if given_up && let Err(error) = self.announce_failure(item).await {
            warn!(case_id = %item.case_id, key = %item.key, %error, "cannot announce the failed delivery in Slack");
        }
        self.store
            .finish_delivery(&item.key, outcome.clone(), self.clock.now())
            .await
            .map_err(|e| EngineError::store(&item.case_id, e))?;
        self.record_delivery(item, &outcome);
        if matches!(outcome, DeliveryOutcome::Delivered { .. })
            && item.effect.is_chat_fallback_offer()
        {
            self.offer_delivered(item).await;
        }
        Ok(outcome)
    }

    /// The chat fallback's offer reached the customer: the case hands its first response over
    /// (docs/policy.md rule 4). Not retried here: until it is applied the clock runs on, and at
    /// worst pages as if the offer had not been delivered.
    async fn offer_delivered(&self, item: &OutboxItem) {
        let why = TimelineKind::Decided {
            key: format!("{}/chat_handover", item.case_id),
            effect: format!(
                "hand the chat's first response over to the e-mail ({} delivered)",
                item.key
            ),
        };
        let result = Box::pin(self.reevaluate(&item.case_id, Input::OfferDelivered, why)).await;
        if let Err(error) = result {
            warn!(case_id = %item.case_id, key = %item.key, %error, "chat handover not applied");
        }
    }

    /// Put a Slack message "this notification was given up" in the outbox of the item's case,
    /// keyed `<item key>/failed`, so that it is decided once whatever happens. An announcement
    /// that fails in turn is not announced.
    async fn announce_failure(&self, item: &OutboxItem) -> Result<(), EngineError> {
        if matches!(
            item.effect,
            Effect::NotifySlack {
                message: SlackKind::DeliveryFailed,
                ..
            }
        ) {
            return Ok(());
        }
        let key = format!("{}/failed", item.key);
        for _ in 0..self.settings.max_conflict_retries {
            let Some(stored) = self.load(&item.case_id).await? else {
                return Ok(());
            };
            let effect = Effect::NotifySlack {
                message: SlackKind::DeliveryFailed,
                context: AlertContext::of(&stored.case),
            };
            let now = self.clock.now();
            let write = CaseWrite {
                timeline: vec![TimelineEntry {
                    at: now,
                    kind: TimelineKind::Decided {
                        key: key.clone(),
                        effect: format!("{} ({})", describe(&effect), item.key),
                    },
                }],
                outbox: vec![NewOutboxItem {
                    key: key.clone(),
                    effect,
                }],
                case: stored.case,
                expected_version: Some(stored.version),
                event_id: None,
                now,
            };
            match self.store.commit(write).await {
                Ok(_) => {
                    if let Some(wake) = &self.wake {
                        wake(Destination::Slack);
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(error) => return Err(EngineError::store(&item.case_id, error)),
            }
        }
        Err(EngineError::Contention(item.case_id.clone()))
    }

    /// The outcome, and whether the item failed once it was older than the maximum age.
    async fn deliver_one(&self, item: &OutboxItem) -> (DeliveryOutcome, bool) {
        let outcome = self.attempt(item).await;
        let given_up = matches!(outcome, DeliveryOutcome::Failed { .. }) && self.too_old(item);
        (outcome, given_up)
    }

    fn too_old(&self, item: &OutboxItem) -> bool {
        self.clock.now().duration_since(item.created_at)
            >= SignedDuration::try_from(self.settings.max_delivery_age)
                .unwrap_or(SignedDuration::MAX)
    }

    async fn attempt(&self, item: &OutboxItem) -> DeliveryOutcome {
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
