//! A range read large enough to be decoded in parallel keeps every case and the order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseReader, CaseStore};
use local::store::SqliteStore;
use store_contract::{at, create, sample_case};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_range_comes_back_complete_and_in_receipt_order() {
    let store = SqliteStore::in_memory().unwrap();
    // 6,000 cases a second apart, committed in a shuffled order (7 is prime to 6,000).
    let count = 6_000_i64;
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..count {
        let index = (n * 7) % count;
        let store = store.clone();
        pending.spawn(async move {
            let case = sample_case(&format!("zendesk-{index}"), at(index));
            store.commit(create(case)).await.unwrap();
        });
    }
    while let Some(done) = pending.join_next().await {
        done.unwrap();
    }

    let found = store
        .cases_received_between(at(100), at(5_900))
        .await
        .unwrap();

    assert_eq!(found.len(), 5_800);
    for (offset, stored) in found.iter().enumerate() {
        let index = 100 + offset as i64;
        assert_eq!(stored.case.id.as_str(), format!("zendesk-{index}"));
        assert_eq!(stored.case.request.received, at(index));
        assert_eq!(stored.version, 1);
    }
}
