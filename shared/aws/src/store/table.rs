//! Creating the table, for tests and local experiments. In AWS the stack creates it
//! (`template.yaml`), with the same keys, indexes and TTL (see `infra/dynamodb.md`).

use super::expressions::sdk_error;
use super::item::{
    DUE_PK, DUE_SK, EXPIRES_AT, LEASE_UNTIL, LIST_PK, LIST_SK, NEXT_ATTEMPT_AT, PENDING_PK,
    PENDING_SK, PK, SK,
};
use super::{DUE_INDEX, PENDING_INDEX, RECEIVED_INDEX};
use app::ports::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use std::time::Duration;

fn invalid(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("invalid table definition: {error}"))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(invalid)
}

fn index(
    name: &str,
    pk: &str,
    sk: &str,
    projection: Projection,
) -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(projection)
        .build()
        .map_err(invalid)
}

/// Create `table` (on-demand capacity) with its three sparse indexes, wait until it is active,
/// and enable TTL on `expires_at`.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for name in [
        PK, SK, DUE_PK, DUE_SK, LIST_PK, LIST_SK, PENDING_PK, PENDING_SK,
    ] {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(invalid)?,
        );
    }
    let keys_only = || {
        Projection::builder()
            .projection_type(ProjectionType::KeysOnly)
            .build()
    };
    let pending = Projection::builder()
        .projection_type(ProjectionType::Include)
        .non_key_attributes(NEXT_ATTEMPT_AT)
        .non_key_attributes(LEASE_UNTIL)
        .build();
    request
        .global_secondary_indexes(index(DUE_INDEX, DUE_PK, DUE_SK, keys_only())?)
        .global_secondary_indexes(index(RECEIVED_INDEX, LIST_PK, LIST_SK, keys_only())?)
        .global_secondary_indexes(index(PENDING_INDEX, PENDING_PK, PENDING_SK, pending)?)
        .send()
        .await
        .map_err(|e| sdk_error("create table", &e))?;

    // On AWS a new table (and its indexes) takes a while; moto is active at once.
    for _ in 0..120 {
        let description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| sdk_error("describe table", &e))?;
        let table_active = description
            .table()
            .and_then(|t| t.table_status())
            .is_some_and(|status| *status == TableStatus::Active);
        let indexes_active = description
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .all(|index| {
                index
                    .index_status()
                    .is_none_or(|status| status.as_str() == "ACTIVE")
            });
        if table_active && indexes_active {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(EXPIRES_AT)
                .enabled(true)
                .build()
                .map_err(invalid)?,
        )
        .send()
        .await
        .map_err(|e| sdk_error("enable TTL", &e))?;
    Ok(())
}
