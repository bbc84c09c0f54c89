//! [`DynamoStore`]: `app::ports::CaseStore` on one DynamoDB table.
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

mod item;
mod table;

pub use table::create_table;

use crate::error::{Failure, classify};
use app::ports::{
    CaseStore, CaseWrite, DeliveryOutcome, DeliveryState, OutboxItem, StoreError, StoredCase,
    TimelineEntry, TimelineKind,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use domain::Timestamp;
use domain::case::CaseId;
use domain::jiff::SignedDuration;
// Attributes named only inside expressions (`#state`, `#attempts`…) are not imported: the
// placeholders are derived from the expressions themselves (see `names`).
use item::{
    CASE_ID, CASE_SK, DUE_PARTITION, DUE_SK, ITEM_SK, Item, LANE, LEASE_UNTIL, LIST_PARTITION,
    NEXT_ATTEMPT_AT, OUTBOX_KEY_SK, OUTBOX_PREFIX, PENDING_PARTITION, PK, Reader, SK,
    TIMELINE_PREFIX, VERSION, case_pk, corrupt, instant, n, s,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tracing::{debug, info, warn};

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
/// Rounds against `TransactionConflict` (another transaction on the same item in flight).
const TRANSACTION_CONFLICT_ROUNDS: u32 = 5;

const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// The case store on one DynamoDB table. Cheap to clone: clones share the client.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
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
// Errors and expressions
// ---------------------------------------------------------------------------------------------

/// Throttling, 5xx, timeouts, a missing table or permission: `Unavailable` (the caller retries
/// later, and a fixed deployment then succeeds); a request DynamoDB finds invalid (an item too
/// large, a key too long): `Corrupt`, since the same data will fail again.
pub(crate) fn sdk_error<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Failure {
        transient,
        code,
        message,
    } = classify(
        error,
        &[
            "InternalServerError",
            "ServiceUnavailable",
            "LimitExceededException",
        ],
    );
    warn!(operation, code = code.as_deref().unwrap_or("-"), error = %message, "DynamoDB request failed");
    if !transient && code.as_deref() == Some("ValidationException") {
        StoreError::Corrupt(format!("{operation}: {message}"))
    } else {
        StoreError::Unavailable(format!("{operation}: {message}"))
    }
}

/// `#name` placeholders for every `#word` in the expressions (each stands for the attribute of
/// the same name), so that no placeholder is ever missing or unused.
fn names(expressions: &[&str]) -> Option<HashMap<String, String>> {
    let mut names = HashMap::new();
    for expression in expressions {
        let mut rest = *expression;
        while let Some(start) = rest.find('#') {
            let word: String = rest[start + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[start + 1 + word.len()..];
            if !word.is_empty() {
                names.insert(format!("#{word}"), word);
            }
        }
    }
    (!names.is_empty()).then_some(names)
}

fn values<const N: usize>(
    pairs: [(&str, AttributeValue); N],
) -> Option<HashMap<String, AttributeValue>> {
    (N > 0).then(|| {
        pairs
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    })
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn invalid(error: impl std::fmt::Display) -> StoreError {
    corrupt(format!("invalid request: {error}"))
}

/// A put under `condition` (no values), for a transaction.
fn put(table: &str, item: Item, condition: &str) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_names(names(&[condition]))
        .build()
        .map_err(invalid)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A token that makes the SDK's own retries of one transaction idempotent (a retry after a
/// timeout whose first attempt succeeded then succeeds too, instead of failing its conditions).
fn request_token(scope: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let seed = format!("{scope}/{}/{count}/{clock}", std::process::id());
    format!(
        "{:016x}{:016x}",
        crate::scheduler::fnv1a64(seed.as_bytes()),
        (clock as u64) ^ count
    )
}

/// Wait a little before round `round` (from 1) against a transaction conflict: 40, 80, 160…
/// ms plus up to as much again at random, so that rivals do not collide again in lockstep.
async fn conflict_backoff(round: u32) {
    let base = 20u64.saturating_mul(1 << round.min(6));
    let jitter = crate::scheduler::fnv1a64(request_token("jitter").as_bytes()) % base.max(1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// The cancellation reasons of a cancelled transaction, one code per action (`"None"` for the
/// actions that were fine); `None` for any other error.
fn cancellation_codes(
    error: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> Option<Vec<String>> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code().unwrap_or("None").to_owned())
                .collect(),
        ),
        _ => None,
    }
}

/// A cancelled transaction whose reasons say nothing we handle: throttled, invalid, or odd.
fn cancelled_error(operation: &str, codes: &[String]) -> StoreError {
    let listed = codes.join(", ");
    warn!(operation, reasons = %listed, "DynamoDB transaction cancelled");
    let message = format!("{operation}: transaction cancelled [{listed}]");
    if codes.iter().any(|code| code == "ValidationError") {
        StoreError::Corrupt(message)
    } else {
        StoreError::Unavailable(message)
    }
}

fn case_id_from_pk(pk: &str) -> Result<CaseId, StoreError> {
    pk.strip_prefix("CASE#")
        .and_then(|id| CaseId::parse(id).ok())
        .ok_or_else(|| corrupt(format!("{pk:?} is not a case partition")))
}

// ---------------------------------------------------------------------------------------------
// Commit
// ---------------------------------------------------------------------------------------------

/// What each action of the commit transaction is, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Case,
    Event,
    Timeline,
    /// The key guard of outbox item `n` (of the write's de-duplicated items).
    OutboxKey(usize),
    OutboxItem(usize),
}

struct NewOutbox {
    key: String,
    guard: Item,
    item: Item,
}

/// Epoch seconds when an event record written at `now` may be deleted.
fn event_expiry(now: Timestamp) -> i64 {
    let ttl = i64::try_from(EVENT_RECORD_TTL.as_secs()).unwrap_or(i64::MAX);
    now.as_second().saturating_add(ttl)
}

impl DynamoStore {
    fn commit_actions(
        &self,
        case: &Item,
        case_condition: &(String, Option<HashMap<String, AttributeValue>>),
        event: Option<&Item>,
        timeline: &[Item],
        outbox: &[Option<NewOutbox>],
    ) -> Result<(Vec<TransactWriteItem>, Vec<Role>), StoreError> {
        let mut actions = Vec::new();
        let mut roles = Vec::new();
        let (condition, condition_values) = case_condition;
        let case_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(case.clone()))
            .condition_expression(condition)
            .set_expression_attribute_names(names(&[condition]))
            .set_expression_attribute_values(condition_values.clone())
            .build()
            .map_err(invalid)?;
        actions.push(TransactWriteItem::builder().put(case_put).build());
        roles.push(Role::Case);
        if let Some(event) = event {
            actions.push(put(
                &self.table,
                event.clone(),
                "attribute_not_exists(#pk)",
            )?);
            roles.push(Role::Event);
        }
        for entry in timeline {
            actions.push(put(
                &self.table,
                entry.clone(),
                "attribute_not_exists(#pk)",
            )?);
            roles.push(Role::Timeline);
        }
        for (index, new) in outbox.iter().enumerate() {
            let Some(new) = new else { continue };
            actions.push(put(
                &self.table,
                new.guard.clone(),
                "attribute_not_exists(#pk)",
            )?);
            roles.push(Role::OutboxKey(index));
            actions.push(put(
                &self.table,
                new.item.clone(),
                "attribute_not_exists(#pk)",
            )?);
            roles.push(Role::OutboxItem(index));
        }
        if actions.len() > MAX_TRANSACTION_ACTIONS {
            return Err(corrupt(format!(
                "a write of case {} needs {} actions, more than DynamoDB's {MAX_TRANSACTION_ACTIONS} in one transaction",
                case.get(item::CASE_ID)
                    .and_then(|v| v.as_s().ok())
                    .map_or("?", String::as_str),
                actions.len()
            )));
        }
        Ok((actions, roles))
    }
}

// ---------------------------------------------------------------------------------------------
// Outbox helpers
// ---------------------------------------------------------------------------------------------

/// What the claim needs to know about a pending item.
#[derive(Debug)]
struct PendingEntry {
    pk: String,
    sk: String,
    /// Not projected into the pending index: `None` there.
    lane: Option<String>,
    next_attempt_at: Timestamp,
    lease_until: Option<Timestamp>,
}

impl PendingEntry {
    fn read(item: &Item) -> Result<Self, StoreError> {
        let read = Reader::new(item, "pending outbox item");
        Ok(Self {
            pk: read.s(PK)?.to_owned(),
            sk: read.s(SK)?.to_owned(),
            lane: read.opt_s(LANE)?.map(str::to_owned),
            next_attempt_at: read.instant(NEXT_ATTEMPT_AT)?,
            lease_until: read.opt_instant(LEASE_UNTIL)?,
        })
    }

    /// Due, and not leased (a lease has expired when `lease_until <= now`).
    fn claimable(&self, now: Timestamp) -> bool {
        self.next_attempt_at <= now && self.lease_until.is_none_or(|until| until <= now)
    }
}

/// How a finished delivery changes its item, and the text of its timeline entry.
struct Finish {
    update: &'static str,
    values: HashMap<String, AttributeValue>,
    /// `Some` for a final outcome: `<state>` or `<state>: <text>`.
    outcome: Option<String>,
}

impl Finish {
    fn new(outcome: DeliveryOutcome) -> Self {
        let final_state = |state: DeliveryState, text: String, update: &'static str| {
            let name = item::state_name(state);
            let outcome = if text.is_empty() {
                name.to_owned()
            } else {
                format!("{name}: {text}")
            };
            let mut values = HashMap::from([
                (":state".to_owned(), s(name)),
                (":text".to_owned(), s(text)),
            ]);
            if update.contains(":one") {
                values.insert(":one".to_owned(), n(1));
            }
            Finish {
                update,
                values,
                outcome: Some(outcome),
            }
        };
        match outcome {
            DeliveryOutcome::RetryAt { at, error } => Finish {
                update: "SET #attempts = #attempts + :one, #last_error = :text, \
                         #next_attempt_at = :at REMOVE #lease_until",
                values: HashMap::from([
                    (":one".to_owned(), n(1)),
                    (":text".to_owned(), s(error)),
                    (":at".to_owned(), instant(at)),
                ]),
                outcome: None,
            },
            DeliveryOutcome::Delivered { detail } => final_state(
                DeliveryState::Delivered,
                detail,
                "SET #state = :state, #attempts = #attempts + :one, #detail = :text \
                 REMOVE #pending_pk, #pending_sk, #lease_until",
            ),
            // Nothing was sent: no attempt.
            DeliveryOutcome::NotSent { reason } => final_state(
                DeliveryState::NotSent,
                reason,
                "SET #state = :state, #detail = :text \
                 REMOVE #pending_pk, #pending_sk, #lease_until",
            ),
            DeliveryOutcome::Failed { error } => final_state(
                DeliveryState::Failed,
                error,
                "SET #state = :state, #attempts = #attempts + :one, #last_error = :text \
                 REMOVE #pending_pk, #pending_sk, #lease_until",
            ),
        }
    }
}

/// Only pending items change: a final item stays as it is.
const STILL_PENDING: &str = "attribute_exists(#pending_pk)";

impl DynamoStore {
    /// The oldest pending item of each delivery lane of a case, in item order (strongly
    /// consistent): the only items of the case that may be delivered now.
    async fn pending_heads(&self, case: &str) -> Result<Vec<PendingEntry>, StoreError> {
        let pending = self
            .partition_where(
                case,
                OUTBOX_PREFIX,
                Some("attribute_exists(#pending_pk)"),
                Some("#pk, #sk, #lane, #next_attempt_at, #lease_until"),
                "find the oldest pending outbox items",
            )
            .await?;
        let mut lanes = HashSet::new();
        let mut heads = Vec::new();
        for item in &pending {
            let entry = PendingEntry::read(item)?;
            // An item without a lane orders with its whole case.
            let lane = entry.lane.clone().unwrap_or_else(|| entry.pk.clone());
            if lanes.insert(lane) {
                heads.push(entry);
            }
        }
        Ok(heads)
    }

    /// Lease one item until `until`, if it is still pending, due and not leased: a conditional
    /// update, so that of two claimers exactly one gets it.
    async fn lease(
        &self,
        entry: &PendingEntry,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<OutboxItem>, StoreError> {
        let update = "SET #lease_until = :until";
        let condition = "attribute_exists(#pending_pk) AND #next_attempt_at <= :now \
                         AND (attribute_not_exists(#lease_until) OR #lease_until <= :now)";
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&entry.pk, &entry.sk)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(names(&[update, condition]))
            .set_expression_attribute_values(values([
                (":until", instant(until)),
                (":now", instant(now)),
            ]))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes().map(item::decode_outbox).transpose(),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                // Another claimer was first, or it was finished meanwhile.
                Ok(None)
            }
            Err(error) => Err(sdk_error("lease an outbox item", &error)),
        }
    }

    /// The case's current version, if the case exists.
    async fn version_of(&self, pk: &str) -> Result<Option<u64>, StoreError> {
        let projection = "#version";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, CASE_SK)))
            .consistent_read(true)
            .projection_expression(projection)
            .set_expression_attribute_names(names(&[projection]))
            .send()
            .await
            .map_err(|e| sdk_error("read a case's version", &e))?;
        output
            .item()
            .map(|item| Reader::new(item, pk).n(VERSION))
            .transpose()
    }

    /// Every item of a case's partition under `prefix`, in sort key order (strongly consistent).
    async fn partition(
        &self,
        pk: &str,
        prefix: &str,
        operation: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.partition_where(pk, prefix, None, None, operation)
            .await
    }

    /// Like [`DynamoStore::partition`], only the items that pass `filter`, only the attributes
    /// named in `projection`.
    async fn partition_where(
        &self,
        pk: &str,
        prefix: &str,
        filter: Option<&str>,
        projection: Option<&str>,
        operation: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let key_condition = "#pk = :pk AND begins_with(#sk, :prefix)";
        let expressions: Vec<&str> = [Some(key_condition), filter, projection]
            .into_iter()
            .flatten()
            .collect();
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression(key_condition)
                .set_filter_expression(filter.map(str::to_owned))
                .set_projection_expression(projection.map(str::to_owned))
                .set_expression_attribute_names(names(&expressions))
                .set_expression_attribute_values(values([(":pk", s(pk)), (":prefix", s(prefix))]))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(operation, &e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(last) => start = Some(last.clone()),
                None => return Ok(items),
            }
        }
    }

    /// Up to `limit` items of an index partition, in sort order, from a key condition.
    async fn index_query(
        &self,
        index: &str,
        key_condition: &str,
        bindings: HashMap<String, AttributeValue>,
        forward: bool,
        limit: usize,
        operation: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let page_size = i32::try_from(limit - items.len())
                .unwrap_or(i32::MAX)
                .min(1000);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(key_condition)
                .set_expression_attribute_names(names(&[key_condition]))
                .set_expression_attribute_values(Some(bindings.clone()))
                .scan_index_forward(forward)
                .limit(page_size)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(operation, &e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(last) => start = Some(last.clone()),
                None => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }

    /// Read the case items of `pks` (strongly consistent), in any order.
    async fn cases_by_pk(&self, pks: &[String]) -> Result<HashMap<String, Item>, StoreError> {
        let mut found = HashMap::new();
        for chunk in pks.chunks(MAX_BATCH_GET) {
            let mut keys: Vec<_> = chunk.iter().map(|pk| key(pk, CASE_SK)).collect();
            for round in 0u32.. {
                if keys.is_empty() {
                    break;
                }
                if round >= 8 {
                    return Err(StoreError::Unavailable(format!(
                        "list cases: {} cases stayed unprocessed (throttled)",
                        keys.len()
                    )));
                }
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << round)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(invalid)?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("read cases", &e))?;
                for item in output
                    .responses()
                    .and_then(|tables| tables.get(&self.table))
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let pk = Reader::new(item, "case item").s(PK)?.to_owned();
                    found.insert(pk, item.clone());
                }
                keys = output
                    .unprocessed_keys()
                    .and_then(|tables| tables.get(&self.table))
                    .map(|unprocessed| unprocessed.keys().to_vec())
                    .unwrap_or_default();
            }
        }
        Ok(found)
    }
}

// ---------------------------------------------------------------------------------------------
// The port
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

    async fn event_seen(&self, event_id: &str) -> Result<bool, StoreError> {
        let projection = "#pk";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(item::event_pk(event_id), item::EVENT_SK)))
            .consistent_read(true)
            .projection_expression(projection)
            .set_expression_attribute_names(names(&[projection]))
            .send()
            .await
            .map_err(|e| sdk_error("check event", &e))?;
        // A record past its TTL that DynamoDB has not deleted yet still counts: the event was
        // applied, and `commit` refuses it too.
        Ok(output.item().is_some())
    }

    async fn commit(&self, write: CaseWrite) -> Result<u64, StoreError> {
        let id = write.case.id.clone();
        let pk = case_pk(&id);
        let version = match write.expected_version {
            None => 1,
            Some(expected) => expected
                .checked_add(1)
                .ok_or_else(|| StoreError::Conflict(id.clone()))?,
        };
        let case = item::case_item(&write.case, version)?;
        let case_condition = match write.expected_version {
            None => ("attribute_not_exists(#pk)".to_owned(), None),
            // A missing case has no version: the condition fails, a conflict as for SQLite.
            Some(expected) => (
                "#version = :expected".to_owned(),
                values([(":expected", n(expected))]),
            ),
        };
        let event = write
            .event_id
            .as_deref()
            .map(|event_id| item::event_item(event_id, &id, write.now, event_expiry(write.now)));
        let timeline = write
            .timeline
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                item::timeline_item(&id, item::commit_timeline_sk(version, index), entry)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Within one write the first item of a key wins.
        let mut keys_seen = HashSet::new();
        let mut outbox = Vec::new();
        for (index, new) in write.outbox.iter().enumerate() {
            if !keys_seen.insert(new.key.as_str()) {
                continue;
            }
            let sk = item::outbox_sk(version, index);
            outbox.push(Some(NewOutbox {
                key: new.key.clone(),
                guard: item::outbox_key_item(&new.key, &id, &sk),
                item: item::new_outbox_item(&id, &sk, &new.key, &new.effect, write.now)?,
            }));
        }

        let mut conflict_rounds = 0;
        loop {
            let (actions, roles) =
                self.commit_actions(&case, &case_condition, event.as_ref(), &timeline, &outbox)?;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .client_request_token(request_token(&pk))
                .send()
                .await;
            let Err(error) = result else {
                return Ok(version);
            };
            let Some(codes) = cancellation_codes(&error) else {
                return Err(sdk_error("commit", &error));
            };
            let code = |index: usize| codes.get(index).map_or("None", String::as_str);
            let failed = |role: Role| {
                roles
                    .iter()
                    .enumerate()
                    .any(|(index, r)| *r == role && code(index) == CONDITION_FAILED)
            };
            // The precedence of the contract: a duplicate event is the final answer.
            if let Some(event_id) = &write.event_id
                && failed(Role::Event)
            {
                return Err(StoreError::DuplicateEvent(event_id.clone()));
            }
            if failed(Role::Case) {
                return Err(StoreError::Conflict(id));
            }
            let existing: Vec<usize> = roles
                .iter()
                .enumerate()
                .filter_map(|(index, role)| match role {
                    Role::OutboxKey(n) if code(index) == CONDITION_FAILED => Some(*n),
                    _ => None,
                })
                .collect();
            let unexplained = roles.iter().enumerate().any(|(index, role)| {
                let code = code(index);
                code != "None"
                    && code != TRANSACTION_CONFLICT
                    && !(matches!(role, Role::OutboxKey(_)) && code == CONDITION_FAILED)
            });
            if unexplained {
                return Err(cancelled_error("commit", &codes));
            }
            for index in existing {
                if let Some(new) = outbox.get_mut(index).and_then(Option::take) {
                    debug!(case_id = %id, key = %new.key, "outbox key exists: item skipped");
                }
            }
            if codes.iter().any(|code| code == TRANSACTION_CONFLICT) {
                conflict_rounds += 1;
                if conflict_rounds > TRANSACTION_CONFLICT_ROUNDS {
                    // Another writer keeps the case busy: reload and decide again.
                    return Err(StoreError::Conflict(id));
                }
                conflict_backoff(conflict_rounds).await;
            }
        }
    }

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
        let pks = keys
            .iter()
            .map(|key| {
                Reader::new(key, "received index entry")
                    .s(PK)
                    .map(str::to_owned)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let found = self.cases_by_pk(&pks).await?;
        pks.iter()
            .filter_map(|pk| found.get(pk))
            .map(item::decode_case)
            .collect()
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
        if limit == 0 {
            return Ok(Vec::new());
        }
        let until = SignedDuration::try_from(lease)
            .ok()
            .and_then(|lease| now.checked_add(lease).ok())
            .unwrap_or(Timestamp::MAX);

        // One case: the oldest pending item of each of its lanes, if ready.
        if let Some(case) = case {
            let mut claimed = Vec::new();
            for head in self.pending_heads(&case_pk(case)).await? {
                if claimed.len() >= limit {
                    break;
                }
                if head.claimable(now) {
                    claimed.extend(self.lease(&head, now, until).await?);
                }
            }
            return Ok(claimed);
        }

        // Every case: walk the pending index, oldest first. The first entry of a case that
        // looks ready makes the case a candidate: its lane heads are read from the table
        // (the index lags behind it and carries no lanes) and each ready one is leased. An
        // entry that is leased or waiting for its retry decides nothing: a later item of its
        // case may be in another lane.
        let mut claimed = Vec::new();
        let mut cases_done = HashSet::new();
        let key_condition = "#pending_pk = :partition";
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(PENDING_INDEX)
                .key_condition_expression(key_condition)
                .set_expression_attribute_names(names(&[key_condition]))
                .set_expression_attribute_values(values([(":partition", s(PENDING_PARTITION))]))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("find pending outbox items", &e))?;
            for entry in page.items() {
                let entry = PendingEntry::read(entry)?;
                if !entry.claimable(now) || !cases_done.insert(entry.pk.clone()) {
                    continue;
                }
                for head in self.pending_heads(&entry.pk).await? {
                    if !head.claimable(now) {
                        continue;
                    }
                    if let Some(item) = self.lease(&head, now, until).await? {
                        claimed.push(item);
                        if claimed.len() >= limit {
                            return Ok(claimed);
                        }
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(last) => start = Some(last.clone()),
                None => return Ok(claimed),
            }
        }
    }

    async fn finish_delivery(
        &self,
        key_text: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let projection = "#case_id, #item_sk";
        let guard = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(item::outbox_key_pk(key_text), OUTBOX_KEY_SK)))
            .consistent_read(true)
            .projection_expression(projection)
            .set_expression_attribute_names(names(&[projection]))
            .send()
            .await
            .map_err(|e| sdk_error("find outbox item", &e))?;
        let Some(guard) = guard.item() else {
            warn!(key = %key_text, "finished delivery of an unknown outbox item");
            return Ok(());
        };
        let read = Reader::new(guard, format!("outbox key {key_text}"));
        let case_id = CaseId::parse(read.s(CASE_ID)?)
            .map_err(|error| corrupt(format!("{}: {error}", read.what())))?;
        let pk = case_pk(&case_id);
        let item_key = key(&pk, read.s(ITEM_SK)?);

        let Finish {
            update,
            values: bindings,
            outcome: final_outcome,
        } = Finish::new(outcome);

        // A retry: one conditional update, no timeline entry.
        let Some(final_outcome) = final_outcome else {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(item_key))
                .update_expression(update)
                .condition_expression(STILL_PENDING)
                .set_expression_attribute_names(names(&[update, STILL_PENDING]))
                .set_expression_attribute_values(Some(bindings))
                .send()
                .await;
            return match result {
                Ok(_) => Ok(()),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    info!(key = %key_text, "outbox item was final already; retry ignored");
                    Ok(())
                }
                Err(error) => Err(sdk_error("record a delivery retry", &error)),
            };
        };

        // A final outcome: the item and its `Delivered` entry together. The entry's sort key
        // names the case's current version, checked in the same transaction, so that it sorts
        // after everything written before it and before the next commit's entries.
        let entry = TimelineEntry {
            at: now,
            kind: TimelineKind::Delivered {
                key: key_text.to_owned(),
                outcome: final_outcome,
            },
        };
        for round in 1..=TRANSACTION_CONFLICT_ROUNDS {
            let version = self.version_of(&pk).await?;
            let sk = item::finish_timeline_sk(version.unwrap_or(0), now, key_text);
            let mut actions = vec![
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(item_key.clone()))
                            .update_expression(update)
                            .condition_expression(STILL_PENDING)
                            .set_expression_attribute_names(names(&[update, STILL_PENDING]))
                            .set_expression_attribute_values(Some(bindings.clone()))
                            .build()
                            .map_err(invalid)?,
                    )
                    .build(),
                put(
                    &self.table,
                    item::timeline_item(&case_id, sk, &entry)?,
                    "attribute_not_exists(#pk)",
                )?,
            ];
            if let Some(version) = version {
                let condition = "#version = :version";
                actions.push(
                    TransactWriteItem::builder()
                        .condition_check(
                            ConditionCheck::builder()
                                .table_name(&self.table)
                                .set_key(Some(key(&pk, CASE_SK)))
                                .condition_expression(condition)
                                .set_expression_attribute_names(names(&[condition]))
                                .set_expression_attribute_values(values([(":version", n(version))]))
                                .build()
                                .map_err(invalid)?,
                        )
                        .build(),
                );
            }
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .client_request_token(request_token(key_text))
                .send()
                .await;
            let Err(error) = result else {
                return Ok(());
            };
            let Some(codes) = cancellation_codes(&error) else {
                return Err(sdk_error("record a delivery", &error));
            };
            let code = |index: usize| codes.get(index).map_or("None", String::as_str);
            if code(0) == CONDITION_FAILED {
                info!(key = %key_text, "outbox item was final already; outcome ignored");
                return Ok(());
            }
            let retry = code(2) == CONDITION_FAILED
                || codes.iter().any(|code| code == TRANSACTION_CONFLICT);
            if !retry {
                return Err(cancelled_error("record a delivery", &codes));
            }
            // The case moved on meanwhile (or a transaction was in flight): again.
            conflict_backoff(round).await;
        }
        Err(StoreError::Unavailable(format!(
            "record delivery of {key_text}: case {case_id} kept changing"
        )))
    }

    async fn outbox_of(&self, case: &CaseId) -> Result<Vec<OutboxItem>, StoreError> {
        self.partition(&case_pk(case), OUTBOX_PREFIX, "read outbox")
            .await?
            .iter()
            .map(item::decode_outbox)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_derived_from_the_expressions() {
        let found = names(&[
            "#pk = :pk AND begins_with(#sk, :prefix)",
            "SET #a = #a + :one REMOVE #lease_until",
        ])
        .unwrap();
        let mut listed: Vec<_> = found.into_iter().collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                ("#a".to_owned(), "a".to_owned()),
                ("#lease_until".to_owned(), "lease_until".to_owned()),
                ("#pk".to_owned(), "pk".to_owned()),
                ("#sk".to_owned(), "sk".to_owned()),
            ]
        );
        assert_eq!(names(&["attribute_exists(x)"]), None);
    }

    #[test]
    fn request_tokens_are_unique_and_short_enough() {
        let a = request_token("CASE#zendesk-1");
        let b = request_token("CASE#zendesk-1");
        assert_ne!(a, b);
        assert!(a.len() <= 36, "{a}");
    }
}
