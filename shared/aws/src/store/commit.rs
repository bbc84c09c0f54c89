//! The commit: one decision as one `TransactWriteItems`.

use super::expressions::{
    CONDITION_FAILED, TRANSACTION_CONFLICT, cancellation_codes, cancelled_error, conflict_backoff,
    invalid, names, put, request_token, sdk_error, values,
};
use super::item::{self, Item, case_pk, corrupt, n};
use super::{DynamoStore, EVENT_RECORD_TTL, MAX_TRANSACTION_ACTIONS, TRANSACTION_CONFLICT_ROUNDS};
use app::ports::{CaseWrite, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use domain::Timestamp;
use std::collections::{HashMap, HashSet};
use tracing::debug;

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

impl DynamoStore {
    /// The port's `commit`: one `TransactWriteItems`, sent again without the outbox items
    /// whose keys exist, or after a transaction conflict.
    pub(super) async fn commit_write(&self, write: CaseWrite) -> Result<u64, StoreError> {
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
}
