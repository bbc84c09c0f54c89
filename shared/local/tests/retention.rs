//! Retention of the embedded store: history older than the retention age is pruned, the cases
//! and anything still to deliver are kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseReader, CaseStore, DeliveryOutcome, DeliveryState};
use domain::case::{AlertKey, SlackKind};
use domain::jiff::SignedDuration;
use local::store::SqliteStore;
use std::time::Duration;
use store_contract::blocks::{create, event_entry, page, sample_case, slack, t0, update};

#[tokio::test]
async fn history_older_than_the_retention_age_is_pruned_and_cases_and_pending_items_stay() {
    let store = SqliteStore::in_memory().unwrap();
    let old = t0();
    let recent = old + SignedDuration::from_hours(24 * 500);
    let case = sample_case("zendesk-1", old);
    // An old decision: an event, its timeline entry, a page (delivered) and a Slack message
    // (still pending).
    let mut write = create(case.clone());
    write.event_id = Some("evt-old".into());
    write.timeline = vec![event_entry(old, "evt-old")];
    write.outbox = vec![
        page(&case, AlertKey::Dispatch),
        slack(&case, SlackKind::DispatchBreached),
    ];
    let version = store.commit(write).await.unwrap();
    let claimed = store
        .claim_outbox(old, Duration::from_secs(60), 10, None)
        .await
        .unwrap();
    let delivered = claimed
        .iter()
        .find(|item| item.key.ends_with("/trigger"))
        .unwrap();
    store
        .finish_delivery(
            &delivered.key,
            DeliveryOutcome::Delivered {
                detail: "202".into(),
            },
            old,
        )
        .await
        .unwrap();
    // A recent event on the same case.
    let mut recent_write = update(case.clone(), version, recent);
    recent_write.event_id = Some("evt-recent".into());
    recent_write.timeline = vec![event_entry(recent, "evt-recent")];
    store.commit(recent_write).await.unwrap();

    let pruned = store
        .prune(recent - SignedDuration::from_hours(24 * 400))
        .await
        .unwrap();

    // The old timeline holds the event and the delivery of the page.
    assert_eq!((pruned.events, pruned.timeline, pruned.outbox), (1, 2, 1));
    assert!(
        store.load(&case.id).await.unwrap().is_some(),
        "the case stays"
    );
    let timeline = store.timeline(&case.id).await.unwrap();
    assert_eq!(timeline.len(), 1, "{timeline:?}");
    let outbox = store.outbox_of(&case.id).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        outbox[0].state,
        DeliveryState::Pending,
        "pending items stay"
    );
}
