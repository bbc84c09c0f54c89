//! A month's cases through the `received` index (infra/dynamodb.md, "Cases by month"): one
//! `Query` on the index's sort key range, then the cases by key; never a scan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{CaseReader, CaseStore};
use aws::store::DynamoStore;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use common::RequestLog;
use domain::Timestamp;
use store_contract::{create, sample_case};

/// December 2026 in Europe/Berlin (CET, UTC+1 all month): `[start, end)`.
fn december() -> (Timestamp, Timestamp) {
    (
        "2026-11-30T23:00:00Z".parse().unwrap(),
        "2026-12-31T23:00:00Z".parse().unwrap(),
    )
}

async fn store(prefix: &str) -> (DynamoStore, RequestLog) {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let table = common::new_table(&sdk, prefix).await;
    let log = RequestLog::default();
    (
        DynamoStore::new(common::counted_dynamodb(&sdk, &log), table),
        log,
    )
}

#[tokio::test]
async fn a_months_cases_are_found_through_the_received_index_and_no_others() {
    let (store, log) = store("month").await;
    let received = [
        ("zendesk-nov-last", "2026-11-30T22:59:59.999999999Z"),
        ("zendesk-dec-first", "2026-11-30T23:00:00Z"),
        ("zendesk-dec-mid", "2026-12-15T12:00:00Z"),
        ("zendesk-dec-last", "2026-12-31T22:59:59.999999999Z"),
        ("zendesk-jan-first", "2026-12-31T23:00:00Z"),
    ];
    for (id, at) in received {
        store
            .commit(create(sample_case(id, at.parse().unwrap())))
            .await
            .unwrap();
    }
    log.take();

    let (start, end) = december();
    let found: Vec<String> = store
        .cases_received_between(start, end)
        .await
        .unwrap()
        .into_iter()
        .map(|stored| stored.case.id.to_string())
        .collect();

    assert_eq!(
        found,
        ["zendesk-dec-first", "zendesk-dec-mid", "zendesk-dec-last"]
    );
    assert_eq!(log.operations(), ["Query", "BatchGetItem"]);
    let query = String::from_utf8(log.bodies("Query").remove(0)).unwrap();
    assert!(query.contains(r#""IndexName":"received""#), "{query}");
    assert!(query.contains("BETWEEN"), "{query}");
}

/// A month of 10,000 cases read through the index and rendered as the compliance report.
/// A minute or more of seeding on moto, so run on demand:
/// `cargo test -p aws --features moto --test received_month -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "seeds 10,000 cases; a measurement, run on demand"]
async fn a_month_of_ten_thousand_cases_is_read_and_rendered() {
    let (store, _log) = store("month10k").await;
    let (start, _) = december();
    let seeded = std::time::Instant::now();
    // The case items as commit writes them, 25 per BatchWriteItem: a transaction per case takes
    // moto about a second each once the table holds thousands of items.
    let client = store.client().clone();
    let items: Vec<_> = (0..10_000i64)
        .map(|n| {
            // Spread over the month: one case every 4 minutes.
            let at = start + domain::jiff::SignedDuration::from_secs(n * 240);
            aws::store::case_item_for_tests(&sample_case(&format!("zendesk-{n}"), at), 1).unwrap()
        })
        .collect();
    for chunk in items.chunks(25) {
        let mut requests: Vec<_> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        while !requests.is_empty() {
            let output = client
                .batch_write_item()
                .request_items(store.table(), requests)
                .send()
                .await
                .unwrap();
            requests = output
                .unprocessed_items()
                .and_then(|tables| tables.get(store.table()))
                .cloned()
                .unwrap_or_default();
        }
    }
    println!("seeded 10,000 cases in {:?}", seeded.elapsed());

    let policy = policy_file::default_policy().unwrap();
    let month: report::Month = "2026-12".parse().unwrap();
    let started = std::time::Instant::now();
    let (from, to) = report::whatif::month_bounds(&policy, month).unwrap();
    let cases = store.cases_received_between(from, to).await.unwrap();
    let read = started.elapsed();
    let report = report::compliance(&policy, cases.iter().map(|stored| &stored.case), month, to);
    let json = serde_json::to_string(&report).unwrap();
    let rendered = started.elapsed();
    println!(
        "read {} cases in {read:?}; read and rendered ({} bytes of JSON) in {rendered:?}",
        cases.len(),
        json.len()
    );
    assert_eq!(cases.len(), 10_000);
    assert_eq!(
        report.totals.total, 20_000,
        "dispatch and first response per case"
    );
}
