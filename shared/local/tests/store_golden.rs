//! The golden stored documents (`store_contract::golden`: JSON as this store wrote it before
//! the stored format had types of its own) put into a SQLite file as rows, then read through
//! the store: each must come back as the domain value it was written from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseReader, CaseStore, StoreError, StoredCase};
use domain::Timestamp;
use local::store::SqliteStore;
use rusqlite::{Connection, params};
use std::path::Path;
use store_contract::golden;

fn nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap()
}

/// A store file with its schema, and a raw connection to write rows the store did not write.
fn store_file(dir: &Path) -> Connection {
    drop(SqliteStore::open(dir).unwrap());
    Connection::open(dir.join(SqliteStore::FILE_NAME)).unwrap()
}

#[tokio::test]
async fn golden_case_documents_load_as_the_cases_they_were_written_from() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store_file(dir.path());
    let cases = golden::cases();
    for golden in &cases {
        let case = &golden.expected;
        conn.execute(
            "INSERT INTO cases (id, version, received, next_due, document) \
             VALUES (?1, 7, ?2, ?3, ?4)",
            params![
                case.id.as_str(),
                nanos(case.request.received),
                case.next_due().map(nanos),
                golden.json.trim_end()
            ],
        )
        .unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(dir.path()).unwrap();
    for golden in cases {
        let loaded = store.load(&golden.expected.id).await;
        assert_eq!(
            loaded,
            Ok(Some(StoredCase {
                case: golden.expected,
                version: 7
            })),
            "{}",
            golden.file
        );
    }
}

#[tokio::test]
async fn golden_effect_documents_load_as_the_effects_they_were_written_from() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store_file(dir.path());
    let case = golden::chat_case();
    let effects = golden::effects();
    for golden in &effects {
        let key = golden.expected.idempotency_key(&case.id);
        conn.execute(
            "INSERT INTO outbox (key, case_id, lane, effect, created_at, state, attempts, \
             next_attempt_at) VALUES (?1, ?2, ?3, ?4, 0, 'pending', 0, 0)",
            params![
                key,
                case.id.as_str(),
                golden.expected.delivery_lane(&case.id),
                golden.json.trim_end()
            ],
        )
        .unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(dir.path()).unwrap();
    let outbox = store.outbox_of(&case.id).await.unwrap();
    assert_eq!(outbox.len(), effects.len());
    for (item, golden) in outbox.into_iter().zip(effects) {
        assert_eq!(item.effect, golden.expected, "{}", golden.file);
    }
}

#[tokio::test]
async fn golden_timeline_documents_load_as_the_entries_they_were_written_from() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store_file(dir.path());
    let case = golden::chat_case();
    let entries = golden::timeline();
    for golden in &entries {
        conn.execute(
            "INSERT INTO timeline (case_id, at, entry) VALUES (?1, ?2, ?3)",
            params![
                case.id.as_str(),
                nanos(golden.expected.at),
                golden.json.trim_end()
            ],
        )
        .unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(dir.path()).unwrap();
    let timeline = store.timeline(&case.id).await.unwrap();
    assert_eq!(timeline.len(), entries.len());
    for (entry, golden) in timeline.into_iter().zip(entries) {
        assert_eq!(entry, golden.expected, "{}", golden.file);
    }
}

#[tokio::test]
async fn new_documents_name_their_schema_and_an_unknown_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let case = golden::ticket_case();
    store
        .commit(store_contract::create(case.clone()))
        .await
        .unwrap();
    drop(store);
    let conn = Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
    let document: String = conn
        .query_row(
            "SELECT document FROM cases WHERE id = ?1",
            [case.id.as_str()],
            |row| row.get(0),
        )
        .unwrap();
    assert!(document.starts_with(r#"{"schema":1,"#), "{document}");
    conn.execute(
        "UPDATE cases SET document = ?2 WHERE id = ?1",
        params![
            case.id.as_str(),
            document.replacen(r#""schema":1"#, r#""schema":2"#, 1)
        ],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(dir.path()).unwrap();
    match store.load(&case.id).await {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("schema version 2"), "{message}");
        }
        other => panic!("expected a corrupt document, got {other:?}"),
    }
}

/// The documents written now are the golden ones plus `"schema": 1`: the stored format did not
/// change when it got types of its own.
#[test]
fn documents_written_now_are_the_golden_documents_with_a_schema_version() {
    fn without_schema(json: &str) -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
        let schema = value.as_object_mut().unwrap().remove("schema");
        assert_eq!(schema, Some(serde_json::json!(1)), "{json}");
        value
    }
    let golden_value = |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap();

    for golden in golden::cases() {
        let written = app::stored::encode_case(&golden.expected).unwrap();
        assert_eq!(
            without_schema(&written),
            golden_value(golden.json),
            "{}",
            golden.file
        );
    }
    for golden in golden::effects() {
        let written = app::stored::encode_effect(&golden.expected).unwrap();
        assert_eq!(
            without_schema(&written),
            golden_value(golden.json),
            "{}",
            golden.file
        );
    }
    for golden in golden::timeline() {
        let written = app::stored::encode_timeline_entry(&golden.expected).unwrap();
        assert_eq!(
            without_schema(&written),
            golden_value(golden.json),
            "{}",
            golden.file
        );
    }
}
