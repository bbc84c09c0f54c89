//! `SqliteStore` against the store contract (in memory and on disk), plus what only a file
//! can show: durability across reopening, several stores on one file, schema versions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{
    CaseReader, CaseStore, CaseWrite, DeliveryOutcome, DeliveryState, StoreError, StoredCase,
};
use domain::case::{AlertKey, SlackKind, TimerKind};
use local::store::SqliteStore;
use std::sync::Arc;
use std::time::Duration;
use store_contract::{
    at, case_id, create, event_applied, event_entry, page, sample_case, slack, update, with_timers,
};

mod in_memory {
    store_contract::store_contract_tests!(async {
        (local::store::SqliteStore::in_memory().unwrap(), ())
    });
}

mod on_disk {
    store_contract::store_contract_tests!(async {
        let dir = tempfile::tempdir().unwrap();
        let store = local::store::SqliteStore::open(dir.path()).unwrap();
        (store, dir)
    });
}

#[tokio::test]
async fn everything_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("state").join("store");
    let case = with_timers(
        sample_case("zendesk-1", at(0)),
        &[(TimerKind::FirstResponse, at(1800))],
    );
    let trigger = page(&case, AlertKey::FirstResponse);
    let notice = slack(&case, SlackKind::NewChat);
    {
        let store = SqliteStore::open(&nested).unwrap();
        assert_eq!(
            store.path(),
            Some(nested.join(SqliteStore::FILE_NAME).as_path())
        );
        let mut write = create(case.clone());
        write.event_id = Some("evt-1".into());
        write.timeline = vec![event_entry(at(0), "evt-1")];
        write.outbox = vec![trigger.clone(), notice.clone()];
        store.commit(write).await.unwrap();
        let claimed = store
            .claim_outbox(at(1), Duration::from_secs(60), 1, None)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].key, trigger.key);
        store
            .finish_delivery(
                &trigger.key,
                DeliveryOutcome::Delivered {
                    detail: "202".into(),
                },
                at(2),
            )
            .await
            .unwrap();
    }

    let store = SqliteStore::open(&nested).unwrap();
    assert_eq!(
        store.load(&case.id).await.unwrap(),
        Some(StoredCase {
            case: case.clone(),
            version: 1
        })
    );
    assert!(event_applied(&store, "evt-1").await);
    let timeline = store.timeline(&case.id).await.unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[0], event_entry(at(0), "evt-1"));
    let outbox = store.outbox_of(&case.id).await.unwrap();
    let states: Vec<_> = outbox.iter().map(|item| item.state).collect();
    assert_eq!(states, [DeliveryState::Delivered, DeliveryState::Pending]);
    assert_eq!(store.next_due().await.unwrap(), Some(at(1800)));
    assert_eq!(
        store.due_cases(at(1800), 10).await.unwrap(),
        vec![case.id.clone()]
    );
    let claimed = store
        .claim_outbox(at(3), Duration::from_secs(60), 10, None)
        .await
        .unwrap();
    assert_eq!(claimed[0].key, notice.key);

    // And the store goes on from there.
    assert_eq!(store.commit(update(case, 1, at(4))).await, Ok(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_see_each_other_and_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let first = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let second = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let case = sample_case("zendesk-1", at(0));
    first.commit(create(case.clone())).await.unwrap();
    assert_eq!(second.load(&case.id).await.unwrap().unwrap().version, 1);

    // Each connection takes SQLite's write lock before its checks: one update wins.
    let writes = [first, second].map(|store| {
        let case = case.clone();
        tokio::spawn(async move {
            let mut results = Vec::new();
            for n in 0..10 {
                let mut write = update(case.clone(), 1, at(10));
                write.event_id = Some(format!("evt-{n}"));
                results.push(store.commit(write).await);
            }
            results
        })
    });
    let mut wins = 0;
    for task in writes {
        for result in task.await.unwrap() {
            match result {
                Ok(version) => {
                    assert_eq!(version, 2);
                    wins += 1;
                }
                Err(StoreError::Conflict(_) | StoreError::DuplicateEvent(_)) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn a_database_from_a_newer_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    match SqliteStore::open(dir.path()) {
        Err(StoreError::Corrupt(message)) => assert!(message.contains("99"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn reopening_keeps_the_schema_and_its_version() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        drop(SqliteStore::open(dir.path()).unwrap());
    }
    let conn = rusqlite::Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, local::store::SCHEMA_VERSION as i64);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_damaged_document_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let case = sample_case("zendesk-1", at(0));
    let mut write: CaseWrite = create(case.clone());
    write.outbox = vec![page(&case, AlertKey::Dispatch)];
    store.commit(write).await.unwrap();

    let conn = rusqlite::Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
    conn.execute("UPDATE cases SET document = '{\"id\": 1}'", [])
        .unwrap();
    conn.execute("UPDATE outbox SET effect = 'not json'", [])
        .unwrap();
    drop(conn);

    assert!(matches!(
        store.load(&case.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.list_cases(10).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.outbox_of(&case.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(store.load(&case_id("zendesk-2")).await, Ok(None)));
}

#[tokio::test]
async fn a_locked_database_is_unavailable_not_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
    let lock = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    let started = std::time::Instant::now();
    let result = store.commit(create(sample_case("zendesk-1", at(0)))).await;
    drop(lock);
    match result {
        Err(error @ StoreError::Unavailable(_)) => assert!(error.is_retryable()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "waited for the busy timeout"
    );
    // Once the lock is gone the same write succeeds.
    assert_eq!(
        store.commit(create(sample_case("zendesk-1", at(0)))).await,
        Ok(1)
    );
}

/// A crash leaves claimed items leased; the next owner of the directory releases them.
#[tokio::test]
async fn leases_of_a_crashed_process_are_released_by_the_next_owner() {
    use app::ports::CaseStore;
    use store_contract::{create, page, sample_case, t0};
    let dir = tempfile::tempdir().unwrap();
    let store = local::store::SqliteStore::open(dir.path()).unwrap();
    let case = sample_case("zendesk-1", t0());
    let case_id = case.id.clone();
    let mut write = create(case.clone());
    write.outbox = vec![page(&case, domain::case::AlertKey::OutOfHours)];
    store.commit(write.clone()).await.unwrap();
    let lease = std::time::Duration::from_secs(3600);
    let claimed = store
        .claim_outbox(write.now, lease, 10, None)
        .await
        .unwrap();
    assert!(!claimed.is_empty());
    assert!(
        store
            .claim_outbox(write.now, lease, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    drop(store); // the process dies with the lease held

    let reopened = local::store::SqliteStore::open(dir.path()).unwrap();
    assert!(
        reopened
            .claim_outbox(write.now, lease, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        reopened.release_stale_leases().await.unwrap(),
        claimed.len()
    );
    let again = reopened
        .claim_outbox(write.now, lease, 10, Some(&case_id))
        .await
        .unwrap();
    assert_eq!(again.len(), claimed.len());
}
