//! The outbox of one case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn outbox_of_returns_every_item_of_a_case_oldest_first<S: CaseStore + CaseReader>(
    store: S,
) {
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
