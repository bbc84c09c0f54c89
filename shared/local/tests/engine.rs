//! `app::Engine` on its own, over the SQLite store: the retry and error paths that the
//! end-to-end tests do not reach, with stores that fail on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{
    CaseReader, CaseStore, CaseWrite, Clock, Delivered, DeliveryOutcome, Destination, ManualClock,
    NotifyError, OutboxItem, Quarantine, StoreError, StoredCase, TimerError, Timers,
};
use app::{Deliver, Engine, EngineError, EngineSettings, FireOutcome, IngestOutcome};
use domain::Timestamp;
use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, Effect, RequestFacts, Requester, Status, TimerKind,
};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Labels, Plan, Priority};
use local::store::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Monday 2 March 2026, 10:00 in Berlin: business hours.
fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

fn ticket_opened(id: &str, event_id: &str) -> CaseEvent {
    CaseEvent {
        case_id: CaseId::parse(id).unwrap(),
        event_id: event_id.to_owned(),
        occurred_at: t0(),
        change: Change::Opened,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Enterprise,
                priority: Priority::Urgent,
                received: t0(),
                labels: Labels::default(),
                subject: Some("Site down".into()),
                requester: Some(Requester {
                    name: None,
                    email: Some("jane@example.org".into()),
                }),
                link: None,
                voicemail: None,
            },
            status: Status::Open,
            assignee: None,
            first_response_at: None,
            adoption: None,
            references: Default::default(),
        },
    }
}

/// The SQLite store, with faults switched on by the test.
#[derive(Debug, Default)]
struct Faults {
    /// Every commit answers a version conflict, as if another writer always won.
    conflict_on_commit: bool,
    /// Finding due cases fails (the store is unreachable).
    due_cases_unavailable: bool,
    /// Claiming the outbox fails (the store is unreachable).
    claim_unavailable: bool,
}

#[derive(Debug)]
struct FaultyStore {
    inner: SqliteStore,
    faults: Faults,
    commits: AtomicU32,
}

impl FaultyStore {
    fn new(inner: SqliteStore, faults: Faults) -> Self {
        Self {
            inner,
            faults,
            commits: AtomicU32::new(0),
        }
    }
}

fn unavailable() -> StoreError {
    StoreError::Unavailable("the test switched the store off".into())
}

impl CaseStore for FaultyStore {
    async fn load(&self, id: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        self.inner.load(id).await
    }

    async fn commit(&self, write: CaseWrite) -> Result<u64, StoreError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        if self.faults.conflict_on_commit {
            return Err(StoreError::Conflict(write.case.id));
        }
        self.inner.commit(write).await
    }

    async fn due_cases(&self, now: Timestamp, limit: usize) -> Result<Vec<CaseId>, StoreError> {
        if self.faults.due_cases_unavailable {
            return Err(unavailable());
        }
        self.inner.due_cases(now, limit).await
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.inner.next_due().await
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        if self.faults.claim_unavailable {
            return Err(unavailable());
        }
        self.inner.claim_outbox(now, lease, limit, case).await
    }

    async fn claim_destination(
        &self,
        now: Timestamp,
        lease: Duration,
        destination: Destination,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        if self.faults.claim_unavailable {
            return Err(unavailable());
        }
        self.inner
            .claim_destination(now, lease, destination, limit)
            .await
    }

    async fn renew_lease(
        &self,
        key: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        self.inner.renew_lease(key, now, lease).await
    }

    async fn quarantine(&self, entry: Quarantine) -> Result<(), StoreError> {
        self.inner.quarantine(entry).await
    }

    async fn quarantined(&self, case: &CaseId) -> Result<Option<Quarantine>, StoreError> {
        self.inner.quarantined(case).await
    }

    async fn keep_rejected(&self, event: app::ports::RejectedEvent) -> Result<(), StoreError> {
        self.inner.keep_rejected(event).await
    }

    async fn finish_delivery(
        &self,
        key: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.finish_delivery(key, outcome, now).await
    }
}

#[derive(Debug, Default)]
struct NoTimers;

impl Timers for NoTimers {
    async fn schedule(
        &self,
        _case: &CaseId,
        _timer: TimerKind,
        _at: Timestamp,
        _moving: bool,
    ) -> Result<(), TimerError> {
        Ok(())
    }

    async fn cancel(&self, _case: &CaseId, _timer: TimerKind) -> Result<(), TimerError> {
        Ok(())
    }
}

/// Accepts every effect and remembers it.
#[derive(Debug, Default)]
struct Accepting(Mutex<Vec<Effect>>);

impl Deliver for Accepting {
    async fn deliver(&self, _case: &CaseId, effect: &Effect) -> Result<Delivered, NotifyError> {
        self.0.lock().unwrap().push(effect.clone());
        Ok(Delivered::Sent {
            detail: "accepted".into(),
        })
    }
}

type TestEngine = Engine<FaultyStore, NoTimers, Accepting>;

fn engine(store: SqliteStore, faults: Faults, clock: &ManualClock) -> TestEngine {
    let policy = Arc::new(policy_file::default_policy().unwrap());
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    Engine::new(
        policy,
        FaultyStore::new(store, faults),
        NoTimers,
        Accepting::default(),
        clock,
    )
    .with_settings(EngineSettings {
        max_conflict_retries: 3,
        ..EngineSettings::default()
    })
}

#[tokio::test]
async fn an_event_applied_once_is_a_duplicate_the_second_time() {
    let clock = ManualClock::new(t0());
    let engine = engine(SqliteStore::in_memory().unwrap(), Faults::default(), &clock);
    let event = ticket_opened("zendesk-1", "evt-1");

    let first = engine.ingest(&event).await.unwrap();
    assert!(
        matches!(first, IngestOutcome::Applied { version: 1, .. }),
        "{first:?}"
    );
    assert_eq!(
        engine.ingest(&event).await.unwrap(),
        IngestOutcome::Duplicate
    );
}

#[tokio::test]
async fn an_event_that_keeps_conflicting_gives_up_after_its_retries_with_a_retryable_error() {
    let clock = ManualClock::new(t0());
    let faults = Faults {
        conflict_on_commit: true,
        ..Faults::default()
    };
    let engine = engine(SqliteStore::in_memory().unwrap(), faults, &clock);
    let event = ticket_opened("zendesk-1", "evt-1");

    let error = engine.ingest(&event).await.unwrap_err();

    assert!(
        matches!(&error, EngineError::Contention(case) if *case == event.case_id),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "case zendesk-1 kept changing concurrently; gave up"
    );
    // One decision per round, each lost to the (pretended) rival: exactly the configured rounds.
    assert_eq!(engine.store().commits.load(Ordering::SeqCst), 3);
    assert_eq!(
        engine.store().inner.load(&event.case_id).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_timer_that_keeps_conflicting_gives_up_the_same_way() {
    let clock = ManualClock::new(t0());
    let store = SqliteStore::in_memory().unwrap();
    let event = ticket_opened("zendesk-1", "evt-1");
    engine(store.clone(), Faults::default(), &clock)
        .ingest(&event)
        .await
        .unwrap();
    let faults = Faults {
        conflict_on_commit: true,
        ..Faults::default()
    };
    let engine = engine(store, faults, &clock);
    // Past every deadline: the timer's decision changes the case, so it must be written.
    clock.advance(SignedDuration::from_hours(8));

    let error = engine
        .fire(&event.case_id, TimerKind::FirstResponse)
        .await
        .unwrap_err();

    assert!(matches!(error, EngineError::Contention(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(engine.store().commits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_timer_for_an_unknown_case_is_reported_not_failed() {
    let clock = ManualClock::new(t0());
    let engine = engine(SqliteStore::in_memory().unwrap(), Faults::default(), &clock);
    let outcome = engine
        .fire(&CaseId::parse("zendesk-404").unwrap(), TimerKind::Dispatch)
        .await
        .unwrap();
    assert_eq!(outcome, FireOutcome::UnknownCase);
    assert_eq!(engine.store().commits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_sweep_that_cannot_find_due_cases_fails_retryably_and_names_no_case() {
    let clock = ManualClock::new(t0());
    let faults = Faults {
        due_cases_unavailable: true,
        ..Faults::default()
    };
    let engine = engine(SqliteStore::in_memory().unwrap(), faults, &clock);

    let error = engine.sweep().await.unwrap_err();

    assert!(
        matches!(error, EngineError::FindDue(StoreError::Unavailable(_))),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "store failed while finding due cases: store unavailable: the test switched the store off"
    );
}

#[tokio::test]
async fn an_outbox_that_cannot_be_claimed_names_the_case_only_when_one_was_asked_for() {
    let clock = ManualClock::new(t0());
    let faults = Faults {
        claim_unavailable: true,
        ..Faults::default()
    };
    let engine = engine(SqliteStore::in_memory().unwrap(), faults, &clock);
    let case = CaseId::parse("zendesk-1").unwrap();

    let all = engine.deliver_outbox(None).await.unwrap_err();
    assert!(
        matches!(all, EngineError::ClaimOutbox(StoreError::Unavailable(_))),
        "{all:?}"
    );
    assert!(all.is_retryable());
    assert!(
        all.to_string()
            .starts_with("store failed while claiming outbox items: "),
        "{all}"
    );

    let one = engine.deliver_outbox(Some(&case)).await.unwrap_err();
    assert!(
        matches!(&one, EngineError::Store { case: failed, .. } if *failed == case),
        "{one:?}"
    );
    assert!(one.is_retryable());
}

#[tokio::test]
async fn an_applied_event_delivers_what_it_decided_and_nothing_twice() {
    let clock = ManualClock::new(t0());
    let engine = engine(SqliteStore::in_memory().unwrap(), Faults::default(), &clock);
    // Out of hours (Saturday): an Enterprise ticket pages at once.
    let mut event = ticket_opened("zendesk-7", "evt-7");
    let saturday: Timestamp = "2026-03-07T09:00:00Z".parse().unwrap();
    clock.set(saturday);
    event.occurred_at = saturday;
    event.snapshot.request.received = saturday;

    let IngestOutcome::Applied { deliveries, .. } = engine.ingest(&event).await.unwrap() else {
        panic!("the event was not applied");
    };
    assert!(deliveries > 0);
    let report = engine.deliver_outbox(Some(&event.case_id)).await.unwrap();
    assert_eq!(report.delivered, deliveries);
    assert_eq!(engine.deliver_outbox(None).await.unwrap().total(), 0);
    assert_eq!(
        engine
            .store()
            .inner
            .load(&event.case_id)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
}

/// Answers every effect "too many requests", asking to wait the given time.
#[derive(Debug)]
struct Throttled(Duration);

impl Deliver for Throttled {
    async fn deliver(&self, _case: &CaseId, _effect: &Effect) -> Result<Delivered, NotifyError> {
        Err(NotifyError::Retryable {
            reason: "429 Too Many Requests".into(),
            retry_after: Some(self.0),
        })
    }
}

/// An Enterprise ticket opened on a Saturday pages at once; its effects go to `deliver`.
async fn saturday_page<D: Deliver>(
    deliver: D,
    clock: &ManualClock,
) -> (Engine<SqliteStore, NoTimers, D>, CaseId) {
    let saturday: Timestamp = "2026-03-07T09:00:00Z".parse().unwrap();
    clock.set(saturday);
    let mut event = ticket_opened("zendesk-9", "evt-9");
    event.occurred_at = saturday;
    event.snapshot.request.received = saturday;
    let policy = Arc::new(policy_file::default_policy().unwrap());
    let engine = Engine::new(
        policy,
        SqliteStore::in_memory().unwrap(),
        NoTimers,
        deliver,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    engine.ingest(&event).await.unwrap();
    (engine, event.case_id)
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_holds_an_effect_back_only_for_the_cap() {
    for asked in [
        Duration::from_secs(100_000),
        Duration::from_secs(9_000_000_000),
    ] {
        let clock = ManualClock::new(t0());
        let (engine, case) = saturday_page(Throttled(asked), &clock).await;
        let now = clock.now();

        engine.deliver_outbox(Some(&case)).await.unwrap();

        let items = engine.store().outbox_of(&case).await.unwrap();
        assert!(!items.is_empty());
        let cap = SignedDuration::from_mins(5);
        for item in items {
            assert_eq!(item.state, app::ports::DeliveryState::Pending, "{item:?}");
            assert!(
                item.next_attempt_at <= now + cap,
                "Retry-After {asked:?} parked {} until {}",
                item.key,
                item.next_attempt_at
            );
        }
    }
}

#[tokio::test]
async fn an_effect_still_undelivered_a_day_after_it_was_decided_is_marked_failed() {
    let clock = ManualClock::new(t0());
    let (engine, case) = saturday_page(Throttled(Duration::ZERO), &clock).await;
    engine.deliver_outbox(Some(&case)).await.unwrap();

    clock.advance(SignedDuration::from_hours(24) + SignedDuration::from_mins(1));
    engine.deliver_outbox(Some(&case)).await.unwrap();

    // Every item given up is announced in Slack by an item of its own (still waiting here:
    // this receiver throttles Slack too).
    let (announcements, items): (Vec<_>, Vec<_>) = engine
        .store()
        .outbox_of(&case)
        .await
        .unwrap()
        .into_iter()
        .partition(|item| item.key.ends_with("/failed"));
    assert!(!items.is_empty());
    let given_up: Vec<String> = items
        .iter()
        .map(|item| format!("{}/failed", item.key))
        .collect();
    for item in items {
        assert_eq!(item.state, app::ports::DeliveryState::Failed, "{item:?}");
        let error = item.last_error.unwrap_or_default();
        assert!(error.contains("undelivered 24 h after"), "{error}");
    }
    let announced: Vec<String> = announcements.into_iter().map(|item| item.key).collect();
    assert_eq!(announced, given_up);
}

#[tokio::test]
async fn an_event_whose_deadlines_cannot_be_computed_is_refused_as_not_retryable() {
    // 400 company days off in a row: no open time within the calendar's search bound.
    let mut day = domain::jiff::civil::date(2026, 3, 1);
    let mut closed = Vec::new();
    for _ in 0..400 {
        closed.push(format!("\"{day}\""));
        day = day.tomorrow().unwrap();
    }
    let text = policy_file::DEFAULT_POLICY_TOML.replacen(
        "extra_closed = []",
        &format!("extra_closed = [{}]", closed.join(", ")),
        1,
    );
    let policy = Arc::new(policy_file::parse_policy(&text).unwrap());
    let clock = ManualClock::new(t0());
    let engine = Engine::new(
        policy,
        SqliteStore::in_memory().unwrap(),
        NoTimers,
        Accepting::default(),
        Arc::new(clock) as Arc<dyn Clock>,
    );

    let error = engine
        .ingest(&ticket_opened("zendesk-11", "evt-11"))
        .await
        .unwrap_err();

    assert!(matches!(error, EngineError::Decide { .. }), "{error}");
    assert!(!error.is_retryable());
}
