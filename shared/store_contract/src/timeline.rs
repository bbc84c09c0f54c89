//! The timeline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn the_timeline_comes_back_in_write_order<S: CaseStore + CaseReader>(store: S) {
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

pub async fn a_final_delivery_appends_a_delivered_entry<S: CaseStore + CaseReader>(store: S) {
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
