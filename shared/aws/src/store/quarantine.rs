//! Quarantined cases: the case item carries the quarantine (a successful commit puts the case
//! item anew and so ends it) and its `due_sk` is moved to `until`, so the due index skips the
//! case; an entry in the `QUARANTINE` partition lets the read API list them.

use super::DynamoStore;
use super::expressions::{key, names, sdk_error, values};
use super::item::{self, CASE_ID, CASE_SK, Item, PK, Reader, SK, case_pk, corrupt, instant, n, s};
use app::ports::{Quarantine, StoreError};
use domain::case::CaseId;

const FAILURES: &str = "quarantine_failures";
const UNTIL: &str = "quarantine_until";
const SINCE: &str = "quarantine_since";
const REASON: &str = "quarantine_reason";
/// One item per case ever quarantined (`sk` = case id); a case whose item no longer carries a
/// quarantine is skipped when listing.
const QUARANTINE_PARTITION: &str = "QUARANTINE";

fn read_quarantine(item: &Item) -> Result<Option<Quarantine>, StoreError> {
    let read = Reader::new(item, "quarantined case");
    let Some(until) = read.opt_instant(UNTIL)? else {
        return Ok(None);
    };
    let case_id = CaseId::parse(read.s(CASE_ID)?)
        .map_err(|error| corrupt(format!("{}: {error}", read.what())))?;
    Ok(Some(Quarantine {
        case_id,
        failures: read.n(FAILURES)?,
        until,
        since: read.instant(SINCE)?,
        reason: read.s(REASON)?.to_owned(),
    }))
}

impl DynamoStore {
    pub(super) async fn set_aside(&self, entry: Quarantine) -> Result<(), StoreError> {
        let id = &entry.case_id;
        let update = "SET #quarantine_failures = :failures, #quarantine_until = :until, \
                      #quarantine_since = :since, #quarantine_reason = :reason, #due_sk = :due";
        let condition = "attribute_exists(#pk)";
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(case_pk(id), CASE_SK)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(names(&[update, condition]))
            .set_expression_attribute_values(values([
                (":failures", n(entry.failures)),
                (":until", instant(entry.until)),
                (":since", instant(entry.since)),
                (":reason", s(entry.reason.as_str())),
                (":due", s(item::due_sk(entry.until, id))),
            ]))
            .send()
            .await;
        match result {
            Ok(_) => {}
            // No such case: nothing to set aside.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(());
            }
            Err(error) => return Err(sdk_error("quarantine a case", &error)),
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(QUARANTINE_PARTITION))
            .item(SK, s(id.as_str()))
            .item(CASE_ID, s(id.as_str()))
            .send()
            .await
            .map_err(|e| sdk_error("list a quarantined case", &e))?;
        Ok(())
    }

    pub(super) async fn quarantine_of(
        &self,
        id: &CaseId,
    ) -> Result<Option<Quarantine>, StoreError> {
        let projection = "#case_id, #quarantine_failures, #quarantine_until, #quarantine_since, #quarantine_reason";
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(case_pk(id), CASE_SK)))
            .consistent_read(true)
            .projection_expression(projection)
            .set_expression_attribute_names(names(&[projection]))
            .send()
            .await
            .map_err(|e| sdk_error("read a case's quarantine", &e))?;
        output
            .item()
            .map(read_quarantine)
            .transpose()
            .map(Option::flatten)
    }

    pub(super) async fn quarantine_list(
        &self,
        limit: usize,
    ) -> Result<Vec<Quarantine>, StoreError> {
        let key_condition = "#pk = :pk";
        let listed: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(names(&[key_condition]))
            .set_expression_attribute_values(values([(":pk", s(QUARANTINE_PARTITION))]))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| sdk_error("list quarantined cases", &e))?;
        let pks = listed
            .iter()
            .map(|entry| {
                Reader::new(entry, "quarantine entry")
                    .s(CASE_ID)
                    .and_then(|id| {
                        CaseId::parse(id)
                            .map_err(|error| corrupt(format!("quarantine entry: {error}")))
                    })
                    .map(|id| case_pk(&id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let found = self.cases_by_pk(&pks).await?;
        let mut quarantined = Vec::new();
        for case in found.values() {
            quarantined.extend(read_quarantine(case)?);
        }
        quarantined
            .sort_by(|a, b| (a.until, a.case_id.as_str()).cmp(&(b.until, b.case_id.as_str())));
        quarantined.truncate(limit);
        Ok(quarantined)
    }
}
