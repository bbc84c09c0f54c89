//! Building blocks: instants, a sample case, writes, outbox items and timeline entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub use app::ports::{
    CaseCursor, CasePage, CaseReader, CaseStore, CaseWrite, DeliveryOutcome, DeliveryState,
    Destination, NewOutboxItem, OutboxItem, Quarantine, StoreError, StoredCase, TimelineEntry,
    TimelineKind,
};
pub use domain::Timestamp;
pub use domain::case::{
    AlertContext, AlertKey, Case, CaseId, Change, ClockState, Effect, FieldTimes, RequestFacts,
    Requester, SlackKind, Status, TimerKind,
};
pub use domain::jiff::SignedDuration;
pub use domain::policy::{Channel, Labels, Plan, Priority, Severity};
pub use std::collections::{BTreeMap, BTreeSet, HashSet};
pub use std::sync::Arc;
pub use std::time::Duration;
pub use tokio::sync::Barrier;

/// Monday 2 March 2026, 09:00 UTC: the instant the tests count from.
pub fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().expect("valid timestamp")
}

/// `t0` plus `seconds` (negative: before).
pub fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

pub fn case_id(text: &str) -> CaseId {
    CaseId::parse(text).expect("valid case id")
}

/// A realistic urgent Enterprise ticket received at `received`, with its three timers.
pub fn sample_case(id: &str, received: Timestamp) -> Case {
    let mins = |n: i64| received + SignedDuration::from_mins(n);
    Case {
        id: case_id(id),
        request: RequestFacts {
            channel: Channel::Ticket,
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            received,
            labels: Labels {
                cluster: Some("c42".into()),
                website: Some("shop".into()),
            },
            subject: Some("Site down ✓ – «quotes» \"and\" 'apostrophes'".into()),
            requester: Some(Requester {
                name: Some("Jane Doe".into()),
                email: Some("jane@example.org".into()),
            }),
            link: Some(format!("https://example.zendesk.com/agent/tickets/{id}")),
            voicemail: None,
        },
        status: Status::Open,
        assignee: None,
        out_of_hours: false,
        dispatch: Some(ClockState::new(mins(15))),
        first_response: ClockState::new(mins(30)),
        first_response_warning_at: received + SignedDuration::from_secs(22 * 60 + 30),
        warned_at: None,
        chat_fallback: None,
        next_response: None,
        open_alerts: BTreeSet::new(),
        alert_responses: Default::default(),
        timers: BTreeMap::from([
            (TimerKind::Dispatch, mins(15)),
            (
                TimerKind::FirstResponseWarning,
                received + SignedDuration::from_secs(22 * 60 + 30),
            ),
            (TimerKind::FirstResponse, mins(30)),
        ]),
        applied: FieldTimes {
            status: received,
            assignment: received,
            priority: received,
            plan: received,
            labels: received,
        },
        last_event_at: received,
    }
}

/// `case` with exactly these timers.
pub fn with_timers(mut case: Case, timers: &[(TimerKind, Timestamp)]) -> Case {
    case.timers = timers.iter().copied().collect();
    case
}

/// A write that creates `case` at `case.received`, with no event, timeline or outbox.
pub fn create(case: Case) -> CaseWrite {
    let now = case.request.received;
    CaseWrite {
        case,
        expected_version: None,
        event_id: None,
        timeline: Vec::new(),
        outbox: Vec::new(),
        now,
    }
}

/// A write that updates `case` from `version`, at `now`.
pub fn update(case: Case, version: u64, now: Timestamp) -> CaseWrite {
    CaseWrite {
        case,
        expected_version: Some(version),
        event_id: None,
        timeline: Vec::new(),
        outbox: Vec::new(),
        now,
    }
}

pub fn item(case: &Case, effect: Effect) -> NewOutboxItem {
    NewOutboxItem {
        key: effect.idempotency_key(&case.id),
        effect,
    }
}

/// Page the on-call engineer for `alert`.
pub fn page(case: &Case, alert: AlertKey) -> NewOutboxItem {
    item(
        case,
        Effect::Page {
            alert,
            severity: Severity::Critical,
            context: AlertContext::of(case),
        },
    )
}

pub fn resolve(case: &Case, alert: AlertKey) -> NewOutboxItem {
    item(case, Effect::ResolvePage { alert })
}

pub fn slack(case: &Case, message: SlackKind) -> NewOutboxItem {
    item(
        case,
        Effect::NotifySlack {
            message,
            context: AlertContext::of(case),
        },
    )
}

/// A timeline entry for an applied provider event.
pub fn event_entry(when: Timestamp, event_id: &str) -> TimelineEntry {
    TimelineEntry {
        at: when,
        kind: TimelineKind::Event {
            event_id: event_id.to_owned(),
            occurred_at: when - SignedDuration::from_secs(2),
            change: Change::Opened,
        },
    }
}

pub fn decided_entry(when: Timestamp, outbox: &NewOutboxItem) -> TimelineEntry {
    TimelineEntry {
        at: when,
        kind: TimelineKind::Decided {
            key: outbox.key.clone(),
            effect: "page".to_owned(),
        },
    }
}

pub const LEASE: Duration = Duration::from_secs(30);

pub async fn commit_ok<S: CaseStore + CaseReader>(store: &S, write: CaseWrite) -> u64 {
    let id = write.case.id.clone();
    store
        .commit(write)
        .await
        .unwrap_or_else(|error| panic!("commit of {id} failed: {error}"))
}

/// Whether the store has applied `event_id`, asked without writing: a write that names the
/// event and a version of a case that does not exist fails either way, with `DuplicateEvent`
/// when the event was applied (the contract's precedence) and `Conflict` when not.
pub async fn event_applied<S: CaseStore + CaseReader>(store: &S, event_id: &str) -> bool {
    let mut probe = create(sample_case("probe-event", at(0)));
    probe.expected_version = Some(u64::MAX - 1);
    probe.event_id = Some(event_id.to_owned());
    match store.commit(probe).await {
        Err(StoreError::DuplicateEvent(id)) if id == event_id => true,
        Err(StoreError::Conflict(_)) => false,
        other => {
            panic!("probe for event {event_id}: expected a duplicate or a conflict, got {other:?}")
        }
    }
}

pub async fn claim_keys<S: CaseStore + CaseReader>(
    store: &S,
    now: Timestamp,
    limit: usize,
    case: Option<&CaseId>,
) -> Vec<String> {
    store
        .claim_outbox(now, LEASE, limit, case)
        .await
        .expect("claim")
        .into_iter()
        .map(|item| item.key)
        .collect()
}

pub async fn finish<S: CaseStore + CaseReader>(
    store: &S,
    key: &str,
    outcome: DeliveryOutcome,
    now: Timestamp,
) {
    store
        .finish_delivery(key, outcome, now)
        .await
        .expect("finish");
}

pub async fn outbox_of<S: CaseStore + CaseReader>(store: &S, case: &CaseId) -> Vec<OutboxItem> {
    store.outbox_of(case).await.expect("outbox_of")
}

pub fn keys_of(items: &[OutboxItem]) -> Vec<String> {
    items.iter().map(|item| item.key.clone()).collect()
}

pub fn keys(items: &[&NewOutboxItem]) -> Vec<String> {
    items.iter().map(|item| item.key.clone()).collect()
}

/// Create `id` at `at(offset)` with the given outbox items (written at that instant).
pub async fn case_with_items<S: CaseStore + CaseReader>(
    store: &S,
    id: &str,
    offset: i64,
    items: impl FnOnce(&Case) -> Vec<NewOutboxItem>,
) -> (Case, Vec<NewOutboxItem>) {
    let case = sample_case(id, at(offset));
    let outbox = items(&case);
    let mut write = create(case.clone());
    write.outbox = outbox.clone();
    commit_ok(store, write).await;
    (case, outbox)
}

pub fn ids(cases: &[&Case]) -> Vec<CaseId> {
    cases.iter().map(|case| case.id.clone()).collect()
}
