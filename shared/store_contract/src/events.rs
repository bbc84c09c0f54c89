//! Event deduplication and atomicity.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn a_duplicate_event_is_rejected_and_writes_nothing<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let mut first = create(case.clone());
    first.event_id = Some("evt-1".into());
    first.timeline = vec![event_entry(at(0), "evt-1")];
    first.outbox = vec![trigger.clone()];
    commit_ok(&store, first).await;
    assert!(event_applied(&store, "evt-1").await);

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

pub async fn a_duplicate_event_wins_over_a_conflict<S: CaseStore + CaseReader>(store: S) {
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

pub async fn a_conflicting_commit_writes_nothing<S: CaseStore + CaseReader>(store: S) {
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

    assert!(!event_applied(&store, "evt-2").await);
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
    assert!(event_applied(&store, "evt-2").await);
    assert_eq!(store.timeline(&case.id).await.expect("timeline").len(), 2);
    assert_eq!(
        keys_of(&outbox_of(&store, &case.id).await),
        vec![trigger.key]
    );
}

pub async fn applied_events_are_known_by_their_exact_id<S: CaseStore + CaseReader>(store: S) {
    assert!(!event_applied(&store, "evt-1").await);
    let case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;
    assert!(!event_applied(&store, "evt-1").await);

    let mut write = update(case.clone(), 1, at(5));
    write.event_id = Some("evt-1".into());
    commit_ok(&store, write).await;
    assert!(event_applied(&store, "evt-1").await);
    assert!(!event_applied(&store, "evt-2").await);
    assert!(!event_applied(&store, "EVT-1").await);
}
