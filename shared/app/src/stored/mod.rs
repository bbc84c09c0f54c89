//! The stored documents: the JSON both stores write for a case, an outbox effect and a timeline
//! entry. They are types of their own, not the domain's serde: a renamed or reshaped domain
//! field changes a conversion here (and fails to compile, or fails the golden-document tests of
//! the stores), never the meaning of documents already stored.
//!
//! Every document carries `"schema": 1`. Documents written before that field existed have none
//! and read as version 1; a version this code does not know is an error, never a guess.

pub(crate) mod case;
mod effect;
mod names;
mod timeline;

pub use case::{StoredCaseV1, StoredClockV1, StoredFieldTimesV1, StoredRequestV1};
pub use effect::{StoredAlertContextV1, StoredEffectKindV1, StoredEffectV1};
pub use timeline::{StoredChangeV1, StoredTimelineEntryV1, StoredTimelineKindV1};

use domain::case::{Case, Effect};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::TimelineEntry;

/// The version of the documents this code writes.
pub const SCHEMA: u32 = 1;

/// Documents written before the `schema` field existed are version 1.
fn schema_v1() -> u32 {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    #[error("{what}: not a valid stored document: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what}: schema version {found} is not known (this code reads version {SCHEMA})")]
    UnknownSchema { what: &'static str, found: u32 },
    #[error("{what}: field {field}: {reason}")]
    Invalid {
        what: &'static str,
        field: &'static str,
        reason: String,
    },
}

fn to_json<T: Serialize>(what: &'static str, document: &T) -> Result<String, StoredError> {
    serde_json::to_string(document).map_err(|source| StoredError::Json { what, source })
}

fn from_json<T: DeserializeOwned>(what: &'static str, json: &str) -> Result<T, StoredError> {
    serde_json::from_str(json).map_err(|source| StoredError::Json { what, source })
}

fn check_schema(what: &'static str, found: u32) -> Result<(), StoredError> {
    if found == SCHEMA {
        Ok(())
    } else {
        Err(StoredError::UnknownSchema { what, found })
    }
}

/// The case document.
pub fn encode_case(case: &Case) -> Result<String, StoredError> {
    to_json("case", &StoredCaseV1::from(case))
}

pub fn decode_case(json: &str) -> Result<Case, StoredError> {
    let stored: StoredCaseV1 = from_json("case", json)?;
    check_schema("case", stored.schema)?;
    stored.into_domain()
}

/// The document of an outbox item's effect.
pub fn encode_effect(effect: &Effect) -> Result<String, StoredError> {
    to_json("effect", &StoredEffectV1::from(effect))
}

pub fn decode_effect(json: &str) -> Result<Effect, StoredError> {
    let stored: StoredEffectV1 = from_json("effect", json)?;
    check_schema("effect", stored.schema)?;
    stored.into_domain()
}

/// The document of one timeline entry.
pub fn encode_timeline_entry(entry: &TimelineEntry) -> Result<String, StoredError> {
    to_json("timeline entry", &StoredTimelineEntryV1::from(entry))
}

pub fn decode_timeline_entry(json: &str) -> Result<TimelineEntry, StoredError> {
    let stored: StoredTimelineEntryV1 = from_json("timeline entry", json)?;
    check_schema("timeline entry", stored.schema)?;
    stored.into_domain()
}
