//! The golden stored documents (`store_contract::golden`: JSON as the stores wrote it before
//! the stored format had types of its own) put into DynamoDB items, then read through the
//! store: each must come back as the domain value it was written from. The items are written
//! by the store first (keys, indexes), then their document attribute is replaced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{CaseReader, CaseStore, CaseWrite, NewOutboxItem, StoreError, StoredCase};
use aws::store::DynamoStore;
use aws_sdk_dynamodb::types::AttributeValue;
use store_contract::golden;

struct Table {
    store: DynamoStore,
    client: aws_sdk_dynamodb::Client,
    table: String,
}

async fn table() -> Table {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let table = common::new_table(&sdk, "golden").await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    Table {
        store: DynamoStore::new(client.clone(), &table),
        client,
        table,
    }
}

impl Table {
    /// Replace one attribute of an item with a document as an older version wrote it.
    async fn replace(&self, pk: &str, sk: &str, attribute: &str, json: &str) {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .update_expression("SET #a = :v")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", AttributeValue::S(json.trim_end().into()))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn golden_case_documents_load_as_the_cases_they_were_written_from() {
    let t = table().await;
    for golden in golden::cases() {
        let case = golden.expected.clone();
        t.store
            .commit(store_contract::create(case.clone()))
            .await
            .unwrap();
        t.replace(
            &format!("CASE#{}", case.id),
            "CASE",
            "document",
            golden.json,
        )
        .await;
        assert_eq!(
            t.store.load(&case.id).await,
            Ok(Some(StoredCase { case, version: 1 })),
            "{}",
            golden.file
        );
    }
}

#[tokio::test]
async fn golden_effect_and_timeline_documents_load_as_what_they_were_written_from() {
    let t = table().await;
    let case = golden::chat_case();
    let effects = golden::effects();
    let entries = golden::timeline();
    let write = CaseWrite {
        outbox: effects
            .iter()
            .map(|golden| NewOutboxItem {
                key: golden.expected.idempotency_key(&case.id),
                effect: golden.expected.clone(),
            })
            .collect(),
        timeline: entries
            .iter()
            .map(|golden| golden.expected.clone())
            .collect(),
        ..store_contract::create(case.clone())
    };
    t.store.commit(write).await.unwrap();
    let pk = format!("CASE#{}", case.id);
    for (index, golden) in effects.iter().enumerate() {
        let sk = format!("OUTBOX#{:020}#{index:05}", 1);
        t.replace(&pk, &sk, "effect", golden.json).await;
    }
    for (index, golden) in entries.iter().enumerate() {
        let sk = format!("TIMELINE#{:020}#C#{index:05}", 1);
        t.replace(&pk, &sk, "entry", golden.json).await;
    }

    let outbox = t.store.outbox_of(&case.id).await.unwrap();
    assert_eq!(outbox.len(), effects.len());
    for (item, golden) in outbox.into_iter().zip(effects) {
        assert_eq!(item.effect, golden.expected, "{}", golden.file);
    }
    let timeline = t.store.timeline(&case.id).await.unwrap();
    assert_eq!(timeline.len(), entries.len());
    for (entry, golden) in timeline.into_iter().zip(entries) {
        assert_eq!(entry, golden.expected, "{}", golden.file);
    }
}

#[tokio::test]
async fn new_documents_name_their_schema_and_an_unknown_schema_is_refused() {
    let t = table().await;
    let case = golden::ticket_case();
    t.store
        .commit(store_contract::create(case.clone()))
        .await
        .unwrap();
    let pk = format!("CASE#{}", case.id);
    let item = t
        .client
        .get_item()
        .table_name(&t.table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S("CASE".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let document = item.item().unwrap()["document"].as_s().unwrap().clone();
    assert!(document.starts_with(r#"{"schema":1,"#), "{document}");
    let newer = document.replacen(r#""schema":1"#, r#""schema":2"#, 1);
    t.replace(&pk, "CASE", "document", &newer).await;
    match t.store.load(&case.id).await {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("schema version 2"), "{message}");
        }
        other => panic!("expected a corrupt document, got {other:?}"),
    }
}
