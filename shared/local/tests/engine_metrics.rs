//! What the engine tells the metrics port: each clock once when a stored decision meets,
//! breaches or meets it late (with the breach's lateness), and each delivery attempt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::metrics::{ClockDecided, ClockOutcome, DeliveryMetric};
use app::ports::{
    CaseStore, Clock, Delivered, Destination, ManualClock, Metrics, NotifyError, WebhookOutcome,
};
use app::{Deliver, Engine, IngestOutcome};
use domain::Timestamp;
use domain::case::{CaseEvent, CaseFacts, CaseId, Change, Effect, RequestFacts, Requester, Status};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Labels, Plan, Priority};
use local::due_loop::DueLoopTimers;
use local::store::SqliteStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

/// An event of an urgent Enterprise ticket received at `received`.
fn event(
    id: &str,
    event_id: &str,
    change: Change,
    at: Timestamp,
    received: Timestamp,
) -> CaseEvent {
    CaseEvent {
        case_id: CaseId::parse(id).unwrap(),
        event_id: event_id.to_owned(),
        occurred_at: at,
        change,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Enterprise,
                priority: Priority::Urgent,
                received,
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

#[derive(Debug, Default)]
struct Recorded {
    clocks: Mutex<Vec<ClockDecided>>,
    deliveries: Mutex<Vec<(Destination, DeliveryMetric)>>,
}

impl Metrics for Recorded {
    fn webhook(&self, _: &'static str, _: WebhookOutcome, _: Duration) {}
    fn clock_decided(&self, decided: &ClockDecided) {
        self.clocks.lock().unwrap().push(*decided);
    }
    fn delivery(&self, destination: Destination, outcome: DeliveryMetric, _: Duration) {
        self.deliveries.lock().unwrap().push((destination, outcome));
    }
}

#[derive(Debug, Default)]
struct Accepting;

impl Deliver for Accepting {
    async fn deliver(&self, _: &CaseId, _: &Effect) -> Result<Delivered, NotifyError> {
        Ok(Delivered::Sent {
            detail: "accepted".into(),
        })
    }
}

fn outcomes(recorded: &Recorded) -> Vec<(&'static str, ClockOutcome, Option<Duration>)> {
    let mut outcomes: Vec<_> = recorded
        .clocks
        .lock()
        .unwrap()
        .drain(..)
        .map(|c| (c.clock, c.outcome, c.lateness))
        .collect();
    outcomes.sort_by_key(|(clock, _, _)| *clock);
    outcomes
}

#[tokio::test]
async fn clocks_are_reported_once_as_met_breached_and_met_late_and_deliveries_by_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let clock = ManualClock::new(t0());
    let recorded = Arc::new(Recorded::default());
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        Arc::clone(&store),
        DueLoopTimers::new(),
        Accepting,
        Arc::new(clock.clone()),
    )
    .with_metrics(Arc::clone(&recorded) as Arc<dyn Metrics>);

    // Opened: nothing reached an outcome.
    let opened = event("zendesk-1", "e1", Change::Opened, t0(), t0());
    engine.ingest(&opened).await.unwrap();
    assert_eq!(outcomes(&recorded), []);
    let case = store.load(&opened.case_id).await.unwrap().unwrap().case;
    let first_due = case.first_response.due;

    // A minute past the first response's deadline, the sweep breaches it, 60 s late.
    clock.set(first_due + SignedDuration::from_secs(60));
    assert!(engine.decide_due().await.unwrap() >= 1);
    let breached = outcomes(&recorded);
    assert!(
        breached.contains(&(
            "first_response",
            ClockOutcome::Breached,
            Some(Duration::from_secs(60))
        )),
        "{breached:?}"
    );
    assert!(
        breached
            .iter()
            .all(|(_, outcome, _)| *outcome == ClockOutcome::Breached)
    );
    // Deciding again changes nothing and reports nothing.
    engine.decide_due().await.unwrap();
    assert_eq!(outcomes(&recorded), []);

    // The agent answers late: the breached first response is met late.
    let now = clock.now();
    let replied = event("zendesk-1", "e2", Change::AgentReplied, now, t0());
    engine.ingest(&replied).await.unwrap();
    let late = outcomes(&recorded);
    assert!(
        late.contains(&("first_response", ClockOutcome::MetLate, None)),
        "{late:?}"
    );
    // The same event again is a duplicate: nothing is counted twice.
    assert_eq!(
        engine.ingest(&replied).await.unwrap(),
        IngestOutcome::Duplicate
    );
    assert_eq!(outcomes(&recorded), []);

    // A second ticket answered at once: met.
    engine
        .ingest(&event("zendesk-2", "e3", Change::Opened, now, now))
        .await
        .unwrap();
    engine
        .ingest(&event("zendesk-2", "e4", Change::AgentReplied, now, now))
        .await
        .unwrap();
    let met = outcomes(&recorded);
    assert!(
        met.contains(&("first_response", ClockOutcome::Met, None)),
        "{met:?}"
    );
    assert!(
        met.iter()
            .all(|(_, outcome, _)| *outcome == ClockOutcome::Met)
    );

    // Every decided notification is delivered and counted as sent, per destination.
    let report = engine.deliver_outbox(None).await.unwrap();
    let deliveries = recorded.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), report.delivered, "{deliveries:?}");
    assert!(report.delivered > 0);
    assert!(deliveries.contains(&(Destination::PagerDuty, DeliveryMetric::Sent)));
    assert!(
        deliveries
            .iter()
            .all(|(_, outcome)| *outcome == DeliveryMetric::Sent)
    );
}
