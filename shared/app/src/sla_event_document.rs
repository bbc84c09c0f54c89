//! The SLA event as subscribers receive it: version 1 of the contract in docs/events.md, whose
//! JSON Schema is docs/events/sla-event.schema.json. The same document is stored with the
//! outbox item, published to EventBridge as the event's `detail` and POSTed to a local webhook.
//! Every key is always present (`null` when it does not apply), so consumers need no defaults.

use crate::stored::StoredError;
use domain::Timestamp;
use domain::case::{AlertKey, CaseId, SlaClock, SlaEvent, SlaEventKind};
use domain::policy::{Channel, Labels, Plan, Priority};
use serde::{Deserialize, Serialize};

/// The contract version this code writes (the document's `version`).
pub const SLA_EVENT_VERSION: u32 = 1;

/// The event source on the event bus.
pub const SLA_EVENT_SOURCE: &str = "support-sla";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaEventDocumentV1 {
    /// Stable across redeliveries: deduplicate on it.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub case_id: String,
    pub channel: String,
    pub plan: String,
    pub priority: String,
    pub clock: Option<String>,
    pub alert: Option<String>,
    pub acknowledged_by: Option<String>,
    pub due: Option<Timestamp>,
    pub at: Timestamp,
    pub labels: SlaEventLabelsV1,
    pub links: SlaEventLinksV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaEventLabelsV1 {
    pub cluster: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaEventLinksV1 {
    /// The request at its provider (a Zendesk ticket, an Intercom conversation).
    pub source: Option<String>,
    /// The case page of this deployment, when its public address is configured.
    pub case: Option<String>,
}

impl SlaEventDocumentV1 {
    pub fn of(event: &SlaEvent) -> Self {
        Self {
            id: event.id(),
            kind: event.kind.as_str().to_owned(),
            version: SLA_EVENT_VERSION,
            case_id: event.case_id.as_str().to_owned(),
            channel: event.channel.as_str().to_owned(),
            plan: event.plan.as_str().to_owned(),
            priority: event.priority.as_str().to_owned(),
            clock: event.clock.map(|clock| clock.as_str().to_owned()),
            alert: event.alert.map(|alert| alert.as_str().to_owned()),
            acknowledged_by: event.by.clone(),
            due: event.due,
            at: event.at,
            labels: SlaEventLabelsV1 {
                cluster: event.labels.cluster.clone(),
                website: event.labels.website.clone(),
            },
            links: SlaEventLinksV1 {
                source: event.source_link.clone(),
                case: None,
            },
        }
    }

    /// The same document with the link to the case page under `public_base_url`.
    pub fn with_case_link(mut self, public_base_url: Option<&str>) -> Self {
        self.links.case = public_base_url
            .map(|base| format!("{}/cases/{}", base.trim_end_matches('/'), self.case_id));
        self
    }

    pub fn into_domain(self) -> Result<SlaEvent, StoredError> {
        let invalid = |field: &'static str, reason: String| StoredError::Invalid {
            what: "effect",
            field,
            reason,
        };
        let kind = SlaEventKind::parse(&self.kind)
            .ok_or_else(|| invalid("event.type", format!("unknown type {:?}", self.kind)))?;
        let clock = self
            .clock
            .map(|text| {
                SlaClock::parse(&text)
                    .ok_or_else(|| invalid("event.clock", format!("unknown clock {text:?}")))
            })
            .transpose()?;
        let alert = self
            .alert
            .map(|text| {
                serde_json::from_value::<AlertKey>(serde_json::Value::String(text.clone()))
                    .map_err(|_| invalid("event.alert", format!("unknown alert {text:?}")))
            })
            .transpose()?;
        let event = SlaEvent {
            kind,
            case_id: CaseId::parse(&self.case_id)
                .map_err(|error| invalid("event.case_id", error.to_string()))?,
            channel: self
                .channel
                .parse::<Channel>()
                .map_err(|error| invalid("event.channel", error.to_string()))?,
            plan: self
                .plan
                .parse::<Plan>()
                .map_err(|error| invalid("event.plan", error.to_string()))?,
            priority: self
                .priority
                .parse::<Priority>()
                .map_err(|error| invalid("event.priority", error.to_string()))?,
            clock,
            alert,
            by: self.acknowledged_by,
            due: self.due,
            at: self.at,
            labels: Labels {
                cluster: self.labels.cluster,
                website: self.labels.website,
            },
            source_link: self.links.source,
        };
        if event.id() != self.id {
            return Err(invalid(
                "event.id",
                format!("{:?} does not name the event ({:?})", self.id, event.id()),
            ));
        }
        Ok(event)
    }
}
