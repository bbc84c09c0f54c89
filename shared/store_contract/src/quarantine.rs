//! Quarantined cases: skipped by the due query until their time, listed, ended by a commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

fn entry(case: &Case, failures: u32, until: Timestamp) -> Quarantine {
    Quarantine {
        case_id: case.id.clone(),
        failures,
        until,
        since: at(100),
        reason: "stored data is invalid: no parse".into(),
    }
}

pub async fn a_quarantined_case_is_not_due_before_its_time_and_a_commit_ends_it<
    S: CaseStore + CaseReader,
>(
    store: S,
) {
    let sick = with_timers(
        sample_case("zendesk-sick", at(0)),
        &[(TimerKind::Dispatch, at(100))],
    );
    let well = with_timers(
        sample_case("zendesk-well", at(0)),
        &[(TimerKind::Dispatch, at(150))],
    );
    commit_ok(&store, create(sick.clone())).await;
    commit_ok(&store, create(well.clone())).await;
    assert_eq!(
        store.due_cases(at(200), 1).await.unwrap(),
        ids(&[&sick]),
        "the earlier one fills a batch of one"
    );

    store.quarantine(entry(&sick, 1, at(400))).await.unwrap();
    assert_eq!(
        store.due_cases(at(200), 1).await.unwrap(),
        ids(&[&well]),
        "a quarantined case takes no place in the batch"
    );
    assert_eq!(store.next_due().await.unwrap(), Some(at(150)));
    assert_eq!(
        store.quarantined(&sick.id).await.unwrap(),
        Some(entry(&sick, 1, at(400)))
    );
    assert_eq!(store.quarantined(&well.id).await.unwrap(), None);
    assert_eq!(
        store.quarantined_cases(10).await.unwrap(),
        vec![entry(&sick, 1, at(400))]
    );

    // Another failure: the entry is replaced, not added.
    store.quarantine(entry(&sick, 2, at(800))).await.unwrap();
    assert_eq!(
        store.quarantined_cases(10).await.unwrap(),
        vec![entry(&sick, 2, at(800))]
    );
    assert_eq!(store.due_cases(at(799), 10).await.unwrap(), ids(&[&well]));
    assert_eq!(
        store.due_cases(at(801), 10).await.unwrap(),
        ids(&[&well, &sick]),
        "due again once its time has come"
    );

    // A successful write ends the quarantine and brings back the case's own next due.
    let mut healed = sick.clone();
    healed.assignee = Some("alice".into());
    commit_ok(&store, update(healed, 1, at(801))).await;
    assert_eq!(store.quarantined(&sick.id).await.unwrap(), None);
    assert_eq!(store.quarantined_cases(10).await.unwrap(), vec![]);
    assert_eq!(store.next_due().await.unwrap(), Some(at(100)));
}

pub async fn quarantined_cases_are_listed_soonest_retry_first<S: CaseStore + CaseReader>(store: S) {
    let mut cases = Vec::new();
    for (n, until) in [(1, 500), (2, 300), (3, 400)] {
        let case = with_timers(
            sample_case(&format!("zendesk-{n}"), at(0)),
            &[(TimerKind::Dispatch, at(100))],
        );
        commit_ok(&store, create(case.clone())).await;
        store.quarantine(entry(&case, 1, at(until))).await.unwrap();
        cases.push(case);
    }
    let listed: Vec<CaseId> = store
        .quarantined_cases(2)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.case_id)
        .collect();
    assert_eq!(listed, ids(&[&cases[1], &cases[2]]));
    assert_eq!(store.due_cases(at(299), 10).await.unwrap(), vec![]);
}
