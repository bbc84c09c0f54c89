//! `sweep::handle` is generic over the ports: here it runs over the local runtime's SQLite store
//! (in memory), with no timers at all (as if every schedule were lost) and notifiers that record
//! what they deliver. No moto, no network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{Delivered, NotifyError, TimerError, Timers};
use app::{Deliver, Engine};
use domain::Timestamp;
use domain::case::{CaseEvent, CaseFacts, CaseId, Change, Effect, RequestFacts, Status, TimerKind};
use domain::policy::{Channel, Labels, Plan, Priority};
use local::store::SqliteStore;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use sweep::Swept;
use tests::payloads::berlin;

/// Timers that are lost: accepted and forgotten, so only the sweep can catch a deadline.
#[derive(Debug, Clone, Copy, Default)]
struct LostTimers;

impl Timers for LostTimers {
    async fn schedule(
        &self,
        _: &CaseId,
        _: TimerKind,
        _: Timestamp,
        _: bool,
    ) -> Result<(), TimerError> {
        Ok(())
    }

    async fn cancel(&self, _: &CaseId, _: TimerKind) -> Result<(), TimerError> {
        Ok(())
    }
}

/// The pages delivered, as `<case>/<alert>`; every other effect is accepted too.
#[derive(Debug, Clone, Default)]
struct RecordedPages(Arc<Mutex<Vec<String>>>);

impl Deliver for RecordedPages {
    async fn deliver(&self, case: &CaseId, effect: &Effect) -> Result<Delivered, NotifyError> {
        if let Effect::Page { alert, .. } = effect {
            self.0
                .lock()
                .unwrap()
                .push(format!("{case}/{}", alert.as_str()));
        }
        Ok(Delivered::Sent {
            detail: String::from("recorded"),
        })
    }
}

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

fn engine(
    clock: &app::ports::ManualClock,
    pages: &RecordedPages,
) -> Engine<SqliteStore, LostTimers, RecordedPages> {
    Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        SqliteStore::in_memory().unwrap(),
        LostTimers,
        pages.clone(),
        Arc::new(clock.clone()),
    )
}

#[tokio::test]
async fn the_sweep_over_sqlite_catches_a_deadline_whose_timer_was_lost() {
    let clock = app::ports::ManualClock::new(berlin("2026-12-01T09:00"));
    let pages = RecordedPages::default();
    let engine = engine(&clock, &pages);
    engine
        .ingest(&ticket_opened("zendesk-7501", berlin("2026-12-01T09:00")))
        .await
        .unwrap();

    clock.set(berlin("2026-12-01T09:55"));
    let early = sweep::handle(&engine, Value::Null).await.unwrap();
    assert_eq!(early.cases_fired, 0, "{early:?}");
    assert!(pages.0.lock().unwrap().is_empty());

    clock.set(berlin("2026-12-01T10:03"));
    let swept = sweep::handle(&engine, Value::Null).await.unwrap();
    assert_eq!(swept.cases_fired, 1, "{swept:?}");
    assert!(swept.delivered >= 1, "{swept:?}");
    assert_eq!((swept.retrying, swept.failed), (0, 0), "{swept:?}");
    assert_eq!(*pages.0.lock().unwrap(), ["zendesk-7501/dispatch"]);

    clock.set(berlin("2026-12-01T10:08"));
    let again = sweep::handle(&engine, Value::Null).await.unwrap();
    assert_eq!((again.cases_fired, again.delivered), (0, 0), "{again:?}");
    assert_eq!(pages.0.lock().unwrap().len(), 1, "paged once");
}

#[tokio::test]
async fn an_empty_sqlite_store_sweeps_to_zero() {
    let clock = app::ports::ManualClock::new(berlin("2026-12-01T09:00"));
    let pages = RecordedPages::default();
    let swept = sweep::handle(&engine(&clock, &pages), Value::Null)
        .await
        .unwrap();
    assert_eq!(swept, Swept::default());
}
