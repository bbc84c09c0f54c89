//! Concurrency: of rivals at one version or one event, exactly one wins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

const WRITERS: usize = 20;

pub async fn concurrent_creations_of_one_case_let_exactly_one_win<S: CaseStore + CaseReader>(
    store: S,
) {
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let mut case = sample_case("zendesk-1", at(0));
            case.assignee = Some(format!("agent-{n}"));
            let mut write = create(case.clone());
            let event = format!("evt-{n}");
            write.event_id = Some(event.clone());
            write.timeline = vec![event_entry(at(0), &event)];
            write.outbox = vec![slack(&case, SlackKind::NewChat), {
                let mut own = page(&case, AlertKey::Dispatch);
                own.key = format!("{}/{n}", own.key);
                own
            }];
            barrier.wait().await;
            (n, store.commit(write).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, result) = task.await.expect("task");
        match result {
            Ok(version) => {
                assert_eq!(version, 1);
                winners.push(n);
            }
            Err(StoreError::Conflict(id)) => assert_eq!(id.as_str(), "zendesk-1"),
            Err(other) => panic!("writer {n}: unexpected {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = winners[0];

    let id = case_id("zendesk-1");
    let loaded = store.load(&id).await.expect("load").expect("stored");
    assert_eq!(loaded.case.assignee, Some(format!("agent-{winner}")));
    assert_eq!(
        store.timeline(&id).await.expect("timeline"),
        vec![event_entry(at(0), &format!("evt-{winner}"))]
    );
    let outbox = outbox_of(&*store, &id).await;
    assert_eq!(outbox.len(), 2);
    assert!(outbox[1].key.ends_with(&format!("/{winner}")));
    for n in 0..WRITERS {
        let seen = event_applied(&*store, &format!("evt-{n}")).await;
        assert_eq!(seen, n == winner, "event of writer {n}");
    }
}

pub async fn concurrent_commits_of_one_event_let_exactly_one_win<S: CaseStore + CaseReader>(
    store: S,
) {
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let case = sample_case(&format!("zendesk-{n}"), at(0));
            let mut write = create(case.clone());
            write.event_id = Some("evt-same".into());
            write.timeline = vec![event_entry(at(0), "evt-same")];
            write.outbox = vec![page(&case, AlertKey::Dispatch)];
            barrier.wait().await;
            (n, store.commit(write).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, result) = task.await.expect("task");
        match result {
            Ok(version) => {
                assert_eq!(version, 1);
                winners.push(n);
            }
            Err(StoreError::DuplicateEvent(event)) => assert_eq!(event, "evt-same"),
            Err(other) => panic!("writer {n}: unexpected {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let listed = store.list_cases(100).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].case.id.as_str(),
        format!("zendesk-{}", winners[0])
    );
    assert_eq!(claim_keys(&*store, at(60), 100, None).await.len(), 1);
}

pub async fn concurrent_updates_at_one_version_let_exactly_one_win<S: CaseStore + CaseReader>(
    store: S,
) {
    let base = sample_case("zendesk-1", at(0));
    commit_ok(&store, create(base.clone())).await;
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let (store, barrier, mut case) = (Arc::clone(&store), Arc::clone(&barrier), base.clone());
        tasks.push(tokio::spawn(async move {
            case.assignee = Some(format!("agent-{n}"));
            let mut write = update(case, 1, at(10));
            write.event_id = Some(format!("evt-{n}"));
            write.timeline = vec![event_entry(at(10), &format!("evt-{n}"))];
            barrier.wait().await;
            (n, store.commit(write).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, result) = task.await.expect("task");
        match result {
            Ok(version) => {
                assert_eq!(version, 2);
                winners.push(n);
            }
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("writer {n}: unexpected {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let loaded = store.load(&base.id).await.expect("load").expect("stored");
    assert_eq!(loaded.version, 2);
    assert_eq!(loaded.case.assignee, Some(format!("agent-{}", winners[0])));
    assert_eq!(store.timeline(&base.id).await.expect("timeline").len(), 1);
}
