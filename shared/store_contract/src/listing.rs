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

pub async fn cases_are_listed_in_pages_that_a_cursor_continues<S: CaseStore + CaseReader>(
    store: S,
) {
    // Two cases received at the same instant: the id orders them (descending).
    let cases = [
        sample_case("zendesk-a", at(-30)),
        sample_case("zendesk-b", at(-10)),
        sample_case("zendesk-c", at(-10)),
        sample_case("zendesk-d", at(0)),
        sample_case("zendesk-e", at(-20)),
    ];
    for case in &cases {
        commit_ok(&store, create(case.clone())).await;
    }
    let listed_ids = |page: &CasePage| -> Vec<String> {
        page.cases
            .iter()
            .map(|stored| stored.case.id.to_string())
            .collect()
    };

    let first = store.list_cases_page(None, 2).await.expect("page 1");
    assert_eq!(listed_ids(&first), ["zendesk-d", "zendesk-c"]);
    let cursor = first.next.clone().expect("a next page");
    assert_eq!(cursor, CaseCursor::after(&cases[2]));
    let second = store
        .list_cases_page(Some(&cursor), 2)
        .await
        .expect("page 2");
    assert_eq!(listed_ids(&second), ["zendesk-b", "zendesk-e"]);
    let third = store
        .list_cases_page(second.next.as_ref(), 2)
        .await
        .expect("page 3");
    assert_eq!(listed_ids(&third), ["zendesk-a"]);
    assert_eq!(third.next, None, "the last page has no cursor");

    // A page that ends exactly at the last case has no cursor either.
    let all = store.list_cases_page(None, 5).await.expect("all");
    assert_eq!(all.cases.len(), 5);
    assert_eq!(all.next, None);
    assert_eq!(
        all.cases,
        store.list_cases(5).await.expect("list"),
        "pages list what list_cases lists"
    );
    assert_eq!(
        store.list_cases_page(None, 0).await.expect("empty").cases,
        vec![]
    );
}
