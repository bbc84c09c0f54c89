//! What delivery workers need: claims per destination and lease renewal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

async fn claim_for<S: CaseStore + CaseReader>(
    store: &S,
    now: Timestamp,
    destination: Destination,
    limit: usize,
) -> Vec<String> {
    store
        .claim_destination(now, LEASE, destination, limit)
        .await
        .expect("claim_destination")
        .into_iter()
        .map(|item| item.key)
        .collect()
}

pub async fn a_destination_claim_returns_only_that_destinations_items_oldest_first<
    S: CaseStore + CaseReader,
>(
    store: S,
) {
    let (_, first) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![
            page(c, AlertKey::Dispatch),
            slack(c, SlackKind::DispatchBreached),
        ]
    })
    .await;
    let (_, second) = case_with_items(&store, "zendesk-2", 5, |c| {
        vec![
            slack(c, SlackKind::NewChat),
            page(c, AlertKey::FirstResponse),
        ]
    })
    .await;

    assert_eq!(
        claim_for(&store, at(10), Destination::Slack, 10).await,
        keys(&[&first[1], &second[0]])
    );
    assert_eq!(
        claim_for(&store, at(10), Destination::Email, 10).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_for(&store, at(10), Destination::PagerDuty, 1).await,
        keys(&[&first[0]])
    );
    assert_eq!(
        claim_for(&store, at(10), Destination::PagerDuty, 10).await,
        keys(&[&second[1]])
    );
    // Everything is leased now: no claim returns anything.
    assert_eq!(
        claim_keys(&store, at(11), 10, None).await,
        Vec::<String>::new()
    );
}

pub async fn a_destination_claim_keeps_the_order_per_lane<S: CaseStore + CaseReader>(store: S) {
    let (_, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch), resolve(c, AlertKey::Dispatch)]
    })
    .await;
    assert_eq!(
        claim_for(&store, at(1), Destination::PagerDuty, 10).await,
        keys(&[&items[0]])
    );
    finish(
        &store,
        &items[0].key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(2),
    )
    .await;
    assert_eq!(
        claim_for(&store, at(3), Destination::PagerDuty, 10).await,
        keys(&[&items[1]])
    );
}

pub async fn a_renewed_lease_keeps_the_item_from_every_other_claim<S: CaseStore + CaseReader>(
    store: S,
) {
    let (_, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![slack(c, SlackKind::NewChat)]
    })
    .await;
    let claimed = keys(&[&items[0]]);
    // LEASE is 30 s: leased until at(40), renewed at 35 until at(65).
    assert_eq!(
        claim_for(&store, at(10), Destination::Slack, 1).await,
        claimed
    );
    assert!(
        store
            .renew_lease(&items[0].key, at(35), LEASE)
            .await
            .unwrap()
    );
    assert_eq!(
        claim_keys(&store, at(41), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_for(&store, at(64), Destination::Slack, 1).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_for(&store, at(66), Destination::Slack, 1).await,
        claimed
    );

    let stored = outbox_of(&store, &case_id("zendesk-1")).await;
    assert_eq!(stored[0].attempts, 0, "a renewal is not an attempt");
}

pub async fn renewing_a_finished_unclaimed_or_unknown_item_changes_nothing<
    S: CaseStore + CaseReader,
>(
    store: S,
) {
    let (_, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![slack(c, SlackKind::NewChat), page(c, AlertKey::Dispatch)]
    })
    .await;
    // Not claimed yet: a renewal must not lease it.
    assert!(
        !store
            .renew_lease(&items[1].key, at(1), LEASE)
            .await
            .unwrap()
    );
    assert_eq!(
        claim_for(&store, at(2), Destination::PagerDuty, 1).await,
        keys(&[&items[1]])
    );

    assert_eq!(
        claim_for(&store, at(3), Destination::Slack, 1).await,
        keys(&[&items[0]])
    );
    finish(
        &store,
        &items[0].key,
        DeliveryOutcome::Delivered {
            detail: "ok".into(),
        },
        at(4),
    )
    .await;
    let before = outbox_of(&store, &case_id("zendesk-1")).await;
    assert!(
        !store
            .renew_lease(&items[0].key, at(5), LEASE)
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_lease("zendesk-9/nothing", at(5), LEASE)
            .await
            .unwrap()
    );
    assert_eq!(outbox_of(&store, &case_id("zendesk-1")).await, before);
}
