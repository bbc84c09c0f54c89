//! The outbox: claims (the oldest pending item of each lane, leased under a condition) and
//! finished deliveries (what `app::outbox::Finish` decides, persisted).

use super::expressions::{
    CONDITION_FAILED, TRANSACTION_CONFLICT, cancellation_codes, cancelled_error, conflict_backoff,
    invalid, key, names, put, request_token, sdk_error, values,
};
use super::item::{
    self, CASE_ID, CASE_SK, DESTINATION, ITEM_SK, Item, LANE, LEASE_UNTIL, NEXT_ATTEMPT_AT,
    OUTBOX_KEY_SK, OUTBOX_PREFIX, PENDING_PARTITION, PK, Reader, SK, VERSION, case_pk, corrupt,
    instant, n, s,
};
use super::{DynamoStore, PENDING_INDEX, TRANSACTION_CONFLICT_ROUNDS};
use app::outbox::{Finish, Recorded};
use app::ports::{DeliveryOutcome, DeliveryState, Destination, OutboxItem, StoreError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem, Update,
};
use domain::Timestamp;
use domain::case::CaseId;
use domain::jiff::SignedDuration;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tracing::{info, warn};

/// What the claim needs to know about a pending item.
#[derive(Debug)]
struct PendingEntry {
    pk: String,
    sk: String,
    /// Not projected into the pending index: `None` there.
    lane: Option<String>,
    /// Not projected into the pending index, and absent from items written before
    /// destinations existed: such an item goes to any destination's workers.
    destination: Option<String>,
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
            destination: read.opt_s(DESTINATION)?.map(str::to_owned),
            next_attempt_at: read.instant(NEXT_ATTEMPT_AT)?,
            lease_until: read.opt_instant(LEASE_UNTIL)?,
        })
    }

    /// Due, and not leased (a lease has expired when `lease_until <= now`).
    fn claimable(&self, now: Timestamp) -> bool {
        self.next_attempt_at <= now && self.lease_until.is_none_or(|until| until <= now)
    }

    fn goes_to(&self, destination: Option<Destination>) -> bool {
        match (destination, &self.destination) {
            (Some(wanted), Some(own)) => wanted.as_str() == own,
            _ => true,
        }
    }
}

/// The update expression and values that persist a [`Finish`].
struct FinishUpdate {
    update: String,
    values: HashMap<String, AttributeValue>,
}

impl FinishUpdate {
    fn new(finish: &Finish) -> Self {
        let (field, text) = match &finish.recorded {
            Recorded::Detail(text) => ("#detail", text),
            Recorded::LastError(text) => ("#last_error", text),
        };
        let mut values = HashMap::from([
            (":added".to_owned(), n(finish.attempts_added)),
            (":text".to_owned(), s(text.as_str())),
        ]);
        let update = match finish.next_attempt_at {
            // A retry stays pending (and in the pending index), waiting until `at`.
            Some(at) if finish.state == DeliveryState::Pending => {
                values.insert(":at".to_owned(), instant(at));
                format!(
                    "SET #attempts = #attempts + :added, {field} = :text, \
                     #next_attempt_at = :at REMOVE #lease_until"
                )
            }
            _ => {
                values.insert(":state".to_owned(), s(finish.state.as_str()));
                format!(
                    "SET #state = :state, #attempts = #attempts + :added, {field} = :text \
                     REMOVE #pending_pk, #pending_sk, #lease_until"
                )
            }
        };
        Self { update, values }
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
                Some("#pk, #sk, #lane, #destination, #next_attempt_at, #lease_until"),
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
}

/// What claiming one outbox item by its key found ([`DynamoStore::claim_key`]).
#[derive(Debug)]
pub enum KeyClaim {
    /// Leased to the caller until now + lease.
    Claimed(Box<OutboxItem>),
    /// Another deliverer holds its lease (a `deliver` invocation or the sweep).
    Held,
    /// Pending, but not to be sent now: waiting for its retry time, or behind an older pending
    /// item of its delivery lane (a resolve never overtakes its trigger). The sweep sends it.
    NotReady,
    /// Not pending any more (delivered, not sent or failed), or no such key.
    Finished,
}

impl DynamoStore {
    /// Lease the outbox item with idempotency key `key_text`, if it is pending, due, not leased
    /// and the oldest pending item of its lane: the same conditions as a claim of its case, for
    /// one item named by a stream record. Costs a `GetItem`, a `Query` of the case's pending
    /// items and, when it is ready, a conditional `UpdateItem`.
    pub async fn claim_key(
        &self,
        key_text: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<KeyClaim, StoreError> {
        let Some((case_id, item_key)) = self.item_of_key(key_text).await? else {
            return Ok(KeyClaim::Finished);
        };
        let item_sk = item_key
            .get(SK)
            .and_then(|sk| sk.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let heads = self.pending_heads(&case_pk(&case_id)).await?;
        let Some(head) = heads.iter().find(|head| head.sk == item_sk) else {
            // Either final, or pending behind an older item of its lane.
            return Ok(if self.is_pending(&item_key).await? {
                KeyClaim::NotReady
            } else {
                KeyClaim::Finished
            });
        };
        if head.next_attempt_at > now {
            return Ok(KeyClaim::NotReady);
        }
        if !head.claimable(now) {
            return Ok(KeyClaim::Held);
        }
        let until = SignedDuration::try_from(lease)
            .ok()
            .and_then(|lease| now.checked_add(lease).ok())
            .unwrap_or(Timestamp::MAX);
        Ok(match self.lease(head, now, until).await? {
            Some(item) => KeyClaim::Claimed(Box::new(item)),
            // Another claimer was first, or it was finished meanwhile.
            None => KeyClaim::Held,
        })
    }

    async fn is_pending(
        &self,
        item_key: &HashMap<String, AttributeValue>,
    ) -> Result<bool, StoreError> {
        let projection = "#pending_pk";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key.clone()))
            .consistent_read(true)
            .projection_expression(projection)
            .set_expression_attribute_names(names(&[projection]))
            .send()
            .await
            .map_err(|e| sdk_error("read an outbox item", &e))?;
        Ok(output
            .item()
            .is_some_and(|item| item.contains_key(item::PENDING_PK)))
    }
}

impl DynamoStore {
    pub(super) async fn claim(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.claim_for(now, lease, limit, case, None).await
    }

    /// Extend the lease of a pending, leased item to `now + lease`, under a condition.
    pub(super) async fn renew(
        &self,
        key_text: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let Some((_, item_key)) = self.item_of_key(key_text).await? else {
            return Ok(false);
        };
        let until = SignedDuration::try_from(lease)
            .ok()
            .and_then(|lease| now.checked_add(lease).ok())
            .unwrap_or(Timestamp::MAX);
        let update = "SET #lease_until = :until";
        let condition = "attribute_exists(#pending_pk) AND attribute_exists(#lease_until)";
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(names(&[update, condition]))
            .set_expression_attribute_values(values([(":until", instant(until))]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error("renew an outbox lease", &error)),
        }
    }

    /// The case and the table key of the outbox item with this idempotency key.
    async fn item_of_key(
        &self,
        key_text: &str,
    ) -> Result<Option<(CaseId, HashMap<String, AttributeValue>)>, StoreError> {
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
            return Ok(None);
        };
        let read = Reader::new(guard, format!("outbox key {key_text}"));
        let case_id = CaseId::parse(read.s(CASE_ID)?)
            .map_err(|error| corrupt(format!("{}: {error}", read.what())))?;
        let item_key = key(case_pk(&case_id), read.s(ITEM_SK)?);
        Ok(Some((case_id, item_key)))
    }

    /// Claims of one case, or of every case, optionally only items going to `destination`.
    pub(super) async fn claim_for(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
        destination: Option<Destination>,
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
                if head.claimable(now) && head.goes_to(destination) {
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
        let mut entries = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_INDEX)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(names(&[key_condition]))
            .set_expression_attribute_values(values([(":partition", s(PENDING_PARTITION))]))
            .into_paginator()
            .items()
            .send();
        while let Some(entry) = entries
            .try_next()
            .await
            .map_err(|e| sdk_error("find pending outbox items", &e))?
        {
            let entry = PendingEntry::read(&entry)?;
            if !entry.claimable(now) || !cases_done.insert(entry.pk.clone()) {
                continue;
            }
            for head in self.pending_heads(&entry.pk).await? {
                if !head.claimable(now) || !head.goes_to(destination) {
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
        Ok(claimed)
    }

    pub(super) async fn finish(
        &self,
        key_text: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some((case_id, item_key)) = self.item_of_key(key_text).await? else {
            warn!(key = %key_text, "finished delivery of an unknown outbox item");
            return Ok(());
        };
        let pk = case_pk(&case_id);

        let finish = Finish::of(key_text, outcome, now);
        let FinishUpdate {
            update,
            values: bindings,
        } = FinishUpdate::new(&finish);
        let update = update.as_str();

        // A retry: one conditional update, no timeline entry.
        let Some(entry) = finish.entry else {
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
}
