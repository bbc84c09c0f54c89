//! Reads: a case's partition, an index partition, case items by key.

use super::expressions::{invalid, key, names, sdk_error, values};
use super::item::{CASE_SK, Item, PK, Reader, s};
use super::{CONCURRENT_BATCH_GETS, DynamoStore, MAX_BATCH_GET};
use app::ports::StoreError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;
use std::time::Duration;

impl DynamoStore {
    /// Every item of a case's partition under `prefix`, in sort key order (strongly consistent).
    pub(super) async fn partition(
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
    pub(super) async fn partition_where(
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
        self.client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression(key_condition)
            .set_filter_expression(filter.map(str::to_owned))
            .set_projection_expression(projection.map(str::to_owned))
            .set_expression_attribute_names(names(&expressions))
            .set_expression_attribute_values(values([(":pk", s(pk)), (":prefix", s(prefix))]))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error(operation, &e))
    }

    /// Up to `limit` items of an index partition, in sort order, from a key condition.
    pub(super) async fn index_query(
        &self,
        index: &str,
        key_condition: &str,
        bindings: HashMap<String, AttributeValue>,
        forward: bool,
        limit: usize,
        operation: &str,
    ) -> Result<Vec<Item>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let page_size = i32::try_from(limit).unwrap_or(i32::MAX).min(1000);
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(names(&[key_condition]))
            .set_expression_attribute_values(Some(bindings))
            .scan_index_forward(forward)
            .into_paginator()
            .page_size(page_size)
            .items()
            .send();
        let mut items = Vec::new();
        // Stop reading as soon as there are enough: the stream asks for the next page lazily.
        while items.len() < limit {
            match pages.try_next().await {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(error) => return Err(sdk_error(operation, &error)),
            }
        }
        Ok(items)
    }

    /// Read the case items of `pks` (strongly consistent), in any order: up to
    /// [`CONCURRENT_BATCH_GETS`] `BatchGetItem` requests of 100 keys in flight, so that a
    /// month of 10,000 cases costs the latency of about 13 requests, not of 100.
    /// The cases that entries of the `received` index name, in the entries' order.
    pub(super) async fn cases_of_index_entries(
        &self,
        entries: &[Item],
    ) -> Result<Vec<app::ports::StoredCase>, StoreError> {
        let pks = entries
            .iter()
            .map(|entry| {
                Reader::new(entry, "received index entry")
                    .s(PK)
                    .map(str::to_owned)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let found = self.cases_by_pk(&pks).await?;
        pks.iter()
            .filter_map(|pk| found.get(pk))
            .map(super::item::decode_case)
            .collect()
    }

    pub(super) async fn cases_by_pk(
        &self,
        pks: &[String],
    ) -> Result<HashMap<String, Item>, StoreError> {
        let mut found = HashMap::with_capacity(pks.len());
        let mut chunks = pks.chunks(MAX_BATCH_GET);
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            while in_flight.len() < CONCURRENT_BATCH_GETS {
                let Some(chunk) = chunks.next() else { break };
                let (store, chunk) = (self.clone(), chunk.to_vec());
                in_flight.spawn(async move { store.batch_get_cases(chunk).await });
            }
            // An early return drops the set, which aborts the requests still in flight.
            match in_flight.join_next().await {
                None => return Ok(found),
                Some(Ok(items)) => found.extend(items?),
                Some(Err(failed)) => {
                    return Err(StoreError::Unavailable(format!(
                        "read cases: a batch read did not finish: {failed}"
                    )));
                }
            }
        }
    }

    /// One chunk of at most 100 case items; unprocessed keys are asked for again with backoff.
    async fn batch_get_cases(&self, pks: Vec<String>) -> Result<Vec<(String, Item)>, StoreError> {
        let mut found = Vec::with_capacity(pks.len());
        let mut keys: Vec<_> = pks.iter().map(|pk| key(pk, CASE_SK)).collect();
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
                found.push((pk, item.clone()));
            }
            keys = output
                .unprocessed_keys()
                .and_then(|tables| tables.get(&self.table))
                .map(|unprocessed| unprocessed.keys().to_vec())
                .unwrap_or_default();
        }
        Ok(found)
    }
}
