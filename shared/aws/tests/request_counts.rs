//! What the engine costs on AWS, counted request by request with an SDK interceptor: an
//! ingested event is one `GetItem` and one `TransactWriteItems`, and each deadline that changes
//! is one Scheduler request (create a new timer, update a moved one, delete a dropped one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{
    CaseReader, CaseStore, Delivered, ManualClock, NotifyError, Pager, SlackNotifier,
};
use app::{Engine, IngestOutcome, Notifiers};
use aws::scheduler::{SchedulerConfig, SchedulerTimers};
use aws::store::DynamoStore;
use common::RequestLog;
use domain::Timestamp;
use domain::case::{
    AlertContext, AlertKey, CaseEvent, CaseFacts, CaseId, Change, RequestFacts, Requester,
    SlackKind, Status, TimerKind,
};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Labels, Plan, Priority, Severity};
use notify::LogMailer;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug)]
struct QuietPager;

impl Pager for QuietPager {
    async fn trigger(
        &self,
        _alert: AlertKey,
        _severity: Severity,
        _context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        Ok(Delivered::NotConfigured)
    }

    async fn resolve(&self, _case: &CaseId, _alert: AlertKey) -> Result<Delivered, NotifyError> {
        Ok(Delivered::NotConfigured)
    }
}

#[derive(Debug)]
struct QuietSlack;

impl SlackNotifier for QuietSlack {
    async fn post(
        &self,
        _message: SlackKind,
        _context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        Ok(Delivered::NotConfigured)
    }
}

fn t0() -> Timestamp {
    // Monday 2 March 2026, 10:00 in Berlin: office hours.
    "2026-03-02T09:00:00Z".parse().unwrap()
}

fn ticket(event_id: &str, change: Change, priority: Priority, occurred_at: Timestamp) -> CaseEvent {
    CaseEvent {
        case_id: CaseId::parse("zendesk-7001").unwrap(),
        event_id: event_id.to_owned(),
        occurred_at,
        change,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Enterprise,
                priority,
                received: t0() - SignedDuration::from_mins(1),
                labels: Labels::default(),
                subject: Some("Shop is down".into()),
                requester: Some(Requester {
                    name: Some("Jane Doe".into()),
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

/// The Scheduler requests a change of timers should cost: one per timer that is new, moved
/// or gone, none for a timer that stayed.
fn expected_scheduler_requests(
    before: &BTreeMap<TimerKind, Timestamp>,
    after: &BTreeMap<TimerKind, Timestamp>,
) -> Vec<String> {
    let mut requests = Vec::new();
    for (timer, at) in after {
        match before.get(timer) {
            None => requests.push("CreateSchedule".to_owned()),
            Some(previous) if previous != at => requests.push("UpdateSchedule".to_owned()),
            Some(_) => {}
        }
    }
    for timer in before.keys() {
        if !after.contains_key(timer) {
            requests.push("DeleteSchedule".to_owned());
        }
    }
    requests.sort();
    requests
}

fn sorted(mut requests: Vec<String>) -> Vec<String> {
    requests.sort();
    requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingested_event_costs_one_read_and_one_transaction_and_one_request_per_changed_deadline()
{
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let table = common::new_table(&sdk, "counts").await;
    let group = common::new_group(&sdk, "counts").await;
    let dynamodb_log = RequestLog::default();
    let scheduler_log = RequestLog::default();
    let store = DynamoStore::new(common::counted_dynamodb(&sdk, &dynamodb_log), &table);
    let timers = SchedulerTimers::new(
        common::counted_scheduler(&sdk, &scheduler_log),
        SchedulerConfig {
            group,
            target_arn: "arn:aws:lambda:eu-central-1:123456789012:function:escalate".into(),
            role_arn: "arn:aws:iam::123456789012:role/scheduler".into(),
            dead_letter_arn: "arn:aws:sqs:eu-central-1:123456789012:timers-dlq".into(),
        },
    );
    // An uncounted view of the same table, to look at the case between the steps.
    let observer = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    let clock = ManualClock::new(t0());
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        store,
        timers,
        Notifiers {
            pager: QuietPager,
            slack: QuietSlack,
            mailer: LogMailer::new("Acme Hosting Support <support@acme.example>"),
            chat: app::ports::NoChatReplies,
            tickets: app::ports::NoTicketSystem,
            events: app::ports::NoEventPublisher,
        },
        Arc::new(clock.clone()),
    );
    let id = CaseId::parse("zendesk-7001").unwrap();
    let timers_now = || async {
        observer
            .load(&id)
            .await
            .unwrap()
            .map(|stored| stored.case.timers)
            .unwrap_or_default()
    };

    // 1. A new urgent ticket: the case is created with its timers.
    let opened = ticket(
        "evt-1",
        Change::Opened,
        Priority::Urgent,
        t0() - SignedDuration::from_secs(50),
    );
    let outcome = engine.ingest(&opened).await.unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Applied { version: 1, .. }),
        "{outcome:?}"
    );
    assert_eq!(dynamodb_log.take(), ["GetItem", "TransactWriteItems"]);
    let created = timers_now().await;
    assert!(!created.is_empty(), "an urgent ticket has deadlines");
    assert_eq!(
        sorted(scheduler_log.take()),
        expected_scheduler_requests(&BTreeMap::new(), &created)
    );

    // 2. The priority drops: every unmet deadline moves, each with one update.
    clock.advance(SignedDuration::from_mins(1));
    let downgraded = ticket(
        "evt-2",
        Change::PriorityChanged {
            priority: Priority::Normal,
        },
        Priority::Normal,
        t0() + SignedDuration::from_secs(30),
    );
    let outcome = engine.ingest(&downgraded).await.unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Applied { version: 2, .. }),
        "{outcome:?}"
    );
    assert_eq!(dynamodb_log.take(), ["GetItem", "TransactWriteItems"]);
    let moved = timers_now().await;
    let requests = sorted(scheduler_log.take());
    assert!(
        requests.iter().any(|r| r == "UpdateSchedule"),
        "a moved deadline updates its schedule: {requests:?} ({created:?} -> {moved:?})"
    );
    assert_eq!(requests, expected_scheduler_requests(&created, &moved));

    // 3. An agent is assigned: whatever changes costs one request per deadline.
    clock.advance(SignedDuration::from_mins(1));
    let assigned = ticket(
        "evt-3",
        Change::Assigned {
            assignee: Some("alice".into()),
        },
        Priority::Normal,
        t0() + SignedDuration::from_secs(90),
    );
    engine.ingest(&assigned).await.unwrap();
    assert_eq!(dynamodb_log.take(), ["GetItem", "TransactWriteItems"]);
    let after = timers_now().await;
    assert_eq!(
        sorted(scheduler_log.take()),
        expected_scheduler_requests(&moved, &after)
    );

    // 4. A redelivered event: the same two requests find it applied, and no timer moves.
    assert_eq!(
        engine.ingest(&opened).await.unwrap(),
        IngestOutcome::Duplicate
    );
    assert_eq!(dynamodb_log.take(), ["GetItem", "TransactWriteItems"]);
    assert_eq!(scheduler_log.take(), Vec::<String>::new());

    // 5. A timer fires after its deadline: the same two requests, and the breach is decided.
    clock.advance(SignedDuration::from_hours(72));
    let fired = engine.fire(&id, TimerKind::FirstResponse).await.unwrap();
    assert!(
        matches!(fired, app::FireOutcome::Applied { .. }),
        "{fired:?}"
    );
    assert_eq!(dynamodb_log.take(), ["GetItem", "TransactWriteItems"]);
    let breached = timers_now().await;
    // The schedule that fired deleted itself (ActionAfterCompletion DELETE): nothing to cancel.
    let mut still_scheduled = after.clone();
    still_scheduled.remove(&TimerKind::FirstResponse);
    assert_eq!(
        sorted(scheduler_log.take()),
        expected_scheduler_requests(&still_scheduled, &breached)
    );

    // Delivering the outbox: per item, find the case's oldest pending item, lease it, find its
    // key, read the case's version, record the outcome; then one query that finds nothing.
    let pending = observer
        .outbox_of(&id)
        .await
        .unwrap()
        .iter()
        .filter(|item| item.state == app::ports::DeliveryState::Pending)
        .count();
    assert!(pending > 0, "the breach decided a page");
    let report = engine.deliver_outbox(Some(&id)).await.unwrap();
    assert_eq!(report.total(), pending);
    let per_item = [
        "Query",
        "UpdateItem",
        "GetItem",
        "GetItem",
        "TransactWriteItems",
    ];
    let mut expected: Vec<&str> = per_item
        .iter()
        .copied()
        .cycle()
        .take(per_item.len() * pending)
        .collect();
    expected.push("Query");
    assert_eq!(dynamodb_log.take(), expected);
}
