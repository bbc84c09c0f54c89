//! Cases by receipt: the range read the reports use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn cases_received_in_a_range_come_back_earliest_first_with_the_end_excluded<
    S: CaseStore + CaseReader,
>(
    store: S,
) {
    // Two cases share an instant (ordered by id), one sits on each bound, one is outside.
    let before = sample_case("zendesk-before", at(-1));
    let on_start = sample_case("zendesk-on-start", at(0));
    let b_same = sample_case("zendesk-b-same", at(600));
    let a_same = sample_case("zendesk-a-same", at(600));
    let on_end = sample_case("zendesk-on-end", at(3600));
    for case in [&on_end, &b_same, &before, &a_same, &on_start] {
        commit_ok(&store, create(case.clone())).await;
    }
    let mut updated = a_same.clone();
    updated.assignee = Some("alice".into());
    commit_ok(&store, update(updated.clone(), 1, at(700))).await;

    let found = store
        .cases_received_between(at(0), at(3600))
        .await
        .expect("range");
    assert_eq!(
        found,
        vec![
            StoredCase {
                case: on_start.clone(),
                version: 1
            },
            StoredCase {
                case: updated,
                version: 2
            },
            StoredCase {
                case: b_same.clone(),
                version: 1
            },
        ]
    );
    let all: Vec<_> = store
        .cases_received_between(at(-86_400), at(86_400))
        .await
        .expect("range")
        .into_iter()
        .map(|stored| stored.case.id)
        .collect();
    assert_eq!(all, ids(&[&before, &on_start, &a_same, &b_same, &on_end]));
    let empty = store
        .cases_received_between(at(1), at(600))
        .await
        .expect("range");
    assert_eq!(empty, vec![]);
    let reversed = store
        .cases_received_between(at(3600), at(0))
        .await
        .expect("range");
    assert_eq!(reversed, vec![]);
}
