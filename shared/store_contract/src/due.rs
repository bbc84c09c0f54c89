//! Due cases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

async fn due_fixture<S: CaseStore + CaseReader>(store: &S) -> [Case; 5] {
    let a = with_timers(
        sample_case("zendesk-a", at(0)),
        &[(TimerKind::FirstResponse, at(30))],
    );
    let b = with_timers(
        sample_case("zendesk-b", at(1)),
        &[
            (TimerKind::FirstResponse, at(100)),
            (TimerKind::Dispatch, at(10)),
        ],
    );
    let c = with_timers(
        sample_case("zendesk-c", at(2)),
        &[(TimerKind::FirstResponseWarning, at(20))],
    );
    let d = with_timers(sample_case("zendesk-d", at(3)), &[]);
    let e = with_timers(
        sample_case("zendesk-e", at(4)),
        &[(TimerKind::ChatFallback, at(500))],
    );
    let cases = [a, b, c, d, e];
    for case in &cases {
        commit_ok(store, create(case.clone())).await;
    }
    cases
}

pub async fn due_cases_are_those_whose_next_due_has_passed_earliest_first<
    S: CaseStore + CaseReader,
>(
    store: S,
) {
    let [a, b, c, _d, e] = due_fixture(&store).await;
    let due = |now, limit| store.due_cases(now, limit);
    assert_eq!(due(at(9), 10).await.expect("due"), vec![]);
    assert_eq!(due(at(10), 10).await.expect("due"), ids(&[&b]));
    // Exactly at a case's next_due it is due.
    assert_eq!(due(at(30), 10).await.expect("due"), ids(&[&b, &c, &a]));
    assert_eq!(due(at(30), 2).await.expect("due"), ids(&[&b, &c]));
    assert_eq!(due(at(499), 10).await.expect("due"), ids(&[&b, &c, &a]));
    assert_eq!(
        due(at(10_000), 10).await.expect("due"),
        ids(&[&b, &c, &a, &e])
    );
    assert_eq!(due(at(10_000), 0).await.expect("due"), vec![]);
}

pub async fn a_case_without_timers_is_never_due<S: CaseStore + CaseReader>(store: S) {
    let idle = with_timers(sample_case("zendesk-idle", at(0)), &[]);
    commit_ok(&store, create(idle.clone())).await;
    assert_eq!(store.next_due().await.expect("next_due"), None);
    let far = "2200-01-01T00:00:00Z".parse().expect("timestamp");
    assert_eq!(store.due_cases(far, 10).await.expect("due"), vec![]);

    // A case whose timers are all gone stops being due.
    let busy = with_timers(
        sample_case("zendesk-busy", at(0)),
        &[(TimerKind::FirstResponse, at(30))],
    );
    commit_ok(&store, create(busy.clone())).await;
    assert_eq!(store.due_cases(far, 10).await.expect("due"), ids(&[&busy]));
    commit_ok(&store, update(with_timers(busy, &[]), 1, at(40))).await;
    assert_eq!(store.due_cases(far, 10).await.expect("due"), vec![]);
    assert_eq!(store.next_due().await.expect("next_due"), None);
}

pub async fn next_due_is_the_earliest_and_follows_recommits<S: CaseStore + CaseReader>(store: S) {
    assert_eq!(store.next_due().await.expect("next_due"), None);
    let [a, b, c, _d, _e] = due_fixture(&store).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(10)));

    // B's dispatch timer is gone: C is next.
    let b2 = with_timers(b.clone(), &[(TimerKind::FirstResponse, at(100))]);
    commit_ok(&store, update(b2, 1, at(11))).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(20)));
    assert_eq!(
        store.due_cases(at(30), 10).await.expect("due"),
        ids(&[&c, &a])
    );

    // C has no timers left: A is next.
    commit_ok(&store, update(with_timers(c.clone(), &[]), 1, at(21))).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(30)));
    assert_eq!(store.due_cases(at(30), 10).await.expect("due"), ids(&[&a]));

    // A moves its timer earlier than everything.
    let a2 = with_timers(a.clone(), &[(TimerKind::Dispatch, at(-5))]);
    commit_ok(&store, update(a2, 1, at(22))).await;
    assert_eq!(store.next_due().await.expect("next_due"), Some(at(-5)));
    assert_eq!(
        store.due_cases(at(100), 10).await.expect("due"),
        ids(&[&a, &b])
    );
}
