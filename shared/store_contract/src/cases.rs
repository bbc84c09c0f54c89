//! Cases and versions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn a_new_case_is_stored_at_version_1<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-5158", at(0));
    assert_eq!(commit_ok(&store, create(case.clone())).await, 1);
    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(loaded, Some(StoredCase { case, version: 1 }));
}

pub async fn unknown_ids_return_nothing<S: CaseStore + CaseReader>(store: S) {
    let unknown = case_id("zendesk-404");
    assert_eq!(store.load(&unknown).await.expect("load"), None);
    assert_eq!(store.timeline(&unknown).await.expect("timeline"), vec![]);
    assert_eq!(outbox_of(&store, &unknown).await, vec![]);
    assert!(!event_applied(&store, "evt-404").await);
    assert_eq!(store.next_due().await.expect("next_due"), None);
    assert_eq!(store.list_cases(10).await.expect("list"), vec![]);
    assert_eq!(store.due_cases(at(86_400), 10).await.expect("due"), vec![]);
    assert_eq!(
        claim_keys(&store, at(86_400), 10, None).await,
        Vec::<String>::new()
    );

    // Another case existing changes nothing about the unknown one.
    commit_ok(&store, create(sample_case("zendesk-1", at(0)))).await;
    assert_eq!(store.load(&unknown).await.expect("load"), None);
}

pub async fn creating_a_case_that_exists_conflicts<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;

    let mut other = case.clone();
    other.request.subject = Some("overwritten".into());
    let result = store.commit(create(other)).await;
    assert_eq!(result, Err(StoreError::Conflict(case.id.clone())));

    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(loaded, Some(StoredCase { case, version: 1 }));
}

pub async fn a_version_for_an_unknown_case_conflicts<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let result = store.commit(update(case.clone(), 1, at(0))).await;
    assert_eq!(result, Err(StoreError::Conflict(case.id.clone())));
    assert_eq!(store.load(&case.id).await.expect("load"), None);
}

pub async fn a_stale_version_conflicts<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;
    let mut second = case.clone();
    second.assignee = Some("alice".into());
    assert_eq!(
        commit_ok(&store, update(second.clone(), 1, at(10))).await,
        2
    );

    let mut stale = case.clone();
    stale.assignee = Some("bob".into());
    for version in [1, 3, 99] {
        let result = store.commit(update(stale.clone(), version, at(20))).await;
        assert_eq!(
            result,
            Err(StoreError::Conflict(case.id.clone())),
            "expected version {version}"
        );
    }
    let loaded = store.load(&case.id).await.expect("load");
    assert_eq!(
        loaded,
        Some(StoredCase {
            case: second,
            version: 2
        })
    );
}

pub async fn the_right_version_increments_it<S: CaseStore + CaseReader>(store: S) {
    let mut case = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(case.clone())).await;
    for version in 1..=5 {
        case.assignee = Some(format!("agent-{version}"));
        let written = commit_ok(&store, update(case.clone(), version, at(version as i64))).await;
        assert_eq!(written, version + 1);
        let loaded = store.load(&case.id).await.expect("load").expect("stored");
        assert_eq!(loaded.version, version + 1);
        assert_eq!(loaded.case, case);
    }
}
