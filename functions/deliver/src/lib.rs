//! The deliver function: invoked by the table's DynamoDB stream with new outbox items.
//!
//! The webhook functions store a case and its outbox items and answer; this function sends
//! the items. `template.yaml` filters the stream so that it is invoked only for `INSERT`s of
//! outbox items (`entity = "outbox"`), never for the case, timeline or event writes.
//!
//! For each record it claims the item by its key (`aws::store::DynamoStore::claim_key`: the
//! same conditions as any claim, so a resolve never overtakes its trigger), sends it through
//! the matching notifier while renewing the lease, and records the outcome. Records of one
//! delivery lane are handled in stream order; lanes run concurrently, so a slow PagerDuty
//! holds back no Slack message.
//!
//! # Errors
//!
//! The response lists the records that could not be handled (`batchItemFailures`, by
//! `SequenceNumber`; `FunctionResponseTypes: [ReportBatchItemFailures]`): the store failed, or
//! the destination failed and the item waits for its retry. Lambda retries from the first of
//! them; a record whose item is already final, held by another deliverer or waiting for its
//! retry time is skipped on that retry, so nothing is sent twice. The sweep stays the safety
//! net: it delivers every pending item that is due, whatever happened to its record.

use app::ports::{CaseStore, DeliveryOutcome, OutboxItem, Timers};
use app::{Deliver, Engine};
use aws::store::{DynamoStore, KeyClaim};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

/// The function's own secrets: none (it needs only `lambda::NOTIFIER_SECRETS`). Named, so
/// that the template test checks the template against the code, not against a copy.
pub const SECRETS: [lambda::SecretSpec; 0] = [];

/// A DynamoDB stream event: only the documented fields this function reads.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One record of the stream.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamData,
}

/// The record's `dynamodb` object (`StreamViewType` `NEW_IMAGE` or `NEW_AND_OLD_IMAGES`).
#[derive(Debug, Clone, Deserialize)]
pub struct StreamData {
    #[serde(rename = "SequenceNumber")]
    pub sequence_number: String,
    #[serde(rename = "NewImage", default)]
    pub new_image: BTreeMap<String, AttributeValue>,
}

/// A DynamoDB attribute value in the stream's JSON form; only strings are read here.
#[derive(Debug, Clone, Deserialize)]
pub struct AttributeValue {
    #[serde(rename = "S")]
    pub s: Option<String>,
}

impl StreamRecord {
    fn string(&self, name: &str) -> Option<&str> {
        self.dynamodb.new_image.get(name)?.s.as_deref()
    }

    /// The outbox item's idempotency key, when the record is the insert of an outbox item.
    fn outbox_key(&self) -> Option<&str> {
        if self.event_name != "INSERT" || self.string("entity") != Some(aws::store::OUTBOX_ENTITY) {
            return None;
        }
        self.string("outbox_key")
    }

    /// The delivery lane; records of one lane are handled in order. An item without a lane
    /// orders with its whole case (its partition key), as in the store.
    fn lane(&self) -> String {
        self.string("lane")
            .or_else(|| self.string("pk"))
            .unwrap_or_default()
            .to_owned()
    }
}

/// How one record ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Sent or recorded as final (delivered, not sent, failed permanently).
    Finished,
    /// Nothing to do now: final already, held by another deliverer, or not ready.
    Skipped,
    /// The destination failed and the item waits for its retry; or the store failed.
    Failed,
}

/// Handle one batch of stream records; the response names the records to retry.
pub async fn handle<T, D>(
    engine: &Arc<Engine<DynamoStore, T, D>>,
    event: StreamEvent,
) -> DynamoDbEventResponse
where
    T: Timers,
    D: Deliver,
{
    // Lanes keep their records' stream order; lanes run concurrently.
    let mut lanes: BTreeMap<String, Vec<StreamRecord>> = BTreeMap::new();
    for record in event.records {
        lanes.entry(record.lane()).or_default().push(record);
    }
    let mut tasks = JoinSet::new();
    // Each lane's sequence numbers, to report them all should its task panic.
    let mut lane_records = HashMap::new();
    for (_, records) in lanes {
        let sequence_numbers: Vec<String> = records
            .iter()
            .map(|record| record.dynamodb.sequence_number.clone())
            .collect();
        let engine = Arc::clone(engine);
        let task = tasks.spawn(async move {
            let mut failed = Vec::new();
            for record in records {
                if handle_record(&engine, &record).await == Handled::Failed {
                    failed.push(record.dynamodb.sequence_number.clone());
                }
            }
            failed
        });
        lane_records.insert(task.id(), sequence_numbers);
    }
    let mut failed = Vec::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, sequence_numbers)) => failed.extend(sequence_numbers),
            Err(error) => {
                // A lane that panicked: every record of it is retried (those it finished are
                // skipped on the retry, their items being final).
                error!(%error, "a delivery lane panicked; its records are retried");
                failed.extend(lane_records.remove(&error.id()).unwrap_or_default());
            }
        }
    }
    failed.sort_by(|a, b| compare_sequence_numbers(a, b));
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|sequence_number| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number);
            failure
        })
        .collect();
    response
}

/// Stream sequence numbers are decimal strings of up to 40 digits: shorter is smaller.
fn compare_sequence_numbers(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Claim, send and record the item of one record.
pub async fn handle_record<T, D>(
    engine: &Engine<DynamoStore, T, D>,
    record: &StreamRecord,
) -> Handled
where
    T: Timers,
    D: Deliver,
{
    let sequence_number = &record.dynamodb.sequence_number;
    let Some(key) = record.outbox_key() else {
        // The filter lets only outbox inserts through; retrying another record cannot help.
        warn!(%sequence_number, event = %record.event_name, "stream record is not a new outbox item; skipped");
        return Handled::Skipped;
    };
    let claim = engine
        .store()
        .claim_key(key, engine.now(), engine.settings().delivery_lease)
        .await;
    let item = match claim {
        Ok(KeyClaim::Claimed(item)) => item,
        Ok(skipped) => {
            info!(%key, claim = ?skipped, "outbox item not claimed; nothing to send now");
            return Handled::Skipped;
        }
        Err(error) => {
            warn!(%key, %error, "cannot claim the outbox item; the record is retried");
            return Handled::Failed;
        }
    };
    match deliver_with_renewal(engine, &item).await {
        Ok(DeliveryOutcome::RetryAt { .. }) => Handled::Failed,
        Ok(_) => Handled::Finished,
        Err(error) => {
            warn!(case_id = %item.case_id, %key, %error, "delivery outcome not recorded; the record is retried");
            Handled::Failed
        }
    }
}

/// Deliver one claimed item, renewing its lease every third of the lease while the receiver
/// has not answered, so that the sweep never claims it meanwhile.
async fn deliver_with_renewal<S, T, D>(
    engine: &Engine<S, T, D>,
    item: &OutboxItem,
) -> Result<DeliveryOutcome, app::EngineError>
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    let every = (engine.settings().delivery_lease / 3).max(Duration::from_millis(10));
    let delivery = engine.deliver_claimed(item);
    tokio::pin!(delivery);
    let mut renewal = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            result = &mut delivery => return result,
            _ = renewal.tick() => match engine.renew_lease(item).await {
                Ok(true) => {}
                Ok(false) => warn!(case_id = %item.case_id, key = %item.key, "lease of an item in delivery was gone"),
                Err(error) => warn!(case_id = %item.case_id, key = %item.key, %error, "cannot renew the lease of an item in delivery"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_inserts_of_outbox_items_name_a_key() {
        let record = |name: &str, entity: &str| -> StreamRecord {
            serde_json::from_value(serde_json::json!({
                "eventName": name,
                "dynamodb": {
                    "SequenceNumber": "100",
                    "NewImage": {
                        "entity": { "S": entity },
                        "outbox_key": { "S": "zendesk-1/dispatch/trigger" },
                        "attempts": { "N": "0" }
                    }
                }
            }))
            .unwrap()
        };
        assert_eq!(
            record("INSERT", "outbox").outbox_key(),
            Some("zendesk-1/dispatch/trigger")
        );
        assert_eq!(record("MODIFY", "outbox").outbox_key(), None);
        assert_eq!(record("INSERT", "case").outbox_key(), None);
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        let mut numbers = vec!["900", "1000", "111", "99"];
        numbers.sort_by(|a, b| compare_sequence_numbers(a, b));
        assert_eq!(numbers, vec!["99", "111", "900", "1000"]);
    }
}
