//! `escalate::handle` is generic over the ports: here it runs over the local runtime's SQLite
//! store (in memory), with timers and notifiers that record what they are asked to do. No moto,
//! no network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseStore, Delivered, NotifyError, TimerError, Timers};
use app::{Deliver, Engine, IngestOutcome};
use domain::Timestamp;
use domain::case::{CaseEvent, CaseFacts, CaseId, Change, Effect, RequestFacts, Status, TimerKind};
use domain::policy::{Channel, Labels, Plan, Priority};
use escalate::{Deliveries, Escalated};
use local::store::SqliteStore;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tests::payloads::berlin;

/// One request to the timers port: the case, the timer, and its instant (`None`: cancelled).
type TimerCall = (String, TimerKind, Option<Timestamp>);

/// What the engine asked the timers port to do, in order.
#[derive(Debug, Clone, Default)]
struct RecordedTimers(Arc<Mutex<Vec<TimerCall>>>);

impl RecordedTimers {
    fn take(&self) -> Vec<TimerCall> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Timers for RecordedTimers {
    async fn schedule(
        &self,
        case: &CaseId,
        timer: TimerKind,
        at: Timestamp,
        _moving: bool,
    ) -> Result<(), TimerError> {
        self.0
            .lock()
            .unwrap()
            .push((case.to_string(), timer, Some(at)));
        Ok(())
    }

    async fn cancel(&self, case: &CaseId, timer: TimerKind) -> Result<(), TimerError> {
        self.0.lock().unwrap().push((case.to_string(), timer, None));
        Ok(())
    }
}

/// Every effect delivered, as (case, effect); each one is accepted.
#[derive(Debug, Clone, Default)]
struct RecordedDeliveries(Arc<Mutex<Vec<(String, Effect)>>>);

impl RecordedDeliveries {
    fn pages(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(case, effect)| match effect {
                Effect::Page { alert, .. } => Some(format!("{case}/{}", alert.as_str())),
                _ => None,
            })
            .collect()
    }
}

impl Deliver for RecordedDeliveries {
    async fn deliver(&self, case: &CaseId, effect: &Effect) -> Result<Delivered, NotifyError> {
        self.0
            .lock()
            .unwrap()
            .push((case.to_string(), effect.clone()));
        Ok(Delivered::Sent {
            detail: String::from("recorded"),
        })
    }
}

struct Fixture {
    engine: Engine<SqliteStore, RecordedTimers, RecordedDeliveries>,
    clock: app::ports::ManualClock,
    timers: RecordedTimers,
    delivered: RecordedDeliveries,
}

fn fixture(now: Timestamp) -> Fixture {
    let clock = app::ports::ManualClock::new(now);
    let timers = RecordedTimers::default();
    let delivered = RecordedDeliveries::default();
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        SqliteStore::in_memory().unwrap(),
        timers.clone(),
        delivered.clone(),
        Arc::new(clock.clone()),
    );
    Fixture {
        engine,
        clock,
        timers,
        delivered,
    }
}

/// A new high-priority 12x5 ticket, received at `received`.
fn ticket_opened(id: &str, received: Timestamp) -> CaseEvent {
    CaseEvent {
        case_id: CaseId::parse(id).unwrap(),
        event_id: format!("{id}:created"),
        occurred_at: received,
        change: Change::Opened,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Standard,
                priority: Priority::High,
                received,
                labels: Labels::default(),
                subject: Some(String::from("Checkout returns HTTP 502")),
                requester: None,
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

async fn open(f: &Fixture, id: &str, received: Timestamp) {
    let outcome = f.engine.ingest(&ticket_opened(id, received)).await.unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Applied { .. }),
        "{outcome:?}"
    );
    f.engine.deliver_outbox(None).await.unwrap();
}

fn input(case_id: &str, timer: TimerKind) -> serde_json::Value {
    json!({ "case_id": case_id, "timer": timer.as_str() })
}

#[tokio::test]
async fn the_dispatch_timer_pages_once_over_sqlite_even_when_invoked_twice() {
    let f = fixture(berlin("2026-12-01T09:00"));
    open(&f, "zendesk-7401", berlin("2026-12-01T09:00")).await;
    let scheduled = f.timers.take();
    assert!(
        scheduled.contains(&(
            "zendesk-7401".to_owned(),
            TimerKind::Dispatch,
            Some(berlin("2026-12-01T10:00"))
        )),
        "{scheduled:?}"
    );

    f.clock.set(berlin("2026-12-01T10:00"));
    let first = escalate::handle(&f.engine, input("zendesk-7401", TimerKind::Dispatch))
        .await
        .unwrap();
    assert!(
        matches!(first, Escalated::Fired { ref deliveries, .. } if deliveries.delivered >= 1),
        "{first:?}"
    );
    let second = escalate::handle(&f.engine, input("zendesk-7401", TimerKind::Dispatch))
        .await
        .unwrap();
    assert!(matches!(second, Escalated::Unchanged { .. }), "{second:?}");
    assert_eq!(f.delivered.pages(), ["zendesk-7401/dispatch"]);
}

#[tokio::test]
async fn an_early_timer_over_sqlite_is_put_back_once_and_pages_nothing() {
    let f = fixture(berlin("2026-12-01T09:00"));
    open(&f, "zendesk-7402", berlin("2026-12-01T09:00")).await;
    f.timers.take();

    f.clock.set(berlin("2026-12-01T09:59:30"));
    let early = escalate::handle(&f.engine, input("zendesk-7402", TimerKind::Dispatch))
        .await
        .unwrap();
    match &early {
        Escalated::Unchanged { deliveries, .. } | Escalated::Fired { deliveries, .. } => {
            assert_eq!(*deliveries, Deliveries::default(), "{early:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f.timers.take(),
        [(
            "zendesk-7402".to_owned(),
            TimerKind::Dispatch,
            Some(berlin("2026-12-01T10:00"))
        )],
        "the timer is put back at its deadline, once"
    );
    assert!(f.delivered.pages().is_empty());
    let stored = f
        .engine
        .store()
        .load(&CaseId::parse("zendesk-7402").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.case.timers.get(&TimerKind::Dispatch),
        Some(&berlin("2026-12-01T10:00"))
    );
}

#[tokio::test]
async fn bad_inputs_are_rejected_and_unknown_cases_are_harmless_over_sqlite() {
    let f = fixture(berlin("2026-12-01T09:00"));
    for bad in [
        json!({ "case_id": "zendesk-1", "timer": "lunch" }),
        json!({ "case_id": "not a case id", "timer": "dispatch" }),
        json!("zendesk-1"),
    ] {
        let outcome = escalate::handle(&f.engine, bad.clone()).await;
        assert!(
            matches!(outcome, Ok(Escalated::Rejected { .. })),
            "{bad}: {outcome:?}"
        );
    }
    let unknown = escalate::handle(&f.engine, input("zendesk-7499", TimerKind::Dispatch))
        .await
        .unwrap();
    assert!(
        matches!(unknown, Escalated::UnknownCase { .. }),
        "{unknown:?}"
    );
    assert!(f.timers.take().is_empty());
    assert!(f.delivered.0.lock().unwrap().is_empty());
}
