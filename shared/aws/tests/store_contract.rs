//! `DynamoStore` against the whole store contract (the `store_contract` crate), on moto server.
//!
//! # Writes go through one worker here, and why
//!
//! moto is not DynamoDB under concurrent conditional writes to the same items:
//!
//! - `TransactWriteItems`: moto deep-copies the table before each transaction and puts the copy
//!   back when one is cancelled, so two transactions in flight can undo each other (measured,
//!   see the team notes on local AWS: HTTP 500s, and once two conflicting transactions that
//!   both succeeded).
//! - A conditional `UpdateItem`: moto checks the condition, then validates and applies the
//!   update expression as separate steps, and another request can pass the same check in
//!   between. Measured against moto 5.2.5 with boto3: 8 threads racing this store's lease
//!   update (`SET lease_until … IF pending AND due AND (no lease OR lease expired)`) on one item
//!   had two winners in 2 of 40 rounds; the contract's concurrent-claim test failed the same
//!   way in 4 of 5 runs.
//!
//! DynamoDB makes each conditional write atomic and serializes transactions on the items they
//! touch; moto cannot show either. So every store here sends its conditional writes (`commit`,
//! `finish_delivery`, `claim_outbox`) one call at a time ([`OneWriterAtATime`]), and its reads
//! straight through. Outside the four concurrency tests that changes nothing: they call the
//! store sequentially anyway.
//!
//! What the concurrency tests then prove on moto:
//!
//! - `concurrent_creations_of_one_case_let_exactly_one_win`,
//!   `concurrent_commits_of_one_event_let_exactly_one_win`,
//!   `concurrent_updates_at_one_version_let_exactly_one_win`: the 20 racing writers, in whatever
//!   order they reach the table, produce exactly one winner; every loser gets the error the
//!   contract names (`Conflict`, or `DuplicateEvent`), read from the transaction's cancellation
//!   reasons, and nothing of its write is visible.
//! - `concurrent_claims_never_return_the_same_item`: 8 claimers, interleaved claim by claim,
//!   never get one item twice (each lease's condition holds against the leases before it).
//!
//! They do not prove that DynamoDB applies a conditional write or a transaction atomically
//! under true concurrency: that is AWS's guarantee, which the store relies on (every write it
//! makes is conditional; see `infra/dynamodb.md`).
//!
//! Every test gets a table of its own, created with its indexes and TTL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{
    CaseCursor, CasePage, CaseReader, CaseStore, CaseWrite, DeliveryOutcome, Destination,
    OutboxItem, Quarantine, StoreError, StoredCase, TimelineEntry,
};
use aws::store::DynamoStore;
use domain::Timestamp;
use domain::case::CaseId;
use std::future::Future;
use std::time::Duration;
use tokio::sync::Mutex;

/// A store whose conditional writes are sent one call at a time (see the module documentation).
#[derive(Debug)]
pub struct OneWriterAtATime {
    store: DynamoStore,
    writer: Mutex<()>,
}

impl CaseStore for OneWriterAtATime {
    fn load(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Option<StoredCase>, StoreError>> + Send {
        self.store.load(id)
    }

    async fn commit(&self, write: CaseWrite) -> Result<u64, StoreError> {
        let _one = self.writer.lock().await;
        self.store.commit(write).await
    }

    fn due_cases(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send {
        self.store.due_cases(now, limit)
    }

    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        self.store.next_due()
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let _one = self.writer.lock().await;
        self.store.claim_outbox(now, lease, limit, case).await
    }

    async fn claim_destination(
        &self,
        now: Timestamp,
        lease: Duration,
        destination: Destination,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let _one = self.writer.lock().await;
        self.store
            .claim_destination(now, lease, destination, limit)
            .await
    }

    async fn renew_lease(
        &self,
        key: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let _one = self.writer.lock().await;
        self.store.renew_lease(key, now, lease).await
    }

    async fn quarantine(&self, entry: Quarantine) -> Result<(), StoreError> {
        let _one = self.writer.lock().await;
        self.store.quarantine(entry).await
    }

    fn quarantined(
        &self,
        case: &CaseId,
    ) -> impl Future<Output = Result<Option<Quarantine>, StoreError>> + Send {
        self.store.quarantined(case)
    }

    fn keep_rejected(
        &self,
        event: app::ports::RejectedEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.store.keep_rejected(event)
    }

    async fn finish_delivery(
        &self,
        key: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let _one = self.writer.lock().await;
        self.store.finish_delivery(key, outcome, now).await
    }
}

impl CaseReader for OneWriterAtATime {
    fn timeline(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send {
        self.store.timeline(id)
    }

    fn list_cases(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredCase>, StoreError>> + Send {
        self.store.list_cases(limit)
    }

    fn outbox_of(
        &self,
        case: &CaseId,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send {
        self.store.outbox_of(case)
    }

    fn quarantined_cases(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Quarantine>, StoreError>> + Send {
        self.store.quarantined_cases(limit)
    }

    fn rejected_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<app::ports::RejectedEvent>, StoreError>> + Send {
        self.store.rejected_events(limit)
    }

    fn cases_received_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<StoredCase>, StoreError>> + Send {
        self.store.cases_received_between(from, to)
    }

    fn list_cases_page(
        &self,
        cursor: Option<&CaseCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<CasePage, StoreError>> + Send {
        self.store.list_cases_page(cursor, limit)
    }
}

/// A store on a fresh table of its own.
pub async fn fresh_store() -> (OneWriterAtATime, ()) {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let table = common::new_table(&sdk, "contract").await;
    let store = OneWriterAtATime {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table),
        writer: Mutex::new(()),
    };
    (store, ())
}

store_contract::store_contract_tests!(fresh_store());
