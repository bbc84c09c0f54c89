//! Errors and expressions: how SDK errors become `StoreError`s, expression placeholders and
//! values, transaction actions, and what a cancelled transaction says.

use crate::error::{Failure, classify};
use app::ports::StoreError;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use domain::case::CaseId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tracing::warn;

use super::item::{Item, PK, SK, corrupt, s};

pub(super) const CONDITION_FAILED: &str = "ConditionalCheckFailed";
pub(super) const TRANSACTION_CONFLICT: &str = "TransactionConflict";

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
pub(super) fn names(expressions: &[&str]) -> Option<HashMap<String, String>> {
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

pub(super) fn values<const N: usize>(
    pairs: [(&str, AttributeValue); N],
) -> Option<HashMap<String, AttributeValue>> {
    (N > 0).then(|| {
        pairs
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    })
}

pub(super) fn key(pk: impl Into<String>, sk: impl Into<String>) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub(super) fn invalid(error: impl std::fmt::Display) -> StoreError {
    corrupt(format!("invalid request: {error}"))
}

/// A put under `condition` (no values), for a transaction.
pub(super) fn put(
    table: &str,
    item: Item,
    condition: &str,
) -> Result<TransactWriteItem, StoreError> {
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
pub(super) fn request_token(scope: &str) -> String {
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
pub(super) async fn conflict_backoff(round: u32) {
    let base = 20u64.saturating_mul(1 << round.min(6));
    let jitter = crate::scheduler::fnv1a64(request_token("jitter").as_bytes()) % base.max(1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// The cancellation reasons of a cancelled transaction, one code per action (`"None"` for the
/// actions that were fine); `None` for any other error.
pub(super) fn cancellation_codes(
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
pub(super) fn cancelled_error(operation: &str, codes: &[String]) -> StoreError {
    let listed = codes.join(", ");
    warn!(operation, reasons = %listed, "DynamoDB transaction cancelled");
    let message = format!("{operation}: transaction cancelled [{listed}]");
    if codes.iter().any(|code| code == "ValidationError") {
        StoreError::Corrupt(message)
    } else {
        StoreError::Unavailable(message)
    }
}

pub(super) fn case_id_from_pk(pk: &str) -> Result<CaseId, StoreError> {
    pk.strip_prefix("CASE#")
        .and_then(|id| CaseId::parse(id).ok())
        .ok_or_else(|| corrupt(format!("{pk:?} is not a case partition")))
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
