//! What only the DynamoDB store shows, beyond the contract: the items under their documented
//! keys, sparse indexes, the TTL, no scans, the cost of a repeated outbox key, and how damaged
//! data and a missing table are reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{CaseReader, CaseStore, StoreError};
use aws::store::{DynamoStore, EVENT_RECORD_TTL, TTL_ATTRIBUTE};
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use common::RequestLog;
use domain::case::{AlertKey, SlackKind, TimerKind};
use std::collections::HashMap;
use std::time::Duration;
use store_contract::{at, create, event_entry, page, sample_case, slack, update, with_timers};

type Item = HashMap<String, AttributeValue>;

struct Fixture {
    store: DynamoStore,
    log: RequestLog,
    client: aws_sdk_dynamodb::Client,
    table: String,
}

async fn fixture() -> Fixture {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let table = common::new_table(&sdk, "dynamo").await;
    let log = RequestLog::default();
    Fixture {
        store: DynamoStore::new(common::counted_dynamodb(&sdk, &log), &table),
        log,
        client: aws_sdk_dynamodb::Client::new(&sdk),
        table,
    }
}

impl Fixture {
    async fn items(&self) -> Vec<Item> {
        self.client
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap()
            .items()
            .to_vec()
    }

    async fn item(&self, pk: &str, sk: &str) -> Option<Item> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item()
            .cloned()
    }

    async fn set(&self, pk: &str, sk: &str, attribute: &str, value: &str) {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .update_expression("SET #a = :v")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", AttributeValue::S(value.into()))
            .send()
            .await
            .unwrap();
    }
}

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

#[tokio::test]
async fn a_commit_writes_the_documented_items_and_the_indexes_are_sparse() {
    let f = fixture().await;
    let case = with_timers(
        sample_case("zendesk-5158", at(0)),
        &[(TimerKind::FirstResponse, at(1800))],
    );
    let trigger = page(&case, AlertKey::FirstResponse);
    let mut write = create(case.clone());
    write.event_id = Some("evt-1".into());
    write.timeline = vec![event_entry(at(0), "evt-1")];
    write.outbox = vec![trigger.clone()];
    f.store.commit(write).await.unwrap();

    let mut keys: Vec<(String, String)> = f
        .items()
        .await
        .iter()
        .map(|item| (text(item, "pk").to_owned(), text(item, "sk").to_owned()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            ("CASE#zendesk-5158".into(), "CASE".into()),
            (
                "CASE#zendesk-5158".into(),
                "OUTBOX#00000000000000000001#00000".into()
            ),
            (
                "CASE#zendesk-5158".into(),
                "TIMELINE#00000000000000000001#C#00000".into()
            ),
            ("EVENT#evt-1".into(), "EVENT".into()),
            (format!("OUTBOX_KEY#{}", trigger.key), "OUTBOX_KEY".into()),
        ]
    );

    let stored = f.item("CASE#zendesk-5158", "CASE").await.unwrap();
    assert_eq!(text(&stored, "due_pk"), "DUE");
    assert!(text(&stored, "due_sk").ends_with("#zendesk-5158"));
    assert_eq!(text(&stored, "list_pk"), "CASES");
    let document: domain::case::Case = serde_json::from_str(text(&stored, "document")).unwrap();
    assert_eq!(document, case);

    // The event record expires 35 days after the write.
    let event = f.item("EVENT#evt-1", "EVENT").await.unwrap();
    let expires: i64 = event[TTL_ATTRIBUTE].as_n().unwrap().parse().unwrap();
    assert_eq!(
        expires,
        at(0).as_second() + i64::try_from(EVENT_RECORD_TTL.as_secs()).unwrap()
    );
    assert_eq!(EVENT_RECORD_TTL, Duration::from_secs(35 * 86_400));

    let outbox_sk = "OUTBOX#00000000000000000001#00000";
    let pending = f.item("CASE#zendesk-5158", outbox_sk).await.unwrap();
    assert_eq!(text(&pending, "pending_pk"), "PENDING");

    // No timers left: out of the due index. Delivered: out of the pending index.
    f.store
        .commit(update(with_timers(case.clone(), &[]), 1, at(60)))
        .await
        .unwrap();
    let stored = f.item("CASE#zendesk-5158", "CASE").await.unwrap();
    assert!(!stored.contains_key("due_pk") && !stored.contains_key("due_sk"));
    f.store
        .claim_outbox(at(61), Duration::from_secs(30), 10, None)
        .await
        .unwrap();
    f.store
        .finish_delivery(
            &trigger.key,
            app::ports::DeliveryOutcome::Delivered {
                detail: "202".into(),
            },
            at(62),
        )
        .await
        .unwrap();
    let delivered = f.item("CASE#zendesk-5158", outbox_sk).await.unwrap();
    assert_eq!(text(&delivered, "state"), "delivered");
    assert!(!delivered.contains_key("pending_pk") && !delivered.contains_key("pending_sk"));
    assert!(!delivered.contains_key("lease_until"));
    // The Delivered entry sorts after version 2's own entries.
    let timeline_keys: Vec<String> = f
        .items()
        .await
        .iter()
        .map(|item| text(item, "sk").to_owned())
        .filter(|sk| sk.starts_with("TIMELINE#"))
        .collect();
    assert!(
        timeline_keys
            .iter()
            .any(|sk| sk.starts_with("TIMELINE#00000000000000000002#F#")),
        "{timeline_keys:?}"
    );
}

#[tokio::test]
async fn ttl_is_enabled_on_the_event_records_expiry() {
    let f = fixture().await;
    let ttl = f
        .client
        .describe_time_to_live()
        .table_name(&f.table)
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(
        description.time_to_live_status(),
        Some(&TimeToLiveStatus::Enabled)
    );
    assert_eq!(description.attribute_name(), Some(TTL_ATTRIBUTE));
}

#[tokio::test]
async fn reads_use_gets_queries_and_the_indexes_never_a_scan() {
    let f = fixture().await;
    for n in 0..3 {
        let case = sample_case(&format!("zendesk-{n}"), at(n));
        let mut write = create(case.clone());
        write.outbox = vec![page(&case, AlertKey::Dispatch)];
        f.store.commit(write).await.unwrap();
    }
    f.log.take();
    let id = domain::case::CaseId::parse("zendesk-1").unwrap();
    f.store.load(&id).await.unwrap();
    f.store.timeline(&id).await.unwrap();
    f.store.outbox_of(&id).await.unwrap();
    assert_eq!(f.store.due_cases(at(100_000), 10).await.unwrap().len(), 3);
    f.store.next_due().await.unwrap();
    assert_eq!(f.store.list_cases(10).await.unwrap().len(), 3);
    assert_eq!(
        f.store
            .claim_outbox(at(100), Duration::from_secs(30), 10, None)
            .await
            .unwrap()
            .len(),
        3
    );
    let operations = f.log.take();
    assert!(!operations.iter().any(|op| op == "Scan"), "{operations:?}");
    assert_eq!(
        &operations[..6],
        ["GetItem", "Query", "Query", "Query", "Query", "Query"]
    );
    // list: one index query, one batch read; claim: one index query, then per item a
    // consistent check of its case and the conditional lease.
    assert_eq!(
        &operations[6..],
        [
            "BatchGetItem",
            "Query",
            "Query",
            "UpdateItem",
            "Query",
            "UpdateItem",
            "Query",
            "UpdateItem"
        ]
    );
}

#[tokio::test]
async fn an_outbox_key_that_exists_costs_one_more_transaction_and_is_skipped() {
    let f = fixture().await;
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let mut write = create(case.clone());
    write.outbox = vec![trigger.clone()];
    f.store.commit(write).await.unwrap();
    f.log.take();

    let notice = slack(&case, SlackKind::DispatchBreached);
    let mut write = update(case.clone(), 1, at(10));
    write.outbox = vec![trigger.clone(), notice.clone()];
    assert_eq!(f.store.commit(write).await, Ok(2));
    assert_eq!(f.log.take(), ["TransactWriteItems", "TransactWriteItems"]);
    let keys: Vec<String> = f
        .store
        .outbox_of(&case.id)
        .await
        .unwrap()
        .into_iter()
        .map(|item| item.key)
        .collect();
    assert_eq!(keys, [trigger.key, notice.key]);
}

#[tokio::test]
async fn damaged_items_are_corrupt_and_other_cases_still_load() {
    let f = fixture().await;
    let case = sample_case("zendesk-1", at(0));
    let mut write = create(case.clone());
    write.outbox = vec![page(&case, AlertKey::Dispatch)];
    write.timeline = vec![event_entry(at(0), "evt-1")];
    f.store.commit(write).await.unwrap();
    f.store
        .commit(create(sample_case("zendesk-2", at(1))))
        .await
        .unwrap();

    f.set("CASE#zendesk-1", "CASE", "document", r#"{"id": 1}"#)
        .await;
    f.set(
        "CASE#zendesk-1",
        "OUTBOX#00000000000000000001#00000",
        "effect",
        "not json",
    )
    .await;
    f.set(
        "CASE#zendesk-1",
        "TIMELINE#00000000000000000001#C#00000",
        "entry",
        "[]",
    )
    .await;

    let corrupt = |result: Result<_, StoreError>| matches!(result, Err(StoreError::Corrupt(_)));
    assert!(corrupt(f.store.load(&case.id).await.map(|_| ())));
    assert!(corrupt(f.store.list_cases(10).await.map(|_| ())));
    assert!(corrupt(f.store.outbox_of(&case.id).await.map(|_| ())));
    assert!(corrupt(f.store.timeline(&case.id).await.map(|_| ())));
    let other = domain::case::CaseId::parse("zendesk-2").unwrap();
    assert_eq!(f.store.load(&other).await.unwrap().unwrap().version, 1);

    // A version that is not a number is damage too.
    f.client
        .update_item()
        .table_name(&f.table)
        .key("pk", AttributeValue::S("CASE#zendesk-2".into()))
        .key("sk", AttributeValue::S("CASE".into()))
        .update_expression("SET #v = :v")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":v", AttributeValue::S("one".into()))
        .send()
        .await
        .unwrap();
    assert!(corrupt(f.store.load(&other).await.map(|_| ())));
}

#[tokio::test]
async fn a_missing_table_is_unavailable_and_says_why() {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        common::unique("no-such-table"),
    );
    let case = sample_case("zendesk-1", at(0));
    for result in [
        store.load(&case.id).await.map(|_| ()),
        store.commit(create(case.clone())).await.map(|_| ()),
        store.due_cases(at(0), 10).await.map(|_| ()),
    ] {
        match result {
            Err(error @ StoreError::Unavailable(_)) => {
                assert!(error.is_retryable());
                assert!(error.to_string().contains("ResourceNotFound"), "{error}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}
