//! Rejected events (`app::ports::RejectedEvent`): one item per provider and event id in the
//! `REJECTED` partition (`sk` = `<provider>#<event id>`, so keeping one again replaces it), with
//! a TTL like the event records. They are rare (an event that can never be decided), so a
//! listing reads the partition and sorts it, as the quarantine listing does.

use super::DynamoStore;
use super::expressions::{names, sdk_error, values};
use super::item::{CASE_ID, EVENT_ID, EXPIRES_AT, Item, PK, Reader, SK, instant, n, s};
use app::ports::{RejectedEvent, StoreError};
use std::time::Duration;

const REJECTED_PARTITION: &str = "REJECTED";
const PROVIDER: &str = "provider";
const REASON: &str = "reason";
const RECEIVED_AT: &str = "received_at";
const BODY: &str = "body";
/// How long a rejected event is kept: the local store's default history retention.
pub const REJECTED_EVENT_TTL: Duration = Duration::from_secs(400 * 24 * 60 * 60);

fn read_rejected(item: &Item) -> Result<RejectedEvent, StoreError> {
    let read = Reader::new(item, "rejected event");
    Ok(RejectedEvent {
        provider: read.s(PROVIDER)?.to_owned(),
        event_id: read.s(EVENT_ID)?.to_owned(),
        case_id: read.s(CASE_ID)?.to_owned(),
        reason: read.s(REASON)?.to_owned(),
        received_at: read.instant(RECEIVED_AT)?,
        body: read.s(BODY)?.to_owned(),
    })
}

impl DynamoStore {
    pub(super) async fn put_rejected(&self, event: RejectedEvent) -> Result<(), StoreError> {
        let ttl = i64::try_from(REJECTED_EVENT_TTL.as_secs()).unwrap_or(i64::MAX);
        let expires_at = event.received_at.as_second().saturating_add(ttl);
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(REJECTED_PARTITION))
            .item(SK, s(format!("{}#{}", event.provider, event.event_id)))
            .item(PROVIDER, s(event.provider))
            .item(EVENT_ID, s(event.event_id))
            .item(CASE_ID, s(event.case_id))
            .item(REASON, s(event.reason))
            .item(RECEIVED_AT, instant(event.received_at))
            .item(BODY, s(event.body))
            .item(EXPIRES_AT, n(expires_at))
            .send()
            .await
            .map_err(|e| sdk_error("keep a rejected event", &e))?;
        Ok(())
    }

    pub(super) async fn rejected_list(
        &self,
        limit: usize,
    ) -> Result<Vec<RejectedEvent>, StoreError> {
        let key_condition = "#pk = :pk";
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(names(&[key_condition]))
            .set_expression_attribute_values(values([(":pk", s(REJECTED_PARTITION))]))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| sdk_error("list rejected events", &e))?;
        let mut events = items
            .iter()
            .map(read_rejected)
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by(|a, b| {
            (b.received_at, &b.provider, &b.event_id).cmp(&(
                a.received_at,
                &a.provider,
                &a.event_id,
            ))
        });
        events.truncate(limit);
        Ok(events)
    }
}
