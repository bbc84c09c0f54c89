//! [`DynamoStore`]: `app::ports::CaseStore` and `app::ports::CaseReader` on one DynamoDB table.
//!
//! This file holds the ports; `commit` the transaction of a decision, `outbox` claims and
//! finished deliveries, `queries` the paginated reads, `expressions` error mapping and
//! expression building, `item` the items and their attributes, `table` the table itself.
//!
//! The key design, every access pattern and what it costs are in `infra/dynamodb.md`. In short:
//!
//! - A case's partition `CASE#<id>` holds the case item (`CASE`: version, document), its
//!   outbox items (`OUTBOX#<version>#<n>`) and its timeline (`TIMELINE#<version>#…`), so that
//!   `load` is one `GetItem` and a timeline or an outbox is one strongly consistent `Query`.
//! - `EVENT#<event id>` records an applied event (with a TTL); `OUTBOX_KEY#<key>` makes an
//!   outbox key unique in the table and points at its item.
//! - Three sparse global secondary indexes: `due` (cases with timers, by `next_due`),
//!   `received` (every case, by receipt, for listing) and `pending` (pending outbox items, by
//!   creation).
//! - `commit` is one `TransactWriteItems`: the case put under a version (or non-existence)
//!   condition, the event record, the timeline entries and the outbox items with their key
//!   guards, each under `attribute_not_exists`. The cancellation reasons say which condition
//!   failed: the event (a duplicate, which wins), the case (a conflict), or an outbox key that
//!   exists (that item is dropped and the transaction sent again).
//!
//! An ingested event costs two requests: the engine's `load` and one `TransactWriteItems`.
//!
//! The indexes are eventually consistent: `due_cases`, `next_due` and `list_cases` may miss a
//! write of the last moment (the next sweep sees it), and `claim_outbox` re-checks everything
//! it reads from the `pending` index against the table before it leases an item.

mod commit;
mod expressions;
mod item;
mod outbox;
mod quarantine;
mod queries;
mod rejected;
mod table;

pub use item::OUTBOX_ENTITY;
pub use outbox::KeyClaim;
pub use rejected::REJECTED_EVENT_TTL;
pub use table::create_table;

use app::ports::{
    CaseCursor, CasePage, CaseReader, CaseStore, CaseWrite, DeliveryOutcome, Destination,
    OutboxItem, Quarantine, RejectedEvent, StoreError, StoredCase, TimelineEntry,
};
use aws_sdk_dynamodb::Client;
use domain::Timestamp;
use domain::case::CaseId;
use expressions::{case_id_from_pk, key, sdk_error};
use item::{
    CASE_SK, DUE_PARTITION, DUE_SK, LIST_PARTITION, OUTBOX_PREFIX, PK, Reader, TIMELINE_PREFIX,
    case_pk, s,
};
use std::collections::HashMap;
use std::time::Duration;

/// The index of cases with timers: `due_pk = "DUE"`, `due_sk = <next_due>#<case id>`.
pub const DUE_INDEX: &str = "due";
/// The index of every case: `list_pk = "CASES"`, `list_sk = <received>#<case id>`.
pub const RECEIVED_INDEX: &str = "received";
/// The index of pending outbox items: `pending_pk = "PENDING"`,
/// `pending_sk = <created>#<case id>#<place>`.
pub const PENDING_INDEX: &str = "pending";
/// The TTL attribute (epoch seconds) of event records.
pub const TTL_ATTRIBUTE: &str = item::EXPIRES_AT;
/// How long an applied event is remembered: longer than any provider redelivers (Zendesk and
/// Intercom retry for hours, Twilio for minutes), short enough to keep the table small.
pub const EVENT_RECORD_TTL: Duration = Duration::from_secs(35 * 24 * 60 * 60);

/// DynamoDB's limit of actions in one `TransactWriteItems`.
const MAX_TRANSACTION_ACTIONS: usize = 100;
/// DynamoDB's limit of keys in one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// `BatchGetItem` requests one listing keeps in flight: enough to read a month of 10,000 cases
/// in well under a second, few enough to stay far below a table's read capacity bursts.
const CONCURRENT_BATCH_GETS: usize = 8;
/// Rounds against `TransactionConflict` (another transaction on the same item in flight).
const TRANSACTION_CONFLICT_ROUNDS: u32 = 5;

/// The case store on one DynamoDB table. Cheap to clone: clones share the client.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

/// Test support: a case item exactly as `commit` puts it (keys, index attributes, document),
/// so that a measurement can seed thousands of cases with `BatchWriteItem` instead of one
/// transaction each.
#[cfg(feature = "test-support")]
pub fn case_item_for_tests(
    case: &domain::case::Case,
    version: u64,
) -> Result<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, StoreError> {
    item::case_item(case, version)
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

// ---------------------------------------------------------------------------------------------
// The ports
// ---------------------------------------------------------------------------------------------

impl CaseStore for DynamoStore {
    async fn load(&self, id: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(case_pk(id), CASE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("load case", &e))?;
        output.item().map(item::decode_case).transpose()
    }

    async fn commit(&self, write: CaseWrite) -> Result<u64, StoreError> {
        self.commit_write(write).await
    }

    async fn due_cases(&self, now: Timestamp, limit: usize) -> Result<Vec<CaseId>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let entries = self
            .index_query(
                DUE_INDEX,
                "#due_pk = :partition AND #due_sk < :bound",
                HashMap::from([
                    (":partition".to_owned(), s(DUE_PARTITION)),
                    (":bound".to_owned(), s(item::due_bound(now))),
                ]),
                true,
                limit,
                "find due cases",
            )
            .await?;
        entries
            .iter()
            .map(|entry| case_id_from_pk(Reader::new(entry, "due index entry").s(PK)?))
            .collect()
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let first = self
            .index_query(
                DUE_INDEX,
                "#due_pk = :partition",
                HashMap::from([(":partition".to_owned(), s(DUE_PARTITION))]),
                true,
                1,
                "find the next due case",
            )
            .await?;
        first
            .first()
            .map(|entry| item::instant_from_key(Reader::new(entry, "due index entry").s(DUE_SK)?))
            .transpose()
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.claim(now, lease, limit, case).await
    }

    async fn claim_destination(
        &self,
        now: Timestamp,
        lease: Duration,
        destination: Destination,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.claim_for(now, lease, limit, None, Some(destination))
            .await
    }

    async fn renew_lease(
        &self,
        key: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        self.renew(key, now, lease).await
    }

    async fn quarantine(&self, entry: Quarantine) -> Result<(), StoreError> {
        self.set_aside(entry).await
    }

    async fn quarantined(&self, case: &CaseId) -> Result<Option<Quarantine>, StoreError> {
        self.quarantine_of(case).await
    }

    async fn keep_rejected(&self, event: RejectedEvent) -> Result<(), StoreError> {
        self.put_rejected(event).await
    }

    async fn finish_delivery(
        &self,
        key: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.finish(key, outcome, now).await
    }
}

impl CaseReader for DynamoStore {
    async fn timeline(&self, id: &CaseId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.partition(&case_pk(id), TIMELINE_PREFIX, "read timeline")
            .await?
            .iter()
            .map(item::decode_timeline)
            .collect()
    }

    async fn list_cases(&self, limit: usize) -> Result<Vec<StoredCase>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let keys = self
            .index_query(
                RECEIVED_INDEX,
                "#list_pk = :partition",
                HashMap::from([(":partition".to_owned(), s(LIST_PARTITION))]),
                false,
                limit,
                "list cases",
            )
            .await?;
        self.cases_of_index_entries(&keys).await
    }

    async fn quarantined_cases(&self, limit: usize) -> Result<Vec<Quarantine>, StoreError> {
        self.quarantine_list(limit).await
    }

    async fn rejected_events(&self, limit: usize) -> Result<Vec<RejectedEvent>, StoreError> {
        self.rejected_list(limit).await
    }

    async fn list_cases_page(
        &self,
        cursor: Option<&CaseCursor>,
        limit: usize,
    ) -> Result<CasePage, StoreError> {
        if limit == 0 {
            return Ok(CasePage {
                cases: Vec::new(),
                next: None,
            });
        }
        let mut bindings = HashMap::from([(":partition".to_owned(), s(LIST_PARTITION))]);
        let condition = match cursor {
            None => "#list_pk = :partition",
            Some(cursor) => {
                bindings.insert(
                    ":after".to_owned(),
                    s(item::list_sk(cursor.received, &cursor.id)),
                );
                "#list_pk = :partition AND #list_sk < :after"
            }
        };
        let keys = self
            .index_query(
                RECEIVED_INDEX,
                condition,
                bindings,
                false,
                limit.saturating_add(1),
                "list cases",
            )
            .await?;
        let cases = self.cases_of_index_entries(&keys).await?;
        Ok(CasePage::from_one_more(cases, limit))
    }

    /// Through the `received` index (`list_sk = <received>#<case id>`): every key of
    /// `[from, to)` lies between the bare instant keys of `from` and `to`, since a key with a
    /// suffix sorts after its prefix. One `Query` (a page per 1 MB of keys), then the cases by
    /// key, 8 batches in flight (infra/dynamodb.md, "Cases by month").
    async fn cases_received_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredCase>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let keys = self
            .index_query(
                RECEIVED_INDEX,
                "#list_pk = :partition AND #list_sk BETWEEN :from AND :to",
                HashMap::from([
                    (":partition".to_owned(), s(LIST_PARTITION)),
                    (":from".to_owned(), s(item::instant_key(from))),
                    (":to".to_owned(), s(item::instant_key(to))),
                ]),
                true,
                usize::MAX,
                "list cases received between",
            )
            .await?;
        self.cases_of_index_entries(&keys).await
    }

    async fn outbox_of(&self, case: &CaseId) -> Result<Vec<OutboxItem>, StoreError> {
        self.partition(&case_pk(case), OUTBOX_PREFIX, "read outbox")
            .await?
            .iter()
            .map(item::decode_outbox)
            .collect()
    }
}
