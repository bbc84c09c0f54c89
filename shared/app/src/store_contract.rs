//! The contract every [`CaseStore`] must pass, as async test functions generic over the store.
//!
//! Each function takes a fresh, empty store and panics when the store breaks the contract.
//! An adapter runs the whole suite with one line in an integration test file:
//!
//! ```ignore
//! app::store_contract_tests!(async { local::store::SqliteStore::in_memory().unwrap() });
//! ```
//!
//! The expression is evaluated (and awaited) once per test, so every test gets its own store.
//! It may also yield a `(store, guard)` pair: the guard (a temporary directory, a table to drop)
//! lives until the test ends. See [`Fixture`]. The calling crate needs `tokio` (with `macros`
//! and `rt-multi-thread`) among its dev-dependencies.
//!
//! # How the contract reads where `ports::store` leaves room
//!
//! - **Precedence.** A write that both names an applied event and fails its version check fails
//!   with [`StoreError::DuplicateEvent`]: it is the final answer, while a `Conflict` would only
//!   make the caller reload and fail again.
//! - **A version for a case that does not exist** (`expected_version: Some(_)`, no case) is a
//!   [`StoreError::Conflict`].
//! - **Outbox keys are unique per store** (not per case), and within one write the first item of
//!   a key wins. A new item is created with `created_at = next_attempt_at = write.now`.
//! - **Leases.** An item is leased until `now + lease`; the lease has expired when
//!   `lease_until <= now`. `finish_delivery` ends the lease.
//! - **Order per lane.** Every item has a delivery lane, `Effect::delivery_lane`: a page and
//!   its resolve share one (the alert), every Slack message and e-mail has its own. An item is
//!   held back while an older item of its lane is still [`DeliveryState::Pending`], whether
//!   that one is leased, waiting for a retry or claimable. So a resolve never overtakes its
//!   trigger, and an item that keeps failing holds back only the later items of its own lane.
//! - **Attempts.** `Delivered`, `Failed` and `RetryAt` each count one attempt; `NotSent` does not
//!   (nothing was sent). `RetryAt` records `last_error` and sets `next_attempt_at = at`;
//!   `Failed` records `last_error`; `Delivered` and `NotSent` record `detail`.
//! - **Final is final.** Finishing an item that is final already changes nothing and appends no
//!   second timeline entry (a lease that ran out can make two workers deliver one item).
//!   Finishing an unknown key is no error either.
//! - **The `Delivered` timeline entry** is written at the `now` given to `finish_delivery`;
//!   its `outcome` is the final state in snake case (`delivered`, `not_sent`, `failed`),
//!   followed by `": "` and the detail, reason or error.
//! - **Unknown cases** have an empty timeline and an empty outbox.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ports::store::{
    CaseStore, CaseWrite, DeliveryOutcome, DeliveryState, NewOutboxItem, OutboxItem, StoreError,
    StoredCase, TimelineEntry, TimelineKind,
};
use domain::Timestamp;
use domain::case::{
    AlertContext, AlertKey, Case, CaseId, Change, ClockState, Effect, FieldTimes, Requester,
    SlackKind, Status, TimerKind,
};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Labels, Plan, Priority, Severity};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// What a contract test factory yields: a store, or a store with a guard that must outlive it.
pub trait Fixture {
    type Store: CaseStore;
    type Guard;
    fn into_parts(self) -> (Self::Store, Self::Guard);
}

impl<S: CaseStore> Fixture for S {
    type Store = S;
    type Guard = ();
    fn into_parts(self) -> (S, ()) {
        (self, ())
    }
}

impl<S: CaseStore, G> Fixture for (S, G) {
    type Store = S;
    type Guard = G;
    fn into_parts(self) -> (S, G) {
        self
    }
}

/// Expands to one `#[tokio::test]` per contract test, each with a store made by `$factory`
/// (an expression yielding a future of a [`Fixture`], such as an `async` block).
#[macro_export]
macro_rules! store_contract_tests {
    ($factory:expr) => {
        $crate::store_contract_tests!(@each $factory;
            a_new_case_is_stored_at_version_1,
            unknown_ids_return_nothing,
            creating_a_case_that_exists_conflicts,
            a_version_for_an_unknown_case_conflicts,
            a_stale_version_conflicts,
            the_right_version_increments_it,
            a_duplicate_event_is_rejected_and_writes_nothing,
            a_duplicate_event_wins_over_a_conflict,
            a_conflicting_commit_writes_nothing,
            event_seen_reports_applied_events,
            concurrent_creations_of_one_case_let_exactly_one_win,
            concurrent_commits_of_one_event_let_exactly_one_win,
            concurrent_updates_at_one_version_let_exactly_one_win,
            the_timeline_comes_back_in_write_order,
            a_final_delivery_appends_a_delivered_entry,
            new_outbox_items_are_pending_with_no_attempts,
            an_outbox_item_whose_key_exists_is_skipped,
            claim_returns_due_pending_items_oldest_first,
            claim_respects_the_limit,
            claim_filters_by_case,
            a_claimed_item_is_leased_until_the_lease_expires,
            concurrent_claims_never_return_the_same_item,
            an_item_waits_for_older_pending_items_of_its_lane,
            an_item_waiting_for_a_retry_holds_back_nothing_outside_its_lane,
            final_outcomes_are_recorded_and_never_claimed_again,
            a_retry_counts_the_attempt_and_waits_until_its_time,
            finishing_a_final_item_again_changes_nothing,
            due_cases_are_those_whose_next_due_has_passed_earliest_first,
            a_case_without_timers_is_never_due,
            next_due_is_the_earliest_and_follows_recommits,
            cases_are_listed_most_recently_received_first,
            outbox_of_returns_every_item_of_a_case_oldest_first,
        );
    };
    (@each $factory:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let (store, _guard) =
                    $crate::store_contract::Fixture::into_parts($factory.await);
                $crate::store_contract::$name(store).await;
            }
        )+
    };
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

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
        status: Status::Open,
        assignee: None,
        out_of_hours: false,
        dispatch: Some(ClockState::new(mins(15))),
        first_response: ClockState::new(mins(30)),
        first_response_warning_at: received + SignedDuration::from_secs(22 * 60 + 30),
        warned_at: None,
        chat_fallback: None,
        open_alerts: BTreeSet::new(),
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
    let now = case.received;
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

fn item(case: &Case, effect: Effect) -> NewOutboxItem {
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

pub fn schedule(case: &Case, timer: TimerKind, when: Timestamp) -> NewOutboxItem {
    item(case, Effect::ScheduleTimer { timer, at: when })
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

const LEASE: Duration = Duration::from_secs(30);

async fn commit_ok<S: CaseStore>(store: &S, write: CaseWrite) -> u64 {
    let id = write.case.id.clone();
    store
        .commit(write)
        .await
        .unwrap_or_else(|error| panic!("commit of {id} failed: {error}"))
}

async fn claim_keys<S: CaseStore>(
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

async fn finish<S: CaseStore>(store: &S, key: &str, outcome: DeliveryOutcome, now: Timestamp) {
    store
        .finish_delivery(key, outcome, now)
        .await
        .expect("finish");
}

async fn outbox_of<S: CaseStore>(store: &S, case: &CaseId) -> Vec<OutboxItem> {
    store.outbox_of(case).await.expect("outbox_of")
}

fn keys_of(items: &[OutboxItem]) -> Vec<String> {
    items.iter().map(|item| item.key.clone()).collect()
}

fn keys(items: &[&NewOutboxItem]) -> Vec<String> {
    items.iter().map(|item| item.key.clone()).collect()
}

/// Create `id` at `at(offset)` with the given outbox items (written at that instant).
async fn case_with_items<S: CaseStore>(
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

// ---------------------------------------------------------------------------------------------
// Cases and versions
// ---------------------------------------------------------------------------------------------

pub async fn a_new_case_is_stored_at_version_1<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-5158", at(0));
    assert_eq!(commit_ok(&store, create(case.clone())).await, 1);
    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(loaded, Some(StoredCase { case, version: 1 }));
}

pub async fn unknown_ids_return_nothing<S: CaseStore>(store: S) {
    let unknown = case_id("zendesk-404");
    assert_eq!(store.load(&unknown).await.expect("load"), None);
    assert_eq!(store.timeline(&unknown).await.expect("timeline"), vec![]);
    assert_eq!(outbox_of(&store, &unknown).await, vec![]);
    assert!(!store.event_seen("evt-404").await.expect("event_seen"));
    assert_eq!(store.next_due().await.expect("next_due"), None);
    assert_eq!(store.list_cases(10).await.expect("list"), vec![]);
    assert_eq!(store.due_cases(at(86_400), 10).await.expect("due"), vec![]);
    assert_eq!(
        claim_keys(&store, at(86_400), 10, None).await,
        Vec::<String>::new()
    );

    // Another case existing changes nothing about the unknown one.
    commit_ok(&store, create(sample_case("zendesk-1", at(0)))).await;
    assert_eq!(store.load(&unknown).await.expect("load"), None);
}

pub async fn creating_a_case_that_exists_conflicts<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;

    let mut other = case.clone();
    other.subject = Some("overwritten".into());
    let result = store.commit(create(other)).await;
    assert_eq!(result, Err(StoreError::Conflict(case.id.clone())));

    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(loaded, Some(StoredCase { case, version: 1 }));
}

pub async fn a_version_for_an_unknown_case_conflicts<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let result = store.commit(update(case.clone(), 1, at(0))).await;
    assert_eq!(result, Err(StoreError::Conflict(case.id.clone())));
    assert_eq!(store.load(&case.id).await.expect("load"), None);
}

pub async fn a_stale_version_conflicts<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;
    let mut second = case.clone();
    second.assignee = Some("alice".into());
    assert_eq!(
        commit_ok(&store, update(second.clone(), 1, at(10))).await,
        2
    );

    let mut stale = case.clone();
    stale.assignee = Some("bob".into());
    for version in [1, 3, 99] {
        let result = store.commit(update(stale.clone(), version, at(20))).await;
        assert_eq!(
            result,
            Err(StoreError::Conflict(case.id.clone())),
            "expected version {version}"
        );
    }
    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(
        loaded,
        Some(StoredCase {
            case: second,
            version: 2
        })
    );
}

pub async fn the_right_version_increments_it<S: CaseStore>(store: S) {
    let mut case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;
    for version in 1..=5 {
        case.assignee = Some(format!("agent-{version}"));
        let written = commit_ok(&store, update(case.clone(), version, at(version as i64))).await;
        assert_eq!(written, version + 1);
        let loaded = store.load(&case.id).await.expect("load").expect("stored");
        assert_eq!(loaded.version, version + 1);
        assert_eq!(loaded.case, case);
    }
}

// ---------------------------------------------------------------------------------------------
// Event deduplication and atomicity
// ---------------------------------------------------------------------------------------------

pub async fn a_duplicate_event_is_rejected_and_writes_nothing<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let mut first = create(case.clone());
    first.event_id = Some("evt-1".into());
    first.timeline = vec![event_entry(at(0), "evt-1")];
    first.outbox = vec![trigger.clone()];
    commit_ok(&store, first).await;
    assert!(store.event_seen("evt-1").await.expect("event_seen"));

    // The same event again, on the same case: rejected, nothing of it visible.
    let mut changed = case.clone();
    changed.assignee = Some("alice".into());
    let mut again = update(changed.clone(), 1, at(60));
    again.event_id = Some("evt-1".into());
    again.timeline = vec![event_entry(at(60), "evt-1"), event_entry(at(60), "evt-1")];
    again.outbox = vec![
        slack(&changed, SlackKind::DispatchBreached),
        page(&changed, AlertKey::FirstResponse),
    ];
    let result = store.commit(again).await;
    assert_eq!(result, Err(StoreError::DuplicateEvent("evt-1".into())));

    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(
        loaded,
        Some(StoredCase {
            case: case.clone(),
            version: 1
        })
    );
    assert_eq!(
        store.timeline(&case.id).await.expect("timeline"),
        vec![event_entry(at(0), "evt-1")]
    );
    assert_eq!(
        keys_of(&outbox_of(&store, &case.id).await),
        vec![trigger.key.clone()]
    );

    // The same event naming another, new case: rejected, the case is not created.
    let other = sample_case("zendesk-2", at(30));
    let mut elsewhere = create(other.clone());
    elsewhere.event_id = Some("evt-1".into());
    elsewhere.timeline = vec![event_entry(at(30), "evt-1")];
    elsewhere.outbox = vec![page(&other, AlertKey::Dispatch)];
    let result = store.commit(elsewhere).await;
    assert_eq!(result, Err(StoreError::DuplicateEvent("evt-1".into())));
    assert_eq!(store.load(&other.id).await.expect("load"), None);
    assert_eq!(store.timeline(&other.id).await.expect("timeline"), vec![]);
    assert_eq!(outbox_of(&store, &other.id).await, vec![]);
    assert_eq!(store.list_cases(10).await.expect("list").len(), 1);

    // Only the first write's item is ever offered.
    assert_eq!(
        claim_keys(&store, at(3600), 10, None).await,
        vec![trigger.key]
    );
}

pub async fn a_duplicate_event_wins_over_a_conflict<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let mut first = create(case.clone());
    first.event_id = Some("evt-1".into());
    commit_ok(&store, first).await;

    let mut exists = create(case.clone());
    exists.event_id = Some("evt-1".into());
    assert_eq!(
        store.commit(exists).await,
        Err(StoreError::DuplicateEvent("evt-1".into()))
    );
    let mut stale = update(case.clone(), 7, at(5));
    stale.event_id = Some("evt-1".into());
    assert_eq!(
        store.commit(stale).await,
        Err(StoreError::DuplicateEvent("evt-1".into()))
    );
}

pub async fn a_conflicting_commit_writes_nothing<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let mut first = create(case.clone());
    first.timeline = vec![event_entry(at(0), "evt-1")];
    commit_ok(&store, first).await;

    let mut changed = case.clone();
    changed.assignee = Some("alice".into());
    changed.timers.clear();
    let trigger = page(&changed, AlertKey::Dispatch);
    let make = |expected_version| CaseWrite {
        case: changed.clone(),
        expected_version,
        event_id: Some("evt-2".into()),
        timeline: vec![event_entry(at(60), "evt-2")],
        outbox: vec![trigger.clone()],
        now: at(60),
    };
    for expected in [None, Some(2)] {
        let result = store.commit(make(expected)).await;
        assert_eq!(result, Err(StoreError::Conflict(case.id.clone())));
    }

    assert!(!store.event_seen("evt-2").await.expect("event_seen"));
    assert_eq!(
        store.timeline(&case.id).await.expect("timeline"),
        vec![event_entry(at(0), "evt-1")]
    );
    assert_eq!(outbox_of(&store, &case.id).await, vec![]);
    assert_eq!(
        claim_keys(&store, at(3600), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        store.next_due().await.expect("next_due"),
        case.next_due(),
        "the failed write's timers must not count"
    );

    // The event was not consumed: the write succeeds at the right version.
    assert_eq!(commit_ok(&store, make(Some(1))).await, 2);
    assert!(store.event_seen("evt-2").await.expect("event_seen"));
    assert_eq!(store.timeline(&case.id).await.expect("timeline").len(), 2);
    assert_eq!(
        keys_of(&outbox_of(&store, &case.id).await),
        vec![trigger.key]
    );
}

pub async fn event_seen_reports_applied_events<S: CaseStore>(store: S) {
    assert!(!store.event_seen("evt-1").await.expect("event_seen"));
    let case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;
    assert!(!store.event_seen("evt-1").await.expect("event_seen"));

    let mut write = update(case.clone(), 1, at(5));
    write.event_id = Some("evt-1".into());
    commit_ok(&store, write).await;
    assert!(store.event_seen("evt-1").await.expect("event_seen"));
    assert!(!store.event_seen("evt-2").await.expect("event_seen"));
    assert!(!store.event_seen("EVT-1").await.expect("event_seen"));
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

const WRITERS: usize = 20;

pub async fn concurrent_creations_of_one_case_let_exactly_one_win<S: CaseStore>(store: S) {
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let mut case = sample_case("zendesk-1", at(0));
            case.assignee = Some(format!("agent-{n}"));
            let mut write = create(case.clone());
            let event = format!("evt-{n}");
            write.event_id = Some(event.clone());
            write.timeline = vec![event_entry(at(0), &event)];
            write.outbox = vec![slack(&case, SlackKind::NewChat), {
                let mut own = page(&case, AlertKey::Dispatch);
                own.key = format!("{}/{n}", own.key);
                own
            }];
            barrier.wait().await;
            (n, store.commit(write).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, result) = task.await.expect("task");
        match result {
            Ok(version) => {
                assert_eq!(version, 1);
                winners.push(n);
            }
            Err(StoreError::Conflict(id)) => assert_eq!(id.as_str(), "zendesk-1"),
            Err(other) => panic!("writer {n}: unexpected {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = winners[0];

    let id = case_id("zendesk-1");
    let loaded = store.load(&id).await.expect("load").expect("stored");
    assert_eq!(loaded.case.assignee, Some(format!("agent-{winner}")));
    assert_eq!(
        store.timeline(&id).await.expect("timeline"),
        vec![event_entry(at(0), &format!("evt-{winner}"))]
    );
    let outbox = outbox_of(&*store, &id).await;
    assert_eq!(outbox.len(), 2);
    assert!(outbox[1].key.ends_with(&format!("/{winner}")));
    for n in 0..WRITERS {
        let seen = store.event_seen(&format!("evt-{n}")).await.expect("seen");
        assert_eq!(seen, n == winner, "event of writer {n}");
    }
}

pub async fn concurrent_commits_of_one_event_let_exactly_one_win<S: CaseStore>(store: S) {
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let case = sample_case(&format!("zendesk-{n}"), at(0));
            let mut write = create(case.clone());
            write.event_id = Some("evt-same".into());
            write.timeline = vec![event_entry(at(0), "evt-same")];
            write.outbox = vec![page(&case, AlertKey::Dispatch)];
            barrier.wait().await;
            (n, store.commit(write).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, result) = task.await.expect("task");
        match result {
            Ok(version) => {
                assert_eq!(version, 1);
                winners.push(n);
            }
            Err(StoreError::DuplicateEvent(event)) => assert_eq!(event, "evt-same"),
            Err(other) => panic!("writer {n}: unexpected {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let listed = store.list_cases(100).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].case.id.as_str(),
        format!("zendesk-{}", winners[0])
    );
    assert_eq!(claim_keys(&*store, at(60), 100, None).await.len(), 1);
}

pub async fn concurrent_updates_at_one_version_let_exactly_one_win<S: CaseStore>(store: S) {
    let base = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(base.clone())).await;
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, barrier, mut case) = (Arc::clone(&store), Arc::clone(&barrier), base.clone());
        tasks.push(tokio::spawn(async move {
            case.assignee = Some(format!("agent-{n}"));
            let mut write = update(case, 1, at(10));
            write.event_id = Some(format!("evt-{n}"));
            write.timeline = vec![event_entry(at(10), &format!("evt-{n}"))];
            barrier.wait().await;
            (n, store.commit(write).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, result) = task.await.expect("task");
        match result {
            Ok(version) => {
                assert_eq!(version, 2);
                winners.push(n);
            }
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("writer {n}: unexpected {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let loaded = store.load(&base.id).await.expect("load").expect("stored");
    assert_eq!(loaded.version, 2);
    assert_eq!(loaded.case.assignee, Some(format!("agent-{}", winners[0])));
    assert_eq!(store.timeline(&base.id).await.expect("timeline").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Timeline
// ---------------------------------------------------------------------------------------------

pub async fn the_timeline_comes_back_in_write_order<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let other = sample_case("zendesk-2", at(0));
    // Write order, not time order: the third entry claims an earlier instant.
    let entries = [
        event_entry(at(0), "evt-a"),
        TimelineEntry {
            at: at(1),
            kind: TimelineKind::Swept,
        },
        event_entry(at(-100), "evt-c"),
        TimelineEntry {
            at: at(20),
            kind: TimelineKind::TimerFired {
                timer: TimerKind::FirstResponse,
            },
        },
        decided_entry(at(20), &page(&case, AlertKey::FirstResponse)),
    ];

    let mut write = create(case.clone());
    write.timeline = entries[..2].to_vec();
    commit_ok(&store, write).await;
    let mut noise = create(other.clone());
    noise.timeline = vec![event_entry(at(5), "evt-noise")];
    commit_ok(&store, noise).await;
    let mut write = update(case.clone(), 1, at(10));
    write.timeline = entries[2..3].to_vec();
    commit_ok(&store, write).await;
    commit_ok(&store, update(case.clone(), 2, at(15))).await;
    let mut write = update(case.clone(), 3, at(20));
    write.timeline = entries[3..].to_vec();
    commit_ok(&store, write).await;

    assert_eq!(
        store.timeline(&case.id).await.expect("timeline"),
        entries.to_vec()
    );
    assert_eq!(
        store.timeline(&other.id).await.expect("timeline"),
        vec![event_entry(at(5), "evt-noise")]
    );
}

pub async fn a_final_delivery_appends_a_delivered_entry<S: CaseStore>(store: S) {
    let outcomes = [
        (
            "zendesk-1",
            DeliveryOutcome::Delivered {
                detail: "202 accepted".into(),
            },
            "delivered",
        ),
        (
            "zendesk-2",
            DeliveryOutcome::NotSent {
                reason: "no Slack webhook configured".into(),
            },
            "not_sent",
        ),
        (
            "zendesk-3",
            DeliveryOutcome::Failed {
                error: "400 invalid routing key".into(),
            },
            "failed",
        ),
    ];
    for (n, (id, outcome, state)) in outcomes.into_iter().enumerate() {
        let (case, items) = case_with_items(&store, id, n as i64, |case| {
            vec![page(case, AlertKey::Dispatch)]
        })
        .await;
        let mut write = update(case.clone(), 1, at(10));
        write.timeline = vec![event_entry(at(10), "evt")];
        commit_ok(&store, write).await;
        let claimed = claim_keys(&store, at(100), 10, Some(&case.id)).await;
        assert_eq!(claimed, keys(&[&items[0]]));

        // A retry is not final: no entry.
        finish(
            &store,
            &items[0].key,
            DeliveryOutcome::RetryAt {
                at: at(150),
                error: "timeout".into(),
            },
            at(101),
        )
        .await;
        assert_eq!(store.timeline(&case.id).await.expect("timeline").len(), 1);

        let claimed = claim_keys(&store, at(150), 10, Some(&case.id)).await;
        assert_eq!(claimed, keys(&[&items[0]]));
        store
            .finish_delivery(&items[0].key, outcome, at(200))
            .await
            .expect("finish");
        let timeline = store.timeline(&case.id).await.expect("timeline");
        assert_eq!(timeline.len(), 2, "{id}: {timeline:?}");
        assert_eq!(timeline[0], event_entry(at(10), "evt"));
        assert_eq!(timeline[1].at, at(200));
        match &timeline[1].kind {
            TimelineKind::Delivered { key, outcome } => {
                assert_eq!(key, &items[0].key);
                assert!(
                    outcome.starts_with(state),
                    "outcome {outcome:?} should start with {state:?}"
                );
            }
            other => panic!("expected a Delivered entry, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Outbox
// ---------------------------------------------------------------------------------------------

pub async fn new_outbox_items_are_pending_with_no_attempts<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let items = vec![
        schedule(&case, TimerKind::Dispatch, at(900)),
        page(&case, AlertKey::Dispatch),
        slack(&case, SlackKind::DispatchBreached),
    ];
    let mut write = create(case.clone());
    write.outbox = items.clone();
    write.now = at(7);
    commit_ok(&store, write).await;

    let stored = outbox_of(&store, &case.id).await;
    let expected: Vec<OutboxItem> = items
        .into_iter()
        .map(|new| OutboxItem {
            key: new.key,
            case_id: case.id.clone(),
            effect: new.effect,
            created_at: at(7),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: at(7),
            last_error: None,
            detail: None,
        })
        .collect();
    assert_eq!(stored, expected);
}

pub async fn an_outbox_item_whose_key_exists_is_skipped<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let notice = slack(&case, SlackKind::DispatchBreached);
    let mut write = create(case.clone());
    // Within one write, the first item of a key wins.
    let mut twin = trigger.clone();
    twin.effect = Effect::ResolvePage {
        alert: AlertKey::Dispatch,
    };
    write.outbox = vec![trigger.clone(), twin];
    commit_ok(&store, write).await;
    assert_eq!(claim_keys(&store, at(1), 10, None).await, keys(&[&trigger]));
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::RetryAt {
            at: at(100),
            error: "503".into(),
        },
        at(2),
    )
    .await;
    let before = outbox_of(&store, &case.id).await;
    assert_eq!(before.len(), 1);

    // A later write repeating the key (with another effect) neither duplicates nor resets it.
    let mut changed = case.clone();
    changed.priority = Priority::High;
    let mut repeated = page(&changed, AlertKey::Dispatch);
    repeated.key.clone_from(&trigger.key);
    let mut write = update(changed, 1, at(50));
    write.outbox = vec![repeated, notice.clone()];
    assert_eq!(commit_ok(&store, write).await, 2);

    let after = outbox_of(&store, &case.id).await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], before[0]);
    assert_eq!(after[0].attempts, 1);
    assert_eq!(after[0].effect, trigger.effect);
    assert_eq!(after[1].key, notice.key);

    // Keys are unique per store: another case's item with the same key is skipped too.
    let other = sample_case("zendesk-2", at(60));
    let mut clash = slack(&other, SlackKind::NewChat);
    clash.key.clone_from(&notice.key);
    let mut write = create(other.clone());
    write.outbox = vec![clash];
    commit_ok(&store, write).await;
    assert_eq!(outbox_of(&store, &other.id).await, vec![]);
    assert_eq!(outbox_of(&store, &case.id).await, after);
}

pub async fn claim_returns_due_pending_items_oldest_first<S: CaseStore>(store: S) {
    let (_, a) = case_with_items(&store, "zendesk-a", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (_, c) = case_with_items(&store, "zendesk-c", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (_, b) = case_with_items(&store, "zendesk-b", 2, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    // Written later, and not yet due at the time of the claim.
    let (_, late) = case_with_items(&store, "zendesk-d", 40, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;

    let claimed = store
        .claim_outbox(at(30), LEASE, 10, None)
        .await
        .expect("claim");
    assert_eq!(keys_of(&claimed), keys(&[&a[0], &c[0], &b[0]]));
    for item in &claimed {
        assert_eq!(item.state, DeliveryState::Pending);
        assert_eq!(item.attempts, 0);
    }
    assert_eq!(claimed[0].effect, a[0].effect);
    assert_eq!(claimed[0].case_id.as_str(), "zendesk-a");

    // The first three are leased until at(60).
    assert_eq!(
        claim_keys(&store, at(45), 10, None).await,
        keys(&[&late[0]])
    );
    assert_eq!(
        claim_keys(&store, at(0), 0, None).await,
        Vec::<String>::new()
    );
}

pub async fn claim_respects_the_limit<S: CaseStore>(store: S) {
    let mut all = Vec::new();
    for n in 0..5 {
        let (_, items) = case_with_items(&store, &format!("zendesk-{n}"), n, |c| {
            vec![page(c, AlertKey::Dispatch)]
        })
        .await;
        all.extend(items);
    }
    assert_eq!(
        claim_keys(&store, at(10), 2, None).await,
        keys(&[&all[0], &all[1]])
    );
    assert_eq!(
        claim_keys(&store, at(10), 2, None).await,
        keys(&[&all[2], &all[3]])
    );
    assert_eq!(claim_keys(&store, at(10), 2, None).await, keys(&[&all[4]]));
    assert_eq!(
        claim_keys(&store, at(10), 2, None).await,
        Vec::<String>::new()
    );
}

pub async fn claim_filters_by_case<S: CaseStore>(store: S) {
    let (a, a_items) = case_with_items(&store, "zendesk-a", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (b, b_items) = case_with_items(&store, "zendesk-b", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    assert_eq!(
        claim_keys(&store, at(10), 10, Some(&b.id)).await,
        keys(&[&b_items[0]])
    );
    assert_eq!(
        claim_keys(&store, at(10), 10, Some(&case_id("zendesk-none"))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        keys(&[&a_items[0]])
    );
    assert_eq!(
        claim_keys(&store, at(10), 10, Some(&a.id)).await,
        Vec::<String>::new()
    );
}

pub async fn a_claimed_item_is_leased_until_the_lease_expires<S: CaseStore>(store: S) {
    let (_, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let claimed = keys(&[&items[0]]);
    assert_eq!(claim_keys(&store, at(10), 10, None).await, claimed);
    // LEASE is 30 s: leased until at(40).
    assert_eq!(
        claim_keys(&store, at(11), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(39), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(claim_keys(&store, at(41), 10, None).await, claimed);
    assert_eq!(
        claim_keys(&store, at(50), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(claim_keys(&store, at(72), 10, None).await, claimed);

    let stored = outbox_of(&store, &case_id("zendesk-1")).await;
    assert_eq!(stored[0].state, DeliveryState::Pending);
    assert_eq!(stored[0].attempts, 0, "a claim alone is not an attempt");
}

pub async fn concurrent_claims_never_return_the_same_item<S: CaseStore>(store: S) {
    const CASES: usize = 40;
    const CLAIMERS: usize = 8;
    for n in 0..CASES {
        case_with_items(&store, &format!("zendesk-{n}"), n as i64, |c| {
            vec![page(c, AlertKey::Dispatch)]
        })
        .await;
    }
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(CLAIMERS));
    let mut tasks = Vec::new();
    for _ in 0..CLAIMERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = claim_keys(&*store, at(100), 3, None).await;
                if batch.is_empty() {
                    break mine;
                }
                mine.extend(batch);
            }
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for key in task.await.expect("task") {
            assert!(seen.insert(key.clone()), "{key} was claimed twice");
        }
    }
    assert_eq!(seen.len(), CASES);
}

pub async fn an_item_waits_for_older_pending_items_of_its_lane<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let notice = slack(&case, SlackKind::DispatchBreached);
    let mut write = create(case.clone());
    write.outbox = vec![trigger.clone(), notice.clone()];
    commit_ok(&store, write).await;
    let resolution = resolve(&case, AlertKey::Dispatch);
    let other_alert = page(&case, AlertKey::FirstResponse);
    let mut write = update(case.clone(), 1, at(5));
    write.outbox = vec![resolution.clone(), other_alert.clone()];
    commit_ok(&store, write).await;
    let (_, other) = case_with_items(&store, "zendesk-2", 6, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;

    // The head of every lane, oldest first; the resolve waits behind its trigger.
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        keys(&[&trigger, &notice, &other_alert, &other[0]])
    );
    // The trigger is leased, still pending: its resolve is not offered.
    assert_eq!(
        claim_keys(&store, at(11), 10, None).await,
        Vec::<String>::new()
    );
    for delivered in [&notice, &other_alert] {
        finish(
            &store,
            &delivered.key,
            DeliveryOutcome::Delivered {
                detail: "ok".into(),
            },
            at(12),
        )
        .await;
    }
    // Waiting for a retry, still pending: its resolve is not offered.
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::RetryAt {
            at: at(100),
            error: "503".into(),
        },
        at(12),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(50), 10, Some(&case.id)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(100), 10, Some(&case.id)).await,
        keys(&[&trigger])
    );
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(101),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(102), 10, Some(&case.id)).await,
        keys(&[&resolution])
    );
}

pub async fn an_item_waiting_for_a_retry_holds_back_nothing_outside_its_lane<S: CaseStore>(
    store: S,
) {
    let (case, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![slack(c, SlackKind::DispatchBreached)]
    })
    .await;
    let notice = &items[0];
    assert_eq!(
        claim_keys(&store, at(1), 10, Some(&case.id)).await,
        keys(&[notice])
    );
    finish(
        &store,
        &notice.key,
        DeliveryOutcome::RetryAt {
            at: at(3600),
            error: "Slack answered 503".into(),
        },
        at(2),
    )
    .await;
    let trigger = page(&case, AlertKey::Dispatch);
    let mut write = update(case.clone(), 1, at(5));
    write.outbox = vec![trigger.clone()];
    commit_ok(&store, write).await;

    // The page goes out now, not after the Slack message's retry an hour later.
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        keys(&[&trigger])
    );
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(11),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(3600), 10, Some(&case.id)).await,
        keys(&[notice])
    );
}

pub async fn final_outcomes_are_recorded_and_never_claimed_again<S: CaseStore>(store: S) {
    let (a, _) = case_with_items(&store, "zendesk-a", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (b, _) = case_with_items(&store, "zendesk-b", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (c, _) = case_with_items(&store, "zendesk-c", 2, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let claimed = store
        .claim_outbox(at(10), LEASE, 10, None)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    let outcomes = [
        DeliveryOutcome::Delivered {
            detail: "202 dedup_key=zendesk-a/dispatch".into(),
        },
        DeliveryOutcome::NotSent {
            reason: "no routing key configured".into(),
        },
        DeliveryOutcome::Failed {
            error: "400 Bad Request".into(),
        },
    ];
    for (item, outcome) in claimed.iter().zip(outcomes) {
        store
            .finish_delivery(&item.key, outcome, at(11))
            .await
            .expect("finish");
    }

    let a_item = &outbox_of(&store, &a.id).await[0];
    assert_eq!(a_item.state, DeliveryState::Delivered);
    assert_eq!(
        a_item.detail.as_deref(),
        Some("202 dedup_key=zendesk-a/dispatch")
    );
    assert_eq!(a_item.attempts, 1);
    assert_eq!(a_item.last_error, None);

    let b_item = &outbox_of(&store, &b.id).await[0];
    assert_eq!(b_item.state, DeliveryState::NotSent);
    assert_eq!(b_item.detail.as_deref(), Some("no routing key configured"));
    assert_eq!(b_item.attempts, 0);

    let c_item = &outbox_of(&store, &c.id).await[0];
    assert_eq!(c_item.state, DeliveryState::Failed);
    assert_eq!(c_item.last_error.as_deref(), Some("400 Bad Request"));
    assert_eq!(c_item.attempts, 1);

    for now in [at(12), at(10_000), at(10_000_000)] {
        assert_eq!(
            claim_keys(&store, now, 10, None).await,
            Vec::<String>::new()
        );
    }
}

pub async fn a_retry_counts_the_attempt_and_waits_until_its_time<S: CaseStore>(store: S) {
    let (case, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let key = &items[0].key;
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        vec![key.clone()]
    );
    finish(
        &store,
        key,
        DeliveryOutcome::RetryAt {
            at: at(70),
            error: "503 Service Unavailable".into(),
        },
        at(11),
    )
    .await;
    let stored = &outbox_of(&store, &case.id).await[0];
    assert_eq!(stored.state, DeliveryState::Pending);
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.next_attempt_at, at(70));
    assert_eq!(
        stored.last_error.as_deref(),
        Some("503 Service Unavailable")
    );

    // Not before `at`, even though the lease was given back.
    assert_eq!(
        claim_keys(&store, at(69), 10, None).await,
        Vec::<String>::new()
    );
    let again = store
        .claim_outbox(at(70), LEASE, 10, None)
        .await
        .expect("claim");
    assert_eq!(keys_of(&again), vec![key.clone()]);
    assert_eq!(again[0].attempts, 1);

    finish(
        &store,
        key,
        DeliveryOutcome::RetryAt {
            at: at(200),
            error: "timeout".into(),
        },
        at(71),
    )
    .await;
    let stored = &outbox_of(&store, &case.id).await[0];
    assert_eq!(stored.attempts, 2);
    assert_eq!(stored.last_error.as_deref(), Some("timeout"));
    assert_eq!(
        claim_keys(&store, at(199), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(200), 10, None).await,
        vec![key.clone()]
    );
}

pub async fn finishing_a_final_item_again_changes_nothing<S: CaseStore>(store: S) {
    let (case, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let key = &items[0].key;
    claim_keys(&store, at(10), 10, None).await;
    finish(
        &store,
        key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(11),
    )
    .await;
    let before = outbox_of(&store, &case.id).await;
    let timeline = store.timeline(&case.id).await.expect("timeline");

    for outcome in [
        DeliveryOutcome::Failed {
            error: "late".into(),
        },
        DeliveryOutcome::RetryAt {
            at: at(20),
            error: "late".into(),
        },
        DeliveryOutcome::Delivered {
            detail: "again".into(),
        },
    ] {
        store
            .finish_delivery(key, outcome, at(12))
            .await
            .expect("finish");
    }
    assert_eq!(outbox_of(&store, &case.id).await, before);
    assert_eq!(store.timeline(&case.id).await.expect("timeline"), timeline);
    assert_eq!(
        claim_keys(&store, at(100), 10, None).await,
        Vec::<String>::new()
    );

    // An unknown key is no error.
    store
        .finish_delivery(
            "zendesk-404/dispatch/trigger",
            DeliveryOutcome::Delivered {
                detail: "202".into(),
            },
            at(13),
        )
        .await
        .expect("finish of an unknown key");
}

// ---------------------------------------------------------------------------------------------
// Due cases
// ---------------------------------------------------------------------------------------------

async fn due_fixture<S: CaseStore>(store: &S) -> [Case; 5] {
    let a = with_timers(
        sample_case("zendesk-a", at(0)),
        &[(TimerKind::FirstResponse, at(30))],
    );
    let b = with_timers(
        sample_case("zendesk-b", at(1)),
        &[
            (TimerKind::FirstResponse, at(100)),
            (TimerKind::Dispatch, at(10)),
        ],
    );
    let c = with_timers(
        sample_case("zendesk-c", at(2)),
        &[(TimerKind::FirstResponseWarning, at(20))],
    );
    let d = with_timers(sample_case("zendesk-d", at(3)), &[]);
    let e = with_timers(
        sample_case("zendesk-e", at(4)),
        &[(TimerKind::ChatFallback, at(500))],
    );
    let cases = [a, b, c, d, e];
    for case in &cases {
        commit_ok(store, create(case.clone())).await;
    }
    cases
}

fn ids(cases: &[&Case]) -> Vec<CaseId> {
    cases.iter().map(|case| case.id.clone()).collect()
}

pub async fn due_cases_are_those_whose_next_due_has_passed_earliest_first<S: CaseStore>(store: S) {
    let [a, b, c, _d, e] = due_fixture(&store).await;
    let due = |now, limit| store.due_cases(now, limit);
    assert_eq!(due(at(9), 10).await.expect("due"), vec![]);
    assert_eq!(due(at(10), 10).await.expect("due"), ids(&[&b]));
    // Exactly at a case's next_due it is due.
    assert_eq!(due(at(30), 10).await.expect("due"), ids(&[&b, &c, &a]));
    assert_eq!(due(at(30), 2).await.expect("due"), ids(&[&b, &c]));
    assert_eq!(due(at(499), 10).await.expect("due"), ids(&[&b, &c, &a]));
    assert_eq!(
        due(at(10_000), 10).await.expect("due"),
        ids(&[&b, &c, &a, &e])
    );
    assert_eq!(due(at(10_000), 0).await.expect("due"), vec![]);
}

pub async fn a_case_without_timers_is_never_due<S: CaseStore>(store: S) {
    let idle = with_timers(sample_case("zendesk-idle", at(0)), &[]);
    commit_ok(&store, create(idle.clone())).await;
    assert_eq!(store.next_due().await.expect("next_due"), None);
    let far = "2200-01-01T00:00:00Z".parse().expect("timestamp");
    assert_eq!(store.due_cases(far, 10).await.expect("due"), vec![]);

    // A case whose timers are all gone stops being due.
    let busy = with_timers(
        sample_case("zendesk-busy", at(0)),
        &[(TimerKind::FirstResponse, at(30))],
    );
    commit_ok(&store, create(busy.clone())).await;
    assert_eq!(store.due_cases(far, 10).await.expect("due"), ids(&[&busy]));
    commit_ok(&store, update(with_timers(busy, &[]), 1, at(40))).await;
    assert_eq!(store.due_cases(far, 10).await.expect("due"), vec![]);
    assert_eq!(store.next_due().await.expect("next_due"), None);
}

pub async fn next_due_is_the_earliest_and_follows_recommits<S: CaseStore>(store: S) {
    assert_eq!(store.next_due().await.expect("next_due"), None);
    let [a, b, c, _d, _e] = due_fixture(&store).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(10)));

    // B's dispatch timer is gone: C is next.
    let b2 = with_timers(b.clone(), &[(TimerKind::FirstResponse, at(100))]);
    commit_ok(&store, update(b2, 1, at(11))).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(20)));
    assert_eq!(
        store.due_cases(at(30), 10).await.expect("due"),
        ids(&[&c, &a])
    );

    // C has no timers left: A is next.
    commit_ok(&store, update(with_timers(c.clone(), &[]), 1, at(21))).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(30)));
    assert_eq!(store.due_cases(at(30), 10).await.expect("due"), ids(&[&a]));

    // A moves its timer earlier than everything.
    let a2 = with_timers(a.clone(), &[(TimerKind::Dispatch, at(-5))]);
    commit_ok(&store, update(a2, 1, at(22))).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(-5)));
    assert_eq!(
        store.due_cases(at(100), 10).await.expect("due"),
        ids(&[&a, &b])
    );
}

// ---------------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------------

pub async fn cases_are_listed_most_recently_received_first<S: CaseStore>(store: S) {
    // Committed in an order that differs from the order received.
    let middle = sample_case("zendesk-middle", at(-3600));
    let newest = sample_case("zendesk-newest", at(0));
    let oldest = sample_case("zendesk-oldest", at(-86_400));
    for case in [&middle, &newest, &oldest] {
        commit_ok(&store, create(case.clone())).await;
    }
    let mut updated = middle.clone();
    updated.assignee = Some("alice".into());
    commit_ok(&store, update(updated.clone(), 1, at(10))).await;

    let listed = store.list_cases(10).await.expect("list");
    assert_eq!(
        listed,
        vec![
            StoredCase {
                case: newest.clone(),
                version: 1
            },
            StoredCase {
                case: updated.clone(),
                version: 2
            },
            StoredCase {
                case: oldest,
                version: 1
            },
        ]
    );
    let first_two: Vec<_> = store
        .list_cases(2)
        .await
        .expect("list")
        .into_iter()
        .map(|stored| stored.case.id)
        .collect();
    assert_eq!(first_two, ids(&[&newest, &updated]));
    assert_eq!(store.list_cases(0).await.expect("list"), vec![]);
}

// ---------------------------------------------------------------------------------------------
// Outbox per case
// ---------------------------------------------------------------------------------------------

pub async fn outbox_of_returns_every_item_of_a_case_oldest_first<S: CaseStore>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let first = [
        page(&case, AlertKey::Dispatch),
        slack(&case, SlackKind::DispatchBreached),
    ];
    let mut write = create(case.clone());
    write.outbox = first.to_vec();
    commit_ok(&store, write).await;
    let (other, _) = case_with_items(&store, "zendesk-2", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let later = resolve(&case, AlertKey::Dispatch);
    let mut write = update(case.clone(), 1, at(2));
    write.outbox = vec![later.clone()];
    commit_ok(&store, write).await;

    // Deliver the trigger, fail the Slack notice, leave the resolve pending.
    assert_eq!(
        claim_keys(&store, at(3), 1, Some(&case.id)).await,
        keys(&[&first[0]])
    );
    finish(
        &store,
        &first[0].key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(4),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(5), 1, Some(&case.id)).await,
        keys(&[&first[1]])
    );
    finish(
        &store,
        &first[1].key,
        DeliveryOutcome::Failed {
            error: "404 no_team".into(),
        },
        at(6),
    )
    .await;

    let items = outbox_of(&store, &case.id).await;
    assert_eq!(keys_of(&items), keys(&[&first[0], &first[1], &later]));
    let states: Vec<_> = items.iter().map(|item| item.state).collect();
    assert_eq!(
        states,
        vec![
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Pending
        ]
    );
    assert_eq!(items[2].created_at, at(2));
    assert!(items.iter().all(|item| item.case_id == case.id));
    assert_eq!(outbox_of(&store, &other.id).await.len(), 1);
}
