//! Events that can never be decided: kept, replaced by provider and event id, listed the most
//! recent first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;
use app::ports::RejectedEvent;

fn rejected(provider: &str, event_id: &str, received: i64) -> RejectedEvent {
    RejectedEvent::new(
        provider,
        event_id,
        &format!("{provider}-{event_id}"),
        "cannot decide: no open time",
        at(received),
        format!("{{\"id\":\"{event_id}\"}}").as_bytes(),
    )
}

pub async fn rejected_events_are_kept_and_listed_most_recent_first<S: CaseStore + CaseReader>(
    store: S,
) {
    assert_eq!(store.rejected_events(10).await.unwrap(), vec![]);
    store
        .keep_rejected(rejected("zendesk", "e1", 100))
        .await
        .unwrap();
    store
        .keep_rejected(rejected("intercom", "e2", 300))
        .await
        .unwrap();
    store
        .keep_rejected(rejected("twilio", "e3", 200))
        .await
        .unwrap();

    assert_eq!(
        store.rejected_events(10).await.unwrap(),
        vec![
            rejected("intercom", "e2", 300),
            rejected("twilio", "e3", 200),
            rejected("zendesk", "e1", 100),
        ]
    );
    assert_eq!(
        store.rejected_events(2).await.unwrap(),
        vec![
            rejected("intercom", "e2", 300),
            rejected("twilio", "e3", 200)
        ],
        "at most the limit"
    );

    // The same event refused again: replaced, not added.
    store
        .keep_rejected(rejected("zendesk", "e1", 400))
        .await
        .unwrap();
    let listed = store.rejected_events(10).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0], rejected("zendesk", "e1", 400));
    // Nothing about a rejected event is a case or a due timer.
    assert_eq!(store.list_cases(10).await.unwrap(), vec![]);
    assert_eq!(store.next_due().await.unwrap(), None);
}
