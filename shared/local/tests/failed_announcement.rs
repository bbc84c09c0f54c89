//! An effect given up for its age is announced once in Slack (issue 10, "Retry policy").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseReader, CaseStore, DeliveryState, ManualClock, NewOutboxItem, NotifyError};
use app::ports::{Delivered, OutboxItem};
use app::{Deliver, Engine};
use domain::case::{AlertContext, AlertKey, CaseId, Effect, SlackKind};
use domain::policy::Severity;
use local::due_loop::DueLoopTimers;
use local::store::SqliteStore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use store_contract::{at, create, sample_case};

/// PagerDuty is always throttled; Slack answers while `slack_up`. Remembers what it sent.
#[derive(Debug, Default)]
struct State {
    slack_up: AtomicBool,
    sent: Mutex<Vec<Effect>>,
}

#[derive(Debug, Default, Clone)]
struct Receivers(Arc<State>);

impl std::ops::Deref for Receivers {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

impl Deliver for Receivers {
    async fn deliver(&self, _: &CaseId, effect: &Effect) -> Result<Delivered, NotifyError> {
        let up =
            matches!(effect, Effect::NotifySlack { .. }) && self.slack_up.load(Ordering::SeqCst);
        if !up {
            return Err(NotifyError::Retryable {
                reason: "429 Too Many Requests".into(),
                retry_after: None,
            });
        }
        self.sent.lock().unwrap().push(effect.clone());
        Ok(Delivered::Sent {
            detail: "ok".into(),
        })
    }
}

fn state_of(items: &[OutboxItem], key: &str) -> Option<DeliveryState> {
    items
        .iter()
        .find(|item| item.key == key)
        .map(|item| item.state)
}

#[tokio::test]
async fn a_page_undeliverable_for_a_day_is_failed_and_announced_in_slack_once() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let case = sample_case("zendesk-1", at(0));
    let effect = Effect::Page {
        alert: AlertKey::Dispatch,
        severity: Severity::Critical,
        context: AlertContext::of(&case),
    };
    let page_key = effect.idempotency_key(&case.id);
    let mut write = create(case.clone());
    write.outbox = vec![NewOutboxItem {
        key: page_key.clone(),
        effect,
    }];
    store.commit(write).await.unwrap();

    let clock = ManualClock::new(at(0));
    let receivers = Receivers::default();
    receivers.slack_up.store(true, Ordering::SeqCst);
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        Arc::clone(&store),
        DueLoopTimers::new(),
        receivers.clone(),
        Arc::new(clock.clone()),
    );

    // Throttled: retried later, nothing announced.
    engine.deliver_outbox(None).await.unwrap();
    let items = store.outbox_of(&case.id).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(state_of(&items, &page_key), Some(DeliveryState::Pending));

    // A day later it is still throttled: given up, and Slack hears of it.
    clock.set(at(24 * 3600 + 1));
    engine.deliver_outbox(None).await.unwrap();
    let announcement = format!("{page_key}/failed");
    let items = store.outbox_of(&case.id).await.unwrap();
    assert_eq!(state_of(&items, &page_key), Some(DeliveryState::Failed));
    assert_eq!(
        state_of(&items, &announcement),
        Some(DeliveryState::Delivered),
        "{items:?}"
    );
    let slack_kinds = |sent: &[Effect]| -> Vec<SlackKind> {
        sent.iter()
            .filter_map(|effect| match effect {
                Effect::NotifySlack { message, .. } => Some(*message),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        slack_kinds(&receivers.sent.lock().unwrap()),
        [SlackKind::DeliveryFailed]
    );

    // Once: nothing more, however often the outbox is looked at.
    clock.set(at(3 * 24 * 3600));
    engine.deliver_outbox(None).await.unwrap();
    assert_eq!(store.outbox_of(&case.id).await.unwrap().len(), 2);
    assert_eq!(receivers.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_announcement_that_cannot_reach_slack_either_is_not_announced_again() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let case = sample_case("zendesk-2", at(0));
    let effect = Effect::NotifySlack {
        message: SlackKind::DispatchBreached,
        context: AlertContext::of(&case),
    };
    let key = effect.idempotency_key(&case.id);
    let mut write = create(case.clone());
    write.outbox = vec![NewOutboxItem {
        key: key.clone(),
        effect,
    }];
    store.commit(write).await.unwrap();
    let clock = ManualClock::new(at(24 * 3600 + 1));
    let receivers = Receivers::default();
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        Arc::clone(&store),
        DueLoopTimers::new(),
        receivers.clone(),
        Arc::new(clock.clone()),
    );

    engine.deliver_outbox(None).await.unwrap();
    let items = store.outbox_of(&case.id).await.unwrap();
    assert_eq!(state_of(&items, &key), Some(DeliveryState::Failed));
    assert_eq!(
        state_of(&items, &format!("{key}/failed")),
        Some(DeliveryState::Pending),
        "announced, waiting for Slack"
    );

    // Slack stays down for another day: the announcement is given up, and that is the end.
    clock.set(at(2 * 24 * 3600 + 2));
    engine.deliver_outbox(None).await.unwrap();
    let items = store.outbox_of(&case.id).await.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(|item| item.state == DeliveryState::Failed));
}
