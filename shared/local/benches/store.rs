//! The cost of the store operations on the hot path of an event, on a file-backed store:
//! `cargo bench -p local --bench store`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseStore, CaseWrite};
use criterion::{Criterion, criterion_group, criterion_main};
use domain::case::{AlertKey, SlackKind};
use local::store::SqliteStore;
use std::hint::black_box;
use store_contract::{at, decided_entry, event_entry, page, resolve, sample_case, slack};

/// A new case as an ingest writes it: 3 outbox items and 3 timeline entries.
fn new_case_write(n: u64) -> CaseWrite {
    let case = sample_case(&format!("zendesk-{n}"), at(n as i64));
    let outbox = vec![
        page(&case, AlertKey::Dispatch),
        slack(&case, SlackKind::NewChat),
        resolve(&case, AlertKey::OutOfHours),
    ];
    let timeline = vec![
        event_entry(at(1), &format!("evt-{n}")),
        decided_entry(at(1), &outbox[0]),
        decided_entry(at(1), &outbox[1]),
    ];
    CaseWrite {
        case,
        expected_version: None,
        event_id: Some(format!("evt-{n}")),
        timeline,
        outbox,
        now: at(1),
    }
}

fn store_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();

    let mut n = 0u64;
    c.bench_function(
        "commit new case (3 outbox items, 3 timeline entries)",
        |b| {
            b.iter(|| {
                n += 1;
                let write = new_case_write(n);
                runtime.block_on(store.commit(write)).unwrap()
            });
        },
    );

    let id = sample_case("zendesk-1", at(0)).id;
    c.bench_function("load case", |b| {
        b.iter(|| {
            let loaded = runtime.block_on(store.load(black_box(&id))).unwrap();
            black_box(loaded)
        });
    });

    // An update of one case, version after version: what a second event or a timer writes.
    let mut version = runtime
        .block_on(store.load(&id))
        .unwrap()
        .expect("stored")
        .version;
    let mut event = 0u64;
    c.bench_function("commit update (1 outbox item, 2 timeline entries)", |b| {
        b.iter(|| {
            event += 1;
            let mut write = new_case_write(1);
            write.expected_version = Some(version);
            write.event_id = Some(format!("update-{event}"));
            write.outbox.truncate(1);
            write.outbox[0].key = format!("update-{event}");
            write.timeline.truncate(2);
            version = runtime.block_on(store.commit(write)).unwrap();
        });
    });

    // 32 new cases committed concurrently, as 32 webhook requests in flight do: the store's
    // thread groups them into few transactions. Divide by 32 for the cost per commit.
    c.bench_function("32 concurrent commits of new cases", |b| {
        b.iter(|| {
            let commits: Vec<_> = (0..32)
                .map(|_| {
                    n += 1;
                    let (store, write) = (store.clone(), new_case_write(n));
                    runtime.spawn(async move { store.commit(write).await })
                })
                .collect();
            runtime.block_on(async {
                for commit in commits {
                    commit.await.unwrap().unwrap();
                }
            });
        });
    });
}

criterion_group!(benches, store_benches);
criterion_main!(benches);
