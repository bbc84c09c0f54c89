//! Listing cases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn cases_are_listed_most_recently_received_first<S: CaseStore + CaseReader>(store: S) {
    // Committed in an order that differs from the order received.
    let middle = sample_case("zendesk-middle", at(-3600));
    let newest = sample_case("zendesk-newest", at(0));
    let oldest = sample_case("zendesk-oldest", at(-86_400));
    for case in [&middle, &newest, &oldest] {
        commit_ok(&store, create(case.clone())).await;
    }
    let mut updated = middle.clone();
    updated.assignee = Some("alice".into());
    commit_ok(&store, update(updated.clone(), 1, at(10))).await;

    let listed = store.list_cases(10).await.expect("list");
    assert_eq!(
        listed,
        vec![
            StoredCase {
                case: newest.clone(),
                version: 1
            },
            StoredCase {
                case: updated.clone(),
                version: 2
            },
            StoredCase {
                case: oldest,
                version: 1
            },
        ]
    );
    let first_two: Vec<_> = store
        .list_cases(2)
        .await
        .expect("list")
        .into_iter()
        .map(|stored| stored.case.id)
        .collect();
    assert_eq!(first_two, ids(&[&newest, &updated]));
    assert_eq!(store.list_cases(0).await.expect("list"), vec![]);
}
