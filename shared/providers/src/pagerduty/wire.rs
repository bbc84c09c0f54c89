//! PagerDuty v3 webhook payloads (docs/providers/pagerduty.md): only the fields we read.
//! Unknown fields are ignored, since PagerDuty adds fields without notice.

use jiff::Timestamp;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct Envelope {
    pub event: Event,
}

#[derive(Debug, Deserialize)]
pub(super) struct Event {
    pub id: String,
    pub event_type: String,
    #[serde(default)]
    pub resource_type: Option<String>,
    pub occurred_at: Timestamp,
    /// Who caused the event; `null` or absent when PagerDuty itself did (a timeout).
    #[serde(default)]
    pub agent: Option<Reference>,
    /// Read only for incident events, so other resources need not match its shape.
    #[serde(default)]
    pub data: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub(super) struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Incident {
    #[serde(default)]
    pub incident_key: Option<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}
